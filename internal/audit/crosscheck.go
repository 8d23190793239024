package audit

import (
	"fmt"
	"strings"

	"github.com/bkpsdm/seleksi/workflows"
)

// workflowActions are the actions only the workflow causes: the command kinds and the
// transitions. An audit event with one of them must match a record in the history even if
// it names no workflow ID or update ID, so that a forged committee action cannot pass as a
// store-only event.
var workflowActions = map[string]bool{
	workflows.CmdWithdraw: true, workflows.CmdRecordResults: true, workflows.CmdDeclareConflict: true,
	workflows.CmdAdvance: true, workflows.CmdDecide: true, workflows.CmdAppoint: true, workflows.CmdCancel: true,
	workflows.CmdFileObjection: true, workflows.CmdAnswerObjection: true, workflows.CmdSupplyHolidays: true, workflows.CmdCorrectResult: true,
	workflows.CmdResume: true, workflows.CmdRecordAbsence: true,
	workflows.EvtOpened: true, workflows.EvtExtended: true, workflows.EvtClosed: true, workflows.EvtPostponed: true,
	workflows.EvtStageOpened: true, workflows.EvtShortlistSettled: true, workflows.EvtChecklistsProposed: true,
}

// fromWorkflow reports whether e claims to be caused by the workflow: it names a command seq
// or a workflow action. The workflow ID and update ID do not decide it, because the store's
// own events carry them too (the selection's creation names its workflow; an application
// submitted to the store carries its API request ID).
func fromWorkflow(e AuditEvent) bool {
	return e.CommandSeq != 0 || workflowActions[e.Action]
}

// CrossCheck matches the audit events with the history, both ways, by (workflow ID, key):
// the key is the CommandRecord.Key, which is the Update ID for commands and "event-<seq>"
// for the workflow's own transitions, and which the store keeps as the event's UpdateID.
//
//   - Every record the store applied (an ApplyCommand activity that completed) must have
//     exactly one audit event, and they must agree on the command seq, the action (the
//     record's kind), the actor, the reason, the workflow time (to the microsecond) and the
//     payload digest (PayloadDigest of the record's Args). A missing event is
//     KindAuditEventMissing; a disagreement KindAuditEventMismatch.
//   - Every update accepted and completed successfully must have its audit event, even if
//     its record is missing from the history (KindAuditEventMissing).
//   - Every audit event caused by the workflow (see fromWorkflow) must match such a record;
//     one that does not, or a second event for the same key, is KindAuditEventUnmatched.
//
// Events the store records on its own (the selection's creation, applications submitted
// during the announcement) carry no command seq and no workflow action, and are checked
// only by the chain.
func CrossCheck(facts HistoryFacts, events []AuditEvent) []Finding {
	var fs []Finding
	type key struct{ wf, id string }
	wfOf := func(id string) string {
		if id == "" {
			return facts.WorkflowID
		}
		return id
	}
	byKey := map[key][]int{}
	for i, e := range events {
		if fromWorkflow(e) {
			k := key{wfOf(e.WorkflowID), e.UpdateID}
			byKey[k] = append(byKey[k], i)
		}
	}
	accepted := map[string]UpdateFact{}
	for _, u := range facts.Updates {
		accepted[u.UpdateID] = u
	}
	matched := make([]bool, len(events))
	recordKeys := map[key]bool{}
	for _, r := range facts.Records {
		k := key{wfOf(r.Record.WorkflowID), r.Record.Key}
		recordKeys[k] = true
		idx := byKey[k]
		for _, i := range idx {
			matched[i] = true
		}
		u := accepted[r.Record.Key]
		ids := nonZero(u.AcceptedEventID, r.ScheduledEventID, r.CompletedEventID)
		if len(idx) == 0 {
			if r.Applied() {
				fs = append(fs, Finding{Kind: KindAuditEventMissing, Run: r.Run, EventIDs: ids,
					Message: fmt.Sprintf("%s %s (command seq %d, %s) was applied but has no audit event",
						r.Record.Kind, r.Record.Key, r.Record.Seq, r.Record.At.UTC().Format(TimeLayout))})
			}
			continue
		}
		e := events[idx[0]]
		if !r.Applied() {
			fs = append(fs, Finding{Kind: KindAuditEventMismatch, Run: r.Run, EventIDs: ids, Seqs: []int64{e.Seq},
				Message: fmt.Sprintf("audit event seq %d records %s %s, but the history shows the store write %s", e.Seq, r.Record.Kind, r.Record.Key, r.Status)})
			continue
		}
		if diffs := compareEvent(e, r); len(diffs) > 0 {
			fs = append(fs, Finding{Kind: KindAuditEventMismatch, Run: r.Run, EventIDs: ids, Seqs: []int64{e.Seq},
				Message: fmt.Sprintf("audit event seq %d disagrees with %s %s in the history: %s", e.Seq, r.Record.Kind, r.Record.Key, strings.Join(diffs, "; "))})
		}
		for _, i := range idx[1:] {
			fs = append(fs, Finding{Kind: KindAuditEventUnmatched, Run: r.Run, EventIDs: ids, Seqs: []int64{events[i].Seq},
				Message: fmt.Sprintf("audit event seq %d repeats %s %s, already recorded as seq %d", events[i].Seq, r.Record.Kind, r.Record.Key, e.Seq)})
		}
	}
	for _, u := range facts.Updates {
		k := key{facts.WorkflowID, u.UpdateID}
		if u.Outcome != "success" || recordKeys[k] {
			continue
		}
		if len(byKey[k]) == 0 {
			fs = append(fs, Finding{Kind: KindAuditEventMissing, Run: u.Run, EventIDs: nonZero(u.AcceptedEventID, u.CompletedEventID),
				Message: fmt.Sprintf("update %s (%s by %s) was accepted and completed but has neither a store record nor an audit event", u.UpdateID, u.Name, u.Actor.Subject)})
		}
	}
	for i, e := range events {
		if !fromWorkflow(e) || matched[i] {
			continue
		}
		msg := fmt.Sprintf("audit event seq %d (%s %s by %s) matches nothing in the history", e.Seq, e.Action, e.UpdateID, e.ActorSubject)
		if u, ok := accepted[e.UpdateID]; ok {
			msg += fmt.Sprintf(" (update %s was accepted but ended with %q)", u.UpdateID, u.Outcome)
		}
		fs = append(fs, Finding{Kind: KindAuditEventUnmatched, Seqs: []int64{e.Seq}, Message: msg})
	}
	return fs
}

// compareEvent lists how an audit event differs from the record it matches.
func compareEvent(e AuditEvent, r RecordFact) []string {
	var d []string
	rec := r.Record
	if e.CommandSeq != rec.Seq {
		d = append(d, fmt.Sprintf("command seq %d, history %d", e.CommandSeq, rec.Seq))
	}
	if e.Action != rec.Kind {
		d = append(d, fmt.Sprintf("action %q, history %q", e.Action, rec.Kind))
	}
	if e.ActorSubject != rec.Actor.Subject || e.Role != string(rec.Actor.Role) {
		d = append(d, fmt.Sprintf("actor %s (%s), history %s (%s)", e.ActorSubject, e.Role, rec.Actor.Subject, rec.Actor.Role))
	}
	if e.Reason != rec.Reason {
		d = append(d, fmt.Sprintf("reason %q, history %q", e.Reason, rec.Reason))
	}
	if !sameInstant(e.WorkflowTime, rec.At) {
		d = append(d, fmt.Sprintf("time %s, history %s", FormatInstant(e.WorkflowTime), FormatInstant(rec.At)))
	}
	if want, err := PayloadDigest(r.Args); err == nil && e.PayloadSHA256 != want {
		d = append(d, fmt.Sprintf("payload digest %s, history %s", short(e.PayloadSHA256), short(want)))
	}
	return d
}

// CheckSnapshots compares the snapshot digests the store recomputed at export with those
// the workflow recorded when the announcement window closed, by snapshot key. A digest that
// differs, a snapshot the store cannot account for, and a snapshot the workflow never took
// are each KindSnapshotDigestMismatch.
func CheckSnapshots(facts HistoryFacts, digests []SnapshotDigest) []Finding {
	var fs []Finding
	byKey := map[string]SnapshotDigest{}
	for _, d := range digests {
		byKey[d.Key] = d
	}
	taken := map[string]bool{}
	for _, s := range facts.Snapshots {
		if s.CompletedEventID == 0 {
			continue
		}
		taken[s.Request.Key] = true
		ids := nonZero(s.ScheduledEventID, s.CompletedEventID)
		d, ok := byKey[s.Request.Key]
		switch {
		case !ok:
			fs = append(fs, Finding{Kind: KindSnapshotDigestMismatch, Run: s.Run, EventIDs: ids,
				Message: fmt.Sprintf("the workflow recorded %s (digest %s, %d applications) but the store gave no digest for it", s.Request.Key, s.Digest, len(s.ApplicationIDs))})
		case d.Digest != s.Digest:
			fs = append(fs, Finding{Kind: KindSnapshotDigestMismatch, Run: s.Run, EventIDs: ids,
				Message: fmt.Sprintf("the applications of %s hash to %s today, the workflow recorded %s at the close: submissions were changed after the window closed", s.Request.Key, d.Digest, s.Digest)})
		case d.Applications != len(s.ApplicationIDs):
			fs = append(fs, Finding{Kind: KindSnapshotDigestMismatch, Run: s.Run, EventIDs: ids,
				Message: fmt.Sprintf("%s holds %d applications in the store, the workflow recorded %d", s.Request.Key, d.Applications, len(s.ApplicationIDs))})
		}
	}
	for _, d := range digests {
		if !taken[d.Key] {
			fs = append(fs, Finding{Kind: KindSnapshotDigestMismatch,
				Message: fmt.Sprintf("the store has a snapshot %s that the workflow never recorded", d.Key)})
		}
	}
	return fs
}
