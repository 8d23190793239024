package workflows

import (
	"encoding/json"
	"testing"
)

// replacedOf decodes the values a correction's record says it replaced.
func replacedOf(t *testing.T, rec CommandRecord) []ReplacedResult {
	t.Helper()
	b, err := json.Marshal(rec.Args)
	if err != nil {
		t.Fatal(err)
	}
	var args struct {
		Replaced []ReplacedResult `json:"replaced"`
	}
	if err := json.Unmarshal(b, &args); err != nil {
		t.Fatal(err)
	}
	return args.Replaced
}

// TestCorrectionBeforePublication: a mistyped screening verdict is replaced before the stage
// closes, only as a correction with a reason, and the record names the value it replaced.
func TestCorrectionBeforePublication(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	first := h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{{ApplicationID: appID(2), Outcome: OutcomeFail, Reason: "LHKPN missing"}}})
	again := h.sendAt(wib(t, "2026-07-13 09:10"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{{ApplicationID: appID(2), Outcome: OutcomePass}}})
	noReason := h.sendAt(wib(t, "2026-07-13 09:20"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Correct: true, Results: []ResultInput{{ApplicationID: appID(2), Outcome: OutcomePass}}})
	corrected := h.sendAt(wib(t, "2026-07-13 09:30"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Correct: true, Reason: "verdict entered on the wrong row", Results: []ResultInput{{ApplicationID: appID(2), Outcome: OutcomePass}}})
	var after *SelectionState
	h.at(wib(t, "2026-07-13 10:00"), func() { after = h.state() })
	h.sendAt(wib(t, "2026-07-13 11:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))

	mustAccept(t, first, corrected)
	if m := mustReject(t, again, RejectDuplicate); m.Code != "reject.duplicate.result_recorded" {
		t.Errorf("a second recording is not told how to correct: %+v", m)
	}
	mustReject(t, noReason, RejectInvalidArgument)
	if v := after.Applications[1].Screening; v == nil || v.Outcome != OutcomePass {
		t.Errorf("verdict after the correction: %+v", v)
	}
	recs := store.find(CmdRecordResults)
	if len(recs) != 2 || recs[1].Reason != "verdict entered on the wrong row" {
		t.Fatalf("records %+v", recs)
	}
	rep := replacedOf(t, recs[1])
	if len(rep) != 1 || rep[0].ApplicationID != appID(2) || rep[0].Screening == nil ||
		rep[0].Screening.Outcome != OutcomeFail || rep[0].Screening.Reason != "LHKPN missing" {
		t.Errorf("the correction's record does not name the replaced verdict: %+v", rep)
	}
	if rep := replacedOf(t, recs[0]); len(rep) != 0 {
		t.Errorf("a first recording claims to replace %+v", rep)
	}
}

// TestChairCorrectsPublishedResult: after screening is published, only the chair corrects it,
// with a reason; the correction publishes revision 2, changes the candidate's status, names
// the replaced verdict, and opens a new objection window counted from the new publication,
// so the next stage waits for it and the candidate may object within it.
func TestChairCorrectsPublishedResult(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	fix := CorrectResultArgs{Actor: committee(chair), Stage: screening, Reason: "the age was computed from the wrong birth year",
		Results: []ResultInput{{ApplicationID: appID(5), Outcome: OutcomePass}}}
	early := h.sendAt(wib(t, "2026-07-13 08:30"), UpdateCorrectResult, fix)
	record := h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{
			{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
			{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomePass},
			{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "over the age limit"},
		}})
	advance := h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	bySecretary := fix
	bySecretary.Actor = committee(secretary)
	notChair := h.sendAt(wib(t, "2026-07-15 11:00"), UpdateCorrectResult, bySecretary)
	noReason := fix
	noReason.Reason = " "
	blankReason := h.sendAt(wib(t, "2026-07-15 11:30"), UpdateCorrectResult, noReason)
	correct := h.sendAt(wib(t, "2026-07-15 12:00"), UpdateCorrectResult, fix)
	var onFriday *SelectionState
	// Without the correction, the window would have ended with Wednesday 15 July and
	// competency opened on Thursday; the new window, counted from the correction on
	// Wednesday, runs to the end of Friday 17 July.
	h.at(wib(t, "2026-07-17 09:00"), func() { onFriday = h.state() })
	object := h.sendAt(wib(t, "2026-07-17 10:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(4), ApplicationID: appID(4), Stage: screening,
		Reason: "my result was published without a reason"})
	// The objection is against revision 2, the one the correction published.
	answer := h.sendAt(wib(t, "2026-07-17 11:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionRevisionID(screening, 2, appID(4)), Answer: "a pass needs no reason"})
	var afterWindow *SelectionState
	h.at(wib(t, "2026-07-21 09:00"), func() { afterWindow = h.state() })
	late := h.sendAt(wib(t, "2026-07-21 10:00"), UpdateCorrectResult, fix)
	h.sendAt(wib(t, "2026-07-21 11:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))

	mustAccept(t, record, advance, correct, object, answer)
	mustReject(t, early, RejectWrongStage)
	mustReject(t, notChair, RejectWrongActor)
	mustReject(t, blankReason, RejectInvalidArgument)
	mustReject(t, late, RejectWrongStage)
	if onFriday.Stage != screening || onFriday.Phase != PhaseObjections {
		t.Errorf("the next stage opened inside the new objection window: %s/%s", onFriday.Stage, onFriday.Phase)
	}
	if a5 := onFriday.Applications[4]; a5.State != AppInProgress {
		t.Errorf("app-0005 after the correction: %s", a5.State)
	}
	p := onFriday.Publications[1]
	if p.Stage != screening || p.Revision != 2 || p.RevisionReason != fix.Reason ||
		!p.ObjectionDeadline.Equal(wib(t, "2026-07-18 00:00")) || !p.PublishedAt.Equal(wib(t, "2026-07-15 12:00")) {
		t.Errorf("publication after the correction %+v", p)
	}
	if afterWindow.Stage != StageCompetencyTest {
		t.Errorf("stage after the new window: %s", afterWindow.Stage)
	}
	recs := store.find(CmdCorrectResult)
	if len(recs) != 1 {
		t.Fatalf("correction records %+v", recs)
	}
	rec := recs[0]
	if rec.Result == nil || rec.Result.Revision != 2 || rec.Result.Entries[4].Outcome != OutcomePass ||
		!rec.Result.ObjectionDeadline.Equal(p.ObjectionDeadline) {
		t.Errorf("re-published result %+v", rec.Result)
	}
	if len(rec.Applications) != 1 || rec.Applications[0].ApplicationID != appID(5) || rec.Applications[0].State != AppInProgress ||
		rec.Applications[0].Status == nil {
		t.Errorf("affected candidates %+v", rec.Applications)
	}
	if m := rec.Message; m == nil || m.Code != CodeEventCorrected || m.Params.Get("revision") != "2" || m.Params.Get("stage") != string(StageAdministrativeScreening) ||
		m.Params.Get("deadline") == "" || m.Params.Get("reason") == "" || m.EN != "" || m.ID != "" {
		t.Errorf("message %+v", rec.Message)
	}
	rep := replacedOf(t, rec)
	if len(rep) != 1 || rep[0].Outcome == nil || rep[0].Outcome.Outcome != OutcomeFail || rep[0].Outcome.Reason != "over the age limit" {
		t.Errorf("the correction's record does not name the replaced result: %+v", rep)
	}
	checkRecords(t, store)
}

// TestObjectionPerCorrectedRevision: a candidate objects once to the first published result;
// after the chair's correction publishes revision 2 with a new window, the candidate objects
// once more, to revision 2, under its own ID; a second objection to revision 2, one naming
// the replaced revision 1 or an unpublished revision 3, and one after revision 2's window
// are refused.
func TestObjectionPerCorrectedRevision(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	screening := StageAdministrativeScreening
	h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
		Results: []ResultInput{
			{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
			{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomePass},
			{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "over the age limit"},
		}})
	h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	object := func(reason string, revision int) FileObjectionArgs {
		return FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening, Reason: reason, Revision: revision}
	}
	first := h.sendAt(wib(t, "2026-07-14 09:00"), UpdateFileObjection, object("my birth year is 1970, not 1960", 0))
	firstAnswer := h.sendAt(wib(t, "2026-07-14 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(screening, appID(5)), Answer: "the ID card on file says 1960"})
	again := h.sendAt(wib(t, "2026-07-14 11:00"), UpdateFileObjection, object("please look again", 0))
	correct := h.sendAt(wib(t, "2026-07-15 12:00"), UpdateCorrectResult, CorrectResultArgs{Actor: committee(chair), Stage: screening,
		Reason:  "the ID card on file was another candidate's",
		Results: []ResultInput{{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "the integrity pact is not signed"}}})
	second := h.sendAt(wib(t, "2026-07-16 09:00"), UpdateFileObjection, object("the integrity pact is page 3 of my upload", 2))
	var filed *SelectionState
	h.at(wib(t, "2026-07-16 09:30"), func() { filed = h.state() })
	secondAnswer := h.sendAt(wib(t, "2026-07-16 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionRevisionID(screening, 2, appID(5)), Answer: "page 3 is the cover letter"})
	third := h.sendAt(wib(t, "2026-07-16 11:00"), UpdateFileObjection, object("once more", 0))
	replacedRevision := h.sendAt(wib(t, "2026-07-16 11:10"), UpdateFileObjection, object("about the first result", 1))
	unpublished := h.sendAt(wib(t, "2026-07-16 11:20"), UpdateFileObjection, object("about a later result", 3))
	// Revision 2's window ended with Friday 17 July.
	late := h.sendAt(wib(t, "2026-07-20 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(4), ApplicationID: appID(4),
		Stage: screening, Reason: "too late"})
	h.sendAt(wib(t, "2026-07-20 11:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))

	mustAccept(t, first, firstAnswer, correct, second, secondAnswer)
	if m := mustReject(t, again, RejectDuplicate); m.Code != "reject.duplicate.objection_filed" {
		t.Errorf("second objection to revision 1: %+v", m)
	}
	if m := mustReject(t, third, RejectDuplicate); m.Code != "reject.duplicate.objection_filed" {
		t.Errorf("second objection to revision 2: %+v", m)
	}
	if m := mustReject(t, replacedRevision, RejectOutOfWindow); m.Code != "reject.out_of_window.objection_revision_replaced" ||
		m.Params.Get("revision") != "1" || m.Params.Get("current") != "2" {
		t.Errorf("objection to the replaced revision: %+v", m)
	}
	if m := mustReject(t, unpublished, RejectNotFound); m.Code != "reject.not_found.objection_revision" {
		t.Errorf("objection to an unpublished revision: %+v", m)
	}
	if m := mustReject(t, late, RejectOutOfWindow); m.Code != "reject.out_of_window.objection_window_ended" {
		t.Errorf("objection after revision 2's window: %+v", m)
	}
	if second.result.ObjectionID != "ADMINISTRATIVE_SCREENING-r2:"+appID(5) {
		t.Errorf("objection to revision 2 has ID %q", second.result.ObjectionID)
	}
	if len(filed.Objections) != 2 || filed.Objections[0].ID != ObjectionID(screening, appID(5)) || filed.Objections[0].Revision != 0 ||
		filed.Objections[1].Revision != 2 || filed.Objections[1].State != ObjectionPending {
		t.Errorf("objections after the second filing %+v", filed.Objections)
	}
	if p := filed.Publications[1]; p.Revision != 2 || p.WindowRevision != 2 {
		t.Errorf("publication after the correction %+v", p)
	}
	checkRecords(t, store)
}
