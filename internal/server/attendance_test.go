package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// attendanceStore records the commands the handlers pass; the store's own behaviour is
// tested in internal/store against SQLite and PostgreSQL.
type attendanceStore struct {
	ScheduleStore
	got []store.AssignmentCommand
}

func (f *attendanceStore) RecordsActorIDs(context.Context, string) (bool, error) { return false, nil }
func (f *attendanceStore) GetSelection(_ context.Context, id string) (store.Selection, error) {
	return store.Selection{ID: id, PositionTitle: "Kepala Dinas Pendidikan", TimeZone: "TIME_ZONE_WIB"}, nil
}
func (f *attendanceStore) record(in store.AssignmentCommand) (store.Assignment, error) {
	f.got = append(f.got, in)
	return store.Assignment{ID: "asg-1", SelectionID: in.SelectionID, Stage: in.Stage, ApplicationID: in.ApplicationID,
		SessionID: "ses-1", Status: store.AssignmentConfirmed, RescheduleReason: "dinas", ConfirmedAt: in.Now}, nil
}
func (f *attendanceStore) ConfirmAttendance(_ context.Context, in store.AssignmentCommand) (store.Assignment, error) {
	return f.record(in)
}
func (f *attendanceStore) RequestReschedule(_ context.Context, in store.AssignmentCommand) (store.Assignment, error) {
	return f.record(in)
}
func (f *attendanceStore) AcceptReschedule(_ context.Context, in store.AssignmentCommand) (store.Assignment, error) {
	return f.record(in)
}
func (f *attendanceStore) RefuseReschedule(_ context.Context, in store.AssignmentCommand) (store.Assignment, error) {
	return f.record(in)
}

// TestAttendanceCommands: a candidate's commands carry them as the owner (so the store keeps
// them to their own assignment), staff's do not; an answer names a session of the same
// stage; acceptance comes with an inviter, refusal with a coded notice in both languages.
func TestAttendanceCommands(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	f := &attendanceStore{}
	srv := NewScheduleServer(f, slog.New(slog.DiscardHandler), func() time.Time { return now })
	cand := auth.WithPrincipal(ctx, auth.Principal{Issuer: "local", Subject: "calon-1", Role: auth.RoleCandidate})
	admin := auth.WithPrincipal(ctx, auth.Principal{Issuer: "local", Subject: "sekretariat", Role: auth.RoleAdmin})
	const name = "selections/sel-abc/stages/interview/assignments/app-001"

	res, err := srv.ConfirmAttendance(cand, &seleksiv1.ConfirmAttendanceRequest{Name: name, RequestId: "req-00001"})
	if err != nil || res.GetAssignment().GetStatus() != seleksiv1.AssignmentStatus_ASSIGNMENT_STATUS_CONFIRMED ||
		!res.GetAssignment().GetConfirmTime().AsTime().Equal(now) || res.GetAssignment().GetRescheduleReason() != "dinas" {
		t.Fatalf("confirm = %v, %v", res, err)
	}
	if _, err := srv.RequestReschedule(cand, &seleksiv1.RequestRescheduleRequest{Name: name, RequestId: "req-00002", Reason: "  dinas luar kota "}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AcceptReschedule(admin, &seleksiv1.AcceptRescheduleRequest{Name: name, RequestId: "req-00003",
		Session: "selections/sel-abc/stages/competency-test/sessions/ses-002"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("accepting into another stage's session: %v, want InvalidArgument", err)
	}
	if _, err := srv.AcceptReschedule(admin, &seleksiv1.AcceptRescheduleRequest{Name: name, RequestId: "req-00004",
		Session: "selections/sel-abc/stages/interview/sessions/ses-002"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RefuseReschedule(admin, &seleksiv1.RefuseRescheduleRequest{Name: name, RequestId: "req-00005", Reason: "sesi penuh"}); err != nil {
		t.Fatal(err)
	}
	if len(f.got) != 4 {
		t.Fatalf("%d commands reached the store, want 4", len(f.got))
	}
	for i, in := range f.got {
		if in.SelectionID != "sel-abc" || in.Stage != store.StageInterview || in.ApplicationID != "app-001" || !in.Now.Equal(now) {
			t.Errorf("command %d = %+v", i, in)
		}
		wantOwner := ""
		if i < 2 {
			wantOwner = "calon-1"
		}
		if in.Owner != wantOwner || in.Actor.Subject != map[bool]string{true: "calon-1", false: "sekretariat"}[i < 2] {
			t.Errorf("command %d: owner %q actor %q, want owner %q", i, in.Owner, in.Actor.Subject, wantOwner)
		}
	}
	if f.got[1].Reason != "dinas luar kota" {
		t.Errorf("request reason %q, want it trimmed", f.got[1].Reason)
	}
	if acc := f.got[2]; acc.SessionID != "ses-002" || acc.Invite == nil {
		t.Errorf("accept: session %q, inviter set %v", acc.SessionID, acc.Invite != nil)
	}
	n := f.got[3].Notice
	if n.Code != "RESCHEDULE_REFUSED" || n.Params["reason"] != "sesi penuh" || n.Params["stage"] != store.StageInterview ||
		!strings.Contains(n.ID, "sesi penuh") || !strings.Contains(n.ID, "wawancara akhir") || !strings.Contains(n.EN, "final interview") {
		t.Errorf("refusal notice = %+v", n)
	}
}
