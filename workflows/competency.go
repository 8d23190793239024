package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The competency test (uji kompetensi): the assessment center's category and managerial and
// socio-cultural scores, the field-competency paper (makalah), the written test where the
// selection weighs one, and the committee's track-record note and score. The secretary usually
// enters a whole score sheet in one recordResults update.

// CompetencyRecord is the competency-test result of one application.
type CompetencyRecord struct {
	Category      CompetencyCategory `json:"category"`
	Managerial    Score              `json:"managerial,omitempty"`
	SocioCultural Score              `json:"socioCultural,omitempty"`
	// Scores holds the weighted components measured in this stage: written test,
	// competency test, paper and track record.
	Scores          []ComponentScore `json:"scores,omitempty"`
	TrackRecordNote string           `json:"trackRecordNote,omitempty"`
	// Outcome is the committee's explicit verdict, or NONE to let the thresholds decide.
	Outcome Outcome   `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// competencyComponents are the components scored at the competency test.
func competencyComponent(c ScoreComponent) bool {
	return c == ComponentWrittenTest || c == ComponentCompetencyTest || c == ComponentPaper || c == ComponentTrackRecord
}

func checkScores(appID string, scores []ComponentScore, allowed func(ScoreComponent) bool) *Message {
	for i, sc := range scores {
		if !allowed(sc.Component) {
			m := code("reject.invalid_argument.score_not_here", "component", string(sc.Component), "application", appID)
			return &m
		}
		if slices.ContainsFunc(scores[:i], func(o ComponentScore) bool { return o.Component == sc.Component }) {
			m := code("reject.duplicate.score_twice", "component", string(sc.Component), "application", appID)
			return &m
		}
		if sc.Score < 0 || sc.Score > MaxScore {
			m := code("reject.invalid_argument.score_range", "application", appID)
			return &m
		}
	}
	return nil
}

func (s *selection) validateCompetencyEntry(a *Application, e ResultInput) *Message {
	switch e.Category {
	case CategoryMeets, CategoryStillMeets, CategoryDoesNotMeet:
	default:
		m := code("reject.invalid_argument.category_required", "application", a.ID)
		return &m
	}
	if e.Managerial < 0 || e.Managerial > MaxScore || e.SocioCultural < 0 || e.SocioCultural > MaxScore {
		m := code("reject.invalid_argument.competency_range", "application", a.ID)
		return &m
	}
	if m := checkScores(a.ID, e.Scores, competencyComponent); m != nil {
		return m
	}
	if m := checkText("track_record_note", e.TrackRecordNote, false); m != nil {
		return m
	}
	switch e.Outcome {
	case "", OutcomeNone, OutcomeFail:
	case OutcomePass:
		rec := competencyRecord(e, "", time.Time{})
		rec.Outcome = OutcomeNone
		if o, why := s.competencyThresholds(rec); o == OutcomeFail && blank(e.Reason) {
			m := code(CodeRejectBelowPassMarks, "application", a.ID).with(why)
			return &m
		}
	default:
		m := code("reject.invalid_argument.unknown_outcome", "outcome", string(e.Outcome), "application", a.ID)
		return &m
	}
	return nil
}

func competencyRecord(e ResultInput, by string, at time.Time) *CompetencyRecord {
	o := e.Outcome
	if o == "" {
		o = OutcomeNone
	}
	return &CompetencyRecord{
		Category: e.Category, Managerial: e.Managerial, SocioCultural: e.SocioCultural,
		Scores: slices.Clone(e.Scores), TrackRecordNote: e.TrackRecordNote,
		Outcome: o, Reason: e.Reason, By: by, At: at,
	}
}

func (r *CompetencyRecord) score(c ScoreComponent) (Score, bool) {
	for _, sc := range r.Scores {
		if sc.Component == c {
			return sc.Score, true
		}
	}
	return 0, false
}

// competencyComplete: the stage can close for an application when its record holds every
// weighted component measured at this stage.
func (s *selection) competencyComplete(a *Application) bool {
	if a.Competency == nil {
		return false
	}
	for _, w := range s.in.Weights {
		if competencyComponent(w.Component) {
			if _, ok := a.Competency.score(w.Component); !ok {
				return false
			}
		}
	}
	return true
}

// competencyThresholds applies the pass marks: "does not meet" never passes, "still meets"
// passes only when the selection accepts it, and the competency-test score must reach the
// threshold.
func (s *selection) competencyThresholds(r *CompetencyRecord) (Outcome, Message) {
	switch {
	case r.Category == CategoryDoesNotMeet:
		return OutcomeFail, code(CodeReasonCompetencyDoesNotMeet)
	case r.Category == CategoryStillMeets && !s.in.Thresholds.AcceptStillMeets:
		return OutcomeFail, code(CodeReasonCompetencyStillMeets)
	}
	if sc, ok := r.score(ComponentCompetencyTest); ok && sc < s.in.Thresholds.CompetencyMin {
		return OutcomeFail, code(CodeReasonCompetencyBelowMark, "score", sc.hundredths(), "mark", s.in.Thresholds.CompetencyMin.hundredths())
	}
	return OutcomePass, Message{}
}

func (s *selection) competencyOutcome(a *Application) (Outcome, string, *Message) {
	r := a.Competency
	if r.Outcome == OutcomePass || r.Outcome == OutcomeFail {
		return r.Outcome, r.Reason, nil
	}
	o, why := s.competencyThresholds(r)
	if o == OutcomeFail {
		reason, m := s.reason(why, bilingual)
		return o, reason, m
	}
	return o, r.Reason, nil
}

// hundredths is the score as a message parameter: an integer in hundredths, which the
// renderers format for each language ("85,50" in Indonesian, "85.50" in English).
func (sc Score) hundredths() string { return strconv.FormatInt(int64(sc), 10) }

// String formats a score with two decimals, as published.
func (sc Score) String() string { return fmt.Sprintf("%d.%02d", sc/100, sc%100) }
