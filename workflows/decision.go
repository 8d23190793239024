package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The committee decision: the weighted final score of every remaining candidate, the ranking
// with the selection's tie-break rule, and the committee's shortlist of the best three (or
// fewer, with a statement) for the appointing official.
//
// Ranking rule, documented for candidates and auditors:
//  1. Higher weighted final score first. The final score is the sum over the weighted
//     components of score x weight / 100, compared exactly (in ten-thousandths of a point)
//     and published rounded half up to two decimals.
//  2. On equal final scores, the tie-break rule of the selection:
//     weight order: compare component scores one by one, heaviest weight first (equal
//     weights in the order written test, competency test, paper, interview, track record);
//     competency test first: the competency-test score, then the interview score;
//     interview first: the interview score, then the competency-test score.
//  3. Then the earlier submission, then the application ID, so that the order is total.

// Decision is the committee's recorded decision.
type Decision struct {
	Shortlist []ShortlistEntry `json:"shortlist"`
	Statement string           `json:"statement,omitempty"`
	By        Actor            `json:"by"`
	At        time.Time        `json:"at"`
}

// ShortlistEntry is one name proposed to the appointing official.
type ShortlistEntry struct {
	ApplicationID string `json:"applicationId"`
	Rank          int    `json:"rank"`
	Final         Score  `json:"final"`
	Reason        string `json:"reason"`
}

// ShortlistSize is how many names the committee proposes.
const ShortlistSize = 3

// componentScores are all scores of an application that count for the final score.
func componentScores(a *Application) []ComponentScore {
	var out []ComponentScore
	if a.Competency != nil && len(a.Competency.Scores) > 0 {
		// Room for the interview mean too, so that a published result allocates once per
		// candidate.
		out = make([]ComponentScore, len(a.Competency.Scores), len(a.Competency.Scores)+1)
		copy(out, a.Competency.Scores)
	}
	if mean, ok := interviewMean(a); ok {
		out = append(out, ComponentScore{Component: ComponentInterview, Score: mean})
	}
	slices.SortFunc(out, func(x, y ComponentScore) int { return x.Component.order() - y.Component.order() })
	return out
}

func componentScore(a *Application, c ScoreComponent) Score {
	if c == ComponentInterview {
		mean, _ := interviewMean(a)
		return mean
	}
	if a.Competency != nil {
		sc, _ := a.Competency.score(c)
		return sc
	}
	return 0
}

// weightedSum is the final score in ten-thousandths of a point (score in hundredths times
// weight in percent); a missing component counts as zero.
func (s *selection) weightedSum(a *Application) int64 {
	var sum int64
	for _, w := range s.in.Weights {
		sum += int64(componentScore(a, w.Component)) * int64(w.Percent)
	}
	return sum
}

// computeFinals stores the published final score of every candidate still in the running.
func (s *selection) computeFinals(st *SelectionState) {
	for i := range st.Applications {
		a := &st.Applications[i]
		if a.State == AppInProgress || a.State == AppShortlisted || a.State == AppNotSelected {
			a.Final = Score(divRound(s.weightedSum(a), 100))
		}
	}
}

// tieBreakOrder lists the components compared, in order, when final scores are equal.
func (s *selection) tieBreakOrder() []ScoreComponent {
	switch s.in.TieBreak {
	case TieBreakCompetencyTestFirst:
		return []ScoreComponent{ComponentCompetencyTest, ComponentInterview}
	case TieBreakInterviewFirst:
		return []ScoreComponent{ComponentInterview, ComponentCompetencyTest}
	}
	ws := slices.Clone(s.in.Weights)
	slices.SortStableFunc(ws, func(x, y Weight) int {
		if x.Percent != y.Percent {
			return y.Percent - x.Percent
		}
		return x.Component.order() - y.Component.order()
	})
	out := make([]ScoreComponent, len(ws))
	for i, w := range ws {
		out[i] = w.Component
	}
	return out
}

// ranking orders the candidates still in the running (in progress, and those the decision
// already placed) by the ranking rule above.
//
// Each candidate's final score and tie-break scores are computed once, before sorting: the
// comparison would otherwise recompute them (an interview mean each time) some n log n
// times, which for a mass selection of 5,000 is most of the decision's cost.
func (s *selection) ranking(st *SelectionState) []*Application {
	order := s.tieBreakOrder()
	type ranked struct {
		a   *Application
		sum int64
		tie []Score // the scores of order's components, in that order
	}
	cands := make([]ranked, 0, len(st.Applications))
	for i := range st.Applications {
		a := &st.Applications[i]
		if a.State == AppInProgress || a.State == AppShortlisted || a.State == AppNotSelected {
			cands = append(cands, ranked{a: a})
		}
	}
	ties := make([]Score, len(cands)*len(order))
	for i := range cands {
		c := &cands[i]
		c.sum = s.weightedSum(c.a)
		c.tie = ties[i*len(order) : (i+1)*len(order) : (i+1)*len(order)]
		for j, comp := range order {
			c.tie[j] = componentScore(c.a, comp)
		}
	}
	// Sorting indexes rather than the keys themselves moves plain integers, not structs
	// holding pointers (each move of which the garbage collector's write barrier sees).
	idx := make([]int, len(cands))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		x, y := &cands[i], &cands[j]
		if c := cmp.Compare(y.sum, x.sum); c != 0 {
			return c
		}
		for k := range x.tie {
			if c := cmp.Compare(y.tie[k], x.tie[k]); c != 0 {
				return c
			}
		}
		if c := x.a.SubmittedAt.Compare(y.a.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(x.a.ID, y.a.ID)
	})
	out := make([]*Application, len(cands))
	for i, j := range idx {
		out[i] = cands[j].a
	}
	return out
}

// expectedShortlist is the best three (or fewer) candidates whose final score reaches the
// pass mark.
func (s *selection) expectedShortlist(st *SelectionState) []*Application {
	var out []*Application
	for _, a := range s.ranking(st) {
		if len(out) == ShortlistSize {
			break
		}
		if a.Final >= s.in.Thresholds.FinalMin {
			out = append(out, a)
		}
	}
	return out
}

func (s *selection) checkDecide(now time.Time, a DecideArgs) *Message {
	if m := s.chairOrSecretary(a.Actor, true); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	if st.Stage != StageCommitteeDecision {
		return wrongStage(StageCommitteeDecision, st.Stage)
	}
	if st.Phase != PhaseOpen || st.Decision != nil {
		m := code("reject.duplicate.decided")
		return &m
	}
	want := s.expectedShortlist(st)
	ids := make([]string, len(want))
	for i, w := range want {
		ids[i] = fmt.Sprintf("%s (%s)", w.ID, w.Final)
	}
	expected := strings.Join(ids, ", ")
	if len(want) == 0 {
		expected = "none"
	}
	mismatch := len(a.Shortlist) != len(want)
	for i := 0; !mismatch && i < len(want); i++ {
		mismatch = a.Shortlist[i].ApplicationID != want[i].ID
	}
	if mismatch {
		m := code("reject.invalid_argument.shortlist_order", "expected", expected)
		return &m
	}
	for _, e := range a.Shortlist {
		if m := checkText("reason", e.Reason, true); m != nil {
			m.Params.Set("application", e.ApplicationID)
			return m
		}
	}
	if s.publication(StageCommitteeDecision).Revision == 0 {
		if _, _, err := s.cal().WindowClose(now, s.in.Windows.ObjectionDays); err != nil {
			m := calendarMessage(err)
			return &m
		}
	}
	if len(want) < ShortlistSize && blank(a.Statement) {
		m := code("reject.incomplete.statement", "count", strconv.Itoa(len(want)))
		return &m
	}
	return checkText("statement", a.Statement, false)
}

func (s *selection) decide(ctx workflow.Context, a DecideArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkDecide(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			s.computeFinals(next)
			d := &Decision{Statement: a.Statement, By: a.Actor, At: now}
			var changes []ApplicationChange
			ranked := map[string]int{}
			for i, e := range a.Shortlist {
				ranked[e.ApplicationID] = i + 1
				app := &next.Applications[next.app(e.ApplicationID)]
				d.Shortlist = append(d.Shortlist, ShortlistEntry{ApplicationID: app.ID, Rank: i + 1, Final: app.Final, Reason: e.Reason})
			}
			for i := range next.Applications {
				app := &next.Applications[i]
				if app.State != AppInProgress && app.State != AppShortlisted && app.State != AppNotSelected {
					continue
				}
				if r := ranked[app.ID]; r > 0 {
					setOutcome(app, StageCommitteeDecision, OutcomePass, d.Shortlist[r-1].Reason, nil)
					app.State, app.Rank = AppShortlisted, r
				} else {
					reason, why := s.reason(code(CodeReasonNotShortlisted, "score", strconv.FormatInt(int64(app.Final), 10),
						"size", strconv.Itoa(ShortlistSize)), bilingual)
					setOutcome(app, StageCommitteeDecision, OutcomeFail, reason, why)
					app.State, app.Rank, app.EliminatedAt = AppNotSelected, 0, StageCommitteeDecision
				}
				changes = append(changes, ApplicationChange{ApplicationID: app.ID, State: app.State, Stage: StageCommitteeDecision, Reason: app.Reason,
					ReasonMessage: app.ReasonMessage, Rank: app.Rank})
			}
			next.Decision = d
			next.Phase = PhaseObjections
			// A first decision opens the objection window; a decision taken again after an
			// accepted objection re-publishes the result within the original window.
			prev := s.publication(StageCommitteeDecision)
			pub := Publication{Stage: StageCommitteeDecision, Revision: prev.Revision + 1, PublishedAt: now,
				ObjectionDeadline: prev.ObjectionDeadline, RevisionReason: prev.RevisionReason, RevisionMessage: prev.RevisionMessage}
			if prev.Revision == 0 {
				_, pub.ObjectionDeadline, _ = s.cal().WindowClose(now, s.in.Windows.ObjectionDays)
			}
			next.setPublication(pub)
			return CommandRecord{Kind: CmdDecide, Actor: a.Actor, Reason: a.Statement, Args: CommandArgs{Decide: &a},
				Applications: changes, Result: s.stageResult(next, pub)}
		})
}

// settleShortlist runs when the decision's objection window has passed with every objection
// answered: the shortlist goes to the appointing official. With nobody qualified the selection
// ends without appointment.
func (s *selection) settleShortlist(ctx workflow.Context, next *SelectionState, now time.Time) error {
	if next.Decision == nil || len(next.Decision.Shortlist) == 0 {
		m := code(CodeEventShortlistSettled)
		reason, why := s.reason(code(CodeReasonNoQualified), englishOnly)
		if next.Decision != nil && !blank(next.Decision.Statement) {
			reason, why = next.Decision.Statement, nil
			m.Params.Set("reason", reason)
		} else if why != nil {
			m = m.with(*why)
		} else {
			m.Params.Set("reason", reason)
		}
		next.Stage, next.Phase = StageCancelled, ""
		next.Cancellation = &Cancellation{By: systemActor(), Reason: reason, ReasonMessage: why, At: now, Stage: StageCommitteeDecision}
		return s.commit(ctx, next, CommandRecord{Kind: EvtShortlistSettled, Actor: systemActor(), Reason: reason, Message: &m})
	}
	next.Phase = PhaseAppointment
	if s.appointmentTimers {
		next.ShortlistFinalAt = now
	}
	m := code(CodeEventShortlistFinal)
	return s.commit(ctx, next, CommandRecord{Kind: EvtShortlistSettled, Actor: systemActor(), Message: &m})
}

func sortByRank(es []ResultEntry) {
	slices.SortStableFunc(es, func(x, y ResultEntry) int {
		rx, ry := x.Rank, y.Rank
		if rx == 0 {
			rx = ShortlistSize + 1
		}
		if ry == 0 {
			ry = ShortlistSize + 1
		}
		return rx - ry
	})
}
