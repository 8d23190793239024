package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/invite"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// ScheduleStore is what the schedule handlers need of the store.
type ScheduleStore interface {
	selectionActors
	GetSelection(ctx context.Context, id string) (store.Selection, error)
	CreateSession(ctx context.Context, in store.SessionInput) (store.Session, error)
	ListSessions(ctx context.Context, selectionID, stage string) ([]store.Session, error)
	AssignSessions(ctx context.Context, in store.AssignInput) ([]store.Assignment, error)
	MoveAssignment(ctx context.Context, in store.MoveInput) (store.Assignment, error)
	ListAssignments(ctx context.Context, selectionID, stage, owner string) ([]store.Assignment, error)
	ConfirmAttendance(ctx context.Context, in store.AssignmentCommand) (store.Assignment, error)
	RequestReschedule(ctx context.Context, in store.AssignmentCommand) (store.Assignment, error)
	AcceptReschedule(ctx context.Context, in store.AssignmentCommand) (store.Assignment, error)
	RefuseReschedule(ctx context.Context, in store.AssignmentCommand) (store.Assignment, error)
}

// ScheduleServer implements ScheduleService: the sessions of the competency test and the
// interview, and the candidates' places in them. The store makes each change, its audit
// event and the candidates' invitations in one transaction; this layer renders the
// invitations (text and .ics), since the store knows no calendars.
type ScheduleServer struct {
	seleksiv1.UnimplementedScheduleServiceServer
	store  ScheduleStore
	logger *slog.Logger
	now    func() time.Time
}

var _ seleksiv1.ScheduleServiceServer = (*ScheduleServer)(nil)

// NewScheduleServer serves schedules from st.
func NewScheduleServer(st ScheduleStore, logger *slog.Logger, now func() time.Time) *ScheduleServer {
	if now == nil {
		now = time.Now
	}
	return &ScheduleServer{store: st, logger: logger, now: now}
}

var msgCapacity = i18n.Text{
	ID: "kursi sesi tidak cukup untuk semua pelamar tahap ini; tambah sesi atau kapasitas, lalu ulangi",
	EN: "the sessions have too few seats for every candidate of this stage; add sessions or capacity, then try again",
}

// stageOf splits `selections/{s}/stages/{slug}[/...]` into the selection ID and the stage's
// enum name; the request's pattern has checked it.
func stageOf(name string) (selectionID, stage string) {
	return segment(name, 0), stageFromSlug(segment(name, 1))
}

func sessionName(sel, stage, id string) string {
	return "selections/" + sel + "/stages/" + stageSlug(stage) + "/sessions/" + id
}

func sessionView(ss store.Session) *seleksiv1.Session {
	return &seleksiv1.Session{
		Name: sessionName(ss.SelectionID, ss.Stage, ss.ID), StartTime: ts(ss.Start), EndTime: ts(ss.End),
		Venue: ss.Venue, MeetingUri: ss.MeetingURL, Capacity: uint32(ss.Capacity), Assigned: uint32(ss.Assigned),
	}
}

func assignmentView(a store.Assignment) *seleksiv1.Assignment {
	status := seleksiv1.AssignmentStatus(seleksiv1.AssignmentStatus_value[a.Status])
	return &seleksiv1.Assignment{
		Name:              "selections/" + a.SelectionID + "/stages/" + stageSlug(a.Stage) + "/assignments/" + a.ApplicationID,
		Application:       applicationName(a.SelectionID, a.ApplicationID),
		ParticipantNumber: a.ParticipantNumber, Session: sessionName(a.SelectionID, a.Stage, a.SessionID),
		Status: status, Uid: invitationUID(a), Sequence: uint32(a.Sequence), Reason: a.Reason, UpdateTime: ts(a.UpdateTime),
		ConfirmTime: ts(a.ConfirmedAt), RescheduleReason: a.RescheduleReason, RefusalReason: a.RefusalReason,
	}
}

// invitationUID is the calendar UID of an assignment: its ID in a domain of our own, so it
// never collides with another organiser's events.
func invitationUID(a store.Assignment) string { return a.ID + "@seleksi" }

// caller is the store's actor for the caller, as the selection records people.
func (s *ScheduleServer) caller(ctx context.Context, selID string) (store.Actor, error) {
	me, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return store.Actor{}, err
	}
	return store.Actor{Subject: me.Subject, Role: string(me.Role)}, nil
}

// CreateSession adds a session to a stage.
func (s *ScheduleServer) CreateSession(ctx context.Context, req *seleksiv1.CreateSessionRequest) (*seleksiv1.CreateSessionResponse, error) {
	selID, stage := stageOf(req.GetParent())
	me, err := s.caller(ctx, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	in := req.GetSession()
	ss, err := s.store.CreateSession(ctx, store.SessionInput{
		SelectionID: selID, Stage: stage, RequestID: req.GetRequestId(), Start: in.GetStartTime().AsTime(), End: in.GetEndTime().AsTime(),
		Venue: in.GetVenue(), MeetingURL: in.GetMeetingUri(), Capacity: int(in.GetCapacity()), Actor: me, Now: s.now(),
	})
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.CreateSessionResponse{Session: sessionView(ss)}, nil
}

// ListSessions lists a stage's sessions.
func (s *ScheduleServer) ListSessions(ctx context.Context, req *seleksiv1.ListSessionsRequest) (*seleksiv1.ListSessionsResponse, error) {
	selID, stage := stageOf(req.GetParent())
	list, err := s.store.ListSessions(ctx, selID, stage)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListSessionsResponse{}
	for _, ss := range list {
		out.Sessions = append(out.Sessions, sessionView(ss))
	}
	return out, nil
}

// AssignSessions places the stage's waiting candidates.
func (s *ScheduleServer) AssignSessions(ctx context.Context, req *seleksiv1.AssignSessionsRequest) (*seleksiv1.AssignSessionsResponse, error) {
	selID, stage := stageOf(req.GetParent())
	me, err := s.caller(ctx, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	inv, err := s.inviter(ctx, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	made, err := s.store.AssignSessions(ctx, store.AssignInput{SelectionID: selID, Stage: stage, RequestID: req.GetRequestId(),
		Actor: me, Invite: inv, Now: s.now()})
	if err != nil {
		return nil, s.scheduleError(ctx, err)
	}
	out := &seleksiv1.AssignSessionsResponse{}
	for _, a := range made {
		out.Assignments = append(out.Assignments, assignmentView(a))
	}
	return out, nil
}

// MoveAssignment moves one candidate to another session.
func (s *ScheduleServer) MoveAssignment(ctx context.Context, req *seleksiv1.MoveAssignmentRequest) (*seleksiv1.MoveAssignmentResponse, error) {
	selID, stage := stageOf(req.GetName())
	toSel, toStage := stageOf(req.GetSession())
	if toSel != selID || toStage != stage {
		return nil, localizedError(ctx, codes.InvalidArgument, msgSameStage)
	}
	me, err := s.caller(ctx, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	inv, err := s.inviter(ctx, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	a, err := s.store.MoveAssignment(ctx, store.MoveInput{SelectionID: selID, Stage: stage, ApplicationID: segment(req.GetName(), 2),
		SessionID: segment(req.GetSession(), 2), RequestID: req.GetRequestId(), Reason: req.GetReason(), Actor: me, Invite: inv, Now: s.now()})
	if err != nil {
		return nil, s.scheduleError(ctx, err)
	}
	return &seleksiv1.MoveAssignmentResponse{Assignment: assignmentView(a)}, nil
}

// ListAssignments lists a stage's assignments; a candidate sees only their own.
func (s *ScheduleServer) ListAssignments(ctx context.Context, req *seleksiv1.ListAssignmentsRequest) (*seleksiv1.ListAssignmentsResponse, error) {
	selID, stage := stageOf(req.GetParent())
	owner := ""
	if principal(ctx).Role == auth.RoleCandidate {
		me, err := actorIn(ctx, s.store, selID)
		if err != nil {
			return nil, storeError(ctx, s.logger, err)
		}
		owner = me.Subject
	}
	list, err := s.store.ListAssignments(ctx, selID, stage, owner)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	sessions, err := s.store.ListSessions(ctx, selID, stage)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	byID := make(map[string]store.Session, len(sessions))
	for _, ss := range sessions {
		byID[ss.ID] = ss
	}
	out := &seleksiv1.ListAssignmentsResponse{}
	for _, a := range list {
		v := assignmentView(a)
		if ss, ok := byID[a.SessionID]; ok {
			v.StartTime, v.EndTime, v.Venue, v.MeetingUri = ts(ss.Start), ts(ss.End), ss.Venue, ss.MeetingURL
		}
		out.Assignments = append(out.Assignments, v)
	}
	return out, nil
}

func (s *ScheduleServer) scheduleError(ctx context.Context, err error) error {
	if errors.Is(err, store.ErrCapacity) {
		return localizedError(ctx, codes.FailedPrecondition, msgCapacity)
	}
	return storeError(ctx, s.logger, err)
}

// stageWords names a stage in both languages for an invitation.
var stageWords = map[string]i18n.Text{
	store.StageCompetencyTest: {ID: "Tes kompetensi", EN: "Competency test"},
	store.StageInterview:      {ID: "Wawancara akhir", EN: "Final interview"},
}

// inviter renders invitations for the selection: a text in both languages with the local
// time, and the .ics. A version of an assignment after the first (Sequence > 0) says that
// the schedule changed.
func (s *ScheduleServer) inviter(ctx context.Context, selID string) (store.Inviter, error) {
	sel, err := s.store.GetSelection(ctx, selID)
	if err != nil {
		return nil, err
	}
	zone := calendar.Zone(trimEnumPrefix(sel.TimeZone, "TIME_ZONE_"))
	loc, err := zone.Location()
	if err != nil {
		return nil, fmt.Errorf("selection %q: %w", selID, err)
	}
	stamp := s.now()
	return func(f store.InvitationFacts) (store.Invitation, error) {
		words := stageWords[f.Session.Stage]
		place := f.Session.Venue
		if place == "" {
			place = f.Session.MeetingURL
		}
		start, end := f.Session.Start.In(loc), f.Session.End.In(loc)
		when := fmt.Sprintf("%s %s-%s %s", start.Format("2006-01-02"), start.Format("15:04"), end.Format("15:04"), zone)
		code, verbID, verbEN := "SESSION_INVITED", "Anda diundang ke", "You are invited to the"
		if f.Assignment.Sequence > 0 {
			code, verbID, verbEN = "SESSION_CHANGED", "Jadwal Anda berubah untuk", "Your schedule changed for the"
		}
		num := f.Assignment.ParticipantNumber
		text := store.Text{
			Code:   code,
			Params: map[string]string{"stage": f.Session.Stage, "start": f.Session.Start.Format(time.RFC3339), "place": place, "number": num},
			ID:     fmt.Sprintf("%s %s %s: %s, %s. Nomor peserta %s.", verbID, strings.ToLower(words.ID), sel.PositionTitle, when, place, num),
			EN:     fmt.Sprintf("%s %s of %s: %s, %s. Participant number %s.", verbEN, strings.ToLower(words.EN), sel.PositionTitle, when, place, num),
		}
		ics, err := invite.Build(invite.Request, invite.Event{
			UID: invitationUID(f.Assignment), Sequence: f.Assignment.Sequence,
			Summary:     words.ID + " / " + words.EN + " — " + sel.PositionTitle,
			Description: text.ID + "\n\n" + text.EN,
			Start:       f.Session.Start, End: f.Session.End, Zone: loc,
			Location: f.Session.Venue, URL: f.Session.MeetingURL, Attendee: f.Email, Stamp: stamp,
		})
		if err != nil {
			return store.Invitation{}, err
		}
		return store.Invitation{Text: text, Attachment: &store.Attachment{
			Name: invite.FileName(f.Session.Stage), MediaType: invite.MediaType(invite.Request), Content: ics}}, nil
	}, nil
}
