package audit

import (
	"fmt"
	"slices"
	"strings"
)

// Kinds of findings. They are stable strings, because reports are kept and compared across
// versions of the verifier.
const (
	// KindSignatureInvalid: the manifest's signature does not verify with the expected key,
	// or is missing or malformed.
	KindSignatureInvalid = "signature_invalid"
	// KindPartDigestMismatch: a part's bytes do not have the size or SHA-256 the signed
	// manifest lists for it.
	KindPartDigestMismatch = "part_digest_mismatch"
	// KindPartMissing: the manifest lists a part the archive does not contain.
	KindPartMissing = "part_missing"
	// KindPartUnlisted: the archive contains a file the manifest does not list.
	KindPartUnlisted = "part_unlisted"
	// KindPartInvalid: a part cannot be decoded (a history that is not a JSON history, an
	// audit chain that is not a JSON array of events).
	KindPartInvalid = "part_invalid"
	// KindNondeterminism: the current workflow code, replayed over a recorded run, takes a
	// different path than the history records.
	KindNondeterminism = "nondeterminism"
	// KindReplayFailed: replay failed for a reason other than non-determinism (a panic in the
	// workflow code, a history the SDK cannot process).
	KindReplayFailed = "replay_failed"
	// KindStateMismatch: replay took the recorded path but arrived at a different state or
	// result than the history records (the input handed to the next run by continue-as-new,
	// or the workflow's result), which the SDK itself does not compare.
	KindStateMismatch = "state_mismatch"
	// KindRunChainBroken: the runs do not follow one another by continue-as-new (a run is
	// missing, duplicated, out of order or belongs to another workflow).
	KindRunChainBroken = "run_chain_broken"
	// KindAuditChainBroken: the audit events do not form an intact hash chain: an event was
	// altered, deleted, inserted or reordered, or the chain is shorter than its signed head.
	KindAuditChainBroken = "audit_chain_broken"
	// KindAuditPayloadMismatch: an audit event's payload does not have the digest the event
	// (and so the chain) records.
	KindAuditPayloadMismatch = "audit_payload_mismatch"
	// KindAuditEventMissing: the history records an applied command or transition (or an
	// accepted update) that has no audit event.
	KindAuditEventMissing = "audit_event_missing"
	// KindAuditEventUnmatched: an audit event claims a workflow command or transition that
	// the history does not record.
	KindAuditEventUnmatched = "audit_event_unmatched"
	// KindAuditEventMismatch: an audit event and the history record it matches disagree
	// (actor, action, reason, time, sequence or payload).
	KindAuditEventMismatch = "audit_event_mismatch"
	// KindSnapshotDigestMismatch: the digest of the submitted applications recomputed by the
	// store differs from the one the workflow recorded when the window closed, or one of
	// the two is missing.
	KindSnapshotDigestMismatch = "snapshot_digest_mismatch"
	// KindDocumentMismatch: a document the bundle describes has no upload event in the
	// audit chain, or another digest, size, kind or media type than its upload event
	// records.
	KindDocumentMismatch = "document_mismatch"
)

// Finding is one thing that does not hold.
type Finding struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// Run is the 1-based index of the workflow run the finding concerns (continue-as-new
	// starts a new run), or 0 when it concerns no run in particular. EventIDs are
	// numbered within that run's history.
	Run      int     `json:"run,omitempty"`
	EventIDs []int64 `json:"eventIds,omitempty"`
	// Seqs are the sequence numbers of the audit events involved.
	Seqs []int64 `json:"seqs,omitempty"`
	// Part is the bundle part involved, for findings about the bundle itself.
	Part string `json:"part,omitempty"`
	// Table, Row and Column name the projected fact of a projection finding: the store's
	// table, the row's key within the selection, and the column ("" for a whole row).
	Table  string `json:"table,omitempty"`
	Row    string `json:"row,omitempty"`
	Column string `json:"column,omitempty"`
}

func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Kind)
	if f.Part != "" {
		fmt.Fprintf(&b, " [part %s]", f.Part)
	}
	if f.Table != "" {
		fmt.Fprintf(&b, " [%s %s", f.Table, f.Row)
		if f.Column != "" {
			fmt.Fprintf(&b, " column %s", f.Column)
		}
		b.WriteString("]")
	}
	if f.Run > 0 {
		fmt.Fprintf(&b, " [run %d]", f.Run)
	}
	if len(f.EventIDs) > 0 {
		fmt.Fprintf(&b, " [events %s]", joinInts(f.EventIDs))
	}
	if len(f.Seqs) > 0 {
		fmt.Fprintf(&b, " [audit seq %s]", joinInts(f.Seqs))
	}
	b.WriteString(": ")
	b.WriteString(f.Message)
	return b.String()
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// HasKind reports whether any finding is of kind k.
func HasKind(fs []Finding, k string) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Kind == k })
}

// nonZero drops zero event IDs, which stand for "not recorded" in the facts.
func nonZero(ids ...int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}
