package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// GetStageResult returns a published stage result: the given revision, or the latest when
// revision is 0.
func (s *Store) GetStageResult(ctx context.Context, selectionID, stage string, revision int) (StageResult, error) {
	op := fmt.Sprintf("store: get %s result of selection %q", stage, selectionID)
	q := s.db.WithContext(ctx).Where("selection_id = ? AND stage = ?", selectionID, stage)
	if revision > 0 {
		q = q.Where("revision = ?", revision)
	}
	var row stageResultRow
	if err := q.Order("revision DESC").Take(&row).Error; err != nil {
		return StageResult{}, fmt.Errorf("%s: %w", op, notFound(err))
	}
	r := StageResult{SelectionID: row.SelectionID, Stage: row.Stage, Revision: row.Revision, PublishedAt: row.PublishedAt.UTC(),
		ObjectionDeadline: fromNull(row.ObjectionDeadline), RevisionReason: row.RevisionReason, ScoresPublished: row.ScoresPublished}
	var err error
	if r.RevisionMessage, err = decodeText(row.RevisionMessage); err != nil {
		return StageResult{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := json.Unmarshal([]byte(row.Entries), &r.Entries); err != nil {
		return StageResult{}, fmt.Errorf("%s: decode entries: %w", op, err)
	}
	return r, nil
}

// ListObjections lists the objections of one application, or of the whole selection when
// applicationID is "" or "-" (the AIP wildcard), in filing order. The filter accepts
// `stage = X` and `state = X`.
func (s *Store) ListObjections(ctx context.Context, selectionID, applicationID string, opts ListOptions) (Page[Objection], error) {
	op := fmt.Sprintf("store: list objections of selection %q", selectionID)
	if applicationID == "-" {
		applicationID = ""
	}
	q, err := s.newListQuery("objections:"+selectionID+"/"+applicationID, opts, objectionFields, objectionOrders, "file_time")
	if err != nil {
		return Page[Objection]{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return Page[Objection]{}, fmt.Errorf("%s: %w", op, err)
	}
	base := s.db.WithContext(ctx).Model(&objectionRow{}).Where("selection_id = ?", selectionID)
	if applicationID != "" {
		base = base.Where("application_id = ?", applicationID)
	}
	rows, next, total, err := runList(s, q, base, func(r *objectionRow) []any { return []any{r.FiledAt, r.ID} })
	if err != nil {
		return Page[Objection]{}, fmt.Errorf("%s: %w", op, err)
	}
	out := Page[Objection]{NextPageToken: next, TotalSize: total}
	for i := range rows {
		out.Items = append(out.Items, rows[i].objection())
	}
	return out, nil
}

// GetObjection returns one objection.
func (s *Store) GetObjection(ctx context.Context, selectionID, id string) (Objection, error) {
	var row objectionRow
	if err := s.db.WithContext(ctx).Take(&row, "selection_id = ? AND id = ?", selectionID, id).Error; err != nil {
		return Objection{}, fmt.Errorf("store: get objection %q of selection %q: %w", id, selectionID, notFound(err))
	}
	return row.objection(), nil
}

func (r *objectionRow) objection() Objection {
	o := Objection{SelectionID: r.SelectionID, ID: r.ID, ApplicationID: r.ApplicationID, Stage: r.Stage, Candidate: r.Candidate,
		Reason: r.Reason, State: r.State, Answer: r.Answer, AnsweredBy: r.AnsweredBy, FileTime: r.FiledAt.UTC(),
		AnswerTime: fromNull(r.AnsweredAt), AnswerDue: fromNull(r.AnswerDue), Overdue: r.Overdue}
	if r.Correction != "" {
		o.Correction = json.RawMessage(r.Correction)
	}
	o.Document = r.Document
	// Written by applyObjection from values it encoded itself.
	if r.Items != "" {
		_ = json.Unmarshal([]byte(r.Items), &o.Items)
	}
	if r.ItemAnswers != "" {
		_ = json.Unmarshal([]byte(r.ItemAnswers), &o.ItemAnswers)
	}
	return o
}

// ListStageResults returns every published revision of every stage result of a selection,
// by stage and revision: the reports show which stages were published and when, which the
// latest revision alone cannot tell.
func (s *Store) ListStageResults(ctx context.Context, selectionID string) ([]StageResult, error) {
	op := fmt.Sprintf("store: list stage results of selection %q", selectionID)
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var rows []stageResultRow
	if err := s.db.WithContext(ctx).Where("selection_id = ?", selectionID).Order("published_at, stage, revision").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]StageResult, 0, len(rows))
	for _, row := range rows {
		r := StageResult{SelectionID: row.SelectionID, Stage: row.Stage, Revision: row.Revision, PublishedAt: row.PublishedAt.UTC(),
			ObjectionDeadline: fromNull(row.ObjectionDeadline), RevisionReason: row.RevisionReason, ScoresPublished: row.ScoresPublished}
		var err error
		if r.RevisionMessage, err = decodeText(row.RevisionMessage); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if err := json.Unmarshal([]byte(row.Entries), &r.Entries); err != nil {
			return nil, fmt.Errorf("%s: decode entries of %s revision %d: %w", op, row.Stage, row.Revision, err)
		}
		out = append(out, r)
	}
	return out, nil
}
