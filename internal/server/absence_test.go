package server

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// absenceStore keeps the stage's policy and the attendance records the handlers pass; the
// store's own behaviour is tested in internal/store against SQLite and PostgreSQL.
type absenceStore struct {
	Actors
	policy   string
	recorded []store.AssignmentCommand
}

func (f *absenceStore) RecordsActorIDs(context.Context, string) (bool, error) { return false, nil }
func (f *absenceStore) GetSelection(_ context.Context, id string) (store.Selection, error) {
	return store.Selection{ID: id, Stage: store.StageInterview}, nil
}
func (f *absenceStore) CommandAnswer(context.Context, string, string) (store.CommandAnswer, error) {
	return store.CommandAnswer{}, store.ErrNotFound
}
func (f *absenceStore) RecordAttendance(_ context.Context, in store.AssignmentCommand) (store.Assignment, string, error) {
	f.recorded = append(f.recorded, in)
	return store.Assignment{ID: "asg-1", SelectionID: in.SelectionID, Stage: in.Stage, ApplicationID: in.ApplicationID,
		SessionID: "ses-1", Status: store.AssignmentConfirmed}, f.policy, nil
}
func (f *absenceStore) ListAssignments(_ context.Context, sel, stage, owner string) ([]store.Assignment, error) {
	if owner != "" {
		return nil, fmt.Errorf("staff lists every assignment, not %q's", owner)
	}
	return []store.Assignment{
		{ID: "asg-1", SelectionID: sel, Stage: stage, ApplicationID: "app-001", ParticipantNumber: "JPT-001", Attendance: store.AttendanceAbsent},
		{ID: "asg-2", SelectionID: sel, Stage: stage, ApplicationID: "app-002", ParticipantNumber: "JPT-002"},
	}, nil
}
func (f *absenceStore) AbsencePolicy(context.Context, string, string) (string, error) {
	return f.policy, nil
}
func (f *absenceStore) SetAbsencePolicy(_ context.Context, _, _, policy, _ string, _ store.Actor, _ time.Time) error {
	f.policy = policy
	return nil
}

// TestAbsencePolicySwitch: an absence is only recorded while the stage's policy is
// RECORD_ONLY; once the secretariat sets ELIMINATE, an absence is sent to the workflow as
// recordAbsence under the request's ID, with the caller, the stage and the session; presence
// never is.
func TestAbsencePolicySwitch(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 7, 16, 1, 0, 0, 0, time.UTC)
	f := &absenceStore{policy: store.AbsenceRecordOnly}
	fw := &fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 9, Stage: workflows.StageInterview}}}
	srv := NewAttendanceServer(f, fw, nil, slog.New(slog.DiscardHandler), func() time.Time { return now })
	admin := auth.WithPrincipal(ctx, auth.Principal{Issuer: "local", Subject: "sekretariat", Role: auth.RoleAdmin})
	member := auth.WithPrincipal(ctx, auth.Principal{Issuer: "local", Subject: "anggota-2", Role: auth.RoleCommittee, Selections: []string{"sel-abc"}})
	const name = "selections/sel-abc/stages/interview/assignments/app-001"
	const policyName = "selections/sel-abc/stages/interview/absencePolicy"
	absent := func(id string) *seleksiv1.RecordAttendanceRequest {
		return &seleksiv1.RecordAttendanceRequest{Name: name, RequestId: id, Attendance: seleksiv1.Attendance_ATTENDANCE_ABSENT, Note: " tanpa kabar "}
	}

	got, err := srv.GetAbsencePolicy(member, &seleksiv1.GetAbsencePolicyRequest{Name: policyName})
	if err != nil || got.GetPolicy().GetConsequence() != seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_RECORD_ONLY || got.GetPolicy().GetName() != policyName {
		t.Fatalf("default policy = %v, %v", got, err)
	}
	res, err := srv.RecordAttendance(member, absent("req-00000001"))
	if err != nil || res.GetEliminated() || res.GetConsequence() != seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_RECORD_ONLY {
		t.Fatalf("absence under RECORD_ONLY = %v, %v", res, err)
	}
	if fw.got.UpdateName != "" {
		t.Fatalf("RECORD_ONLY sent %s to the workflow", fw.got.UpdateName)
	}

	set, err := srv.SetAbsencePolicy(admin, &seleksiv1.SetAbsencePolicyRequest{Name: policyName, RequestId: "req-00000002",
		Consequence: seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_ELIMINATE})
	if err != nil || set.GetPolicy().GetConsequence() != seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_ELIMINATE || f.policy != store.AbsenceEliminate {
		t.Fatalf("set policy = %v, %v (store %q)", set, err, f.policy)
	}
	if res, err := srv.RecordAttendance(member, &seleksiv1.RecordAttendanceRequest{Name: name, RequestId: "req-00000003",
		Attendance: seleksiv1.Attendance_ATTENDANCE_PRESENT}); err != nil || res.GetEliminated() || fw.got.UpdateName != "" {
		t.Fatalf("presence under ELIMINATE = %v, %v, update %q", res, err, fw.got.UpdateName)
	}
	res, err = srv.RecordAttendance(member, absent("req-00000004"))
	if err != nil || !res.GetEliminated() || res.GetConsequence() != seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_ELIMINATE {
		t.Fatalf("absence under ELIMINATE = %v, %v", res, err)
	}
	if fw.got.UpdateName != workflows.UpdateRecordAbsence || fw.got.UpdateID != "req-00000004" || fw.got.WorkflowID != workflows.WorkflowID("sel-abc") {
		t.Fatalf("update sent %+v", fw.got)
	}
	args, ok := fw.got.Args[0].(workflows.RecordAbsenceArgs)
	want := workflows.RecordAbsenceArgs{Actor: workflows.Actor{Subject: "anggota-2", Role: workflows.RoleCommittee}, ApplicationID: "app-001",
		Stage: workflows.StageInterview, Session: "selections/sel-abc/stages/interview/sessions/ses-1", Note: "tanpa kabar"}
	if !ok || args != want {
		t.Errorf("recordAbsence args %+v, want %+v", fw.got.Args[0], want)
	}
	if len(f.recorded) != 3 || f.recorded[0].Attendance != store.AttendanceAbsent || f.recorded[1].Attendance != store.AttendancePresent ||
		f.recorded[2].Reason != "tanpa kabar" || f.recorded[2].RequestID != "req-00000004" || f.recorded[2].Actor.Subject != "anggota-2" {
		t.Errorf("store records %+v", f.recorded)
	}

	list, err := srv.ListAttendance(member, &seleksiv1.ListAttendanceRequest{Parent: "selections/sel-abc/stages/interview"})
	if err != nil || len(list.GetRecords()) != 2 || list.GetRecords()[0].GetAssignment() != name ||
		list.GetRecords()[0].GetAttendance() != seleksiv1.Attendance_ATTENDANCE_ABSENT ||
		list.GetRecords()[1].GetAttendance() != seleksiv1.Attendance_ATTENDANCE_UNSPECIFIED || list.GetRecords()[1].GetParticipantNumber() != "JPT-002" {
		t.Errorf("attendance list = %v, %v", list, err)
	}

	// A rejection by the workflow reaches the caller, with its code.
	fw.updateErr = temporal.NewApplicationErrorWithOptions("english text", workflows.RejectWrongStage, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{workflows.Message{Code: "reject.wrong_stage.application_not_in_stage", Params: workflows.Params{{Name: "application", Value: "app-001"}}}},
	})
	if _, err := srv.RecordAttendance(member, absent("req-00000005")); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a rejected elimination answers %v, want FailedPrecondition", err)
	}
}

// tokenVerifier accepts a token that names a principal in its table.
type tokenVerifier map[string]auth.Principal

func (v tokenVerifier) Verify(_ context.Context, token string) (auth.Principal, error) {
	if p, ok := v[token]; ok {
		return p, nil
	}
	return auth.Principal{}, fmt.Errorf("unknown token: %w", auth.ErrUnauthenticated)
}

// TestAttendanceAccess: the committee of the selection and the secretariat record attendance;
// a member of another selection's committee, a candidate and an auditor do not; only the
// secretariat sets the policy, which the committee and auditors may read.
func TestAttendanceAccess(t *testing.T) {
	rules := accessRules()
	v := tokenVerifier{
		"admin":     {Subject: "sekretariat", Role: auth.RoleAdmin},
		"member":    {Subject: "anggota-2", Role: auth.RoleCommittee, Selections: []string{"sel-abc"}},
		"stranger":  {Subject: "anggota-9", Role: auth.RoleCommittee, Selections: []string{"sel-other"}},
		"candidate": {Subject: "calon-1", Role: auth.RoleCandidate},
		"auditor":   {Subject: "auditor", Role: auth.RoleAuditor},
	}
	authn := authenticateUnary(slog.New(slog.DiscardHandler), v, rules, nil)
	scope := committeeScopeUnary(rules)
	call := func(token, method string, req any) error {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+token))
		info := &grpc.UnaryServerInfo{FullMethod: method}
		_, err := authn(ctx, req, info, func(ctx context.Context, req any) (any, error) {
			return scope(ctx, req, info, func(context.Context, any) (any, error) { return nil, nil })
		})
		return err
	}
	record := &seleksiv1.RecordAttendanceRequest{Name: "selections/sel-abc/stages/interview/assignments/app-001"}
	get := &seleksiv1.GetAbsencePolicyRequest{Name: "selections/sel-abc/stages/interview/absencePolicy"}
	set := &seleksiv1.SetAbsencePolicyRequest{Name: get.Name}
	list := &seleksiv1.ListAttendanceRequest{Parent: "selections/sel-abc/stages/interview"}
	tests := []struct {
		token, method string
		req           any
		want          codes.Code
	}{
		{"admin", seleksiv1.AttendanceService_RecordAttendance_FullMethodName, record, codes.OK},
		{"member", seleksiv1.AttendanceService_RecordAttendance_FullMethodName, record, codes.OK},
		{"stranger", seleksiv1.AttendanceService_RecordAttendance_FullMethodName, record, codes.PermissionDenied},
		{"candidate", seleksiv1.AttendanceService_RecordAttendance_FullMethodName, record, codes.PermissionDenied},
		{"auditor", seleksiv1.AttendanceService_RecordAttendance_FullMethodName, record, codes.PermissionDenied},
		{"auditor", seleksiv1.AttendanceService_ListAttendance_FullMethodName, list, codes.OK},
		{"stranger", seleksiv1.AttendanceService_ListAttendance_FullMethodName, list, codes.PermissionDenied},
		{"candidate", seleksiv1.AttendanceService_ListAttendance_FullMethodName, list, codes.PermissionDenied},
		{"admin", seleksiv1.AttendanceService_SetAbsencePolicy_FullMethodName, set, codes.OK},
		{"member", seleksiv1.AttendanceService_SetAbsencePolicy_FullMethodName, set, codes.PermissionDenied},
		{"member", seleksiv1.AttendanceService_GetAbsencePolicy_FullMethodName, get, codes.OK},
		{"auditor", seleksiv1.AttendanceService_GetAbsencePolicy_FullMethodName, get, codes.OK},
		{"stranger", seleksiv1.AttendanceService_GetAbsencePolicy_FullMethodName, get, codes.PermissionDenied},
		{"candidate", seleksiv1.AttendanceService_GetAbsencePolicy_FullMethodName, get, codes.PermissionDenied},
		{"nobody", seleksiv1.AttendanceService_GetAbsencePolicy_FullMethodName, get, codes.Unauthenticated},
	}
	for _, tt := range tests {
		if got := status.Code(call(tt.token, tt.method, tt.req)); got != tt.want {
			t.Errorf("%s calling %s: %v, want %v", tt.token, tt.method, got, tt.want)
		}
	}
}

// TestAttendanceEnumNames: the API's attendance and absence enums map onto every store value.
func TestAttendanceEnumNames(t *testing.T) {
	for _, v := range []seleksiv1.Attendance{seleksiv1.Attendance_ATTENDANCE_PRESENT, seleksiv1.Attendance_ATTENDANCE_ABSENT} {
		if "ATTENDANCE_"+attendanceToStore[v] != v.String() || attendanceView(attendanceToStore[v]) != v {
			t.Errorf("%s maps to %q", v, attendanceToStore[v])
		}
	}
	for _, p := range []string{store.AbsenceRecordOnly, store.AbsenceEliminate} {
		if c := consequenceView(p); "ABSENCE_CONSEQUENCE_"+p != c.String() || consequenceToStore[c] != p {
			t.Errorf("%s maps to %s", p, c)
		}
	}
}
