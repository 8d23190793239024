package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/converter"

	"github.com/bkpsdm/seleksi/workflows"
)

// ParseHistory decodes one run's history from Temporal's standard JSON form: the protojson
// encoding of temporal.api.history.v1.History that `temporal workflow show --output json`
// and the Web UI's download produce. It also accepts the variants met in practice: the
// older enum spellings (such as "WorkflowExecutionStarted" for
// "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"), which temporalproto understands; a bare JSON
// array of events; and a history wrapped in an object under "history" (the shape of a
// GetWorkflowExecutionHistory response). Unknown fields are ignored, because histories
// written by newer servers carry fields this build may not know.
func ParseHistory(b []byte) (*historypb.History, error) {
	b = bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return nil, fmt.Errorf("parse history: empty document")
	}
	switch b[0] {
	case '[':
		b = append(append([]byte(`{"events":`), b...), '}')
	case '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(b, &probe); err != nil {
			return nil, fmt.Errorf("parse history: %w", err)
		}
		if _, ok := probe["events"]; !ok {
			if inner, ok := probe["history"]; ok {
				b = inner
			}
		}
	}
	h := &historypb.History{}
	if err := (temporalproto.CustomJSONUnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, h); err != nil {
		return nil, fmt.Errorf("parse history: %w", err)
	}
	if len(h.Events) == 0 {
		return nil, fmt.Errorf("parse history: no events")
	}
	if h.Events[0].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
		return nil, fmt.Errorf("parse history: the first event is %s, not WorkflowExecutionStarted", h.Events[0].GetEventType())
	}
	// Everything about a run (its ID, workflow, input) is in the start's attributes; an
	// event that only says it is a start is not one (found by FuzzHistory).
	if h.Events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
		return nil, fmt.Errorf("parse history: the first event, WorkflowExecutionStarted, has no attributes")
	}
	return h, nil
}

// MarshalHistory encodes a history in the standard JSON form (indented, as the CLI writes it).
func MarshalHistory(h *historypb.History) ([]byte, error) {
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("marshal history: %w", err)
	}
	return append(b, '\n'), nil
}

// HistoryFacts is what the workflow histories of one selection record about the commands and
// transitions, read directly from the events (not from replay): the part of the history
// that the audit log and the store must agree with.
type HistoryFacts struct {
	WorkflowID  string `json:"workflowId"`
	SelectionID string `json:"selectionId"`
	// Zone is the agency's time zone from the selection's calendar (WIB, WITA or WIT), for
	// showing times as the people involved saw them.
	Zone string     `json:"zone,omitempty"`
	Runs []RunFacts `json:"runs"`
	// Updates are the accepted Workflow Updates, in history order. Rejected updates never
	// enter the history.
	Updates []UpdateFact `json:"updates"`
	// Records are the ApplyCommand activities, in history order: every command and
	// transition the workflow sent to the store.
	Records []RecordFact `json:"records"`
	// Snapshots are the SnapshotApplications activities: the applications frozen when the
	// announcement window closed, with the store's digest of their rows.
	Snapshots []SnapshotFact `json:"snapshots"`
	// Windows are the ProjectWindow activities: the announcement window as the workflow
	// projected it into the store when it opened and at each extension.
	Windows []WindowFact `json:"windows,omitempty"`
}

// RunFacts describes one run (continue-as-new starts a new one).
type RunFacts struct {
	// Index is 1-based, in the order the runs were given.
	Index int    `json:"index"`
	RunID string `json:"runId,omitempty"`
	// ContinuedFromRunID is the run this one continues (empty for the first run).
	ContinuedFromRunID string `json:"continuedFromRunId,omitempty"`
	// NextRunID is the run this one continued as (empty unless it ended by continue-as-new).
	NextRunID string `json:"nextRunId,omitempty"`
	// Close is how the run ended: "completed", "continued_as_new", "failed", "cancelled",
	// "terminated", "timed_out", or "open" when the history ends before the run did.
	Close       string    `json:"close"`
	Events      int       `json:"events"`
	LastEventID int64     `json:"lastEventId"`
	StartedAt   time.Time `json:"startedAt"`
	ClosedAt    time.Time `json:"closedAt,omitzero"`

	// LastTaskCompletedEventID is the last WorkflowTaskCompleted event: what the history
	// holds after it (an activity's completion, an update) has not reached the workflow's
	// state yet.
	LastTaskCompletedEventID int64 `json:"lastTaskCompletedEventId,omitempty"`
}

// UpdateFact is one accepted Workflow Update.
type UpdateFact struct {
	Run      int    `json:"run"`
	UpdateID string `json:"updateId"`
	Name     string `json:"name"`
	// Args is the update's argument as JSON (the workflows.*Args type of Name).
	Args            json.RawMessage `json:"args,omitempty"`
	Actor           workflows.Actor `json:"actor"`
	AcceptedEventID int64           `json:"acceptedEventId"`
	AcceptedAt      time.Time       `json:"acceptedAt"`
	// CompletedEventID is 0 while the update has not completed.
	CompletedEventID int64 `json:"completedEventId,omitempty"`
	// Outcome is "success", "failure" (the handler refused the command after acceptance,
	// when the state had moved on), or "" while pending.
	Outcome string `json:"outcome,omitempty"`
	Failure string `json:"failure,omitempty"`
}

// RecordFact is one ApplyCommand activity: a command record the workflow sent to the store.
type RecordFact struct {
	Run              int   `json:"run"`
	ScheduledEventID int64 `json:"scheduledEventId"`
	// CompletedEventID is the event that completed the activity, 0 while it has not.
	CompletedEventID int64 `json:"completedEventId,omitempty"`
	// Status is "completed" (the store applied the record), "failed", "timed_out",
	// "cancelled", or "pending".
	Status string                  `json:"status"`
	Record workflows.CommandRecord `json:"record"`
	// Args is Record.Args as the JSON the history carries.
	Args json.RawMessage `json:"args,omitempty"`
}

// SnapshotFact is one SnapshotApplications activity.
type SnapshotFact struct {
	Run              int                       `json:"run"`
	ScheduledEventID int64                     `json:"scheduledEventId"`
	CompletedEventID int64                     `json:"completedEventId,omitempty"`
	Request          workflows.SnapshotRequest `json:"request"`
	// Digest and ApplicationIDs are the result; empty until the activity completed.
	Digest         string   `json:"digest,omitempty"`
	ApplicationIDs []string `json:"applicationIds,omitempty"`
}

// WindowFact is one ProjectWindow activity.
type WindowFact struct {
	Run              int                        `json:"run"`
	ScheduledEventID int64                      `json:"scheduledEventId"`
	CompletedEventID int64                      `json:"completedEventId,omitempty"`
	Window           workflows.WindowProjection `json:"window"`
}

// Applied reports whether the store applied the record (its activity completed).
func (r RecordFact) Applied() bool { return r.Status == "completed" }

// ExtractFacts reads the facts from the runs of one workflow, in order. Payloads that do not
// decode are reported as findings and skipped, so that the rest can still be checked; so is
// a run whose encrypted payloads cannot be decrypted (see WithPayloadCodec).
func ExtractFacts(runs []*historypb.History, opts ...Option) (HistoryFacts, []Finding) {
	o := optionsOf(opts)
	var fs []Finding
	decoded := make([]*historypb.History, len(runs))
	for i, h := range runs {
		d, err := o.decodeRun(h)
		if err != nil {
			fs = append(fs, Finding{Kind: KindPartInvalid, Run: i + 1, Message: fmt.Sprintf("run %d: %v", i+1, err)})
			d = h
		}
		decoded[i] = d
	}
	facts, more := extractFacts(decoded)
	return facts, append(fs, more...)
}

// extractFacts is ExtractFacts for runs whose payloads are decoded.
func extractFacts(runs []*historypb.History) (HistoryFacts, []Finding) {
	var facts HistoryFacts
	var fs []Finding
	dc := converter.GetDefaultDataConverter()
	for i, h := range runs {
		run := i + 1
		rf := RunFacts{Index: run, Events: len(h.GetEvents()), Close: "open"}
		updates := map[string]int{}   // update ID -> index in facts.Updates (this run)
		acceptedBy := map[int64]int{} // accepted event ID -> index in facts.Updates
		records := map[int64]int{}    // scheduled event ID -> index in facts.Records
		snapshots := map[int64]int{}  // scheduled event ID -> index in facts.Snapshots
		windows := map[int64]int{}    // scheduled event ID -> index in facts.Windows
		bad := func(e *historypb.HistoryEvent, what string, err error) {
			fs = append(fs, Finding{Kind: KindPartInvalid, Run: run, EventIDs: []int64{e.GetEventId()},
				Message: fmt.Sprintf("%s of event %d does not decode: %v", what, e.GetEventId(), err)})
		}
		for _, e := range h.GetEvents() {
			rf.LastEventID = e.GetEventId()
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				a := e.GetWorkflowExecutionStartedEventAttributes()
				rf.RunID = a.GetOriginalExecutionRunId()
				rf.ContinuedFromRunID = a.GetContinuedExecutionRunId()
				rf.StartedAt = e.GetEventTime().AsTime()
				if facts.WorkflowID == "" {
					facts.WorkflowID = a.GetWorkflowId()
				}
				if facts.SelectionID == "" {
					var in workflows.SelectionInput
					if err := fromPayloads(dc, a.GetInput(), &in); err != nil {
						bad(e, "the workflow input", err)
					} else {
						facts.SelectionID, facts.Zone = in.SelectionID, string(in.Calendar.Zone)
					}
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes()
				req := a.GetAcceptedRequest()
				u := UpdateFact{Run: run, UpdateID: req.GetMeta().GetUpdateId(), Name: req.GetInput().GetName(),
					AcceptedEventID: e.GetEventId(), AcceptedAt: e.GetEventTime().AsTime()}
				if u.UpdateID == "" {
					u.UpdateID = a.GetProtocolInstanceId()
				}
				raw, err := rawJSON(dc, req.GetInput().GetArgs())
				if err != nil {
					bad(e, "the update's argument", err)
				}
				u.Args = raw
				var withActor struct {
					Actor workflows.Actor `json:"actor"`
				}
				if len(raw) > 0 && json.Unmarshal(raw, &withActor) == nil {
					u.Actor = withActor.Actor
				}
				updates[u.UpdateID] = len(facts.Updates)
				acceptedBy[e.GetEventId()] = len(facts.Updates)
				facts.Updates = append(facts.Updates, u)
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
				a := e.GetWorkflowExecutionUpdateCompletedEventAttributes()
				j, ok := acceptedBy[a.GetAcceptedEventId()]
				if !ok {
					j, ok = updates[a.GetMeta().GetUpdateId()]
				}
				if !ok {
					continue
				}
				u := &facts.Updates[j]
				u.CompletedEventID = e.GetEventId()
				if f := a.GetOutcome().GetFailure(); f != nil {
					u.Outcome, u.Failure = "failure", f.GetMessage()
				} else {
					u.Outcome = "success"
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				a := e.GetActivityTaskScheduledEventAttributes()
				switch a.GetActivityType().GetName() {
				case workflows.ActivityApplyCommand:
					r := RecordFact{Run: run, ScheduledEventID: e.GetEventId(), Status: "pending"}
					raw, err := rawJSON(dc, a.GetInput())
					if err == nil {
						err = json.Unmarshal(raw, &r.Record)
					}
					if err != nil {
						bad(e, "the ApplyCommand input", err)
						continue
					}
					var withArgs struct {
						Args json.RawMessage `json:"args"`
					}
					if json.Unmarshal(raw, &withArgs) == nil {
						r.Args = withArgs.Args
					}
					records[e.GetEventId()] = len(facts.Records)
					facts.Records = append(facts.Records, r)
				case workflows.ActivitySnapshotApplications:
					s := SnapshotFact{Run: run, ScheduledEventID: e.GetEventId()}
					if err := fromPayloads(dc, a.GetInput(), &s.Request); err != nil {
						bad(e, "the SnapshotApplications input", err)
						continue
					}
					snapshots[e.GetEventId()] = len(facts.Snapshots)
					facts.Snapshots = append(facts.Snapshots, s)
				case workflows.ActivityProjectWindow:
					w := WindowFact{Run: run, ScheduledEventID: e.GetEventId()}
					if err := fromPayloads(dc, a.GetInput(), &w.Window); err != nil {
						bad(e, "the ProjectWindow input", err)
						continue
					}
					windows[e.GetEventId()] = len(facts.Windows)
					facts.Windows = append(facts.Windows, w)
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				a := e.GetActivityTaskCompletedEventAttributes()
				if j, ok := records[a.GetScheduledEventId()]; ok {
					facts.Records[j].Status, facts.Records[j].CompletedEventID = "completed", e.GetEventId()
				}
				if j, ok := windows[a.GetScheduledEventId()]; ok {
					facts.Windows[j].CompletedEventID = e.GetEventId()
				}
				if j, ok := snapshots[a.GetScheduledEventId()]; ok {
					s := &facts.Snapshots[j]
					s.CompletedEventID = e.GetEventId()
					var snap workflows.Snapshot
					if err := fromPayloads(dc, a.GetResult(), &snap); err != nil {
						bad(e, "the snapshot", err)
						continue
					}
					s.Digest = snap.Digest
					for _, app := range snap.Applications {
						s.ApplicationIDs = append(s.ApplicationIDs, app.ID)
					}
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
				setRecordStatus(facts.Records, records, e.GetActivityTaskFailedEventAttributes().GetScheduledEventId(), "failed", e.GetEventId())
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
				setRecordStatus(facts.Records, records, e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId(), "timed_out", e.GetEventId())
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
				setRecordStatus(facts.Records, records, e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId(), "cancelled", e.GetEventId())
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				rf.LastTaskCompletedEventID = e.GetEventId()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
				rf.Close, rf.ClosedAt = "completed", e.GetEventTime().AsTime()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				rf.Close, rf.ClosedAt = "continued_as_new", e.GetEventTime().AsTime()
				rf.NextRunID = e.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
				rf.Close, rf.ClosedAt = "failed", e.GetEventTime().AsTime()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
				rf.Close, rf.ClosedAt = "cancelled", e.GetEventTime().AsTime()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
				rf.Close, rf.ClosedAt = "terminated", e.GetEventTime().AsTime()
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
				rf.Close, rf.ClosedAt = "timed_out", e.GetEventTime().AsTime()
			}
		}
		facts.Runs = append(facts.Runs, rf)
	}
	if facts.WorkflowID == "" {
		// Histories from servers older than the workflowId start attribute: the records
		// carry the ID the workflow itself saw.
		for _, r := range facts.Records {
			if r.Record.WorkflowID != "" {
				facts.WorkflowID = r.Record.WorkflowID
				break
			}
		}
	}
	return facts, fs
}

func setRecordStatus(recs []RecordFact, idx map[int64]int, scheduled int64, status string, eventID int64) {
	if j, ok := idx[scheduled]; ok {
		recs[j].Status, recs[j].CompletedEventID = status, eventID
	}
}

// fromPayloads decodes the first payload into v, as the SDK's default converter does.
func fromPayloads(dc converter.DataConverter, p *commonpb.Payloads, v any) error {
	if len(p.GetPayloads()) == 0 {
		return fmt.Errorf("no payload")
	}
	return dc.FromPayload(p.GetPayloads()[0], v)
}

// rawJSON returns the first payload as JSON: the bytes themselves for the json/plain
// encoding the default converter writes, or the decoded value re-encoded otherwise.
func rawJSON(dc converter.DataConverter, p *commonpb.Payloads) (json.RawMessage, error) {
	if len(p.GetPayloads()) == 0 {
		return nil, nil
	}
	pl := p.GetPayloads()[0]
	if string(pl.GetMetadata()[converter.MetadataEncoding]) == converter.MetadataEncodingJSON {
		if !json.Valid(pl.GetData()) {
			return nil, fmt.Errorf("invalid JSON payload")
		}
		return json.RawMessage(pl.GetData()), nil
	}
	var v any
	if err := dc.FromPayload(pl, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return b, err
}
