package workflows

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// referenceRanking is the ranking as first written, comparing the candidates' scores afresh
// in every comparison. The ranking decides who is proposed for appointment and is published,
// so the optimised one must give the same order on every input.
func referenceRanking(s *selection, st *SelectionState) []*Application {
	var cands []*Application
	for i := range st.Applications {
		a := &st.Applications[i]
		if a.State == AppInProgress || a.State == AppShortlisted || a.State == AppNotSelected {
			cands = append(cands, a)
		}
	}
	order := s.tieBreakOrder()
	slices.SortFunc(cands, func(x, y *Application) int {
		if c := cmp.Compare(s.weightedSum(y), s.weightedSum(x)); c != 0 {
			return c
		}
		for _, comp := range order {
			if c := cmp.Compare(componentScore(y, comp), componentScore(x, comp)); c != 0 {
				return c
			}
		}
		if c := x.SubmittedAt.Compare(y.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return cands
}

// TestRankingPinnedToReference ranks random selections built to tie often (few distinct
// scores, shared submission times, equal weights, missing components, candidates out of the
// running) under every tie-break rule.
func TestRankingPinnedToReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 7))
	components := []ScoreComponent{ComponentWrittenTest, ComponentCompetencyTest, ComponentPaper, ComponentInterview, ComponentTrackRecord}
	states := []ApplicationState{AppInProgress, AppInProgress, AppShortlisted, AppNotSelected, AppEliminated, AppWithdrawn}
	rules := []TieBreakRule{TieBreakWeightOrder, TieBreakCompetencyTestFirst, TieBreakInterviewFirst}
	t0 := time.Date(2026, 7, 6, 2, 0, 0, 0, time.UTC)
	for round := range 400 {
		var in SelectionInput
		in.TieBreak = rules[round%3]
		for _, c := range components {
			if r.IntN(5) > 0 {
				in.Weights = append(in.Weights, Weight{Component: c, Percent: 10 * (1 + r.IntN(3))})
			}
		}
		r.Shuffle(len(in.Weights), func(i, j int) { in.Weights[i], in.Weights[j] = in.Weights[j], in.Weights[i] })
		n := 1 + r.IntN(200)
		st := &SelectionState{}
		for i := range n {
			a := Application{ID: fmt.Sprintf("app-%04d", i), State: states[r.IntN(len(states))],
				SubmittedAt: t0.Add(time.Duration(r.IntN(4)) * time.Hour)}
			if r.IntN(8) > 0 {
				a.Competency = &CompetencyRecord{}
				for _, c := range components {
					if c != ComponentInterview && r.IntN(6) > 0 {
						a.Competency.Scores = append(a.Competency.Scores, ComponentScore{c, Score(1000 * (6 + r.IntN(3)))})
					}
				}
			}
			for range r.IntN(4) {
				a.Interview = append(a.Interview, MemberScore{Member: chair, Score: Score(500 * (12 + r.IntN(6)))})
			}
			st.Applications = append(st.Applications, a)
		}
		s := &selection{in: in, st: st}
		want, got := ids(referenceRanking(s, st)), ids(s.ranking(st))
		if !slices.Equal(want, got) {
			t.Fatalf("round %d (%s, weights %v):\nreference %v\ncurrent   %v", round, in.TieBreak, in.Weights, want, got)
		}
	}
}
