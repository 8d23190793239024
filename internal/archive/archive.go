// Package archive copies every closed run of the selection workflows from Temporal into the
// store before Temporal's retention deletes it. Temporal keeps a closed run's history only
// for the namespace's retention period (-temporal-retention); audits come years later, so
// export, replay and verification must be able to work from the archive alone.
//
// The archiver finds closed runs through visibility, which lists a closed run until its
// retention passes: archiving every interval that is much shorter than the retention copies
// each run while Temporal still has it. Visibility only lists runs still within retention,
// so one pass reads a bounded set whatever the age of the deployment.
package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Temporal is the part of the Temporal client the archiver reads: the visibility listing of
// closed runs, and each run's history.
type Temporal interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID string, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// Store is where the archiver keeps the runs.
type Store interface {
	IsRunArchived(ctx context.Context, workflowID, runID string) (bool, error)
	ArchiveRun(ctx context.Context, run store.ArchivedRun, now time.Time) (bool, error)
}

// WorkflowType is the workflow type whose runs are archived: the selection workflow, as
// the worker registers it (by its function's name).
const WorkflowType = "SelectionWorkflow"

// ClosedRunsQuery is the visibility query for every closed run of the selection workflows:
// completed, continued as new, failed, terminated, cancelled and timed out alike.
const ClosedRunsQuery = "WorkflowType = '" + WorkflowType + "' AND ExecutionStatus != 'Running'"

// pageSize is how many runs one visibility call lists.
const pageSize = 100

// Archiver archives closed runs.
type Archiver struct {
	temporal Temporal
	store    Store
	logger   *slog.Logger
	interval time.Duration
	now      func() time.Time
}

// New builds an archiver that runs every interval. now defaults to time.Now.
func New(t Temporal, st Store, logger *slog.Logger, interval time.Duration, now func() time.Time) *Archiver {
	if now == nil {
		now = time.Now
	}
	return &Archiver{temporal: t, store: st, logger: logger, interval: interval, now: now}
}

// Run archives once at once and then every interval, until ctx ends. A failed pass is logged
// and retried at the next tick: a run not archived now is still listed then.
func (a *Archiver) Run(ctx context.Context) {
	ticker := time.NewTicker(a.interval)
	defer ticker.Stop()
	for {
		if n, err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			a.logger.ErrorContext(ctx, "archiving closed workflow runs failed", "error", err, "archived", n)
		} else if n > 0 {
			a.logger.InfoContext(ctx, "archived closed workflow runs", "runs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// RunOnce archives every closed run visibility lists that the store does not hold yet, and
// reports how many it archived. A run that cannot be archived (its selection is unknown to
// the store, its history is gone or incomplete) does not stop the others; the failures are
// returned joined.
func (a *Archiver) RunOnce(ctx context.Context) (int, error) {
	var (
		archived int
		errs     []error
		token    []byte
	)
	for {
		resp, err := a.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: pageSize, NextPageToken: token, Query: ClosedRunsQuery})
		if err != nil {
			return archived, errors.Join(append(errs, fmt.Errorf("archive: list closed runs: %w", err))...)
		}
		for _, e := range resp.GetExecutions() {
			if err := ctx.Err(); err != nil {
				return archived, errors.Join(append(errs, err)...)
			}
			ok, err := a.archive(ctx, e)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				archived++
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return archived, errors.Join(errs...)
		}
	}
}

// archive archives one listed run unless it is archived already or still running.
func (a *Archiver) archive(ctx context.Context, e *workflowpb.WorkflowExecutionInfo) (bool, error) {
	wfID, runID := e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()
	if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		return false, nil
	}
	selectionID, ok := workflows.SelectionIDFromWorkflowID(wfID)
	if !ok {
		// Not a selection's workflow, though of its type: nothing in the store to attach it to.
		a.logger.WarnContext(ctx, "archive: skipping a run whose workflow ID names no selection", "workflow_id", wfID, "run_id", runID)
		return false, nil
	}
	done, err := a.store.IsRunArchived(ctx, wfID, runID)
	if err != nil {
		return false, fmt.Errorf("archive %s/%s: %w", wfID, runID, err)
	}
	if done {
		return false, nil
	}
	h, err := a.history(ctx, wfID, runID)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			// Deleted by retention (or by an operator) before it could be archived: too
			// late for this run, and loud, because an audit of it will now fail.
			a.logger.ErrorContext(ctx, "archive: a closed run's history is gone from Temporal before it was archived",
				"workflow_id", wfID, "run_id", runID)
		}
		return false, fmt.Errorf("archive %s/%s: %w", wfID, runID, err)
	}
	b, err := audit.MarshalHistory(h)
	if err != nil {
		return false, fmt.Errorf("archive %s/%s: encode the history: %w", wfID, runID, err)
	}
	events := h.GetEvents()
	closeTime := e.GetCloseTime().AsTime()
	if e.GetCloseTime() == nil {
		closeTime = events[len(events)-1].GetEventTime().AsTime()
	}
	startTime := events[0].GetEventTime().AsTime()
	created, err := a.store.ArchiveRun(ctx, store.ArchivedRun{
		SelectionID: selectionID, WorkflowID: wfID, RunID: runID,
		StartTime: startTime, CloseTime: closeTime, CloseStatus: statusName(e.GetStatus()), History: b,
	}, a.now())
	if err != nil {
		return false, fmt.Errorf("archive %s/%s: %w", wfID, runID, err)
	}
	return created, nil
}

// history reads a closed run's whole history and checks that it is whole: it starts with
// WorkflowExecutionStarted and ends with the event that closed the run. Visibility may list
// a run as closed a moment before its history can be read to the end.
func (a *Archiver) history(ctx context.Context, wfID, runID string) (*historypb.History, error) {
	it := a.temporal.GetWorkflowHistory(ctx, wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, e)
	}
	ev := h.GetEvents()
	if len(ev) == 0 || ev[0].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
		return nil, errors.New("the history does not start with WorkflowExecutionStarted")
	}
	if !closing(ev[len(ev)-1].GetEventType()) {
		return nil, fmt.Errorf("the history ends with %s, not with the run's close", ev[len(ev)-1].GetEventType())
	}
	return h, nil
}

// closing reports whether an event type closes a run.
func closing(t enumspb.EventType) bool {
	switch t {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		return true
	}
	return false
}

// statusName is a run's status by its proto name (WORKFLOW_EXECUTION_STATUS_COMPLETED), which
// stays stable where the Go enum's String() is Temporal's short form.
func statusName(st enumspb.WorkflowExecutionStatus) string {
	if name, ok := enumspb.WorkflowExecutionStatus_name[int32(st)]; ok {
		return name
	}
	return st.String()
}
