package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The history archive keeps every closed workflow run's history after Temporal's retention
// has deleted it. Archiving a run also chains an audit event (ActionHistoryArchived) whose
// payload names the run and the SHA-256 of the archived history, so that the archive is
// covered by the selection's audit chain: rewriting an archived history changes its digest,
// which no longer matches the event, and rewriting the event breaks the chain.

// ActionHistoryArchived is the action of the audit event recorded when a run is archived.
const ActionHistoryArchived = "HistoryArchived"

// archiveSubject is who archives runs: seleksid itself, not a person.
const archiveSubject = "seleksi"

// ArchivedRun is one closed run of a selection's workflow, as archived.
type ArchivedRun struct {
	SelectionID string
	WorkflowID  string
	RunID       string
	StartTime   time.Time
	CloseTime   time.Time
	// CloseStatus is Temporal's WorkflowExecutionStatus name, such as
	// WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW.
	CloseStatus string
	// History is the run's history in Temporal's standard JSON form.
	History []byte
	// SHA256 is the lower-case hex SHA-256 of History. ArchiveRun computes it (and refuses a
	// run whose given digest does not match); ListArchivedRuns returns the stored one.
	SHA256     string
	ArchivedAt time.Time
}

// HistoryArchivedPayload is the payload of a HistoryArchived audit event.
type HistoryArchivedPayload struct {
	RunID       string `json:"runId"`
	SHA256      string `json:"sha256"`
	CloseStatus string `json:"closeStatus"`
}

// ArchivedRunTarget is the target of a run's HistoryArchived audit event.
func ArchivedRunTarget(selectionID, runID string) string {
	return "selections/" + selectionID + "/runs/" + runID
}

type historyArchiveRow struct {
	SelectionID   string
	WorkflowID    string `gorm:"primaryKey"`
	RunID         string `gorm:"primaryKey"`
	StartTime     time.Time
	CloseTime     time.Time
	CloseStatus   string
	History       string
	HistorySHA256 string `gorm:"column:history_sha256"`
	ArchivedAt    time.Time
}

func (historyArchiveRow) TableName() string { return "history_archive" }

func (r *historyArchiveRow) run() ArchivedRun {
	return ArchivedRun{
		SelectionID: r.SelectionID, WorkflowID: r.WorkflowID, RunID: r.RunID,
		StartTime: r.StartTime.UTC(), CloseTime: r.CloseTime.UTC(), CloseStatus: r.CloseStatus,
		History: []byte(r.History), SHA256: r.HistorySHA256, ArchivedAt: r.ArchivedAt.UTC(),
	}
}

// ArchiveRun stores a closed run's history and chains its HistoryArchived audit event, in one
// transaction. It is idempotent by (workflow ID, run ID): archiving the same history again
// is a no-op that reports false; a different history for an archived run is ErrConflict,
// because a closed run's history never changes and the first copy is the one the chain
// vouches for. now is when the run is archived.
func (s *Store) ArchiveRun(ctx context.Context, in ArchivedRun, now time.Time) (bool, error) {
	op := fmt.Sprintf("store: archive run %s/%s", in.WorkflowID, in.RunID)
	if in.SelectionID == "" || in.WorkflowID == "" || in.RunID == "" || in.CloseStatus == "" || len(in.History) == 0 ||
		in.StartTime.IsZero() || in.CloseTime.IsZero() || now.IsZero() {
		return false, fmt.Errorf("%s: selection, workflow, run, times, close status and history are required: %w", op, ErrInvalidArgument)
	}
	digest := sha256Hex(in.History)
	if in.SHA256 != "" && in.SHA256 != digest {
		return false, fmt.Errorf("%s: the history does not match its digest: %w", op, ErrInvalidArgument)
	}
	created := false
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		created = false
		// The selection's lock comes first, as for every write that chains an event; it
		// also serializes two archivers racing for the same run.
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		var prior historyArchiveRow
		err = tx.Select("selection_id", "history_sha256").Take(&prior, "workflow_id = ? AND run_id = ?", in.WorkflowID, in.RunID).Error
		switch {
		case err == nil:
			if prior.HistorySHA256 != digest || prior.SelectionID != in.SelectionID {
				return fmt.Errorf("the run is archived with another history (sha256 %s): %w", prior.HistorySHA256, ErrConflict)
			}
			return nil
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		row := historyArchiveRow{
			SelectionID: in.SelectionID, WorkflowID: in.WorkflowID, RunID: in.RunID,
			StartTime: instant(in.StartTime), CloseTime: instant(in.CloseTime), CloseStatus: in.CloseStatus,
			History: string(in.History), HistorySHA256: digest, ArchivedAt: instant(now),
		}
		if err := tx.Create(&row).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("archived concurrently: %w", errRetry)
			}
			return err
		}
		if _, err := s.appendAudit(tx, sel, auditInput{
			WorkflowID: in.WorkflowID, Actor: Actor{Subject: archiveSubject, Role: "ROLE_SYSTEM"}, Action: ActionHistoryArchived,
			Target:       ArchivedRunTarget(in.SelectionID, in.RunID),
			WorkflowTime: in.CloseTime,
			Payload:      HistoryArchivedPayload{RunID: in.RunID, SHA256: digest, CloseStatus: in.CloseStatus},
		}, now); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return created, nil
}

// IsRunArchived reports whether a run is in the archive, so that an archiver need not fetch
// the history of a run it already holds.
func (s *Store) IsRunArchived(ctx context.Context, workflowID, runID string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&historyArchiveRow{}).Where("workflow_id = ? AND run_id = ?", workflowID, runID).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: is run %s/%s archived: %w", workflowID, runID, err)
	}
	return n > 0, nil
}

// ListArchivedRuns returns a selection's archived runs in the order they ran (by start
// time), without their histories, so that a selection with many long runs is listed and then
// read one run at a time (ArchivedHistory). A selection without archived runs has none; a
// selection that does not exist is ErrNotFound.
func (s *Store) ListArchivedRuns(ctx context.Context, selectionID string) ([]ArchivedRun, error) {
	op := fmt.Sprintf("store: list the archived runs of selection %q", selectionID)
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var rows []historyArchiveRow
	if err := s.db.WithContext(ctx).Omit("history").Where("selection_id = ?", selectionID).Order("start_time, run_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]ArchivedRun, len(rows))
	for i := range rows {
		out[i] = rows[i].run()
		out[i].History = nil
	}
	return out, nil
}

// ArchivedHistory returns one archived run's history as archived. A run the archive does
// not hold for the selection is ErrNotFound.
func (s *Store) ArchivedHistory(ctx context.Context, selectionID, runID string) ([]byte, error) {
	var row historyArchiveRow
	err := s.db.WithContext(ctx).Select("history").Take(&row, "selection_id = ? AND run_id = ?", selectionID, runID).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: archived history of run %s of selection %q: %w", runID, selectionID, err)
	}
	return []byte(row.History), nil
}
