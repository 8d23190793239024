package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// testAttendance: a candidate confirms only their own assignment; a reschedule request is
// accepted by a move within capacity (new invitation, confirmation reset) or refused with a
// reason (a notice queued once per request); answering without a pending request fails; the
// audit chain records each action and still verifies.
func testAttendance(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-t")
	admin := Actor{Subject: "adm", Role: "ROLE_ADMIN"}
	var apps []Application
	for i := range 2 {
		a, err := s.SubmitApplication(ctx, newSubmission("sel-t", i, t0.Add(time.Duration(i)*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}
	if err := s.db.Exec("UPDATE applications SET state = ?, current_stage = ? WHERE selection_id = ?", StateInProgress, StageInterview, "sel-t").Error; err != nil {
		t.Fatal(err)
	}
	day := t0.Add(30 * 24 * time.Hour)
	newSession := func(req string, start time.Time, capacity int) Session {
		t.Helper()
		ss, err := s.CreateSession(ctx, SessionInput{SelectionID: "sel-t", Stage: StageInterview, RequestID: req, Start: start,
			End: start.Add(time.Hour), Venue: "Ruang Rapat", Capacity: capacity, Actor: admin, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	first := newSession("s-1", day, 2)
	invited := 0
	invite := func(f InvitationFacts) (Invitation, error) {
		invited++
		return Invitation{Text: Text{Code: "INVITED", EN: "Invitation", ID: "Undangan"}}, nil
	}
	if _, err := s.AssignSessions(ctx, AssignInput{SelectionID: "sel-t", Stage: StageInterview, RequestID: "a-1", Actor: admin, Invite: invite, Now: t0}); err != nil {
		t.Fatal(err)
	}
	cand := func(i int) Actor { return Actor{Subject: apps[i].Owner, Role: "ROLE_CANDIDATE"} }
	cmd := func(i int, req string) AssignmentCommand {
		return AssignmentCommand{SelectionID: "sel-t", Stage: StageInterview, ApplicationID: apps[i].ID, RequestID: req,
			Owner: apps[i].Owner, Actor: cand(i), Now: t0.Add(time.Hour)}
	}

	// Candidate 1 cannot confirm candidate 0's assignment.
	other := cmd(0, "c-x")
	other.Owner, other.Actor = apps[1].Owner, cand(1)
	if _, err := s.ConfirmAttendance(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("confirming another's assignment: %v, want ErrNotFound", err)
	}
	got, err := s.ConfirmAttendance(ctx, cmd(0, "c-1"))
	if err != nil || got.Status != AssignmentConfirmed || got.ConfirmedAt.IsZero() {
		t.Fatalf("confirm: %+v, %v", got, err)
	}
	if again, err := s.ConfirmAttendance(ctx, cmd(0, "c-2")); err != nil || !again.ConfirmedAt.Equal(got.ConfirmedAt) {
		t.Fatalf("confirming again: %+v, %v", again, err)
	}

	// Answering without a request fails; a request needs a reason.
	staff := func(i int, req string) AssignmentCommand {
		c := cmd(i, req)
		c.Owner, c.Actor, c.Invite = "", admin, invite
		return c
	}
	refuse := staff(1, "f-0")
	refuse.Reason = "tidak ada sesi lain"
	if _, err := s.RefuseReschedule(ctx, refuse); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("refusing without a request: %v, want ErrFailedPrecondition", err)
	}
	if _, err := s.RequestReschedule(ctx, cmd(0, "r-0")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a request without a reason: %v, want ErrInvalidArgument", err)
	}

	// Candidate 0 asks; the confirmation is withdrawn; confirming now waits for the answer.
	req := cmd(0, "r-1")
	req.Reason = "sedang dinas luar kota"
	got, err = s.RequestReschedule(ctx, req)
	if err != nil || got.Status != AssignmentRescheduleRequested || got.RescheduleReason != req.Reason || !got.ConfirmedAt.IsZero() {
		t.Fatalf("request: %+v, %v", got, err)
	}
	if _, err := s.ConfirmAttendance(ctx, cmd(0, "c-3")); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("confirming while a request waits: %v, want ErrFailedPrecondition", err)
	}

	// Accepting into a full session fails; into one with room it moves and re-invites.
	full := newSession("s-full", day.Add(2*time.Hour), 1)
	if _, err := s.AcceptReschedule(ctx, AssignmentCommand{SelectionID: "sel-t", Stage: StageInterview, ApplicationID: apps[1].ID,
		RequestID: "x-1", Actor: admin, Now: t0}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("accepting without a session: %v", err)
	}
	fill := cmd(1, "r-fill")
	fill.Reason = "bentrok"
	if _, err := s.RequestReschedule(ctx, fill); err != nil {
		t.Fatal(err)
	}
	acc := staff(1, "ac-1")
	acc.SessionID = full.ID
	if _, err := s.AcceptReschedule(ctx, acc); err != nil {
		t.Fatalf("accept into free session: %v", err)
	}
	acc0 := staff(0, "ac-0")
	acc0.SessionID = full.ID
	if _, err := s.AcceptReschedule(ctx, acc0); !errors.Is(err, ErrCapacity) {
		t.Fatalf("accept into a full session: %v, want ErrCapacity", err)
	}
	later := newSession("s-later", day.Add(26*time.Hour), 1)
	invitedBefore := invited
	acc0.SessionID = later.ID
	got, err = s.AcceptReschedule(ctx, acc0)
	if err != nil || got.SessionID != later.ID || got.Status != AssignmentAssigned || got.Sequence != 1 || got.Reason != req.Reason {
		t.Fatalf("accept: %+v, %v", got, err)
	}
	if invited != invitedBefore+1 {
		t.Errorf("accept sent %d invitations, want 1", invited-invitedBefore)
	}
	_ = first

	// Asked again, then refused: the session stays, the candidate gets one notice.
	req2 := cmd(0, "r-2")
	req2.Reason = "masih dinas"
	if _, err := s.RequestReschedule(ctx, req2); err != nil {
		t.Fatal(err)
	}
	ref := staff(0, "f-1")
	ref.Reason = "tidak ada sesi lain"
	ref.Notice = Text{Code: "RESCHEDULE_REFUSED", Params: map[string]string{"reason": ref.Reason}, ID: "Ditolak", EN: "Refused"}
	got, err = s.RefuseReschedule(ctx, ref)
	if err != nil || got.Status != AssignmentAssigned || got.SessionID != later.ID || got.RefusalReason != ref.Reason {
		t.Fatalf("refuse: %+v, %v", got, err)
	}
	if _, err := s.RefuseReschedule(ctx, ref); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("refusing twice: %v, want ErrFailedPrecondition", err)
	}
	if n := count(t, s, "notifications", "application_id = ? AND kind = ? AND code = ?", apps[0].ID, NotificationRescheduleNote, "RESCHEDULE_REFUSED"); n != 1 {
		t.Fatalf("%d refusal notices, want 1", n)
	}

	list, err := s.ListAssignments(ctx, "sel-t", StageInterview, apps[0].Owner)
	if err != nil || len(list) != 1 || list[0].RefusalReason != ref.Reason || list[0].RescheduleReason != req2.Reason {
		t.Fatalf("list: %+v, %v", list, err)
	}
	var actions []string
	if err := s.db.Table("audit_events").Where("selection_id = ? AND action IN ?", "sel-t",
		[]string{ActionConfirmAttendance, ActionRequestReschedule, ActionAcceptReschedule, ActionRefuseReschedule}).Order("seq").Pluck("action", &actions).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{ActionConfirmAttendance, ActionRequestReschedule, ActionRequestReschedule, ActionAcceptReschedule,
		ActionAcceptReschedule, ActionRequestReschedule, ActionRefuseReschedule}
	if !reflect.DeepEqual(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
	rep, err := s.VerifyChain(ctx, "sel-t")
	if err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
}

// testAbsence: a stage records absence only until the secretariat sets it to eliminate;
// recording attendance returns the policy in force (so the server knows to send the verdict),
// records once per change, and refuses values it does not know.
func testAbsence(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-a")
	admin := Actor{Subject: "adm", Role: "ROLE_ADMIN"}
	app, err := s.SubmitApplication(ctx, newSubmission("sel-a", 0, t0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Exec("UPDATE applications SET state = ?, current_stage = ? WHERE selection_id = ?", StateInProgress, StageCompetencyTest, "sel-a").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateSession(ctx, SessionInput{SelectionID: "sel-a", Stage: StageCompetencyTest, RequestID: "s-1", Start: t0.Add(time.Hour),
		End: t0.Add(2 * time.Hour), Venue: "Aula", Capacity: 1, Actor: admin, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AssignSessions(ctx, AssignInput{SelectionID: "sel-a", Stage: StageCompetencyTest, RequestID: "a-1", Actor: admin, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.AbsencePolicy(ctx, "sel-a", StageCompetencyTest); err != nil || p != AbsenceRecordOnly {
		t.Fatalf("default policy %q, %v; want %s", p, err, AbsenceRecordOnly)
	}
	rec := func(req, att string) (Assignment, string, error) {
		return s.RecordAttendance(ctx, AssignmentCommand{SelectionID: "sel-a", Stage: StageCompetencyTest, ApplicationID: app.ID,
			RequestID: req, Attendance: att, Actor: admin, Now: t0.Add(3 * time.Hour)})
	}
	if _, _, err := rec("x-0", "LATE"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown attendance: %v", err)
	}
	a, p, err := rec("x-1", AttendanceAbsent)
	if err != nil || a.Attendance != AttendanceAbsent || p != AbsenceRecordOnly {
		t.Fatalf("absent under record-only: %+v %q %v", a, p, err)
	}
	if err := s.SetAbsencePolicy(ctx, "sel-a", StageCompetencyTest, "SOMETIMES", "p-0", admin, t0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown policy: %v", err)
	}
	if err := s.SetAbsencePolicy(ctx, "sel-a", StageCompetencyTest, AbsenceEliminate, "p-1", admin, t0); err != nil {
		t.Fatal(err)
	}
	if p, err := s.AbsencePolicy(ctx, "sel-a", StageCompetencyTest); err != nil || p != AbsenceEliminate {
		t.Fatalf("policy %q, %v; want %s", p, err, AbsenceEliminate)
	}
	if p, _ := s.AbsencePolicy(ctx, "sel-a", StageInterview); p != AbsenceRecordOnly {
		t.Errorf("the interview's policy changed with the test's: %q", p)
	}
	a, p, err = rec("x-2", AttendanceAbsent)
	if err != nil || a.Attendance != AttendanceAbsent || p != AbsenceEliminate {
		t.Fatalf("absent under eliminate: %+v %q %v", a, p, err)
	}
	if a, _, err = rec("x-3", AttendancePresent); err != nil || a.Attendance != AttendancePresent {
		t.Fatalf("present: %+v %v", a, err)
	}
	if n := count(t, s, "audit_events", "selection_id = ? AND action = ?", "sel-a", ActionRecordAttendance); n != 2 {
		t.Errorf("%d attendance events, want 2 (the repeated absence changes nothing)", n)
	}
	if rep, err := s.VerifyChain(ctx, "sel-a"); err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
}
