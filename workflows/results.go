package workflows

import (
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Recording results, closing a stage and publishing its result, and opening the next stage:
// the parts common to screening, competency test and interview. Stage-specific rules are in
// the stage files.

// scoredStage reports whether results are recorded for the stage with recordResults.
func scoredStage(st Stage) bool {
	return st == StageAdministrativeScreening || st == StageCompetencyTest || st == StageInterview
}

// participates reports whether an application takes part in a stage: screening takes the
// submitted applications, later stages those that passed every stage so far.
func participates(stage Stage, a *Application) bool {
	if stage == StageAdministrativeScreening {
		return a.State == AppSubmitted
	}
	return a.State == AppInProgress
}

func (s *selection) checkRecordResults(_ time.Time, a RecordResultsArgs) *Message {
	mem, m := s.memberOfOpenSelection(a.Actor)
	if m != nil {
		return m
	}
	st := s.st
	if a.Stage != st.Stage {
		return wrongStage(a.Stage, st.Stage)
	}
	if !scoredStage(st.Stage) {
		m := code("reject.wrong_stage.no_results_now", "stage", string(st.Stage))
		return &m
	}
	if st.Phase != PhaseOpen {
		m := code("reject.wrong_stage.published_correct_by_objection", "stage", string(st.Stage))
		return &m
	}
	if len(a.Results) == 0 || len(a.Results) > MaxBatch {
		m := code("reject.invalid_argument.results_batch", "max", strconv.Itoa(MaxBatch), "count", strconv.Itoa(len(a.Results)))
		return &m
	}
	if m := checkText("correction_reason", a.Reason, a.Correct); m != nil {
		return m
	}
	// The set only answers "seen before?"; nothing iterates over it.
	seen := make(map[string]bool, len(a.Results))
	for _, e := range a.Results {
		if seen[e.ApplicationID] {
			m := code("reject.duplicate.application_twice", "application", e.ApplicationID)
			return &m
		}
		seen[e.ApplicationID] = true
		i := st.app(e.ApplicationID)
		if i < 0 {
			m := errNoApplication(e.ApplicationID)
			return &m
		}
		app := &st.Applications[i]
		if !participates(st.Stage, app) {
			m := code("reject.wrong_stage.application_not_in_stage", "application", app.ID)
			return &m
		}
		if st.recused(mem.Subject, app.ID) {
			m := code("reject.wrong_actor.recused_results", "application", app.ID)
			return &m
		}
		if m := checkText("reason", e.Reason, e.Outcome == OutcomeFail); m != nil {
			m.Params.Set("application", app.ID)
			return m
		}
		var m *Message
		switch st.Stage {
		case StageAdministrativeScreening:
			switch {
			case app.Checklist != nil:
				m = validateChecklistEntry(app, e, a.Correct)
			case len(e.Items) > 0:
				m = noChecklist(app.ID)
			default:
				m = validateScreeningEntry(app, e)
				if m == nil && app.Screening != nil && !a.Correct {
					m = alreadyRecorded(app.ID)
				}
			}
		case StageCompetencyTest:
			m = s.validateCompetencyEntry(app, e)
			if m == nil && app.Competency != nil && !a.Correct {
				m = alreadyRecorded(app.ID)
			}
		case StageInterview:
			m = validateInterviewEntry(app, e)
			if m == nil && hasInterviewScore(app, mem.Subject) && !a.Correct {
				m = alreadyRecorded(app.ID)
			}
		}
		if m == nil && st.Stage != StageAdministrativeScreening && len(e.Items) > 0 {
			m = noChecklist(app.ID)
		}
		if m != nil {
			return m
		}
	}
	return nil
}

// noChecklist rejects per-item verdicts where there is no checklist: at other stages, and in
// selections started before the checklist.
func noChecklist(id string) *Message {
	m := code("reject.invalid_argument.no_checklist", "application", id)
	return &m
}

func alreadyRecorded(id string) *Message {
	m := code("reject.duplicate.result_recorded", "application", id)
	return &m
}

func (s *selection) recordResults(ctx workflow.Context, a RecordResultsArgs) (UpdateResult, error) {
	// A correction's record names the values it replaces. Runs that recorded a correction
	// before that (none through the API, which could not send one) replay with the bare
	// arguments they recorded.
	naming := a.Correct && workflow.GetVersion(ctx, ChangeIDCorrectionRecord, workflow.DefaultVersion, 1) == 1
	return s.handle(ctx, func(now time.Time) *Message { return s.checkRecordResults(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			corr := RecordCorrectionRecord{RecordResultsArgs: a, Replaced: []ReplacedResult{}}
			var checklists []ApplicationChecklist
			for _, e := range a.Results {
				if naming {
					if r, ok := replaced(next.Stage, &s.st.Applications[s.st.app(e.ApplicationID)], a.Actor.Subject); ok {
						corr.Replaced = append(corr.Replaced, r)
					}
				}
				app := &next.Applications[next.app(e.ApplicationID)]
				switch next.Stage {
				case StageAdministrativeScreening:
					screen(app, e, a.Actor.Subject, now)
					if app.Checklist != nil {
						checklists = append(checklists, checklistChange(app))
					}
				case StageCompetencyTest:
					app.Competency = competencyRecord(e, a.Actor.Subject, now)
				case StageInterview:
					setInterviewScore(app, a.Actor.Subject, e, now)
				}
			}
			if naming {
				return CommandRecord{Kind: CmdRecordResults, Actor: a.Actor, Reason: a.Reason,
					Args: CommandArgs{RecordCorrection: &corr, RecordResults: &corr.RecordResultsArgs}, Checklists: checklists}
			}
			return CommandRecord{Kind: CmdRecordResults, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{RecordResults: &a}, Checklists: checklists}
		})
}

func (s *selection) checkAdvance(now time.Time, a AdvanceArgs) *Message {
	if m := s.chairOrSecretary(a.Actor, false); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	if a.Stage != st.Stage {
		return wrongStage(a.Stage, st.Stage)
	}
	if st.Stage == StageCommitteeDecision {
		m := code("reject.wrong_stage.decision_not_advanced")
		return &m
	}
	if !scoredStage(st.Stage) {
		m := code("reject.wrong_stage.closes_by_itself", "stage", string(st.Stage))
		return &m
	}
	if st.Phase != PhaseOpen {
		m := code("reject.wrong_stage.already_published", "stage", string(st.Stage))
		return &m
	}
	if m := checkText("reason", a.Reason, false); m != nil {
		return m
	}
	if st.Stage == StageAdministrativeScreening {
		if m := undecidedItems(st); m != nil {
			return m
		}
	}
	if missing := s.missingResults(st); len(missing) > 0 {
		shown := missing
		if len(shown) > 5 {
			shown = shown[:5]
		}
		m := code("reject.incomplete.results_missing", "count", strconv.Itoa(len(missing)), "examples", strings.Join(shown, ", "))
		return &m
	}
	if _, _, err := s.cal().WindowClose(now, s.in.Windows.ObjectionDays); err != nil {
		m := calendarMessage(err)
		return &m
	}
	return nil
}

// undecidedItems rejects publishing the screening result while an application has an item
// still unknown: it names the first such application (in ID order) and its items, and how
// many applications are in that case.
func undecidedItems(st *SelectionState) *Message {
	var first *Application
	n := 0
	for i := range st.Applications {
		app := &st.Applications[i]
		if !participates(StageAdministrativeScreening, app) || len(app.undecided()) == 0 {
			continue
		}
		if first == nil {
			first = app
		}
		n++
	}
	if first == nil {
		return nil
	}
	m := code("reject.incomplete.items_undecided", "application", first.ID, "items", strings.Join(first.undecided(), ", "),
		"count", strconv.Itoa(n))
	return &m
}

// missingResults lists, in ID order, the applications of the current stage without a
// complete result.
func (s *selection) missingResults(st *SelectionState) []string {
	var missing []string
	for i := range st.Applications {
		app := &st.Applications[i]
		if !participates(st.Stage, app) {
			continue
		}
		complete := false
		switch st.Stage {
		case StageAdministrativeScreening:
			complete = app.Screening != nil
		case StageCompetencyTest:
			complete = s.competencyComplete(app)
		case StageInterview:
			complete = s.interviewQuorum(st, app)
		}
		if !complete {
			missing = append(missing, app.ID)
		}
	}
	return missing
}

func (s *selection) advance(ctx workflow.Context, a AdvanceArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkAdvance(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			stage := next.Stage
			var changes []ApplicationChange
			for i := range next.Applications {
				app := &next.Applications[i]
				if app.absentAt(stage) {
					// Eliminated for absence while the stage was open (see absence.go): the
					// result publishes the verdict, and the candidate is told again, now with
					// the objection deadline.
					changes = append(changes, ApplicationChange{ApplicationID: app.ID, State: app.State, Stage: stage,
						Reason: app.Reason, ReasonMessage: app.ReasonMessage})
					continue
				}
				if !participates(stage, app) {
					continue
				}
				outcome, reason, why := s.stageOutcome(stage, app)
				changes = append(changes, setOutcome(app, stage, outcome, reason, why))
			}
			// checkAdvance has just computed the same window, so this cannot fail.
			_, deadline, _ := s.cal().WindowClose(now, s.in.Windows.ObjectionDays)
			pub := Publication{Stage: stage, Revision: 1, PublishedAt: now, ObjectionDeadline: deadline}
			next.setPublication(pub)
			next.Phase = PhaseObjections
			m := code(CodeEventPublished, "stage", string(stage), "deadline", deadline.UTC().Format(time.RFC3339), "zone", string(s.in.Calendar.Zone))
			return CommandRecord{Kind: CmdAdvance, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Advance: &a},
				Applications: changes, Result: s.stageResult(next, pub), Message: &m}
		})
}

// stageOutcome is the verdict on an application when its stage closes.
func (s *selection) stageOutcome(stage Stage, app *Application) (Outcome, string, *Message) {
	switch stage {
	case StageAdministrativeScreening:
		return screeningOutcome(app)
	case StageCompetencyTest:
		return s.competencyOutcome(app)
	case StageInterview:
		return s.interviewOutcome(app)
	}
	return OutcomePass, "", nil
}

// setOutcome records the verdict of a stage on an application and moves its state.
// The system's reason, if any, is why; people's words are reason.
func setOutcome(app *Application, stage Stage, outcome Outcome, reason string, why *Message) ApplicationChange {
	replaced := false
	for i := range app.Outcomes {
		if app.Outcomes[i].Stage == stage {
			app.Outcomes[i] = StageOutcome{Stage: stage, Outcome: outcome, Reason: reason, ReasonMessage: why}
			replaced = true
		}
	}
	if !replaced {
		app.Outcomes = append(app.Outcomes, StageOutcome{Stage: stage, Outcome: outcome, Reason: reason, ReasonMessage: why})
	}
	if outcome == OutcomeFail {
		app.State, app.EliminatedAt, app.Reason, app.ReasonMessage = AppEliminated, stage, reason, why
	} else {
		app.State, app.EliminatedAt, app.Reason, app.ReasonMessage = AppInProgress, "", "", nil
	}
	return ApplicationChange{ApplicationID: app.ID, State: app.State, Stage: stage, Reason: reason, ReasonMessage: why}
}

func (a *Application) outcome(stage Stage) (StageOutcome, bool) {
	for _, o := range a.Outcomes {
		if o.Stage == stage {
			return o, true
		}
	}
	return StageOutcome{}, false
}

// stageResult builds the published result of a stage from the applications' outcomes. The
// committee decision lists its shortlist first, in rank order; other stages list by ID.
func (s *selection) stageResult(st *SelectionState, p Publication) *StageResult {
	r := &StageResult{Stage: p.Stage, Revision: p.Revision, PublishedAt: p.PublishedAt,
		ObjectionDeadline: p.ObjectionDeadline, RevisionReason: p.RevisionReason, RevisionMessage: p.RevisionMessage,
		ScoresPublished: s.in.PublishScores}
	for i := range st.Applications {
		app := &st.Applications[i]
		o, ok := app.outcome(p.Stage)
		if !ok {
			continue
		}
		e := ResultEntry{ApplicationID: app.ID, Outcome: o.Outcome, Reason: o.Reason, ReasonMessage: o.ReasonMessage}
		if p.Stage == StageAdministrativeScreening && o.Outcome == OutcomeFail {
			e.Unmet = app.unmetItems()
		}
		if p.Stage == StageCompetencyTest && app.Competency != nil {
			e.Category = app.Competency.Category
		}
		if p.Stage == StageCommitteeDecision {
			e.Rank = app.Rank
		}
		if s.in.PublishScores {
			e.Scores = s.publishedScores(p.Stage, app)
			if p.Stage == StageCommitteeDecision {
				e.FinalScore = app.Final
			}
		}
		r.Entries = append(r.Entries, e)
	}
	if p.Stage == StageCommitteeDecision {
		sortByRank(r.Entries)
	}
	return r
}

func (s *selection) publishedScores(stage Stage, app *Application) []ComponentScore {
	switch stage {
	case StageCompetencyTest:
		if app.Competency != nil {
			return app.Competency.Scores
		}
	case StageInterview:
		if mean, ok := interviewMean(app); ok {
			return []ComponentScore{{Component: ComponentInterview, Score: mean}}
		}
	case StageCommitteeDecision:
		return componentScores(app)
	}
	return nil
}

// openNextStage runs when a published stage's objection window has passed and no objection
// is pending. It holds the lock.
func (s *selection) openNextStage(ctx workflow.Context) error {
	next := s.st.clone()
	now := s.now(ctx)
	if next.Stage == StageCommitteeDecision {
		return s.settleShortlist(ctx, next, now)
	}
	from := next.Stage
	next.Stage, next.Phase, next.StageOpenedAt = from.next(), PhaseOpen, now
	prune(next)
	if next.Stage == StageCommitteeDecision {
		s.computeFinals(next)
	}
	active := 0
	var changes []ApplicationChange
	for i := range next.Applications {
		a := &next.Applications[i]
		if a.State != AppInProgress {
			continue
		}
		active++
		// The committee decides on the final scores, so the store gets them as the
		// decision stage opens; every candidate still in the running learns the new stage.
		changes = append(changes, ApplicationChange{ApplicationID: a.ID, State: a.State, Stage: next.Stage, FinalScore: a.Final})
	}
	m := code(CodeEventStageOpened, "stage", string(next.Stage), "count", strconv.Itoa(active))
	s.logger.Info("stage opened", "stage", next.Stage, "candidates", active)
	return s.commit(ctx, next, CommandRecord{Kind: EvtStageOpened, Actor: systemActor(), Message: &m, Applications: changes})
}

// prune drops the stage records of applications that are out of the running once the stage
// that ended them can no longer change (its objection window has passed and every objection
// is answered). They stay in the store, the published results and the history; the workflow
// keeps only what the status query needs. Without this, a selection of a few thousand
// applicants would carry every eliminated application's facts and score sheets into each
// continue-as-new input, against Temporal's 2 MB payload limit.
//
// Likewise, once screening is settled, the facts, the automatic check and the screening
// verdict of every application are final (the verdict stays in Outcomes).
func prune(st *SelectionState) {
	for i := range st.Applications {
		a := &st.Applications[i]
		if st.Stage != StageAdministrativeScreening {
			a.Facts, a.Eligibility, a.Screening, a.Checklist = EligibilityFacts{}, nil, nil, nil
		}
		if a.State != AppEliminated && a.State != AppWithdrawn {
			continue
		}
		st.Applications[i] = Application{ID: a.ID, Candidate: a.Candidate, SubmittedAt: a.SubmittedAt,
			State: a.State, EliminatedAt: a.EliminatedAt, Reason: a.Reason, ReasonMessage: a.ReasonMessage}
	}
}
