package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Retention and erasure of documents (issue 11, item 9). The documents of a closed selection
// are kept for the configured retention and then erased: their bytes are deleted from
// document storage, the row stays with state 'erased', its erase time and its digest (but
// no longer its file name), and an audit event in the selection's chain records the erasure
// with the digest, so that the record of what was submitted outlives the personal data.
//
// A selection is closed when it reached a terminal stage, STAGE_CLOSED (appointment made)
// or STAGE_CANCELLED, both of which it never leaves; it closed when the workflow projected
// that stage (stage_opened_wall, the wall clock, or stage_opened_at for selections recorded
// before the wall clock was projected: the two differ only under a demo time scale, and the
// retention is a legal period measured on the wall clock). A selection in any other stage,
// or without a recorded close time, has nothing erased.
//
// Storage is content-addressed: documents with the same digest share one blob. A blob is
// deleted only when no document that is not erased still uses its key. The decision and the
// deletion run inside the erasing transaction under a lock on the key (lockBlobKey) that
// CreateDocument takes as well, so a document created meanwhile for the same content either
// commits first (and keeps the blob) or waits until the erasure committed; the uploader then
// finds the blob gone and stores it again (see CreateDocument).
//
// Several processes may sweep at once. Each document is erased in its own transaction that
// first claims the row: FOR UPDATE SKIP LOCKED on PostgreSQL, so a sweeper passes over the
// rows another one is erasing instead of waiting for them, and re-reads the row's state
// under the lock, so none is erased twice; on SQLite the transaction holds the database's
// one write lock. Because the blob is deleted before the row is marked in the same
// transaction, a crash between the two leaves a row that is still due and whose blob is
// gone; the next sweep erases it again, and deleting a missing blob is no error.

// ActionDocumentErased is the audit action of a document's erasure after the retention.
const ActionDocumentErased = "DocumentErased"

// StageClosed and StageCancelled are the terminal stages: a selection in either has ended
// for good.
const (
	StageClosed    = "STAGE_CLOSED"
	StageCancelled = "STAGE_CANCELLED"
)

// retentionSubject is the actor of erasures: Seleksi itself, as for archiving.
const retentionSubject = archiveSubject

// blobKeyLockClass is the first half of the two-key PostgreSQL advisory lock on a blob key
// (the second is the key's hash). The two-key space does not overlap the one-key space of
// the migration lock.
const blobKeyLockClass = 0x5e1e_0b10

// lockBlobKey serializes, on PostgreSQL, the transactions that decide about one blob key:
// an erasure deciding whether the blob is still used, and a document being created with
// the same content. The lock ends with the transaction. SQLite's transactions already run
// one at a time.
func (s *Store) lockBlobKey(tx *gorm.DB, key string) error {
	if s.dialect != Postgres {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?, hashtext(?))", blobKeyLockClass, key).Error; err != nil {
		return fmt.Errorf("lock blob key: %w", err)
	}
	return nil
}

// closedBefore restricts q (over selections, aliased s) to selections that reached a
// terminal stage at or before cutoff.
const closedBefore = "s.stage IN (?, ?) AND COALESCE(s.stage_opened_wall, s.stage_opened_at) <= ?"

// DocumentsDueForErasure returns, in ID order, the IDs of up to limit documents (capped at
// MaxPageSize) that are due for erasure: not erased yet, of a selection that closed at or
// before cutoff (now minus the retention). after continues a listing: only IDs greater than
// it are returned, so a sweep walks every due document once even when some of them cannot
// be erased now.
func (s *Store) DocumentsDueForErasure(ctx context.Context, cutoff time.Time, after string, limit int) ([]string, error) {
	if cutoff.IsZero() {
		return nil, fmt.Errorf("store: documents due for erasure: %w", invalid("cutoff is required"))
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	var ids []string
	err := s.db.WithContext(ctx).Table("documents AS d").Joins("JOIN selections AS s ON s.id = d.selection_id").
		Where("d.state <> ? AND d.id > ?", DocumentStateErased, after).
		Where(closedBefore, StageClosed, StageCancelled, instant(cutoff)).
		Order("d.id").Limit(limit).Pluck("d.id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: documents due for erasure: %w", err)
	}
	return ids, nil
}

// EraseInput asks to erase one document.
type EraseInput struct {
	DocumentID string
	// Cutoff is now minus the retention: the document is erased only if its selection
	// closed at or before it.
	Cutoff time.Time
	Now    time.Time
}

// Erasure is what EraseDocument did.
type Erasure struct {
	// Erased is false when there was nothing to do: the document is already erased, is not
	// due (its selection is open, or closed after the cutoff), is gone, or another sweeper
	// is erasing it right now.
	Erased bool
	// Document is the document as erased.
	Document StoredDocument
	// BlobDeleted reports whether its blob was deleted; false when another document that
	// is not erased still uses it.
	BlobDeleted bool
	// AuditSeq is the erasure's audit event.
	AuditSeq int64
}

// EraseDocument erases one document if it is due, in one transaction: it claims the row,
// checks that the document's selection closed at or before in.Cutoff, calls deleteBlob
// with the document's blob key when no other document that is not erased uses it, and
// marks the row erased (clearing its file name) with an audit event (ActionDocumentErased)
// that records the document's ID and digest. When deleteBlob fails, nothing is changed and
// the error is returned; deleteBlob must treat a missing blob as deleted, since a retried
// transaction or an erasure interrupted after the deletion calls it again.
func (s *Store) EraseDocument(ctx context.Context, in EraseInput, deleteBlob func(ctx context.Context, key string) error) (Erasure, error) {
	op := fmt.Sprintf("store: erase document %q", in.DocumentID)
	if in.DocumentID == "" || in.Cutoff.IsZero() || in.Now.IsZero() || deleteBlob == nil {
		return Erasure{}, fmt.Errorf("%s: %w", op, invalid("document, cutoff, time and blob deletion are required"))
	}
	now, cutoff := instant(in.Now), instant(in.Cutoff)
	var out Erasure
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		out = Erasure{} // a retried transaction starts afresh
		claim := tx
		if s.dialect == Postgres {
			claim = claim.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var doc documentRow
		err := claim.Take(&doc, "id = ? AND state <> ?", in.DocumentID, DocumentStateErased).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil // erased, gone, or being erased by another sweeper
		}
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		sel, err := s.lockSelection(tx, doc.SelectionID)
		if err != nil {
			return err
		}
		closed := sel.StageOpenedWall
		if closed == nil {
			closed = sel.StageOpenedAt
		}
		if (sel.Stage != StageClosed && sel.Stage != StageCancelled) || closed == nil || closed.After(cutoff) {
			return nil // not due: the listing's view was stale, or the caller asked early
		}
		if err := s.lockBlobKey(tx, doc.BlobKey); err != nil {
			return err
		}
		var users int64
		if err := tx.Model(&documentRow{}).Where("blob_key = ? AND state <> ? AND id <> ?", doc.BlobKey, DocumentStateErased, doc.ID).
			Count(&users).Error; err != nil {
			return fmt.Errorf("count other users of the blob: %w", err)
		}
		if users == 0 {
			if err := deleteBlob(ctx, doc.BlobKey); err != nil {
				return fmt.Errorf("delete blob: %w", err)
			}
			out.BlobDeleted = true
		}
		res := tx.Model(&documentRow{}).Where("id = ? AND state <> ?", doc.ID, DocumentStateErased).
			UpdateColumns(map[string]any{"state": DocumentStateErased, "erase_time": now, "file_name": ""})
		if res.Error != nil {
			return fmt.Errorf("mark erased: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("document changed while being erased: %w", errRetry)
		}
		ev, err := s.appendAudit(tx, sel, auditInput{
			UpdateID: "erase-" + doc.ID, Actor: Actor{Subject: retentionSubject, Role: "ROLE_SYSTEM"},
			Action: ActionDocumentErased, Target: "documents/" + doc.ID, WorkflowTime: now,
			Payload: map[string]any{"documentId": doc.ID, "kind": doc.Kind, "sha256": doc.SHA256, "sizeBytes": doc.SizeBytes,
				"blobDeleted": out.BlobDeleted, "selectionClosed": closed.UTC().Format(time.RFC3339Nano),
				"eraseTime": now.Format(time.RFC3339Nano)},
		}, now)
		if err != nil {
			return err
		}
		doc.State, doc.EraseTime, doc.FileName = DocumentStateErased, &now, ""
		out.Erased, out.Document, out.AuditSeq = true, doc.document(), ev.Seq
		return nil
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
