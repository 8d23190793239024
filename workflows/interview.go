package workflows

import (
	"slices"
	"time"
)

// The final interview (wawancara akhir): each committee member scores each candidate they are
// not recused from, in their own recordResults update; the interview score is the mean of
// the members' scores, rounded half up to two decimals.

// MemberScore is one member's interview score for one application.
type MemberScore struct {
	Member string    `json:"member"`
	Score  Score     `json:"score"`
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

func validateInterviewEntry(a *Application, e ResultInput) *Message {
	if e.Outcome != "" && e.Outcome != OutcomeNone {
		m := code("reject.invalid_argument.interview_verdict", "application", a.ID)
		return &m
	}
	if len(e.Scores) != 1 || e.Scores[0].Component != ComponentInterview {
		m := code("reject.invalid_argument.interview_one_score", "application", a.ID)
		return &m
	}
	if e.Category != "" || e.Managerial != 0 || e.SocioCultural != 0 {
		m := code("reject.invalid_argument.interview_category", "application", a.ID)
		return &m
	}
	return checkScores(a.ID, e.Scores, func(c ScoreComponent) bool { return c == ComponentInterview })
}

func hasInterviewScore(a *Application, member string) bool {
	return slices.ContainsFunc(a.Interview, func(ms MemberScore) bool { return ms.Member == member })
}

func setInterviewScore(a *Application, member string, e ResultInput, at time.Time) {
	ms := MemberScore{Member: member, Score: e.Scores[0].Score, Note: e.Reason, At: at}
	for i := range a.Interview {
		if a.Interview[i].Member == member {
			a.Interview[i] = ms
			return
		}
	}
	a.Interview = append(a.Interview, ms)
}

// interviewMean is the mean of the members' scores, rounded half up to hundredths.
func interviewMean(a *Application) (Score, bool) {
	if len(a.Interview) == 0 {
		return 0, false
	}
	var sum int64
	for _, ms := range a.Interview {
		sum += int64(ms.Score)
	}
	return Score(divRound(sum, int64(len(a.Interview)))), true
}

// interviewQuorum: an application's interview is complete when more than half of the members
// not recused from it have scored it. Requiring every member would let one absent member
// block the selection; requiring fewer would let a minority decide.
func (s *selection) interviewQuorum(st *SelectionState, a *Application) bool {
	eligible := 0
	for _, m := range s.in.Committee {
		if !st.recused(m.Subject, a.ID) {
			eligible++
		}
	}
	return eligible > 0 && len(a.Interview)*2 > eligible
}

func (s *selection) interviewOutcome(a *Application) (Outcome, string, *Message) {
	mean, _ := interviewMean(a)
	if mean < s.in.Thresholds.InterviewMin {
		reason, why := s.reason(code(CodeReasonInterviewBelowMark, "score", mean.hundredths(), "mark", s.in.Thresholds.InterviewMin.hundredths()), bilingual)
		return OutcomeFail, reason, why
	}
	return OutcomePass, "", nil
}
