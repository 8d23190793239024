package workflows

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Benchmarks of the scoring and ranking at the committee decision, at the sizes a selection
// meets: a regional post (25 candidates), a large open call (500) and a mass selection
// (5,000). They report; no test asserts their speed.

var benchSizes = []int{25, 500, 5000}

// benchDecision is a selection at the committee decision with n candidates in the running,
// scored as an assessment center and a committee of five score: whole points mostly, so that
// equal finals (and the tie-break) occur as they do in practice.
func benchDecision(n int) (*selection, *SelectionState) {
	in := SelectionInput{
		Committee: []Member{{Subject: chair}, {Subject: secretary}, {Subject: member3}, {Subject: member4}, {Subject: member5}},
		Weights: []Weight{
			{ComponentWrittenTest, 15}, {ComponentCompetencyTest, 40}, {ComponentPaper, 10}, {ComponentInterview, 20}, {ComponentTrackRecord, 15},
		},
		Thresholds: Thresholds{CompetencyMin: 6000, AcceptStillMeets: true, InterviewMin: 6000, FinalMin: 6500},
		TieBreak:   TieBreakWeightOrder, PublishScores: true,
	}
	r := rand.New(rand.NewPCG(uint64(n), 15))
	score := func() Score { return Score(100 * (55 + r.IntN(45))) }
	t0 := time.Date(2026, 7, 6, 2, 0, 0, 0, time.UTC)
	st := &SelectionState{Stage: StageCommitteeDecision}
	for i := range n {
		a := Application{ID: fmt.Sprintf("app-%05d", i), Candidate: fmt.Sprintf("cand-%05d", i), State: AppInProgress,
			SubmittedAt: t0.Add(time.Duration(r.IntN(5*24*60)) * time.Minute),
			Competency: &CompetencyRecord{Category: CategoryMeets, Scores: []ComponentScore{
				{ComponentWrittenTest, score()}, {ComponentCompetencyTest, score()}, {ComponentPaper, score()}, {ComponentTrackRecord, score()}}},
			Outcomes: []StageOutcome{{Stage: StageAdministrativeScreening, Outcome: OutcomePass},
				{Stage: StageCompetencyTest, Outcome: OutcomePass}, {Stage: StageInterview, Outcome: OutcomePass}},
		}
		for _, m := range allMembers {
			a.Interview = append(a.Interview, MemberScore{Member: m, Score: score(), At: t0})
		}
		st.Applications = append(st.Applications, a)
	}
	return &selection{in: in, st: st}, st
}

func BenchmarkRanking(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("candidates=%d", n), func(b *testing.B) {
			s, st := benchDecision(n)
			s.computeFinals(st)
			b.ReportAllocs()
			for b.Loop() {
				if got := s.ranking(st); len(got) != n {
					b.Fatalf("ranked %d of %d", len(got), n)
				}
			}
		})
	}
}

func BenchmarkComputeFinals(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("candidates=%d", n), func(b *testing.B) {
			s, st := benchDecision(n)
			b.ReportAllocs()
			for b.Loop() {
				s.computeFinals(st)
			}
		})
	}
}

// BenchmarkDecisionResult is the published result of the committee decision: the shortlist
// the committee must propose, then every candidate's entry with its scores, in rank order.
func BenchmarkDecisionResult(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("candidates=%d", n), func(b *testing.B) {
			s, st := benchDecision(n)
			s.computeFinals(st)
			for i, a := range s.expectedShortlist(st) {
				a.Rank = i + 1
			}
			for i := range st.Applications {
				st.Applications[i].Outcomes = append(st.Applications[i].Outcomes,
					StageOutcome{Stage: StageCommitteeDecision, Outcome: OutcomePass})
			}
			pub := Publication{Stage: StageCommitteeDecision, Revision: 1, PublishedAt: time.Date(2026, 9, 1, 3, 0, 0, 0, time.UTC)}
			b.ReportAllocs()
			for b.Loop() {
				if len(s.expectedShortlist(st)) != ShortlistSize {
					b.Fatal("no full shortlist")
				}
				if r := s.stageResult(st, pub); len(r.Entries) != n {
					b.Fatalf("%d entries", len(r.Entries))
				}
			}
		})
	}
}
