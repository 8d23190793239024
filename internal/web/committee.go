package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// The committee's pages. A committee member reaches a selection's pages only through the
// API's own check: every page below /panitia/{sel} lists the selection's applications, which
// the API answers only to members whose token carries a seat on that selection (anyone else
// gets the API's PermissionDenied, shown as 403). The pages never decide access themselves.

// committeeRoutes registers the committee pages.
func (s *Server) committeeRoutes(mux *http.ServeMux) {
	c := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleCommittee) }
	mux.HandleFunc("GET /panitia", c(s.committeeHome))
	mux.HandleFunc("GET /panitia/{sel}", c(s.committeeBoard))
	mux.HandleFunc("GET /panitia/{sel}/lamaran", c(s.committeeApplications))
	mux.HandleFunc("GET /panitia/{sel}/lamaran/{app}", c(s.committeeApplication))
	mux.HandleFunc("POST /panitia/{sel}/lamaran/{app}", c(s.committeeRecordOne))
	mux.HandleFunc("GET /panitia/{sel}/nilai", c(s.committeeScoreUpload))
	mux.HandleFunc("POST /unggah/nilai/{sel}", c(s.committeeScorePreview))
	mux.HandleFunc("POST /unggah/nilai/{sel}/kirim", c(s.committeeScoreSend))
	mux.HandleFunc("GET /panitia/{sel}/konflik", c(s.committeeConflicts))
	mux.HandleFunc("POST /panitia/{sel}/konflik", c(s.committeeDeclareConflict))
	mux.HandleFunc("GET /panitia/{sel}/sanggah", c(s.committeeObjections))
	mux.HandleFunc("GET /panitia/{sel}/sanggah/{app}/{obj}", c(s.committeeObjection))
	mux.HandleFunc("POST /panitia/{sel}/sanggah/{app}/{obj}", c(s.committeeAnswerObjection))
	mux.HandleFunc("GET /panitia/{sel}/lanjut", c(s.committeeAdvance))
	mux.HandleFunc("POST /panitia/{sel}/lanjut", c(s.committeeAdvancePost))
	mux.HandleFunc("GET /panitia/{sel}/keputusan", c(s.committeeDecision))
	mux.HandleFunc("POST /panitia/{sel}/keputusan", c(s.committeeDecisionPost))
	// Documents: any signed-in person; the API decides who may read which document and
	// records every read.
	mux.HandleFunc("GET /dokumen/{id}", s.require(s.documentDownload))
}

// commandRequestID is a new idempotency key for one rendering of a command's form: a
// double submit or a retried post carries the same key, so the API applies it once.
func commandRequestID() string { return "web-" + rand.Text() }

// committeeHomeData lists the selections the member sits on.
type committeeHomeData struct {
	Active, Finished []*seleksiv1.Selection
}

// committeeHome lists "my selections": those whose committee names the signed-in member.
//
// The API lists every selection to everyone (the announcements are public), and a committee
// member's commands are accepted only on selections whose committee names them as member_id
// (the subject of their tokens). So the selections naming the member are exactly those they
// can work on; each page then calls the API, which also checks the member's seat.
func (s *Server) committeeHome(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	u, _ := s.user(r)
	var d committeeHomeData
	token := ""
	for range 20 {
		resp, err := s.api.selections.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{PageSize: 1000, PageToken: token, OrderBy: "create_time desc"})
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		for _, sel := range resp.GetSelections() {
			if committeeSeat(sel, u.Subject) == nil {
				continue
			}
			switch sel.GetStage() {
			case seleksiv1.Stage_STAGE_CLOSED, seleksiv1.Stage_STAGE_CANCELLED:
				d.Finished = append(d.Finished, sel)
			default:
				d.Active = append(d.Active, sel)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	s.render(w, r, http.StatusOK, "committee/home", d)
}

// committeeSeat is the member's place on the selection's committee, or nil.
func committeeSeat(sel *seleksiv1.Selection, subject string) *seleksiv1.CommitteeMember {
	for _, m := range sel.GetCommittee() {
		if m.GetMemberId() == subject {
			return m
		}
	}
	return nil
}

// getSelection reads the selection a page is about.
func (s *Server) getSelection(ctx context.Context, id string) (*seleksiv1.Selection, error) {
	resp, err := s.api.selections.GetSelection(ctx, &seleksiv1.GetSelectionRequest{Name: "selections/" + id})
	if err != nil {
		return nil, err
	}
	return resp.GetSelection(), nil
}

// committeeLoad is how most committee pages start: the caller's context for the API, the
// selection, and every application in orderBy's order (the list also proves the member's
// seat). When a call fails it answers the page itself and reports false.
func (s *Server) committeeLoad(w http.ResponseWriter, r *http.Request, id, orderBy string) (context.Context, *seleksiv1.Selection, []*seleksiv1.Application, bool) {
	ctx, sel, ok := s.loadSelection(w, r, id)
	if !ok {
		return nil, nil, nil, false
	}
	apps, err := s.allApplications(ctx, id, "", orderBy)
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, nil, nil, false
	}
	return ctx, sel, apps, true
}

// allApplications lists a selection's applications matching filter, every page (a JPT
// selection has at most a few thousand). It is also the call that proves the member's seat.
func (s *Server) allApplications(ctx context.Context, selID, filter, orderBy string) ([]*seleksiv1.Application, error) {
	var out []*seleksiv1.Application
	token := ""
	for range 20 {
		resp, err := s.api.applications.ListApplications(ctx, &seleksiv1.ListApplicationsRequest{
			Parent: "selections/" + selID, PageSize: 1000, PageToken: token, Filter: filter, OrderBy: orderBy})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetApplications()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return out, nil
}

// allObjections lists every objection of a selection, oldest first.
func (s *Server) allObjections(ctx context.Context, selID string) ([]*seleksiv1.Objection, error) {
	var out []*seleksiv1.Objection
	token := ""
	for range 20 {
		resp, err := s.api.applications.ListObjections(ctx, &seleksiv1.ListObjectionsRequest{
			Parent: "selections/" + selID + "/applications/-", PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetObjections()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return out, nil
}

// slugOfStage is a stage's name in the API's result names.
func slugOfStage(st seleksiv1.Stage) string {
	for _, s := range stageSlugs {
		if s.stage == st {
			return s.slug
		}
	}
	return ""
}

// objectionDeadlines reads the objection deadline of each stage result revision the
// objections were filed against, by "stage/revision".
func (s *Server) objectionDeadlines(ctx context.Context, selID string, objs []*seleksiv1.Objection) map[string]*seleksiv1.StageResult {
	out := map[string]*seleksiv1.StageResult{}
	for _, o := range objs {
		key := o.GetStage().String() + "/" + strconv.Itoa(int(o.GetRevision()))
		if _, seen := out[key]; seen {
			continue
		}
		res, err := s.api.selections.GetStageResult(ctx, &seleksiv1.GetStageResultRequest{
			Name: "selections/" + selID + "/results/" + slugOfStage(o.GetStage()), Revision: o.GetRevision()})
		if err != nil {
			out[key] = nil
			continue
		}
		out[key] = res.GetResult()
	}
	return out
}

// boardData is a selection's board.
type boardData struct {
	ID        string
	Selection *seleksiv1.Selection
	Seat      *seleksiv1.CommitteeMember
	// InStage are the applications taking part in the current stage.
	InStage int
	// ToScreen are screening applications with requirement items not decided yet.
	ToScreen int
	// Pending are the objections waiting for an answer, with their deadlines.
	Pending []objectionRow
	// CanRecord: the current stage takes results; CanAdvance: it is closed by advancing.
	CanRecord, CanAdvance, Deciding bool
}

// objectionRow is one objection with its application's candidate and deadline.
type objectionRow struct {
	Objection *seleksiv1.Objection
	AppID     string
	ObjID     string
	Candidate string
	Deadline  *seleksiv1.StageResult
}

// recordStage reports whether the committee records results in a stage.
func recordStage(st seleksiv1.Stage) bool {
	return st == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING || st == seleksiv1.Stage_STAGE_COMPETENCY_TEST || st == seleksiv1.Stage_STAGE_INTERVIEW
}

// participates reports whether an application takes part in a stage (as the workflow
// decides: screening takes the submitted applications, later stages those still in).
func participates(st seleksiv1.Stage, a *seleksiv1.Application) bool {
	if st == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING {
		return a.GetState() == seleksiv1.ApplicationState_APPLICATION_STATE_SUBMITTED
	}
	return a.GetState() == seleksiv1.ApplicationState_APPLICATION_STATE_IN_PROGRESS
}

// undecided reports whether an application's checklist has items nobody decided yet.
func undecided(a *seleksiv1.Application) bool {
	return slices.ContainsFunc(a.GetChecklist(), func(it *seleksiv1.ChecklistItem) bool { return it.GetVerifiedBy() == "" })
}

// committeeBoard shows a selection's board: the stage, the counts, what needs doing.
func (s *Server) committeeBoard(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, sel, apps, ok := s.committeeLoad(w, r, id, "")
	if !ok {
		return
	}
	u, _ := s.user(r)
	st := sel.GetStage()
	d := boardData{ID: id, Selection: sel, Seat: committeeSeat(sel, u.Subject), CanRecord: recordStage(st), CanAdvance: recordStage(st),
		Deciding: st == seleksiv1.Stage_STAGE_COMMITTEE_DECISION}
	names := map[string]string{}
	for _, a := range apps {
		names[a.GetName()] = a.GetCandidate().GetFullName()
		if participates(st, a) {
			d.InStage++
			if st == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING && undecided(a) {
				d.ToScreen++
			}
		}
	}
	objs, err := s.allObjections(ctx, id)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	d.Pending = s.objectionRows(ctx, id, objs, names, true)
	s.render(w, r, http.StatusOK, "committee/board", d)
}

// objectionRows turns objections into rows with names and deadlines; pendingOnly keeps the
// ones waiting for an answer.
func (s *Server) objectionRows(ctx context.Context, selID string, objs []*seleksiv1.Objection, names map[string]string, pendingOnly bool) []objectionRow {
	var keep []*seleksiv1.Objection
	for _, o := range objs {
		if !pendingOnly || o.GetState() == seleksiv1.ObjectionState_OBJECTION_STATE_PENDING {
			keep = append(keep, o)
		}
	}
	deadlines := s.objectionDeadlines(ctx, selID, keep)
	rows := make([]objectionRow, 0, len(keep))
	for _, o := range keep {
		app, obj := objectionParts(o.GetName())
		rows = append(rows, objectionRow{Objection: o, AppID: app, ObjID: obj,
			Candidate: names["selections/"+selID+"/applications/"+app],
			Deadline:  deadlines[o.GetStage().String()+"/"+strconv.Itoa(int(o.GetRevision()))]})
	}
	return rows
}

// objectionParts are the application and objection IDs of an objection's name.
func objectionParts(name string) (app, obj string) {
	parts := strings.Split(name, "/")
	if len(parts) == 6 {
		return parts[3], parts[5]
	}
	return "", ""
}

// lastSegment is the ID at the end of a resource name.
func lastSegment(name string) string {
	return name[strings.LastIndex(name, "/")+1:]
}

// applicationsData is the list of a selection's applications with its filters.
type applicationsData struct {
	ID        string
	Selection *seleksiv1.Selection
	Apps      []*seleksiv1.Application
	Rows      []appRow
	Total     int
	// Filters as chosen.
	Stage, State, Q, Order string
	Stages                 []seleksiv1.Stage
	States                 []seleksiv1.ApplicationState
	Next, Prev             string
}

// appRow is one application in a list, with its ID and whether its checklist has
// undecided items.
type appRow struct {
	App  *seleksiv1.Application
	ID   string
	Open bool
}

// applicationOrders are the orders the list offers (the API's order_by values).
var applicationOrders = []string{"submit_time", "candidate.full_name", "final_score desc", "participant_number"}

// committeeApplications lists a selection's applications with filters (stage, state) the
// API applies, a search by name or NIP this page applies over every page, and paging.
func (s *Server) committeeApplications(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	q := r.URL.Query()
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	sel, err := s.getSelection(ctx, id)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	d := applicationsData{ID: id, Selection: sel, Stage: q.Get("tahap"), State: q.Get("status"), Q: strings.TrimSpace(q.Get("q")), Order: q.Get("urut")}
	for _, st := range []seleksiv1.Stage{seleksiv1.Stage_STAGE_ANNOUNCEMENT, seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING,
		seleksiv1.Stage_STAGE_COMPETENCY_TEST, seleksiv1.Stage_STAGE_INTERVIEW, seleksiv1.Stage_STAGE_COMMITTEE_DECISION} {
		d.Stages = append(d.Stages, st)
	}
	for v := seleksiv1.ApplicationState_APPLICATION_STATE_SUBMITTED; v <= seleksiv1.ApplicationState_APPLICATION_STATE_NOT_SELECTED; v++ {
		d.States = append(d.States, v)
	}
	var filter []string
	// Only values the page offers reach the API's filter: never a string built from input.
	if v, ok := seleksiv1.Stage_value[d.Stage]; ok && slices.Contains(d.Stages, seleksiv1.Stage(v)) {
		filter = append(filter, "current_stage = "+d.Stage)
	} else {
		d.Stage = ""
	}
	if v, ok := seleksiv1.ApplicationState_value[d.State]; ok && slices.Contains(d.States, seleksiv1.ApplicationState(v)) {
		filter = append(filter, "state = "+d.State)
	} else {
		d.State = ""
	}
	if !slices.Contains(applicationOrders, d.Order) {
		d.Order = "candidate.full_name"
	}
	if d.Q != "" {
		apps, err := s.allApplications(ctx, id, strings.Join(filter, " AND "), d.Order)
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		needle := strings.ToLower(d.Q)
		for _, a := range apps {
			if strings.Contains(strings.ToLower(a.GetCandidate().GetFullName()), needle) || strings.Contains(a.GetCandidate().GetNip(), d.Q) ||
				lastSegment(a.GetName()) == d.Q || (a.GetParticipantNumber() != "" && strings.EqualFold(a.GetParticipantNumber(), d.Q)) {
				d.Apps = append(d.Apps, a)
			}
		}
		d.Total = len(d.Apps)
	} else {
		resp, err := s.api.applications.ListApplications(ctx, &seleksiv1.ListApplicationsRequest{Parent: "selections/" + id, PageSize: 50,
			PageToken: q.Get("halaman"), Filter: strings.Join(filter, " AND "), OrderBy: d.Order})
		if err != nil {
			if status.Code(err) == codes.InvalidArgument && q.Get("halaman") != "" {
				// A page token from an old link: start again from the first page.
				http.Redirect(w, r, "/panitia/"+id+"/lamaran", http.StatusSeeOther)
				return
			}
			s.apiFailed(w, r, err)
			return
		}
		d.Apps, d.Total = resp.GetApplications(), int(resp.GetTotalSize())
		if tok := resp.GetNextPageToken(); tok != "" {
			next := url.Values{"tahap": {d.Stage}, "status": {d.State}, "urut": {d.Order}, "halaman": {tok}}
			d.Next = "/panitia/" + id + "/lamaran?" + next.Encode()
		}
		if q.Get("halaman") != "" {
			first := url.Values{"tahap": {d.Stage}, "status": {d.State}, "urut": {d.Order}}
			d.Prev = "/panitia/" + id + "/lamaran?" + first.Encode()
		}
	}
	for _, a := range d.Apps {
		d.Rows = append(d.Rows, appRow{App: a, ID: lastSegment(a.GetName()), Open: undecided(a)})
	}
	s.render(w, r, http.StatusOK, "committee/applications", d)
}

// committeeFormErrors are the errors of a refused command to show on its form, with its
// fields mapped by field (from the API's proto paths to the form's inputs; "" drops the
// path and keeps the message under "request"). ok is false for errors that are not the
// person's to fix on the form (not signed in, not allowed, unavailable...).
func committeeFormErrors(err error, field func(string) string) (map[string]string, bool) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.AlreadyExists, codes.OutOfRange:
	default:
		return nil, false
	}
	out := map[string]string{}
	for f, msg := range fieldErrors(err) {
		name := "request"
		if field != nil {
			if n := field(f); n != "" {
				name = n
			}
		}
		if _, seen := out[name]; !seen {
			out[name] = msg
		}
	}
	if len(out) == 0 {
		out["request"] = st.Message()
	}
	return out, true
}
