package workflows

import (
	"testing"
	"time"
)

// happyScript drives a selection of five applicants through every stage. Timeline (WIB):
// announcement Mon 6 - Fri 10 July; screening results Mon 13, objections until Wed 15;
// competency test Thu 16, objections until Mon 20; interview Tue 21, objections until Thu 23;
// decision Fri 24, objections until Tue 28; appointment Wed 29 July.
type happyScript struct {
	screening, advance1, competency, advance2 *outcome
	interview                                 []*outcome
	advance3, decide, appoint                 *outcome
}

func scriptHappy(t *testing.T, h *harness) *happyScript {
	s := scriptToShortlist(t, h)
	s.appoint = h.sendAt(wib(t, "2026-07-29 09:00"), UpdateAppoint, AppointArgs{Actor: adminActor, ApplicationID: appID(1),
		PPKDecreeRef: "800/77/2026", OversightRecommendationRef: "R-77/BKN/2026",
		Reason:        "experience in the regional health programme",
		Justification: "led the regional health programme the post runs"})
	return s
}

// scriptToShortlist is happyScript up to the decision: the shortlist is final at the end of
// Tuesday 28 July and waits for the PPK.
func scriptToShortlist(t *testing.T, h *harness) *happyScript {
	s := &happyScript{}
	// app-0005 is 57 at the close: the automatic check flags it and the committee rejects it.
	s.screening = h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{
		Actor: committee(secretary), Stage: StageAdministrativeScreening,
		Results: []ResultInput{
			{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
			{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomePass},
			{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "Usia melebihi 56 tahun / over the age limit"},
		},
	})
	s.advance1 = h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	s.competency = h.sendAt(wib(t, "2026-07-16 09:00"), UpdateRecordResults, RecordResultsArgs{
		Actor: committee(secretary), Stage: StageCompetencyTest,
		Results: []ResultInput{
			sheet(1, CategoryMeets, 8000, 8500, 8000, 8000),
			sheet(2, CategoryMeets, 8500, 9000, 8500, 8500),
			sheet(3, CategoryStillMeets, 7000, 7500, 7000, 7000),
			sheet(4, CategoryDoesNotMeet, 6000, 5000, 6000, 6000),
		},
	})
	s.advance2 = h.sendAt(wib(t, "2026-07-16 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(secretary), Stage: StageCompetencyTest})
	for i, m := range allMembers {
		at := wib(t, "2026-07-21 09:00").Add(time.Duration(i) * time.Minute)
		res := append(interviewScores(8000, 1), interviewScores(8500, 2)...)
		res = append(res, interviewScores(7000, 3)...)
		s.interview = append(s.interview, h.sendAt(at, UpdateRecordResults, RecordResultsArgs{Actor: committee(m), Stage: StageInterview, Results: res}))
	}
	s.advance3 = h.sendAt(wib(t, "2026-07-21 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageInterview})
	s.decide = h.sendAt(wib(t, "2026-07-24 09:00"), UpdateDecide, DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{
		{appID(2), "highest final score, strong vision paper"}, {appID(1), "second final score"}, {appID(3), "third final score"},
	}})
	return s
}

func happyStore(t *testing.T) *fakeStore {
	list := apps(5, wib(t, "2026-07-06 09:00"))
	list[4].Facts.AgeAtClose = 57
	return &fakeStore{snapshots: [][]SnapshotApplication{list}}
}

func TestHappyPath(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	s := scriptHappy(t, h)
	var screeningState, decisionState *SelectionState
	h.at(wib(t, "2026-07-13 08:00"), func() { screeningState = h.state() })
	h.at(wib(t, "2026-07-24 08:00"), func() { decisionState = h.state() })
	h.run(testInput(t))
	r := h.result()

	mustAccept(t, s.screening, s.advance1, s.competency, s.advance2, s.advance3, s.decide, s.appoint)
	mustAccept(t, s.interview...)
	if r.Stage != StageClosed || r.Appointment == nil || r.Appointment.ApplicationID != appID(1) || r.Appointment.Rank != 2 {
		t.Fatalf("result = %+v", r)
	}
	if len(r.Shortlist) != 3 || r.Shortlist[0].ApplicationID != appID(2) || r.Shortlist[0].Final != 8700 ||
		r.Shortlist[1].Final != 8200 || r.Shortlist[2].Final != 7200 {
		t.Errorf("shortlist = %+v", r.Shortlist)
	}

	// The announcement closed at the end of Friday 10 July in Jakarta.
	if got := screeningState.Announcement.Closes; !got.Equal(time.Date(2026, 7, 10, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("announcement closed at %s", got)
	}
	// The checklist was pre-filled from the facts at the close: app-0005 is too old.
	if o, why, ok := checklistOutcome(&screeningState.Applications[4]); !ok || o != OutcomeFail || why.Params.Get("items") != ItemAge {
		t.Errorf("app-0005 checklist = %+v", screeningState.Applications[4].Checklist)
	}
	if o, _, ok := checklistOutcome(&screeningState.Applications[0]); !ok || o != OutcomePass {
		t.Errorf("app-0001 checklist = %+v", screeningState.Applications[0].Checklist)
	}
	// app-0004 failed the competency test on its category; the decision stage opened with three.
	var inProgress int
	for _, a := range decisionState.Applications {
		if a.State == AppInProgress {
			inProgress++
		}
	}
	if decisionState.Stage != StageCommitteeDecision || inProgress != 3 {
		t.Errorf("decision opened at %s with %d candidates", decisionState.Stage, inProgress)
	}
	a4 := decisionState.Applications[3]
	if a4.State != AppEliminated || a4.EliminatedAt != StageCompetencyTest {
		t.Errorf("app-0004 = %s at %s", a4.State, a4.EliminatedAt)
	}

	// Candidates who have not finished applying are reminded before the announcement closes
	// (TestAnnouncementCloseReminders); app-0005 and app-0004 before the screening's and the
	// test's objection windows close (TestObjectionWindowReminders).
	want := []string{EvtOpened, EvtAnnouncementReminder, EvtClosed, EvtChecklistsProposed, CmdRecordResults, CmdAdvance, EvtObjectionWindowReminder, EvtStageOpened,
		CmdRecordResults, CmdAdvance, EvtObjectionWindowReminder, EvtStageOpened,
		CmdRecordResults, CmdRecordResults, CmdRecordResults, CmdRecordResults, CmdRecordResults, CmdAdvance, EvtStageOpened,
		CmdDecide, EvtShortlistSettled, CmdAppoint}
	got := store.kinds()
	if len(got) != len(want) {
		t.Fatalf("store records %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("store records %v, want %v", got, want)
		}
	}
	checkRecords(t, store)
	// Commands carry the update ID as their idempotency key.
	if k := store.find(CmdAppoint)[0].Key; k == "" || k[:4] != "req-" {
		t.Errorf("appoint key %q", k)
	}
	// Published results: screening lists all five, with the reason for the rejection.
	res := store.find(CmdAdvance)[0].Result
	if res == nil || len(res.Entries) != 5 || res.Entries[4].Outcome != OutcomeFail || res.Entries[4].Reason == "" {
		t.Errorf("screening result = %+v", res)
	}
	// The objection window is three working days from Monday 13 July: until the end of Wednesday.
	if !res.ObjectionDeadline.Equal(time.Date(2026, 7, 15, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("objection deadline %s", res.ObjectionDeadline)
	}
	// The competency stage opened exactly when that window closed.
	if at := store.find(EvtStageOpened)[0].At; !at.Equal(res.ObjectionDeadline) {
		t.Errorf("competency opened at %s", at)
	}
	// The competency result records each assessment-center category.
	comp := store.find(CmdAdvance)[1].Result
	if comp == nil || comp.Stage != StageCompetencyTest || len(comp.Entries) != 4 {
		t.Fatalf("competency result = %+v", comp)
	}
	for i, want := range []CompetencyCategory{CategoryMeets, CategoryMeets, CategoryStillMeets, CategoryDoesNotMeet} {
		if e := comp.Entries[i]; e.ApplicationID != appID(i+1) || e.Category != want {
			t.Errorf("competency entry %d = %+v, want category %s", i, e, want)
		}
	}
	dec := store.find(CmdDecide)[0].Result
	if dec == nil || dec.Entries[0].Rank != 1 || dec.Entries[0].ApplicationID != appID(2) || dec.Entries[0].FinalScore != 8700 {
		t.Errorf("decision result = %+v", dec)
	}
	closing := store.find(CmdAppoint)[0]
	if len(closing.Applications) != 3 || closing.Stage != StageClosed {
		t.Errorf("appointment record = %+v", closing)
	}
}
