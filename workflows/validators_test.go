package workflows

import (
	"strings"
	"testing"
)

// TestValidatorRejections sends every kind of invalid command at a point where it must be
// rejected, between valid commands that move the selection on, and checks the rejection code
// and that the message exists in both languages. Rejected commands must leave no trace in the
// store.
func TestValidatorRejections(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)

	pass := func(ids ...int) []ResultInput {
		var out []ResultInput
		for _, i := range ids {
			out = append(out, ResultInput{ApplicationID: appID(i), Outcome: OutcomePass})
		}
		return out
	}
	big := make([]ResultInput, MaxBatch+1)
	for i := range big {
		big[i] = ResultInput{ApplicationID: appID(1), Outcome: OutcomePass}
	}
	stranger := Actor{Subject: "someone", Role: RoleCommittee}
	rec := func(a Actor, st Stage, rs []ResultInput) RecordResultsArgs {
		return RecordResultsArgs{Actor: a, Stage: st, Results: rs}
	}
	screening := StageAdministrativeScreening

	type step struct {
		at   string
		name string
		what string
		arg  any
		want string // "" = must be accepted
	}
	steps := []step{
		// During the announcement.
		{"2026-07-07 09:00", UpdateWithdrawApplication, "withdraw while announcement open", WithdrawArgs{Actor: candidate(1), ApplicationID: appID(1)}, RejectWrongStage},
		{"2026-07-07 09:00", UpdateDeclareConflict, "conflict before applications are known", DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1)}, Reason: "cousin"}, RejectWrongStage},
		{"2026-07-07 09:00", UpdateRecordResults, "results during announcement", rec(committee(chair), StageAnnouncement, pass(1)), RejectWrongStage},
		{"2026-07-07 09:00", UpdateAdvanceStage, "advance the announcement", AdvanceArgs{Actor: committee(chair), Stage: StageAnnouncement}, RejectWrongStage},

		// Administrative screening, open.
		{"2026-07-13 09:00", UpdateRecordResults, "non-member records", rec(stranger, screening, pass(1)), RejectWrongActor},
		{"2026-07-13 09:00", UpdateRecordResults, "candidate records", rec(candidate(1), screening, pass(1)), RejectWrongActor},
		{"2026-07-13 09:00", UpdateRecordResults, "wrong stage in sheet", rec(committee(chair), StageCompetencyTest, pass(1)), RejectWrongStage},
		{"2026-07-13 09:00", UpdateRecordResults, "empty batch", rec(committee(chair), screening, nil), RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateRecordResults, "batch too big", rec(committee(chair), screening, big), RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateRecordResults, "duplicate in batch", rec(committee(chair), screening, pass(1, 2, 1)), RejectDuplicate},
		{"2026-07-13 09:00", UpdateRecordResults, "unknown application", rec(committee(chair), screening, []ResultInput{{ApplicationID: "app-9999", Outcome: OutcomePass}}), RejectNotFound},
		{"2026-07-13 09:00", UpdateRecordResults, "fail without reason", rec(committee(chair), screening, []ResultInput{{ApplicationID: appID(1), Outcome: OutcomeFail}}), RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateRecordResults, "pass against automatic check", rec(committee(chair), screening, pass(5)), RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateRecordResults, "no verdict at screening", rec(committee(chair), screening, []ResultInput{{ApplicationID: appID(1), Outcome: OutcomeNone}}), RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateRecordResults, "scores at screening", rec(committee(chair), screening, []ResultInput{{ApplicationID: appID(1), Outcome: OutcomePass, Scores: []ComponentScore{{ComponentPaper, 100}}}}), RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateRecordResults, "correction without reason", RecordResultsArgs{Actor: committee(chair), Stage: screening, Results: pass(1), Correct: true}, RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateAdvanceStage, "member advances", AdvanceArgs{Actor: committee(member3), Stage: screening}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateAdvanceStage, "advance with missing verdicts", AdvanceArgs{Actor: committee(chair), Stage: screening}, RejectIncomplete},
		{"2026-07-13 09:00", UpdateDecide, "decide at screening", DecideArgs{Actor: committee(chair)}, RejectWrongStage},
		{"2026-07-13 09:00", UpdateDecide, "secretary decides", DecideArgs{Actor: committee(secretary)}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateAppoint, "committee appoints", AppointArgs{Actor: committee(chair), ApplicationID: appID(1)}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateAppoint, "appoint at screening", AppointArgs{Actor: adminActor, ApplicationID: appID(1), PPKDecreeRef: "x", OversightRecommendationRef: "y"}, RejectWrongStage},
		{"2026-07-13 09:00", UpdateCancel, "committee cancels", CancelArgs{Actor: committee(chair), Reason: "x"}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateCancel, "cancel without reason", CancelArgs{Actor: adminActor, Reason: "  "}, RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateFileObjection, "objection before publication", FileObjectionArgs{Actor: candidate(1), ApplicationID: appID(1), Stage: screening, Reason: "x"}, RejectWrongStage},
		{"2026-07-13 09:00", UpdateFileObjection, "objection about another's application", FileObjectionArgs{Actor: candidate(2), ApplicationID: appID(1), Stage: screening, Reason: "x"}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateAnswerObjection, "answer unknown objection", AnswerObjectionArgs{Actor: committee(chair), ObjectionID: "nope", Answer: "x"}, RejectNotFound},
		{"2026-07-13 09:00", UpdateWithdrawApplication, "withdraw another's application", WithdrawArgs{Actor: candidate(2), ApplicationID: appID(1)}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateWithdrawApplication, "admin withdraws without reason", WithdrawArgs{Actor: adminActor, ApplicationID: appID(1)}, RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateDeclareConflict, "conflict without relationship or reason", DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1)}}, RejectInvalidArgument},
		{"2026-07-13 09:00", UpdateDeclareConflict, "conflict with unknown application", DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{"app-9999"}, Reason: "x"}, RejectNotFound},
		{"2026-07-13 09:00", UpdateDeclareConflict, "admin declares conflict", DeclareConflictArgs{Actor: adminActor, ApplicationIDs: []string{appID(1)}, Reason: "x"}, RejectWrongActor},
		{"2026-07-13 09:00", UpdateDeclareConflict, "conflict listed twice", DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1), appID(1)}, Reason: "x"}, RejectDuplicate},

		// Valid commands, then what becomes invalid because of them.
		{"2026-07-13 09:10", UpdateDeclareConflict, "member 3 declares a conflict", DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(2)}, Reason: "former subordinate"}, ""},
		{"2026-07-13 09:20", UpdateDeclareConflict, "conflict declared twice", DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(2)}, Reason: "again"}, RejectDuplicate},
		{"2026-07-13 09:20", UpdateRecordResults, "recused member records", rec(committee(member3), screening, pass(2)), RejectWrongActor},
		{"2026-07-13 09:30", UpdateRecordResults, "screening verdicts", rec(committee(secretary), screening, append(pass(1, 2, 3, 4), ResultInput{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "over the age limit"})), ""},
		{"2026-07-13 09:40", UpdateRecordResults, "verdict recorded twice", rec(committee(chair), screening, pass(1)), RejectDuplicate},
		{"2026-07-13 09:45", UpdateRecordResults, "correction with reason", RecordResultsArgs{Actor: committee(chair), Stage: screening, Results: pass(1), Correct: true, Reason: "typo"}, ""},
		{"2026-07-13 09:50", UpdateWithdrawApplication, "candidate 4 withdraws", WithdrawArgs{Actor: candidate(4), ApplicationID: appID(4), Reason: "took another post"}, ""},
		{"2026-07-13 09:55", UpdateWithdrawApplication, "withdraw twice", WithdrawArgs{Actor: candidate(4), ApplicationID: appID(4)}, RejectWrongStage},
		{"2026-07-13 10:00", UpdateAdvanceStage, "publish screening", AdvanceArgs{Actor: committee(chair), Stage: screening}, ""},
		{"2026-07-13 10:10", UpdateAdvanceStage, "advance twice", AdvanceArgs{Actor: committee(chair), Stage: screening}, RejectWrongStage},
		{"2026-07-13 10:10", UpdateRecordResults, "record after publication", rec(committee(chair), screening, pass(1)), RejectWrongStage},
		{"2026-07-13 10:20", UpdateFileObjection, "objection without reason", FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening}, RejectInvalidArgument},
		{"2026-07-13 10:30", UpdateFileObjection, "candidate 5 objects", FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening, Reason: "my age was computed wrongly"}, ""},
		{"2026-07-13 10:40", UpdateFileObjection, "second objection same stage", FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening, Reason: "again"}, RejectDuplicate},
		{"2026-07-13 10:40", UpdateFileObjection, "withdrawn candidate objects", FileObjectionArgs{Actor: candidate(4), ApplicationID: appID(4), Stage: screening, Reason: "x"}, RejectWrongStage},
		{"2026-07-13 10:50", UpdateAnswerObjection, "answer an objection never filed", AnswerObjectionArgs{Actor: committee(member3), ObjectionID: ObjectionID(screening, appID(2)), Answer: "x"}, RejectNotFound},
		{"2026-07-13 10:50", UpdateAnswerObjection, "answer without text", AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(5))}, RejectInvalidArgument},
		{"2026-07-13 10:50", UpdateAnswerObjection, "accept without correction", AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(5)), Accept: true, Answer: "ok"}, RejectIncomplete},
		{"2026-07-13 10:50", UpdateAnswerObjection, "reject with correction", AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(5)), Answer: "no", Correction: &ResultInput{Outcome: OutcomePass}}, RejectInvalidArgument},
		{"2026-07-13 11:00", UpdateAnswerObjection, "objection rejected", AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(5)), Answer: "the birth date on the ID card gives 57 years"}, ""},
		{"2026-07-13 11:10", UpdateAnswerObjection, "answered twice", AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(5)), Answer: "again"}, RejectDuplicate},

		// The screening window closed at the end of Wednesday 15 July; competency is open.
		{"2026-07-16 09:00", UpdateFileObjection, "objection after the window", FileObjectionArgs{Actor: candidate(1), ApplicationID: appID(1), Stage: screening, Reason: "late"}, RejectOutOfWindow},
		{"2026-07-16 09:00", UpdateRecordResults, "competency without category", rec(committee(secretary), StageCompetencyTest, []ResultInput{{ApplicationID: appID(1), Scores: []ComponentScore{{ComponentCompetencyTest, 8000}}}}), RejectInvalidArgument},
		{"2026-07-16 09:00", UpdateRecordResults, "score out of range", rec(committee(secretary), StageCompetencyTest, []ResultInput{sheet(1, CategoryMeets, 8000, 10001, 8000, 8000)}), RejectInvalidArgument},
		{"2026-07-16 09:00", UpdateRecordResults, "interview score at competency", rec(committee(secretary), StageCompetencyTest, []ResultInput{{ApplicationID: appID(1), Category: CategoryMeets, Scores: []ComponentScore{{ComponentInterview, 8000}}}}), RejectInvalidArgument},
		{"2026-07-16 09:00", UpdateRecordResults, "pass below threshold without reason", rec(committee(secretary), StageCompetencyTest, []ResultInput{func() ResultInput {
			r := sheet(1, CategoryMeets, 8000, 5000, 8000, 8000)
			r.Outcome = OutcomePass
			return r
		}()}), RejectInvalidArgument},
		{"2026-07-16 09:00", UpdateRecordResults, "eliminated application", rec(committee(secretary), StageCompetencyTest, []ResultInput{sheet(5, CategoryMeets, 8000, 8000, 8000, 8000)}), RejectWrongStage},
		{"2026-07-16 09:00", UpdateAdvanceStage, "advance without sheets", AdvanceArgs{Actor: committee(chair), Stage: StageCompetencyTest}, RejectIncomplete},
		{"2026-07-16 09:30", UpdateCancel, "cancel", CancelArgs{Actor: adminActor, Reason: "the post was merged"}, ""},
	}

	outs := make([]*outcome, len(steps))
	for i, s := range steps {
		outs[i] = h.sendAt(wib(t, s.at), s.name, s.arg)
	}
	h.run(testInput(t))
	if r := h.result(); r.Stage != StageCancelled {
		t.Fatalf("result %+v", r)
	}
	for i, s := range steps {
		o := outs[i]
		o.name = s.what
		if s.want == "" {
			mustAccept(t, o)
			continue
		}
		m := mustReject(t, o, s.want)
		if testing.Verbose() {
			t.Logf("%-40s %s | %s", s.what, m.EN, m.ID)
		}
	}
	// Rejected commands never reach the store: every command record belongs to an accepted update.
	accepted := 0
	for _, s := range steps {
		if s.want == "" {
			accepted++
		}
	}
	commands := 0
	for _, r := range store.records {
		if strings.HasPrefix(r.Key, "req-") {
			commands++
		}
	}
	if commands != accepted {
		t.Errorf("%d command records for %d accepted commands", commands, accepted)
	}
}

// TestLateStageRejections covers the validators of the interview, decision and appointment.
func TestLateStageRejections(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	s := scriptHappy(t, h)
	interview := StageInterview
	rec := func(a Actor, rs []ResultInput) RecordResultsArgs {
		return RecordResultsArgs{Actor: a, Stage: interview, Results: rs}
	}
	type step struct {
		at, name, what string
		arg            any
		want           string
	}
	appoint := func(id int, official, ref, reason string) AppointArgs {
		return AppointArgs{Actor: adminActor, ApplicationID: appID(id), PPKDecreeRef: official, OversightRecommendationRef: ref, Reason: reason}
	}
	steps := []step{
		{"2026-07-21 08:30", UpdateRecordResults, "interview verdict instead of score", rec(committee(chair), []ResultInput{{ApplicationID: appID(1), Outcome: OutcomeFail, Reason: "x", Scores: []ComponentScore{{ComponentInterview, 1}}}}), RejectInvalidArgument},
		{"2026-07-21 08:30", UpdateRecordResults, "two interview scores", rec(committee(chair), []ResultInput{{ApplicationID: appID(1), Scores: []ComponentScore{{ComponentInterview, 1}, {ComponentPaper, 1}}}}), RejectInvalidArgument},
		{"2026-07-21 08:30", UpdateRecordResults, "interview score for eliminated", rec(committee(chair), interviewScores(8000, 4)), RejectWrongStage},
		{"2026-07-21 09:30", UpdateRecordResults, "member scores twice", rec(committee(chair), interviewScores(9000, 1)), RejectDuplicate},
		{"2026-07-24 08:30", UpdateAdvanceStage, "advance the decision", AdvanceArgs{Actor: committee(chair), Stage: StageCommitteeDecision}, RejectWrongStage},
		{"2026-07-24 08:30", UpdateDecide, "decision without reasons", DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{{appID(2), ""}, {appID(1), "b"}, {appID(3), "c"}}}, RejectInvalidArgument},
		{"2026-07-24 08:30", UpdateDecide, "decision out of order", DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{{appID(1), "a"}, {appID(2), "b"}, {appID(3), "c"}}}, RejectInvalidArgument},
		{"2026-07-24 08:30", UpdateDecide, "member decides", DecideArgs{Actor: committee(member5)}, RejectWrongActor},
		{"2026-07-24 10:00", UpdateDecide, "decide twice", DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{{appID(2), "a"}, {appID(1), "b"}, {appID(3), "c"}}}, RejectDuplicate},
		{"2026-07-24 10:00", UpdateAppoint, "appoint during the objection window", appoint(2, "PPK", "R-1", ""), RejectWrongStage},
		{"2026-07-24 10:00", UpdateFileObjection, "objection by a candidate out earlier", FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: StageCommitteeDecision, Reason: "x"}, RejectWrongStage},
		{"2026-07-28 10:00", UpdateWithdrawApplication, "rank 3 withdraws", WithdrawArgs{Actor: candidate(3), ApplicationID: appID(3), Reason: "family reasons"}, ""},
		{"2026-07-29 08:00", UpdateAppoint, "appoint someone not shortlisted", appoint(4, "PPK", "R-1", "x"), RejectInvalidArgument},
		{"2026-07-29 08:00", UpdateAppoint, "appoint a withdrawn candidate", appoint(3, "PPK", "R-1", "x"), RejectInvalidArgument},
		{"2026-07-29 08:00", UpdateAppoint, "appoint without the PPK", appoint(2, " ", "R-1", ""), RejectInvalidArgument},
		{"2026-07-29 08:00", UpdateAppoint, "appoint without the recommendation", appoint(2, "PPK", "", ""), RejectInvalidArgument},
		{"2026-07-29 08:00", UpdateAppoint, "rank 2 without a reason", appoint(1, "PPK", "R-1", ""), RejectIncomplete},
		{"2026-07-29 08:00", UpdateAppoint, "rank 2 with a reason but no justification", appoint(1, "PPK", "R-1", "x"), RejectIncomplete},
		{"2026-07-29 08:00", UpdateAppoint, "unknown application", appoint(99, "PPK", "R-1", ""), RejectNotFound},
	}
	outs := make([]*outcome, len(steps))
	for i, st := range steps {
		outs[i] = h.sendAt(wib(t, st.at), st.name, st.arg)
	}
	h.run(testInput(t))
	r := h.result()
	mustAccept(t, s.decide, s.appoint)
	for i, st := range steps {
		outs[i].name = st.what
		if st.want == "" {
			mustAccept(t, outs[i])
		} else {
			mustReject(t, outs[i], st.want)
		}
	}
	if r.Stage != StageClosed || r.Appointment.ApplicationID != appID(1) {
		t.Errorf("result %+v", r)
	}
	if r.Appointment.Rank != 2 || r.Appointment.Justification != "led the regional health programme the post runs" {
		t.Errorf("appointment %+v: want rank 2 with its justification", r.Appointment)
	}
}
