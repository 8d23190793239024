package archive

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
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
)

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// fakeTemporal lists runs page by page, as visibility does, and serves their histories.
type fakeTemporal struct {
	mu        sync.Mutex
	runs      []*workflowpb.WorkflowExecutionInfo
	histories map[string]*historypb.History // run ID -> history
	queries   []string
	fetched   []string
	listErr   error
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, req.GetQuery())
	if f.listErr != nil {
		return nil, f.listErr
	}
	from, _ := strconv.Atoi(string(req.GetNextPageToken()))
	// Two per page, so that paging is exercised.
	to := min(from+2, len(f.runs))
	resp := &workflowservice.ListWorkflowExecutionsResponse{Executions: f.runs[from:to]}
	if to < len(f.runs) {
		resp.NextPageToken = []byte(strconv.Itoa(to))
	}
	return resp, nil
}

func (f *fakeTemporal) GetWorkflowHistory(_ context.Context, _, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetched = append(f.fetched, runID)
	h, ok := f.histories[runID]
	if !ok {
		return historytest.NotFound()
	}
	return historytest.Events(h)
}

// fakeStore keeps archived runs by run ID, idempotently, as the store does.
type fakeStore struct {
	mu   sync.Mutex
	runs map[string]store.ArchivedRun
}

func (f *fakeStore) IsRunArchived(_ context.Context, _, runID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.runs[runID]
	return ok, nil
}

func (f *fakeStore) ArchiveRun(_ context.Context, r store.ArchivedRun, now time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.SelectionID == "unknown" {
		return false, store.ErrNotFound
	}
	if _, ok := f.runs[r.RunID]; ok {
		return false, nil
	}
	r.ArchivedAt = now
	f.runs[r.RunID] = r
	return true, nil
}

// history is a run's history from its start to the event that closed it.
func history(runID string, closeType enumspb.EventType) *historypb.History {
	return &historypb.History{Events: []*historypb.HistoryEvent{
		{EventId: 1, EventTime: timestamppb.New(t0), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
				WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{OriginalExecutionRunId: runID}}},
		{EventId: 2, EventTime: timestamppb.New(t0.Add(time.Hour)), EventType: closeType},
	}}
}

func execution(wfID, runID string, status enumspb.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
		Type:      &commonpb.WorkflowType{Name: WorkflowType}, Status: status, StartTime: timestamppb.New(t0),
	}
	if status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		info.CloseTime = timestamppb.New(t0.Add(time.Hour))
	}
	return info
}

func newArchiver(ft *fakeTemporal, fs *fakeStore) *Archiver {
	return New(ft, fs, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Hour, func() time.Time { return t0.Add(48 * time.Hour) })
}

func TestRunOnce(t *testing.T) {
	ft := &fakeTemporal{histories: map[string]*historypb.History{
		"completed": history("completed", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
		"continued": history("continued", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW),
		"failed":    history("failed", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED),
		"cancelled": history("cancelled", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED),
		"timedout":  history("timedout", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT),
		"stray":     history("stray", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
		"open":      {Events: history("open", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).GetEvents()[:1]},
	}}
	ft.runs = []*workflowpb.WorkflowExecutionInfo{
		execution("selection-sel-a", "completed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
		execution("selection-sel-b", "continued", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW),
		execution("selection-sel-b", "running", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
		execution("selection-sel-c", "failed", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED),
		execution("selection-sel-d", "cancelled", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED),
		execution("selection-sel-e", "timedout", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT),
		// Terminated after retention? No: deleted before it was archived.
		execution("selection-sel-f", "deleted", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED),
		// A workflow ID that names no selection is skipped.
		execution("restart-probe", "stray", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
		// Listed as closed, but its history does not end yet.
		execution("selection-sel-g", "open", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
	}
	fs := &fakeStore{runs: map[string]store.ArchivedRun{}}
	a := newArchiver(ft, fs)

	n, err := a.RunOnce(context.Background())
	if n != 5 {
		t.Errorf("archived %d runs, want 5", n)
	}
	var nf *serviceerror.NotFound
	if err == nil || !errors.As(err, &nf) {
		t.Errorf("err = %v, want the deleted run's NotFound among the failures", err)
	}
	for _, q := range ft.queries {
		if q != "WorkflowType = 'SelectionWorkflow' AND ExecutionStatus != 'Running'" {
			t.Errorf("visibility query %q", q)
		}
	}
	if len(ft.queries) != 5 {
		t.Errorf("%d visibility calls for %d runs two per page, want 5", len(ft.queries), len(ft.runs))
	}
	for _, id := range []string{"running", "deleted", "stray", "open"} {
		if _, ok := fs.runs[id]; ok {
			t.Errorf("run %s archived", id)
		}
	}
	got := fs.runs["continued"]
	if got.SelectionID != "sel-b" || got.WorkflowID != "selection-sel-b" || got.CloseStatus != "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW" ||
		!got.StartTime.Equal(t0) || !got.CloseTime.Equal(t0.Add(time.Hour)) || !got.ArchivedAt.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("archived run = %+v", got)
	}
	// The archived history is Temporal's standard JSON form, and it parses back whole.
	h, err := audit.ParseHistory(got.History)
	if err != nil || len(h.GetEvents()) != 2 || h.GetEvents()[1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		t.Errorf("archived history does not parse back: %v", err)
	}

	// A second pass archives nothing and reads no history it already holds.
	ft.fetched = nil
	n, _ = a.RunOnce(context.Background())
	if n != 0 {
		t.Errorf("second pass archived %d runs", n)
	}
	for _, id := range ft.fetched {
		if _, ok := fs.runs[id]; ok {
			t.Errorf("second pass fetched the history of archived run %s", id)
		}
	}
}

func TestRunOnceListFails(t *testing.T) {
	ft := &fakeTemporal{listErr: serviceerror.NewUnavailable("down")}
	if n, err := newArchiver(ft, &fakeStore{runs: map[string]store.ArchivedRun{}}).RunOnce(context.Background()); n != 0 || err == nil {
		t.Fatalf("RunOnce = %d, %v; want an error", n, err)
	}
}

// TestRun archives at once when started, and returns when its context ends.
func TestRun(t *testing.T) {
	ft := &fakeTemporal{
		runs:      []*workflowpb.WorkflowExecutionInfo{execution("selection-sel-a", "completed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)},
		histories: map[string]*historypb.History{"completed": history("completed", enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)},
	}
	fs := &fakeStore{runs: map[string]store.ArchivedRun{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		newArchiver(ft, fs).Run(ctx)
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ok, _ := fs.IsRunArchived(ctx, "selection-sel-a", "completed"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run was not archived at start")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
