package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// TestScheduledSelectionAndReconcilerEndToEnd runs the real seleksid (embedded Temporal,
// SQLite or PostgreSQL, compressed days) and checks two things of a selection's creation:
//   - a selection created with announcementOpenTime two selection days ahead is answered with
//     its computed window, is public in STAGE_SCHEDULED, and opens its announcement by itself
//     at that instant of its clock;
//   - a scheduled selection can be cancelled before it opens;
//   - a selection whose creation died between the store write and the workflow start (written
//     here straight into the store with its workflow input, as the API does before starting)
//     gets its workflow from the reconciler within seconds, and opens its announcement.
func TestScheduledSelectionAndReconcilerEndToEnd(t *testing.T) {
	for _, db := range stackDatabases() {
		t.Run(db.name, func(t *testing.T) { runScheduledAndReconciled(t, db) })
	}
}

func runScheduledAndReconciled(t *testing.T, db stackDatabase) {
	_, e := startStack(t, db, "sched-")
	admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	cand := e.tok.mint(auth.RoleCandidate, "kandidat-1")

	// --- Scheduled: two selection days ahead (a few seconds of wall time). ---
	opens := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	body := selectionBody([]string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"})
	body["announcementOpenTime"] = opens.Format(time.RFC3339)
	var created struct {
		Selection        selectionJSON
		AnnouncementPlan struct {
			Scheduled     bool   `json:"scheduled"`
			OpenTime      string `json:"openTime"`
			CloseTime     string `json:"closeTime"`
			LastDay       string `json:"lastDay"`
			OpenLocalTime string `json:"openLocalTime"`
		} `json:"announcementPlan"`
	}
	e.must(http.MethodPost, "/v1/selections?requestId=req-sched-0001&selectionId="+e.id, admin, body, &created)
	p := created.AnnouncementPlan
	if created.Selection.Stage != "STAGE_SCHEDULED" || !p.Scheduled || p.OpenTime != opens.Format(time.RFC3339) ||
		p.CloseTime == "" || p.LastDay == "" || p.OpenLocalTime == "" {
		t.Fatalf("created %+v with plan %+v", created.Selection, p)
	}
	var list struct{ Selections []selectionJSON }
	e.must(http.MethodGet, "/v1/selections?filter=stage%20%3D%20STAGE_SCHEDULED", "", nil, &list)
	if len(list.Selections) != 1 || list.Selections[0].Name != "selections/"+e.id {
		t.Errorf("scheduled selections listed: %+v", list.Selections)
	}
	if r := e.do(http.MethodPost, "/v1/selections/"+e.id+"/applications?requestId=req-apply-early", cand, applicationBody(1)); r.code != http.StatusBadRequest &&
		r.code != http.StatusPreconditionFailed {
		t.Errorf("an application before the opening: %s", r)
	}
	sel := waitForStage(t, e, e.id, "STAGE_ANNOUNCEMENT", 90*time.Second)
	if sel.StageCloseTime != p.CloseTime {
		t.Errorf("the announcement closes at %s, the create answer said %s", sel.StageCloseTime, p.CloseTime)
	}
	// Once open, it takes applications (its opening is compared with the wall clock).
	var applied struct {
		Application struct {
			State string `json:"state"`
		} `json:"application"`
	}
	e.must(http.MethodPost, "/v1/selections/"+e.id+"/applications?requestId=req-apply-0001", cand, e.withDocuments(applicationBody(1), cand, e.id), &applied)
	if applied.Application.State != "APPLICATION_STATE_SUBMITTED" {
		t.Errorf("application after the opening: %+v", applied)
	}
	// The scheduled start and the opening are in the audit trail, and the store agrees with
	// the replayed history.
	var rep verificationJSON
	e.must(http.MethodPost, "/v1/selections/"+e.id+":verify", e.tok.mint(auth.RoleAuditor, "inspektorat"), map[string]any{"replay": true}, &rep)
	if !rep.Report.OK || !rep.Report.Replayed {
		t.Errorf("verification of the scheduled selection: ok %v replayed %v, findings %+v", rep.Report.OK, rep.Report.Replayed, rep.Report.Findings)
	}

	// --- Cancelled while scheduled: the secretariat withdraws an announcement planned a month
	// ahead; it ends cancelled and never opens. ---
	later := e.id + "-later"
	body["announcementOpenTime"] = time.Now().UTC().Add(30 * 24 * time.Hour).Format(time.RFC3339)
	e.must(http.MethodPost, "/v1/selections?requestId=req-sched-0002&selectionId="+later, admin, body, nil)
	waitForStage(t, e, later, "STAGE_SCHEDULED", 30*time.Second)
	var cancelled struct{ Selection selectionJSON }
	e.must(http.MethodPost, "/v1/selections/"+later+":cancel", admin,
		map[string]any{"requestId": "req-cancel-0001", "reason": "formasi jabatan dihapus"}, &cancelled)
	if cancelled.Selection.Stage != "STAGE_CANCELLED" {
		t.Errorf("cancelled while scheduled: %+v", cancelled.Selection)
	}

	// --- A creation that died between the store write and the workflow start. ---
	st, err := store.Open(context.Background(), e.storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	orphan := e.id + "-orphan"
	in := orphanInput(t, orphan)
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	if _, err := st.CreateSelection(context.Background(), store.NewSelection{ID: orphan, RequestID: "req-orphan-0001",
		WorkflowID: workflows.WorkflowID(orphan), PositionTitle: in.Position.Title, Agency: in.Position.Agency,
		TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`), Actor: store.Actor{Subject: "admin-bkpsdm", Role: "ROLE_ADMIN"},
		Now: written, WorkflowInput: raw}); err != nil {
		t.Fatal(err)
	}
	got := waitForStage(t, e, orphan, "STAGE_ANNOUNCEMENT", 60*time.Second)
	t.Logf("the reconciler started the orphaned selection's workflow; its window was projected %s after the store write",
		time.Since(written).Round(time.Millisecond))
	if got.StageCloseTime == "" {
		t.Errorf("the orphaned selection has no announcement window: %+v", got)
	}
}

// waitForStage polls the public selection until its stage is stage and its window (for the
// announcement) is projected.
func waitForStage(t *testing.T, e *e2e, id, stage string, patience time.Duration) selectionJSON {
	t.Helper()
	for deadline := time.Now().Add(patience); ; {
		sel := e.getSelection(id)
		if sel.Stage == stage && (stage != "STAGE_ANNOUNCEMENT" || sel.StageCloseTime != "") {
			return sel
		}
		if time.Now().After(deadline) {
			t.Fatalf("selection %s still at %+v after %s", id, sel, patience)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// orphanInput is a valid workflow input, as the API would have recorded it.
func orphanInput(t *testing.T, id string) workflows.SelectionInput {
	t.Helper()
	cal, err := calendar.Build(calendar.WIB, []calendar.Year{{Year: 2027, Days: []calendar.Holiday{
		{Date: calendar.MustDate("2027-01-01"), Kind: calendar.NationalHoliday, NameID: "Tahun Baru 2027 Masehi"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return workflows.SelectionInput{
		SelectionID:          id,
		Position:             workflows.Position{Title: "Kepala Dinas Kesehatan", Agency: "Pemerintah Kota Contoh", Level: workflows.PostJPTPratama},
		OversightApprovalRef: "B-1234/BKN/2026",
		Calendar:             cal,
		Requirements: workflows.Requirements{MinEducation: workflows.EducationBachelor, MinExperienceMonths: 60,
			MinAdministratorMonths: 24, MaxAge: 56},
		Committee: []workflows.Member{
			{Subject: "ketua", Name: "Ketua", Kind: workflows.MemberExternal, Role: workflows.CommitteeChair},
			{Subject: "sekretaris", Name: "Sekretaris", Kind: workflows.MemberInternal, Role: workflows.CommitteeSecretary, PostLevel: workflows.PostJPTMadya},
			{Subject: "anggota3", Name: "Anggota 3", Kind: workflows.MemberExternal, Role: workflows.CommitteeMember},
			{Subject: "anggota4", Name: "Anggota 4", Kind: workflows.MemberInternal, Role: workflows.CommitteeMember, PostLevel: workflows.PostJPTPratama},
			{Subject: "anggota5", Name: "Anggota 5", Kind: workflows.MemberExternal, Role: workflows.CommitteeMember},
		},
		Windows:  workflows.Windows{AnnouncementDays: 3, MinApplicants: 3, WhenTooFew: workflows.PolicyContinue, ObjectionDays: 2},
		Weights:  []workflows.Weight{{Component: workflows.ComponentCompetencyTest, Percent: 60}, {Component: workflows.ComponentInterview, Percent: 40}},
		TieBreak: workflows.TieBreakWeightOrder,
	}
}
