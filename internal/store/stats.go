package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// OperationalStats is the state of the deployment that operators watch (internal/telemetry
// serves it as metrics): where the selections are, which are blocked, how the notification
// outbox and the history archive keep up. Every query is a count over an index or a single
// row, so it may run at every scrape.
type OperationalStats struct {
	// Selections counts selections per stage.
	Selections map[string]int64
	// Blocked counts blocked selections per reason code.
	Blocked map[string]int64
	// OutboxPending counts notifications not delivered yet; OutboxOldestPending is when the
	// oldest of them was queued (zero when none).
	OutboxPending       int64
	OutboxOldestPending time.Time
	// DeadLetters counts notifications whose attempts ran out.
	DeadLetters int64
	// ArchivePending counts selections that ended (closed or cancelled, so their workflow
	// completed) and whose final run is not in the history archive yet; ArchiveOldestPending
	// is when the oldest of them ended (zero when none).
	ArchivePending       int64
	ArchiveOldestPending time.Time
}

// continuedAsNew is the close status of a run that handed over to the next: not a
// selection's final run.
const continuedAsNew = "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW"

// awaitingArchive restricts a query over selections (aliased s) to ended selections without
// an archived final run.
const awaitingArchive = "s.stage IN (?, ?) AND NOT EXISTS (SELECT 1 FROM history_archive h WHERE h.workflow_id = s.workflow_id AND h.close_status <> ?)"

// OperationalStats reads the counts operators watch.
func (s *Store) OperationalStats(ctx context.Context) (OperationalStats, error) {
	db := s.db.WithContext(ctx)
	st := OperationalStats{Selections: map[string]int64{}, Blocked: map[string]int64{}}
	var groups []struct {
		Label string
		N     int64
	}
	if err := db.Model(&selectionRow{}).Select("stage AS label, COUNT(*) AS n").Group("stage").Scan(&groups).Error; err != nil {
		return OperationalStats{}, fmt.Errorf("store: selections per stage: %w", err)
	}
	for _, g := range groups {
		st.Selections[g.Label] = g.N
	}
	groups = nil
	if err := db.Model(&selectionRow{}).Select("blocked_reason AS label, COUNT(*) AS n").
		Where("blocked_reason IS NOT NULL AND blocked_reason <> ''").Group("blocked_reason").Scan(&groups).Error; err != nil {
		return OperationalStats{}, fmt.Errorf("store: blocked selections: %w", err)
	}
	for _, g := range groups {
		st.Blocked[g.Label] = g.N
	}

	if err := db.Model(&notificationRow{}).Where("state = ?", NotificationPending).Count(&st.OutboxPending).Error; err != nil {
		return OperationalStats{}, fmt.Errorf("store: pending notifications: %w", err)
	}
	if st.OutboxPending > 0 {
		var oldest notificationRow
		err := db.Select("created_at").Where("state = ?", NotificationPending).Order("created_at").Take(&oldest).Error
		switch {
		case err == nil:
			st.OutboxOldestPending = oldest.CreatedAt.UTC()
		case !errors.Is(err, gorm.ErrRecordNotFound): // delivered since the count
			return OperationalStats{}, fmt.Errorf("store: oldest pending notification: %w", err)
		}
	}
	if err := db.Model(&notificationRow{}).Where("state = ?", NotificationDead).Count(&st.DeadLetters).Error; err != nil {
		return OperationalStats{}, fmt.Errorf("store: dead letters: %w", err)
	}

	if err := db.Table("selections AS s").Where(awaitingArchive, StageClosed, StageCancelled, continuedAsNew).
		Count(&st.ArchivePending).Error; err != nil {
		return OperationalStats{}, fmt.Errorf("store: selections awaiting their archive: %w", err)
	}
	if st.ArchivePending > 0 {
		var oldest selectionRow
		err := db.Table("selections AS s").Select("s.stage_opened_at, s.stage_opened_wall").
			Where(awaitingArchive, StageClosed, StageCancelled, continuedAsNew).
			Order("COALESCE(s.stage_opened_wall, s.stage_opened_at)").Take(&oldest).Error
		switch {
		case err == nil:
			if t := oldest.StageOpenedWall; t != nil {
				st.ArchiveOldestPending = t.UTC()
			} else if t := oldest.StageOpenedAt; t != nil {
				st.ArchiveOldestPending = t.UTC()
			}
		case !errors.Is(err, gorm.ErrRecordNotFound): // archived since the count
			return OperationalStats{}, fmt.Errorf("store: oldest selection awaiting its archive: %w", err)
		}
	}
	return st, nil
}
