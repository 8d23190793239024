package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/bkpsdm/seleksi/workflows"
)

// continuedRuns turns a recorded single-run history into the two runs a continue-as-new
// produces, as the server would have recorded them had it suggested continue-as-new at the
// workflow task after the first timer fired (the announcement's close): run 1 up to that
// task, which now carries suggestContinueAsNew and ends the run with the state handed over,
// and run 2, started with that state, whose first task schedules the snapshot of the
// applications and which is still open. The recorded histories hold no continue-as-new (the
// server suggests it only past thousands of events); this exercises the same path through
// the current workflow code.
func continuedRuns(t *testing.T, recordedRun []byte) (run1, run2 []byte) {
	t.Helper()
	h, err := ParseHistory(recordedRun)
	if err != nil {
		t.Fatal(err)
	}
	cut, snapshot := -1, -1
	fired := false
	for i, e := range h.Events {
		fired = fired || e.GetEventType() == enumspb.EVENT_TYPE_TIMER_FIRED
		if fired && cut < 0 && e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
			cut = i
		}
		if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivitySnapshotApplications {
			snapshot = i
			break
		}
	}
	if cut < 0 || snapshot < 0 {
		t.Fatal("no workflow task after a timer, or no snapshot")
	}
	r1 := &historypb.History{Events: make([]*historypb.HistoryEvent, cut+1)}
	for i := range r1.Events {
		r1.Events[i] = proto.Clone(h.Events[i]).(*historypb.HistoryEvent)
	}
	started := r1.Events[cut]
	started.GetWorkflowTaskStartedEventAttributes().SuggestContinueAsNew = true
	start := r1.Events[0].GetWorkflowExecutionStartedEventAttributes()
	run1ID, run2ID := start.GetOriginalExecutionRunId(), "01a20a48-0000-7000-8000-000000000002"
	at := started.GetEventTime()
	next := started.GetEventId() + 1
	can := &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
		NewExecutionRunId: run2ID, WorkflowType: start.GetWorkflowType(), TaskQueue: start.GetTaskQueue(),
		WorkflowTaskTimeout: start.GetWorkflowTaskTimeout(), WorkflowTaskCompletedEventId: next}
	r1.Events = append(r1.Events,
		&historypb.HistoryEvent{EventId: next, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
				ScheduledEventId: r1.Events[cut-1].GetEventId(), StartedEventId: started.GetEventId()}}},
		&historypb.HistoryEvent{EventId: next + 1, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: can}},
	)
	// What the current code hands over, found by replaying run 1; the server would have
	// recorded exactly that.
	out, err := replayRun(context.Background(), r1, start.GetWorkflowId(), run1ID, workflows.SelectionWorkflow)
	if err != nil || out.handover == nil {
		t.Fatalf("the workflow did not continue as new when suggested: %v", err)
	}
	can.Input = out.handover

	r2Start := proto.Clone(h.Events[0]).(*historypb.HistoryEvent)
	r2Start.EventTime = at
	a := r2Start.GetWorkflowExecutionStartedEventAttributes()
	a.Input, a.ContinuedExecutionRunId, a.OriginalExecutionRunId = out.handover, run1ID, run2ID
	snap := proto.Clone(h.Events[snapshot]).(*historypb.HistoryEvent)
	snap.EventId = 5
	snap.GetActivityTaskScheduledEventAttributes().ActivityId = "5"
	snap.GetActivityTaskScheduledEventAttributes().WorkflowTaskCompletedEventId = 4
	r2 := &historypb.History{Events: []*historypb.HistoryEvent{r2Start,
		{EventId: 2, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
				TaskQueue: start.GetTaskQueue(), StartToCloseTimeout: start.GetWorkflowTaskTimeout(), Attempt: 1}}},
		{EventId: 3, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
				ScheduledEventId: 2}}},
		{EventId: 4, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
				ScheduledEventId: 2, StartedEventId: 3}}},
		snap,
	}}
	if run1, err = MarshalHistory(r1); err != nil {
		t.Fatal(err)
	}
	if run2, err = MarshalHistory(r2); err != nil {
		t.Fatal(err)
	}
	return run1, run2
}

func TestReplayContinueAsNew(t *testing.T) {
	happy := recorded(t)["happy-path"]
	if happy == nil {
		t.Skip("no happy-path history")
	}
	run1, run2 := continuedRuns(t, happy)
	t.Run("two runs", func(t *testing.T) {
		rep, err := Replay(context.Background(), [][]byte{run1, run2})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("findings: %v", rep.Findings)
		}
		if len(rep.Runs) != 2 || rep.Runs[0].Close != "continued_as_new" || rep.Runs[1].Close != "open" {
			t.Fatalf("runs %+v", rep.Runs)
		}
		// Run 2 carries the state over (one hand-over counted) and, still open, has not
		// closed the announcement yet: the snapshot it asked for is not in its history.
		if st := rep.State; st == nil || st.Runs != 1 || st.Seq != 1 || st.Stage != workflows.StageAnnouncement || rep.Result != nil {
			t.Fatalf("rebuilt state %+v, result %v", rep.State, rep.Result)
		}
		if rep.Facts.Runs[1].ContinuedFromRunID != rep.Facts.Runs[0].RunID || rep.Facts.Runs[0].NextRunID != rep.Facts.Runs[1].RunID {
			t.Errorf("run links %+v", rep.Facts.Runs)
		}
	})
	tests := []struct {
		name string
		runs [][]byte
		kind string
		run  int
	}{
		{"runs out of order", [][]byte{run2, run1}, KindRunChainBroken, 1},
		{"first run missing", [][]byte{run2}, KindRunChainBroken, 1},
		// The hand-over in run 1's last event edited: the replay hands over something else.
		{"hand-over edited in run 1", [][]byte{editPayload(t, run1, `"runs":0`, `"runs":5`), run2}, KindStateMismatch, 1},
		// Run 2 started with another state than run 1 handed over.
		{"start of run 2 edited", [][]byte{run1, editPayload(t, run2, `"runs":0`, `"runs":5`)}, KindRunChainBroken, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Replay(context.Background(), tc.runs)
			if err != nil {
				t.Fatal(err)
			}
			var hit bool
			for _, f := range rep.Findings {
				hit = hit || (f.Kind == tc.kind && f.Run == tc.run)
			}
			if !hit {
				t.Fatalf("no %s finding for run %d in %v", tc.kind, tc.run, rep.Findings)
			}
		})
	}
	t.Run("bundle", func(t *testing.T) {
		key := testKey("server")
		rep, err := Replay(context.Background(), [][]byte{run1, run2})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		err = WriteBundle(&buf, Bundle{SelectionID: rep.Facts.SelectionID, WorkflowID: rep.Facts.WorkflowID, CreatedAt: exportTime,
			Histories: []RunHistory{{JSON: run1}, {JSON: run2}}, Events: eventsFromFacts(t, rep.Facts, false)}, key)
		if err != nil {
			t.Fatal(err)
		}
		b := readBundle(t, buf.Bytes())
		if len(b.Histories) != 2 || b.Manifest.Parts[1].Name != "history/002-"+rep.Runs[1].RunID+".json" {
			t.Fatalf("parts %+v", b.Manifest.Parts)
		}
		vr, err := VerifyBundle(context.Background(), b, key.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		if !vr.OK() {
			t.Fatalf("findings: %v", vr.Findings)
		}
	})
}
