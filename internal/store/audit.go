package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/bkpsdm/seleksi/internal/auditchain"
)

// The audit log is a hash chain per selection. Each event's hash covers every field of the
// event and the previous event's hash, so changing, deleting or reordering a stored event
// breaks the chain at that point. The selection row keeps the chain's head (last seq and
// hash), which also exposes a truncated tail. The events the workflow caused are also in its
// history (the records it sent to ApplyCommand), against which internal/audit cross-checks
// them; that anchors the chain outside the database, where rewriting it wholesale would not.

// auditInput is an event before it is chained.
type auditInput struct {
	WorkflowID   string
	UpdateID     string
	CommandSeq   int64
	Actor        Actor
	Action       string
	Target       string
	Reason       string
	WorkflowTime time.Time
	Payload      any
	// canonical and payloadSHA, when set, are Payload's canonical JSON and its digest,
	// computed by a caller that needed them too.
	canonical  []byte
	payloadSHA string
}

// ChainHash computes an event's hash from its fields and e.PrevHash (e.Hash is ignored),
// with the encoding auditchain.Hash documents; internal/audit verifies chains with the same.
func ChainHash(e AuditEvent) string {
	return auditchain.Hash(auditchain.Link{
		PrevHash: e.PrevHash, SelectionID: e.SelectionID, Seq: e.Seq, WorkflowID: e.WorkflowID, UpdateID: e.UpdateID,
		CommandSeq: e.CommandSeq, ActorSubject: e.ActorSubject, Role: e.Role, Action: e.Action, Target: e.Target,
		Reason: e.Reason, WorkflowTime: e.WorkflowTime, PayloadSHA256: e.PayloadSHA256,
	})
}

// appendAudit chains one event onto the selection's log. The caller holds the selection's
// lock in the current transaction (lockSelection) and passes the row it read, which this
// updates in place with the new head.
func (s *Store) appendAudit(tx *gorm.DB, sel *selectionRow, in auditInput, now time.Time) (auditRow, error) {
	row, err := nextAuditRow(sel, in, now)
	if err != nil {
		return auditRow{}, err
	}
	if err := tx.Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			// Another writer chained an event with this seq first: the head we read is
			// stale. Only possible if a caller forgot the lock; retrying re-reads it.
			return auditRow{}, fmt.Errorf("audit seq %d taken: %w", row.Seq, errRetry)
		}
		return auditRow{}, fmt.Errorf("insert audit event: %w", err)
	}
	if err := advanceAuditHead(tx, sel.ID, sel.AuditSeq, row.Seq, row.Hash, 1, now); err != nil {
		return auditRow{}, err
	}
	sel.AuditSeq, sel.AuditHead = row.Seq, row.Hash
	sel.Version++
	return row, nil
}

// nextAuditRow returns the event that in chains onto sel's head, without writing it.
func nextAuditRow(sel *selectionRow, in auditInput, now time.Time) (auditRow, error) {
	payloadSHA, payload := in.payloadSHA, in.canonical
	if payload == nil {
		var err error
		if payloadSHA, payload, err = digestJSON(in.Payload); err != nil {
			return auditRow{}, fmt.Errorf("audit payload: %w", err)
		}
	}
	ev := AuditEvent{
		SelectionID:   sel.ID,
		Seq:           sel.AuditSeq + 1,
		WorkflowID:    in.WorkflowID,
		UpdateID:      in.UpdateID,
		CommandSeq:    in.CommandSeq,
		ActorSubject:  in.Actor.Subject,
		Role:          in.Actor.Role,
		Action:        in.Action,
		Target:        in.Target,
		Reason:        in.Reason,
		WorkflowTime:  instant(in.WorkflowTime),
		PayloadSHA256: payloadSHA,
		PrevHash:      sel.AuditHead,
	}
	ev.Hash = ChainHash(ev)
	return auditRow{
		SelectionID: ev.SelectionID, Seq: ev.Seq, WorkflowID: ev.WorkflowID, UpdateID: ev.UpdateID,
		CommandSeq: ev.CommandSeq, ActorSubject: ev.ActorSubject, Role: ev.Role, Action: ev.Action,
		Target: ev.Target, Reason: ev.Reason, WorkflowTime: ev.WorkflowTime, Payload: string(payload),
		PayloadSHA256: ev.PayloadSHA256, PrevHash: ev.PrevHash, Hash: ev.Hash, RecordedAt: instant(now),
	}, nil
}

// advanceAuditHead moves the selection's recorded head from seq from to the event to, hash
// head, counting events more changes in its version, as events appended one by one would.
// The head having moved from from is errRetry: the caller's transaction read a stale head.
func advanceAuditHead(tx *gorm.DB, selectionID string, from, to int64, head string, events int, now time.Time) error {
	res := tx.Model(&selectionRow{}).
		Where("id = ? AND audit_seq = ?", selectionID, from).
		UpdateColumns(map[string]any{"audit_seq": to, "audit_head": head, "version": gorm.Expr("version + ?", events), "updated_at": instant(now)})
	if res.Error != nil {
		return fmt.Errorf("advance audit head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("audit head moved: %w", errRetry)
	}
	return nil
}

// FindingKind names what a verification found, with the API's FindingKind names.
type FindingKind string

// Kinds of findings.
const (
	// FindingHashMismatch: an event's fields no longer match its hash (or its payload no
	// longer matches its digest): the event was changed.
	FindingHashMismatch FindingKind = "FINDING_KIND_HASH_MISMATCH"
	// FindingChainBroken: an event does not point at the hash of the event before it: events
	// were reordered, or one was replaced.
	FindingChainBroken FindingKind = "FINDING_KIND_CHAIN_BROKEN"
	// FindingMissingEvent: a sequence number is missing: an event was deleted.
	FindingMissingEvent FindingKind = "FINDING_KIND_MISSING_EVENT"
	// FindingUnexpectedEvent: there are events beyond the head the selection recorded.
	FindingUnexpectedEvent FindingKind = "FINDING_KIND_UNEXPECTED_EVENT"
)

// Finding is the first broken link of a chain.
type Finding struct {
	Kind FindingKind
	// Seq is the sequence number of the event at which the chain breaks.
	Seq     int64
	Message string
}

// Report is the result of verifying a selection's audit chain.
type Report struct {
	SelectionID   string
	OK            bool
	EventsChecked int64
	// HeadSeq and Head are the head the selection recorded.
	HeadSeq int64
	Head    string
	// First is the first broken link; nil when the chain is intact.
	First *Finding
}

// verifyBatch is how many events VerifyChain reads at a time.
const verifyBatch = 1000

// VerifyChain walks a selection's audit chain from the first event, recomputing every hash
// and link, and reports the first broken link. A broken chain is a finding in the report,
// not an error; errors mean the check itself could not run.
//
// The selection's head is read after the walk: an append stores its event and moves the head
// in one transaction, so every event the walk saw has its head by then, and an event beyond
// that head was put there by something else. Events appended during the walk move the head
// past the walk's last event; the walk then goes on to them.
func (s *Store) VerifyChain(ctx context.Context, selectionID string) (Report, error) {
	op := fmt.Sprintf("store: verify chain of selection %q", selectionID)
	var sel selectionRow
	if err := s.db.WithContext(ctx).Select("id").Take(&sel, "id = ?", selectionID).Error; err != nil {
		return Report{}, fmt.Errorf("%s: %w", op, notFound(err))
	}
	rep := Report{SelectionID: selectionID}
	fail := func(kind FindingKind, seq int64, format string, args ...any) (Report, error) {
		rep.First = &Finding{Kind: kind, Seq: seq, Message: fmt.Sprintf(format, args...)}
		return rep, nil
	}
	var (
		lastSeq  int64
		prevHash string
	)
	// Catching up with appends is bounded, so that a selection busy without pause is still
	// reported on. Each pass after the first reads only what was appended during the one
	// before, a few events at most, so a pass takes far less time than appends do and the
	// walk catches up in a pass or two even in a deadline rush; the bound is never met in
	// practice.
	for pass := 0; ; pass++ {
		for {
			var rows []auditRow
			err := s.db.WithContext(ctx).Where("selection_id = ? AND seq > ?", selectionID, lastSeq).
				Order("seq").Limit(verifyBatch).Find(&rows).Error
			if err != nil {
				return Report{}, fmt.Errorf("%s: %w", op, err)
			}
			for i := range rows {
				r := &rows[i]
				want := lastSeq + 1
				if r.Seq != want {
					return fail(FindingMissingEvent, want, "event %d is missing: the next stored event is %d", want, r.Seq)
				}
				if r.PrevHash != prevHash {
					return fail(FindingChainBroken, r.Seq, "event %d does not follow event %d: its previous hash is %.12s…, event %d's hash is %.12s…",
						r.Seq, r.Seq-1, r.PrevHash, r.Seq-1, prevHash)
				}
				if sha256Hex([]byte(r.Payload)) != r.PayloadSHA256 {
					return fail(FindingHashMismatch, r.Seq, "the payload of event %d does not match its digest", r.Seq)
				}
				if ChainHash(r.event()) != r.Hash {
					return fail(FindingHashMismatch, r.Seq, "event %d was changed: its fields do not match its hash", r.Seq)
				}
				prevHash, lastSeq = r.Hash, r.Seq
				rep.EventsChecked++
			}
			if len(rows) < verifyBatch {
				break
			}
		}
		if err := s.db.WithContext(ctx).Select("id", "audit_seq", "audit_head").Take(&sel, "id = ?", selectionID).Error; err != nil {
			return Report{}, fmt.Errorf("%s: %w", op, notFound(err))
		}
		rep.HeadSeq, rep.Head = sel.AuditSeq, sel.AuditHead
		if sel.AuditSeq <= lastSeq || pass == 50 {
			break
		}
	}
	switch {
	case lastSeq < sel.AuditSeq:
		return fail(FindingMissingEvent, lastSeq+1, "events %d to %d are missing: the selection's head is event %d", lastSeq+1, sel.AuditSeq, sel.AuditSeq)
	case lastSeq > sel.AuditSeq:
		return fail(FindingUnexpectedEvent, sel.AuditSeq+1, "event %d is beyond the selection's head (event %d)", sel.AuditSeq+1, sel.AuditSeq)
	case prevHash != sel.AuditHead:
		return fail(FindingChainBroken, lastSeq, "the last event's hash does not match the head the selection recorded")
	}
	rep.OK = true
	return rep, nil
}

func (r *auditRow) event() AuditEvent {
	return AuditEvent{
		SelectionID: r.SelectionID, Seq: r.Seq, WorkflowID: r.WorkflowID, UpdateID: r.UpdateID,
		CommandSeq: r.CommandSeq, ActorSubject: r.ActorSubject, Role: r.Role, Action: r.Action,
		Target: r.Target, Reason: r.Reason, WorkflowTime: r.WorkflowTime.UTC(), Payload: json.RawMessage(r.Payload),
		PayloadSHA256: r.PayloadSHA256, PrevHash: r.PrevHash, Hash: r.Hash, RecordTime: r.RecordedAt.UTC(),
	}
}

// ListAuditEvents lists a selection's audit events in chain order. The filter accepts
// `action = X` and `role = X`.
func (s *Store) ListAuditEvents(ctx context.Context, selectionID string, opts ListOptions) (Page[AuditEvent], error) {
	op := fmt.Sprintf("store: list audit events of selection %q", selectionID)
	q, err := s.newListQuery("audit:"+selectionID, opts, auditFields, auditOrders, "seq")
	if err != nil {
		return Page[AuditEvent]{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return Page[AuditEvent]{}, fmt.Errorf("%s: %w", op, err)
	}
	base := s.db.WithContext(ctx).Model(&auditRow{}).Where("selection_id = ?", selectionID)
	rows, next, total, err := runList(s, q, base, func(r *auditRow) []any { return []any{r.Seq} })
	if err != nil {
		return Page[AuditEvent]{}, fmt.Errorf("%s: %w", op, err)
	}
	out := Page[AuditEvent]{NextPageToken: next, TotalSize: total}
	for i := range rows {
		out.Items = append(out.Items, rows[i].event())
	}
	return out, nil
}

// lockSelection reads a selection's row for update inside tx. On PostgreSQL the row lock
// serializes every writer of one selection (intake, commands, snapshots), which keeps its
// audit chain linear; on SQLite the transaction is IMMEDIATE and already holds the database's
// single write lock.
func (s *Store) lockSelection(tx *gorm.DB, id string) (*selectionRow, error) {
	var sel selectionRow
	q := tx
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&sel, "id = ?", id).Error; err != nil {
		return nil, fmt.Errorf("selection %q: %w", id, notFound(err))
	}
	return &sel, nil
}

// notFound turns gorm's record-not-found into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
