package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/auditchain"
)

// AuditEvent is one entry of a selection's audit log, as the store keeps it (the audit_events
// table) and as the bundle carries it. Seq orders the chain; PrevHash and Hash link it.
type AuditEvent struct {
	SelectionID string `json:"selectionId"`
	// Seq is the position in the selection's chain, from 1 without gaps.
	Seq int64 `json:"seq"`
	// WorkflowID is the selection's workflow ID.
	WorkflowID string `json:"workflowId,omitempty"`
	// UpdateID is, for an event caused by the workflow, the CommandRecord.Key: the Workflow
	// Update ID (the API's request_id) for a committee or candidate command, "event-<seq>"
	// for a transition the workflow made on its own. For an event the store records on its
	// own (an application submitted during the announcement), it is the API's request_id.
	UpdateID string `json:"updateId,omitempty"`
	// CommandSeq is the CommandRecord.Seq of the record that caused the event (numbered from
	// 1 per selection across continue-as-new), or 0 for the store's own events; a non-zero
	// CommandSeq (or a workflow action) is what marks an event as the workflow's.
	CommandSeq   int64  `json:"commandSeq,omitempty"`
	ActorSubject string `json:"actorSubject"`
	Role         string `json:"role"`
	// Action is the CommandRecord.Kind (workflows.Cmd*/Evt*) for workflow events, or the
	// store's own action name (such as "SubmitApplication").
	Action string `json:"action"`
	// Target is what the action concerns, in the store's words (the selection, an
	// application, an objection). It is covered by the hash but not cross-checked.
	Target string `json:"target"`
	Reason string `json:"reason,omitempty"`
	// WorkflowTime is the selection time of the command (CommandRecord.At); see ChainHash for
	// its precision.
	WorkflowTime time.Time `json:"workflowTime"`
	// Payload is the event's payload as canonical JSON: for a workflow event, the record's
	// Args (the update's argument as received), null for transitions. Bundles carry it so
	// that PayloadSHA256 can be recomputed; it may be omitted when it must not leave the
	// store, and PayloadSHA256 still chains its digest.
	Payload       json.RawMessage `json:"payload,omitempty"`
	PayloadSHA256 string          `json:"payloadSha256"`
	PrevHash      string          `json:"prevHash"`
	Hash          string          `json:"hash"`
	// RecordedAt is when the store wrote the row. It is informational and not covered by the
	// hash: the legal time of an action is WorkflowTime.
	RecordedAt time.Time `json:"recordedAt,omitzero"`
}

// ChainDomain is the first field of every hashed encoding; it keeps chain hashes apart from
// any other SHA-256 in the system and names the version of the encoding.
const ChainDomain = auditchain.Domain

// TimeLayout is how instants are written in the hashed encoding: UTC, always six fractional
// digits. Instants are first truncated to the microsecond, because PostgreSQL keeps no more,
// and a value read back from the store must hash the same as the value written.
const TimeLayout = auditchain.TimeLayout

// ChainHash is the hash of audit event e linked to its predecessor's hash prevHash (the empty
// string for the first event of a selection). e.PrevHash and e.Hash are ignored, so that the
// store can compute the hash before it fills them in.
//
// The hash is the lower-case hex SHA-256 of the concatenation, in this order, of these
// fields, each written as its length in bytes (8-byte big-endian unsigned integer) followed
// by its UTF-8 bytes:
//
//	ChainDomain, prevHash, SelectionID, Seq, WorkflowID, UpdateID, CommandSeq,
//	ActorSubject, Role, Action, Target, Reason, WorkflowTime, PayloadSHA256
//
// Seq and CommandSeq are written in decimal without leading zeros ("0" for zero).
// WorkflowTime is written with TimeLayout after truncation to the microsecond, or as the
// empty string when it is the zero time. The length prefixes make the encoding unambiguous:
// no two different field lists encode to the same bytes, whatever the fields contain.
func ChainHash(prevHash string, e AuditEvent) string {
	// One implementation of the encoding serves the store that writes the chain and the
	// auditor who checks it; TestChainHashVector pins it independently of that code.
	return auditchain.Hash(auditchain.Link{
		PrevHash: prevHash, SelectionID: e.SelectionID, Seq: e.Seq, WorkflowID: e.WorkflowID, UpdateID: e.UpdateID,
		CommandSeq: e.CommandSeq, ActorSubject: e.ActorSubject, Role: e.Role, Action: e.Action,
		Target: e.Target, Reason: e.Reason, WorkflowTime: e.WorkflowTime, PayloadSHA256: e.PayloadSHA256,
	})
}

// FormatInstant writes t as the hashed encoding does (see TimeLayout).
func FormatInstant(t time.Time) string { return auditchain.FormatInstant(t) }

// sameInstant compares two instants at the precision the chain keeps.
func sameInstant(a, b time.Time) bool { return FormatInstant(a) == FormatInstant(b) }

// Link fills in e's PrevHash and Hash after prev (nil for the first event). The store calls
// it when it appends an event; tests build synthetic chains with it.
func Link(prev *AuditEvent, e AuditEvent) AuditEvent {
	e.PrevHash = ""
	if prev != nil {
		e.PrevHash = prev.Hash
	}
	e.Hash = ChainHash(e.PrevHash, e)
	return e
}

// ChainHead is the last link of a chain: what the store keeps per selection (audit_seq,
// audit_head) and what the signed manifest records, so that deleting events from the end of
// the chain is detectable too.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Head is the head of events (the zero head for an empty chain).
func Head(events []AuditEvent) ChainHead {
	if len(events) == 0 {
		return ChainHead{}
	}
	last := events[len(events)-1]
	return ChainHead{Seq: last.Seq, Hash: last.Hash}
}

// CheckChain verifies events as one selection's complete chain in the order given: sequence
// numbers from 1 without gaps, each event's PrevHash equal to its predecessor's Hash, each
// Hash equal to ChainHash of the event's content, each carried payload matching its digest,
// and, when head is not nil, the last event equal to the head. Every broken link is
// reported, so a deleted event shows as one gap and a swapped pair as the links around it.
func CheckChain(events []AuditEvent, head *ChainHead) []Finding {
	var fs []Finding
	// sorted, every seq in order, is built at the first gap only: an intact chain, the
	// usual case, has none.
	var sorted []int64
	prevHash := ""
	var prevSeq int64
	for i, e := range events {
		// One finding per broken link, naming both ends. Only breaks are reported: after
		// one, the following events are judged against their predecessor, so a single
		// deletion is one finding, not one per later event.
		var why []string
		switch {
		case i == 0 && e.Seq != 1:
			why = append(why, fmt.Sprintf("the chain starts at seq %d instead of 1", e.Seq))
		case i > 0 && e.Seq <= prevSeq:
			why = append(why, fmt.Sprintf("seq %d comes after seq %d: the events are out of order or duplicated", e.Seq, prevSeq))
		case i > 0 && e.Seq != prevSeq+1:
			if sorted == nil {
				sorted = make([]int64, len(events))
				for j, ev := range events {
					sorted[j] = ev.Seq
				}
				slices.Sort(sorted)
				sorted = slices.Compact(sorted)
			}
			// The seqs strictly between the two that no event carries. Counted by search
			// rather than by walking the gap, which a forged seq can make astronomically
			// long; unsigned, because the difference of two forged seqs can exceed int64.
			lo, _ := slices.BinarySearch(sorted, prevSeq+1)
			hi, _ := slices.BinarySearch(sorted, e.Seq)
			gone := uint64(e.Seq-prevSeq-1) - uint64(hi-lo)
			if gone == 0 {
				why = append(why, fmt.Sprintf("seq %d comes after seq %d: the events are out of order", e.Seq, prevSeq))
			} else {
				why = append(why, fmt.Sprintf("seq %d comes after seq %d: %d event(s) are missing", e.Seq, prevSeq, gone))
			}
		}
		if e.PrevHash != prevHash {
			why = append(why, fmt.Sprintf("its prev_hash %s is not the hash %s of the event before it", short(e.PrevHash), short(prevHash)))
		}
		if len(why) > 0 {
			var seqs []int64
			if i > 0 {
				seqs = append(seqs, prevSeq)
			}
			fs = append(fs, Finding{Kind: KindAuditChainBroken, Seqs: append(seqs, e.Seq),
				Message: fmt.Sprintf("the chain is broken before event seq %d: %s", e.Seq, strings.Join(why, "; "))})
		}
		if h := ChainHash(e.PrevHash, e); h != e.Hash {
			fs = append(fs, Finding{Kind: KindAuditChainBroken, Seqs: []int64{e.Seq},
				Message: fmt.Sprintf("event seq %d was altered: its content hashes to %s, the chain records %s", e.Seq, short(h), short(e.Hash))})
		}
		if len(e.Payload) > 0 {
			d, err := PayloadDigest(e.Payload)
			switch {
			case err != nil:
				fs = append(fs, Finding{Kind: KindAuditPayloadMismatch, Seqs: []int64{e.Seq},
					Message: fmt.Sprintf("event seq %d: the payload is not valid JSON: %v", e.Seq, err)})
			case d != e.PayloadSHA256:
				fs = append(fs, Finding{Kind: KindAuditPayloadMismatch, Seqs: []int64{e.Seq},
					Message: fmt.Sprintf("event seq %d: the payload hashes to %s, the event records %s", e.Seq, short(d), short(e.PayloadSHA256))})
			}
		}
		prevHash, prevSeq = e.Hash, e.Seq
	}
	if head != nil && *head != Head(events) {
		got := Head(events)
		fs = append(fs, Finding{Kind: KindAuditChainBroken, Seqs: nonZero(got.Seq, head.Seq),
			Message: fmt.Sprintf("the chain ends at seq %d (%s), but its recorded head is seq %d (%s): events at the end are missing or were added",
				got.Seq, short(got.Hash), head.Seq, short(head.Hash))})
	}
	return fs
}

// short abbreviates a hash for messages; findings name seqs, so a prefix identifies enough.
func short(h string) string {
	if h == "" {
		return `""`
	}
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// PayloadDigest is the lower-case hex SHA-256 of the canonical JSON of payload (see
// CanonicalJSON). An empty payload digests as JSON null.
func PayloadDigest(payload []byte) (string, error) {
	b, err := CanonicalJSON(payload)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// CanonicalJSON re-encodes a JSON document canonically: object keys sorted by their UTF-8
// bytes, no insignificant white space, numbers exactly as written, strings escaped as
// encoding/json does without HTML escaping. Two documents with the same content encode to
// the same bytes whatever their key order or spacing, which is what makes payload digests
// reproducible by an auditor. It is auditchain's encoding, which the store uses too, so digests
// computed here and there agree by construction.
func CanonicalJSON(doc []byte) ([]byte, error) {
	return auditchain.CanonicalJSON(json.RawMessage(doc))
}
