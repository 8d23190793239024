package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestWithdrawalAndCorrectionsEndToEnd: a candidate withdraws while the announcement is open
// (through the store, left out of the close's snapshot, WITHDRAWN on their page); a mistyped
// screening verdict is replaced before publication only as a correction with a reason, whose
// audit event keeps the replaced value; after publication the chair corrects a result, which
// publishes revision 2 with a new objection deadline and tells the candidate, at the address
// they gave, until when they may object.
func TestWithdrawalAndCorrectionsEndToEnd(t *testing.T) {
	for _, db := range stackDatabases() {
		t.Run(db.name, func(t *testing.T) {
			_, e := startStack(t, db, "corr-")
			runCorrections(t, e)
		})
	}
}

func runCorrections(t *testing.T, e *e2e) {
	committee := []string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}
	e.admin = e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	chair := e.tok.mint(auth.RoleCommittee, "ketua", e.id)
	secretary := e.tok.mint(auth.RoleCommittee, "sekretaris", e.id)
	e.cands = []string{""}
	for i := 1; i <= 4; i++ {
		e.cands = append(e.cands, e.tok.mint(auth.RoleCandidate, fmt.Sprintf("kandidat-%d", i)))
	}
	e.must(http.MethodPost, "/v1/selections?requestId="+e.reqID("create")+"&selectionId="+e.id, e.admin, selectionBody(committee), nil)
	for deadline := time.Now().Add(10 * time.Second); e.getSelection(e.id).StageCloseTime == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.apps = []string{""}
	for i := 1; i <= 4; i++ {
		var got struct{ Application applicationJSON }
		e.must(http.MethodPost, e.sel()+"/applications?requestId="+e.reqID(fmt.Sprintf("apply%d", i)), e.cands[i], e.withDocuments(applicationBody(i), e.cands[i], e.id), &got)
		e.apps = append(e.apps, got.Application.Name)
	}

	// --- Candidate 3 withdraws while the announcement is open; a retry answers the same. ---
	withdraw := map[string]any{"requestId": e.reqID("withdraw3"), "reason": "Diterima di instansi lain"}
	for range 2 {
		var w struct{ Application applicationJSON }
		e.must(http.MethodPost, "/v1/"+e.apps[3]+":withdraw", e.cands[3], withdraw, &w)
		if w.Application.State != "APPLICATION_STATE_WITHDRAWN" {
			t.Fatalf("withdrawal answered %+v", w.Application)
		}
	}
	if app := e.candidateSees(3, "APPLICATION_STATE_WITHDRAWN", "STAGE_ANNOUNCEMENT"); app.StatusText.ID != "Anda telah menarik lamaran." {
		t.Errorf("candidate 3 reads %+v", app.StatusText)
	}
	if r := e.do(http.MethodPost, "/v1/"+e.apps[3]+":withdraw", e.cands[1], map[string]any{"requestId": e.reqID("withdraw-other")}); r.code != http.StatusNotFound {
		t.Errorf("withdrawing another candidate's application: %s, want 404", r)
	}

	// --- The close leaves the withdrawn application out. ---
	e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", 90*time.Second)
	var announced struct{ Result stageResultJSON }
	e.must(http.MethodGet, e.sel()+"/results/announcement", "", nil, &announced)
	if len(announced.Result.Entries) != 3 {
		t.Errorf("applicants published at the close: %+v", announced.Result.Entries)
	}
	for _, en := range announced.Result.Entries {
		if en.Application == e.apps[3] {
			t.Errorf("the withdrawn application is in the close's list")
		}
	}
	e.candidateSees(3, "APPLICATION_STATE_WITHDRAWN", "STAGE_ANNOUNCEMENT")

	// --- A mistyped verdict is replaced only as a correction with a reason. ---
	verdict := func(i int, outcome, reason string) map[string]any {
		return map[string]any{"application": e.apps[i], "outcome": outcome, "reason": reason}
	}
	e.must(http.MethodPost, e.sel()+":recordResults", secretary, map[string]any{"requestId": e.reqID("screen"), "stage": "STAGE_ADMINISTRATIVE_SCREENING",
		"results": []map[string]any{verdict(1, "OUTCOME_PASS", ""), verdict(2, "OUTCOME_PASS", ""), verdict(4, "OUTCOME_FAIL", "LHKPN tidak ada")}}, nil)
	fix := map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "results": []map[string]any{verdict(4, "OUTCOME_PASS", "")}}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{"requestId": e.reqID("fix")}
		for k, v := range fix {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	if r := e.do(http.MethodPost, e.sel()+":recordResults", secretary, with(nil)); r.code != http.StatusConflict {
		t.Errorf("recording over a result without a correction: %s, want 409", r)
	}
	if r := e.do(http.MethodPost, e.sel()+":recordResults", secretary, with(map[string]any{"correction": true})); r.code != http.StatusBadRequest ||
		!strings.Contains(string(r.body), `"field":"correctionReason"`) {
		t.Errorf("a correction without a reason: %s, want 400 naming correctionReason", r)
	}
	const why = "Verdict salah baris: LHKPN kandidat 4 ada"
	e.must(http.MethodPost, e.sel()+":recordResults", secretary, with(map[string]any{"correction": true, "correctionReason": why}), nil)

	// --- Published, then corrected by the chair (not the secretary): revision 2. ---
	e.advance(chair, "STAGE_ADMINISTRATIVE_SCREENING")
	var rev1 struct {
		Result struct {
			stageResultJSON
			ObjectionDeadline string `json:"objectionDeadline"`
		}
	}
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &rev1)
	// Candidate 4 objects to revision 1; the objection keeps the stage's slug as its name.
	obj1 := e.object(4, "STAGE_ADMINISTRATIVE_SCREENING", "Nilai saya perlu diperiksa ulang")
	if !strings.HasSuffix(obj1, "/objections/administrative-screening") {
		t.Errorf("objection to revision 1 is named %q", obj1)
	}
	e.command("/v1/"+obj1+":answer", chair, map[string]any{"requestId": e.reqID("answer4"), "accepted": false,
		"answer": "Hasil sudah sesuai berkas"}, nil)
	correct := func(token string) reply {
		return e.do(http.MethodPost, e.sel()+":correctResult", token, map[string]any{"requestId": e.reqID("correct"),
			"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "Ijazah kandidat 2 tidak sah menurut verifikasi ulang",
			"results": []map[string]any{verdict(2, "OUTCOME_FAIL", "Ijazah tidak dapat diverifikasi")}})
	}
	if r := correct(secretary); r.code != http.StatusForbidden {
		t.Errorf("the secretary correcting a published result: %s, want 403", r)
	}
	r := correct(chair)
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"revision":2`) {
		t.Fatalf("the chair's correction: %s", r)
	}
	var rev2 struct {
		Result struct {
			stageResultJSON
			ObjectionDeadline string `json:"objectionDeadline"`
		}
	}
	e.must(http.MethodGet, e.sel()+"/results/administrative-screening", "", nil, &rev2)
	if rev2.Result.Revision != 2 || rev2.Result.ObjectionDeadline == "" || rev2.Result.ObjectionDeadline < rev1.Result.ObjectionDeadline {
		t.Errorf("after the correction: revision %d, deadline %s (was %s)", rev2.Result.Revision, rev2.Result.ObjectionDeadline, rev1.Result.ObjectionDeadline)
	}
	e.candidateSees(2, "APPLICATION_STATE_ELIMINATED", "STAGE_ADMINISTRATIVE_SCREENING")
	e.candidateSees(4, "APPLICATION_STATE_IN_PROGRESS", "STAGE_ADMINISTRATIVE_SCREENING")

	// --- Candidate 4 objects once more, to revision 2, within its window: a new name, answered
	// by it; a third objection to revision 2 and one to the replaced revision 1 are refused. ---
	obj2 := e.object(4, "STAGE_ADMINISTRATIVE_SCREENING", "Hasil revisi 2 perlu diperiksa ulang")
	if !strings.HasSuffix(obj2, "/objections/administrative-screening-r2") {
		t.Errorf("objection to revision 2 is named %q", obj2)
	}
	var answered2 struct{ Objection objectionJSON }
	e.command("/v1/"+obj2+":answer", chair, map[string]any{"requestId": e.reqID("answer4r2"), "accepted": false,
		"answer": "Perbaikan tidak mengubah hasil Anda"}, &answered2)
	if answered2.Objection.Name != obj2 || answered2.Objection.State != "OBJECTION_STATE_REJECTED" || answered2.Objection.Revision != 2 {
		t.Errorf("answer to the objection to revision 2: %+v", answered2.Objection)
	}
	if r := e.do(http.MethodPost, "/v1/"+e.apps[4]+"/objections?requestId="+e.reqID("obj4-again"), e.cands[4],
		map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "sekali lagi"}); r.code != http.StatusConflict {
		t.Errorf("a second objection to revision 2: %s, want 409", r)
	}
	if r := e.do(http.MethodPost, "/v1/"+e.apps[4]+"/objections?requestId="+e.reqID("obj4-rev1"), e.cands[4],
		map[string]any{"stage": "STAGE_ADMINISTRATIVE_SCREENING", "reason": "atas revisi 1", "revision": 1}); r.code != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "revisi 1") && !strings.Contains(string(r.body), "revision 1") {
		t.Errorf("an objection to the replaced revision 1: %s, want 400 saying revision 1 was replaced", r)
	}

	// --- The store: the audit trail keeps the replaced values; candidate 2 is told, at the
	// address given in the application, until when to object. ---
	ctx := context.Background()
	st, err := store.Open(ctx, e.storeURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	events, err := st.ListAuditEvents(ctx, e.id, store.ListOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var sawFix, sawCorrect, sawWithdraw bool
	for _, ev := range events.Items {
		p := string(ev.Payload)
		switch ev.Action {
		case "RecordResults":
			sawFix = sawFix || (ev.Reason == why && strings.Contains(p, `"replaced"`) && strings.Contains(p, "LHKPN tidak ada"))
		case "CorrectResult":
			sawCorrect = strings.Contains(p, `"replaced"`) && strings.Contains(p, "OUTCOME_PASS")
		case store.ActionWithdrawBeforeClose:
			sawWithdraw = ev.UpdateID == withdraw["requestId"]
		}
	}
	if !sawFix || !sawCorrect || !sawWithdraw {
		t.Errorf("audit trail: correction with replaced value %v, chair's correction %v, early withdrawal %v", sawFix, sawCorrect, sawWithdraw)
	}
	// The outbox is read directly: the stack's dispatcher may already have delivered it.
	driver, dsn, query := "pgx", e.storeURL, "SELECT email, message FROM notifications WHERE selection_id = $1 AND kind = 'CorrectResult' AND application_id = $2"
	if path, ok := strings.CutPrefix(e.storeURL, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
		query = strings.NewReplacer("$1", "?", "$2", "?").Replace(query)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var email, stored string
	if err := db.QueryRowContext(ctx, query, e.id, strings.TrimPrefix(e.apps[2], "selections/"+e.id+"/applications/")).Scan(&email, &stored); err != nil {
		t.Fatalf("candidate 2's notification of the correction: %v", err)
	}
	// The outbox keeps the message code; the dispatcher renders it when it sends.
	var m i18n.Msg
	if err := json.Unmarshal([]byte(stored), &m); err != nil || m.Code != workflows.CodeEventCorrected {
		t.Fatalf("candidate 2's notification holds %q (%v), want the code %s", stored, err, workflows.CodeEventCorrected)
	}
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	text := cat.Render(m, i18n.ID)
	if email != "kandidat2@contoh.go.id" || !strings.Contains(text, "Sanggah dapat diajukan sampai") {
		t.Errorf("candidate 2 was told %q at %q, want the new objection deadline at the address they gave", text, email)
	}
	e.must(http.MethodPost, e.sel()+":cancel", e.admin, map[string]any{"requestId": e.reqID("cancel"), "reason": "uji selesai"}, nil)

	// The store, two objections of candidate 4 at screening included, is what the history
	// rebuilds.
	var rep verificationJSON
	e.must(http.MethodPost, e.sel()+":verify", e.tok.mint(auth.RoleAuditor, "inspektorat-1"), map[string]any{"replay": true}, &rep)
	if !rep.Report.OK || len(rep.Report.Findings) > 0 || !rep.Report.Replayed {
		t.Errorf("verification: ok %v replayed %v, %d findings:", rep.Report.OK, rep.Report.Replayed, len(rep.Report.Findings))
		for _, f := range rep.Report.Findings {
			t.Logf("  %s: %s", f.Kind, f.Message)
		}
	}
}
