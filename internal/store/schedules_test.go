package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestPlanAssignments(t *testing.T) {
	tests := []struct {
		name    string
		seats   []Seat
		waiting []string
		want    map[string]string
		wantErr *CapacityError
	}{
		{"nothing waits", []Seat{{"s1", 2}}, nil, map[string]string{}, nil},
		{"the earliest session fills first", []Seat{{"s1", 2}, {"s2", 2}}, []string{"a", "b", "c"},
			map[string]string{"a": "s1", "b": "s1", "c": "s2"}, nil},
		{"a full session is passed over", []Seat{{"s1", 0}, {"s2", 1}, {"s3", 5}}, []string{"a", "b"},
			map[string]string{"a": "s2", "b": "s3"}, nil},
		{"exactly enough", []Seat{{"s1", 1}, {"s2", 1}}, []string{"a", "b"}, map[string]string{"a": "s1", "b": "s2"}, nil},
		{"one seat short", []Seat{{"s1", 1}, {"s2", 1}}, []string{"a", "b", "c"}, nil, &CapacityError{Waiting: 3, Free: 2}},
		{"no sessions", nil, []string{"a"}, nil, &CapacityError{Waiting: 1, Free: 0}},
		// A session whose capacity was lowered below its count has no free seat, not fewer.
		{"overfull session counts as none", []Seat{{"s1", -2}, {"s2", 1}}, []string{"a", "b"}, nil, &CapacityError{Waiting: 2, Free: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planAssignments(tt.seats, tt.waiting)
			if tt.wantErr != nil {
				var ce *CapacityError
				if !errors.As(err, &ce) || *ce != *tt.wantErr || !errors.Is(err, ErrFailedPrecondition) || got != nil {
					t.Fatalf("got %v, %v; want %+v and no plan", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// testSchedules: sessions of a stage are filled in time order by the stage's active
// applications in participant-number order; a second run assigns only newcomers; too few
// seats assign none; a move keeps the UID and raises the sequence; every version of an
// assignment queues one invitation with its attachment; the chain still verifies.
func testSchedules(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-s")
	admin := Actor{Subject: "adm", Role: "ROLE_ADMIN"}
	var apps []Application
	for i := range 5 {
		a, err := s.SubmitApplication(ctx, newSubmission("sel-s", i, t0.Add(time.Duration(i)*time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}
	// Applications 0..3 reach the competency test; 4 was eliminated at screening.
	if err := s.db.Exec("UPDATE applications SET state = ?, current_stage = ? WHERE selection_id = ?", StateInProgress, StageCompetencyTest, "sel-s").Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.Exec("UPDATE applications SET state = ? WHERE id = ?", StateEliminated, apps[4].ID).Error; err != nil {
		t.Fatal(err)
	}
	day := t0.Add(30 * 24 * time.Hour)
	newSession := func(req string, start time.Time, capacity int) Session {
		t.Helper()
		ss, err := s.CreateSession(ctx, SessionInput{SelectionID: "sel-s", Stage: StageCompetencyTest, RequestID: req, Start: start,
			End: start.Add(2 * time.Hour), Venue: "Aula BKPSDM", Capacity: capacity, Actor: admin, Now: t0})
		if err != nil {
			t.Fatalf("create session %s: %v", req, err)
		}
		return ss
	}
	// Created out of time order: the afternoon first.
	afternoon := newSession("r-pm", day.Add(5*time.Hour), 2)
	morning := newSession("r-am", day, 1)
	if again := newSession("r-am", day, 1); again.ID != morning.ID {
		t.Fatalf("a retried creation made session %s, want %s", again.ID, morning.ID)
	}
	if _, err := s.CreateSession(ctx, SessionInput{SelectionID: "sel-s", Stage: "STAGE_ADMINISTRATIVE_SCREENING", RequestID: "r-x",
		Start: day, End: day.Add(time.Hour), Venue: "x", Capacity: 1, Actor: admin, Now: t0}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a session of screening: %v, want ErrInvalidArgument", err)
	}

	invited := map[string]int{}
	invite := func(f InvitationFacts) (Invitation, error) {
		invited[f.Assignment.ID]++
		return Invitation{Text: Text{Code: "INVITED", EN: "Invitation", ID: "Undangan"},
			Attachment: &Attachment{Name: "undangan.ics", MediaType: "text/calendar", Content: fmt.Appendf(nil, "UID:%s SEQ:%d SES:%s MAIL:%s",
				f.Assignment.ID, f.Assignment.Sequence, f.Session.ID, f.Email)}}, nil
	}

	// Four wait for three seats: nothing is assigned.
	_, err := s.AssignSessions(ctx, AssignInput{SelectionID: "sel-s", Stage: StageCompetencyTest, RequestID: "a-1", Actor: admin, Invite: invite, Now: t0})
	var ce *CapacityError
	if !errors.As(err, &ce) || ce.Waiting != 4 || ce.Free != 3 {
		t.Fatalf("assign with too few seats: %v", err)
	}
	if n := count(t, s, "schedule_assignments", "selection_id = ?", "sel-s"); n != 0 || len(invited) != 0 {
		t.Fatalf("a refused assignment left %d rows and %d invitations", n, len(invited))
	}

	evening := newSession("r-ev", day.Add(9*time.Hour), 1)
	made, err := s.AssignSessions(ctx, AssignInput{SelectionID: "sel-s", Stage: StageCompetencyTest, RequestID: "a-2", Actor: admin, Invite: invite, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{apps[0].ID: morning.ID, apps[1].ID: afternoon.ID, apps[2].ID: afternoon.ID, apps[3].ID: evening.ID}
	got := map[string]string{}
	for _, a := range made {
		got[a.ApplicationID] = a.SessionID
		if a.Sequence != 0 || a.Status != AssignmentAssigned {
			t.Errorf("new assignment %+v", a)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("assigned %v, want %v", got, want)
	}
	if again, err := s.AssignSessions(ctx, AssignInput{SelectionID: "sel-s", Stage: StageCompetencyTest, RequestID: "a-3", Actor: admin, Invite: invite, Now: t0}); err != nil || len(again) != 0 {
		t.Fatalf("a second run assigned %v, %v; want nothing", again, err)
	}

	// Moving application 1 from the afternoon into the (full) evening is refused; into a new
	// session with room it succeeds.
	if _, err := s.MoveAssignment(ctx, MoveInput{SelectionID: "sel-s", Stage: StageCompetencyTest, ApplicationID: apps[1].ID,
		SessionID: evening.ID, RequestID: "m-1", Reason: "bentrok", Actor: admin, Invite: invite, Now: t0}); !errors.Is(err, ErrCapacity) {
		t.Fatalf("move into a full session: %v, want ErrCapacity", err)
	}
	spare := newSession("r-spare", day.Add(24*time.Hour), 3)
	moved, err := s.MoveAssignment(ctx, MoveInput{SelectionID: "sel-s", Stage: StageCompetencyTest, ApplicationID: apps[1].ID,
		SessionID: spare.ID, RequestID: "m-2", Reason: "bentrok", Actor: admin, Invite: invite, Now: t0})
	if err != nil || moved.SessionID != spare.ID || moved.Sequence != 1 {
		t.Fatalf("move: %+v, %v", moved, err)
	}
	var before Assignment
	for _, a := range made {
		if a.ApplicationID == apps[1].ID {
			before = a
		}
	}
	if moved.ID != before.ID {
		t.Errorf("a move changed the UID from %s to %s", before.ID, moved.ID)
	}

	list, err := s.ListAssignments(ctx, "sel-s", StageCompetencyTest, "")
	if err != nil || len(list) != 4 {
		t.Fatalf("list: %v, %v", list, err)
	}
	for i, a := range list {
		if a.ApplicationID != apps[i].ID || a.ParticipantNumber != apps[i].ParticipantNumber {
			t.Errorf("list[%d] = %s (%s), want %s in participant-number order", i, a.ApplicationID, a.ParticipantNumber, apps[i].ID)
		}
	}
	mine, err := s.ListAssignments(ctx, "sel-s", StageCompetencyTest, apps[2].Owner)
	if err != nil || len(mine) != 1 || mine[0].ApplicationID != apps[2].ID {
		t.Fatalf("own list: %v, %v", mine, err)
	}
	sessions, err := s.ListSessions(ctx, "sel-s", StageCompetencyTest)
	if err != nil || len(sessions) != 4 || sessions[0].ID != morning.ID || sessions[1].Assigned != 1 || sessions[3].Assigned != 1 {
		t.Fatalf("sessions: %+v, %v", sessions, err)
	}

	// Five invitations: four first ones and the moved one's second version.
	if n := count(t, s, "notifications", "selection_id = ? AND kind = ?", "sel-s", NotificationInvite); n != 5 {
		t.Fatalf("%d invitations queued, want 5", n)
	}
	var ids []string
	if err := s.db.Table("notifications").Where("application_id = ? AND kind = ?", apps[1].ID, NotificationInvite).Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	att, err := s.NotificationAttachments(ctx, ids)
	if err != nil || len(att) != 2 {
		t.Fatalf("attachments: %v, %v", att, err)
	}
	wantSecond := fmt.Sprintf("UID:%s SEQ:1 SES:%s MAIL:%s", moved.ID, spare.ID, "calon1@example.go.id")
	found := false
	for _, a := range att {
		found = found || string(a.Content) == wantSecond
	}
	if !found {
		t.Errorf("no attachment %q among %v", wantSecond, att)
	}
	rep, err := s.VerifyChain(ctx, "sel-s")
	if err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
	var actions []string
	if err := s.db.Table("audit_events").Where("selection_id = ? AND action IN ?", "sel-s",
		[]string{ActionCreateSession, ActionAssignSessions, ActionMoveAssignment}).Order("seq").Pluck("action", &actions).Error; err != nil {
		t.Fatal(err)
	}
	wantActions := []string{ActionCreateSession, ActionCreateSession, ActionCreateSession, ActionAssignSessions, ActionCreateSession, ActionMoveAssignment}
	if !reflect.DeepEqual(actions, wantActions) {
		t.Errorf("audit actions %v, want %v", actions, wantActions)
	}
}
