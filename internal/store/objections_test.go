package store

import (
	"context"
	"errors"
	"slices"
	"strings"
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

// testChecklistProjection: the requirement checklist a command records is kept as the
// workflow's JSON and read back with each item's proposal, verdict, verifier and time; a
// published entry keeps its unmet items; an objection keeps its contested items, its
// document and the answer to each item; a checklist for an application of another selection
// is refused.
func testChecklistProjection(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-c")
	app := submit(t, s, newSubmission("sel-c", 0, t0)).ID
	wf := "selection-sel-c"
	chair := Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}
	at := t0.Add(300 * time.Hour)
	const stage = "STAGE_ADMINISTRATIVE_SCREENING"
	items := `[{"item":"age","proposed":"REQUIREMENT_STATUS_UNMET","finding":{"code":"eligibility.age","params":{"age":"57","max":"56"}},` +
		`"status":"REQUIREMENT_STATUS_UNMET","by":"chair","at":"2026-07-19T08:00:00Z"},` +
		`{"item":"document:lhkpn","proposed":"REQUIREMENT_STATUS_MET","status":"REQUIREMENT_STATUS_MET"}]`
	unmet := []UnmetItem{{Item: "age", Finding: &Text{Code: "eligibility.age", Params: map[string]string{"age": "57", "max": "56"}}}}
	obj := Objection{ID: "ADMINISTRATIVE_SCREENING:" + app, ApplicationID: app, Stage: stage, Candidate: "cand-0", Reason: "usia",
		State: "OBJECTION_STATE_REJECTED", Answer: "tidak", AnsweredBy: "chair", FileTime: at, AnswerTime: at.Add(time.Hour),
		Items: []string{"age"}, Document: "documents/doc-1", ItemAnswers: []ItemAnswer{{Item: "age", Answer: "akta: 1960"}}}
	cmds := []Command{
		{WorkflowID: wf, SelectionID: "sel-c", Key: "req-record", Seq: 1, Kind: "RecordResults", Actor: chair, At: at.Add(-time.Hour),
			Stage: stage, Phase: "OPEN", Checklists: []Checklist{{ApplicationID: app, Items: []byte(items)}}},
		{WorkflowID: wf, SelectionID: "sel-c", Key: "req-advance", Seq: 2, Kind: "AdvanceStage", Actor: chair, At: at.Add(-time.Minute),
			Stage: stage, Phase: "OBJECTIONS", Result: &StageResult{Stage: stage, Revision: 1, PublishedAt: at.Add(-time.Minute),
				Entries: []ResultEntry{{ApplicationID: app, Outcome: "OUTCOME_FAIL", Unmet: unmet}}}},
		{WorkflowID: wf, SelectionID: "sel-c", Key: "req-answer", Seq: 3, Kind: "AnswerObjection", Actor: chair, At: obj.AnswerTime,
			Stage: stage, Phase: "OBJECTIONS", Objection: &obj},
	}
	for _, c := range cmds {
		if applied, err := s.ApplyCommand(ctx, c); err != nil || !applied {
			t.Fatalf("apply %s: %v, %v", c.Key, applied, err)
		}
	}
	checkGetApplication(t, s, "sel-c", app)
	a, err := s.GetApplication(ctx, "sel-c", app)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Checklist) != 2 || a.Checklist[0].Item != "age" || a.Checklist[0].Status != "REQUIREMENT_STATUS_UNMET" || a.Checklist[0].By != "chair" ||
		!a.Checklist[0].At.Equal(time.Date(2026, 7, 19, 8, 0, 0, 0, time.UTC)) || a.Checklist[0].Finding.Params["age"] != "57" ||
		a.Checklist[1].Proposed != "REQUIREMENT_STATUS_MET" || a.Checklist[1].By != "" {
		t.Errorf("checklist read back: %+v", a.Checklist)
	}
	r, err := s.GetStageResult(ctx, "sel-c", stage, 0)
	if err != nil || len(r.Entries) != 1 || len(r.Entries[0].Unmet) != 1 || r.Entries[0].Unmet[0].Finding.Code != "eligibility.age" {
		t.Errorf("published entry: %+v, %v", r, err)
	}
	o, err := s.GetObjection(ctx, "sel-c", obj.ID)
	if err != nil || len(o.Items) != 1 || o.Items[0] != "age" || o.Document != "documents/doc-1" || len(o.ItemAnswers) != 1 || o.ItemAnswers[0].Answer != "akta: 1960" {
		t.Errorf("objection read back: %+v, %v", o, err)
	}
	rows, err := s.ReadProjection(ctx, "sel-c")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row.Table == TableApplications && row.Key == app && !strings.Contains(row.Columns["checklist"], `"REQUIREMENT_STATUS_UNMET"`) {
			t.Errorf("projected checklist %q", row.Columns["checklist"])
		}
	}
	openWindow(t, s, "sel-d")
	other := submit(t, s, newSubmission("sel-d", 1, t0)).ID
	_, err = s.ApplyCommand(ctx, Command{WorkflowID: wf, SelectionID: "sel-c", Key: "req-other", Seq: 4, Kind: "RecordResults", Actor: chair,
		At: at.Add(2 * time.Hour), Stage: stage, Phase: "OBJECTIONS", Checklists: []Checklist{{ApplicationID: other, Items: []byte(items)}}})
	if !errors.Is(err, ErrFailedPrecondition) {
		t.Errorf("a checklist of another selection's application: %v, want ErrFailedPrecondition", err)
	}
}

// testObjectionDeadlines: a reminder records the objection's answer deadline and queues its
// message to each staff recipient, not to the public feed; the escalation marks the objection
// overdue, which an answer after it leaves set (the answer was late).
func testObjectionDeadlines(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-d")
	app := submit(t, s, newSubmission("sel-d", 0, t0)).ID
	wf := "selection-sel-d"
	system := Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}
	at := t0.Add(300 * time.Hour)
	due := at.Add(72 * time.Hour)
	const stage = "STAGE_ADMINISTRATIVE_SCREENING"
	obj := Objection{ID: "ADMINISTRATIVE_SCREENING:" + app, ApplicationID: app, Stage: stage, Candidate: "cand-0",
		Reason: "usia", State: "OBJECTION_STATE_PENDING", FileTime: at}
	answered := obj
	answered.State, answered.Answer, answered.AnsweredBy, answered.AnswerTime = "OBJECTION_STATE_REJECTED", "tidak", "chair", due.Add(time.Hour)
	reminder := &Text{Code: "event.objection_answer_reminder", Params: map[string]string{"objection": obj.ID}}
	overdue := &Text{Code: "event.objection_answer_overdue", Params: map[string]string{"objection": obj.ID}}
	cmds := []Command{
		{WorkflowID: wf, SelectionID: "sel-d", Key: "req-object", Seq: 1, Kind: "FileObjection", Actor: Actor{Subject: "cand-0", Role: "ROLE_CANDIDATE"},
			At: at, Stage: stage, Phase: "OBJECTIONS", Objection: &obj},
		{WorkflowID: wf, SelectionID: "sel-d", Key: "event-2", Seq: 2, Kind: "ObjectionAnswerReminder", Actor: system, At: due.Add(-24 * time.Hour),
			Stage: stage, Phase: "OBJECTIONS", Message: reminder, Recipients: []string{"account:chair", "account:m2"},
			Deadline: &Deadline{ObjectionID: obj.ID, Due: due}},
	}
	for _, c := range cmds {
		if applied, err := s.ApplyCommand(ctx, c); err != nil || !applied {
			t.Fatalf("apply %s: %v, %v", c.Key, applied, err)
		}
	}
	o, err := s.GetObjection(ctx, "sel-d", obj.ID)
	if err != nil || !o.AnswerDue.Equal(due) || o.Overdue {
		t.Fatalf("after the reminder: %+v, %v", o, err)
	}
	recipients := func(kind string) []string {
		t.Helper()
		page, err := s.ListNotifications(ctx, ListOptions{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range page.Items {
			if n.Kind == kind {
				out = append(out, n.Recipient)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := recipients("ObjectionAnswerReminder"); !slices.Equal(got, []string{"account:chair", "account:m2"}) {
		t.Errorf("reminder queued for %v", got)
	}
	// The secretariat (role:admin) is expanded to its enabled accounts when queued.
	if _, err := s.CreateAccount(ctx, AccountRecord{ID: "acc-admin", Issuer: "local", Subject: "sekretariat", Role: "admin",
		Email: "sekretariat@example.go.id", CreatedAt: due}, nil); err != nil {
		t.Fatal(err)
	}
	more := []Command{
		{WorkflowID: wf, SelectionID: "sel-d", Key: "event-3", Seq: 3, Kind: "ObjectionAnswerOverdue", Actor: system, At: due,
			Stage: stage, Phase: "OBJECTIONS", Message: overdue, Recipients: []string{"account:chair", "role:admin"},
			Deadline: &Deadline{ObjectionID: obj.ID, Due: due, Overdue: true}},
		{WorkflowID: wf, SelectionID: "sel-d", Key: "req-answer", Seq: 4, Kind: "AnswerObjection", Actor: Actor{Subject: "chair", Role: "ROLE_COMMITTEE"},
			At: answered.AnswerTime, Stage: stage, Phase: "OBJECTIONS", Objection: &answered},
	}
	for _, c := range more {
		if applied, err := s.ApplyCommand(ctx, c); err != nil || !applied {
			t.Fatalf("apply %s: %v, %v", c.Key, applied, err)
		}
	}
	o, err = s.GetObjection(ctx, "sel-d", obj.ID)
	if err != nil || !o.Overdue || !o.AnswerDue.Equal(due) || o.State != "OBJECTION_STATE_REJECTED" {
		t.Errorf("after the late answer: %+v, %v", o, err)
	}
	if got := recipients("ObjectionAnswerOverdue"); !slices.Equal(got, []string{"account:chair", "account:sekretariat"}) {
		t.Errorf("escalation queued for %v", got)
	}
	// A deadline for an objection the store does not have is refused, not lost silently.
	_, err = s.ApplyCommand(ctx, Command{WorkflowID: wf, SelectionID: "sel-d", Key: "event-5", Seq: 5, Kind: "ObjectionAnswerOverdue",
		Actor: system, At: due.Add(2 * time.Hour), Stage: stage, Phase: "OBJECTIONS", Deadline: &Deadline{ObjectionID: "nope", Due: due, Overdue: true}})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("deadline of an unknown objection: %v", err)
	}
}
