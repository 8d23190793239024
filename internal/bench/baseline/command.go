package baseline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/bench"
)

// Command is one committee command end to end through gRPC (a screening verdict for one
// application: validation, authorization, the Workflow Update with its validator, the
// store activity, the answer) beside a bare Temporal Update with a no-op handler on the same
// Temporal server, sent in turn, one at a time.
func Command() bench.Scenario {
	return bench.Scenario{Name: "command", Title: "one screening verdict through gRPC vs a bare Temporal Update", Run: runCommand}
}

// Names of the bare workflow the baseline updates; it runs on a task queue of the bench's
// own, beside Seleksi's in the same namespace.
const (
	noopWorkflowName = "seleksibench.Noop"
	noopUpdate       = "noop"
	noopStop         = "stop"
)

// callTimeout bounds one measured call.
const callTimeout = time.Minute

func runCommand(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	n, warm := size.N(200, 5), size.N(20, 2)
	sels, err := setup(ctx, env, "cmd", []int{n + warm}, true)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	sel := sels[0]
	tok, err := committeeToken(env, screener, sel)
	if err != nil {
		return nil, err
	}
	bare, err := startBare(ctx, env)
	if err != nil {
		return nil, err
	}
	defer bare.close()

	sc := seleksiv1.NewSelectionServiceClient(env.GRPC)
	command := func(i int) error {
		ctx, cancel := context.WithTimeout(bench.Bearer(ctx, tok), callTimeout)
		defer cancel()
		resp, err := sc.RecordResults(ctx, &seleksiv1.RecordResultsRequest{
			Name: sel.Name, RequestId: requestID("verdict"), Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING,
			Results: []*seleksiv1.ApplicationResult{{Application: sel.Apps[i], Outcome: seleksiv1.Outcome_OUTCOME_PASS}}})
		if err == nil && resp.GetRecordedCount() != 1 {
			return fmt.Errorf("recorded %d results, want 1", resp.GetRecordedCount())
		}
		return err
	}
	env.Log.Info("command: sending verdicts and bare updates in turn", "measured", n, "warm_up", warm)
	cmdRec, bareRec := bench.NewRecorder(), bench.NewRecorder()
	failures := 0
	var firstErr error
	for i := range n + warm {
		// In turn, so that both see the same machine: whatever else runs slows both.
		for _, op := range []struct {
			rec *bench.Recorder
			do  func() error
		}{{bareRec, func() error { return bare.update(ctx) }}, {cmdRec, func() error { return command(i) }}} {
			began := time.Now()
			err := op.do()
			took := time.Since(began)
			switch {
			case err != nil:
				failures++
				firstErr = cmp(firstErr, err)
				op.rec.Fail(errorKind(err))
			case i >= warm:
				op.rec.Observe(took)
			}
		}
	}
	cs, bs := cmdRec.Summary(), bareRec.Summary()
	figs := latencyFigures("command", "verdict", cs, bs, "bare Temporal Update as baseline")
	figs = append(figs,
		bench.Figure{Scenario: "command", Metric: "verdicts", Value: float64(cs.Count), Unit: "ops",
			Note: fmt.Sprintf("sequential, after %d warm-up", warm)},
		bench.Figure{Scenario: "command", Metric: "errors", Value: float64(failures), Unit: "count"})
	if failures > 0 {
		return figs, fmt.Errorf("%d calls failed; the first: %w", failures, firstErr)
	}
	return figs, nil
}

// cmp keeps the first error.
func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// latencyFigures are p50, p95 and p99 of s in milliseconds, each beside base's.
func latencyFigures(scenario, what string, s, base bench.Summary, note string) []bench.Figure {
	var figs []bench.Figure
	for _, p := range []struct {
		name    string
		v, base time.Duration
	}{{"p50", s.P50, base.P50}, {"p95", s.P95, base.P95}, {"p99", s.P99, base.P99}} {
		figs = append(figs, bench.Figure{Scenario: scenario, Metric: what + " " + p.name, Value: bench.Milliseconds(p.v), Unit: "ms",
			Note: note}.WithBaseline(bench.Milliseconds(p.base)))
	}
	return figs
}

// bareTemporal is the baseline: a workflow of the bench's own whose Update handler does
// nothing, on a task queue of its own served by a worker in the bench.
type bareTemporal struct {
	client     client.Client
	worker     worker.Worker
	workflowID string
}

func startBare(ctx context.Context, env *bench.Env) (*bareTemporal, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: env.TemporalAddress, Namespace: env.TemporalNamespace,
		// The SDK's own messages are kept to warnings.
		Logger: sdklog.NewStructuredLogger(slog.New(warnOnly{env.Log.Handler()}))})
	if err != nil {
		return nil, fmt.Errorf("bare Temporal: dial %s: %w", env.TemporalAddress, err)
	}
	b := &bareTemporal{client: c, workflowID: "seleksibench-noop-" + bench.RandomHex(4)}
	queue := "seleksibench-" + bench.RandomHex(4)
	b.worker = worker.New(c, queue, worker.Options{})
	b.worker.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: noopWorkflowName})
	if err := b.worker.Start(); err != nil {
		c.Close()
		return nil, fmt.Errorf("bare Temporal: start worker: %w", err)
	}
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: b.workflowID, TaskQueue: queue,
		WorkflowExecutionTimeout: time.Hour}, noopWorkflowName); err != nil {
		b.close()
		return nil, fmt.Errorf("bare Temporal: start workflow: %w", err)
	}
	return b, nil
}

// update sends one Update and waits for its (empty) result.
func (b *bareTemporal) update(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	h, err := b.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: b.workflowID, UpdateName: noopUpdate,
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// close ends the bare workflow, the worker and the client.
func (b *bareTemporal) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The workflow ends before its worker stops, so that no task is left for a worker gone.
	if err := b.client.SignalWorkflow(ctx, b.workflowID, "", noopStop, nil); err == nil {
		_ = b.client.GetWorkflow(ctx, b.workflowID, "").Get(ctx, nil)
	}
	b.worker.Stop()
	b.client.Close()
}

// noopWorkflow accepts no-op Updates until it is told to stop.
func noopWorkflow(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandler(ctx, noopUpdate, func(workflow.Context) error { return nil }); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, noopStop).Receive(ctx, nil)
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// warnOnly passes on warnings and errors only.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(attrs)}
}

func (w warnOnly) WithGroup(name string) slog.Handler { return warnOnly{w.Handler.WithGroup(name)} }
