package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Absence from a scheduled session (issue 13). The store records whether a candidate came to
// their competency-test or interview session; where the selection's rules make absence
// eliminating (the stage's absence policy), the API sends recordAbsence, and the application
// fails the current stage with the coded reason CodeReasonAbsent. The verdict is published
// with the stage's result like any other, so the candidate may object to it in that result's
// objection window. recordResults cannot carry it: it refuses a fail verdict at the interview,
// and it is the committee's score sheet, while attendance is also kept by the secretariat.

// UpdateRecordAbsence eliminates an application whose candidate missed the stage's session.
const UpdateRecordAbsence = "recordAbsence"

// CmdRecordAbsence is the record kind of recordAbsence.
const CmdRecordAbsence = "RecordAbsence"

// ChangeIDAbsenceElimination marks runs that took a recordAbsence update. Runs recorded
// before it never received one, so their histories replay unchanged; the marker keeps later
// changes to this path replayable.
const ChangeIDAbsenceElimination = "absence-elimination"

// RecordAbsenceArgs is an absence with the consequence of elimination: a member of the
// committee or the secretariat (admin) records it for the current stage.
type RecordAbsenceArgs struct {
	Actor         Actor  `json:"actor"`
	ApplicationID string `json:"applicationId"`
	// Stage must be the current stage, one with scheduled sessions, before its result is
	// published.
	Stage Stage `json:"stage"`
	// Session names the session missed ("sessions/{id}" of the store), for the record.
	Session string `json:"session,omitempty"`
	// Note is the recorder's note for the audit trail; it is not published.
	Note string `json:"note,omitempty"`
}

// scheduledStage reports whether a stage has sessions candidates attend.
func scheduledStage(st Stage) bool {
	return st == StageCompetencyTest || st == StageInterview
}

func (s *selection) checkRecordAbsence(_ time.Time, a RecordAbsenceArgs) *Message {
	if a.Actor.Role == RoleAdmin {
		if m := admin(a.Actor); m != nil {
			return m
		}
		if m := s.checkOpen(); m != nil {
			return m
		}
	} else if _, m := s.memberOfOpenSelection(a.Actor); m != nil {
		return m
	}
	st := s.st
	if !scheduledStage(a.Stage) {
		m := code("reject.wrong_stage.no_sessions", "stage", string(a.Stage))
		return &m
	}
	if a.Stage != st.Stage {
		return wrongStage(a.Stage, st.Stage)
	}
	if st.Phase != PhaseOpen {
		m := code("reject.wrong_stage.already_published", "stage", string(st.Stage))
		return &m
	}
	i := st.app(a.ApplicationID)
	if i < 0 {
		m := errNoApplication(a.ApplicationID)
		return &m
	}
	if app := &st.Applications[i]; !participates(st.Stage, app) {
		m := code("reject.wrong_stage.application_not_in_stage", "application", app.ID)
		return &m
	}
	return checkText("note", a.Note, false)
}

func (s *selection) recordAbsence(ctx workflow.Context, a RecordAbsenceArgs) (UpdateResult, error) {
	workflow.GetVersion(ctx, ChangeIDAbsenceElimination, workflow.DefaultVersion, 1)
	return s.handle(ctx, func(now time.Time) *Message { return s.checkRecordAbsence(now, a) },
		func(next *SelectionState, _ time.Time, _ *UpdateResult) CommandRecord {
			app := &next.Applications[next.app(a.ApplicationID)]
			why := code(CodeReasonAbsent, "stage", string(a.Stage))
			change := setOutcome(app, a.Stage, OutcomeFail, "", &why)
			return CommandRecord{Kind: CmdRecordAbsence, Actor: a.Actor, Reason: a.Note, Args: CommandArgs{RecordAbsence: &a},
				Applications: []ApplicationChange{change}}
		})
}

// absentAt reports whether the application was eliminated at stage for absence, before the
// stage's result was published.
func (a *Application) absentAt(stage Stage) bool {
	o, ok := a.outcome(stage)
	return ok && a.State == AppEliminated && a.EliminatedAt == stage && o.Outcome == OutcomeFail &&
		o.ReasonMessage != nil && o.ReasonMessage.Code == CodeReasonAbsent
}
