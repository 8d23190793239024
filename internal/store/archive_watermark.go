package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ArchiveWatermark is how far the history archiver has come (see internal/archive).
type ArchiveWatermark struct {
	// CloseTime: every closed run visibility listed with a close time up to this one is
	// archived. Zero before the first completed pass.
	CloseTime time.Time
	// FullScanAt is when the last pass that listed every closed run within the retention
	// completed; zero if none has.
	FullScanAt time.Time
	// PassAt is when the last pass completed its listing.
	PassAt time.Time
}

type archiveWatermarkRow struct {
	Name       string `gorm:"primaryKey"`
	CloseTime  time.Time
	FullScanAt *time.Time
	PassAt     time.Time
}

func (archiveWatermarkRow) TableName() string { return "archive_watermarks" }

func (r archiveWatermarkRow) watermark() ArchiveWatermark {
	w := ArchiveWatermark{CloseTime: r.CloseTime.UTC(), PassAt: r.PassAt.UTC()}
	if r.FullScanAt != nil {
		w.FullScanAt = r.FullScanAt.UTC()
	}
	return w
}

// GetArchiveWatermark returns the named archive's watermark; the zero watermark when no pass
// has completed yet.
func (s *Store) GetArchiveWatermark(ctx context.Context, name string) (ArchiveWatermark, error) {
	var row archiveWatermarkRow
	err := s.db.WithContext(ctx).Take(&row, "name = ?", name).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ArchiveWatermark{}, nil
	}
	if err != nil {
		return ArchiveWatermark{}, fmt.Errorf("store: archive watermark %q: %w", name, err)
	}
	return row.watermark(), nil
}

// AdvanceArchiveWatermark records a completed pass of the named archive, under lease: the
// close time and the full-scan time only move forward (an earlier value given is kept as it
// was), and the pass time is set. It fails with ErrLeaseLost, writing nothing, unless lease
// is still held at now, so that an archiver that lost its lease midway (paused, cut off)
// cannot move the watermark over runs it never saw.
func (s *Store) AdvanceArchiveWatermark(ctx context.Context, name string, lease Lease, w ArchiveWatermark, now time.Time) error {
	op := fmt.Sprintf("store: advance archive watermark %q", name)
	if name == "" || now.IsZero() || w.PassAt.IsZero() {
		return fmt.Errorf("%s: name, pass time and time are required: %w", op, ErrInvalidArgument)
	}
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		if err := s.checkLease(tx, lease, now); err != nil {
			return err
		}
		var prior archiveWatermarkRow
		err := tx.Take(&prior, "name = ?", name).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
		case err != nil:
			return err
		}
		row := archiveWatermarkRow{Name: name, CloseTime: laterOf(prior.CloseTime, w.CloseTime), PassAt: instant(w.PassAt)}
		full := w.FullScanAt
		if prior.FullScanAt != nil {
			full = laterOf(*prior.FullScanAt, full)
		}
		row.FullScanAt = nullTime(instant(full))
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"close_time", "full_scan_at", "pass_at"}),
		}).Create(&row).Error
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// laterOf is the later of two instants, as stored.
func laterOf(a, b time.Time) time.Time {
	a, b = instant(a), instant(b)
	if b.After(a) {
		return b
	}
	return a
}
