package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bkpsdm/seleksi/internal/config"
)

// The ordered shutdown must end within -shutdown-timeout as a whole, since Kubernetes kills
// the process when its grace period runs out (it was found taking 45 s for 30). Each phase
// owns a share of the budget, given as the fraction of it by which the phase must be done,
// counted from the start of the shutdown: a phase that ends early leaves its time to the
// next, and one that overruns is left behind so that the rest still runs and the whole
// stays within the bound.
//
//	transport   in-flight requests finish; the API's clients matter most  (60%, or 85% with no worker)
//	loops       reconciler, archiver, notifications stop                  (65%)
//	worker      running activities finish (WorkerStopTimeout)             (90%)
//	backends    Temporal client and store close                           (95%)
//	embedded    the embedded Temporal server stops                        (100%)
type shutdownPlan struct {
	transport, loops, worker, backends float64
	// workerStop is the worker's WorkerStopTimeout, a fraction of the budget that fits
	// within the worker's phase even when the transport used all of its share.
	workerStop float64
}

func planShutdown(cfg config.Config) shutdownPlan {
	if !cfg.RunsWorker() {
		return shutdownPlan{transport: 0.85, loops: 0.9, worker: 0.9, backends: 0.95}
	}
	if !cfg.RunsAPI() {
		return shutdownPlan{transport: 0, loops: 0.1, worker: 0.85, backends: 0.95, workerStop: 0.7}
	}
	return shutdownPlan{transport: 0.6, loops: 0.65, worker: 0.9, backends: 0.95, workerStop: 0.2}
}

// workerStopTimeout is how long the worker lets running activities finish once stopped.
func workerStopTimeout(cfg config.Config) time.Duration {
	return time.Duration(planShutdown(cfg).workerStop * float64(cfg.ShutdownTimeout))
}

// phase is one step of the shutdown.
type phase struct {
	name string
	// until is the fraction of the budget by which the phase must be done.
	until float64
	stop  func(ctx context.Context) error
}

// runPhases runs the phases in order, each with a context that ends at its share of ctx's
// deadline, and moves on from one that does not return by then. It returns by ctx's
// deadline, give or take the scheduling of a goroutine.
func runPhases(ctx context.Context, logger *slog.Logger, phases []phase) error {
	start := time.Now()
	end, ok := ctx.Deadline()
	if !ok {
		return errors.New("shutdown: the context has no deadline")
	}
	budget := end.Sub(start)
	var errs []error
	for _, p := range phases {
		deadline := start.Add(time.Duration(p.until * float64(budget)))
		if deadline.After(end) {
			deadline = end
		}
		pctx, cancel := context.WithDeadline(ctx, deadline)
		done := make(chan error, 1)
		go func() { done <- p.stop(pctx) }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
			}
		case <-pctx.Done():
			select {
			case err := <-done:
				// It finished just in time.
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
				}
				cancel()
				continue
			default:
			}
			// It may still finish on its own; the process is about to exit either way.
			logger.Warn("shutdown step overran its share of the shutdown timeout; going on",
				"step", p.name, "share_ends", deadline.Sub(start).Round(time.Millisecond), "budget", budget)
			errs = append(errs, fmt.Errorf("%s did not stop within its share (%s of %s)", p.name,
				deadline.Sub(start).Round(time.Millisecond), budget))
		}
		cancel()
	}
	return errors.Join(errs...)
}
