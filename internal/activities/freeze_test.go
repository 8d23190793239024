package activities

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// TestNULWithdrawalDoesNotFreezeTheSelection reproduces a finding end to end below the API:
// on PostgreSQL a candidate's withdrawal reason with a NUL byte made the store write fail with
// "invalid byte sequence for encoding UTF8: 0x00", which was retried forever while the
// selection's lock was held, so that the committee and even the secretariat's cancellation
// timed out. Now the withdrawal is refused at once as invalid data and the cancellation that
// follows goes through. It runs the real workflow and the real activities on each store.
func TestNULWithdrawalDoesNotFreezeTheSelection(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			st := openStore(t, db)
			runFreezeScenario(t, st)
		})
	}
}

func openStore(t *testing.T, db string) *store.Store {
	t.Helper()
	ctx := context.Background()
	raw := "sqlite:" + filepath.Join(t.TempDir(), "seleksi.db")
	if db == "postgres" {
		raw = pgtest.SchemaURL(t)
	}
	st, err := store.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func runFreezeScenario(t *testing.T, st *store.Store) {
	ctx := context.Background()
	start := time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC) // Monday 08:00 in Jakarta
	id := "dinkes-2026-01"
	wf := workflows.WorkflowID(id)
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-1", WorkflowID: wf,
		PositionTitle: "Kepala Dinas Kesehatan", Agency: "Kota Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
		Actor: store.Actor{Subject: "admin", Role: string(workflows.RoleAdmin)}, Now: start}); err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.Build(calendar.WIB, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := workflows.SelectionInput{
		SelectionID: id, OversightApprovalRef: "B-1/BKN/2026", Calendar: cal,
		Position:     workflows.Position{Title: "Kepala Dinas Kesehatan", Agency: "Kota Contoh", Level: workflows.PostJPTPratama},
		Requirements: workflows.Requirements{MinEducation: workflows.EducationBachelor, MinExperienceMonths: 60, MinAdministratorMonths: 24, MaxAge: 56},
		Committee: []workflows.Member{
			{Subject: "chair", Name: "Ketua", Kind: workflows.MemberExternal, Role: workflows.CommitteeChair},
			{Subject: "secretary", Name: "Sekretaris", Kind: workflows.MemberInternal, Role: workflows.CommitteeSecretary, PostLevel: workflows.PostJPTMadya},
			{Subject: "m3", Name: "Anggota 3", Kind: workflows.MemberExternal, Role: workflows.CommitteeMember},
			{Subject: "m4", Name: "Anggota 4", Kind: workflows.MemberInternal, Role: workflows.CommitteeMember, PostLevel: workflows.PostJPTPratama},
			{Subject: "m5", Name: "Anggota 5", Kind: workflows.MemberExternal, Role: workflows.CommitteeMember},
		},
		Windows: workflows.Windows{AnnouncementDays: 5, ExtensionDays: 5, MaxExtensions: 0, MinApplicants: 1,
			WhenTooFew: workflows.PolicyContinue, ObjectionDays: 3},
		Weights: []workflows.Weight{{Component: workflows.ComponentWrittenTest, Percent: 15}, {Component: workflows.ComponentCompetencyTest, Percent: 40},
			{Component: workflows.ComponentPaper, Percent: 10}, {Component: workflows.ComponentInterview, Percent: 20}, {Component: workflows.ComponentTrackRecord, Percent: 15}},
		Thresholds: workflows.Thresholds{CompetencyMin: 6000, InterviewMin: 6000, FinalMin: 6500},
		TieBreak:   workflows.TieBreakWeightOrder,
	}

	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetWorkflowRunTimeout(0)
	// The old code retried the write forever: without the fix this test ends here.
	env.SetTestTimeout(time.Minute)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wf, TaskQueue: "q"})
	env.RegisterWorkflow(workflows.SelectionWorkflow)
	acts := New(st, nil)
	env.RegisterActivity(acts)

	var appID string
	env.RegisterDelayedCallback(func() {
		app, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: id, RequestID: "submit-1",
			Owner: "cand-a", Candidate: store.Candidate{Subject: "cand-a", FullName: "Calon A", NIP: "197001012000011001", Email: "a@example.go.id", BirthDate: "1971-01-01"},
			Facts: store.Facts{Education: string(workflows.EducationMaster), Documents: []string{}}, Now: env.Now()})
		if err != nil {
			t.Errorf("submit: %v", err)
			return
		}
		appID = app.ID
	}, time.Hour)
	type result struct {
		done bool
		err  error
	}
	var withdraw, cancel result
	update := func(r *result, name, reqID string, arg any) {
		env.UpdateWorkflow(name, reqID, &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { r.done, r.err = true, err },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { r.done, r.err = true, err },
		}, arg)
	}
	// A week later the announcement has closed and screening is under way.
	env.RegisterDelayedCallback(func() {
		update(&withdraw, workflows.UpdateWithdrawApplication, "req-withdraw-1", workflows.WithdrawArgs{
			Actor: workflows.Actor{Subject: "cand-a", Role: workflows.RoleCandidate}, ApplicationID: appID, Reason: "alasan\x00pribadi"})
	}, 7*24*time.Hour)
	env.RegisterDelayedCallback(func() {
		update(&cancel, workflows.UpdateCancel, "req-cancel-1", workflows.CancelArgs{
			Actor: workflows.Actor{Subject: "admin", Role: workflows.RoleAdmin}, Reason: "uji selesai"})
	}, 7*24*time.Hour+time.Hour)
	env.ExecuteWorkflow(workflows.SelectionWorkflow, in)

	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var appErr *temporal.ApplicationError
	if !withdraw.done || !errors.As(withdraw.err, &appErr) || appErr.Type() != workflows.RejectInvalidArgument {
		t.Errorf("withdrawal: done=%v err=%v, want an InvalidArgument answer", withdraw.done, withdraw.err)
	}
	if !cancel.done || cancel.err != nil {
		t.Errorf("cancellation: done=%v err=%v", cancel.done, cancel.err)
	}
	sel, err := st.GetSelection(ctx, id)
	if err != nil || sel.Stage != string(workflows.StageCancelled) || sel.Blocked != nil {
		t.Errorf("selection %s blocked %+v, %v", sel.Stage, sel.Blocked, err)
	}
	app, err := st.GetApplication(ctx, id, appID)
	if err != nil || app.State == "APPLICATION_STATE_WITHDRAWN" {
		t.Errorf("application %+v, %v", app.State, err)
	}
}
