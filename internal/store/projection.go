package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/bkpsdm/seleksi/internal/auditchain"
)

// The projection as an auditor compares it: every row of every table the selection workflow
// writes through its records, with each column the history determines, as text. Verification
// (internal/audit) rebuilds the same rows from the workflow's histories and compares them
// column by column, so that a changed score, outcome, reason or answer in the store is found.
//
// ProjectedTables is the one list of what is compared; the store's tests check that every
// column of every row type is either in it or named in notProjected with the reason, so a new
// column cannot be left out of verification silently.

// ProjectedTable names a table, the columns that key its rows within a selection, and the
// columns the workflow's history determines.
type ProjectedTable struct {
	Table   string
	Key     []string
	Columns []string
}

// Projected tables and their keys.
const (
	TableSelections         = "selections"
	TableApplications       = "applications"
	TableStageResults       = "stage_results"
	TableApplicationResults = "application_results"
	TableObjections         = "objections"
	TableConflicts          = "conflicts"
)

// ProjectedTables lists the tables and columns verification compares with the history.
func ProjectedTables() []ProjectedTable {
	return []ProjectedTable{
		{Table: TableSelections, Key: []string{"id"}, Columns: []string{
			"workflow_id", "stage", "phase", "stage_opened_at", "stage_opened_wall", "window_opens", "window_opens_wall", "window_closes", "window_closes_wall",
			"window_extension", "intake_frozen", "snapshot_digest", "appointed_application", "ppk_decree_ref",
			"oversight_recommendation_ref", "appointment_justification", "cancel_reason", "cancel_message"}},
		{Table: TableApplications, Key: []string{"id"}, Columns: []string{
			"state", "current_stage", "rank", "final_score", "eliminated_stage", "elimination_reason", "elimination_message", "status_en", "status_id", "status_message",
			"checklist"}},
		{Table: TableStageResults, Key: []string{"stage", "revision"}, Columns: []string{
			"published_at", "objection_deadline", "revision_reason", "revision_message", "scores_published", "entries"}},
		{Table: TableApplicationResults, Key: []string{"application_id", "stage"}, Columns: []string{
			"revision", "outcome", "scores", "final_score", "rank", "reason", "reason_message", "published_at", "competency_category"}},
		{Table: TableObjections, Key: []string{"id"}, Columns: []string{
			"application_id", "stage", "candidate", "reason", "state", "answer", "answered_by", "filed_at", "answered_at", "correction",
			"items", "document", "item_answers", "answer_due", "overdue"}},
		{Table: TableConflicts, Key: []string{"member_id", "application_id"}, Columns: []string{
			"relationship", "reason", "declared_by", "declared_at"}},
	}
}

// ProjectionRow is one row of a projected table: its key (the key columns' values joined by
// "/") and the projected columns' values as text (see ProjectionValue).
type ProjectionRow struct {
	Table   string
	Key     string
	Columns map[string]string
	// StoreOnly marks rows the history cannot account for by design: applications withdrawn
	// during the announcement, before the workflow's snapshot saw them.
	StoreOnly bool
}

// ProjectionValue is the text form both sides of the comparison use: instants in the audit
// chain's layout (UTC, microseconds; the zero time and NULL are ""), integers in decimal,
// booleans as true/false, JSON columns in canonical JSON.
func ProjectionValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return auditchain.FormatInstant(x)
	case *time.Time:
		if x == nil {
			return ""
		}
		return ProjectionValue(*x)
	}
	return fmt.Sprint(v)
}

// ProjectionJSON is the text form of a JSON column: its canonical JSON, or the stored text
// itself when it is not JSON (which then differs from anything the history rebuilds).
func ProjectionJSON(s string) string {
	if s == "" {
		return ""
	}
	b, err := CanonicalJSON([]byte(s))
	if err != nil {
		return s
	}
	return string(b)
}

// ReadProjection reads every projected row of one selection, as stored, in table order and
// by key. It changes nothing. On PostgreSQL the tables are read in one repeatable-read
// transaction, so that a command applied meanwhile is either wholly in the rows or not at
// all; SQLite is read table by table (a read transaction there would take the write lock,
// with the store's immediate transactions), and the verifier tolerates what that costs.
func (s *Store) ReadProjection(ctx context.Context, selectionID string) ([]ProjectionRow, error) {
	op := fmt.Sprintf("store: read the projection of selection %q", selectionID)
	var out []ProjectionRow
	read := func(tx *gorm.DB) error {
		var err error
		out, err = readProjection(tx, selectionID)
		return err
	}
	var err error
	if s.dialect == Postgres {
		err = retry(ctx, func() error {
			return s.db.WithContext(ctx).Transaction(read, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		})
	} else {
		err = read(s.db.WithContext(ctx))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

func readProjection(db *gorm.DB, selectionID string) ([]ProjectionRow, error) {
	var sel selectionRow
	if err := db.Take(&sel, "id = ?", selectionID).Error; err != nil {
		return nil, notFound(err)
	}
	out := []ProjectionRow{{Table: TableSelections, Key: sel.ID, Columns: map[string]string{
		"workflow_id": sel.WorkflowID, "stage": sel.Stage, "phase": sel.Phase, "stage_opened_at": ProjectionValue(sel.StageOpenedAt),
		"stage_opened_wall": ProjectionValue(sel.StageOpenedWall), "window_opens_wall": ProjectionValue(sel.WindowOpensWall),
		"window_opens": ProjectionValue(sel.WindowOpens), "window_closes": ProjectionValue(sel.WindowCloses),
		"window_closes_wall": ProjectionValue(sel.WindowClosesWall), "window_extension": ProjectionValue(sel.WindowExtension),
		"intake_frozen": ProjectionValue(sel.IntakeFrozen), "snapshot_digest": sel.SnapshotDigest,
		"appointed_application": sel.AppointedApplication, "ppk_decree_ref": sel.PPKDecreeRef,
		"oversight_recommendation_ref": sel.OversightRecommendationRef, "appointment_justification": sel.AppointmentJustification,
		"cancel_reason":  sel.CancelReason,
		"cancel_message": ProjectionJSON(sel.CancelMessage),
	}}}
	read := func(dest any, order string) error {
		return db.Where("selection_id = ?", selectionID).Order(order).Find(dest).Error
	}
	var apps []applicationRow
	if err := read(&apps, "id"); err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	for _, a := range apps {
		out = append(out, ProjectionRow{Table: TableApplications, Key: a.ID,
			StoreOnly: a.State == StateWithdrawn && a.EliminatedStage == StageAnnouncement,
			Columns: map[string]string{
				"state": a.State, "current_stage": a.CurrentStage, "rank": ProjectionValue(a.Rank), "final_score": ProjectionValue(a.FinalScore),
				"eliminated_stage": a.EliminatedStage, "elimination_reason": a.EliminationReason, "status_en": a.StatusEN, "status_id": a.StatusID,
				"elimination_message": ProjectionJSON(a.EliminationMessage), "status_message": ProjectionJSON(a.StatusMessage),
				"checklist": ProjectionJSON(a.Checklist),
			}})
	}
	var results []stageResultRow
	if err := read(&results, "stage, revision"); err != nil {
		return nil, fmt.Errorf("stage results: %w", err)
	}
	for _, r := range results {
		out = append(out, ProjectionRow{Table: TableStageResults, Key: r.Stage + "/" + strconv.Itoa(r.Revision), Columns: map[string]string{
			"published_at": ProjectionValue(r.PublishedAt), "objection_deadline": ProjectionValue(r.ObjectionDeadline),
			"revision_reason": r.RevisionReason, "revision_message": ProjectionJSON(r.RevisionMessage),
			"scores_published": ProjectionValue(r.ScoresPublished), "entries": ProjectionJSON(r.Entries),
		}})
	}
	var lines []applicationResultRow
	if err := read(&lines, "application_id, stage"); err != nil {
		return nil, fmt.Errorf("application results: %w", err)
	}
	for _, r := range lines {
		out = append(out, ProjectionRow{Table: TableApplicationResults, Key: r.ApplicationID + "/" + r.Stage, Columns: map[string]string{
			"revision": ProjectionValue(r.Revision), "outcome": r.Outcome, "scores": ProjectionJSON(r.Scores),
			"final_score": ProjectionValue(r.FinalScore), "rank": ProjectionValue(r.Rank), "reason": r.Reason,
			"published_at": ProjectionValue(r.PublishedAt), "competency_category": r.CompetencyCategory,
			"reason_message": ProjectionJSON(r.ReasonMessage),
		}})
	}
	var objections []objectionRow
	if err := read(&objections, "id"); err != nil {
		return nil, fmt.Errorf("objections: %w", err)
	}
	for _, o := range objections {
		out = append(out, ProjectionRow{Table: TableObjections, Key: o.ID, Columns: map[string]string{
			"application_id": o.ApplicationID, "stage": o.Stage, "candidate": o.Candidate, "reason": o.Reason, "state": o.State,
			"answer": o.Answer, "answered_by": o.AnsweredBy, "filed_at": ProjectionValue(o.FiledAt),
			"answered_at": ProjectionValue(o.AnsweredAt), "correction": ProjectionJSON(o.Correction),
			"items": ProjectionJSON(o.Items), "document": o.Document, "item_answers": ProjectionJSON(o.ItemAnswers),
			"answer_due": ProjectionValue(o.AnswerDue), "overdue": ProjectionValue(o.Overdue),
		}})
	}
	var conflicts []conflictRow
	if err := read(&conflicts, "member_id, application_id"); err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	for _, c := range conflicts {
		out = append(out, ProjectionRow{Table: TableConflicts, Key: c.MemberID + "/" + c.ApplicationID, Columns: map[string]string{
			"relationship": c.Relationship, "reason": c.Reason, "declared_by": c.DeclaredBy, "declared_at": ProjectionValue(c.DeclaredAt),
		}})
	}
	return out, nil
}

// notProjected names, for each table of the store, the columns verification does not compare
// with the history, and why; a table mapped to nil is left out as a whole. The store's tests
// check that every column is either here or in ProjectedTables.
func notProjected() map[string]map[string]string {
	const (
		key         = "identifies the row"
		bookkeeping = "bookkeeping of the store, not a fact of the selection"
		creation    = "written by CreateSelection; its audit event's payload digest covers it"
		submission  = "written at submission; the snapshot digest the workflow recorded covers it"
		blocked     = "operational state of a failing system step (ProjectBlocked), cleared on resume; not a published fact"
	)
	return map[string]map[string]string{
		TableSelections: {"create_request_id": creation, "definition_sha256": creation, "position_title": creation,
			"position_unit": creation, "agency": creation, "time_zone": creation, "config": creation,
			"audit_seq": "the audit chain's own head, checked by the chain walk", "audit_head": "the audit chain's own head, checked by the chain walk",
			"version": bookkeeping, "created_at": creation, "updated_at": bookkeeping,
			"blocked_reason": blocked, "blocked_step": blocked, "blocked_year": blocked, "blocked_since": blocked,
			"blocked_attempts": blocked, "blocked_next_attempt": blocked,
			"actor_ids": "how the selection's records name people (actor IDs since migration 00014), set at creation"},
		TableApplications: {"selection_id": key, "candidate_id": submission, "owner": submission, "request_id": submission,
			"request_sha256": submission, "profile": submission, "documents": submission, "statement": submission, "facts": submission,
			"submitted_at": submission, "updated_at": bookkeeping,
			"participant_seq":    "given at submission under the selection's lock; no workflow command sets it",
			"participant_number": "given at submission; the SubmitApplication audit event's payload names it"},
		TableStageResults:       {"selection_id": key},
		TableApplicationResults: {"selection_id": key},
		TableObjections:         {"selection_id": key},
		TableConflicts:          {"selection_id": key},
		// Whole tables that are not projections of the history.
		"committee_members": nil, // creation: covered by the CreateSelection event's payload digest
		"candidates":        nil, // personal data from the submission: covered by the snapshot digest
		"audit_events":      nil, // the audit chain, checked by its hash chain and the cross-check
		// The outbox: deliveries, not facts of the selection. Its message column holds the
		// code each notice is rendered from when sent; the record that queued it (and its
		// message) is in the history and the audit chain.
		"notifications":      nil,
		"processed_commands": nil, // the idempotency ledger
		"snapshots":          nil, // checked against the digests the history recorded
		"history_archive":    nil, // checked against the HistoryArchived audit events
		"actors":             nil, // the directory of who each actor ID is: personal data, no fact of a selection
		// Sign-in: accounts and their codes are personal data and credentials, and a
		// committee seat says who may sign in to act for a member, not what the member did.
		"accounts":        nil,
		"account_codes":   nil,
		"committee_seats": nil,
		// Schedules (issue 13) are the store's own actions, not workflow commands: each change
		// appends its own audit event (CreateSession, AssignSessions, MoveAssignment) whose
		// payload names what it set, and the chain walk checks those.
		"schedule_sessions":        nil,
		"schedule_assignments":     nil,
		"notification_attachments": nil, // the outbox's files, deliveries like the outbox
	}
}

// rowTypes maps each table to its gorm row type, for the tests that check every column is
// classified.
func rowTypes() map[string]any {
	return map[string]any{
		TableSelections: &selectionRow{}, "committee_members": &committeeRow{}, TableConflicts: &conflictRow{},
		"candidates": &candidateRow{}, TableApplications: &applicationRow{}, TableStageResults: &stageResultRow{},
		TableApplicationResults: &applicationResultRow{}, TableObjections: &objectionRow{}, "audit_events": &auditRow{},
		"notifications": &notificationRow{}, "processed_commands": &processedRow{}, "snapshots": &snapshotRow{},
		"history_archive": &historyArchiveRow{}, "actors": &actorRow{},
		"accounts": &accountRow{}, "account_codes": &accountCodeRow{}, "committee_seats": &seatRow{},
		"schedule_sessions": &sessionRow{}, "schedule_assignments": &assignmentRow{}, "notification_attachments": &attachmentRow{},
	}
}
