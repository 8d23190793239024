package workflows

import (
	"fmt"
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
		return bi(RejectWrongStage, fmt.Sprintf("no results are recorded during %s", stageName(st.Stage).EN),
			fmt.Sprintf("tidak ada hasil yang dicatat pada tahap %s", stageName(st.Stage).ID))
	}
	if st.Phase != PhaseOpen {
		return bi(RejectWrongStage,
			fmt.Sprintf("the result of %s is already published; a correction now goes through an objection or the chair's correction", stageName(st.Stage).EN),
			fmt.Sprintf("hasil %s sudah diumumkan; perbaikan kini hanya melalui sanggah atau perbaikan oleh ketua panitia", stageName(st.Stage).ID))
	}
	if len(a.Results) == 0 || len(a.Results) > MaxBatch {
		m := msg(RejectInvalidArgument, "send between 1 and %d results per request, not %d", "kirim 1 sampai %d hasil per permintaan, bukan %d", MaxBatch, len(a.Results))
		return &m
	}
	if m := checkText("reason for the correction", "alasan perbaikan", a.Reason, a.Correct); m != nil {
		return m
	}
	// The set only answers "seen before?"; nothing iterates over it.
	seen := make(map[string]bool, len(a.Results))
	for _, e := range a.Results {
		if seen[e.ApplicationID] {
			m := msg(RejectDuplicate, "application %s appears twice in this request", "lamaran %s tercantum dua kali dalam permintaan ini", e.ApplicationID)
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
			m := msg(RejectWrongStage, "application %s no longer takes part in this stage", "lamaran %s tidak lagi mengikuti tahap ini", app.ID)
			return &m
		}
		if st.recused(mem.Subject, app.ID) {
			m := msg(RejectWrongActor, "you declared a conflict of interest with application %s and cannot record its results",
				"Anda telah menyatakan konflik kepentingan dengan lamaran %s sehingga tidak dapat mencatat hasilnya", app.ID)
			return &m
		}
		if m := checkText("reason", "alasan", e.Reason, e.Outcome == OutcomeFail); m != nil {
			m.EN += fmt.Sprintf(" (application %s)", app.ID)
			m.ID += fmt.Sprintf(" (lamaran %s)", app.ID)
			return m
		}
		var m *Message
		switch st.Stage {
		case StageAdministrativeScreening:
			m = validateScreeningEntry(app, e)
			if m == nil && app.Screening != nil && !a.Correct {
				m = alreadyRecorded(app.ID)
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
		if m != nil {
			return m
		}
	}
	return nil
}

func alreadyRecorded(id string) *Message {
	m := msg(RejectDuplicate, "a result for application %s is already recorded; to replace it, send it as a correction with a reason",
		"hasil untuk lamaran %s sudah dicatat; untuk menggantinya, kirim sebagai perbaikan dengan alasan", id)
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
			for _, e := range a.Results {
				if naming {
					if r, ok := replaced(next.Stage, &s.st.Applications[s.st.app(e.ApplicationID)], a.Actor.Subject); ok {
						corr.Replaced = append(corr.Replaced, r)
					}
				}
				app := &next.Applications[next.app(e.ApplicationID)]
				switch next.Stage {
				case StageAdministrativeScreening:
					app.Screening = &Verdict{Outcome: e.Outcome, Reason: e.Reason, By: a.Actor.Subject, At: now}
				case StageCompetencyTest:
					app.Competency = competencyRecord(e, a.Actor.Subject, now)
				case StageInterview:
					setInterviewScore(app, a.Actor.Subject, e, now)
				}
			}
			if naming {
				return CommandRecord{Kind: CmdRecordResults, Actor: a.Actor, Reason: a.Reason,
					Args: CommandArgs{RecordCorrection: &corr, RecordResults: &corr.RecordResultsArgs}}
			}
			return CommandRecord{Kind: CmdRecordResults, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{RecordResults: &a}}
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
		return bi(RejectWrongStage, "the committee decision closes with the decision itself, not by advancing",
			"tahap keputusan panitia ditutup dengan keputusan itu sendiri, bukan dengan melanjutkan tahap")
	}
	if !scoredStage(st.Stage) {
		return bi(RejectWrongStage, fmt.Sprintf("%s closes by itself at the end of its window", stageName(st.Stage).EN),
			fmt.Sprintf("%s ditutup otomatis pada akhir jangka waktunya", stageName(st.Stage).ID))
	}
	if st.Phase != PhaseOpen {
		return bi(RejectWrongStage, fmt.Sprintf("the result of %s is already published", stageName(st.Stage).EN),
			fmt.Sprintf("hasil %s sudah diumumkan", stageName(st.Stage).ID))
	}
	if m := checkText("reason", "alasan", a.Reason, false); m != nil {
		return m
	}
	if missing := s.missingResults(st); len(missing) > 0 {
		shown := missing
		if len(shown) > 5 {
			shown = shown[:5]
		}
		m := msg(RejectIncomplete, "%d application(s) still lack a result, such as %s",
			"%d lamaran belum memiliki hasil, antara lain %s", len(missing), strings.Join(shown, ", "))
		return &m
	}
	if _, _, err := s.cal().WindowClose(now, s.in.Windows.ObjectionDays); err != nil {
		m := calendarMessage(err)
		return &m
	}
	return nil
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
				if !participates(stage, app) {
					continue
				}
				outcome, reason := s.stageOutcome(stage, app)
				changes = append(changes, setOutcome(app, stage, outcome, reason))
			}
			// checkAdvance has just computed the same window, so this cannot fail.
			_, deadline, _ := s.cal().WindowClose(now, s.in.Windows.ObjectionDays)
			pub := Publication{Stage: stage, Revision: 1, PublishedAt: now, ObjectionDeadline: deadline}
			next.setPublication(pub)
			next.Phase = PhaseObjections
			en, id := s.deadline(deadline)
			m := bi(CmdAdvance, fmt.Sprintf("The result of %s is published; objections may be filed until %s.", stageName(stage).EN, en),
				fmt.Sprintf("Hasil %s diumumkan; sanggah dapat diajukan sampai %s.", stageName(stage).ID, id))
			return CommandRecord{Kind: CmdAdvance, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Advance: &a},
				Applications: changes, Result: s.stageResult(next, pub), Message: m}
		})
}

// stageOutcome is the verdict on an application when its stage closes.
func (s *selection) stageOutcome(stage Stage, app *Application) (Outcome, string) {
	switch stage {
	case StageAdministrativeScreening:
		return screeningOutcome(app)
	case StageCompetencyTest:
		return s.competencyOutcome(app)
	case StageInterview:
		return s.interviewOutcome(app)
	}
	return OutcomePass, ""
}

// setOutcome records the verdict of a stage on an application and moves its state.
func setOutcome(app *Application, stage Stage, outcome Outcome, reason string) ApplicationChange {
	replaced := false
	for i := range app.Outcomes {
		if app.Outcomes[i].Stage == stage {
			app.Outcomes[i] = StageOutcome{Stage: stage, Outcome: outcome, Reason: reason}
			replaced = true
		}
	}
	if !replaced {
		app.Outcomes = append(app.Outcomes, StageOutcome{Stage: stage, Outcome: outcome, Reason: reason})
	}
	if outcome == OutcomeFail {
		app.State, app.EliminatedAt, app.Reason = AppEliminated, stage, reason
	} else {
		app.State, app.EliminatedAt, app.Reason = AppInProgress, "", ""
	}
	return ApplicationChange{ApplicationID: app.ID, State: app.State, Stage: stage, Reason: reason}
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
		ObjectionDeadline: p.ObjectionDeadline, RevisionReason: p.RevisionReason, ScoresPublished: s.in.PublishScores}
	for i := range st.Applications {
		app := &st.Applications[i]
		o, ok := app.outcome(p.Stage)
		if !ok {
			continue
		}
		e := ResultEntry{ApplicationID: app.ID, Outcome: o.Outcome, Reason: o.Reason}
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
	m := bi(EvtStageOpened, fmt.Sprintf("%s has started with %d candidate(s).", capitalize(stageName(next.Stage).EN), active),
		fmt.Sprintf("Tahap %s dimulai dengan %d peserta.", stageName(next.Stage).ID, active))
	s.logger.Info("stage opened", "stage", next.Stage, "candidates", active)
	return s.commit(ctx, next, CommandRecord{Kind: EvtStageOpened, Actor: systemActor(), Message: m, Applications: changes})
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
			a.Facts, a.Eligibility, a.Screening = EligibilityFacts{}, nil, nil
		}
		if a.State != AppEliminated && a.State != AppWithdrawn {
			continue
		}
		st.Applications[i] = Application{ID: a.ID, Candidate: a.Candidate, SubmittedAt: a.SubmittedAt,
			State: a.State, EliminatedAt: a.EliminatedAt, Reason: a.Reason}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
