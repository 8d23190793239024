package store

import (
	"context"
	"maps"
	"testing"
	"time"
)

func TestOperationalStatsSQLite(t *testing.T) {
	t.Parallel()
	testOperationalStats(t, sqliteFactory)
}

func TestOperationalStatsPostgres(t *testing.T) {
	t.Parallel()
	testOperationalStats(t, postgresFactory(t))
}

// testOperationalStats: the counts operators watch follow the store: selections per stage,
// blocked ones per reason, pending and dead notifications with the oldest pending, and ended
// selections whose final run is not archived (a continued-as-new run does not count as
// final).
func testOperationalStats(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)

	got, err := s.OperationalStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Selections) != 0 || len(got.Blocked) != 0 || got.OutboxPending != 0 || got.DeadLetters != 0 ||
		got.ArchivePending != 0 || !got.OutboxOldestPending.IsZero() || !got.ArchiveOldestPending.IsZero() {
		t.Fatalf("empty store: %+v", got)
	}

	for _, id := range []string{"sel-open", "sel-blocked", "sel-closed", "sel-cancelled", "sel-archived", "sel-can"} {
		newSelection(t, s, id)
	}
	ended := func(id, stage string, at time.Time) {
		t.Helper()
		if err := s.db.Model(&selectionRow{}).Where("id = ?", id).
			Updates(map[string]any{"stage": stage, "stage_opened_at": at, "stage_opened_wall": at}).Error; err != nil {
			t.Fatal(err)
		}
	}
	ended("sel-closed", StageClosed, t0.Add(3*time.Hour))
	ended("sel-cancelled", StageCancelled, t0.Add(time.Hour))
	ended("sel-archived", StageClosed, t0.Add(30*time.Minute))
	ended("sel-can", StageClosed, t0.Add(2*time.Hour))
	if err := s.ProjectBlocked(ctx, workflowPrefix+"sel-blocked", "sel-blocked",
		&Blocked{Reason: "CalendarNotCovered", Step: "OpenAnnouncement", Year: 2027, Since: t0, Attempts: 1}, t0); err != nil {
		t.Fatal(err)
	}
	archive := func(id, runID, status string) {
		t.Helper()
		if _, err := s.ArchiveRun(ctx, ArchivedRun{SelectionID: id, WorkflowID: workflowPrefix + id, RunID: runID, StartTime: t0,
			CloseTime: t0.Add(time.Hour), CloseStatus: status, History: []byte(`{"events":[]}`)}, t0.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	archive("sel-archived", "run-1", "WORKFLOW_EXECUTION_STATUS_COMPLETED")
	// Only the first run of sel-can is archived: its final run is still waiting.
	archive("sel-can", "run-1", continuedAsNew)

	ids := queueNotifications(t, s, "sel-open", "n", 3, t0.Add(10*time.Minute))
	now := t0.Add(5 * time.Hour)
	if _, err := s.ClaimNotifications(ctx, Claim{Owner: "d", Limit: 10, MaxAttempts: 3, Now: now, Lease: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// The oldest is delivered, the next becomes a dead letter: the third is the oldest pending.
	if err := s.RecordDelivery(ctx, Delivery{ID: ids[0], Owner: "d", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: ids[1], Owner: "d", At: now, Error: "550", Dead: true}); err != nil {
		t.Fatal(err)
	}

	if got, err = s.OperationalStats(ctx); err != nil {
		t.Fatal(err)
	}
	wantStages := map[string]int64{"STAGE_ANNOUNCEMENT": 2, StageClosed: 3, StageCancelled: 1}
	if !maps.Equal(got.Selections, wantStages) {
		t.Errorf("selections per stage %v, want %v", got.Selections, wantStages)
	}
	if want := map[string]int64{"CalendarNotCovered": 1}; !maps.Equal(got.Blocked, want) {
		t.Errorf("blocked %v, want %v", got.Blocked, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"outbox pending", got.OutboxPending, int64(1)},
		{"oldest pending", got.OutboxOldestPending, t0.Add(10*time.Minute + 2*time.Second)},
		{"dead letters", got.DeadLetters, int64(1)},
		// sel-closed, sel-cancelled and sel-can; sel-archived's final run is archived.
		{"archive pending", got.ArchivePending, int64(3)},
		{"oldest awaiting the archive", got.ArchiveOldestPending, t0.Add(time.Hour)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
