package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// TestSelectionEndToEnd starts the real seleksid (embedded Temporal, the store on SQLite or
// PostgreSQL, the gRPC server and the REST gateway) and runs one whole selection through the
// gateway as plain HTTP with bearer tokens, as the secretariat, the committee and six
// candidates would: creation, six applications, administrative screening with rejections, an
// objection accepted and one rejected, competency scores from a CSV score sheet, interviews
// with a recused member, the committee's decision and the appointment. After every stage it
// checks what each candidate sees of their own application, and that retried commands (same
// request_id) are applied once.
func TestSelectionEndToEnd(t *testing.T) {
	for _, db := range stackDatabases() {
		t.Run(db.name, func(t *testing.T) {
			began := time.Now()
			a, e := startStack(t, db, "e2e-")
			runSelection(t, e)
			checkOfficialDocuments(t, a, e)
			t.Logf("%s: whole selection in %s", db.name, time.Since(began).Round(time.Millisecond))
		})
	}
}

// e2e is one run of the scenario.
type e2e struct {
	api
	// archive archives every closed run now, as the background archiver does every 30 s.
	archive  func(context.Context) (int, error)
	tok      tokens
	storeURL string
	id       string
	// people are who take part; nil is plainPeople.
	people *people
	// tokens of the people taking part
	admin     string
	members   map[string]string // member ID -> token
	cands     []string          // candidate i (1-based) -> token; index 0 unused
	apps      []string          // candidate i -> application name
	reqSeq    int
	retried   []string // request IDs sent twice, each to be applied once
	stageWait time.Duration
	// views counts the candidates' views of their applications; noStatus those without a
	// status text in both languages, the first of which is described in firstNoStatus.
	views, noStatus int
	firstNoStatus   string
}

func (e *e2e) reqID(tag string) string {
	e.reqSeq++
	return fmt.Sprintf("req-%s-%03d", tag, e.reqSeq)
}

func (e *e2e) sel() string { return "/v1/selections/" + e.id }

// command sends a committee or secretariat command, then sends it again with the same
// request_id: both must succeed, and the second must return the first answer.
func (e *e2e) command(path, token string, body map[string]any, out any) {
	e.t.Helper()
	e.must(http.MethodPost, path, token, body, out)
	again := e.do(http.MethodPost, path, token, body)
	if again.code != http.StatusOK {
		e.t.Fatalf("retry with the same requestId: %s", again)
	}
	if id, ok := body["requestId"].(string); ok {
		e.retried = append(e.retried, id)
	}
}

// candidateSees checks the candidate's own view of their application: its state, the stage
// it is at (one of stages), and a status text in both languages.
func (e *e2e) candidateSees(i int, state string, stages ...string) applicationJSON {
	e.t.Helper()
	var got struct{ Application applicationJSON }
	e.must(http.MethodGet, "/v1/"+e.apps[i], e.cands[i], nil, &got)
	app := got.Application
	if app.State != state || !slices.Contains(stages, app.CurrentStage) {
		e.t.Errorf("candidate %d sees state %s at %s, want %s at %s (status %q / %q)", i, app.State, app.CurrentStage, state,
			strings.Join(stages, " or "), app.StatusText.ID, app.StatusText.EN)
	}
	e.views++
	if app.StatusText.ID == "" || app.StatusText.EN == "" {
		if e.noStatus == 0 {
			e.firstNoStatus = fmt.Sprintf("candidate %d, %s at %s: statusText = %+v", i, app.State, app.CurrentStage, app.StatusText)
		}
		e.noStatus++
	}
	return app
}

func runSelection(t *testing.T, e *e2e) {
	e.stageWait = 90 * time.Second
	who := e.people
	if who == nil {
		who = plainPeople()
	}
	committee := who.committee
	// The chair, the secretary, the member who answers an objection and the one who
	// declares a conflict of interest.
	m1, m2, m3, m4 := committee[0], committee[1], committee[2], committee[3]
	e.admin = e.tok.mint(auth.RoleAdmin, who.admin)
	e.members = map[string]string{}
	for _, m := range committee {
		e.members[m] = e.tok.mint(auth.RoleCommittee, m, e.id)
	}
	chair, secretary := e.members[m1], e.members[m2]
	e.cands = []string{""}
	for i := 1; i <= 6; i++ {
		e.cands = append(e.cands, e.tok.mint(auth.RoleCandidate, who.candidate(i)))
	}

	// --- Creation, by the secretariat. ---
	createID := e.reqID("create")
	createPath := "/v1/selections?requestId=" + createID + "&selectionId=" + e.id
	var created struct{ Selection selectionJSON }
	// A retried create with the same request ID is safe by contract. A fresh seleksid must
	// accept the first one; it is retried here only so that the rest of the flow still runs
	// (and is checked) when it does not.
	for began, refused := time.Now(), 0; ; refused++ {
		r := e.do(http.MethodPost, createPath, e.admin, who.selection())
		if r.code == http.StatusOK {
			if err := json.Unmarshal(r.body, &created); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			if refused > 0 {
				t.Errorf("a freshly started seleksid refused to create a selection %d time(s) over %s with 500 Internal (the log shows why)",
					refused, time.Since(began).Round(time.Millisecond))
			}
			break
		}
		if r.code != http.StatusInternalServerError || time.Since(began) > 30*time.Second {
			t.Fatalf("%s", r)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if created.Selection.Name != "selections/"+e.id || created.Selection.Stage != "STAGE_ANNOUNCEMENT" {
		t.Fatalf("created %+v", created.Selection)
	}
	var again struct{ Selection selectionJSON }
	e.must(http.MethodPost, createPath, e.admin, who.selection(), &again)
	if again.Selection.Name != created.Selection.Name {
		t.Errorf("retried create returned %s, want %s", again.Selection.Name, created.Selection.Name)
	}
	e.retried = append(e.retried, createID)
	// The announcement window is projected into the store by the workflow, just after the
	// create returns; applications are taken once the public selection shows it.
	if created.Selection.StageCloseTime == "" {
		t.Logf("the create answered before the announcement window was open (no stageCloseTime)")
	}
	for deadline := time.Now().Add(10 * time.Second); e.getSelection(e.id).StageCloseTime == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened: %+v", e.getSelection(e.id))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := e.do(http.MethodPost, createPath, e.cands[1], who.selection()); r.code != http.StatusForbidden {
		t.Errorf("a candidate creating a selection: %s, want 403", r)
	}

	// --- Six applications, each by its candidate. Candidate 5 is over the age limit. ---
	e.apps = []string{""}
	for i := 1; i <= 6; i++ {
		path := e.sel() + "/applications?requestId=" + e.reqID(fmt.Sprintf("apply%d", i))
		var got struct{ Application applicationJSON }
		body := e.withDocuments(who.application(i), e.cands[i], e.id)
		e.must(http.MethodPost, path, e.cands[i], body, &got)
		if got.Application.State != "APPLICATION_STATE_SUBMITTED" || got.Application.Owner != who.candidate(i) {
			t.Errorf("candidate %d submitted %+v", i, got.Application)
		}
		e.apps = append(e.apps, got.Application.Name)
		if i == 1 {
			// A retried submission returns the same application.
			var dup struct{ Application applicationJSON }
			e.must(http.MethodPost, path, e.cands[i], body, &dup)
			if dup.Application.Name != got.Application.Name {
				t.Errorf("retried submission created %s, want %s", dup.Application.Name, got.Application.Name)
			}
			e.retried = append(e.retried, strings.TrimPrefix(path, e.sel()+"/applications?requestId="))
		}
	}
	for i := 1; i <= 6; i++ {
		e.candidateSees(i, "APPLICATION_STATE_SUBMITTED", "STAGE_ANNOUNCEMENT")
	}
	// Candidates see only their own application.
	if r := e.do(http.MethodGet, "/v1/"+e.apps[2], e.cands[1], nil); r.code != http.StatusNotFound {
		t.Errorf("candidate 1 reading candidate 2's application: %s, want 404", r)
	}
	if r := e.do(http.MethodGet, "/v1/"+e.apps[1], "", nil); r.code != http.StatusUnauthorized {
		t.Errorf("anonymous read of an application: %s, want 401", r)
	}

	// --- The announcement closes by itself; administrative screening opens. ---
	sel := e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", e.stageWait)
	if sel.ApplicationCounts.Total != 6 {
		t.Errorf("application counts at screening: %+v", sel.ApplicationCounts)
	}
	for i := 1; i <= 6; i++ {
		e.candidateSees(i, "APPLICATION_STATE_SUBMITTED", "STAGE_ADMINISTRATIVE_SCREENING")
	}
	var announced struct{ Result stageResultJSON }
	e.must(http.MethodGet, e.sel()+"/results/announcement", "", nil, &announced)
	if len(announced.Result.Entries) != 6 {
		t.Errorf("published applicant list: %+v", announced.Result)
	}
	// Candidate 5 is rejected for age; candidate 6 is wrongly rejected (the committee missed
	// the LHKPN) and will object.
	var screening []map[string]any
	for i := 1; i <= 6; i++ {
		r := map[string]any{"application": e.apps[i], "outcome": "OUTCOME_PASS"}
		switch i {
		case 5:
			r["outcome"], r["reason"] = "OUTCOME_FAIL", "Usia melebihi 56 tahun pada penutupan pendaftaran / over the age limit"
		case 6:
			r["outcome"], r["reason"] = "OUTCOME_FAIL", "LHKPN tidak dilampirkan / asset report missing"
		}
		screening = append(screening, r)
	}
	var recorded struct{ RecordedCount int }
	e.command(e.sel()+":recordResults", secretary, map[string]any{
		"requestId": e.reqID("screen"), "stage": "STAGE_ADMINISTRATIVE_SCREENING", "results": screening}, &recorded)
	if recorded.RecordedCount != 6 {
		t.Errorf("recorded %d screening results, want 6", recorded.RecordedCount)
	}
	e.advance(chair, "STAGE_ADMINISTRATIVE_SCREENING")
	var screened struct{ Result stageResultJSON }
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &screened)
	if screened.Result.Revision != 1 || len(screened.Result.Entries) != 6 {
		t.Errorf("screening result: %+v", screened.Result)
	}
	for i := 1; i <= 4; i++ {
		e.candidateSees(i, "APPLICATION_STATE_IN_PROGRESS", "STAGE_ADMINISTRATIVE_SCREENING")
	}
	for _, i := range []int{5, 6} {
		app := e.candidateSees(i, "APPLICATION_STATE_ELIMINATED", "STAGE_ADMINISTRATIVE_SCREENING")
		if app.EliminatedStage != "STAGE_ADMINISTRATIVE_SCREENING" || app.EliminationReason.EN == "" {
			t.Errorf("candidate %d eliminated at %s for %+v", i, app.EliminatedStage, app.EliminationReason)
		}
	}

	// --- Objections: candidate 6's is accepted with a corrected result, candidate 5's rejected. ---
	obj6 := e.object(6, "STAGE_ADMINISTRATIVE_SCREENING", "LHKPN saya terlampir sebagai dokumen lhkpn / my LHKPN was uploaded")
	obj5 := e.object(5, "STAGE_ADMINISTRATIVE_SCREENING", "Saya masih memenuhi syarat / I still qualify")
	if r := e.do(http.MethodPost, "/v1/"+e.apps[6]+"/objections?requestId="+e.reqID("obj-dup"), e.cands[6],
		map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "sekali lagi"}); r.code != http.StatusConflict {
		t.Errorf("a second objection against the same result: %s, want 409", r)
	}
	if r := e.do(http.MethodPost, "/v1/"+e.apps[6]+"/objections?requestId="+e.reqID("obj-other"), e.cands[1],
		map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "bukan milik saya"}); r.code != http.StatusNotFound {
		t.Errorf("objecting to another candidate's result: %s, want 404", r)
	}
	var answered struct {
		Objection         objectionJSON
		RepublishedResult stageResultJSON
	}
	e.command("/v1/"+obj6+":answer", e.members[m3], map[string]any{
		"requestId": e.reqID("answer6"), "accepted": true,
		"answer": "LHKPN ditemukan dalam berkas / the LHKPN was in the file",
		"correctedResult": map[string]any{"application": e.apps[6], "outcome": "OUTCOME_PASS",
			"reason": "LHKPN lengkap setelah diperiksa ulang / complete on review"},
	}, &answered)
	if answered.Objection.State != "OBJECTION_STATE_ACCEPTED" || answered.RepublishedResult.Revision != 2 {
		t.Errorf("accepted objection: %+v, republished revision %d", answered.Objection, answered.RepublishedResult.Revision)
	}
	e.command("/v1/"+obj5+":answer", chair, map[string]any{
		"requestId": e.reqID("answer5"), "accepted": false,
		"answer": "Tanggal lahir 1960: usia melebihi batas 56 tahun / born 1960, over the limit",
	}, nil)
	var objs struct{ Objections []objectionJSON }
	e.must(http.MethodGet, "/v1/"+e.apps[5]+"/objections", e.cands[5], nil, &objs)
	if len(objs.Objections) != 1 || objs.Objections[0].State != "OBJECTION_STATE_REJECTED" || objs.Objections[0].Answer == "" {
		t.Errorf("candidate 5 sees objections %+v", objs.Objections)
	}
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &screened)
	if screened.Result.Revision != 2 {
		t.Errorf("screening result after the accepted objection: revision %d, want 2", screened.Result.Revision)
	}
	// With every objection answered, the competency test may open as soon as the window ends.
	e.candidateSees(6, "APPLICATION_STATE_IN_PROGRESS", "STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMPETENCY_TEST")
	e.candidateSees(5, "APPLICATION_STATE_ELIMINATED", "STAGE_ADMINISTRATIVE_SCREENING")

	// --- Competency test: the assessment center's score sheet, as CSV. ---
	e.waitStage(e.id, "STAGE_COMPETENCY_TEST", e.stageWait)
	for _, i := range []int{1, 2, 3, 4, 6} {
		e.candidateSees(i, "APPLICATION_STATE_IN_PROGRESS", "STAGE_COMPETENCY_TEST")
	}
	sheet := "candidate,category,managerial,socio_cultural,written_test,competency_test,paper,track_record\n" +
		"1,COMPETENCY_CATEGORY_MEETS,84,86,80,85,80,80\n" +
		"2,COMPETENCY_CATEGORY_MEETS,90,90,85,90,85,85\n" +
		"3,COMPETENCY_CATEGORY_STILL_MEETS,74,76,70,75,70,70\n" +
		"4,COMPETENCY_CATEGORY_DOES_NOT_MEET,50,50,60,50,60,60\n" +
		"6,COMPETENCY_CATEGORY_MEETS,80,80,75,80,75,75\n"
	e.command(e.sel()+":recordResults", secretary, map[string]any{
		"requestId": e.reqID("competency"), "stage": "STAGE_COMPETENCY_TEST", "results": e.competencySheet(sheet)}, &recorded)
	if recorded.RecordedCount != 5 {
		t.Errorf("recorded %d competency results, want 5", recorded.RecordedCount)
	}
	e.advance(secretary, "STAGE_COMPETENCY_TEST")
	for _, i := range []int{1, 2, 3, 6} {
		e.candidateSees(i, "APPLICATION_STATE_IN_PROGRESS", "STAGE_COMPETENCY_TEST")
	}
	if app := e.candidateSees(4, "APPLICATION_STATE_ELIMINATED", "STAGE_COMPETENCY_TEST"); app.EliminatedStage != "STAGE_COMPETENCY_TEST" {
		t.Errorf("candidate 4 eliminated at %s", app.EliminatedStage)
	}

	// --- Interview: anggota4 declares a conflict with candidate 2 and is recused. ---
	e.waitStage(e.id, "STAGE_INTERVIEW", e.stageWait)
	for _, i := range []int{1, 2, 3, 6} {
		e.candidateSees(i, "APPLICATION_STATE_IN_PROGRESS", "STAGE_INTERVIEW")
	}
	e.command(e.sel()+":declareConflict", e.members[m4], map[string]any{
		"requestId": e.reqID("conflict"), "memberId": m4, "application": e.apps[2],
		"relationship": "saudara sepupu / cousin", "reason": "hubungan keluarga"}, nil)
	var withConflicts struct{ Selection selectionJSON }
	e.must(http.MethodGet, e.sel(), chair, nil, &withConflicts)
	if c := withConflicts.Selection.Conflicts; len(c) != 1 || c[0].MemberID != m4 || c[0].Application != e.apps[2] {
		t.Errorf("the committee sees conflicts %+v", c)
	}
	var public struct{ Selection selectionJSON }
	e.must(http.MethodGet, e.sel(), "", nil, &public)
	if len(public.Selection.Conflicts) != 0 {
		t.Errorf("the public announcement shows the committee's conflicts of interest: %+v", public.Selection.Conflicts)
	}
	var listed struct{ Selections []selectionJSON }
	e.must(http.MethodGet, "/v1/selections?pageSize=1000", e.cands[2], nil, &listed)
	for _, s := range listed.Selections {
		if len(s.Conflicts) != 0 {
			t.Errorf("the list of selections shows a candidate the conflicts of interest of %s: %+v", s.Name, s.Conflicts)
		}
	}
	// The recused member cannot score candidate 2: the workflow refuses the actor.
	refused := e.do(http.MethodPost, e.sel()+":recordResults", e.members[m4], map[string]any{
		"requestId": e.reqID("recused"), "stage": "STAGE_INTERVIEW",
		"results": []map[string]any{interviewResult(e.apps[2], 99)}})
	if refused.code != http.StatusForbidden || refused.reason() != "WrongActor" {
		t.Errorf("recused member scoring candidate 2: %s, want 403 WrongActor", refused)
	}
	interview := map[int]float64{1: 80, 2: 85, 3: 70, 6: 75}
	for n, m := range committee {
		var results []map[string]any
		for _, i := range []int{1, 2, 3, 6} {
			if m == m4 && i == 2 {
				continue
			}
			// Members differ a little; the means stay at the values above.
			results = append(results, interviewResult(e.apps[i], interview[i]+[]float64{2, -2, 1, 0, -1}[n]))
		}
		e.command(e.sel()+":recordResults", e.members[m], map[string]any{
			"requestId": e.reqID(fmt.Sprintf("interview-m%d", n+1)), "stage": "STAGE_INTERVIEW", "memberId": m, "results": results}, &recorded)
	}
	e.advance(chair, "STAGE_INTERVIEW")
	for _, i := range []int{1, 2, 3, 6} {
		e.candidateSees(i, "APPLICATION_STATE_IN_PROGRESS", "STAGE_INTERVIEW")
	}

	// --- Committee decision: the best three by final score, in that order. ---
	e.waitStage(e.id, "STAGE_COMMITTEE_DECISION", e.stageWait)
	for _, i := range []int{1, 2, 3, 6} {
		e.candidateSees(i, "APPLICATION_STATE_IN_PROGRESS", "STAGE_COMMITTEE_DECISION")
	}
	ranking := e.finalRanking(chair)
	want := []string{e.apps[2], e.apps[1], e.apps[6], e.apps[3]}
	if !slices.Equal(ranking, want) {
		t.Errorf("ranking by final score %v, want %v", ranking, want)
	}
	var ranked []map[string]any
	for r, name := range ranking[:3] {
		ranked = append(ranked, map[string]any{"application": name, "rank": r + 1,
			"reason": fmt.Sprintf("nilai akhir peringkat %d / final score rank %d", r+1, r+1)})
	}
	// A shortlist out of order is refused by the workflow, with its explanation as a field
	// violation, in the caller's language.
	wrong := []map[string]any{
		{"application": ranked[1]["application"], "rank": 1, "reason": "x"},
		{"application": ranked[0]["application"], "rank": 2, "reason": "y"},
		ranked[2],
	}
	r := e.doIn("en", http.MethodPost, e.sel()+":decide", chair, map[string]any{"requestId": e.reqID("decide-wrong"), "ranked": wrong})
	if r.code != http.StatusBadRequest || r.reason() != "InvalidArgument" || !strings.Contains(r.err().Message, "shortlist must follow the final scores") ||
		!strings.Contains(string(r.body), "fieldViolations") {
		t.Errorf("a shortlist out of order: %s, want 400 with the workflow's explanation in English, reason InvalidArgument and a field violation", r)
	}
	var decided struct {
		Selection       selectionJSON
		PublishedResult stageResultJSON
	}
	e.command(e.sel()+":decide", chair, map[string]any{"requestId": e.reqID("decide"), "ranked": ranked}, &decided)
	if decided.PublishedResult.Revision != 1 || len(decided.PublishedResult.Entries) != 4 {
		t.Errorf("decision result %+v", decided.PublishedResult)
	}
	for r, name := range ranking[:3] {
		i := slices.Index(e.apps, name)
		if app := e.candidateSees(i, "APPLICATION_STATE_SHORTLISTED", "STAGE_COMMITTEE_DECISION"); app.Rank != r+1 {
			t.Errorf("candidate %d sees rank %d, want %d", i, app.Rank, r+1)
		}
	}
	e.candidateSees(slices.Index(e.apps, ranking[3]), "APPLICATION_STATE_NOT_SELECTED", "STAGE_COMMITTEE_DECISION")

	// --- Appointment, once the decision's objection window has passed. ---
	appointed := ranking[0]
	var closed struct{ Selection selectionJSON }
	appointBody := func(id string) map[string]any {
		return map[string]any{"requestId": id, "application": appointed, "ppkDecreeRef": "800/123/KEP/2026",
			"oversightRecommendationRef": "R-77/KASN/2026", "reason": "peringkat pertama / rank 1"}
	}
	// The appointment is refused (FAILED_PRECONDITION) until the shortlist is final; a refused
	// update is not recorded, so each attempt carries a new request ID. The accepted one is
	// retried with its request ID.
	deadline := time.Now().Add(e.stageWait)
	for attempt := 0; ; attempt++ {
		id := e.reqID("appoint")
		r := e.do(http.MethodPost, e.sel()+":appoint", e.admin, appointBody(id))
		if r.code == http.StatusOK {
			if attempt == 0 {
				t.Errorf("the appointment was accepted before the decision's objection window passed")
			}
			e.command(e.sel()+":appoint", e.admin, appointBody(id), &closed)
			break
		}
		if r.err().Code != 9 { // FAILED_PRECONDITION: the shortlist is not final yet
			t.Fatalf("appointment before the shortlist is final: %s, want FAILED_PRECONDITION", r)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shortlist never became final: %s", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if closed.Selection.Stage != "STAGE_CLOSED" || closed.Selection.AppointedApplication != appointed {
		t.Errorf("after the appointment: stage %s, appointed %q", closed.Selection.Stage, closed.Selection.AppointedApplication)
	}
	final := e.waitStage(e.id, "STAGE_CLOSED", e.stageWait)
	if final.ApplicationCounts.Total != 6 || final.ApplicationCounts.Eliminated != 2 || final.ApplicationCounts.Decided != 4 {
		t.Errorf("final counts %+v", final.ApplicationCounts)
	}
	e.candidateSees(slices.Index(e.apps, appointed), "APPLICATION_STATE_APPOINTED", "STAGE_CLOSED")
	for _, name := range ranking[1:3] {
		e.candidateSees(slices.Index(e.apps, name), "APPLICATION_STATE_NOT_SELECTED", "STAGE_CLOSED")
	}
	e.candidateSees(slices.Index(e.apps, ranking[3]), "APPLICATION_STATE_NOT_SELECTED", "STAGE_COMMITTEE_DECISION")
	e.candidateSees(4, "APPLICATION_STATE_ELIMINATED", "STAGE_COMPETENCY_TEST")
	e.candidateSees(5, "APPLICATION_STATE_ELIMINATED", "STAGE_ADMINISTRATIVE_SCREENING")

	e.checkAppliedOnce()
	e.audit()
	if e.noStatus > 0 {
		t.Errorf("%d of %d views of a candidate's own application had no status text in Indonesian and English; the first: %s",
			e.noStatus, e.views, e.firstNoStatus)
	}
}

// advance closes a stage, checks the published result, and checks that a retry with the same
// request_id answers as the first call while a new request is refused.
func (e *e2e) advance(token, stage string) {
	e.t.Helper()
	var out struct {
		Selection       selectionJSON
		PublishedResult stageResultJSON
	}
	e.command(e.sel()+":advance", token, map[string]any{"requestId": e.reqID("advance"), "expectedStage": stage}, &out)
	if out.Selection.Stage != stage || out.PublishedResult.Stage != stage || out.PublishedResult.Revision != 1 {
		e.t.Errorf("advance %s: selection at %s, published %s revision %d", stage, out.Selection.Stage, out.PublishedResult.Stage, out.PublishedResult.Revision)
	}
	if r := e.do(http.MethodPost, e.sel()+":advance", token, map[string]any{"requestId": e.reqID("advance-twice"), "expectedStage": stage}); r.code != http.StatusBadRequest || r.err().Code != 9 {
		e.t.Errorf("a second advance of %s with a new request ID: %s, want 400 FAILED_PRECONDITION", stage, r)
	}
}

// object files candidate i's objection (and retries it) and returns the objection's name.
func (e *e2e) object(i int, stage, reason string) string {
	e.t.Helper()
	id := e.reqID(fmt.Sprintf("object%d", i))
	path := "/v1/" + e.apps[i] + "/objections?requestId=" + id
	body := map[string]any{"stage": stage, "reason": reason}
	var first, second struct{ Objection objectionJSON }
	e.must(http.MethodPost, path, e.cands[i], body, &first)
	e.must(http.MethodPost, path, e.cands[i], body, &second)
	e.retried = append(e.retried, id)
	if first.Objection.State != "OBJECTION_STATE_PENDING" || second.Objection.Name != first.Objection.Name {
		e.t.Errorf("objection of candidate %d: %+v, retried %+v", i, first.Objection, second.Objection)
	}
	return first.Objection.Name
}

// competencySheet parses the assessment center's CSV into the results of one recordResults
// call: the scores are the weighted components, the category decides with the pass marks.
func (e *e2e) competencySheet(sheet string) []map[string]any {
	e.t.Helper()
	rows, err := csv.NewReader(strings.NewReader(sheet)).ReadAll()
	if err != nil {
		e.t.Fatalf("score sheet: %v", err)
	}
	header := rows[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			e.t.Fatalf("score sheet lacks column %s", name)
		}
		return i
	}
	num := func(row []string, name string) float64 {
		v, err := strconv.ParseFloat(row[col(name)], 64)
		if err != nil {
			e.t.Fatalf("score sheet %s %q: %v", name, row[col(name)], err)
		}
		return v
	}
	var results []map[string]any
	for _, row := range rows[1:] {
		cand, err := strconv.Atoi(row[col("candidate")])
		if err != nil {
			e.t.Fatalf("score sheet candidate %q: %v", row[col("candidate")], err)
		}
		results = append(results, map[string]any{
			"application":        e.apps[cand],
			"outcome":            "OUTCOME_NONE",
			"competencyCategory": row[col("category")],
			"managerialScore":    num(row, "managerial"),
			"socioCulturalScore": num(row, "socio_cultural"),
			"scores": []map[string]any{
				{"component": "SCORE_COMPONENT_WRITTEN_TEST", "score": num(row, "written_test")},
				{"component": "SCORE_COMPONENT_COMPETENCY_TEST", "score": num(row, "competency_test")},
				{"component": "SCORE_COMPONENT_PAPER", "score": num(row, "paper")},
				{"component": "SCORE_COMPONENT_TRACK_RECORD", "score": num(row, "track_record")},
			},
		})
	}
	return results
}

func interviewResult(app string, score float64) map[string]any {
	return map[string]any{"application": app, "outcome": "OUTCOME_NONE",
		"scores": []map[string]any{{"component": "SCORE_COMPONENT_INTERVIEW", "score": score}}}
}

// finalRanking reads the applications still in the running, as the committee sees them when
// the decision stage opens, and orders them by final score.
func (e *e2e) finalRanking(token string) []string {
	e.t.Helper()
	var list struct {
		Applications []applicationJSON
		TotalSize    int
	}
	e.must(http.MethodGet, e.sel()+"/applications?pageSize=100", token, nil, &list)
	if list.TotalSize != 6 || len(list.Applications) != 6 {
		e.t.Errorf("the committee lists %d applications (total %d), want 6", len(list.Applications), list.TotalSize)
	}
	want := map[string]float64{e.apps[1]: 82, e.apps[2]: 87, e.apps[3]: 72, e.apps[6]: 77}
	weights := map[string]float64{"SCORE_COMPONENT_WRITTEN_TEST": 15, "SCORE_COMPONENT_COMPETENCY_TEST": 40,
		"SCORE_COMPONENT_PAPER": 10, "SCORE_COMPONENT_INTERVIEW": 20, "SCORE_COMPONENT_TRACK_RECORD": 15}
	var running []applicationJSON
	for _, a := range list.Applications {
		if a.State != "APPLICATION_STATE_IN_PROGRESS" {
			continue
		}
		if a.FinalScore != want[a.Name] {
			// Go on with the weighted sum of the published scores, as a committee would.
			// The list leaves stage results out; the application itself has them.
			var one struct{ Application applicationJSON }
			e.must(http.MethodGet, "/v1/"+a.Name, token, nil, &one)
			var sum float64
			for _, r := range one.Application.StageResults {
				for _, sc := range r.Scores {
					sum += sc.Score * weights[sc.Component] / 100
				}
			}
			e.t.Errorf("%s: final score %v when the decision stage opens, want %v (the weighted sum of its published scores is %.2f)",
				a.Name, a.FinalScore, want[a.Name], sum)
			a.FinalScore = sum
		}
		running = append(running, a)
	}
	sort.SliceStable(running, func(i, j int) bool { return running[i].FinalScore > running[j].FinalScore })
	names := make([]string, len(running))
	for i, a := range running {
		names[i] = a.Name
	}
	if len(names) != 4 {
		e.t.Fatalf("%d applications in the running at the decision, want 4: %v", len(names), names)
	}
	return names
}

// checkAppliedOnce reads the audit trail from the store and checks that every request sent
// twice left exactly one audit event.
func (e *e2e) checkAppliedOnce() {
	e.t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, e.storeURL)
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	count, events := map[string]int{}, 0
	opts := store.ListOptions{PageSize: 1000}
	for {
		page, err := st.ListAuditEvents(ctx, e.id, opts)
		if err != nil {
			e.t.Fatalf("audit events: %v", err)
		}
		for _, ev := range page.Items {
			count[ev.UpdateID]++
			events++
		}
		if page.NextPageToken == "" {
			break
		}
		opts.PageToken = page.NextPageToken
	}
	for _, id := range e.retried {
		if count[id] != 1 {
			e.t.Errorf("request %s sent twice left %d audit events, want 1", id, count[id])
		}
	}
	e.t.Logf("%d requests retried, each applied once; %d audit events in all", len(e.retried), events)
}

// people are the identities and personal data a scenario runs with.
type people struct {
	admin, auditor string
	// committee are the members' IDs (their token subjects): the chair, the secretary, then
	// three members.
	committee  []string
	memberName func(id string) string
	// candidate is candidate i's token subject; application is their application.
	candidate   func(i int) string
	application func(i int) map[string]any
}

// plainPeople are the scenario's usual people, named for their part.
func plainPeople() *people {
	return &people{
		admin: "admin-bkpsdm", auditor: "inspektorat-1",
		committee:   []string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"},
		memberName:  func(id string) string { return "Anggota " + id },
		candidate:   func(i int) string { return fmt.Sprintf("kandidat-%d", i) },
		application: applicationBody,
	}
}

// selection is the selection these people announce.
func (p *people) selection() map[string]any {
	return namedSelectionBody(p.committee, p.memberName)
}

// selectionBody is the selection the secretariat announces: five members, two internal; the
// holiday list of 2027, which the service does not ship, is supplied with the selection.
func selectionBody(committee []string) map[string]any {
	return namedSelectionBody(committee, func(id string) string { return "Anggota " + id })
}

// namedSelectionBody is selectionBody with the members' names given by name.
func namedSelectionBody(committee []string, name func(id string) string) map[string]any {
	var members []map[string]any
	for i, m := range committee {
		mem := map[string]any{"memberId": m, "displayName": name(m), "kind": "MEMBER_KIND_EXTERNAL", "role": "COMMITTEE_ROLE_MEMBER",
			"affiliation": "Universitas Contoh"}
		switch i {
		case 0:
			mem["role"] = "COMMITTEE_ROLE_CHAIR"
		case 1:
			mem["role"], mem["kind"], mem["postLevel"] = "COMMITTEE_ROLE_SECRETARY", "MEMBER_KIND_INTERNAL", "POST_LEVEL_JPT_MADYA"
		case 3:
			mem["kind"], mem["postLevel"] = "MEMBER_KIND_INTERNAL", "POST_LEVEL_JPT_PRATAMA"
		}
		members = append(members, mem)
	}
	return map[string]any{
		"positionTitle":        "Kepala Dinas Kesehatan",
		"positionUnit":         "Dinas Kesehatan",
		"agency":               "Pemerintah Kota Contoh",
		"timeZone":             "TIME_ZONE_WIB",
		"oversightApprovalRef": "B-1234/KASN/2026",
		"committee":            members,
		"requirements": map[string]any{
			"minEducation": "EDUCATION_LEVEL_BACHELOR", "minYearsExperience": 5, "minYearsAdministratorPost": 2, "maxAgeYears": 56,
			"requiredDocuments": []map[string]any{
				{"id": "lhkpn", "title": "LHKPN"},
				{"id": "surat_sehat", "title": "Surat keterangan sehat"},
			},
		},
		"announcementWorkingDays":      3,
		"extensionWorkingDays":         0,
		"maxExtensions":                0,
		"minApplicants":                3,
		"insufficientApplicantsPolicy": "INSUFFICIENT_APPLICANTS_POLICY_CONTINUE",
		"objectionWindowWorkingDays":   2,
		"scoreWeights":                 map[string]any{"writtenTest": 15, "competencyTest": 40, "paper": 10, "interview": 20, "trackRecord": 15},
		"passThresholds": []map[string]any{
			{"component": "SCORE_COMPONENT_COMPETENCY_TEST", "minScore": 60},
			{"component": "SCORE_COMPONENT_INTERVIEW", "minScore": 60},
		},
		"minCompetencyCategory": "COMPETENCY_CATEGORY_STILL_MEETS",
		"minFinalScore":         65,
		"tieBreakRule":          "TIE_BREAK_RULE_WEIGHT_ORDER",
		"publishScores":         true,
		"holidayOverrides": []map[string]any{
			{"date": "2027-01-01", "description": "Tahun Baru 2027 Masehi"},
			{"date": "2027-02-06", "description": "Tahun Baru Imlek 2578 Kongzili"},
			{"date": "2027-03-10", "description": "Hari Suci Nyepi"},
		},
	}
}

// applicationBody is candidate i's application, naming the kinds of its documents (upload
// them with api.withDocuments). Candidate 5 was born in 1960 and is over the age limit of 56.
func applicationBody(i int) map[string]any {
	birth := fmt.Sprintf("198%d-0%d-1%d", i%10, i%9+1, i%10)
	if i == 5 {
		birth = "1960-05-15"
	}
	return map[string]any{
		"candidate": map[string]any{
			"fullName": fmt.Sprintf("Kandidat Nomor %d, S.T., M.T.", i), "nip": fmt.Sprintf("19800101200501100%d", i),
			"email": fmt.Sprintf("kandidat%d@contoh.go.id", i), "phone": fmt.Sprintf("+62812000000%d", i),
			"birthDate": birth, "educationLevel": "EDUCATION_LEVEL_MASTER", "educationMajor": "Kesehatan Masyarakat",
			"yearsOfExperience": 12 + i, "yearsInAdministratorPost": 4, "currentPost": "Sekretaris Dinas",
			"currentPostLevel": "POST_LEVEL_ADMINISTRATOR", "currentAgency": "Pemerintah Kota Contoh",
		},
		// The required documents, to be uploaded (api.withDocuments) before submitting.
		"documents": []map[string]any{{"kind": "lhkpn"}, {"kind": "surat_sehat"}},
		"statement": "Saya siap memimpin Dinas Kesehatan.",
	}
}

// verificationJSON is the gateway's JSON form of a VerificationReport (64-bit integers are
// strings in protojson).
type verificationJSON struct {
	Report struct {
		OK            bool          `json:"ok"`
		EventsChecked string        `json:"eventsChecked"`
		Replayed      bool          `json:"replayed"`
		VerifyTime    string        `json:"verifyTime"`
		Findings      []findingJSON `json:"findings"`
	} `json:"report"`
}

// findingJSON is one Finding of a report.
type findingJSON struct {
	Kind            string   `json:"kind"`
	Message         string   `json:"message"`
	EventSequences  []string `json:"eventSequences"`
	HistoryEventIDs []string `json:"historyEventIds"`
}

// audit is the auditor's part, after the selection closed: the bundle exported through the
// gateway is signed with the published key and its parts match the signed manifest; the
// selection verifies (replayed through the workflow code and compared with the store) with
// no findings; and after one audit event's reason is changed in the database behind the
// service's back, verification names the broken chain at that event.
func (e *e2e) audit() {
	t := e.t
	t.Helper()
	auditor := e.tok.mint(auth.RoleAuditor, "inspektorat-1")
	if e.people != nil {
		auditor = e.tok.mint(auth.RoleAuditor, e.people.auditor)
	}
	// Archive the closed run first: the background archiver would otherwise add its
	// HistoryArchived event at a moment of its choosing, between two of the reads below.
	if _, err := e.archive(context.Background()); err != nil {
		t.Fatalf("archiving the closed selection: %v", err)
	}

	// The key is public: anyone holding a bundle can check it.
	pub := e.publishedKey()
	if r := e.do(http.MethodGet, e.sel()+":exportHistory", e.admin, nil); r.code != http.StatusForbidden {
		t.Errorf("export by the secretariat: %s, want 403", r)
	}
	b := e.exportBundle(e.id, auditor)
	if err := b.VerifySignature(pub); err != nil {
		t.Errorf("the bundle's signature does not verify with the published key %s: %v", audit.KeyFingerprint(pub), err)
	}
	if fs := b.CheckParts(); len(fs) > 0 {
		t.Errorf("the bundle's parts do not match the signed manifest: %v", fs)
	}
	if b.SelectionID != e.id || len(b.Histories) == 0 {
		t.Errorf("the bundle of %s holds %d histories", b.SelectionID, len(b.Histories))
	}

	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": true}, &rep)
	if !rep.Report.OK || len(rep.Report.Findings) > 0 || !rep.Report.Replayed || rep.Report.VerifyTime == "" {
		t.Errorf("verification of the closed selection: ok %v replayed %v, %d findings:", rep.Report.OK, rep.Report.Replayed, len(rep.Report.Findings))
		for _, f := range rep.Report.Findings {
			t.Logf("  %s seqs %v events %v: %s", f.Kind, f.EventSequences, f.HistoryEventIDs, f.Message)
		}
	}

	// Tamper with the reason of the first committee command, as someone with database
	// access might to rewrite why a candidate was treated as they were.
	var events struct {
		AuditEvents []struct {
			Sequence string `json:"sequence"`
			UpdateID string `json:"updateId"`
			Reason   string `json:"reason"`
		} `json:"auditEvents"`
	}
	e.must(http.MethodGet, e.sel()+"/auditEvents?pageSize=1000", auditor, nil, &events)
	if n, _ := strconv.Atoi(rep.Report.EventsChecked); n != len(events.AuditEvents) || n == 0 {
		t.Errorf("verification checked %s events, the auditor lists %d", rep.Report.EventsChecked, len(events.AuditEvents))
	}
	var seq string
	for _, ev := range events.AuditEvents {
		if slices.Contains(e.retried, ev.UpdateID) && ev.Reason != "" {
			seq = ev.Sequence
			break
		}
	}
	if seq == "" {
		t.Fatal("no audit event of a committee command with a reason to tamper with")
	}
	e.tamperReason(seq)

	rep = verificationJSON{}
	e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": false}, &rep)
	names := func(kind string) bool {
		return slices.ContainsFunc(rep.Report.Findings, func(f findingJSON) bool {
			return f.Kind == kind && slices.Contains(f.EventSequences, seq)
		})
	}
	t.Logf("audit: bundle of %d parts verified with key %.12s…; after audit event %s was changed, %d findings:", len(b.Parts), audit.KeyFingerprint(pub), seq, len(rep.Report.Findings))
	for _, f := range rep.Report.Findings {
		t.Logf("  %s seqs %v events %v: %s", f.Kind, f.EventSequences, f.HistoryEventIDs, f.Message)
	}
	if rep.Report.OK || !names("FINDING_KIND_CHAIN_BROKEN") || !names("FINDING_KIND_HASH_MISMATCH") {
		t.Errorf("verification after audit event %s was changed: ok %v, want findings CHAIN_BROKEN and HASH_MISMATCH naming it", seq, rep.Report.OK)
	}
}

// tamperReason changes the reason of one of the selection's audit events directly in the
// database, on a connection of its own.
func (e *e2e) tamperReason(seq string) {
	e.t.Helper()
	driver, dsn, query := "pgx", e.storeURL, "UPDATE audit_events SET reason = reason || ' (diubah)' WHERE selection_id = $1 AND seq = $2"
	if path, ok := strings.CutPrefix(e.storeURL, "sqlite:"); ok {
		// The service holds the same file open in WAL mode; wait for its writers.
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
		query = "UPDATE audit_events SET reason = reason || ' (diubah)' WHERE selection_id = ? AND seq = ?"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.t.Fatalf("open the database to tamper with it: %v", err)
	}
	defer db.Close()
	n, err := strconv.ParseInt(seq, 10, 64)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := db.ExecContext(context.Background(), query, e.id, n)
	if err != nil {
		e.t.Fatalf("tamper with audit event %d: %v", n, err)
	}
	if rows, _ := res.RowsAffected(); rows != 1 {
		e.t.Fatalf("tampering changed %d rows, want 1", rows)
	}
}
