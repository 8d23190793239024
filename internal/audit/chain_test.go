package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"testing"
	"time"
)

func syntheticChain() []AuditEvent {
	at := time.Date(2026, 11, 30, 19, 1, 26, 253497386, time.UTC)
	var events []AuditEvent
	for i, a := range []struct{ subject, role, action, reason string }{
		{"seleksi", "ROLE_SYSTEM", "AnnouncementOpened", ""},
		{"cand-0001", "ROLE_CANDIDATE", "SubmitApplication", ""},
		{"member3", "ROLE_COMMITTEE", "DeclareConflict", "former subordinate"},
		{"secretary", "ROLE_COMMITTEE", "RecordResults", ""},
		{"chair", "ROLE_COMMITTEE", "AdvanceStage", "all verdicts recorded"},
	} {
		payload := []byte(`{"n":` + string(rune('0'+i)) + `}`)
		d, _ := PayloadDigest(payload)
		e := AuditEvent{SelectionID: "dinkes-2026-01", Seq: int64(i + 1), WorkflowID: "selection-dinkes-2026-01",
			UpdateID: "req-" + string(rune('a'+i)), CommandSeq: int64(i + 1), ActorSubject: a.subject, Role: a.role,
			Action: a.action, Target: "selections/dinkes-2026-01", Reason: a.reason,
			WorkflowTime: at.Add(time.Duration(i) * time.Hour), Payload: payload, PayloadSHA256: d}
		var prev *AuditEvent
		if i > 0 {
			prev = &events[i-1]
		}
		events = append(events, Link(prev, e))
	}
	return events
}

// chainVector is ChainHash("00ff", e) for the event of TestChainHashVector.
const chainVector = "1167cf79a9dc4784accb5869cdcb6e83d2010ad7b70a081f430b33b6a9378103"

// TestChainHashVector pins the encoding ChainHash documents. The store computes the same
// hash; if this value changes, every chain already written stops verifying.
func TestChainHashVector(t *testing.T) {
	e := AuditEvent{SelectionID: "dinkes-2026-01", Seq: 3, WorkflowID: "selection-dinkes-2026-01", UpdateID: "req-1",
		CommandSeq: 3, ActorSubject: "member3", Role: "ROLE_COMMITTEE", Action: "DeclareConflict",
		Target: "selections/dinkes-2026-01/applications/app-0001", Reason: "former subordinate",
		WorkflowTime:  time.Date(2026, 11, 30, 19, 1, 26, 253497386, time.UTC),
		PayloadSHA256: "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"}
	got := ChainHash("00ff", e)
	// The encoding written out by hand, independently of ChainHash's code.
	var enc []byte
	for _, f := range []string{ChainDomain, "00ff", "dinkes-2026-01", "3", "selection-dinkes-2026-01", "req-1", "3",
		"member3", "ROLE_COMMITTEE", "DeclareConflict", "selections/dinkes-2026-01/applications/app-0001",
		"former subordinate", "2026-11-30T19:01:26.253497Z", e.PayloadSHA256} {
		enc = binary.BigEndian.AppendUint64(enc, uint64(len(f)))
		enc = append(enc, f...)
	}
	sum := sha256.Sum256(enc)
	if manual := hex.EncodeToString(sum[:]); got != manual {
		t.Fatalf("ChainHash = %s, the documented encoding gives %s", got, manual)
	}
	// A fixed vector, for the store's tests and any other implementation.
	if got != chainVector {
		t.Fatalf("ChainHash = %s, want the published vector %s", got, chainVector)
	}
	// Nanoseconds beyond the microsecond do not count (PostgreSQL does not keep them).
	e2 := e
	e2.WorkflowTime = e.WorkflowTime.Truncate(time.Microsecond)
	if ChainHash("00ff", e2) != got {
		t.Error("the hash depends on nanoseconds")
	}
	// The length prefixes keep field boundaries: moving a character across one changes it.
	e3 := e
	e3.ActorSubject, e3.Role = "member3R", "OLE_COMMITTEE"
	if ChainHash("00ff", e3) == got {
		t.Error("moving a character between fields does not change the hash")
	}
}

func TestCheckChain(t *testing.T) {
	tests := []struct {
		name   string
		edit   func([]AuditEvent) []AuditEvent
		head   func([]AuditEvent) *ChainHead
		kind   string
		seqs   []int64
		nFinds int
	}{
		{name: "intact", edit: func(e []AuditEvent) []AuditEvent { return e }},
		{name: "changed reason", edit: func(e []AuditEvent) []AuditEvent {
			e[2].Reason = "no conflict"
			return e
		}, kind: KindAuditChainBroken, seqs: []int64{3}, nFinds: 1},
		{name: "deleted event", edit: func(e []AuditEvent) []AuditEvent {
			return slices.Delete(e, 2, 3)
		}, kind: KindAuditChainBroken, seqs: []int64{2, 4}, nFinds: 1},
		{name: "reordered events", edit: func(e []AuditEvent) []AuditEvent {
			e[2], e[3] = e[3], e[2]
			return e
		}, kind: KindAuditChainBroken, seqs: []int64{2, 4}, nFinds: 3},
		{name: "deleted first event", edit: func(e []AuditEvent) []AuditEvent {
			return e[1:]
		}, kind: KindAuditChainBroken, seqs: []int64{2}, nFinds: 1},
		{name: "deleted last event, head kept", edit: func(e []AuditEvent) []AuditEvent {
			return e[:len(e)-1]
		}, head: func(e []AuditEvent) *ChainHead { h := Head(e); return &h },
			kind: KindAuditChainBroken, seqs: []int64{4, 5}, nFinds: 1},
		{name: "rehashed after an edit", edit: func(e []AuditEvent) []AuditEvent {
			// Recomputing the edited event's hash breaks the next link instead.
			e[2].Reason = "no conflict"
			e[2] = Link(&e[1], e[2])
			return e
		}, kind: KindAuditChainBroken, seqs: []int64{3, 4}, nFinds: 1},
		{name: "changed payload", edit: func(e []AuditEvent) []AuditEvent {
			e[3].Payload = []byte(`{"n":9}`)
			return e
		}, kind: KindAuditPayloadMismatch, seqs: []int64{4}, nFinds: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := syntheticChain()
			var head *ChainHead
			if tc.head != nil {
				head = tc.head(orig)
			}
			fs := CheckChain(tc.edit(syntheticChain()), head)
			if tc.kind == "" {
				if len(fs) > 0 {
					t.Fatalf("findings on an intact chain: %v", fs)
				}
				return
			}
			if len(fs) != tc.nFinds {
				t.Errorf("%d findings, want %d: %v", len(fs), tc.nFinds, fs)
			}
			if fs[0].Kind != tc.kind || !slices.Equal(fs[0].Seqs, tc.seqs) {
				t.Errorf("first finding %v, want %s with seqs %v", fs[0], tc.kind, tc.seqs)
			}
		})
	}
}

func TestCanonicalJSON(t *testing.T) {
	a, err := CanonicalJSON([]byte(` {"b": [1, 2.50, "<x>"], "a": {"d": null, "c": true}} `))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"c":true,"d":null},"b":[1,2.50,"<x>"]}`; string(a) != want {
		t.Errorf("CanonicalJSON = %s, want %s", a, want)
	}
	if _, err := CanonicalJSON([]byte(`{} {}`)); err == nil {
		t.Error("two documents accepted")
	}
}
