package server

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Attendance (issue 13): candidates confirm their sessions or ask for another; the committee
// or the secretariat answers. The store checks that a candidate acts on their own
// assignment, so another's is NOT_FOUND, as for applications.

var msgSameStage = i18n.Text{
	ID: "sesi tujuan harus pada seleksi dan tahap yang sama", EN: "the new session must be in the same selection and stage",
}

// assignmentCommand reads the assignment's name and the caller into a store command; a
// candidate's command carries them as the owner.
func (s *ScheduleServer) assignmentCommand(ctx context.Context, name, requestID, reason string) (store.AssignmentCommand, error) {
	selID, stage := stageOf(name)
	me, err := s.caller(ctx, selID)
	if err != nil {
		return store.AssignmentCommand{}, err
	}
	in := store.AssignmentCommand{SelectionID: selID, Stage: stage, ApplicationID: segment(name, 2), RequestID: requestID,
		Reason: reason, Actor: me, Now: s.now()}
	if principal(ctx).Role == auth.RoleCandidate {
		in.Owner = me.Subject
	}
	return in, nil
}

// ConfirmAttendance confirms the candidate's own assignment.
func (s *ScheduleServer) ConfirmAttendance(ctx context.Context, req *seleksiv1.ConfirmAttendanceRequest) (*seleksiv1.ConfirmAttendanceResponse, error) {
	in, err := s.assignmentCommand(ctx, req.GetName(), req.GetRequestId(), "")
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	a, err := s.store.ConfirmAttendance(ctx, in)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.ConfirmAttendanceResponse{Assignment: assignmentView(a)}, nil
}

// RequestReschedule records the candidate's request for another session.
func (s *ScheduleServer) RequestReschedule(ctx context.Context, req *seleksiv1.RequestRescheduleRequest) (*seleksiv1.RequestRescheduleResponse, error) {
	in, err := s.assignmentCommand(ctx, req.GetName(), req.GetRequestId(), strings.TrimSpace(req.GetReason()))
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	a, err := s.store.RequestReschedule(ctx, in)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.RequestRescheduleResponse{Assignment: assignmentView(a)}, nil
}

// AcceptReschedule moves the candidate to the session given and sends the updated invitation.
func (s *ScheduleServer) AcceptReschedule(ctx context.Context, req *seleksiv1.AcceptRescheduleRequest) (*seleksiv1.AcceptRescheduleResponse, error) {
	selID, stage := stageOf(req.GetName())
	if toSel, toStage := stageOf(req.GetSession()); toSel != selID || toStage != stage {
		return nil, localizedError(ctx, codes.InvalidArgument, msgSameStage)
	}
	in, err := s.assignmentCommand(ctx, req.GetName(), req.GetRequestId(), strings.TrimSpace(req.GetReason()))
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	if in.Invite, err = s.inviter(ctx, selID); err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	in.SessionID = segment(req.GetSession(), 2)
	a, err := s.store.AcceptReschedule(ctx, in)
	if err != nil {
		return nil, s.scheduleError(ctx, err)
	}
	return &seleksiv1.AcceptRescheduleResponse{Assignment: assignmentView(a)}, nil
}

// RefuseReschedule refuses the request; the candidate is sent the reason.
func (s *ScheduleServer) RefuseReschedule(ctx context.Context, req *seleksiv1.RefuseRescheduleRequest) (*seleksiv1.RefuseRescheduleResponse, error) {
	reason := strings.TrimSpace(req.GetReason())
	in, err := s.assignmentCommand(ctx, req.GetName(), req.GetRequestId(), reason)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	sel, err := s.store.GetSelection(ctx, in.SelectionID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	in.Notice = refusalNotice(in.Stage, sel.PositionTitle, reason)
	a, err := s.store.RefuseReschedule(ctx, in)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.RefuseRescheduleResponse{Assignment: assignmentView(a)}, nil
}

// refusalNotice is what a candidate is sent when their request is refused: a code with its
// parameters for the record, and the sentences in both languages for the channels.
func refusalNotice(stage, position, reason string) store.Text {
	words := stageWords[stage]
	return store.Text{
		Code:   "RESCHEDULE_REFUSED",
		Params: map[string]string{"stage": stage, "reason": reason},
		ID: fmt.Sprintf("Permintaan pindah jadwal %s %s ditolak; jadwal Anda tetap. Alasan: %s",
			strings.ToLower(words.ID), position, reason),
		EN: fmt.Sprintf("Your request to move the %s of %s was refused; your schedule stays. Reason: %s",
			strings.ToLower(words.EN), position, reason),
	}
}
