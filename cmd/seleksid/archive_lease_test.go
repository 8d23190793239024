package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/archive"
	"github.com/bkpsdm/seleksi/internal/historytest"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
	"github.com/bkpsdm/seleksi/internal/temporalserver"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestArchiversShareOneLease runs two archivers, as two workers do, against one store (each
// on its own connection pool) and a real Temporal (the embedded server): runs of the
// selection workflow type close, some continuing as new, and each is archived exactly once
// while the watermark follows them. Then an archiver dies holding the lease, its connection
// to the store gone, and the other takes over once the lease expires.
func TestArchiversShareOneLease(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	drivers := storetest.Drivers()
	var namespaces []string
	for _, d := range drivers {
		namespaces = append(namespaces, "archive-"+d.Name)
	}
	srv, err := temporalserver.Start(temporalserver.Options{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0",
		Namespaces: namespaces, SearchAttributes: app.SearchAttributes(), Logger: logger, LogLevel: slog.LevelError})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	for i, d := range drivers {
		t.Run(d.Name, func(t *testing.T) {
			// One namespace per store: an archiver lists every run of its namespace.
			c, err := client.Dial(client.Options{HostPort: srv.FrontendAddr(), Namespace: namespaces[i], Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			testArchiversShareOneLease(t, c, d.URL(t), logger)
		})
	}
}

// stubSelection stands in for the selection workflow: it continues as new runs-1 times,
// then completes.
func stubSelection(ctx workflow.Context, runs int) error {
	if runs > 1 {
		return workflow.NewContinueAsNewError(ctx, archive.WorkflowType, runs-1)
	}
	return nil
}

func testArchiversShareOneLease(t *testing.T, c client.Client, url string, logger *slog.Logger) {
	ctx := context.Background()
	st := storetest.Open(t, url)
	const taskQueue = "archive-lease-test"
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(stubSelection, workflow.RegisterOptions{Name: archive.WorkflowType})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	// runAll starts a selection's workflow for each ID, each of runs runs, and waits for
	// every run to close and be listed by visibility.
	expected := 0
	runAll := func(runs int, ids ...string) {
		t.Helper()
		for _, id := range ids {
			if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "req-" + id, WorkflowID: workflows.WorkflowID(id),
				PositionTitle: "Kepala Dinas", Agency: "Pemerintah Kota Contoh", TimeZone: "TIME_ZONE_WIB",
				Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: taskQueue}, archive.WorkflowType, runs)
			if err != nil {
				t.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				t.Fatalf("workflow of %s: %v", id, err)
			}
			expected += runs
		}
		waitUntil(t, 30*time.Second, "visibility to list every closed run", func() bool {
			return len(closedRuns(t, c)) == expected
		})
	}

	// --- Two archivers side by side while runs close. ---
	loopCtx, stopLoops := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range 2 {
		a := archive.New(c, storetest.Open(t, url), logger, archive.Options{Interval: 100 * time.Millisecond, Lease: 2 * time.Second,
			Holder: "worker-" + strconv.Itoa(i)})
		wg.Go(func() { a.Run(loopCtx) })
	}
	began := time.Now()
	for batch := range 3 {
		var ids []string
		for i := range 3 {
			ids = append(ids, "arsip-"+strconv.Itoa(batch)+"-"+strconv.Itoa(i))
		}
		runAll(2, ids...)
		waitArchived(t, c, st, 30*time.Second)
	}
	// The pass that archived the last run moves the watermark when it completes.
	waitUntil(t, 10*time.Second, "the watermark at the latest close", func() bool {
		wm, err := st.GetArchiveWatermark(ctx, archive.WorkflowType)
		return err == nil && wm.CloseTime.Equal(latestArchived(t, st, closedRuns(t, c)))
	})
	stopLoops()
	wg.Wait()
	t.Logf("two archivers archived %d runs in %s", expected, time.Since(began).Round(time.Millisecond))
	checkArchivedOnce(t, c, st)

	// --- An archiver dies holding the lease; the other takes over when it expires. ---
	runAll(1, "arsip-late-0", "arsip-late-1")
	const lease = 2 * time.Second
	stA := storetest.Open(t, url)
	blocked := &blockingHistory{Temporal: c, entered: make(chan struct{}, 1)}
	a := archive.New(blocked, stA, logger, archive.Options{Lease: lease, Holder: "worker-a"})
	b := archive.New(c, st, logger, archive.Options{Lease: lease, Holder: "worker-b"})
	actx, cancelA := context.WithCancel(ctx)
	defer cancelA()
	aDone := make(chan error, 1)
	go func() {
		_, err := a.RunOnce(actx)
		aDone <- err
	}()
	select {
	case <-blocked.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("archiver a never read a history")
	}
	if _, err := b.RunOnce(ctx); !errors.Is(err, archive.ErrLeaseHeld) {
		t.Fatalf("b while a holds the lease: %v, want ErrLeaseHeld", err)
	}
	died := time.Now()
	if err := stA.Close(); err != nil {
		t.Fatal(err)
	}
	cancelA()
	<-aDone
	waitUntil(t, 10*lease, "b to take over", func() bool {
		_, err := b.RunOnce(ctx)
		if err != nil && !errors.Is(err, archive.ErrLeaseHeld) {
			t.Fatalf("b's pass: %v", err)
		}
		return err == nil
	})
	took := time.Since(died)
	t.Logf("b took over %s after a died holding the lease (%s)", took.Round(time.Millisecond), lease)
	if took < lease/2 {
		t.Errorf("b took over after %s, before a's lease could have expired", took)
	}
	checkArchivedOnce(t, c, st)
}

// blockingHistory is a Temporal whose first history read waits for the reader's context to
// end: an archiver stuck mid-pass, holding the lease.
type blockingHistory struct {
	archive.Temporal
	once    sync.Once
	entered chan struct{}
}

func (b *blockingHistory) GetWorkflowHistory(ctx context.Context, wfID, runID string, long bool, filter enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	first := false
	b.once.Do(func() { first = true })
	if !first {
		return b.Temporal.GetWorkflowHistory(ctx, wfID, runID, long, filter)
	}
	b.entered <- struct{}{}
	<-ctx.Done()
	return historytest.Failing(ctx.Err())
}

type closedRun struct{ selectionID, runID string }

// closedRuns are the closed runs visibility lists.
func closedRuns(t *testing.T, c client.Client) []closedRun {
	t.Helper()
	var (
		out   []closedRun
		token []byte
	)
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: archive.ClosedRunsQuery, NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetExecutions() {
			sel, _ := workflows.SelectionIDFromWorkflowID(e.GetExecution().GetWorkflowId())
			out = append(out, closedRun{sel, e.GetExecution().GetRunId()})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out
		}
	}
}

// waitArchived waits until every closed run visibility lists is archived.
func waitArchived(t *testing.T, c client.Client, st *store.Store, limit time.Duration) {
	t.Helper()
	waitUntil(t, limit, "every closed run archived", func() bool {
		for _, r := range closedRuns(t, c) {
			if ok, err := st.IsRunArchived(context.Background(), workflows.WorkflowID(r.selectionID), r.runID); err != nil || !ok {
				return false
			}
		}
		return true
	})
}

// latestArchived is the latest close time of the archived runs among runs.
func latestArchived(t *testing.T, st *store.Store, runs []closedRun) time.Time {
	t.Helper()
	var latest time.Time
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r.selectionID] {
			continue
		}
		seen[r.selectionID] = true
		archived, err := st.ListArchivedRuns(context.Background(), r.selectionID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range archived {
			if a.CloseTime.After(latest) {
				latest = a.CloseTime
			}
		}
	}
	return latest
}

// checkArchivedOnce checks that every closed run is archived once, with one HistoryArchived
// event, and that the watermark is at the latest close.
func checkArchivedOnce(t *testing.T, c client.Client, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	runs := closedRuns(t, c)
	perSelection := map[string]int{}
	for _, r := range runs {
		perSelection[r.selectionID]++
	}
	var latest time.Time
	for sel, n := range perSelection {
		archived, err := st.ListArchivedRuns(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		if len(archived) != n {
			t.Errorf("selection %s: %d runs archived, want %d", sel, len(archived), n)
		}
		for _, r := range archived {
			if r.CloseTime.After(latest) {
				latest = r.CloseTime
			}
		}
		page, err := st.ListAuditEvents(ctx, sel, store.ListOptions{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		for _, e := range page.Items {
			if e.Action == store.ActionHistoryArchived {
				events++
			}
		}
		if events != n {
			t.Errorf("selection %s: %d HistoryArchived events, want %d", sel, events, n)
		}
	}
	wm, err := st.GetArchiveWatermark(ctx, archive.WorkflowType)
	if err != nil || !wm.CloseTime.Equal(latest) {
		t.Errorf("watermark %+v (%v), want the latest close %s", wm, err, latest)
	}
	t.Logf("%d closed runs of %d selections, each archived once; watermark %s", len(runs), len(perSelection), wm.CloseTime.Format(time.RFC3339Nano))
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
