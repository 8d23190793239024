// Package reconcile makes the creation of a selection atomic: a selection in the store always
// gets its running workflow. The API writes the selection together with its workflow input
// (one transaction) and then starts the workflow; a process that dies between the two leaves
// a recorded but unstarted workflow, which the reconciler finds and starts within seconds.
//
// Starting is idempotent everywhere: the workflow ID comes from the selection ID
// (workflows.WorkflowID), a running workflow with that ID is taken as started (conflict
// policy USE_EXISTING), and a closed one is never started again (reuse policy
// REJECT_DUPLICATE) but also counts as started. So the API, a retried request and any number
// of reconcilers (one per API replica) may race on the same selection without harm.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Temporal is the part of the Temporal client that starts workflows.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Store is where the recorded workflow starts are.
type Store interface {
	PendingStarts(ctx context.Context, createdBefore time.Time, limit int) ([]store.PendingStart, error)
	MarkWorkflowStarted(ctx context.Context, selectionID string, at time.Time) error
}

// StartOptions are the options every selection workflow starts with, from the API and from
// the reconciler alike.
func StartOptions(workflowID, taskQueue, agency string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:        workflowID,
		TaskQueue: taskQueue,
		// The store has already tied this ID to this selection; a retry or a reconciler finds
		// the running workflow, and a closed one is never started again under the same ID.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttributeAgency).ValueSet(agency)),
	}
}

// Start starts the selection's workflow, or finds it already started (running or closed):
// either way the selection has had its workflow, and nil is returned.
func Start(ctx context.Context, t Temporal, taskQueue, workflowID, agency string, in workflows.SelectionInput) error {
	_, err := t.ExecuteWorkflow(ctx, StartOptions(workflowID, taskQueue, agency), workflows.SelectionWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// Only a closed run is refused (REJECT_DUPLICATE): it was started before.
		return nil
	}
	if err != nil {
		return fmt.Errorf("start workflow %s: %w", workflowID, err)
	}
	return nil
}

// Options configure a Reconciler.
type Options struct {
	TaskQueue string
	// Interval is the time between two passes.
	Interval time.Duration
	// Grace is how old an unstarted record must be before the reconciler starts it, so that
	// it does not race the API in the ordinary case (which is harmless, but wasted work).
	Grace time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// batch is how many recorded starts one query reads.
const batch = 100

// Reconciler starts the workflows that were recorded but not started.
type Reconciler struct {
	temporal Temporal
	store    Store
	logger   *slog.Logger
	opts     Options
}

// New builds a reconciler.
func New(t Temporal, st Store, logger *slog.Logger, opts Options) *Reconciler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reconciler{temporal: t, store: st, logger: logger, opts: opts}
}

// Run reconciles at once and then every interval, until ctx ends. A failed pass is logged and
// tried again at the next tick.
func (r *Reconciler) Run(ctx context.Context) {
	ticker := time.NewTicker(r.opts.Interval)
	defer ticker.Stop()
	for {
		if n, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "starting recorded selection workflows failed", "error", err, "started", n)
		} else if n > 0 {
			r.logger.WarnContext(ctx, "started selection workflows that their creation left unstarted", "started", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// RunOnce starts every recorded workflow older than the grace period that is not marked
// started, marks each, and reports how many it started. A selection that cannot be started
// does not stop the others; the failures are returned joined.
func (r *Reconciler) RunOnce(ctx context.Context) (int, error) {
	var (
		started int
		errs    []error
		failed  = map[string]bool{}
	)
	for {
		pending, err := r.store.PendingStarts(ctx, r.opts.Now().Add(-r.opts.Grace), batch+len(failed))
		if err != nil {
			return started, errors.Join(append(errs, err)...)
		}
		progress := false
		for _, p := range pending {
			if failed[p.SelectionID] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return started, errors.Join(append(errs, err)...)
			}
			if err := r.start(ctx, p); err != nil {
				failed[p.SelectionID] = true
				errs = append(errs, err)
				continue
			}
			started++
			progress = true
		}
		if !progress || len(pending) < batch+len(failed) {
			return started, errors.Join(errs...)
		}
	}
}

func (r *Reconciler) start(ctx context.Context, p store.PendingStart) error {
	var in workflows.SelectionInput
	if err := json.Unmarshal(p.Input, &in); err != nil {
		return fmt.Errorf("reconcile: selection %s: recorded input: %w", p.SelectionID, err)
	}
	if err := Start(ctx, r.temporal, r.opts.TaskQueue, p.WorkflowID, p.Agency, in); err != nil {
		return fmt.Errorf("reconcile: selection %s: %w", p.SelectionID, err)
	}
	if err := r.store.MarkWorkflowStarted(ctx, p.SelectionID, r.opts.Now()); err != nil {
		return fmt.Errorf("reconcile: selection %s: %w", p.SelectionID, err)
	}
	r.logger.InfoContext(ctx, "started the workflow of a selection", "selection", p.SelectionID, "workflow_id", p.WorkflowID,
		"recorded_at", p.CreatedAt)
	return nil
}
