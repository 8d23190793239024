package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows"
)

// TestReplayRecorded replays every history the workflows package recorded and checks that
// the rebuilt state ends where the history says the selection ended.
func TestReplayRecorded(t *testing.T) {
	for name, b := range recorded(t) {
		t.Run(name, func(t *testing.T) {
			rep, err := Replay(context.Background(), [][]byte{b})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() {
				t.Fatalf("findings: %v", rep.Findings)
			}
			if rep.State == nil || rep.Result == nil {
				t.Fatalf("no state or result rebuilt: %+v", rep.Runs)
			}
			recordedResult := completedResult(t, b)
			if rep.State.Stage != recordedResult.Stage || rep.Result.Stage != recordedResult.Stage {
				t.Errorf("rebuilt stage %s (result %s), the history ends at %s", rep.State.Stage, rep.Result.Stage, recordedResult.Stage)
			}
			// A store write that failed (the selection blocked, or a command was refused) is
			// scheduled but not applied, and takes no sequence number.
			applied := 0
			for _, r := range rep.Facts.Records {
				if r.Applied() {
					applied++
				}
			}
			if got, want := int64(applied), rep.State.Seq; got != want {
				t.Errorf("%d applied ApplyCommand records, the state counts %d", got, want)
			}
			if n := strings.Count(string(b), "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"); len(rep.Facts.Updates) != n {
				t.Errorf("%d updates extracted, the history accepted %d", len(rep.Facts.Updates), n)
			}
			for _, u := range rep.Facts.Updates {
				if u.Outcome != "success" || u.Actor.Subject == "" || len(u.Args) == 0 {
					t.Errorf("update %+v", u)
				}
			}
			if len(rep.Facts.Snapshots) == 0 || rep.Facts.Snapshots[0].Digest == "" {
				t.Errorf("no snapshot digest extracted: %+v", rep.Facts.Snapshots)
			}
			if rep.Facts.WorkflowID == "" || rep.Facts.SelectionID == "" || rep.Runs[0].RunID == "" {
				t.Errorf("identity not extracted: %q %q %q", rep.Facts.WorkflowID, rep.Facts.SelectionID, rep.Runs[0].RunID)
			}
		})
	}
}

func completedResult(t *testing.T, b []byte) workflows.SelectionResult {
	t.Helper()
	h, err := ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	last := h.Events[len(h.Events)-1]
	var r workflows.SelectionResult
	if err := json.Unmarshal(last.GetWorkflowExecutionCompletedEventAttributes().GetResult().GetPayloads()[0].GetData(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestParseHistoryVariants feeds the forms histories come in besides the CLI's.
func TestParseHistoryVariants(t *testing.T) {
	b := recorded(t)["happy-path"]
	if b == nil {
		t.Skip("no happy-path history")
	}
	var doc struct {
		Events json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	variants := map[string][]byte{
		"cli":             b,
		"array of events": doc.Events,
		"wrapped":         append(append([]byte(`{"history":{"events":`), doc.Events...), []byte(`}}`)...),
		// Older Web UI and tctl downloads spell enums without their type prefix.
		"short enums": bytes.ReplaceAll(bytes.ReplaceAll(b, []byte(`"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"`), []byte(`"WorkflowExecutionStarted"`)),
			[]byte(`"TASK_QUEUE_KIND_NORMAL"`), []byte(`"Normal"`)),
		"byte order mark": append([]byte("\xef\xbb\xbf"), b...),
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			rep, err := Replay(context.Background(), [][]byte{v})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || rep.State == nil || rep.State.Stage != workflows.StageClosed {
				t.Fatalf("findings %v, state %v", rep.Findings, rep.State)
			}
		})
	}
	for _, bad := range []string{"", "{}", `{"events":[]}`, "not json", `{"events":[{"eventId":"1","eventType":"EVENT_TYPE_TIMER_FIRED"}]}`} {
		if _, err := Replay(context.Background(), [][]byte{[]byte(bad)}); err == nil {
			t.Errorf("Replay(%q) accepted", bad)
		}
	}
}

// editPayload rewrites the JSON inside the base64 data of the first payload that contains
// old, as someone editing a downloaded history would.
func editPayload(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	done := false
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if d, ok := x["data"].(string); ok && !done {
				raw, err := base64.StdEncoding.DecodeString(d)
				if err == nil && strings.Contains(string(raw), old) {
					x["data"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), old, new, 1)))
					done = true
					return
				}
			}
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	if !done {
		t.Fatalf("no payload contains %q", old)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	// Map order is random; the walk must find the same payload every time.
	slices.Sort(ks)
	return ks
}

// TestReplayTampered edits histories the way a changed workflow (or a forger) would and
// checks that replay names the run, the kind and the event.
func TestReplayTampered(t *testing.T) {
	all := recorded(t)
	happy, cancelled := all["happy-path"], all["cancelled-at-competency"]
	if happy == nil || cancelled == nil {
		t.Skip("recorded histories missing")
	}
	tests := []struct {
		name    string
		runs    func() [][]byte
		kind    string
		run     int
		eventID int64
	}{
		{"activity renamed", func() [][]byte {
			return [][]byte{bytes.Replace(happy, []byte(`"name": "ApplyCommand"`), []byte(`"name": "ApplyCommandV2"`), 1)}
		}, KindNondeterminism, 1, 13},
		{"version marker raised", func() [][]byte {
			// The history claims the selection started under rules version 2, which the
			// current code does not know.
			var doc map[string]any
			_ = json.Unmarshal(happy, &doc)
			ev := doc["events"].([]any)[4].(map[string]any)
			v := ev["markerRecordedEventAttributes"].(map[string]any)["details"].(map[string]any)["version"].(map[string]any)
			v["payloads"].([]any)[0].(map[string]any)["data"] = base64.StdEncoding.EncodeToString([]byte("2"))
			out, _ := json.Marshal(doc)
			return [][]byte{out}
		}, KindNondeterminism, 1, 0},
		{"recorded result edited", func() [][]byte {
			return [][]byte{editPayload(t, happy, `"final":8700`, `"final":9700`)}
		}, KindStateMismatch, 1, 212},
		// A start without a task queue made the SDK's replayer dereference nil and crash
		// the process (found by FuzzReplay).
		{"start without a task queue", func() [][]byte {
			var doc map[string]any
			_ = json.Unmarshal(happy, &doc)
			delete(doc["events"].([]any)[0].(map[string]any)["workflowExecutionStartedEventAttributes"].(map[string]any), "taskQueue")
			out, _ := json.Marshal(doc)
			return [][]byte{out}
		}, KindReplayFailed, 1, 0},
		{"another workflow's history", func() [][]byte {
			return [][]byte{bytes.Replace(happy, []byte(`"name": "SelectionWorkflow"`), []byte(`"name": "HiringWorkflow"`), 1)}
		}, KindReplayFailed, 1, 0},
		{"second run not a continuation and non-deterministic", func() [][]byte {
			return [][]byte{happy, bytes.Replace(cancelled, []byte(`"name": "ProjectWindow"`), []byte(`"name": "OpenWindow"`), 1)}
		}, KindNondeterminism, 2, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Replay(context.Background(), tc.runs())
			if err != nil {
				t.Fatal(err)
			}
			var found *Finding
			for i := range rep.Findings {
				if rep.Findings[i].Kind == tc.kind {
					found = &rep.Findings[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s finding in %v", tc.kind, rep.Findings)
			}
			if found.Run != tc.run {
				t.Errorf("run %d, want %d: %v", found.Run, tc.run, found)
			}
			if tc.eventID != 0 && (len(found.EventIDs) == 0 || found.EventIDs[0] != tc.eventID) {
				t.Errorf("event IDs %v, want %d: %v", found.EventIDs, tc.eventID, found)
			}
			if tc.kind == KindNondeterminism && !strings.Contains(found.Message, "TMPRL1100") {
				t.Errorf("the SDK's error text is missing: %s", found.Message)
			}
			if tc.run == len(rep.Runs) && tc.kind == KindNondeterminism && rep.State != nil {
				t.Errorf("a state was rebuilt from a run that does not replay")
			}
			if tc.run == 2 && !HasKind(rep.Findings, KindRunChainBroken) {
				t.Errorf("two unrelated runs are not reported as a broken run chain: %v", rep.Findings)
			}
		})
	}
}

// A change to the workflow that adds a step (here a timer before the selection starts) must
// be guarded with workflow.GetVersion: recorded selections then replay along the old path.
// Without the guard, replay reports non-determinism at the first event that differs.
func changedUnguarded(ctx workflow.Context, in workflows.SelectionInput) (workflows.SelectionResult, error) {
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return workflows.SelectionResult{}, err
	}
	return workflows.SelectionWorkflow(ctx, in)
}

func changedGuarded(ctx workflow.Context, in workflows.SelectionInput) (workflows.SelectionResult, error) {
	if workflow.GetVersion(ctx, "audit-test-cooling-off", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return workflows.SelectionResult{}, err
		}
	}
	return workflows.SelectionWorkflow(ctx, in)
}

func TestReplayVersionedChange(t *testing.T) {
	happy := recorded(t)["happy-path"]
	if happy == nil {
		t.Skip("no happy-path history")
	}
	h, err := ParseHistory(happy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		wf   any
		ok   bool
	}{
		{"current code", workflows.SelectionWorkflow, true},
		{"change guarded by GetVersion", changedGuarded, true},
		{"change without a guard", changedUnguarded, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := replayHistories(context.Background(), []*historypb.History{h}, tc.wf)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok && (!rep.OK() || rep.State == nil || rep.State.Stage != workflows.StageClosed) {
				t.Fatalf("findings %v", rep.Findings)
			}
			if !tc.ok && (!HasKind(rep.Findings, KindNondeterminism) || rep.State != nil) {
				t.Fatalf("findings %v", rep.Findings)
			}
		})
	}
}

// TestReplayChecklistHistory replays the recorded selection screened item by item and reads
// back from the history what the audit relies on: each verdict's items and each objection's
// item answers in the records' arguments (and so in the audit payload digests), the
// checklists the records projected, and the rebuilt checklist rows.
func TestReplayChecklistHistory(t *testing.T) {
	b, ok := recorded(t)["checklist-items"]
	if !ok {
		t.Skip("checklist-items is not recorded")
	}
	rep, err := Replay(context.Background(), [][]byte{b})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("findings: %v", rep.Findings)
	}
	var verdicts, answers int
	var flipped bool
	for _, r := range rep.Facts.Records {
		switch r.Record.Kind {
		case workflows.CmdRecordResults:
			if strings.Contains(string(r.Args), `"items"`) && len(r.Record.Checklists) > 0 {
				verdicts++
			}
		case workflows.CmdAnswerObjection:
			if strings.Contains(string(r.Args), `"items"`) && r.Record.Objection != nil && len(r.Record.Objection.ItemAnswers) == 1 {
				answers++
			}
			for _, cl := range r.Record.Checklists {
				for _, it := range cl.Items {
					flipped = flipped || (it.Objection != "" && it.Status == workflows.ItemMet && it.By != "")
				}
			}
		}
	}
	if verdicts != 2 || answers != 2 || !flipped {
		t.Errorf("records: %d per-item verdicts, %d item answers, an item flipped by an objection: %v", verdicts, answers, flipped)
	}
	var checklists int
	for _, row := range ExpectedProjection(rep.Facts) {
		if row.Table == tableApplications && strings.Contains(row.Columns["checklist"], `"pakta-integritas"`) {
			checklists++
		}
	}
	if checklists != 5 {
		t.Errorf("%d application rows with a checklist, want 5", checklists)
	}
}
