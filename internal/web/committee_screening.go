package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// One application as the committee works on it: the requirement-by-requirement screening
// with the documents beside the checklist, or the score form of the competency test and the
// interview. Every form records the result through RecordResults for this one application.

// applicationPageData is the page of one application.
type applicationPageData struct {
	ID, AppID string
	Selection *seleksiv1.Selection
	App       *seleksiv1.Application
	Stage     seleksiv1.Stage
	// Doc is the document shown beside the checklist, DocID its ID, and DocPDF whether it is
	// a PDF (else an image).
	Doc    *seleksiv1.DocumentRef
	DocID  string
	DocPDF bool
	// Participates: the application takes part in the current stage, which takes results.
	Participates bool
	// Checklist: the screening is item by item; Decided: every item has been decided
	// (changing one then is a correction).
	Checklist, Decided bool
	Components         []seleksiv1.ScoreComponent
	Categories         []seleksiv1.CompetencyCategory
	RequestID          string
	// Docs are the application's documents with their IDs.
	Docs []docLink
	// InfoScores are the competency test's informative scores' fields.
	InfoScores []string
	// Recused: the member declared a conflict with this application.
	Recused bool
}

// docLink is one document of an application, to choose the one shown.
type docLink struct{ ID, Kind, FileName string }

// stageComponents are the score components recorded at a stage: at the competency test the
// weighted ones measured there (all four when the selection weighs none of them), at the
// interview the interview score.
func stageComponents(sel *seleksiv1.Selection, st seleksiv1.Stage) []seleksiv1.ScoreComponent {
	switch st {
	case seleksiv1.Stage_STAGE_INTERVIEW:
		return []seleksiv1.ScoreComponent{seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW}
	case seleksiv1.Stage_STAGE_COMPETENCY_TEST:
		w := sel.GetScoreWeights()
		all := []struct {
			c seleksiv1.ScoreComponent
			w uint32
		}{
			{seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST, w.GetWrittenTest()},
			{seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, w.GetCompetencyTest()},
			{seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER, w.GetPaper()},
			{seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD, w.GetTrackRecord()},
		}
		var out []seleksiv1.ScoreComponent
		for _, c := range all {
			if c.w > 0 {
				out = append(out, c.c)
			}
		}
		if len(out) == 0 {
			for _, c := range all {
				out = append(out, c.c)
			}
		}
		return out
	}
	return nil
}

var competencyCategories = []seleksiv1.CompetencyCategory{
	seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS,
	seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS,
	seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET,
}

// loadApplicationPage reads what the page of one application shows.
func (s *Server) loadApplicationPage(w http.ResponseWriter, r *http.Request) (applicationPageData, bool) {
	id, appID := r.PathValue("sel"), r.PathValue("app")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return applicationPageData{}, false
	}
	sel, err := s.getSelection(ctx, id)
	if err != nil {
		s.apiFailed(w, r, err)
		return applicationPageData{}, false
	}
	resp, err := s.api.applications.GetApplication(ctx, &seleksiv1.GetApplicationRequest{Name: "selections/" + id + "/applications/" + appID})
	if err != nil {
		s.apiFailed(w, r, err)
		return applicationPageData{}, false
	}
	app := resp.GetApplication()
	u, _ := s.user(r)
	d := applicationPageData{ID: id, AppID: appID, Selection: sel, App: app, Stage: sel.GetStage(),
		Participates: recordStage(sel.GetStage()) && participates(sel.GetStage(), app),
		Components:   stageComponents(sel, sel.GetStage()), Categories: competencyCategories}
	d.Checklist = d.Stage == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING && len(app.GetChecklist()) > 0
	d.Decided = d.Checklist && !undecided(app)
	for _, c := range sel.GetConflicts() {
		if c.GetApplication() == app.GetName() && c.GetMemberId() == u.Subject {
			d.Recused = true
		}
	}
	want := r.URL.Query().Get("dok")
	d.InfoScores = []string{"managerial_score", "socio_cultural_score"}
	for _, doc := range app.GetDocuments() {
		d.Docs = append(d.Docs, docLink{ID: lastSegment(doc.GetDocument()), Kind: doc.GetKind(), FileName: doc.GetFileName()})
		if d.Doc == nil || lastSegment(doc.GetDocument()) == want {
			d.Doc = doc
		}
	}
	if d.Doc != nil {
		d.DocID = lastSegment(d.Doc.GetDocument())
		d.DocPDF = d.Doc.GetMediaType() == "application/pdf"
	}
	return d, true
}

// committeeApplication shows one application with its form for the current stage.
func (s *Server) committeeApplication(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadApplicationPage(w, r)
	if !ok {
		return
	}
	d.RequestID = commandRequestID()
	s.renderForm(w, r, http.StatusOK, "committee/application", d, applicationDefaults(d), nil)
}

// applicationDefaults fills the form with what is recorded: each item's current status
// (or the automatic proposal) and note.
func applicationDefaults(d applicationPageData) url.Values {
	v := url.Values{}
	for i, it := range d.App.GetChecklist() {
		switch it.GetStatus() {
		case seleksiv1.RequirementStatus_REQUIREMENT_STATUS_MET:
			v.Set(itemField("met", i), "ya")
		case seleksiv1.RequirementStatus_REQUIREMENT_STATUS_UNMET:
			v.Set(itemField("met", i), "tidak")
		}
		v.Set(itemField("note", i), it.GetNote())
	}
	v.Set("outcome", seleksiv1.Outcome_OUTCOME_NONE.String())
	return v
}

func itemField(prefix string, i int) string { return prefix + "_" + strconv.Itoa(i) }

// committeeRecordOne records the result of one application from its form.
func (s *Server) committeeRecordOne(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadApplicationPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	d.RequestID = f.Get("request_id")
	if f.Get("stage") != d.Stage.String() || !d.Participates {
		// The stage moved on since the form was shown: its answers belong to another stage.
		s.renderForm(w, r, http.StatusConflict, "committee/application", d, f,
			map[string]string{"request": s.committeeText(r, "committee.error.stage_moved")})
		return
	}
	req, fields, errs := s.buildResult(r, d, f)
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/application", d, f, errs)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if _, err := s.api.selections.RecordResults(ctx, req); err != nil {
		if errs, ok := committeeFormErrors(err, fields); ok {
			s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/application", d, f, errs)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "committee.flash.recorded")
	http.Redirect(w, r, "/panitia/"+d.ID+"/lamaran/"+d.AppID, http.StatusSeeOther)
}

var resultPath = regexp.MustCompile(`^results\[0\]\.(items\[(\d+)\]\.(\w+)|scores\[(\d+)\]\.\w+|(\w+))$`)

// buildResult turns the form into a RecordResults request for the one application, with
// the form's own errors (in the page's language), and the mapping from the API's field
// paths back to the form's inputs.
func (s *Server) buildResult(r *http.Request, d applicationPageData, f url.Values) (*seleksiv1.RecordResultsRequest, func(string) string, map[string]string) {
	errs := map[string]string{}
	t := func(code string) string { return s.committeeText(r, code) }
	res := &seleksiv1.ApplicationResult{Application: d.App.GetName(), Reason: strings.TrimSpace(f.Get("reason"))}
	req := &seleksiv1.RecordResultsRequest{Name: "selections/" + d.ID, RequestId: f.Get("request_id"), Stage: d.Stage,
		Results: []*seleksiv1.ApplicationResult{res}}
	if f.Get("correction") == "1" {
		req.Correction = true
		req.CorrectionReason = strings.TrimSpace(f.Get("correction_reason"))
		if req.CorrectionReason == "" {
			errs["correction_reason"] = t("committee.error.correction_reason")
		}
	}
	var sentItems []int
	switch {
	case d.Checklist:
		for i, it := range d.App.GetChecklist() {
			if it.GetVerifiedBy() != "" && !req.Correction {
				continue // decided already; changing it is a correction
			}
			met := f.Get(itemField("met", i))
			note := strings.TrimSpace(f.Get(itemField("note", i)))
			if met != "ya" && met != "tidak" {
				errs[itemField("met", i)] = t("committee.error.verdict_required")
				continue
			}
			v := &seleksiv1.RequirementVerdict{Item: it.GetItem(), Met: met == "ya", Note: note}
			proposed := it.GetProposedStatus()
			overrides := (proposed == seleksiv1.RequirementStatus_REQUIREMENT_STATUS_MET && !v.Met) ||
				(proposed == seleksiv1.RequirementStatus_REQUIREMENT_STATUS_UNMET && v.Met)
			if overrides && note == "" {
				errs[itemField("note", i)] = t("committee.error.note_required")
			}
			res.Items = append(res.Items, v)
			sentItems = append(sentItems, i)
		}
		if len(res.Items) == 0 && len(errs) == 0 {
			errs["request"] = t("committee.error.nothing_to_record")
		}
	case d.Stage == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING:
		switch f.Get("outcome") {
		case seleksiv1.Outcome_OUTCOME_PASS.String():
			res.Outcome = seleksiv1.Outcome_OUTCOME_PASS
		case seleksiv1.Outcome_OUTCOME_FAIL.String():
			res.Outcome = seleksiv1.Outcome_OUTCOME_FAIL
		default:
			errs["outcome"] = t("committee.error.outcome_required")
		}
	case d.Stage == seleksiv1.Stage_STAGE_COMPETENCY_TEST || d.Stage == seleksiv1.Stage_STAGE_INTERVIEW:
		for _, c := range d.Components {
			name := "score_" + c.String()
			sc, ok := parseScore(f.Get(name))
			if !ok {
				errs[name] = t("committee.error.score")
				continue
			}
			res.Scores = append(res.Scores, &seleksiv1.ComponentScore{Component: c, Score: sc})
		}
		if d.Stage == seleksiv1.Stage_STAGE_COMPETENCY_TEST {
			if v, ok := seleksiv1.CompetencyCategory_value[f.Get("category")]; ok && v != 0 {
				res.CompetencyCategory = seleksiv1.CompetencyCategory(v)
			} else {
				errs["category"] = t("committee.error.category_required")
			}
			for _, name := range []string{"managerial_score", "socio_cultural_score"} {
				if strings.TrimSpace(f.Get(name)) == "" {
					continue
				}
				sc, ok := parseScore(f.Get(name))
				if !ok {
					errs[name] = t("committee.error.score")
					continue
				}
				if name == "managerial_score" {
					res.ManagerialScore = sc
				} else {
					res.SocioCulturalScore = sc
				}
			}
			switch f.Get("outcome") {
			case seleksiv1.Outcome_OUTCOME_PASS.String():
				res.Outcome = seleksiv1.Outcome_OUTCOME_PASS
			case seleksiv1.Outcome_OUTCOME_FAIL.String():
				res.Outcome = seleksiv1.Outcome_OUTCOME_FAIL
			default:
				res.Outcome = seleksiv1.Outcome_OUTCOME_NONE
			}
		} else {
			res.Outcome = seleksiv1.Outcome_OUTCOME_NONE
		}
	}
	if res.Outcome == seleksiv1.Outcome_OUTCOME_FAIL && res.Reason == "" {
		errs["reason"] = t("committee.error.reason_required")
	}
	fields := func(path string) string {
		if path == "correction_reason" {
			return path
		}
		m := resultPath.FindStringSubmatch(path)
		switch {
		case m == nil:
			return ""
		case m[2] != "":
			k, _ := strconv.Atoi(m[2])
			if k < len(sentItems) {
				if m[3] == "note" {
					return itemField("note", sentItems[k])
				}
				return itemField("met", sentItems[k])
			}
		case m[4] != "":
			k, _ := strconv.Atoi(m[4])
			if k < len(res.Scores) {
				return "score_" + res.Scores[k].GetComponent().String()
			}
		case m[5] == "competency_category":
			return "category"
		case m[5] != "":
			return m[5]
		}
		return ""
	}
	return req, fields, errs
}

// parseScore reads a score from 0 to 100, with a decimal point or (as written in
// Indonesia) a decimal comma.
func parseScore(s string) (float64, bool) {
	s = strings.TrimSpace(strings.Replace(s, ",", ".", 1))
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 100 || v != v {
		return 0, false
	}
	return v, true
}

// text renders a UI text in the request's language.
func (s *Server) committeeText(r *http.Request, code string, kv ...any) string {
	return view{p: s.pages, Lang: s.lang(r)}.T(code, kv...)
}
