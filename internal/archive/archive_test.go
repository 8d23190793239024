package archive

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/historytest"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
	"github.com/bkpsdm/seleksi/workflows"
)

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// fakeTemporal lists runs as Temporal's SQL visibility does (closed runs by close time,
// newest first, page by page, the CloseTime filter applied; runs not yet recorded are not
// listed) and serves their histories.
type fakeTemporal struct {
	mu        sync.Mutex
	runs      []*workflowpb.WorkflowExecutionInfo
	hidden    map[string]bool               // run ID -> visibility has not recorded it yet
	histories map[string]*historypb.History // run ID -> history
	queries   []string
	fetched   map[string]int // run ID -> history reads
	// blockOnce makes the first read of a run's history wait until the channel closes or
	// the reader's context ends; entered receives the run ID when it starts waiting.
	blockOnce map[string]chan struct{}
	entered   chan string
	listErr   error
}

func newFakeTemporal() *fakeTemporal {
	return &fakeTemporal{hidden: map[string]bool{}, histories: map[string]*historypb.History{}, fetched: map[string]int{},
		blockOnce: map[string]chan struct{}{}, entered: make(chan string, 10)}
}

// add makes a closed run of a selection's workflow, with its history.
func (f *fakeTemporal) add(selectionID, runID string, status enumspb.WorkflowExecutionStatus, closed time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, execution(workflows.WorkflowID(selectionID), runID, status, closed))
	f.histories[runID] = history(runID, closeEvent(status), closed)
}

func (f *fakeTemporal) show(runID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.hidden, runID)
}

func (f *fakeTemporal) reads(runID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetched[runID]
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, req.GetQuery())
	if f.listErr != nil {
		return nil, f.listErr
	}
	rest, ok := strings.CutPrefix(req.GetQuery(), ClosedRunsQuery)
	if !ok {
		return nil, serviceerror.NewInvalidArgument("unexpected query " + req.GetQuery())
	}
	var since time.Time
	if rest != "" {
		v, ok := strings.CutPrefix(rest, " AND CloseTime > '")
		if !ok || !strings.HasSuffix(v, "'") {
			return nil, serviceerror.NewInvalidArgument("unexpected filter " + rest)
		}
		var err error
		if since, err = time.Parse(time.RFC3339Nano, strings.TrimSuffix(v, "'")); err != nil {
			return nil, serviceerror.NewInvalidArgument(err.Error())
		}
	}
	var listed []*workflowpb.WorkflowExecutionInfo
	for _, r := range f.runs {
		if !f.hidden[r.GetExecution().GetRunId()] && (since.IsZero() || r.GetCloseTime().AsTime().After(since)) {
			listed = append(listed, r)
		}
	}
	slices.SortStableFunc(listed, func(a, b *workflowpb.WorkflowExecutionInfo) int {
		return cmp.Or(b.GetCloseTime().AsTime().Compare(a.GetCloseTime().AsTime()), strings.Compare(a.GetExecution().GetRunId(), b.GetExecution().GetRunId()))
	})
	from, _ := strconv.Atoi(string(req.GetNextPageToken()))
	// Two per page, so that paging is exercised.
	to := min(from+2, len(listed))
	resp := &workflowservice.ListWorkflowExecutionsResponse{Executions: listed[min(from, to):to]}
	if to < len(listed) {
		resp.NextPageToken = []byte(strconv.Itoa(to))
	}
	return resp, nil
}

func (f *fakeTemporal) GetWorkflowHistory(ctx context.Context, _, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	f.mu.Lock()
	f.fetched[runID]++
	block := f.blockOnce[runID]
	delete(f.blockOnce, runID)
	h, ok := f.histories[runID]
	f.mu.Unlock()
	if block != nil {
		f.entered <- runID
		select {
		case <-block:
		case <-ctx.Done():
			return historytest.Failing(ctx.Err())
		}
	}
	if !ok {
		return historytest.NotFound()
	}
	return historytest.Events(h)
}

// history is a run's history from its start to the event that closed it.
func history(runID string, closeType enumspb.EventType, closed time.Time) *historypb.History {
	return &historypb.History{Events: []*historypb.HistoryEvent{
		{EventId: 1, EventTime: timestamppb.New(t0), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
				WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{OriginalExecutionRunId: runID}}},
		{EventId: 2, EventTime: timestamppb.New(closed), EventType: closeType},
	}}
}

func closeEvent(st enumspb.WorkflowExecutionStatus) enumspb.EventType {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT
	}
	return enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
}

func execution(wfID, runID string, status enumspb.WorkflowExecutionStatus, closed time.Time) *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
		Type:      &commonpb.WorkflowType{Name: WorkflowType}, Status: status, StartTime: timestamppb.New(t0),
	}
	if status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		info.CloseTime = timestamppb.New(closed)
	}
	return info
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// createSelections stores the selections the runs belong to.
func createSelections(t *testing.T, st *store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := st.CreateSelection(context.Background(), store.NewSelection{ID: id, RequestID: "req-" + id, WorkflowID: workflows.WorkflowID(id),
			PositionTitle: "Kepala Dinas", Agency: "Pemerintah Kota Contoh", TimeZone: "TIME_ZONE_WIB",
			Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0}); err != nil {
			t.Fatalf("create selection %s: %v", id, err)
		}
	}
}

// archivedOnce checks that each run is archived, with one HistoryArchived event each in its
// selection's audit chain.
func archivedOnce(t *testing.T, st *store.Store, runsBySelection map[string][]string) {
	t.Helper()
	ctx := context.Background()
	for sel, runIDs := range runsBySelection {
		runs, err := st.ListArchivedRuns(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, 0, len(runs))
		for _, r := range runs {
			got = append(got, r.RunID)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(runIDs))
		if !slices.Equal(got, want) {
			t.Errorf("selection %s: archived runs %v, want %v", sel, got, want)
		}
		page, err := st.ListAuditEvents(ctx, sel, store.ListOptions{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		events := map[string]int{}
		for _, e := range page.Items {
			if e.Action == store.ActionHistoryArchived {
				events[e.Target]++
			}
		}
		for _, id := range runIDs {
			if n := events[store.ArchivedRunTarget(sel, id)]; n != 1 {
				t.Errorf("selection %s run %s: %d HistoryArchived events, want 1", sel, id, n)
			}
		}
		if rep, err := st.VerifyChain(ctx, sel); err != nil || !rep.OK {
			t.Errorf("selection %s: chain %+v, %v", sel, rep, err)
		}
	}
}

func TestRunOnce(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, d.URL(t))
			createSelections(t, st, "sel-a", "sel-b", "sel-c", "sel-d", "sel-e", "sel-f", "sel-g")
			ft := newFakeTemporal()
			at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
			ft.add("sel-a", "completed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(1))
			ft.add("sel-b", "continued", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, at(2))
			ft.add("sel-c", "failed", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, at(3))
			ft.add("sel-d", "cancelled", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, at(4))
			ft.add("sel-e", "timedout", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, at(5))
			// Deleted before it was archived: too late, and it does not hold the watermark.
			ft.add("sel-f", "deleted", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, at(6))
			delete(ft.histories, "deleted")
			// A workflow ID that names no selection is skipped.
			ft.runs = append(ft.runs, execution("restart-probe", "stray", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(7)))
			ft.histories["stray"] = history("stray", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, at(7))
			// A run of a selection the store does not know: it never will, so the run does not
			// hold the watermark.
			ft.add("sel-unknown", "orphan", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(7).Add(30*time.Second))
			// Listed as closed, but its history does not end yet: it holds the watermark.
			ft.add("sel-g", "open", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(8))
			ft.histories["open"].Events = ft.histories["open"].Events[:1]
			clk := &clock{t: t0.Add(48 * time.Hour)}
			a := New(ft, st, discard(), Options{Now: clk.now})

			n, err := a.RunOnce(ctx)
			if n != 5 {
				t.Errorf("archived %d runs, want 5", n)
			}
			var nf *serviceerror.NotFound
			if err == nil || !errors.As(err, &nf) || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("err = %v, want the deleted run's and the orphan's NotFound among the failures", err)
			}
			// The first pass lists every closed run: there is no watermark yet.
			if len(ft.queries) != 5 || ft.queries[0] != "WorkflowType = 'SelectionWorkflow' AND ExecutionStatus != 'Running'" {
				t.Errorf("visibility calls %q, want 5 of every closed run (two per page)", ft.queries)
			}
			archivedOnce(t, st, map[string][]string{"sel-a": {"completed"}, "sel-b": {"continued"}, "sel-c": {"failed"},
				"sel-d": {"cancelled"}, "sel-e": {"timedout"}, "sel-f": nil, "sel-g": nil})
			runs, err := st.ListArchivedRuns(ctx, "sel-b")
			if err != nil || len(runs) != 1 {
				t.Fatalf("archived runs of sel-b: %v, %v", runs, err)
			}
			got := runs[0]
			if got.WorkflowID != "selection-sel-b" || got.CloseStatus != "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW" ||
				!got.StartTime.Equal(t0) || !got.CloseTime.Equal(at(2)) || !got.ArchivedAt.Equal(clk.now()) {
				t.Errorf("archived run = %+v", got)
			}
			// The archived history is Temporal's standard JSON form, and it parses back whole.
			b, err := st.ArchivedHistory(ctx, "sel-b", "continued")
			if err != nil {
				t.Fatal(err)
			}
			h, err := audit.ParseHistory(b)
			if err != nil || len(h.GetEvents()) != 2 || h.GetEvents()[1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
				t.Errorf("archived history does not parse back: %v", err)
			}
			// The run whose history is not whole yet holds the watermark just before it.
			wm, err := st.GetArchiveWatermark(ctx, WorkflowType)
			if err != nil || !wm.CloseTime.Equal(at(8).Add(-time.Microsecond)) || !wm.FullScanAt.Equal(clk.now()) || !wm.PassAt.Equal(clk.now()) {
				t.Errorf("watermark %+v (%v), want just before %s, full scan and pass at %s", wm, err, at(8), clk.now())
			}
			if l, err := st.GetLease(ctx, LeaseName); err != nil || l.Holder != "" {
				t.Errorf("lease after the pass: %+v, %v; want released", l, err)
			}

			// A second pass lists from the watermark less the overlap, archives nothing, and
			// reads no history it already holds.
			clk.advance(time.Minute)
			ft.queries, ft.fetched = nil, map[string]int{}
			n, _ = a.RunOnce(ctx)
			if n != 0 {
				t.Errorf("second pass archived %d runs", n)
			}
			if want := ClosedSinceQuery(at(8).Add(-time.Microsecond - DefaultOverlap)); len(ft.queries) == 0 || ft.queries[0] != want {
				t.Errorf("second pass queries %q, want %q", ft.queries, want)
			}
			for id := range ft.fetched {
				if id != "deleted" && id != "open" && id != "orphan" {
					t.Errorf("second pass read the history of %s", id)
				}
			}
		})
	}
}

func TestRunOnceListFails(t *testing.T) {
	st := storetest.Open(t, storetest.Drivers()[0].URL(t))
	ft := newFakeTemporal()
	ft.listErr = serviceerror.NewUnavailable("down")
	if n, err := New(ft, st, discard(), Options{}).RunOnce(context.Background()); n != 0 || err == nil {
		t.Fatalf("RunOnce = %d, %v; want an error", n, err)
	}
	if wm, err := st.GetArchiveWatermark(context.Background(), WorkflowType); err != nil || !wm.PassAt.IsZero() {
		t.Fatalf("a failed listing recorded a pass: %+v, %v", wm, err)
	}
}

// TestWatermark follows the watermark over passes: each lists only what closed since it
// (less the overlap), a run visibility records late within the overlap is archived, one
// recorded later still waits for the next full scan, and a run that fails holds the
// watermark until it is archived.
func TestWatermark(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, d.URL(t))
			createSelections(t, st, "sel-1", "sel-2")
			ft := newFakeTemporal()
			at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
			clk := &clock{t: at(10)}
			const overlap = 10 * time.Minute
			a := New(ft, st, discard(), Options{Now: clk.now, Overlap: overlap, FullScanEvery: 24 * time.Hour})
			pass := func(step string, wantArchived int, wantErr bool, wantQuery string, wantWatermark time.Time) {
				t.Helper()
				ft.queries = nil
				n, err := a.RunOnce(ctx)
				if (err != nil) != wantErr || n != wantArchived {
					t.Fatalf("%s: archived %d (error %v), want %d (an error: %v)", step, n, err, wantArchived, wantErr)
				}
				if len(ft.queries) == 0 || ft.queries[0] != wantQuery {
					t.Fatalf("%s: queries %q, want %q", step, ft.queries, wantQuery)
				}
				wm, err := st.GetArchiveWatermark(ctx, WorkflowType)
				if err != nil || !wm.CloseTime.Equal(wantWatermark) || !wm.PassAt.Equal(clk.now()) {
					t.Fatalf("%s: watermark %+v (%v), want %s at %s", step, wm, err, wantWatermark, clk.now())
				}
				clk.advance(time.Minute)
			}

			ft.add("sel-1", "r1", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, at(1))
			ft.add("sel-1", "r2", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(2))
			pass("first pass", 2, false, ClosedRunsQuery, at(2))

			// r4 closed before r3, but visibility records it only later.
			ft.add("sel-2", "r3", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, at(12))
			ft.add("sel-2", "r4", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, at(11))
			ft.hidden["r4"] = true
			pass("r3 closed", 1, false, ClosedSinceQuery(at(2).Add(-overlap)), at(12))
			ft.show("r4")
			pass("r4 recorded late, within the overlap", 1, false, ClosedSinceQuery(at(12).Add(-overlap)), at(12))

			// r5 is recorded later than the overlap allows: the next full scan finds it.
			ft.add("sel-2", "r5", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, at(1))
			ft.hidden["r5"] = true
			pass("r5 not recorded yet", 0, false, ClosedSinceQuery(at(12).Add(-overlap)), at(12))
			ft.show("r5")
			pass("r5 recorded, before the overlap", 0, false, ClosedSinceQuery(at(12).Add(-overlap)), at(12))
			clk.advance(24 * time.Hour)
			pass("the daily full scan", 1, false, ClosedRunsQuery, at(12))

			// r6's history cannot be read whole yet: it holds the watermark; r7 closed after it
			// is archived all the same.
			ft.add("sel-1", "r6", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(60))
			ft.add("sel-2", "r7", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, at(70))
			whole := ft.histories["r6"].Events
			ft.histories["r6"].Events = whole[:1]
			pass("r6 fails", 1, true, ClosedSinceQuery(at(12).Add(-overlap)), at(60).Add(-time.Microsecond))
			// Still failing: the watermark stays (r7 is listed again, and only looked up).
			pass("r6 fails again", 0, true, ClosedSinceQuery(at(60).Add(-time.Microsecond-overlap)), at(60).Add(-time.Microsecond))
			ft.histories["r6"].Events = whole
			pass("r6 archived", 1, false, ClosedSinceQuery(at(60).Add(-time.Microsecond-overlap)), at(70))

			archivedOnce(t, st, map[string][]string{"sel-1": {"r1", "r2", "r6"}, "sel-2": {"r3", "r4", "r5", "r7"}})
			for _, id := range []string{"r1", "r2", "r3", "r4", "r5", "r7"} {
				if n := ft.reads(id); n != 1 {
					t.Errorf("history of %s read %d times, want once", id, n)
				}
			}
		})
	}
}

// TestTwoArchivers runs two archivers side by side, as two workers do, each on its own
// connection pool to the same database, while runs keep closing: each run is archived once
// (and its history read once: passes never overlap), and the watermark follows the runs.
func TestTwoArchivers(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			url := d.URL(t)
			st := storetest.Open(t, url)
			var sels []string
			for i := range 10 {
				sels = append(sels, "sel-"+strconv.Itoa(i))
			}
			createSelections(t, st, sels...)
			ft := newFakeTemporal()
			var wg sync.WaitGroup
			defer wg.Wait()
			for i := range 2 {
				a := New(ft, storetest.Open(t, url), discard(), Options{Interval: 50 * time.Millisecond, Lease: time.Second,
					Holder: "worker-" + strconv.Itoa(i)})
				wg.Go(func() { a.Run(ctx) })
			}
			want := map[string][]string{}
			var all []string
			closed := time.Now().UTC().Add(-time.Hour)
			for batch := range 3 {
				for i := range 10 {
					// Each selection continues as new once per batch; the last run completes.
					sel, id := sels[i], "b"+strconv.Itoa(batch)+"-"+sels[i]
					status := enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
					if batch == 2 {
						status = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
					}
					closed = closed.Add(time.Second)
					ft.add(sel, id, status, closed)
					want[sel] = append(want[sel], id)
					all = append(all, id)
				}
				waitFor(t, 20*time.Second, "batch "+strconv.Itoa(batch)+" archived", func() bool {
					for _, id := range all {
						if ok, _ := st.IsRunArchived(ctx, ft.workflowOf(id), id); !ok {
							return false
						}
					}
					return true
				})
				waitFor(t, 5*time.Second, "the watermark at the batch's last close", func() bool {
					wm, err := st.GetArchiveWatermark(ctx, WorkflowType)
					return err == nil && wm.CloseTime.Equal(closed.Truncate(time.Microsecond))
				})
			}
			cancel()
			wg.Wait()
			archivedOnce(t, st, want)
			for _, id := range all {
				if n := ft.reads(id); n != 1 {
					t.Errorf("history of %s read %d times, want once", id, n)
				}
			}
			if l, err := st.GetLease(context.Background(), LeaseName); err != nil || l.Holder != "" {
				t.Errorf("lease after both stopped: %+v, %v; want released", l, err)
			}
		})
	}
}

func (f *fakeTemporal) workflowOf(runID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.runs {
		if r.GetExecution().GetRunId() == runID {
			return r.GetExecution().GetWorkflowId()
		}
	}
	return ""
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestLeaseTakeover: an archiver that dies while it holds the lease lets the other take over:
// at once when it stopped (its context ended; it releases the lease), after the lease
// expires when it vanished (its connection closed; it cannot). Every run is archived once.
func TestLeaseTakeover(t *testing.T) {
	const lease = time.Second
	for _, d := range storetest.Drivers() {
		for _, death := range []string{"context cancelled", "connection closed"} {
			t.Run(d.Name+"/"+death, func(t *testing.T) {
				ctx := context.Background()
				url := d.URL(t)
				st := storetest.Open(t, url)
				createSelections(t, st, "sel-1", "sel-2")
				ft := newFakeTemporal()
				closed := time.Now().UTC().Add(-time.Minute)
				ft.add("sel-1", "first", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, closed)
				ft.add("sel-1", "slow", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, closed.Add(time.Second))
				ft.add("sel-2", "other", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, closed.Add(2*time.Second))
				release := make(chan struct{})
				defer close(release)
				ft.blockOnce["slow"] = release

				stA := storetest.Open(t, url)
				a := New(ft, stA, discard(), Options{Lease: lease, Holder: "worker-a"})
				b := New(ft, st, discard(), Options{Lease: lease, Holder: "worker-b"})
				actx, cancelA := context.WithCancel(ctx)
				defer cancelA()
				aDone := make(chan error, 1)
				go func() {
					_, err := a.RunOnce(actx)
					aDone <- err
				}()
				select {
				case <-ft.entered:
				case <-time.After(10 * time.Second):
					t.Fatal("archiver a never reached the slow run")
				}
				if _, err := b.RunOnce(ctx); !errors.Is(err, ErrLeaseHeld) {
					t.Fatalf("b while a holds the lease: %v, want ErrLeaseHeld", err)
				}

				died := time.Now()
				switch death {
				case "context cancelled":
					cancelA()
				case "connection closed":
					if err := stA.Close(); err != nil {
						t.Fatal(err)
					}
					cancelA() // unblocks the history read; a's store is gone all the same
				}
				if err := <-aDone; err == nil {
					t.Fatal("a's pass succeeded after it died")
				}
				var n int
				var err error
				waitFor(t, 10*lease, "b to take over", func() bool {
					n, err = b.RunOnce(ctx)
					return !errors.Is(err, ErrLeaseHeld)
				})
				took := time.Since(died)
				if err != nil || n != 2 {
					t.Fatalf("b's pass: archived %d (%v), want slow and first (a archived other before it died)", n, err)
				}
				switch death {
				case "context cancelled":
					if took > lease/2 {
						t.Errorf("b took over %s after a stopped, want at once (a releases the lease)", took)
					}
				case "connection closed":
					if took < lease/2 {
						t.Errorf("b took over %s after a vanished, want about the lease's %s", took, lease)
					}
				}
				archivedOnce(t, st, map[string][]string{"sel-1": {"first", "slow"}, "sel-2": {"other"}})
				wm, err := st.GetArchiveWatermark(ctx, WorkflowType)
				if err != nil || !wm.CloseTime.Equal(closed.Add(2*time.Second).Truncate(time.Microsecond)) {
					t.Errorf("watermark %+v (%v), want the last close", wm, err)
				}
				l, err := st.GetLease(ctx, LeaseName)
				if err != nil || l.Holder != "" || l.Token != 2 {
					t.Errorf("lease %+v (%v), want released after a second holder", l, err)
				}
			})
		}
	}
}

// TestRun archives at once when started, and returns when its context ends.
func TestRun(t *testing.T) {
	st := storetest.Open(t, storetest.Drivers()[0].URL(t))
	createSelections(t, st, "sel-a")
	ft := newFakeTemporal()
	ft.add("sel-a", "completed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, t0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(ft, st, discard(), Options{Interval: time.Hour}).Run(ctx)
	}()
	waitFor(t, 5*time.Second, "the run archived at start", func() bool {
		ok, _ := st.IsRunArchived(ctx, "selection-sel-a", "completed")
		return ok
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
