// Package retention erases the documents of closed selections once their retention has
// passed (issue 11, item 9; UU 27/2022 on personal data protection: retention limited to
// need, erasure afterwards). A Sweeper runs beside the uploads: every interval it lists the
// documents due (their selection reached a terminal stage at least the retention ago),
// deletes each one's bytes from document storage unless another document still uses the
// same content-addressed blob, and marks the row erased with an audit event, through the
// store (store.EraseDocument, which owns the rules and the locking). Sweeps are idempotent
// and several processes may sweep at once.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Store is what the sweeper needs of the store.
type Store interface {
	DocumentsDueForErasure(ctx context.Context, cutoff time.Time, after string, limit int) ([]string, error)
	EraseDocument(ctx context.Context, in store.EraseInput, deleteBlob func(ctx context.Context, key string) error) (store.Erasure, error)
}

// Options tune a sweeper.
type Options struct {
	// Retention is how long documents are kept after their selection closed; it must be
	// positive (keeping documents for good is not running a sweeper at all).
	Retention time.Duration
	// Interval is the pause between sweeps.
	Interval time.Duration
	// BatchSize is how many due documents one listing reads; 0 means 100.
	BatchSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sweeper erases documents whose retention has passed.
type Sweeper struct {
	store  Store
	blobs  blob.Store
	logger *slog.Logger
	opts   Options
}

// New returns a sweeper over the store and document storage.
func New(st Store, blobs blob.Store, logger *slog.Logger, opts Options) (*Sweeper, error) {
	if opts.Retention <= 0 {
		return nil, fmt.Errorf("retention: the retention must be positive, got %s", opts.Retention)
	}
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("retention: the interval must be positive, got %s", opts.Interval)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sweeper{store: st, blobs: blobs, logger: logger, opts: opts}, nil
}

// Summary counts what one sweep did. It holds no personal data (and no document IDs), so
// it may be logged as it is.
type Summary struct {
	// Due is how many due documents the sweep found; Erased how many it erased.
	Due, Erased int
	// BlobsDeleted counts the blobs deleted; Erased - BlobsDeleted documents left their
	// blob to other documents with the same content.
	BlobsDeleted int
	// Skipped were not erased without an error: another sweeper erased them first, or they
	// were no longer due.
	Skipped int
	// Failed could not be erased now (storage or database errors); the next sweep tries
	// them again.
	Failed int
	// Selections counts the selections whose documents were erased.
	Selections int
}

func (s Summary) attrs() []any {
	return []any{"due", s.Due, "erased", s.Erased, "blobs_deleted", s.BlobsDeleted, "skipped", s.Skipped,
		"failed", s.Failed, "selections", s.Selections}
}

// Run sweeps at once and then every interval until ctx ends. A sweep that erased or failed
// anything logs its summary; failures are retried by the next sweep.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		sum, err := s.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			s.logger.ErrorContext(ctx, "document erasure sweep failed", append(sum.attrs(), "error", err, "took", time.Since(start))...)
		case sum.Erased > 0 || sum.Failed > 0:
			s.logger.InfoContext(ctx, "document erasure sweep", append(sum.attrs(), "retention", s.opts.Retention, "took", time.Since(start))...)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce erases every document due now and reports what it did. A document that cannot be
// erased does not stop the others: its failure is logged and counted, and the error
// returned is about the sweep as a whole (the listing failed, or ctx ended).
func (s *Sweeper) RunOnce(ctx context.Context) (Summary, error) {
	var sum Summary
	now := s.opts.Now()
	cutoff := now.Add(-s.opts.Retention)
	selections := map[string]bool{}
	after := ""
	for {
		ids, err := s.store.DocumentsDueForErasure(ctx, cutoff, after, s.opts.BatchSize)
		if err != nil {
			return sum, fmt.Errorf("retention: %w", err)
		}
		if len(ids) == 0 {
			return sum, nil
		}
		sum.Due += len(ids)
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			e, err := s.store.EraseDocument(ctx, store.EraseInput{DocumentID: id, Cutoff: cutoff, Now: s.opts.Now()}, s.deleteBlob)
			switch {
			case err != nil:
				sum.Failed++
				// The ID is opaque and the error names at most a content digest: no
				// personal data.
				s.logger.WarnContext(ctx, "erase document", "document", id, "error", err)
			case !e.Erased:
				sum.Skipped++
			default:
				sum.Erased++
				if e.BlobDeleted {
					sum.BlobsDeleted++
				}
				if !selections[e.Document.SelectionID] {
					selections[e.Document.SelectionID] = true
					sum.Selections++
				}
			}
		}
		after = ids[len(ids)-1]
	}
}

// deleteBlob deletes a document's bytes; a blob already gone counts as deleted.
func (s *Sweeper) deleteBlob(ctx context.Context, key string) error {
	if err := s.blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return nil
}
