package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Schedules (issue 13): the sessions of a stage that meets in person or online (the
// competency test, the interview), and the assignment of each of the stage's active
// applications to one of them. Every change appends an audit event of the store's own (no
// workflow command stands behind it, so the audit's cross-check with the history leaves it
// alone, as it does submissions) and queues the candidate's invitation, with its .ics, in the
// same transaction.

// Stages that have sessions.
const (
	StageCompetencyTest = "STAGE_COMPETENCY_TEST"
	StageInterview      = "STAGE_INTERVIEW"
)

// Assignment statuses, the API's enum names.
const (
	AssignmentAssigned = "ASSIGNMENT_STATUS_ASSIGNED"
	// AssignmentConfirmed: the candidate said they will come.
	AssignmentConfirmed = "ASSIGNMENT_STATUS_CONFIRMED"
	// AssignmentRescheduleRequested: the candidate asked for another session and waits for
	// the committee's or the secretariat's answer.
	AssignmentRescheduleRequested = "ASSIGNMENT_STATUS_RESCHEDULE_REQUESTED"
)

// Actions of the schedule's audit events.
const (
	ActionCreateSession  = "CreateSession"
	ActionAssignSessions = "AssignSessions"
	ActionMoveAssignment = "MoveAssignment"
	NotificationInvite   = "SessionInvitation"
	maxSessionCapacity   = 10000
	maxSessionTextLength = 500
)

// Session is one sitting of a stage.
type Session struct {
	ID          string
	SelectionID string
	Stage       string
	Start, End  time.Time
	// Venue is where people come; MeetingURL the online meeting. At least one is set.
	Venue      string
	MeetingURL string
	Capacity   int
	// Assigned is how many applications the session holds.
	Assigned   int
	CreateTime time.Time
	UpdateTime time.Time
}

// SessionInput creates a session.
type SessionInput struct {
	SelectionID string
	Stage       string
	// RequestID makes the creation idempotent.
	RequestID  string
	Start, End time.Time
	Venue      string
	MeetingURL string
	Capacity   int
	Actor      Actor
	Now        time.Time
}

// Assignment places one application in one session of a stage. Its ID is the UID of the
// candidate's calendar event and Sequence the event's SEQUENCE.
type Assignment struct {
	ID                string
	SelectionID       string
	Stage             string
	ApplicationID     string
	SessionID         string
	Sequence          int
	Status            string
	Reason            string
	ParticipantNumber string
	// ConfirmedAt is when the candidate confirmed they will come; zero when they have not
	// (or the assignment moved since).
	ConfirmedAt time.Time
	// RescheduleReason is the candidate's last reason for asking another session;
	// RefusalReason the answer when it was refused.
	RescheduleReason string
	RefusalReason    string
	// Attendance is AttendancePresent, AttendanceAbsent or empty (not recorded).
	Attendance string
	CreateTime time.Time
	UpdateTime time.Time
}

// Attachment is a file a notification carries (an invitation's .ics).
type Attachment struct {
	Name      string
	MediaType string
	Content   []byte
}

// Invitation is what a candidate is sent about an assignment.
type Invitation struct {
	Text       Text
	Attachment *Attachment
}

// InvitationFacts is what an invitation is made from.
type InvitationFacts struct {
	Assignment Assignment
	Session    Session
	// Email is the address the candidate gave in the application.
	Email string
}

// Inviter renders an assignment's invitation; the store calls it inside the transaction
// that makes the assignment, so a failure leaves nothing half done. Nil queues none.
type Inviter func(InvitationFacts) (Invitation, error)

// AssignInput assigns a stage's active applications to its sessions.
type AssignInput struct {
	SelectionID string
	Stage       string
	RequestID   string
	Actor       Actor
	Invite      Inviter
	Now         time.Time
}

// MoveInput moves one application to another session of the same stage.
type MoveInput struct {
	SelectionID   string
	Stage         string
	ApplicationID string
	SessionID     string
	RequestID     string
	Reason        string
	Actor         Actor
	Invite        Inviter
	Now           time.Time
}

type sessionRow struct {
	ID          string `gorm:"primaryKey"`
	SelectionID string
	Stage       string
	StartsAt    time.Time
	EndsAt      time.Time
	Venue       string
	MeetingURL  string `gorm:"column:meeting_url"`
	Capacity    int
	RequestID   string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (sessionRow) TableName() string { return "schedule_sessions" }

type assignmentRow struct {
	ID            string `gorm:"primaryKey"`
	SelectionID   string
	Stage         string
	ApplicationID string
	SessionID     string
	Sequence      int
	Status        string
	Reason        string
	// Migration 00030.
	ConfirmedAt      *time.Time
	RescheduleReason string
	RefusalReason    string
	Attendance       string
	CreatedAt        time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt        time.Time `gorm:"autoUpdateTime:false"`
}

func (assignmentRow) TableName() string { return "schedule_assignments" }

type attachmentRow struct {
	NotificationID string `gorm:"primaryKey"`
	Name           string
	MediaType      string
	Content        string
}

func (attachmentRow) TableName() string { return "notification_attachments" }

func scheduledStage(stage string) error {
	if stage != StageCompetencyTest && stage != StageInterview {
		return invalid("stage %q has no sessions (the competency test and the interview do)", stage)
	}
	return nil
}

func (r *sessionRow) session(assigned int) Session {
	return Session{ID: r.ID, SelectionID: r.SelectionID, Stage: r.Stage, Start: r.StartsAt.UTC(), End: r.EndsAt.UTC(),
		Venue: r.Venue, MeetingURL: r.MeetingURL, Capacity: r.Capacity, Assigned: assigned,
		CreateTime: r.CreatedAt.UTC(), UpdateTime: r.UpdatedAt.UTC()}
}

func (r *assignmentRow) assignment() Assignment {
	a := Assignment{ID: r.ID, SelectionID: r.SelectionID, Stage: r.Stage, ApplicationID: r.ApplicationID,
		SessionID: r.SessionID, Sequence: r.Sequence, Status: r.Status, Reason: r.Reason,
		RescheduleReason: r.RescheduleReason, RefusalReason: r.RefusalReason, Attendance: r.Attendance,
		CreateTime: r.CreatedAt.UTC(), UpdateTime: r.UpdatedAt.UTC()}
	if r.ConfirmedAt != nil {
		a.ConfirmedAt = r.ConfirmedAt.UTC()
	}
	return a
}

// CreateSession adds a session to a stage. It is idempotent by request ID: a retry returns
// the session the first request made.
func (s *Store) CreateSession(ctx context.Context, in SessionInput) (Session, error) {
	op := fmt.Sprintf("store: create session of %s in selection %q", in.Stage, in.SelectionID)
	if err := validateSession(in); err != nil {
		return Session{}, fmt.Errorf("%s: %w", op, err)
	}
	now := instant(in.Now)
	var id string
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		var prior sessionRow
		err = tx.Take(&prior, "selection_id = ? AND request_id = ?", in.SelectionID, in.RequestID).Error
		switch {
		case err == nil:
			if prior.Stage != in.Stage || !prior.StartsAt.Equal(instant(in.Start)) || prior.Capacity != in.Capacity {
				return fmt.Errorf("request ID %q was used for a different session: %w", in.RequestID, ErrConflict)
			}
			id = prior.ID
			return nil
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		row := sessionRow{ID: newID("ses-"), SelectionID: in.SelectionID, Stage: in.Stage, StartsAt: instant(in.Start),
			EndsAt: instant(in.End), Venue: in.Venue, MeetingURL: in.MeetingURL, Capacity: in.Capacity,
			RequestID: in.RequestID, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return conflictOr(err, "session")
		}
		id = row.ID
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionCreateSession,
			Target: "selections/" + in.SelectionID + "/stages/" + in.Stage + "/sessions/" + row.ID, WorkflowTime: now,
			Payload: map[string]any{"sessionId": row.ID, "stage": in.Stage, "start": row.StartsAt.Format(time.RFC3339),
				"end": row.EndsAt.Format(time.RFC3339), "venue": in.Venue, "meetingUrl": in.MeetingURL, "capacity": in.Capacity},
		}, now)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.getSession(ctx, in.SelectionID, id)
}

func validateSession(in SessionInput) error {
	switch {
	case in.SelectionID == "" || in.RequestID == "":
		return invalid("selection and request ID are required")
	case in.Now.IsZero() || in.Actor.Subject == "":
		return invalid("actor and time are required")
	case in.Start.IsZero() || !in.End.After(in.Start):
		return invalid("a session ends after it starts")
	case in.Venue == "" && in.MeetingURL == "":
		return invalid("a session needs a venue or a meeting link")
	case len(in.Venue) > maxSessionTextLength || len(in.MeetingURL) > maxSessionTextLength:
		return invalid("venue and meeting link are at most %d bytes", maxSessionTextLength)
	case in.Capacity < 1 || in.Capacity > maxSessionCapacity:
		return invalid("capacity %d: want 1 to %d", in.Capacity, maxSessionCapacity)
	}
	if err := scheduledStage(in.Stage); err != nil {
		return err
	}
	return checkText(in)
}

func (s *Store) getSession(ctx context.Context, selectionID, id string) (Session, error) {
	var row sessionRow
	if err := s.db.WithContext(ctx).Take(&row, "selection_id = ? AND id = ?", selectionID, id).Error; err != nil {
		return Session{}, fmt.Errorf("session %q: %w", id, notFound(err))
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&assignmentRow{}).Where("session_id = ?", id).Count(&n).Error; err != nil {
		return Session{}, fmt.Errorf("session %q: count: %w", id, err)
	}
	return row.session(int(n)), nil
}

// ListSessions lists a stage's sessions in time order with how many each holds.
func (s *Store) ListSessions(ctx context.Context, selectionID, stage string) ([]Session, error) {
	op := fmt.Sprintf("store: list sessions of %s in selection %q", stage, selectionID)
	if err := scheduledStage(stage); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	rows, counts, err := sessionsOf(s.db.WithContext(ctx), selectionID, stage)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]Session, len(rows))
	for i := range rows {
		out[i] = rows[i].session(counts[rows[i].ID])
	}
	return out, nil
}

// sessionsOf reads a stage's sessions in time order and their assignment counts.
func sessionsOf(db *gorm.DB, selectionID, stage string) ([]sessionRow, map[string]int, error) {
	var rows []sessionRow
	if err := db.Where("selection_id = ? AND stage = ?", selectionID, stage).Order("starts_at, id").Find(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("sessions: %w", err)
	}
	var counts []struct {
		SessionID string
		N         int
	}
	if err := db.Model(&assignmentRow{}).Select("session_id, COUNT(*) AS n").
		Where("selection_id = ? AND stage = ?", selectionID, stage).Group("session_id").Scan(&counts).Error; err != nil {
		return nil, nil, fmt.Errorf("session counts: %w", err)
	}
	m := make(map[string]int, len(counts))
	for _, c := range counts {
		m[c.SessionID] = c.N
	}
	return rows, m, nil
}

// Seat is a session's free capacity, for planAssignments.
type Seat struct {
	SessionID string
	Free      int
}

// ErrCapacity is wrapped (with ErrFailedPrecondition) when a stage's sessions have fewer
// free seats than applications waiting for one.
var ErrCapacity = errors.New("not enough seats")

// CapacityError says how many seats are missing.
type CapacityError struct {
	Waiting, Free int
}

func (e *CapacityError) Error() string {
	return fmt.Sprintf("%d applications wait for a seat but the sessions have %d free: add %d seats", e.Waiting, e.Free, e.Waiting-e.Free)
}

func (e *CapacityError) Unwrap() []error { return []error{ErrCapacity, ErrFailedPrecondition} }

// planAssignments fills the sessions, in the order given (time order), with the waiting
// applications, in the order given (participant-number order): each session takes as many
// as it has free seats before the next one takes any. It refuses, assigning none, when the
// seats are too few, so that a partial plan never leaves some candidates silently out.
func planAssignments(seats []Seat, waiting []string) (map[string]string, error) {
	free := 0
	for _, s := range seats {
		free += max(s.Free, 0)
	}
	if len(waiting) > free {
		return nil, &CapacityError{Waiting: len(waiting), Free: free}
	}
	plan := make(map[string]string, len(waiting))
	i := 0
	for _, s := range seats {
		for n := 0; n < s.Free && i < len(waiting); n++ {
			plan[waiting[i]] = s.SessionID
			i++
		}
	}
	return plan, nil
}

// AssignSessions assigns every active application of the stage that has no session yet, in
// participant-number order, to the stage's sessions in time order within their capacity.
// Applications already assigned keep their sessions, so a second call assigns only those
// that arrived since (none: it changes nothing and records nothing). When the free seats are
// too few it assigns none and returns a *CapacityError. It returns the new assignments.
func (s *Store) AssignSessions(ctx context.Context, in AssignInput) ([]Assignment, error) {
	op := fmt.Sprintf("store: assign sessions of %s in selection %q", in.Stage, in.SelectionID)
	if err := scheduledStage(in.Stage); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if in.RequestID == "" || in.Actor.Subject == "" || in.Now.IsZero() {
		return nil, fmt.Errorf("%s: %w", op, invalid("request ID, actor and time are required"))
	}
	now := instant(in.Now)
	var made []Assignment
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		made = nil
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		var waiting []applicationRow
		err = tx.Select("id", "owner", "candidate_id", "participant_seq", "participant_number").
			Where("selection_id = ? AND current_stage = ? AND state IN ?", in.SelectionID, in.Stage, activeStates()).
			Where("id NOT IN (?)", tx.Model(&assignmentRow{}).Select("application_id").
				Where("selection_id = ? AND stage = ?", in.SelectionID, in.Stage)).
			Order("participant_seq, id").Find(&waiting).Error
		if err != nil {
			return fmt.Errorf("waiting applications: %w", err)
		}
		if len(waiting) == 0 {
			return nil
		}
		rows, counts, err := sessionsOf(tx, in.SelectionID, in.Stage)
		if err != nil {
			return err
		}
		seats := make([]Seat, len(rows))
		byID := make(map[string]*sessionRow, len(rows))
		for i := range rows {
			seats[i] = Seat{SessionID: rows[i].ID, Free: rows[i].Capacity - counts[rows[i].ID]}
			byID[rows[i].ID] = &rows[i]
		}
		ids := make([]string, len(waiting))
		for i := range waiting {
			ids[i] = waiting[i].ID
		}
		plan, err := planAssignments(seats, ids)
		if err != nil {
			return err
		}
		emails, err := candidateEmails(tx, waiting)
		if err != nil {
			return err
		}
		payload := make([]map[string]string, 0, len(waiting))
		for _, app := range waiting {
			row := assignmentRow{ID: newID("asg-"), SelectionID: in.SelectionID, Stage: in.Stage, ApplicationID: app.ID,
				SessionID: plan[app.ID], Status: AssignmentAssigned, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return conflictOr(err, "assignment")
			}
			a := row.assignment()
			a.ParticipantNumber = app.ParticipantNumber
			sess := byID[row.SessionID]
			counts[sess.ID]++
			if err := queueInvitation(tx, in.Invite, a, sess.session(counts[sess.ID]), app.Owner, emails[app.CandidateID], now); err != nil {
				return err
			}
			made = append(made, a)
			payload = append(payload, map[string]string{"applicationId": app.ID, "sessionId": row.SessionID, "assignmentId": row.ID})
		}
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionAssignSessions,
			Target: "selections/" + in.SelectionID + "/stages/" + in.Stage, WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignments": payload},
		}, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return made, nil
}

// MoveAssignment moves an application to another session of the stage, by hand, within
// that session's capacity. The assignment keeps its ID (the calendar event's UID) and its
// sequence grows, so the new invitation replaces the old one in the candidate's calendar.
// Moving to the session it is in already changes nothing.
func (s *Store) MoveAssignment(ctx context.Context, in MoveInput) (Assignment, error) {
	op := fmt.Sprintf("store: move application %q to session %q", in.ApplicationID, in.SessionID)
	if err := scheduledStage(in.Stage); err != nil {
		return Assignment{}, fmt.Errorf("%s: %w", op, err)
	}
	if in.RequestID == "" || in.Actor.Subject == "" || in.Now.IsZero() || in.ApplicationID == "" || in.SessionID == "" {
		return Assignment{}, fmt.Errorf("%s: %w", op, invalid("application, session, request ID, actor and time are required"))
	}
	if err := checkText(in); err != nil {
		return Assignment{}, fmt.Errorf("%s: %w", op, err)
	}
	now := instant(in.Now)
	var out Assignment
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		var row assignmentRow
		if err := tx.Take(&row, "selection_id = ? AND stage = ? AND application_id = ?", in.SelectionID, in.Stage, in.ApplicationID).Error; err != nil {
			return fmt.Errorf("assignment of application %q: %w", in.ApplicationID, notFound(err))
		}
		moved, from, err := moveLocked(tx, in, &row)
		out = moved
		if err != nil || from == "" {
			return err
		}
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionMoveAssignment, Reason: in.Reason,
			Target: "selections/" + in.SelectionID + "/applications/" + in.ApplicationID, WorkflowTime: now,
			Payload: map[string]any{"stage": in.Stage, "assignmentId": row.ID, "from": from, "to": row.SessionID, "sequence": row.Sequence},
		}, now)
		return err
	})
	if err != nil {
		return Assignment{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// ListAssignments lists a stage's assignments in participant-number order; owner, when set,
// keeps one candidate's own.
func (s *Store) ListAssignments(ctx context.Context, selectionID, stage, owner string) ([]Assignment, error) {
	op := fmt.Sprintf("store: list assignments of %s in selection %q", stage, selectionID)
	if err := scheduledStage(stage); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var rows []struct {
		Row               assignmentRow `gorm:"embedded"`
		ParticipantNumber string
	}
	q := s.db.WithContext(ctx).Table("schedule_assignments AS a").
		Select("a.*, p.participant_number AS participant_number").
		Joins("JOIN applications AS p ON p.id = a.application_id").
		Where("a.selection_id = ? AND a.stage = ?", selectionID, stage)
	if owner != "" {
		q = q.Where("p.owner = ?", owner)
	}
	if err := q.Order("p.participant_seq, a.id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]Assignment, len(rows))
	for i := range rows {
		out[i] = rows[i].Row.assignment()
		out[i].ParticipantNumber = rows[i].ParticipantNumber
	}
	return out, nil
}

func candidateEmails(tx *gorm.DB, apps []applicationRow) (map[string]string, error) {
	ids := make([]string, len(apps))
	for i := range apps {
		ids[i] = apps[i].CandidateID
	}
	var cands []candidateRow
	if err := tx.Select("id", "email").Where("id IN ?", ids).Find(&cands).Error; err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	m := make(map[string]string, len(cands))
	for _, c := range cands {
		m[c.ID] = c.Email
	}
	return m, nil
}

// queueInvitation queues the candidate's invitation for one version of an assignment. Its
// ID is derived from the assignment and its sequence, so each version is sent once.
func queueInvitation(tx *gorm.DB, invite Inviter, a Assignment, sess Session, owner, email string, now time.Time) error {
	if invite == nil || owner == "" {
		return nil
	}
	inv, err := invite(InvitationFacts{Assignment: a, Session: sess, Email: email})
	if err != nil {
		return fmt.Errorf("invitation of %s: %w", a.ID, err)
	}
	m, err := encodeText(&inv.Text)
	if err != nil {
		return err
	}
	id := sha256Hex([]byte(strings.Join([]string{a.SelectionID, NotificationInvite, a.ID, fmt.Sprint(a.Sequence)}, "\x00")))[:32]
	row := notificationRow{ID: id, SelectionID: a.SelectionID, Recipient: owner, ApplicationID: a.ApplicationID, Email: email,
		Kind: NotificationInvite, Code: inv.Text.Code, TextEN: inv.Text.EN, TextID: inv.Text.ID, Message: m, CreatedAt: now,
		Channel: ChannelEmail}
	// Through queue, as every notification: the candidate's channel choices apply (an
	// invitation is a mandated touchpoint, so it reaches WhatsApp or the in-app list too).
	if err := queue(tx, []notificationRow{row}, nil); err != nil {
		return fmt.Errorf("invitation: %w", err)
	}
	if at := inv.Attachment; at != nil {
		// The e-mail row (or the in-app row that stands for it) keeps the ID, and so the file.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&attachmentRow{NotificationID: id, Name: at.Name, MediaType: at.MediaType, Content: string(at.Content)}).Error; err != nil {
			return fmt.Errorf("invitation attachment: %w", err)
		}
	}
	return nil
}

// NotificationAttachments returns the attachments of the given notifications, by ID; the
// sender asks for those of the rows it claimed.
func (s *Store) NotificationAttachments(ctx context.Context, ids []string) (map[string]Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []attachmentRow
	if err := s.db.WithContext(ctx).Where("notification_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: notification attachments: %w", err)
	}
	out := make(map[string]Attachment, len(rows))
	for _, r := range rows {
		out[r.NotificationID] = Attachment{Name: r.Name, MediaType: r.MediaType, Content: []byte(r.Content)}
	}
	return out, nil
}
