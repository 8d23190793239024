package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows"
)

// ReplayReport is the outcome of replaying a selection's runs through the current workflow
// code.
type ReplayReport struct {
	WorkflowID string      `json:"workflowId"`
	Runs       []RunReport `json:"runs"`
	// Findings lists everything replay found wrong; empty when every run replayed and
	// arrived where its history says.
	Findings []Finding `json:"findings"`
	// State is the state the last run held at its end (or, for a run still open, after its
	// last completed workflow task: the SDK's replayer does not run a task that the history
	// shows started but not completed), rebuilt by the replay. It is nil when the last run
	// did not replay.
	State *workflows.SelectionState `json:"state,omitempty"`
	// Result is the last run's result as the replay computed it, when that run completed.
	Result *workflows.SelectionResult `json:"result,omitempty"`
	// Facts are the commands, updates and snapshots the histories record.
	Facts HistoryFacts `json:"facts"`
}

// OK reports whether replay found nothing wrong.
func (r *ReplayReport) OK() bool { return len(r.Findings) == 0 }

// RunReport is the replay of one run.
type RunReport struct {
	// Index is 1-based.
	Index  int    `json:"index"`
	RunID  string `json:"runId,omitempty"`
	Events int    `json:"events"`
	Close  string `json:"close"`
	// Replayed is true when the current code replayed the whole run without error.
	Replayed bool `json:"replayed"`
	// Error is the replayer's error text when it failed.
	Error string `json:"error,omitempty"`
	// EventID is the history event the replay failed at, when the error names one.
	EventID int64 `json:"eventId,omitempty"`
}

// Replay replays every run of one selection workflow, in order, through the current
// workflows.SelectionWorkflow with the SDK's WorkflowReplayer, and rebuilds the final state.
// Each element of histories is one run's history in Temporal's standard JSON form (a
// bundle's history part, or a file written by the CLI or the Web UI; see ParseHistory).
//
// The state is rebuilt by the workflow code itself, not by a second implementation of its
// rules: a worker interceptor installed on the replayer catches the handler the workflow
// registers for the "state" query, and calls it when the workflow function returns (or,
// for a run that is still open, when the replay of its completed tasks ends). The result is
// exactly what a state query on a worker running this code would have answered at that
// point, and since the handler is the one the workflow registers, the rebuild follows any
// change to the state's shape automatically.
//
// Beyond the SDK's own check that the replayed commands match the recorded events, Replay
// compares what the SDK does not: the input the replay hands to the next run by
// continue-as-new against the input the history records for it, and the result it returns
// against the recorded result (KindStateMismatch); and it checks that the runs follow one
// another (KindRunChainBroken). Non-determinism is reported with the run index, the SDK's
// error text and the event ID when it can be identified.
//
// The error is non-nil only when the input cannot be used at all (no history, or one that
// is not a history) or ctx ends; everything else is a finding in the report.
//
// Encrypted payloads are decrypted with the codec WithPayloadCodec gives; without it (or
// without their key) the histories cannot be used and the error says so.
func Replay(ctx context.Context, histories [][]byte, opts ...Option) (ReplayReport, error) {
	if len(histories) == 0 {
		return ReplayReport{}, errors.New("replay: no history")
	}
	runs := make([]*historypb.History, len(histories))
	for i, b := range histories {
		h, err := ParseHistory(b)
		if err != nil {
			return ReplayReport{}, fmt.Errorf("replay: run %d: %w", i+1, err)
		}
		runs[i] = h
	}
	return ReplayHistories(ctx, runs, opts...)
}

// ReplayHistories is Replay for histories already parsed.
func ReplayHistories(ctx context.Context, runs []*historypb.History, opts ...Option) (ReplayReport, error) {
	decoded, err := optionsOf(opts).decodeRuns(runs)
	if err != nil {
		return ReplayReport{}, fmt.Errorf("replay: %w", err)
	}
	return replayHistories(ctx, decoded, workflows.SelectionWorkflow)
}

// workflowType is the name the worker registers SelectionWorkflow under (the function's
// name, the SDK's default), which histories record as their workflow type.
const workflowType = "SelectionWorkflow"

// replayHistories replays with wf registered as the selection workflow; tests pass
// variants of SelectionWorkflow to check what a code change does to recorded histories.
// The runs' payloads are decoded already.
func replayHistories(ctx context.Context, runs []*historypb.History, wf any) (ReplayReport, error) {
	facts, fs := extractFacts(runs)
	rep := ReplayReport{WorkflowID: facts.WorkflowID, Facts: facts, Findings: fs}
	rep.Findings = append(rep.Findings, checkRunChain(runs, facts)...)
	for i, h := range runs {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("replay: %w", err)
		}
		rf := facts.Runs[i]
		rr := RunReport{Index: i + 1, RunID: rf.RunID, Events: rf.Events, Close: rf.Close}
		out, err := replayRun(ctx, h, facts.WorkflowID, rf.RunID, wf)
		if ctx.Err() != nil {
			return rep, fmt.Errorf("replay: %w", ctx.Err())
		}
		if err != nil {
			rr.Error = err.Error()
			rr.EventID = failedEventID(h, rr.Error)
			kind := KindReplayFailed
			if isNondeterminism(rr.Error) {
				kind = KindNondeterminism
			}
			rep.Findings = append(rep.Findings, Finding{Kind: kind, Run: i + 1, EventIDs: nonZero(rr.EventID),
				Message: fmt.Sprintf("run %d (%s) does not replay with the current workflow code: %s", i+1, rf.RunID, rr.Error)})
			rep.Runs = append(rep.Runs, rr)
			continue
		}
		rr.Replayed = true
		rep.Runs = append(rep.Runs, rr)
		rep.Findings = append(rep.Findings, compareEnd(h, i+1, out)...)
		if i == len(runs)-1 {
			rep.State = out.state
			rep.Result = out.result
		}
	}
	return rep, nil
}

// runOutcome is what the interceptor saw of one replayed run.
type runOutcome struct {
	state *workflows.SelectionState
	// result is set when the workflow function returned a result.
	result     *workflows.SelectionResult
	resultJSON []byte
	// handover is the input of the next run when the function ended by continue-as-new.
	handover *commonpb.Payloads
	// wfErr is any other error the workflow function returned.
	wfErr error
}

func replayRun(ctx context.Context, h *historypb.History, workflowID, runID string, wf any) (*runOutcome, error) {
	// The SDK's replayer (v1.50) dereferences a nil workflow context when it cannot
	// create one, as for a start that names no task queue, so such a history crashed the
	// process (found by FuzzReplay). Say what is wrong instead.
	start := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
	if got := start.GetWorkflowType().GetName(); got != workflowType {
		return nil, fmt.Errorf("the history is of workflow type %q, not %s", got, workflowType)
	}
	if start.GetTaskQueue().GetName() == "" {
		return nil, errors.New("the history's WorkflowExecutionStarted names no task queue")
	}
	c := &capture{}
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		Interceptors: []interceptor.WorkerInterceptor{c},
		// The 1 s deadlock detector is for live workers. A verification replays a whole
		// selection on whatever machine the auditor has, and decoding the close snapshot of
		// 5,000 applications (over 1 MB of JSON) took longer than that beside other work
		// (CI): the history was reported as not replaying though it does. A replay is
		// bounded by ctx instead.
		DisableDeadlockDetection: true,
	})
	if err != nil {
		return nil, err
	}
	r.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: workflowType})
	// The replayer's default logger writes to standard output; the report carries what
	// matters, and the workflow's own logging is muted during replay anyway.
	logger := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() {
		// The history may come from anyone (a file handed to an auditor, an archive
		// row edited in the store), and a panic in the SDK's handling of it would end
		// the whole process from this goroutine. It is a history that does not
		// replay.
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("the replayer failed on this history: %v", p)
			}
		}()
		done <- r.ReplayWorkflowHistoryWithOptions(logger, h, worker.ReplayWorkflowHistoryOptions{
			OriginalExecution: workflow.Execution{ID: workflowID, RunID: runID},
		})
	}()
	// The SDK's replay cannot be interrupted; on cancellation it is abandoned to finish on
	// its own, which bounds how long a caller (such as an API request) waits.
	select {
	case err = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return c.outcome()
}

// capture is a worker interceptor that keeps the workflow's state query handler and what
// the workflow function returned.
type capture struct {
	interceptor.WorkerInterceptorBase
	mu         sync.Mutex
	stateQuery any
	ended      bool
	stateJSON  []byte
	stateErr   error
	result     any
	err        error
}

func (c *capture) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &captureInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type captureInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *capture
}

func (i *captureInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&captureOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, c: i.c})
}

// ExecuteWorkflow runs the workflow and, when it returns, reads the state through the
// query handler, still inside the workflow's own coroutine, where the state is stable.
func (i *captureInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	i.c.mu.Lock()
	defer i.c.mu.Unlock()
	i.c.ended, i.c.result, i.c.err = true, res, err
	i.c.stateJSON, i.c.stateErr = callQuery(i.c.stateQuery)
	return res, err
}

type captureOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	c *capture
}

func (o *captureOutbound) SetQueryHandler(ctx workflow.Context, queryType string, handler any) error {
	o.keep(queryType, handler)
	return o.Next.SetQueryHandler(ctx, queryType, handler)
}

func (o *captureOutbound) SetQueryHandlerWithOptions(ctx workflow.Context, queryType string, handler any, options workflow.QueryHandlerOptions) error {
	o.keep(queryType, handler)
	return o.Next.SetQueryHandlerWithOptions(ctx, queryType, handler, options)
}

func (o *captureOutbound) keep(queryType string, handler any) {
	if queryType != workflows.QueryState {
		return
	}
	o.c.mu.Lock()
	defer o.c.mu.Unlock()
	o.c.stateQuery = handler
}

// callQuery calls a query handler that takes no arguments (beyond an optional context) and
// encodes its first result as the default data converter would (JSON). Reflection keeps
// this working if the handler's exact signature changes.
func callQuery(h any) ([]byte, error) {
	if h == nil {
		return nil, fmt.Errorf("the workflow registered no %q query", workflows.QueryState)
	}
	v := reflect.ValueOf(h)
	if v.Kind() != reflect.Func || v.Type().NumIn() != 0 || v.Type().NumOut() == 0 {
		return nil, fmt.Errorf("the %q query handler has the unexpected type %T", workflows.QueryState, h)
	}
	out := v.Call(nil)
	if last := out[len(out)-1]; len(out) > 1 && !last.IsNil() {
		if err, ok := last.Interface().(error); ok {
			return nil, fmt.Errorf("the %q query failed: %w", workflows.QueryState, err)
		}
	}
	return json.Marshal(out[0].Interface())
}

func (c *capture) outcome() (*runOutcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		// The history ends while the run is still open: read the state as it stands after
		// the last completed workflow task. The replay has returned and the workflow's
		// coroutines are blocked or gone, so nothing changes the state while it is read.
		c.stateJSON, c.stateErr = callQuery(c.stateQuery)
	}
	if c.stateErr != nil {
		return nil, c.stateErr
	}
	out := &runOutcome{}
	var st workflows.SelectionState
	if err := json.Unmarshal(c.stateJSON, &st); err != nil {
		return nil, fmt.Errorf("decode the rebuilt state: %w", err)
	}
	out.state = &st
	if !c.ended {
		return out, nil
	}
	var can *workflow.ContinueAsNewError
	switch {
	case errors.As(c.err, &can):
		out.handover = can.Input
	case c.err != nil:
		out.wfErr = c.err
	default:
		b, err := json.Marshal(c.result)
		if err != nil {
			return nil, fmt.Errorf("encode the replayed result: %w", err)
		}
		var res workflows.SelectionResult
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, fmt.Errorf("decode the replayed result: %w", err)
		}
		out.result, out.resultJSON = &res, b
	}
	return out, nil
}

// compareEnd compares how the replayed run ended with how the history says it ended.
func compareEnd(h *historypb.History, run int, out *runOutcome) []Finding {
	events := h.GetEvents()
	last := events[len(events)-1]
	dc := converter.GetDefaultDataConverter()
	switch last.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		rec, err := rawJSON(dc, last.GetWorkflowExecutionCompletedEventAttributes().GetResult())
		if err != nil || out.result == nil || !sameJSON(rec, out.resultJSON) {
			return []Finding{{Kind: KindStateMismatch, Run: run, EventIDs: []int64{last.GetEventId()},
				Message: fmt.Sprintf("run %d: the replayed result %s differs from the recorded result %s", run, out.resultJSON, rec)}}
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		rec, err1 := rawJSON(dc, last.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput())
		got, err2 := rawJSON(dc, out.handover)
		if err1 != nil || err2 != nil || out.handover == nil || !sameJSON(rec, got) {
			return []Finding{{Kind: KindStateMismatch, Run: run, EventIDs: []int64{last.GetEventId()},
				Message: fmt.Sprintf("run %d: the state the replay hands to the next run differs from the one the history records", run)}}
		}
	}
	return nil
}

// sameJSON compares two JSON documents by content.
func sameJSON(a, b []byte) bool {
	ca, err1 := CanonicalJSON(a)
	cb, err2 := CanonicalJSON(b)
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}

// checkRunChain checks that the runs are one workflow's runs in continue-as-new order.
func checkRunChain(runs []*historypb.History, facts HistoryFacts) []Finding {
	var fs []Finding
	dc := converter.GetDefaultDataConverter()
	for i, h := range runs {
		rf := facts.Runs[i]
		first := h.GetEvents()[0]
		if id := first.GetWorkflowExecutionStartedEventAttributes().GetWorkflowId(); id != "" && id != facts.WorkflowID {
			fs = append(fs, Finding{Kind: KindRunChainBroken, Run: i + 1, EventIDs: []int64{first.GetEventId()},
				Message: fmt.Sprintf("run %d belongs to workflow %s, not %s", i+1, id, facts.WorkflowID)})
		}
		if i == 0 {
			if rf.ContinuedFromRunID != "" {
				fs = append(fs, Finding{Kind: KindRunChainBroken, Run: 1, EventIDs: []int64{first.GetEventId()},
					Message: fmt.Sprintf("the first run given continues run %s, which is missing", rf.ContinuedFromRunID)})
			}
			continue
		}
		prev := facts.Runs[i-1]
		if prev.Close != "continued_as_new" || (prev.NextRunID != "" && rf.RunID != "" && prev.NextRunID != rf.RunID) ||
			(rf.ContinuedFromRunID != "" && prev.RunID != "" && rf.ContinuedFromRunID != prev.RunID) {
			fs = append(fs, Finding{Kind: KindRunChainBroken, Run: i + 1, EventIDs: []int64{first.GetEventId()},
				Message: fmt.Sprintf("run %d (%s) does not continue run %d (%s, ended %s)", i+1, rf.RunID, i, prev.RunID, prev.Close)})
			continue
		}
		// The server copies the continue-as-new input into the next run's start; a
		// difference means one of the two histories was edited.
		prevLast := runs[i-1].GetEvents()[len(runs[i-1].GetEvents())-1]
		a, err1 := rawJSON(dc, prevLast.GetWorkflowExecutionContinuedAsNewEventAttributes().GetInput())
		b, err2 := rawJSON(dc, first.GetWorkflowExecutionStartedEventAttributes().GetInput())
		if err1 != nil || err2 != nil || !sameJSON(a, b) {
			fs = append(fs, Finding{Kind: KindRunChainBroken, Run: i + 1, EventIDs: []int64{first.GetEventId()},
				Message: fmt.Sprintf("run %d starts with an input that differs from the one run %d handed over (event %d)", i+1, i, prevLast.GetEventId())})
		}
	}
	return fs
}

// isNondeterminism recognises the SDK's non-determinism errors: those that carry the
// TMPRL1100 code, and the replayer's own complaint that the code did not end the run the
// way the history does (it completed or continued as new at another point).
func isNondeterminism(msg string) bool {
	return strings.Contains(msg, "TMPRL1100") || strings.Contains(strings.ToLower(msg), "nondeterministic") ||
		strings.Contains(msg, "doesn't return the same result as the last event")
}

var (
	reEventID    = regexp.MustCompile(`(?i)\b(?:event ?id|scheduleEventID|scheduledEventID)\b[:= ]+(\d+)`)
	reActivityID = regexp.MustCompile(`ActivityId:\s*"?(\d+)`)
	reTimerID    = regexp.MustCompile(`TimerId:\s*"?(\d+)`)
)

// failedEventID finds the history event a replay error refers to. The SDK's messages name
// the event inconsistently (an event ID, or the activity or timer ID of the event), so each
// form is looked up in the history; 0 means none could be identified.
func failedEventID(h *historypb.History, msg string) int64 {
	// The SDK names the recorded event first and the replayed command second, so the first
	// activity or timer ID in the message is the recorded event's.
	if m := reActivityID.FindStringSubmatch(msg); m != nil {
		for _, e := range h.GetEvents() {
			if e.GetActivityTaskScheduledEventAttributes().GetActivityId() == m[1] {
				return e.GetEventId()
			}
		}
	}
	if m := reTimerID.FindStringSubmatch(msg); m != nil {
		for _, e := range h.GetEvents() {
			if e.GetTimerStartedEventAttributes().GetTimerId() == m[1] {
				return e.GetEventId()
			}
		}
	}
	if m := reEventID.FindStringSubmatch(msg); m != nil {
		if id, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			return id
		}
	}
	return 0
}
