package workflows

import "testing"

// TestRecordAbsence: where absence eliminates, the secretariat (or a committee member)
// records it during the competency test; the application fails the stage with the coded
// reason, is not waited for when the stage closes, is published with the result and is told
// so with the right to object, and may object; an accepted objection (with the make-up
// session's scores) restores the application. The update is refused outside a scheduled
// stage, for another stage than the current one, once the result is published, for an
// application no longer in the stage, and from a candidate.
func TestRecordAbsence(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	absent := func(actor Actor, app int, stage Stage) RecordAbsenceArgs {
		return RecordAbsenceArgs{Actor: actor, ApplicationID: appID(app), Stage: stage, Session: "sessions/ses-1", Note: "tidak datang tanpa kabar"}
	}
	h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening,
		Results: []ResultInput{{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
			{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomeFail, Reason: "x"},
			{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "x"}}})
	atScreening := h.sendAt(wib(t, "2026-07-13 09:30"), UpdateRecordAbsence, absent(adminActor, 1, StageAdministrativeScreening))
	h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	early := h.sendAt(wib(t, "2026-07-14 09:00"), UpdateRecordAbsence, absent(adminActor, 1, StageCompetencyTest))

	recorded := h.sendAt(wib(t, "2026-07-16 08:00"), UpdateRecordAbsence, absent(adminActor, 3, StageCompetencyTest))
	byCandidate := h.sendAt(wib(t, "2026-07-16 08:05"), UpdateRecordAbsence, absent(candidate(2), 2, StageCompetencyTest))
	again := h.sendAt(wib(t, "2026-07-16 08:10"), UpdateRecordAbsence, absent(committee(member3), 3, StageCompetencyTest))
	screenedOut := h.sendAt(wib(t, "2026-07-16 08:15"), UpdateRecordAbsence, absent(committee(member3), 4, StageCompetencyTest))
	otherStage := h.sendAt(wib(t, "2026-07-16 08:20"), UpdateRecordAbsence, absent(committee(member3), 2, StageInterview))
	var during *SelectionState
	h.at(wib(t, "2026-07-16 08:30"), func() { during = h.state() })
	// Only the two who came have score sheets; the stage closes without waiting for app-0003.
	h.sendAt(wib(t, "2026-07-16 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageCompetencyTest, Results: []ResultInput{
		sheet(1, CategoryMeets, 8000, 8000, 8000, 8000), sheet(2, CategoryMeets, 8000, 8000, 8000, 8000)}})
	advance := h.sendAt(wib(t, "2026-07-16 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageCompetencyTest})
	published := h.sendAt(wib(t, "2026-07-16 11:00"), UpdateRecordAbsence, absent(adminActor, 2, StageCompetencyTest))
	object := h.sendAt(wib(t, "2026-07-17 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(3), ApplicationID: appID(3),
		Stage: StageCompetencyTest, Reason: "saya sakit dan sudah mengirim surat keterangan dokter"})
	// The committee accepts it once the candidate sat a make-up session: the correction is
	// that session's score sheet line.
	accept := h.sendAt(wib(t, "2026-07-17 09:30"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
		ObjectionID: ObjectionID(StageCompetencyTest, appID(3)), Accept: true, Answer: "surat dokter sah; nilai sesi susulan",
		Correction: &ResultInput{ApplicationID: appID(3), Category: CategoryMeets, Scores: sheet(3, CategoryMeets, 8000, 8000, 8000, 8000).Scores}})
	var corrected *SelectionState
	h.at(wib(t, "2026-07-17 09:45"), func() { corrected = h.state() })
	h.sendAt(wib(t, "2026-07-17 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))

	mustAccept(t, recorded, advance, object, accept)
	if m := mustReject(t, atScreening, RejectWrongStage); m.Code != "reject.wrong_stage.no_sessions" {
		t.Errorf("absence at screening: %+v", m)
	}
	mustReject(t, early, RejectWrongStage)
	mustReject(t, byCandidate, RejectWrongActor)
	for _, o := range []*outcome{again, screenedOut} {
		if m := mustReject(t, o, RejectWrongStage); m.Code != "reject.wrong_stage.application_not_in_stage" {
			t.Errorf("%s: %+v", o.name, m)
		}
	}
	mustReject(t, otherStage, RejectWrongStage)
	mustReject(t, published, RejectWrongStage)

	a3 := during.Applications[2]
	if a3.State != AppEliminated || a3.EliminatedAt != StageCompetencyTest || a3.Reason != "" ||
		a3.ReasonMessage == nil || a3.ReasonMessage.Code != CodeReasonAbsent || a3.ReasonMessage.Params.Get("stage") != string(StageCompetencyTest) {
		t.Errorf("app-0003 after the absence: %+v", a3)
	}
	recs := store.find(CmdRecordAbsence)
	if len(recs) != 1 {
		t.Fatalf("absence records %+v", recs)
	}
	rec := recs[0]
	if rec.Actor != adminActor || rec.Reason != "tidak datang tanpa kabar" || rec.Args.RecordAbsence == nil ||
		rec.Args.RecordAbsence.Session != "sessions/ses-1" || len(rec.Applications) != 1 {
		t.Fatalf("absence record %+v", rec)
	}
	ch := rec.Applications[0]
	if ch.ApplicationID != appID(3) || ch.State != AppEliminated || ch.Stage != StageCompetencyTest ||
		ch.ReasonMessage == nil || ch.ReasonMessage.Code != CodeReasonAbsent {
		t.Errorf("absence change %+v", ch)
	}
	if s := ch.Status; s == nil || s.Code != CodeStatusEliminated || s.Detail == nil || s.Detail.Code != CodeReasonAbsent {
		t.Errorf("status told at the absence %+v", ch.Status)
	}

	adv := store.find(CmdAdvance)
	last := adv[len(adv)-1]
	if last.Result == nil || last.Result.Stage != StageCompetencyTest {
		t.Fatalf("competency result %+v", last.Result)
	}
	var entry *ResultEntry
	for i := range last.Result.Entries {
		if last.Result.Entries[i].ApplicationID == appID(3) {
			entry = &last.Result.Entries[i]
		}
	}
	if entry == nil || entry.Outcome != OutcomeFail || entry.ReasonMessage == nil || entry.ReasonMessage.Code != CodeReasonAbsent {
		t.Errorf("published entry of app-0003 %+v", entry)
	}
	told := false
	for _, c := range last.Applications {
		if c.ApplicationID == appID(3) {
			told = c.Status != nil && c.Status.Code == CodeStatusEliminated && c.Status.Params.Get("deadline") != "" &&
				c.Status.Detail != nil && c.Status.Detail.Code == CodeReasonAbsent
		}
	}
	if !told {
		t.Errorf("app-0003 is not told its result with the objection deadline at publication: %+v", last.Applications)
	}
	if a3 := corrected.Applications[2]; a3.State != AppInProgress || a3.ReasonMessage != nil {
		t.Errorf("app-0003 after its objection was accepted: %+v", a3)
	}
	checkRecords(t, store)
}
