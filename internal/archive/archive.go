// Package archive copies every closed run of the selection workflows from Temporal into the
// store before Temporal's retention deletes it. Temporal keeps a closed run's history only
// for the namespace's retention period (-temporal-retention); audits come years later, so
// export, replay and verification must be able to work from the archive alone.
//
// The archiver finds closed runs through visibility. It keeps a watermark in the store, the
// close time up to which every listed closed run is archived, and each pass lists only the
// runs closed after it, less an overlap: visibility records a run a moment after it closes
// (longer under load), and runs close out of order, so a run closed just before the
// watermark may be listed only after it moved. Archiving is idempotent per run, so a run
// listed again in the overlap costs one lookup. Now and then (Options.FullScanEvery) a pass
// lists every closed run within the retention all the same, which catches a run that
// visibility recorded later than the overlap allows.
//
// Several workers run an archiver each; a lease in the store (store.AcquireLease) lets one
// pass run at a time, and a holder that dies frees it when the lease expires. Even two
// passes at once would archive each run once (the store is idempotent per run, under the
// selection's lock); the lease saves the duplicate work and keeps the watermark consistent.
package archive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
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

// Store is where the archiver keeps the runs, its lease and its watermark.
type Store interface {
	IsRunArchived(ctx context.Context, workflowID, runID string) (bool, error)
	ArchiveRun(ctx context.Context, run store.ArchivedRun, now time.Time) (bool, error)
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (store.Lease, bool, error)
	ReleaseLease(ctx context.Context, name, holder string, now time.Time) error
	GetArchiveWatermark(ctx context.Context, name string) (store.ArchiveWatermark, error)
	AdvanceArchiveWatermark(ctx context.Context, name string, lease store.Lease, w store.ArchiveWatermark, now time.Time) error
}

// WorkflowType is the workflow type whose runs are archived: the selection workflow, as
// the worker registers it (by its function's name). It also names the archive's watermark.
const WorkflowType = "SelectionWorkflow"

// LeaseName is the lease an archiver holds while it archives.
const LeaseName = "history-archiver"

// ClosedRunsQuery is the visibility query for every closed run of the selection workflows:
// completed, continued as new, failed, terminated, cancelled and timed out alike.
const ClosedRunsQuery = "WorkflowType = '" + WorkflowType + "' AND ExecutionStatus != 'Running'"

// ClosedSinceQuery lists the closed runs whose close time is after since. The time is the
// only part not fixed, and it is formatted here from a time.Time, never taken from input.
// No ORDER BY: Temporal's SQL visibility refuses one, and lists closed runs by close time,
// newest first (Elasticsearch does the same by default); a pass does not depend on the order.
func ClosedSinceQuery(since time.Time) string {
	return ClosedRunsQuery + " AND CloseTime > '" + since.UTC().Format(time.RFC3339Nano) + "'"
}

// pageSize is how many runs one visibility call lists.
const pageSize = 100

// Defaults of Options.
const (
	DefaultInterval      = 30 * time.Second
	DefaultLease         = 2 * time.Minute
	DefaultOverlap       = 10 * time.Minute
	DefaultFullScanEvery = 24 * time.Hour
)

// ErrLeaseHeld is what a pass returns when another archiver holds the lease.
var ErrLeaseHeld = errors.New("archive: another archiver holds the lease")

// Options configure an Archiver; zero fields take the defaults.
type Options struct {
	// Interval is the time between passes.
	Interval time.Duration
	// Lease is how long a pass holds the lease without renewing it (it renews every third of
	// it): the longest a dead holder keeps the others waiting.
	Lease time.Duration
	// Overlap is how far before the watermark a pass lists again: more than visibility
	// ever lags behind a run's close.
	Overlap time.Duration
	// FullScanEvery is how often a pass lists every closed run within the retention.
	FullScanEvery time.Duration
	// Holder names this archiver in the lease; by default the host name, the process ID and
	// a random suffix, so that operators see which process holds it.
	Holder string
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.FullScanEvery <= 0 {
		o.FullScanEvery = DefaultFullScanEvery
	}
	if o.Holder == "" {
		o.Holder = defaultHolder()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// defaultHolder is the host name, the process ID and a random suffix (two archivers in one
// process, as in tests, are two holders).
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "seleksid"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Archiver archives closed runs.
type Archiver struct {
	temporal Temporal
	store    Store
	logger   *slog.Logger
	opts     Options
	// mu serializes this archiver's passes (the loop's and RunOnce's), which share its
	// holder name and so would both hold the lease.
	mu sync.Mutex
}

// New builds an archiver.
func New(t Temporal, st Store, logger *slog.Logger, opts Options) *Archiver {
	return &Archiver{temporal: t, store: st, logger: logger, opts: opts.withDefaults()}
}

// Holder is the name this archiver takes the lease under.
func (a *Archiver) Holder() string { return a.opts.Holder }

// Run archives at once and then every interval, until ctx ends. A pass runs only under the
// lease: while another archiver holds it, this one waits for the next tick. A failed pass is
// logged and retried at the next tick: the watermark does not move past a run not archived,
// so it is listed again then. A pass also waits when another completed less than half an
// interval ago, so that N workers cost about what one does.
func (a *Archiver) Run(ctx context.Context) {
	ticker := time.NewTicker(a.opts.Interval)
	defer ticker.Stop()
	for {
		n, err := a.pass(ctx, false)
		switch {
		case errors.Is(err, ErrLeaseHeld):
			a.logger.DebugContext(ctx, "archive pass skipped", "reason", err)
		case err != nil && ctx.Err() == nil:
			a.logger.ErrorContext(ctx, "archiving closed workflow runs failed", "error", err, "archived", n)
		case n > 0:
			a.logger.InfoContext(ctx, "archived closed workflow runs", "runs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// RunOnce runs one pass at once (waiting for this archiver's own pass in progress, if any)
// and reports how many runs it archived: for operators before maintenance, and for tests.
// It is ErrLeaseHeld when another archiver holds the lease.
func (a *Archiver) RunOnce(ctx context.Context) (int, error) {
	return a.pass(ctx, true)
}

// pass takes the lease, archives what visibility lists since the watermark (everything, on a
// full scan), advances the watermark and releases the lease. Unless force is set, a pass
// that finds the last one completed less than half an interval ago does nothing.
func (a *Archiver) pass(ctx context.Context, force bool) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lease, held, err := a.store.AcquireLease(ctx, LeaseName, a.opts.Holder, a.opts.Now(), a.opts.Lease)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while acquiring: the database may have committed the acquisition
			// after the client gave up on it, so release it (a no-op for a lease this
			// archiver does not hold) rather than leave the others waiting for its expiry.
			a.release(ctx)
		}
		return 0, fmt.Errorf("archive: %w", err)
	}
	if !held {
		return 0, fmt.Errorf("%w (%s, until %s)", ErrLeaseHeld, lease.Holder, lease.ExpiresAt.Format(time.RFC3339))
	}
	passCtx, cancel := context.WithCancelCause(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		a.renew(passCtx, cancel, lease)
	}()
	defer func() {
		cancel(nil)
		<-renewed
		a.release(ctx)
	}()

	n, err := a.archiveSince(passCtx, lease, force)
	if cause := context.Cause(passCtx); err != nil && cause != nil && ctx.Err() == nil {
		// The pass was cut short because the lease was lost: say so, not "context canceled".
		err = errors.Join(err, cause)
	}
	return n, err
}

// release gives the lease up even when ctx has ended (a graceful stop), so that another
// worker need not wait for it to expire; a holder that cannot reach the store any more
// leaves that to the expiry.
func (a *Archiver) release(ctx context.Context) {
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if err := a.store.ReleaseLease(rctx, LeaseName, a.opts.Holder, a.opts.Now()); err != nil {
		a.logger.WarnContext(ctx, "archive: release the lease", "error", err)
	}
}

// renew extends the lease every third of its length until ctx ends, and cancels the pass
// (with the reason) once the lease is lost, or cannot be renewed before it would expire.
func (a *Archiver) renew(ctx context.Context, cancel context.CancelCauseFunc, lease store.Lease) {
	t := time.NewTicker(a.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l, held, err := a.store.AcquireLease(ctx, LeaseName, a.opts.Holder, a.opts.Now(), a.opts.Lease)
		switch {
		case err == nil && held && l.Token == lease.Token:
			lease = l
		case err == nil:
			cancel(fmt.Errorf("archive: lease lost to %s: %w", l.Holder, store.ErrLeaseLost))
			return
		case ctx.Err() != nil:
			return
		case !a.opts.Now().Before(lease.ExpiresAt):
			cancel(fmt.Errorf("archive: lease expired unrenewed: %w", err))
			return
		default:
			a.logger.WarnContext(ctx, "archive: renew the lease", "error", err)
		}
	}
}

// archiveSince is one pass under lease: it archives every closed run visibility lists since
// the watermark less the overlap (every closed run, on a full scan), and then moves the
// watermark to the latest close time listed, or to just before the earliest run that failed
// to archive, whichever is earlier. A failure that retrying cannot mend (see permanent) does
// not hold the watermark; any other does, until the run is archived (or, at worst, until the
// retention deletes it). A listing that fails midway leaves the watermark where it was.
func (a *Archiver) archiveSince(ctx context.Context, lease store.Lease, force bool) (int, error) {
	began := a.opts.Now()
	wm, err := a.store.GetArchiveWatermark(ctx, WorkflowType)
	if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	if !force && !wm.PassAt.IsZero() && began.Sub(wm.PassAt) < a.opts.Interval/2 {
		return 0, nil
	}
	full := wm.CloseTime.IsZero() || began.Sub(wm.FullScanAt) >= a.opts.FullScanEvery
	query := ClosedRunsQuery
	if !full {
		query = ClosedSinceQuery(wm.CloseTime.Add(-a.opts.Overlap))
	}
	var (
		archived int
		errs     []error
		token    []byte
		// latest is the latest close time listed; held, if set, the earliest close time
		// of a run that failed to archive.
		latest, held time.Time
	)
	for {
		resp, err := a.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: pageSize, NextPageToken: token, Query: query})
		if err != nil {
			return archived, errors.Join(append(errs, fmt.Errorf("archive: list closed runs: %w", err))...)
		}
		for _, e := range resp.GetExecutions() {
			if err := ctx.Err(); err != nil {
				return archived, errors.Join(append(errs, err)...)
			}
			closed := e.GetCloseTime().AsTime()
			ok, err := a.archive(ctx, e)
			if err != nil {
				errs = append(errs, err)
				if e.GetCloseTime() != nil && !permanent(err) && (held.IsZero() || closed.Before(held)) {
					held = closed
				}
			}
			if ok {
				archived++
			}
			if e.GetCloseTime() != nil && closed.After(latest) {
				latest = closed
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	next := store.ArchiveWatermark{CloseTime: latest, PassAt: began}
	if !held.IsZero() && !held.After(latest) {
		// Stored instants have microseconds; the run itself stays after the watermark.
		next.CloseTime = held.Add(-time.Microsecond)
	}
	if full {
		next.FullScanAt = began
	}
	if err := a.store.AdvanceArchiveWatermark(ctx, WorkflowType, lease, next, a.opts.Now()); err != nil {
		errs = append(errs, fmt.Errorf("archive: %w", err))
	}
	return archived, errors.Join(errs...)
}

// permanent reports whether a run failed to archive for good: its history is gone from
// Temporal (logged loudly by archive), or the store knows no selection of its workflow ID
// (selections are stored before their workflows start, so it never will). Such a run does
// not hold the watermark; the next full scans still try it while visibility lists it.
func permanent(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf) || errors.Is(err, store.ErrNotFound)
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
	}, a.opts.Now())
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
