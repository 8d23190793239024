package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Corrections. Before a stage's result is published, the committee replaces a recorded
// result with recordResults and Correct set (and a reason). After publication, a result
// changes only through an accepted objection or through the chair's correction here, which
// publishes a new revision, tells each affected candidate and opens a new objection window
// counted from the new publication. Either way the audit event names the values replaced.
//
// The chair's correction is lawful only while the stage's result is published and the next
// stage has not opened (the stage is in PhaseObjections): once the next stage opens, its
// participants are fixed by the earlier result, and changing that result would silently
// undo a stage other candidates have already entered. A later error then goes through the
// secretariat (cancellation and a new selection), which the audit trail shows as such.

// CmdCorrectResult is the record kind of the chair's correction of a published result.
const CmdCorrectResult = "CorrectResult"

// ChangeIDCorrectionRecord marks runs whose record of a recordResults correction names the
// values it replaced (RecordCorrectionRecord) instead of carrying the bare arguments.
const ChangeIDCorrectionRecord = "correction-record"

// CorrectResultArgs is the chair's correction of the published result of the current stage.
type CorrectResultArgs struct {
	Actor Actor `json:"actor"`
	// Stage must be the current stage, with its result published.
	Stage Stage `json:"stage"`
	// Results are the corrected lines: screening and interview take a verdict (PASS or FAIL),
	// the competency test the corrected score-sheet line.
	Results []ResultInput `json:"results"`
	// Reason is required and published with the new revision.
	Reason string `json:"reason"`
}

// ReplacedResult is what a correction replaced for one application, kept in the audit
// trail so that the old value is never lost.
type ReplacedResult struct {
	ApplicationID string            `json:"applicationId"`
	Screening     *Verdict          `json:"screening,omitempty"`
	Competency    *CompetencyRecord `json:"competency,omitempty"`
	Interview     *MemberScore      `json:"interview,omitempty"`
	// Checklist is the screening checklist replaced, in selections that screen item by item.
	Checklist []ChecklistItem `json:"checklist,omitempty"`
	// Outcome is the published verdict replaced (corrections after publication).
	Outcome *StageOutcome `json:"outcome,omitempty"`
}

// RecordCorrectionRecord is the audit form of recordResults with Correct set: the command as
// received and the results it replaced.
type RecordCorrectionRecord struct {
	RecordResultsArgs
	Replaced []ReplacedResult `json:"replaced"`
}

// CorrectResultRecord is the audit form of correctResult: the command as received and the
// results it replaced.
type CorrectResultRecord struct {
	CorrectResultArgs
	Replaced []ReplacedResult `json:"replaced"`
}

// replaced is what application app has recorded at stage for member (the interview score
// is the member's own), deep-copied; ok is false when nothing is recorded.
func replaced(stage Stage, app *Application, member string) (ReplacedResult, bool) {
	r := ReplacedResult{ApplicationID: app.ID}
	switch stage {
	case StageAdministrativeScreening:
		if app.Screening != nil {
			v := *app.Screening
			r.Screening = &v
		}
		r.Checklist = cloneItems(app.Checklist)
	case StageCompetencyTest:
		if app.Competency != nil {
			r.Competency = app.clone().Competency
		}
	case StageInterview:
		for _, ms := range app.Interview {
			if ms.Member == member {
				ms := ms
				r.Interview = &ms
			}
		}
	}
	if o, ok := app.outcome(stage); ok {
		r.Outcome = &o
	}
	return r, r.Screening != nil || r.Competency != nil || r.Interview != nil || r.Outcome != nil
}

func (s *selection) checkCorrectResult(now time.Time, a CorrectResultArgs) *Message {
	if m := s.chairOrSecretary(a.Actor, true); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	if !scoredStage(a.Stage) {
		m := code("reject.wrong_stage.not_corrected_this_way", "stage", string(a.Stage))
		return &m
	}
	if a.Stage == st.Stage && st.Phase == PhaseOpen {
		m := code("reject.wrong_stage.correction_not_published", "stage", string(a.Stage))
		return &m
	}
	if a.Stage != st.Stage || st.Phase != PhaseObjections {
		m := code("reject.wrong_stage.correction_too_late", "stage", string(a.Stage))
		return &m
	}
	if m := checkText("correction_reason", a.Reason, true); m != nil {
		return m
	}
	if len(a.Results) == 0 || len(a.Results) > MaxBatch {
		m := code("reject.invalid_argument.results_batch", "max", strconv.Itoa(MaxBatch), "count", strconv.Itoa(len(a.Results)))
		return &m
	}
	for i, e := range a.Results {
		for _, prev := range a.Results[:i] {
			if prev.ApplicationID == e.ApplicationID {
				m := code("reject.duplicate.application_twice", "application", e.ApplicationID)
				return &m
			}
		}
		j := st.app(e.ApplicationID)
		if j < 0 {
			m := errNoApplication(e.ApplicationID)
			return &m
		}
		app := &st.Applications[j]
		if _, ok := app.outcome(a.Stage); !ok || app.State == AppWithdrawn {
			m := code("reject.wrong_stage.not_in_result", "application", app.ID)
			return &m
		}
		if st.recused(a.Actor.Subject, app.ID) {
			m := code("reject.wrong_actor.recused_correction", "application", app.ID)
			return &m
		}
		if st.pendingObjection(a.Stage, app.ID) {
			m := code("reject.wrong_stage.objection_pending_correction", "application", app.ID)
			return &m
		}
		if m := checkText("reason", e.Reason, e.Outcome == OutcomeFail); m != nil {
			m.Params.Set("application", app.ID)
			return m
		}
		if a.Stage == StageAdministrativeScreening && app.Checklist != nil {
			if m := validateChecklistEntry(app, withFallbackReason(e, a.Reason), true); m != nil {
				return m
			}
			continue
		}
		if len(e.Items) > 0 {
			return noChecklist(app.ID)
		}
		switch a.Stage {
		case StageAdministrativeScreening, StageInterview:
			if (e.Outcome != OutcomePass && e.Outcome != OutcomeFail) || len(e.Scores) > 0 {
				m := code("reject.invalid_argument.correction_verdict_only", "application", app.ID)
				return &m
			}
		case StageCompetencyTest:
			if m := s.validateCompetencyEntry(app, e); m != nil {
				return m
			}
		}
	}
	if _, _, err := s.cal().WindowClose(now, s.in.Windows.ObjectionDays); err != nil {
		m := calendarMessage(err)
		return &m
	}
	return nil
}

func (s *selection) correctResult(ctx workflow.Context, a CorrectResultArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkCorrectResult(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			stage := a.Stage
			rec := CorrectResultRecord{CorrectResultArgs: a, Replaced: []ReplacedResult{}}
			var changes []ApplicationChange
			var checklists []ApplicationChecklist
			for _, e := range a.Results {
				if r, ok := replaced(stage, &s.st.Applications[s.st.app(e.ApplicationID)], a.Actor.Subject); ok {
					rec.Replaced = append(rec.Replaced, r)
				}
				app := &next.Applications[next.app(e.ApplicationID)]
				var outcome Outcome
				var reason string
				var why *Message
				switch stage {
				case StageAdministrativeScreening:
					// The correction's reason is the note of the items a verdict overrides.
					screen(app, withFallbackReason(e, a.Reason), a.Actor.Subject, now)
					app.Screening.Reason = e.Reason
					outcome, reason, why = screeningOutcome(app)
					if app.Checklist != nil {
						checklists = append(checklists, checklistChange(app))
					}
				case StageCompetencyTest:
					app.Competency = competencyRecord(e, a.Actor.Subject, now)
					outcome, reason, why = s.competencyOutcome(app)
				case StageInterview:
					outcome, reason = e.Outcome, e.Reason
				}
				changes = append(changes, setOutcome(app, stage, outcome, reason, why))
			}
			// checkCorrectResult has just computed the same window, so this cannot fail.
			_, deadline, _ := s.cal().WindowClose(now, s.in.Windows.ObjectionDays)
			prev := s.publication(stage)
			pub := Publication{Stage: stage, Revision: prev.Revision + 1, PublishedAt: now, ObjectionDeadline: deadline, RevisionReason: a.Reason}
			if s.objectionRevisions {
				// The corrected revision opens a window of its own, with one objection per
				// candidate against it (see ChangeIDObjectionPerRevision).
				pub.WindowRevision = pub.Revision
			}
			next.setPublication(pub)
			m := code(CodeEventCorrected, "stage", string(stage), "revision", strconv.Itoa(pub.Revision), "reason", a.Reason,
				"deadline", deadline.UTC().Format(time.RFC3339), "zone", string(s.in.Calendar.Zone))
			return CommandRecord{Kind: CmdCorrectResult, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{CorrectResult: &rec},
				Applications: changes, Result: s.stageResult(next, pub), Message: &m, Checklists: checklists}
		})
}

// withFallbackReason is e with reason as its reason when it gives none.
func withFallbackReason(e ResultInput, reason string) ResultInput {
	if blank(e.Reason) {
		e.Reason = reason
	}
	return e
}
