package server

import (
	"context"
	"log/slog"
	"strings"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// AttendanceStore is what the attendance handlers need of the store.
type AttendanceStore interface {
	selectionActors
	Ledger
	Stages
	RecordAttendance(ctx context.Context, in store.AssignmentCommand) (store.Assignment, string, error)
	ListAssignments(ctx context.Context, selectionID, stage, owner string) ([]store.Assignment, error)
	AbsencePolicy(ctx context.Context, selectionID, stage string) (string, error)
	SetAbsencePolicy(ctx context.Context, selectionID, stage, policy, requestID string, actor store.Actor, at time.Time) error
}

// AttendanceServer implements AttendanceService. The store keeps who came and each stage's
// absence policy; an absence under an eliminating policy goes to the selection's workflow as
// recordAbsence, because the workflow, not the attendance table, decides an application's
// state. Presence never eliminates, and does not undo an elimination already made: that is
// corrected through an objection, like any other result.
type AttendanceServer struct {
	seleksiv1.UnimplementedAttendanceServiceServer
	store  AttendanceStore
	cmd    commander
	logger *slog.Logger
	now    func() time.Time
}

var _ seleksiv1.AttendanceServiceServer = (*AttendanceServer)(nil)

// NewAttendanceServer serves attendance from st and sends eliminations to wf.
func NewAttendanceServer(st AttendanceStore, wf Workflows, cat *i18n.Catalog, logger *slog.Logger, now func() time.Time) *AttendanceServer {
	if now == nil {
		now = time.Now
	}
	return &AttendanceServer{store: st, cmd: commander{wf: wf, ledger: st, stages: st, cat: cat, logger: logger}, logger: logger, now: now}
}

// Enum names shared by the API and the store; TestAttendanceEnumNames ties them.
var (
	attendanceToStore = map[seleksiv1.Attendance]string{
		seleksiv1.Attendance_ATTENDANCE_PRESENT: store.AttendancePresent,
		seleksiv1.Attendance_ATTENDANCE_ABSENT:  store.AttendanceAbsent,
	}
	consequenceToStore = map[seleksiv1.AbsenceConsequence]string{
		seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_RECORD_ONLY: store.AbsenceRecordOnly,
		seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_ELIMINATE:   store.AbsenceEliminate,
	}
)

func consequenceView(policy string) seleksiv1.AbsenceConsequence {
	for k, v := range consequenceToStore {
		if v == policy {
			return k
		}
	}
	return seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_UNSPECIFIED
}

func absencePolicyName(selID, stage string) string {
	return "selections/" + selID + "/stages/" + stageSlug(stage) + "/absencePolicy"
}

// RecordAttendance records whether the candidate came; an absence where the stage's policy
// eliminates is sent to the workflow under the same request ID, so a retry neither records
// nor eliminates twice.
func (s *AttendanceServer) RecordAttendance(ctx context.Context, req *seleksiv1.RecordAttendanceRequest) (*seleksiv1.RecordAttendanceResponse, error) {
	selID, stage := stageOf(req.GetName())
	me, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	attendance := attendanceToStore[req.GetAttendance()]
	a, policy, err := s.store.RecordAttendance(ctx, store.AssignmentCommand{
		SelectionID: selID, Stage: stage, ApplicationID: segment(req.GetName(), 2), RequestID: req.GetRequestId(),
		Reason: strings.TrimSpace(req.GetNote()), Attendance: attendance,
		Actor: store.Actor{Subject: me.Subject, Role: string(me.Role)}, Now: s.now(),
	})
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.RecordAttendanceResponse{Assignment: assignmentView(a), Attendance: req.GetAttendance(),
		Consequence: consequenceView(policy)}
	if attendance != store.AttendanceAbsent || policy != store.AbsenceEliminate {
		return out, nil
	}
	if _, err := s.cmd.send(ctx, selID, req.GetRequestId(), workflows.UpdateRecordAbsence, workflows.RecordAbsenceArgs{
		Actor: me, ApplicationID: a.ApplicationID, Stage: workflows.Stage(stage),
		Session: sessionName(selID, stage, a.SessionID), Note: strings.TrimSpace(req.GetNote()),
	}); err != nil {
		return nil, err
	}
	out.Eliminated = true
	return out, nil
}

// ListAttendance lists what was recorded of each placed candidate's attendance.
func (s *AttendanceServer) ListAttendance(ctx context.Context, req *seleksiv1.ListAttendanceRequest) (*seleksiv1.ListAttendanceResponse, error) {
	selID, stage := stageOf(req.GetParent())
	list, err := s.store.ListAssignments(ctx, selID, stage, "")
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListAttendanceResponse{}
	for _, a := range list {
		out.Records = append(out.Records, &seleksiv1.AttendanceRecord{Assignment: assignmentView(a).GetName(),
			ParticipantNumber: a.ParticipantNumber, Attendance: attendanceView(a.Attendance)})
	}
	return out, nil
}

func attendanceView(v string) seleksiv1.Attendance {
	for k, name := range attendanceToStore {
		if name == v {
			return k
		}
	}
	return seleksiv1.Attendance_ATTENDANCE_UNSPECIFIED
}

// GetAbsencePolicy returns what absence does in a stage.
func (s *AttendanceServer) GetAbsencePolicy(ctx context.Context, req *seleksiv1.GetAbsencePolicyRequest) (*seleksiv1.GetAbsencePolicyResponse, error) {
	selID, stage := stageOf(req.GetName())
	policy, err := s.store.AbsencePolicy(ctx, selID, stage)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.GetAbsencePolicyResponse{Policy: &seleksiv1.AbsencePolicy{
		Name: absencePolicyName(selID, stage), Consequence: consequenceView(policy)}}, nil
}

// SetAbsencePolicy sets what absence does in a stage.
func (s *AttendanceServer) SetAbsencePolicy(ctx context.Context, req *seleksiv1.SetAbsencePolicyRequest) (*seleksiv1.SetAbsencePolicyResponse, error) {
	selID, stage := stageOf(req.GetName())
	me, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	policy := consequenceToStore[req.GetConsequence()]
	if err := s.store.SetAbsencePolicy(ctx, selID, stage, policy, req.GetRequestId(),
		store.Actor{Subject: me.Subject, Role: string(me.Role)}, s.now()); err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.SetAbsencePolicyResponse{Policy: &seleksiv1.AbsencePolicy{
		Name: absencePolicyName(selID, stage), Consequence: req.GetConsequence()}}, nil
}
