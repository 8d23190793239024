package store

import (
	"context"
	"testing"
	"time"
)

// testObjectionPerRevision: a candidate's objection to the first published result of a stage
// and the one to a revision a chair's correction published ("<STAGE>-r2:<app>") are two rows
// of the same application and stage; answering the second leaves the first as it was.
func testObjectionPerRevision(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-o")
	app := submit(t, s, newSubmission("sel-o", 0, t0)).ID
	wf := "selection-sel-o"
	cand := Actor{Subject: "cand-0", Role: "ROLE_CANDIDATE"}
	chair := Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}
	at := t0.Add(300 * time.Hour)
	const stage = "STAGE_ADMINISTRATIVE_SCREENING"
	first := Objection{ID: "ADMINISTRATIVE_SCREENING:" + app, ApplicationID: app, Stage: stage, Candidate: "cand-0",
		Reason: "revision 1", State: "OBJECTION_STATE_PENDING", FileTime: at}
	firstAnswered := first
	firstAnswered.State, firstAnswered.Answer, firstAnswered.AnsweredBy, firstAnswered.AnswerTime = "OBJECTION_STATE_REJECTED", "no", "chair", at.Add(time.Hour)
	second := Objection{ID: "ADMINISTRATIVE_SCREENING-r2:" + app, ApplicationID: app, Stage: stage, Candidate: "cand-0",
		Reason: "revision 2", State: "OBJECTION_STATE_PENDING", FileTime: at.Add(48 * time.Hour)}
	secondAnswered := second
	secondAnswered.State, secondAnswered.Answer, secondAnswered.AnsweredBy, secondAnswered.AnswerTime = "OBJECTION_STATE_REJECTED", "still no", "chair", at.Add(49*time.Hour)
	cmds := []Command{
		{WorkflowID: wf, SelectionID: "sel-o", Key: "req-object-1", Seq: 1, Kind: "FileObjection", Actor: cand, At: first.FileTime,
			Stage: stage, Phase: "OBJECTIONS", Reason: first.Reason, Objection: &first},
		{WorkflowID: wf, SelectionID: "sel-o", Key: "req-answer-1", Seq: 2, Kind: "AnswerObjection", Actor: chair, At: firstAnswered.AnswerTime,
			Stage: stage, Phase: "OBJECTIONS", Reason: "no", Objection: &firstAnswered},
		{WorkflowID: wf, SelectionID: "sel-o", Key: "req-object-2", Seq: 3, Kind: "FileObjection", Actor: cand, At: second.FileTime,
			Stage: stage, Phase: "OBJECTIONS", Reason: second.Reason, Objection: &second},
		{WorkflowID: wf, SelectionID: "sel-o", Key: "req-answer-2", Seq: 4, Kind: "AnswerObjection", Actor: chair, At: secondAnswered.AnswerTime,
			Stage: stage, Phase: "OBJECTIONS", Reason: "still no", Objection: &secondAnswered},
	}
	for _, c := range cmds {
		if applied, err := s.ApplyCommand(ctx, c); err != nil || !applied {
			t.Fatalf("apply %s: %v, %v", c.Key, applied, err)
		}
	}
	page, err := s.ListObjections(ctx, "sel-o", app, ListOptions{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("objections = %+v, %v", page, err)
	}
	for i, want := range []Objection{firstAnswered, secondAnswered} {
		got := page.Items[i]
		if got.ID != want.ID || got.Reason != want.Reason || got.Answer != want.Answer || got.State != want.State {
			t.Errorf("objection %d = %+v, want %+v", i, got, want)
		}
	}
}
