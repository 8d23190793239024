package web

import (
	"net/http"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// homeData is the list of selections on the home page.
type homeData struct {
	Open, Others []*seleksiv1.Selection
}

// home lists the selections: those whose announcement is open first (by closing time), then
// the rest.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.selections.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{PageSize: 100, OrderBy: "stage_close_time"})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	var d homeData
	for _, sel := range resp.GetSelections() {
		if sel.GetStage() == seleksiv1.Stage_STAGE_ANNOUNCEMENT {
			d.Open = append(d.Open, sel)
		} else {
			d.Others = append(d.Others, sel)
		}
	}
	s.render(w, r, http.StatusOK, "public/home", d)
}

// selectionData is one selection's public page.
type selectionData struct {
	ID        string
	Selection *seleksiv1.Selection
	// Results are the stages whose results have been published, in order.
	Results []resultLink
}

type resultLink struct {
	Slug  string
	Stage seleksiv1.Stage
}

// stageSlugs are the stages' names in result URLs, as the API names them.
var stageSlugs = []struct {
	slug  string
	stage seleksiv1.Stage
}{
	{"administrative-screening", seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING},
	{"competency-test", seleksiv1.Stage_STAGE_COMPETENCY_TEST},
	{"interview", seleksiv1.Stage_STAGE_INTERVIEW},
	{"committee-decision", seleksiv1.Stage_STAGE_COMMITTEE_DECISION},
}

func stageOfSlug(slug string) (seleksiv1.Stage, bool) {
	for _, s := range stageSlugs {
		if s.slug == slug {
			return s.stage, true
		}
	}
	return 0, false
}

// selectionPage shows a selection's announcement: the post, the requirements and documents
// needed, the windows, the committee and the published results.
func (s *Server) selectionPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, resp, ok := s.loadSelection(w, r, id)
	if !ok {
		return
	}
	d := selectionData{ID: id, Selection: resp}
	for _, st := range stageSlugs {
		// A stage's result is published when the selection has moved past it.
		if resp.GetStage() > st.stage && resp.GetStage() != seleksiv1.Stage_STAGE_CANCELLED {
			d.Results = append(d.Results, resultLink{Slug: st.slug, Stage: st.stage})
		}
	}
	s.render(w, r, http.StatusOK, "public/selection", d)
}

// resultData is a published stage result.
type resultData struct {
	ID        string
	Selection *seleksiv1.Selection
	Stage     seleksiv1.Stage
	Result    *seleksiv1.StageResult
}

// stageResultPage shows a stage's published result (the latest revision).
func (s *Server) stageResultPage(w http.ResponseWriter, r *http.Request) {
	id, slug := r.PathValue("id"), r.PathValue("stage")
	stage, ok := stageOfSlug(slug)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx, sel, ok := s.loadSelection(w, r, id)
	if !ok {
		return
	}
	res, err := s.api.selections.GetStageResult(ctx, &seleksiv1.GetStageResultRequest{Name: "selections/" + id + "/results/" + slug})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "public/result", resultData{ID: id, Selection: sel, Stage: stage, Result: res.GetResult()})
}

// selectionID is the ID in a resource name (selections/{id}/...).
func selectionID(name string) string {
	rest, _ := strings.CutPrefix(name, "selections/")
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// applicationID is the application's ID in its name (selections/{s}/applications/{id}).
func applicationID(name string) string {
	_, id, _ := strings.Cut(name, "/applications/")
	id, _, _ = strings.Cut(id, "/")
	return id
}
