package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/reconcile"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// fakeTemporal starts workflows in memory with Temporal's ID rules: a running ID is found
// again (USE_EXISTING), a closed one is refused (REJECT_DUPLICATE). err fails every start.
type fakeTemporal struct {
	mu      sync.Mutex
	err     error
	running map[string]workflows.SelectionInput
	closed  map[string]bool
	starts  int
}

func newFakeTemporal() *fakeTemporal {
	return &fakeTemporal{running: map[string]workflows.SelectionInput{}, closed: map[string]bool{}}
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if f.closed[o.ID] {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("closed", "", "run-1")
	}
	if _, ok := f.running[o.ID]; !ok {
		f.starts++
		f.running[o.ID] = args[0].(workflows.SelectionInput)
	}
	return nil, nil
}

var t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

// input is a workflow input as the API records it.
func input(t *testing.T, id string) workflows.SelectionInput {
	t.Helper()
	cal, err := calendar.Build(calendar.WITA, nil)
	if err != nil {
		t.Fatal(err)
	}
	return workflows.SelectionInput{SelectionID: id, Calendar: cal, Position: workflows.Position{Title: "Kepala Dinas", Agency: "Pemkab Contoh"},
		Windows:             workflows.Windows{AnnouncementDays: 5, ObjectionDays: 3},
		AnnouncementOpensAt: t0.Add(72 * time.Hour), TimeScale: workflows.TimeScale{SecondsPerDay: 60}}
}

// createUnstarted writes a selection with its workflow input, as the API does before it
// starts the workflow, and "dies" there.
func createUnstarted(t *testing.T, st *store.Store, id string, at time.Time) workflows.SelectionInput {
	t.Helper()
	in := input(t, id)
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSelection(context.Background(), store.NewSelection{ID: id, RequestID: "req-" + id,
		WorkflowID: workflows.WorkflowID(id), PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", Config: []byte(`{}`),
		Actor: store.Actor{Subject: "sekretariat", Role: "ROLE_ADMIN"}, Now: at, WorkflowInput: raw, Scheduled: true}); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestReconcilerSQLite(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	runReconcilerTests(t, st)
}

func TestReconcilerPostgres(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), pgtest.SchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	runReconcilerTests(t, st)
}

// runReconcilerTests: selections whose creation died before the workflow started are started
// by the reconciler, once their grace period has passed, with the recorded input and the
// selection's agency, and marked; a failed start is retried at the next pass; one whose
// workflow runs already, or ran and closed, is only marked.
func runReconcilerTests(t *testing.T, st *store.Store) {
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tmp := newFakeTemporal()
	now := t0
	r := reconcile.New(tmp, st, slog.New(slog.DiscardHandler), reconcile.Options{TaskQueue: "seleksi", Interval: time.Second,
		Grace: 5 * time.Second, Now: func() time.Time { return now }})

	want := createUnstarted(t, st, "sel-crashed", t0)
	createUnstarted(t, st, "sel-running", t0)
	createUnstarted(t, st, "sel-closed", t0)
	tmp.running[workflows.WorkflowID("sel-running")] = input(t, "sel-running")
	tmp.closed[workflows.WorkflowID("sel-closed")] = true

	// Within the grace period the API may still be starting them.
	if n, err := r.RunOnce(ctx); n != 0 || err != nil || tmp.starts != 0 {
		t.Fatalf("within the grace period: started %d, %v", n, err)
	}

	// Temporal is down: nothing is marked, and the failures are reported.
	now = t0.Add(6 * time.Second)
	tmp.err = errors.New("temporal unavailable")
	if n, err := r.RunOnce(ctx); n != 0 || err == nil {
		t.Fatalf("with Temporal down: started %d, %v", n, err)
	}
	tmp.err = nil

	n, err := r.RunOnce(ctx)
	if err != nil || n != 3 {
		t.Fatalf("started %d, %v; want 3 (one new, two found started)", n, err)
	}
	if tmp.starts != 1 {
		t.Errorf("%d workflows started, want 1", tmp.starts)
	}
	got, err := json.Marshal(tmp.running[workflows.WorkflowID("sel-crashed")])
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := json.Marshal(want); string(got) != string(w) {
		t.Errorf("started with input\n%s\nwant the recorded\n%s", got, w)
	}
	if pending, err := st.PendingStarts(ctx, now.Add(time.Hour), 10); err != nil || len(pending) != 0 {
		t.Errorf("still pending after the pass: %+v, %v", pending, err)
	}
	if n, err := r.RunOnce(ctx); n != 0 || err != nil || tmp.starts != 1 {
		t.Errorf("second pass started %d (%d in all), %v", n, tmp.starts, err)
	}
	// The scheduled selection stays scheduled in the store until its workflow opens it.
	if sel, err := st.GetSelection(ctx, "sel-crashed"); err != nil || sel.Stage != store.StageScheduled {
		t.Errorf("selection: %q, %v", sel.Stage, err)
	}
}

// TestRunStartsWithinSeconds: Run starts a recorded workflow at its first pass, without
// waiting for a tick.
func TestRunStartsWithinSeconds(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	createUnstarted(t, st, "sel-crashed", t0)
	tmp := newFakeTemporal()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := reconcile.New(tmp, st, slog.New(slog.DiscardHandler), reconcile.Options{TaskQueue: "seleksi", Interval: time.Hour,
		Grace: time.Second, Now: func() time.Time { return t0.Add(time.Minute) }})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	for {
		pending, err := st.PendingStarts(context.Background(), t0.Add(time.Hour), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if tmp.starts != 1 {
		t.Errorf("%d starts", tmp.starts)
	}
}
