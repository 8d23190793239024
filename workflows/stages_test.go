package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// TestRecusal: member 3 declares a conflict with app-0001 and member 4 with app-0002 after
// scoring it. Recused members cannot score; member 4's earlier score is voided; the quorum is
// a majority of the members not recused.
func TestRecusal(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	pass := func(ids ...int) []ResultInput {
		var out []ResultInput
		for _, i := range ids {
			out = append(out, ResultInput{ApplicationID: appID(i), Outcome: OutcomePass})
		}
		return out
	}
	h.sendAt(wib(t, "2026-07-13 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening, Results: pass(1, 2, 3)})
	h.sendAt(wib(t, "2026-07-13 09:01"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening,
		Results: []ResultInput{{ApplicationID: appID(4), Outcome: OutcomeFail, Reason: "x"}, {ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "x"}}})
	h.sendAt(wib(t, "2026-07-13 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	h.sendAt(wib(t, "2026-07-16 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageCompetencyTest, Results: []ResultInput{
		sheet(1, CategoryMeets, 8000, 8000, 8000, 8000), sheet(2, CategoryMeets, 8000, 8000, 8000, 8000), sheet(3, CategoryMeets, 8000, 8000, 8000, 8000)}})
	h.sendAt(wib(t, "2026-07-16 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageCompetencyTest})

	conflict3 := h.sendAt(wib(t, "2026-07-21 08:00"), UpdateDeclareConflict, DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1)}, Relationship: "ipar"})
	recusedScores := h.sendAt(wib(t, "2026-07-21 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(member3), Stage: StageInterview, Results: interviewScores(9000, 1, 2, 3)})
	m4 := h.sendAt(wib(t, "2026-07-21 09:01"), UpdateRecordResults, RecordResultsArgs{Actor: committee(member4), Stage: StageInterview, Results: interviewScores(10000, 2)})
	conflict4 := h.sendAt(wib(t, "2026-07-21 09:02"), UpdateDeclareConflict, DeclareConflictArgs{Actor: committee(member4), ApplicationIDs: []string{appID(2)}, Reason: "business partner, noticed late"})
	// Chair and secretary score everyone; with member 3 recused from app-0001, two of four is no majority.
	chairScores := h.sendAt(wib(t, "2026-07-21 09:03"), UpdateRecordResults, RecordResultsArgs{Actor: committee(chair), Stage: StageInterview, Results: interviewScores(7000, 1, 2, 3)})
	secScores := h.sendAt(wib(t, "2026-07-21 09:04"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageInterview, Results: interviewScores(8000, 1, 2, 3)})
	m3ok := h.sendAt(wib(t, "2026-07-21 09:05"), UpdateRecordResults, RecordResultsArgs{Actor: committee(member3), Stage: StageInterview, Results: interviewScores(9000, 2, 3)})
	tooEarly := h.sendAt(wib(t, "2026-07-21 09:10"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageInterview})
	m5 := h.sendAt(wib(t, "2026-07-21 09:20"), UpdateRecordResults, RecordResultsArgs{Actor: committee(member5), Stage: StageInterview, Results: interviewScores(6000, 1)})
	var st *SelectionState
	h.at(wib(t, "2026-07-21 09:30"), func() { st = h.state() })
	advance := h.sendAt(wib(t, "2026-07-21 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageInterview})
	h.sendAt(wib(t, "2026-07-21 11:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))

	mustAccept(t, conflict3, m4, conflict4, chairScores, secScores, m3ok, m5, advance)
	mustReject(t, recusedScores, RejectWrongActor)
	m := mustReject(t, tooEarly, RejectIncomplete)
	if !containsAll(m.Params.Get("examples"), "app-0001") {
		t.Errorf("incomplete message %+v", m)
	}
	// The relationship is kept as its own fact, not folded into the reason.
	if r := st.Recusals[0]; r.Member != member3 || r.Relationship != "ipar" || r.Reason != "" {
		t.Errorf("recusal %+v", r)
	}
	a1, a2 := st.Applications[0], st.Applications[1]
	if len(a2.Interview) != 3 || hasInterviewScore(&a2, member4) {
		t.Errorf("app-0002 interview scores %+v (member 4's score must be voided)", a2.Interview)
	}
	if mean, _ := interviewMean(&a1); mean != 7000 { // (7000 + 8000 + 6000) / 3
		t.Errorf("app-0001 mean %d", mean)
	}
	if mean, _ := interviewMean(&a2); mean != 8000 { // (7000 + 8000 + 9000) / 3
		t.Errorf("app-0002 mean %d", mean)
	}
	if len(st.Recusals) != 2 {
		t.Errorf("recusals %+v", st.Recusals)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		found := false
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TestTieBreak checks the documented ranking rule on candidates with equal final scores.
func TestTieBreak(t *testing.T) {
	in := testInput(t)
	t0 := wib(t, "2026-07-07 09:00")
	mk := func(id string, submitted time.Time, comp, interview Score) Application {
		return Application{ID: id, State: AppInProgress, SubmittedAt: submitted,
			Competency: &CompetencyRecord{Category: CategoryMeets, Scores: []ComponentScore{
				{ComponentWrittenTest, 8000}, {ComponentCompetencyTest, comp}, {ComponentPaper, 8000}, {ComponentTrackRecord, 8000}}},
			Interview: []MemberScore{{Member: chair, Score: interview}}}
	}
	// A and B have equal finals: 40 x 1000 more competency is 20 x 2000 less interview.
	// C equals A in every score but applied later; D equals A and applied at the same time as A
	// but sorts after it by ID.
	st := &SelectionState{Applications: []Application{
		mk("app-b", t0, 8000, 9000),
		mk("app-c", t0.Add(time.Hour), 9000, 7000),
		mk("app-a", t0, 9000, 7000),
		mk("app-d", t0, 9000, 7000),
	}}
	tests := []struct {
		rule TieBreakRule
		want []string
	}{
		{TieBreakWeightOrder, []string{"app-a", "app-d", "app-c", "app-b"}}, // competency weighs 40, the most
		{TieBreakCompetencyTestFirst, []string{"app-a", "app-d", "app-c", "app-b"}},
		{TieBreakInterviewFirst, []string{"app-b", "app-a", "app-d", "app-c"}},
	}
	for _, tt := range tests {
		in.TieBreak = tt.rule
		s := &selection{in: in, st: st}
		got := s.ranking(st)
		for i, a := range got {
			if a.ID != tt.want[i] {
				t.Errorf("%s: ranking %v, want %v", tt.rule, ids(got), tt.want)
				break
			}
		}
		if s.weightedSum(got[0]) != s.weightedSum(got[3]) {
			t.Errorf("fixture: finals differ")
		}
	}
	// With the interview weighted more than the competency test, weight order favours B.
	in.TieBreak = TieBreakWeightOrder
	in.Weights = []Weight{{ComponentWrittenTest, 15}, {ComponentCompetencyTest, 20}, {ComponentPaper, 10}, {ComponentInterview, 40}, {ComponentTrackRecord, 15}}
	st2 := &SelectionState{Applications: []Application{mk("app-a", t0, 9000, 8000), mk("app-b", t0, 8000, 8500)}}
	s := &selection{in: in, st: st2}
	if got := s.ranking(st2); got[0].ID != "app-b" || s.weightedSum(got[0]) != s.weightedSum(got[1]) {
		t.Errorf("interview-heavy weight order: %v", ids(got))
	}
}

func ids(as []*Application) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

// TestFewerThanThreeNeedsStatement: when fewer than three candidates reach the final pass
// mark, the shortlist is shorter and the committee must say so.
func TestFewerThanThreeNeedsStatement(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	s := scriptHappy(t, h)
	in := testInput(t)
	in.Thresholds.FinalMin = 8000 // app-0003 (72.00) no longer qualifies
	// The scripted decision of three is rejected; two names without a statement too.
	noStatement := h.sendAt(wib(t, "2026-07-24 09:10"), UpdateDecide, DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{{appID(2), "a"}, {appID(1), "b"}}})
	ok := h.sendAt(wib(t, "2026-07-24 09:20"), UpdateDecide, DecideArgs{Actor: committee(chair), Shortlist: []ShortlistInput{{appID(2), "a"}, {appID(1), "b"}},
		Statement: "only two candidates reach the final pass mark of 80"})
	h.run(in)
	r := h.result()
	mustReject(t, s.decide, RejectInvalidArgument)
	mustReject(t, noStatement, RejectIncomplete)
	mustAccept(t, ok, s.appoint)
	if len(r.Shortlist) != 2 || r.Appointment.Rank != 2 {
		t.Errorf("result %+v", r)
	}
	// app-0003 took part in the decision and was not selected, with its final score as the reason.
	dec := store.find(CmdDecide)[0]
	if dec.Result.Entries[2].ApplicationID != appID(3) || dec.Result.Entries[2].Outcome != OutcomeFail || dec.Result.Entries[2].FinalScore != 7200 {
		t.Errorf("decision entries %+v", dec.Result.Entries)
	}
}

func TestCancellation(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	s := scriptHappy(t, h)
	cancel := h.sendAt(wib(t, "2026-07-17 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "the post is abolished by the new organisation decree"})
	h.run(testInput(t))
	r := h.result()
	mustAccept(t, s.screening, s.advance1, s.competency, s.advance2, cancel)
	if r.Stage != StageCancelled || r.Cancellation.Stage != StageCompetencyTest || r.Cancellation.Postponed || r.Appointment != nil {
		t.Fatalf("result %+v", r)
	}
	rec := store.find(CmdCancel)[0]
	// Apps 1-3 were still in the selection; 4 and 5 had been eliminated and keep that state.
	if len(rec.Applications) != 3 || rec.Applications[0].State != AppNotSelected {
		t.Errorf("cancel record %+v", rec.Applications)
	}
	if k := store.kinds(); k[len(k)-1] != CmdCancel {
		t.Errorf("records after cancel: %v", k)
	}
}

// TestApplicationStatusQuery: a candidate's status in plain words in both languages.
func TestApplicationStatusQuery(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	scriptHappy(t, h)
	var eliminated, shortlisted ApplicationStatus
	var missingErr error
	query := func(id string, into *ApplicationStatus) {
		v, err := h.env.QueryWorkflow(QueryApplicationStatus, id)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(into); err != nil {
			t.Error(err)
		}
	}
	h.at(wib(t, "2026-07-27 09:00"), func() {
		query(appID(5), &eliminated)
		query(appID(1), &shortlisted)
		_, missingErr = h.env.QueryWorkflow(QueryApplicationStatus, "app-9999")
	})
	h.run(testInput(t))
	if eliminated.State != AppEliminated || eliminated.EliminatedAt != StageAdministrativeScreening ||
		eliminated.Status.Code != CodeStatusEliminated || eliminated.Status.Params.Get("stage") != string(StageAdministrativeScreening) {
		t.Errorf("eliminated status %+v", eliminated)
	}
	if shortlisted.State != AppShortlisted || shortlisted.Rank != 2 ||
		shortlisted.Status.Code != CodeStatusShortlisted || shortlisted.Status.Params.Get("rank") != "2" {
		t.Errorf("shortlisted status %+v", shortlisted)
	}
	if missingErr == nil {
		t.Error("query for an unknown application succeeded")
	}
}

// TestStoreFailureLeavesStateUntouched: when the store refuses a command for good, the update
// fails and the workflow state is as before, so the command can be retried.
func TestStoreFailureLeavesStateUntouched(t *testing.T) {
	store := happyStore(t)
	store.failKind = CmdDeclareConflict
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	h.env.SetTestTimeout(30 * time.Second)
	o := h.sendAt(wib(t, "2026-07-13 09:00"), UpdateDeclareConflict, DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1)}, Reason: "cousin"})
	var st *SelectionState
	h.at(wib(t, "2026-07-14 09:00"), func() { st = h.state() })
	h.sendAt(wib(t, "2026-07-14 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))
	if !o.done || o.err == nil {
		t.Fatalf("update outcome %+v", o)
	}
	t.Logf("update failed with: %v", o.err)
	if len(st.Recusals) != 0 {
		t.Errorf("recusal kept despite the store failure: %+v", st.Recusals)
	}
}

// TestWorkflowHoldsInvalidInput: a selection started with a definition that breaks the rules
// (the API refuses such definitions; a start that bypassed it gets here) does not end Failed:
// it is blocked with the problems, takes no applications, and ends when the secretariat
// cancels it.
func TestWorkflowHoldsInvalidInput(t *testing.T) {
	f := &faultyStore{fakeStore: &fakeStore{}}
	h, blocked := newFaultyHarness(t, wib(t, "2026-07-06 08:00"), f)
	in := testInput(t)
	in.Committee = in.Committee[:4]
	in.Calendar = calendar.Calendar{}
	var st *SelectionState
	h.at(wib(t, "2026-07-06 09:00"), func() { st = h.state() })
	cancel := h.sendAt(wib(t, "2026-07-07 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "definisi salah"})
	h.run(in)
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatalf("the selection ended with an error: %v", err)
	}
	mustAccept(t, cancel)
	if st == nil || st.Blocked == nil || st.Blocked.Reason != BlockedInvalidInput || len(st.Blocked.Problems) < 2 {
		t.Fatalf("state before the cancel: %+v", st)
	}
	if st.Stage != StageAnnouncement || st.Announcement.Closes != (time.Time{}) {
		t.Errorf("an invalid selection opened its announcement: %+v", st.Announcement)
	}
	if r := h.result(); r.Stage != StageCancelled {
		t.Fatalf("result %+v", r)
	}
	if want := []string{string(BlockedInvalidInput), ""}; !slices.Equal(*blocked, want) {
		t.Errorf("blocked search attribute went %q, want %q", *blocked, want)
	}
}
