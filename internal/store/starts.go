package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Workflow starts: CreateSelection writes the selection's workflow input in the same
// transaction as the selection (when NewSelection.WorkflowInput is set), so that a selection
// never exists without what it takes to start its workflow. Whoever starts the workflow (the
// API right after the commit, or the reconciler after a crash in between) marks the row.

// startRow is one selection's workflow start.
type startRow struct {
	SelectionID string `gorm:"primaryKey"`
	WorkflowID  string
	Input       string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	StartedAt   *time.Time
}

func (startRow) TableName() string { return "workflow_starts" }

// PendingStart is a selection whose workflow has not been marked started.
type PendingStart struct {
	SelectionID string
	WorkflowID  string
	// Agency is the selection's agency, which the workflow carries as a search attribute.
	Agency string
	// Input is the workflow's input as the API built it.
	Input     json.RawMessage
	CreatedAt time.Time
}

// createStart records the workflow input of a selection being created, inside its transaction.
func createStart(tx *gorm.DB, in NewSelection, now time.Time) error {
	if len(in.WorkflowInput) == 0 {
		return nil
	}
	if !json.Valid(in.WorkflowInput) {
		return fmt.Errorf("workflow input is not JSON: %w", ErrInvalidArgument)
	}
	row := startRow{SelectionID: in.ID, WorkflowID: in.WorkflowID, Input: string(in.WorkflowInput), CreatedAt: now}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("record workflow start: %w", err)
	}
	return nil
}

// PendingStarts lists up to limit selections, oldest first, whose workflow start was recorded
// at or before createdBefore and not marked started since.
func (s *Store) PendingStarts(ctx context.Context, createdBefore time.Time, limit int) ([]PendingStart, error) {
	var rows []struct {
		SelectionID string
		WorkflowID  string
		Input       string
		CreatedAt   time.Time
		Agency      string
	}
	err := s.db.WithContext(ctx).Table("workflow_starts").
		Select("workflow_starts.selection_id, workflow_starts.workflow_id, workflow_starts.input, workflow_starts.created_at, selections.agency").
		Joins("JOIN selections ON selections.id = workflow_starts.selection_id").
		Where("workflow_starts.started_at IS NULL AND workflow_starts.created_at <= ?", instant(createdBefore)).
		Order("workflow_starts.created_at, workflow_starts.selection_id").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: pending workflow starts: %w", err)
	}
	out := make([]PendingStart, 0, len(rows))
	for _, r := range rows {
		out = append(out, PendingStart{SelectionID: r.SelectionID, WorkflowID: r.WorkflowID, Agency: r.Agency,
			Input: json.RawMessage(r.Input), CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}

// MarkWorkflowStarted records that the selection's workflow runs. Marking again, or marking
// a selection created without a recorded start, changes nothing.
func (s *Store) MarkWorkflowStarted(ctx context.Context, selectionID string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&startRow{}).
		Where("selection_id = ? AND started_at IS NULL", selectionID).
		UpdateColumn("started_at", instant(at)).Error
	if err != nil {
		return fmt.Errorf("store: mark workflow of selection %q started: %w", selectionID, err)
	}
	return nil
}
