package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Attendance of scheduled sessions (issue 13): the candidate confirms an assignment or asks
// for another session with a reason; the committee or the secretariat accepts the request
// (a move, with the updated invitation) or refuses it with a reason the candidate is sent.
// Like the other schedule actions, each appends an audit event of the store's own in the
// same transaction as the change and the candidate's notification.

// Actions of the attendance audit events and the kind of the refusal's notification.
const (
	ActionConfirmAttendance    = "ConfirmAttendance"
	ActionRequestReschedule    = "RequestReschedule"
	ActionAcceptReschedule     = "AcceptReschedule"
	ActionRefuseReschedule     = "RefuseReschedule"
	NotificationRescheduleNote = "RescheduleAnswer"
	maxScheduleReasonLength    = 2000
)

// AssignmentCommand is one candidate's or one staff member's action on an assignment.
type AssignmentCommand struct {
	SelectionID   string
	Stage         string
	ApplicationID string
	RequestID     string
	// Owner, when set, is the candidate who must own the application; another candidate's
	// assignment is reported as not found, so its existence does not leak.
	Owner string
	// Reason: the candidate's reason for a reschedule request, or the answer's.
	Reason string
	// SessionID is where an accepted request moves the candidate.
	SessionID string
	// Attendance is what RecordAttendance records: AttendancePresent or AttendanceAbsent.
	Attendance string
	Actor      Actor
	// Invite renders the updated invitation of an accepted request.
	Invite Inviter
	// Notice is what the candidate is sent when a request is refused.
	Notice Text
	Now    time.Time
}

func (in AssignmentCommand) validate(needReason bool) error {
	if err := scheduledStage(in.Stage); err != nil {
		return err
	}
	switch {
	case in.SelectionID == "" || in.ApplicationID == "" || in.RequestID == "":
		return invalid("selection, application and request ID are required")
	case in.Actor.Subject == "" || in.Now.IsZero():
		return invalid("actor and time are required")
	case needReason && strings.TrimSpace(in.Reason) == "":
		return invalid("a reason is required")
	case len(in.Reason) > maxScheduleReasonLength:
		return invalid("a reason is at most %d bytes", maxScheduleReasonLength)
	}
	return checkText(in)
}

// lockAssignment locks the selection and reads the application's assignment of the stage,
// checking its owner when the command names one.
func (s *Store) lockAssignment(tx *gorm.DB, in AssignmentCommand) (*selectionRow, assignmentRow, applicationRow, error) {
	var row assignmentRow
	var app applicationRow
	sel, err := s.lockSelection(tx, in.SelectionID)
	if err != nil {
		return nil, row, app, err
	}
	if err := tx.Select("id", "owner", "candidate_id", "participant_number").
		Take(&app, "selection_id = ? AND id = ?", in.SelectionID, in.ApplicationID).Error; err != nil {
		return nil, row, app, fmt.Errorf("application %q: %w", in.ApplicationID, notFound(err))
	}
	if in.Owner != "" && app.Owner != in.Owner {
		return nil, row, app, fmt.Errorf("application %q: %w", in.ApplicationID, ErrNotFound)
	}
	if err := tx.Take(&row, "selection_id = ? AND stage = ? AND application_id = ?", in.SelectionID, in.Stage, in.ApplicationID).Error; err != nil {
		return nil, row, app, fmt.Errorf("assignment of application %q: %w", in.ApplicationID, notFound(err))
	}
	return sel, row, app, nil
}

func (s *Store) assignmentCommand(ctx context.Context, op string, in AssignmentCommand, needReason bool,
	fn func(tx *gorm.DB, sel *selectionRow, row *assignmentRow, app applicationRow, now time.Time) error) (Assignment, error) {
	if err := in.validate(needReason); err != nil {
		return Assignment{}, fmt.Errorf("%s: %w", op, err)
	}
	now := instant(in.Now)
	var out Assignment
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		sel, row, app, err := s.lockAssignment(tx, in)
		if err != nil {
			return err
		}
		if err := fn(tx, sel, &row, app, now); err != nil {
			return err
		}
		// Read back: a move changes the row through moveLocked.
		// A fresh row: scanning into the old one would keep a cleared confirmation.
		var fresh assignmentRow
		if err := tx.Take(&fresh, "id = ?", row.ID).Error; err != nil {
			return fmt.Errorf("assignment %q: %w", row.ID, err)
		}
		out = fresh.assignment()
		out.ParticipantNumber = app.ParticipantNumber
		return nil
	})
	if err != nil {
		return Assignment{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

func assignmentTarget(in AssignmentCommand) string {
	return "selections/" + in.SelectionID + "/applications/" + in.ApplicationID
}

// ConfirmAttendance records that the candidate will come. Confirming again changes nothing.
// A pending reschedule request must be answered first.
func (s *Store) ConfirmAttendance(ctx context.Context, in AssignmentCommand) (Assignment, error) {
	op := fmt.Sprintf("store: confirm attendance of application %q", in.ApplicationID)
	return s.assignmentCommand(ctx, op, in, false, func(tx *gorm.DB, sel *selectionRow, row *assignmentRow, _ applicationRow, now time.Time) error {
		switch row.Status {
		case AssignmentConfirmed:
			return nil
		case AssignmentRescheduleRequested:
			return fmt.Errorf("a reschedule request waits for an answer: %w", ErrFailedPrecondition)
		}
		if err := tx.Model(&assignmentRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"status": AssignmentConfirmed, "confirmed_at": now, "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("update assignment: %w", err)
		}
		_, err := s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionConfirmAttendance, Target: assignmentTarget(in), WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignmentId": row.ID, "sessionId": row.SessionID, "sequence": row.Sequence},
		}, now)
		return err
	})
}

// RequestReschedule records the candidate's request for another session, with a reason.
// Asking again while a request waits changes nothing.
func (s *Store) RequestReschedule(ctx context.Context, in AssignmentCommand) (Assignment, error) {
	op := fmt.Sprintf("store: request reschedule of application %q", in.ApplicationID)
	return s.assignmentCommand(ctx, op, in, true, func(tx *gorm.DB, sel *selectionRow, row *assignmentRow, _ applicationRow, now time.Time) error {
		if row.Status == AssignmentRescheduleRequested {
			return nil
		}
		if err := tx.Model(&assignmentRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"status": AssignmentRescheduleRequested, "reschedule_reason": in.Reason, "refusal_reason": "",
			"confirmed_at": nil, "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("update assignment: %w", err)
		}
		_, err := s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionRequestReschedule, Reason: in.Reason,
			Target: assignmentTarget(in), WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignmentId": row.ID, "sessionId": row.SessionID},
		}, now)
		return err
	})
}

// AcceptReschedule answers a pending request by moving the candidate to another session of
// the stage within its capacity; the candidate is sent the updated invitation, as after a
// move. The reason, when given, is the move's.
func (s *Store) AcceptReschedule(ctx context.Context, in AssignmentCommand) (Assignment, error) {
	op := fmt.Sprintf("store: accept reschedule of application %q", in.ApplicationID)
	if in.SessionID == "" {
		return Assignment{}, fmt.Errorf("%s: %w", op, invalid("the new session is required"))
	}
	return s.assignmentCommand(ctx, op, in, false, func(tx *gorm.DB, sel *selectionRow, row *assignmentRow, _ applicationRow, now time.Time) error {
		if row.Status != AssignmentRescheduleRequested {
			return fmt.Errorf("no reschedule request waits: %w", ErrFailedPrecondition)
		}
		if row.SessionID == in.SessionID {
			return invalid("the new session must differ from the current one")
		}
		reason := in.Reason
		if reason == "" {
			reason = row.RescheduleReason
		}
		_, from, err := moveLocked(tx, MoveInput{SelectionID: in.SelectionID, Stage: in.Stage, ApplicationID: in.ApplicationID,
			SessionID: in.SessionID, Reason: reason, Invite: in.Invite, Now: now}, row)
		if err != nil {
			return err
		}
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionAcceptReschedule, Reason: reason,
			Target: assignmentTarget(in), WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignmentId": row.ID, "from": from, "to": row.SessionID, "sequence": row.Sequence},
		}, now)
		return err
	})
}

// RefuseReschedule answers a pending request with a refusal and its reason; the candidate
// keeps the session and is sent the notice.
func (s *Store) RefuseReschedule(ctx context.Context, in AssignmentCommand) (Assignment, error) {
	op := fmt.Sprintf("store: refuse reschedule of application %q", in.ApplicationID)
	return s.assignmentCommand(ctx, op, in, true, func(tx *gorm.DB, sel *selectionRow, row *assignmentRow, app applicationRow, now time.Time) error {
		if row.Status != AssignmentRescheduleRequested {
			return fmt.Errorf("no reschedule request waits: %w", ErrFailedPrecondition)
		}
		if err := tx.Model(&assignmentRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"status": AssignmentAssigned, "refusal_reason": in.Reason, "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("update assignment: %w", err)
		}
		if err := queueNotice(tx, in, app, now); err != nil {
			return err
		}
		_, err := s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionRefuseReschedule, Reason: in.Reason,
			Target: assignmentTarget(in), WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignmentId": row.ID, "sessionId": row.SessionID},
		}, now)
		return err
	})
}

// queueNotice queues the candidate's notice of an answer; its ID is derived from the request
// ID, so a retried answer queues it once.
func queueNotice(tx *gorm.DB, in AssignmentCommand, app applicationRow, now time.Time) error {
	if app.Owner == "" || in.Notice.Code == "" {
		return nil
	}
	emails, err := candidateEmails(tx, []applicationRow{app})
	if err != nil {
		return err
	}
	m, err := encodeText(&in.Notice)
	if err != nil {
		return err
	}
	id := sha256Hex([]byte(strings.Join([]string{in.SelectionID, NotificationRescheduleNote, app.ID, in.RequestID}, "\x00")))[:32]
	row := notificationRow{ID: id, SelectionID: in.SelectionID, Recipient: app.Owner, ApplicationID: app.ID, Email: emails[app.CandidateID],
		Kind: NotificationRescheduleNote, Code: in.Notice.Code, TextEN: in.Notice.EN, TextID: in.Notice.ID, Message: m, CreatedAt: now}
	if err := tx.Create(&row).Error; err != nil {
		return conflictOr(err, "reschedule notice")
	}
	return nil
}

// moveLocked moves the locked assignment row to in.SessionID within that session's capacity
// and queues the updated invitation; the caller appends the audit event. It returns the
// session moved from, or "" when the assignment is in that session already.
func moveLocked(tx *gorm.DB, in MoveInput, row *assignmentRow) (Assignment, string, error) {
	now := instant(in.Now)
	var to sessionRow
	if err := tx.Take(&to, "selection_id = ? AND stage = ? AND id = ?", in.SelectionID, in.Stage, in.SessionID).Error; err != nil {
		return Assignment{}, "", fmt.Errorf("session %q: %w", in.SessionID, notFound(err))
	}
	if row.SessionID == to.ID {
		return row.assignment(), "", nil
	}
	var n int64
	if err := tx.Model(&assignmentRow{}).Where("session_id = ?", to.ID).Count(&n).Error; err != nil {
		return Assignment{}, "", fmt.Errorf("count session: %w", err)
	}
	if int(n) >= to.Capacity {
		return Assignment{}, "", fmt.Errorf("session %q is full (%d seats): %w", to.ID, to.Capacity, &CapacityError{Waiting: 1, Free: 0})
	}
	from := row.SessionID
	// A move asks for a new confirmation: the candidate confirmed another time.
	row.SessionID, row.Sequence, row.Status, row.Reason, row.ConfirmedAt, row.UpdatedAt = to.ID, row.Sequence+1, AssignmentAssigned, in.Reason, nil, now
	if err := tx.Model(&assignmentRow{}).Where("id = ?", row.ID).Updates(map[string]any{
		"session_id": row.SessionID, "sequence": row.Sequence, "status": row.Status, "reason": row.Reason,
		"confirmed_at": nil, "updated_at": now,
	}).Error; err != nil {
		return Assignment{}, "", fmt.Errorf("update assignment: %w", err)
	}
	var app applicationRow
	if err := tx.Select("id", "owner", "candidate_id", "participant_number").Take(&app, "id = ?", in.ApplicationID).Error; err != nil {
		return Assignment{}, "", fmt.Errorf("application %q: %w", in.ApplicationID, notFound(err))
	}
	emails, err := candidateEmails(tx, []applicationRow{app})
	if err != nil {
		return Assignment{}, "", err
	}
	out := row.assignment()
	out.ParticipantNumber = app.ParticipantNumber
	if err := queueInvitation(tx, in.Invite, out, to.session(int(n)+1), app.Owner, emails[app.CandidateID], now); err != nil {
		return Assignment{}, "", err
	}
	return out, from, nil
}

// Attendance values and the absence policies of a stage's schedule.
const (
	AttendancePresent = "PRESENT"
	AttendanceAbsent  = "ABSENT"
	// AbsenceRecordOnly keeps an absence on the record only (the default).
	AbsenceRecordOnly = "RECORD_ONLY"
	// AbsenceEliminate makes an absence a fail verdict, sent through the workflow.
	AbsenceEliminate = "ELIMINATE"

	ActionRecordAttendance = "RecordAttendance"
	ActionSetAbsencePolicy = "SetAbsencePolicy"
)

type stageSettingRow struct {
	SelectionID string `gorm:"primaryKey"`
	Stage       string `gorm:"primaryKey"`
	Absence     string
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (stageSettingRow) TableName() string { return "schedule_stage_settings" }

// AbsencePolicy is what absence does in a stage: AbsenceRecordOnly unless set.
func (s *Store) AbsencePolicy(ctx context.Context, selectionID, stage string) (string, error) {
	if err := scheduledStage(stage); err != nil {
		return "", fmt.Errorf("store: absence policy: %w", err)
	}
	var row stageSettingRow
	err := s.db.WithContext(ctx).Take(&row, "selection_id = ? AND stage = ?", selectionID, stage).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return AbsenceRecordOnly, nil
	case err != nil:
		return "", fmt.Errorf("store: absence policy of %s in selection %q: %w", stage, selectionID, err)
	}
	return row.Absence, nil
}

// SetAbsencePolicy stores what absence does in a stage, with an audit event.
func (s *Store) SetAbsencePolicy(ctx context.Context, selectionID, stage, policy, requestID string, actor Actor, at time.Time) error {
	op := fmt.Sprintf("store: set absence policy of %s in selection %q", stage, selectionID)
	if err := scheduledStage(stage); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if policy != AbsenceRecordOnly && policy != AbsenceEliminate {
		return fmt.Errorf("%s: %w", op, invalid("absence policy %q: want %s or %s", policy, AbsenceRecordOnly, AbsenceEliminate))
	}
	if requestID == "" || actor.Subject == "" || at.IsZero() {
		return fmt.Errorf("%s: %w", op, invalid("request ID, actor and time are required"))
	}
	now := instant(at)
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		sel, err := s.lockSelection(tx, selectionID)
		if err != nil {
			return err
		}
		var row stageSettingRow
		err = tx.Take(&row, "selection_id = ? AND stage = ?", selectionID, stage).Error
		switch {
		case err == nil:
			if row.Absence == policy {
				return nil
			}
			err = tx.Model(&stageSettingRow{}).Where("selection_id = ? AND stage = ?", selectionID, stage).
				Updates(map[string]any{"absence": policy, "updated_at": now}).Error
		case errors.Is(err, gorm.ErrRecordNotFound):
			err = tx.Create(&stageSettingRow{SelectionID: selectionID, Stage: stage, Absence: policy, UpdatedAt: now}).Error
		}
		if err != nil {
			return fmt.Errorf("stage setting: %w", err)
		}
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: requestID, Actor: actor, Action: ActionSetAbsencePolicy,
			Target: "selections/" + selectionID + "/stages/" + stage, WorkflowTime: now,
			Payload: map[string]any{"stage": stage, "absence": policy},
		}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// RecordAttendance records whether the candidate came (in.Attendance), with an audit event. It returns the assignment and the stage's absence
// policy, so that the caller sends the fail verdict through the workflow when the policy
// eliminates: the workflow, not this table, decides the application's state.
func (s *Store) RecordAttendance(ctx context.Context, in AssignmentCommand) (Assignment, string, error) {
	op := fmt.Sprintf("store: record attendance of application %q", in.ApplicationID)
	if in.Attendance != AttendancePresent && in.Attendance != AttendanceAbsent {
		return Assignment{}, "", fmt.Errorf("%s: %w", op, invalid("attendance %q: want %s or %s", in.Attendance, AttendancePresent, AttendanceAbsent))
	}
	var policy string
	a, err := s.assignmentCommand(ctx, op, in, false, func(tx *gorm.DB, sel *selectionRow, row *assignmentRow, _ applicationRow, now time.Time) error {
		var setting stageSettingRow
		switch err := tx.Take(&setting, "selection_id = ? AND stage = ?", in.SelectionID, in.Stage).Error; {
		case errors.Is(err, gorm.ErrRecordNotFound):
			policy = AbsenceRecordOnly
		case err != nil:
			return fmt.Errorf("stage setting: %w", err)
		default:
			policy = setting.Absence
		}
		if row.Attendance == in.Attendance {
			return nil
		}
		if err := tx.Model(&assignmentRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"attendance": in.Attendance, "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("update assignment: %w", err)
		}
		_, err := s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionRecordAttendance, Reason: in.Reason, Target: assignmentTarget(in), WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignmentId": row.ID, "sessionId": row.SessionID, "attendance": in.Attendance, "absence": policy},
		}, now)
		return err
	})
	return a, policy, err
}
