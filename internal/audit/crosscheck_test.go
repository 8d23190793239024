package audit

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/workflows"
)

func factsOf(t *testing.T, name string) HistoryFacts {
	t.Helper()
	h := recorded(t)[name]
	if h == nil {
		t.Skipf("no %s history", name)
	}
	rep, err := Replay(context.Background(), [][]byte{h})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Facts
}

// relink recomputes the chain after an edit, as a store operator rewriting the table would,
// so that only the cross-check can catch the edit.
func relink(events []AuditEvent) []AuditEvent {
	for i := range events {
		events[i].Seq = int64(i + 1)
		var prev *AuditEvent
		if i > 0 {
			prev = &events[i-1]
		}
		events[i] = Link(prev, events[i])
	}
	return events
}

func TestCrossCheck(t *testing.T) {
	facts := factsOf(t, "objections-recusal-withdrawal")
	// The first committee command of the selection: member3's conflict declaration.
	i := slices.IndexFunc(facts.Records, func(r RecordFact) bool { return r.Record.Kind == workflows.CmdDeclareConflict })
	rec := facts.Records[i]
	upd := facts.Updates[slices.IndexFunc(facts.Updates, func(u UpdateFact) bool { return u.UpdateID == rec.Record.Key })]
	find := func(events []AuditEvent, key string) int {
		return slices.IndexFunc(events, func(e AuditEvent) bool { return e.UpdateID == key })
	}
	tests := []struct {
		name     string
		edit     func([]AuditEvent) []AuditEvent
		kind     string
		eventIDs []int64
		seqs     func([]AuditEvent) []int64
	}{
		{name: "matching", edit: func(e []AuditEvent) []AuditEvent { return e }},
		{name: "event of an accepted update deleted", edit: func(e []AuditEvent) []AuditEvent {
			return relink(slices.Delete(e, find(e, rec.Record.Key), find(e, rec.Record.Key)+1))
		}, kind: KindAuditEventMissing, eventIDs: []int64{upd.AcceptedEventID, rec.ScheduledEventID, rec.CompletedEventID}},
		{name: "transition's event deleted", edit: func(e []AuditEvent) []AuditEvent {
			return relink(slices.Delete(e, find(e, "event-2"), find(e, "event-2")+1))
		}, kind: KindAuditEventMissing},
		{name: "forged committee action", edit: func(e []AuditEvent) []AuditEvent {
			forged := e[find(e, rec.Record.Key)]
			forged.UpdateID, forged.Reason = "req-forged", "added later"
			return relink(append(e, forged))
		}, kind: KindAuditEventUnmatched, seqs: func(e []AuditEvent) []int64 { return []int64{int64(len(e))} }},
		{name: "forged action without workflow identifiers", edit: func(e []AuditEvent) []AuditEvent {
			return relink(append(e, AuditEvent{ActorSubject: "chair", Role: "ROLE_COMMITTEE", Action: workflows.CmdDecide,
				Target: "selections/x", WorkflowTime: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC)}))
		}, kind: KindAuditEventUnmatched},
		{name: "forged correction of a published result", edit: func(e []AuditEvent) []AuditEvent {
			return relink(append(e, AuditEvent{ActorSubject: "chair", Role: "ROLE_COMMITTEE", Action: workflows.CmdCorrectResult,
				Target: "selections/x/results/STAGE_ADMINISTRATIVE_SCREENING", WorkflowTime: time.Date(2026, 12, 12, 0, 0, 0, 0, time.UTC)}))
		}, kind: KindAuditEventUnmatched},
		{name: "duplicated event", edit: func(e []AuditEvent) []AuditEvent {
			return relink(append(e, e[find(e, rec.Record.Key)]))
		}, kind: KindAuditEventUnmatched},
		{name: "reason rewritten", edit: func(e []AuditEvent) []AuditEvent {
			e[find(e, rec.Record.Key)].Reason = "no conflict at all"
			return relink(e)
		}, kind: KindAuditEventMismatch, seqs: func(e []AuditEvent) []int64 { return []int64{e[find(e, rec.Record.Key)].Seq} }},
		{name: "actor rewritten", edit: func(e []AuditEvent) []AuditEvent {
			e[find(e, rec.Record.Key)].ActorSubject = "member4"
			return relink(e)
		}, kind: KindAuditEventMismatch},
		{name: "payload digest rewritten", edit: func(e []AuditEvent) []AuditEvent {
			j := find(e, rec.Record.Key)
			e[j].Payload = []byte(`{"applicationIds":["app-0002"]}`)
			e[j].PayloadSHA256, _ = PayloadDigest(e[j].Payload)
			return relink(e)
		}, kind: KindAuditEventMismatch},
		{name: "time shifted", edit: func(e []AuditEvent) []AuditEvent {
			e[find(e, rec.Record.Key)].WorkflowTime = rec.Record.At.Add(-24 * time.Hour)
			return relink(e)
		}, kind: KindAuditEventMismatch},
		{name: "store-only events are not workflow events", edit: func(e []AuditEvent) []AuditEvent {
			// As the store writes them: the selection's creation names the workflow, an
			// application its request ID.
			created := AuditEvent{WorkflowID: facts.WorkflowID, UpdateID: "req-create", ActorSubject: "admin-1", Role: "ROLE_ADMIN",
				Action: "CreateSelection", Target: "selections/x", WorkflowTime: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
			submitted := AuditEvent{UpdateID: "req-submit-9", ActorSubject: "cand-0009", Role: "ROLE_CANDIDATE", Action: "SubmitApplication",
				Target: "selections/x/applications/app-0009", WorkflowTime: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
			return relink(append([]AuditEvent{created}, append(e, submitted)...))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events := tc.edit(eventsFromFacts(t, facts, true))
			if fs := CheckChain(events, nil); len(fs) > 0 {
				t.Fatalf("the edited chain does not verify on its own: %v", fs)
			}
			fs := CrossCheck(facts, events)
			if tc.kind == "" {
				if len(fs) > 0 {
					t.Fatalf("findings: %v", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Kind != tc.kind {
				t.Fatalf("findings %v, want one %s", fs, tc.kind)
			}
			if tc.eventIDs != nil && !slices.Equal(fs[0].EventIDs, tc.eventIDs) {
				t.Errorf("event IDs %v, want %v", fs[0].EventIDs, tc.eventIDs)
			}
			if len(fs[0].EventIDs) == 0 && tc.kind != KindAuditEventUnmatched {
				t.Errorf("no event IDs: %v", fs[0])
			}
			if tc.seqs != nil && !slices.Equal(fs[0].Seqs, tc.seqs(events)) {
				t.Errorf("seqs %v, want %v", fs[0].Seqs, tc.seqs(events))
			}
		})
	}
}

func TestCheckSnapshots(t *testing.T) {
	facts := factsOf(t, "extended-then-postponed")
	tests := []struct {
		name string
		edit func([]SnapshotDigest) []SnapshotDigest
		n    int
	}{
		{"matching", func(d []SnapshotDigest) []SnapshotDigest { return d }, 0},
		{"rows changed after the close", func(d []SnapshotDigest) []SnapshotDigest { d[1].Digest = "sha256:other"; return d }, 1},
		{"application added", func(d []SnapshotDigest) []SnapshotDigest { d[0].Applications++; return d }, 1},
		{"snapshot missing", func(d []SnapshotDigest) []SnapshotDigest { return d[1:] }, 1},
		{"snapshot the workflow never took", func(d []SnapshotDigest) []SnapshotDigest {
			return append(d, SnapshotDigest{Key: "snapshot-9", Digest: "x"})
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := CheckSnapshots(facts, tc.edit(digestsFromFacts(facts)))
			if len(fs) != tc.n {
				t.Fatalf("findings %v, want %d", fs, tc.n)
			}
			for _, f := range fs {
				if f.Kind != KindSnapshotDigestMismatch {
					t.Errorf("kind %s", f.Kind)
				}
			}
		})
	}
}
