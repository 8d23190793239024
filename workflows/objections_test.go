package workflows

import (
	"strings"
	"testing"
)

// TestObjectionAcceptedCorrectsAndRepublishes: candidate 5 was wrongly rejected at screening,
// objects, and the committee accepts with a corrected verdict. The result is re-published as
// revision 2, the candidate is back in the selection, and competency opens only once the
// objection is answered, even though the window closed earlier.
func TestObjectionAcceptedCorrectsAndRepublishes(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	record := h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{
			{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
			{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomeFail, Reason: "LHKPN missing"},
			{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "over the age limit"},
		}})
	conflict := h.sendAt(wib(t, "2026-07-13 09:30"), UpdateDeclareConflict, DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(4)}, Reason: "sibling"})
	advance := h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	file5 := h.sendAt(wib(t, "2026-07-14 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening,
		Reason: "I was born in 1970, I am 56; the committee read the wrong year"})
	file4 := h.sendAt(wib(t, "2026-07-14 09:05"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(4), ApplicationID: appID(4), Stage: screening,
		Reason: "LHKPN was uploaded"})
	recusedAnswer := h.sendAt(wib(t, "2026-07-14 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(member3),
		ObjectionID: ObjectionID(screening, appID(4)), Answer: "no"})
	reject4 := h.sendAt(wib(t, "2026-07-14 11:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(screening, appID(4)), Answer: "the file uploaded is the 2019 report, not the current one"})
	var beforeAnswer *SelectionState
	// The window ended with Wednesday 15 July; on Friday objection 5 is still unanswered.
	h.at(wib(t, "2026-07-17 09:00"), func() { beforeAnswer = h.state() })
	accept5 := h.sendAt(wib(t, "2026-07-17 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(screening, appID(5)), Accept: true, Answer: "verified against the birth certificate",
		Correction: &ResultInput{Outcome: OutcomePass, Reason: "age 56 at the close"}})
	var after *SelectionState
	h.at(wib(t, "2026-07-17 11:00"), func() { after = h.state() })
	h.sendAt(wib(t, "2026-07-17 12:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))

	mustAccept(t, record, conflict, advance, file5, file4, reject4, accept5)
	mustReject(t, recusedAnswer, RejectWrongActor)
	if file5.result.ObjectionID != ObjectionID(screening, appID(5)) {
		t.Errorf("objection ID %q", file5.result.ObjectionID)
	}
	if beforeAnswer.Stage != screening || beforeAnswer.Phase != PhaseObjections {
		t.Errorf("next stage opened with an objection pending: %s/%s", beforeAnswer.Stage, beforeAnswer.Phase)
	}
	if after.Stage != StageCompetencyTest {
		t.Fatalf("stage after the answer: %s", after.Stage)
	}
	a5 := after.Applications[4]
	if o, _ := a5.outcome(screening); a5.State != AppInProgress || o.Outcome != OutcomePass {
		t.Errorf("app-0005 after accepted objection: %+v", a5)
	}
	if a4 := after.Applications[3]; a4.State != AppEliminated {
		t.Errorf("app-0004 after rejected objection: %s", a4.State)
	}
	if p := after.Publications[1]; p.Stage != screening || p.Revision != 2 || p.RevisionMessage == nil || p.RevisionMessage.Code != CodeReasonObjectionAccepted {
		t.Errorf("publication %+v", p)
	}
	answers := store.find(CmdAnswerObjection)
	if len(answers) != 2 || answers[0].Objection.State != ObjectionRejected || answers[0].Result != nil {
		t.Fatalf("answers = %+v", answers)
	}
	re := answers[1].Result
	if re == nil || re.Revision != 2 || re.Entries[4].Outcome != OutcomePass || answers[1].Objection.State != ObjectionAccepted {
		t.Errorf("re-published result %+v", re)
	}
	// Competency opened right after the answer, not at the window's end.
	opened := store.find(EvtStageOpened)
	if len(opened) != 1 || opened[0].At.Before(wib(t, "2026-07-17 10:00")) {
		t.Errorf("stage opened records %+v", opened)
	}
}

// TestObjectionAgainstDecision: an accepted objection against the committee decision corrects
// a score, sets the decision aside, and the committee decides again on the new ranking.
func TestObjectionAgainstDecision(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	s := scriptHappy(t, h)
	// The scripted appointment on 29 July still applies: the decision is re-taken before it.
	file := h.sendAt(wib(t, "2026-07-24 10:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(3), ApplicationID: appID(3),
		Stage: StageCommitteeDecision, Reason: "my paper score was entered as 70 instead of 97"})
	accept := h.sendAt(wib(t, "2026-07-27 09:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(StageCommitteeDecision, appID(3)), Accept: true, Answer: "confirmed with the assessor's sheet",
		Correction: &ResultInput{Scores: []ComponentScore{{ComponentPaper, 9700}, {ComponentCompetencyTest, 9500}, {ComponentWrittenTest, 9500}}}})
	oldOrder := h.sendAt(wib(t, "2026-07-27 10:00"), UpdateDecide, DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{
		{appID(2), "a"}, {appID(1), "b"}, {appID(3), "c"}}})
	redecide := h.sendAt(wib(t, "2026-07-27 11:00"), UpdateDecide, DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{
		{appID(2), "a"}, {appID(3), "b, after the corrected paper score"}, {appID(1), "c"}}})
	var st *SelectionState
	h.at(wib(t, "2026-07-29 08:00"), func() { st = h.state() })
	h.run(testInput(t))
	r := h.result()
	mustAccept(t, file, accept, redecide, s.appoint)
	// The final score of app-0003 is now 15x95 + 40x95 + 10x97 + 20x70 + 15x70 = 8645, between 8700 and 8200.
	m := mustReject(t, oldOrder, RejectInvalidArgument)
	if want := "app-0002 (87.00), app-0003 (86.45), app-0001 (82.00)"; !strings.Contains(m.Params.Get("expected"), want) {
		t.Errorf("message %+v does not give the expected order %q", m, want)
	}
	if st.Phase != PhaseAppointment || st.Publications[len(st.Publications)-1].Revision != 2 {
		t.Errorf("state %s/%s, publications %+v", st.Stage, st.Phase, st.Publications)
	}
	if r.Appointment.ApplicationID != appID(1) || r.Appointment.Rank != 3 {
		t.Errorf("appointment %+v", r.Appointment)
	}
}
