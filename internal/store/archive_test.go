package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// The archive's tests run on both databases with the suite's factories: SQLite always, and
// PostgreSQL when it is reachable (required under CI).

func TestArchiveSQLite(t *testing.T) {
	t.Parallel()
	testArchive(t, sqliteFactory)
}

func TestArchivePostgres(t *testing.T) {
	t.Parallel()
	testArchive(t, postgresFactory(t))
}

func testArchive(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-arch")
	newSelection(t, s, "sel-empty")
	wf := workflowPrefix + "sel-arch"
	run := func(runID, status, history string, start time.Time) ArchivedRun {
		return ArchivedRun{SelectionID: "sel-arch", WorkflowID: wf, RunID: runID, StartTime: start,
			CloseTime: start.Add(time.Hour), CloseStatus: status, History: []byte(history)}
	}
	// Archived out of order: the listing is by start time.
	second := run("run-2", "WORKFLOW_EXECUTION_STATUS_COMPLETED", `{"events":[{"eventId":"1"},{"eventId":"2"}]}`, t0.Add(2*time.Hour))
	first := run("run-1", "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW", `{"events":[{"eventId":"1"}]}`, t0)
	for _, r := range []ArchivedRun{second, first} {
		created, err := s.ArchiveRun(ctx, r, t0.Add(5*time.Hour))
		if err != nil || !created {
			t.Fatalf("archive %s: %v, %v", r.RunID, created, err)
		}
	}
	sel, err := s.GetSelection(ctx, "sel-arch")
	if err != nil {
		t.Fatal(err)
	}
	if sel.AuditSeq != 3 {
		t.Fatalf("audit seq %d after archiving two runs, want 3", sel.AuditSeq)
	}

	// The same history again is a no-op: no new row, no new audit event.
	created, err := s.ArchiveRun(ctx, first, t0.Add(6*time.Hour))
	if err != nil || created {
		t.Fatalf("archive the same run again: %v, %v; want a no-op", created, err)
	}
	if again, _ := s.GetSelection(ctx, "sel-arch"); again.AuditSeq != 3 {
		t.Fatalf("audit seq %d after a repeated archive, want 3", again.AuditSeq)
	}
	// Another history for an archived run conflicts.
	other := first
	other.History = []byte(`{"events":[{"eventId":"1"},{"eventId":"9"}]}`)
	if _, err := s.ArchiveRun(ctx, other, t0.Add(6*time.Hour)); !errors.Is(err, ErrConflict) {
		t.Fatalf("another history for an archived run: %v, want ErrConflict", err)
	}
	// A digest that does not match the history is refused.
	wrong := run("run-3", "WORKFLOW_EXECUTION_STATUS_TERMINATED", `{"events":[]}`, t0.Add(4*time.Hour))
	wrong.SHA256 = "00"
	if _, err := s.ArchiveRun(ctx, wrong, t0.Add(6*time.Hour)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("wrong digest: %v, want ErrInvalidArgument", err)
	}
	// A run of a selection the store does not know is refused.
	stray := run("run-x", "WORKFLOW_EXECUTION_STATUS_COMPLETED", `{}`, t0)
	stray.SelectionID = "sel-missing"
	if _, err := s.ArchiveRun(ctx, stray, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown selection: %v, want ErrNotFound", err)
	}

	runs, err := s.ListArchivedRuns(ctx, "sel-arch")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].RunID != "run-1" || runs[1].RunID != "run-2" {
		t.Fatalf("archived runs %+v, want run-1 then run-2", runs)
	}
	if runs[0].History != nil || runs[0].SHA256 != sha256Hex(first.History) || runs[0].WorkflowID != wf ||
		!runs[0].StartTime.Equal(t0) || runs[0].CloseStatus != first.CloseStatus || !runs[0].ArchivedAt.Equal(t0.Add(5*time.Hour)) {
		t.Fatalf("archived run-1 = %+v", runs[0])
	}
	// The listing leaves the histories out; each is read on its own.
	if h, err := s.ArchivedHistory(ctx, "sel-arch", "run-1"); err != nil || string(h) != string(first.History) {
		t.Fatalf("history of run-1: %q, %v", h, err)
	}
	if _, err := s.ArchivedHistory(ctx, "sel-empty", "run-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a run of another selection: %v, want ErrNotFound", err)
	}
	if ok, err := s.IsRunArchived(ctx, wf, "run-2"); err != nil || !ok {
		t.Fatalf("run-2 archived: %v, %v", ok, err)
	}
	if ok, err := s.IsRunArchived(ctx, wf, "run-3"); err != nil || ok {
		t.Fatalf("run-3 archived: %v, %v", ok, err)
	}
	if runs, err := s.ListArchivedRuns(ctx, "sel-empty"); err != nil || len(runs) != 0 {
		t.Fatalf("selection without archived runs: %v, %v", runs, err)
	}
	if _, err := s.ListArchivedRuns(ctx, "sel-missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown selection: %v, want ErrNotFound", err)
	}

	// Each archived run has its audit event, which names the run and the history's digest,
	// and the chain still verifies.
	page, err := s.ListAuditEvents(ctx, "sel-arch", ListOptions{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 {
		t.Fatalf("%d audit events, want 3", len(page.Items))
	}
	for i, r := range []ArchivedRun{second, first} {
		e := page.Items[i+1]
		var p HistoryArchivedPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if e.Action != ActionHistoryArchived || e.Target != ArchivedRunTarget("sel-arch", r.RunID) || e.WorkflowID != wf ||
			e.CommandSeq != 0 || !e.WorkflowTime.Equal(r.CloseTime) ||
			p != (HistoryArchivedPayload{RunID: r.RunID, SHA256: sha256Hex(r.History), CloseStatus: r.CloseStatus}) {
			t.Errorf("audit event %d = %+v, payload %+v", e.Seq, e, p)
		}
	}
	rep, err := s.VerifyChain(ctx, "sel-arch")
	if err != nil || !rep.OK || rep.EventsChecked != 3 {
		t.Fatalf("chain after archiving: %+v, %v", rep, err)
	}
}

// TestArchiveConcurrent archives the same run from several goroutines at once, as two
// archivers (two worker processes) might: one stores it and chains one event.
func TestArchiveConcurrent(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]factory{"sqlite": sqliteFactory, "postgres": nil} {
		t.Run(name, func(t *testing.T) {
			if open == nil {
				open = postgresFactory(t)
			}
			s := open(t, true)
			newSelection(t, s, "sel-race")
			r := ArchivedRun{SelectionID: "sel-race", WorkflowID: workflowPrefix + "sel-race", RunID: "run-1", StartTime: t0,
				CloseTime: t0.Add(time.Hour), CloseStatus: "WORKFLOW_EXECUTION_STATUS_COMPLETED", History: []byte(`{"events":[]}`)}
			var wins int
			results := make([]bool, 6)
			errs := parallel(len(results), func(i int) error {
				var err error
				results[i], err = s.ArchiveRun(context.Background(), r, t0.Add(2*time.Hour))
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("archiver %d: %v", i, err)
				}
				if results[i] {
					wins++
				}
			}
			if wins != 1 || count(t, s, "history_archive", "1 = 1") != 1 || count(t, s, "audit_events", "action = ?", ActionHistoryArchived) != 1 {
				t.Fatalf("%d archivers stored the run; %d rows, %d events", wins, count(t, s, "history_archive", "1 = 1"),
					count(t, s, "audit_events", "action = ?", ActionHistoryArchived))
			}
		})
	}
}
