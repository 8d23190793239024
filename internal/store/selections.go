package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// inTx runs fn in a transaction, again from the start when it lost a race (see retry).
func (s *Store) inTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return retry(ctx, func() error { return s.db.WithContext(ctx).Transaction(fn) })
}

// selectionDefinition is what CreateSelection's idempotency compares: a retried request with
// the same request ID must carry the same definition.
type selectionDefinition struct {
	ID            string            `json:"id"`
	WorkflowID    string            `json:"workflowId"`
	PositionTitle string            `json:"positionTitle"`
	PositionUnit  string            `json:"positionUnit"`
	Agency        string            `json:"agency"`
	TimeZone      string            `json:"timeZone"`
	Config        json.RawMessage   `json:"config"`
	Committee     []CommitteeMember `json:"committee"`
}

// CreateSelection stores a new selection with its committee and the first audit event. It is
// idempotent by RequestID: a retry with the same definition returns the stored selection, and
// the same request ID with another definition, or an ID already taken, is ErrConflict.
func (s *Store) CreateSelection(ctx context.Context, in NewSelection) (Selection, error) {
	op := fmt.Sprintf("store: create selection %q", in.ID)
	if in.ID == "" || in.RequestID == "" || in.WorkflowID == "" || in.Now.IsZero() {
		return Selection{}, fmt.Errorf("%s: id, request ID, workflow ID and time are required: %w", op, ErrInvalidArgument)
	}
	if len(in.Config) == 0 {
		in.Config = json.RawMessage("{}")
	}
	def := selectionDefinition{in.ID, in.WorkflowID, in.PositionTitle, in.PositionUnit, in.Agency, in.TimeZone, in.Config, in.Committee}
	digest, canon, err := digestJSON(def)
	if err != nil {
		return Selection{}, fmt.Errorf("%s: %w", op, err)
	}
	now := instant(in.Now)
	err = s.inTx(ctx, func(tx *gorm.DB) error {
		var prior selectionRow
		err := tx.Select("id", "definition_sha256").Take(&prior, "create_request_id = ?", in.RequestID).Error
		switch {
		case err == nil:
			return sameDefinition(prior, in.ID, digest)
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		config, err := CanonicalJSON(in.Config)
		if err != nil {
			return fmt.Errorf("config: %w: %w", err, ErrInvalidArgument)
		}
		stage := StageAnnouncement
		if in.Scheduled {
			stage = StageScheduled
		}
		sel := selectionRow{
			ID: in.ID, WorkflowID: in.WorkflowID, CreateRequestID: in.RequestID, DefinitionSHA256: digest,
			PositionTitle: in.PositionTitle, PositionUnit: in.PositionUnit, Agency: in.Agency, TimeZone: in.TimeZone,
			Config: string(config), Stage: stage, Version: 1, ActorIDs: true, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.Create(&sel).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("selection ID already taken: %w", ErrConflict)
			}
			return err
		}
		for i, m := range in.Committee {
			row := committeeRow{SelectionID: in.ID, MemberID: m.MemberID, Ordinal: i, DisplayName: m.DisplayName,
				Kind: m.Kind, Role: m.Role, PostLevel: m.PostLevel, Affiliation: m.Affiliation}
			if err := tx.Create(&row).Error; err != nil {
				if isUniqueViolation(err) {
					return fmt.Errorf("committee member %q listed twice: %w", m.MemberID, ErrInvalidArgument)
				}
				return err
			}
		}
		if err := createStart(tx, in, now); err != nil {
			return err
		}
		_, err = s.appendAudit(tx, &sel, auditInput{
			WorkflowID: in.WorkflowID, UpdateID: in.RequestID, Actor: in.Actor, Action: ActionCreateSelection,
			Target: "selections/" + in.ID, WorkflowTime: now, Payload: json.RawMessage(canon),
		}, now)
		return err
	})
	if err != nil && isUniqueViolation(err) {
		// A concurrent retry of the same request won the insert; answer as it did.
		var prior selectionRow
		if e := s.db.WithContext(ctx).Select("id", "definition_sha256").Take(&prior, "create_request_id = ?", in.RequestID).Error; e == nil {
			err = sameDefinition(prior, in.ID, digest)
		}
	}
	if err != nil {
		return Selection{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.GetSelection(ctx, in.ID)
}

func sameDefinition(prior selectionRow, id, digest string) error {
	if prior.ID != id || prior.DefinitionSHA256 != digest {
		return fmt.Errorf("request ID already used for a different selection: %w", ErrConflict)
	}
	return nil
}

// GetSelection returns a selection with its committee and declared conflicts.
func (s *Store) GetSelection(ctx context.Context, id string) (Selection, error) {
	op := fmt.Sprintf("store: get selection %q", id)
	var row selectionRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return Selection{}, fmt.Errorf("%s: %w", op, notFound(err))
	}
	sel := row.selection()
	var members []committeeRow
	if err := s.db.WithContext(ctx).Where("selection_id = ?", id).Order("ordinal").Find(&members).Error; err != nil {
		return Selection{}, fmt.Errorf("%s: committee: %w", op, err)
	}
	for _, m := range members {
		sel.Committee = append(sel.Committee, CommitteeMember{MemberID: m.MemberID, DisplayName: m.DisplayName,
			Kind: m.Kind, Role: m.Role, PostLevel: m.PostLevel, Affiliation: m.Affiliation})
	}
	var conflicts []conflictRow
	if err := s.db.WithContext(ctx).Where("selection_id = ?", id).Order("declared_at, member_id, application_id").Find(&conflicts).Error; err != nil {
		return Selection{}, fmt.Errorf("%s: conflicts: %w", op, err)
	}
	for _, c := range conflicts {
		sel.Conflicts = append(sel.Conflicts, Conflict{MemberID: c.MemberID, ApplicationID: c.ApplicationID,
			Relationship: c.Relationship, Reason: c.Reason, DeclaredBy: c.DeclaredBy, DeclareTime: c.DeclaredAt.UTC()})
	}
	return sel, nil
}

// SelectionIntake is what a submitted application's status depends on: the selection's
// stage, the close of its announcement window and its time zone.
type SelectionIntake struct {
	Stage        string
	WindowCloses time.Time
	TimeZone     string
}

// GetSelectionIntake reads a selection's SelectionIntake: one row's three columns, for
// status texts read on every submission and listing, where GetSelection's committee and
// conflicts are not needed.
func (s *Store) GetSelectionIntake(ctx context.Context, id string) (SelectionIntake, error) {
	var row selectionRow
	if err := s.reads.WithContext(ctx).Select("id", "stage", "window_closes", "time_zone").Take(&row, "id = ?", id).Error; err != nil {
		return SelectionIntake{}, fmt.Errorf("store: get selection %q: %w", id, notFound(err))
	}
	return SelectionIntake{Stage: row.Stage, WindowCloses: fromNull(row.WindowCloses), TimeZone: row.TimeZone}, nil
}

// ListSelections lists selections, newest first by default. The filter accepts `stage = X`;
// order_by accepts create_time and name (ID), each optionally "desc". Committees and conflicts
// are left out; GetSelection has them.
func (s *Store) ListSelections(ctx context.Context, opts ListOptions) (Page[Selection], error) {
	q, err := s.newListQuery("selections", opts, selectionFields, selectionOrders, "create_time desc")
	if err != nil {
		return Page[Selection]{}, fmt.Errorf("store: list selections: %w", err)
	}
	rows, next, total, err := runList(s, q, s.db.WithContext(ctx).Model(&selectionRow{}), func(r *selectionRow) []any {
		switch q.order.columns[0] {
		case "id":
			return []any{r.ID}
		case "position_title":
			return []any{r.PositionTitle, r.ID}
		case stageCloses:
			if r.Stage == StageAnnouncement && r.WindowCloses != nil {
				return []any{int64(0), *r.WindowCloses, r.ID}
			}
			return []any{int64(1), r.CreatedAt, r.ID}
		}
		return []any{r.CreatedAt, r.ID}
	})
	if err != nil {
		return Page[Selection]{}, fmt.Errorf("store: list selections: %w", err)
	}
	out := Page[Selection]{NextPageToken: next, TotalSize: total}
	for i := range rows {
		out.Items = append(out.Items, rows[i].selection())
	}
	return out, nil
}

// ApplicationCounts counts a selection's applications by state.
func (s *Store) ApplicationCounts(ctx context.Context, selectionID string) (ApplicationCounts, error) {
	op := fmt.Sprintf("store: count applications of selection %q", selectionID)
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return ApplicationCounts{}, fmt.Errorf("%s: %w", op, err)
	}
	var rows []struct {
		State string
		N     int64
	}
	err := s.db.WithContext(ctx).Model(&applicationRow{}).Select("state, COUNT(*) AS n").
		Where("selection_id = ?", selectionID).Group("state").Scan(&rows).Error
	if err != nil {
		return ApplicationCounts{}, fmt.Errorf("%s: %w", op, err)
	}
	c := ApplicationCounts{ByState: make(map[string]int64, len(rows))}
	for _, r := range rows {
		c.ByState[r.State] = r.N
		c.Total += r.N
	}
	return c, nil
}

// requireSelection returns ErrNotFound when the selection does not exist, so that listing the
// children of a missing selection is an error rather than an empty page.
func (s *Store) requireSelection(ctx context.Context, id string) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&selectionRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("selection %q: %w", id, ErrNotFound)
	}
	return nil
}

func (r *selectionRow) selection() Selection {
	return Selection{
		ID: r.ID, WorkflowID: r.WorkflowID, PositionTitle: r.PositionTitle, PositionUnit: r.PositionUnit,
		Agency: r.Agency, TimeZone: r.TimeZone, Config: json.RawMessage(r.Config), Stage: r.Stage, Phase: r.Phase,
		StageOpenTime: fromNull(r.StageOpenedAt), StageOpenWallTime: fromNull(r.StageOpenedWall),
		Window: Window{Opens: fromNull(r.WindowOpens), Closes: fromNull(r.WindowCloses),
			ClosesWall: fromNull(r.WindowClosesWall), OpensWall: fromNull(r.WindowOpensWall), Extension: r.WindowExtension},
		IntakeFrozen: r.IntakeFrozen, SnapshotDigest: r.SnapshotDigest, AppointedApplication: r.AppointedApplication,
		PPKDecreeRef: r.PPKDecreeRef, OversightRecommendationRef: r.OversightRecommendationRef,
		AppointmentJustification: r.AppointmentJustification,
		CancelReason:             r.CancelReason, AuditSeq: r.AuditSeq, AuditHead: r.AuditHead, Version: r.Version,
		CreateTime: r.CreatedAt.UTC(), UpdateTime: r.UpdatedAt.UTC(),
		// A column that does not decode shows as no message: the reason text, if any, still
		// shows, and audit verification compares the row with the history.
		CancelMessage: func() *Text { m, _ := decodeText(r.CancelMessage); return m }(),
		Blocked:       r.blocked(),
	}
}

func (r *selectionRow) blocked() *Blocked {
	if r.BlockedReason == "" {
		return nil
	}
	return &Blocked{Reason: r.BlockedReason, Step: r.BlockedStep, Year: r.BlockedYear, Since: fromNull(r.BlockedSince),
		Attempts: r.BlockedAttempts, NextAttempt: fromNull(r.BlockedNextAttempt)}
}

// windowOpen reports why intake is refused at now, or "" when the window is open.
func (r *selectionRow) windowOpen(now time.Time) string {
	switch {
	case r.Stage == StageScheduled:
		return "the announcement window is not open yet"
	case r.Stage != StageAnnouncement:
		return "the selection no longer takes applications (" + strings.ToLower(strings.TrimPrefix(r.Stage, "STAGE_")) + ")"
	case r.WindowOpens == nil || r.WindowClosesWall == nil:
		return "the announcement window is not open yet"
	case r.IntakeFrozen:
		return "the announcement window has closed"
	case now.Before(*r.WindowOpens):
		return "the announcement window is not open yet"
	case !now.Before(*r.WindowClosesWall):
		return "the announcement window has closed"
	}
	return ""
}

// SelectionCreatedBy finds the selection a create request stored: its ID and when it was
// created. ErrNotFound when the request stored none.
func (s *Store) SelectionCreatedBy(ctx context.Context, requestID string) (string, time.Time, error) {
	var row selectionRow
	err := s.db.WithContext(ctx).Select("id", "created_at").Take(&row, "create_request_id = ?", requestID).Error
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: selection created by request %q: %w", requestID, notFound(err))
	}
	return row.ID, row.CreatedAt.UTC(), nil
}
