package workflows

import (
	"fmt"
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
		return bi(RejectWrongStage, fmt.Sprintf("the result of %s is not corrected this way", stageName(a.Stage).EN),
			fmt.Sprintf("hasil %s tidak diperbaiki dengan cara ini", stageName(a.Stage).ID))
	}
	if a.Stage == st.Stage && st.Phase == PhaseOpen {
		return bi(RejectWrongStage, fmt.Sprintf("the result of %s is not published yet; record the corrected results as a correction", stageName(a.Stage).EN),
			fmt.Sprintf("hasil %s belum diumumkan; catat hasil yang benar sebagai perbaikan pencatatan hasil", stageName(a.Stage).ID))
	}
	if a.Stage != st.Stage || st.Phase != PhaseObjections {
		return bi(RejectWrongStage, fmt.Sprintf("the result of %s can no longer be corrected: the next stage has opened", stageName(a.Stage).EN),
			fmt.Sprintf("hasil %s tidak dapat diperbaiki lagi karena tahap berikutnya sudah dimulai", stageName(a.Stage).ID))
	}
	if m := checkText("reason for the correction", "alasan perbaikan", a.Reason, true); m != nil {
		return m
	}
	if len(a.Results) == 0 || len(a.Results) > MaxBatch {
		m := msg(RejectInvalidArgument, "send between 1 and %d results per request, not %d", "kirim 1 sampai %d hasil per permintaan, bukan %d", MaxBatch, len(a.Results))
		return &m
	}
	for i, e := range a.Results {
		for _, prev := range a.Results[:i] {
			if prev.ApplicationID == e.ApplicationID {
				m := msg(RejectDuplicate, "application %s appears twice in this request", "lamaran %s tercantum dua kali dalam permintaan ini", e.ApplicationID)
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
			m := msg(RejectWrongStage, "application %s is not part of this result", "lamaran %s tidak termasuk dalam hasil ini", app.ID)
			return &m
		}
		if st.recused(a.Actor.Subject, app.ID) {
			m := msg(RejectWrongActor, "you declared a conflict of interest with application %s and cannot correct its result",
				"Anda telah menyatakan konflik kepentingan dengan lamaran %s sehingga tidak dapat memperbaiki hasilnya", app.ID)
			return &m
		}
		if oi := st.objection(ObjectionID(a.Stage, app.ID)); oi >= 0 && st.Objections[oi].State == ObjectionPending {
			m := msg(RejectWrongStage, "application %s has an objection waiting for an answer; correct its result by answering the objection",
				"lamaran %s memiliki sanggah yang belum dijawab; perbaiki hasilnya dengan menjawab sanggah tersebut", app.ID)
			return &m
		}
		if m := checkText("reason", "alasan", e.Reason, e.Outcome == OutcomeFail); m != nil {
			m.EN += fmt.Sprintf(" (application %s)", app.ID)
			m.ID += fmt.Sprintf(" (lamaran %s)", app.ID)
			return m
		}
		switch a.Stage {
		case StageAdministrativeScreening, StageInterview:
			if (e.Outcome != OutcomePass && e.Outcome != OutcomeFail) || len(e.Scores) > 0 {
				m := msg(RejectInvalidArgument, "a corrected result of this stage is a verdict, pass or fail, without scores (application %s)",
					"perbaikan hasil tahap ini berupa keputusan lulus atau tidak lulus, tanpa nilai (lamaran %s)", app.ID)
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
			for _, e := range a.Results {
				if r, ok := replaced(stage, &s.st.Applications[s.st.app(e.ApplicationID)], a.Actor.Subject); ok {
					rec.Replaced = append(rec.Replaced, r)
				}
				app := &next.Applications[next.app(e.ApplicationID)]
				var outcome Outcome
				var reason string
				switch stage {
				case StageAdministrativeScreening:
					app.Screening = &Verdict{Outcome: e.Outcome, Reason: e.Reason, By: a.Actor.Subject, At: now}
					outcome, reason = screeningOutcome(app)
				case StageCompetencyTest:
					app.Competency = competencyRecord(e, a.Actor.Subject, now)
					outcome, reason = s.competencyOutcome(app)
				case StageInterview:
					outcome, reason = e.Outcome, e.Reason
				}
				changes = append(changes, setOutcome(app, stage, outcome, reason))
			}
			// checkCorrectResult has just computed the same window, so this cannot fail.
			_, deadline, _ := s.cal().WindowClose(now, s.in.Windows.ObjectionDays)
			prev := s.publication(stage)
			pub := Publication{Stage: stage, Revision: prev.Revision + 1, PublishedAt: now, ObjectionDeadline: deadline, RevisionReason: a.Reason}
			next.setPublication(pub)
			en, id := s.deadline(deadline)
			m := bi(CmdCorrectResult,
				fmt.Sprintf("The committee chair corrected the result of %s (revision %d): %s. Objections may be filed until %s.", stageName(stage).EN, pub.Revision, a.Reason, en),
				fmt.Sprintf("Ketua panitia seleksi memperbaiki hasil %s (revisi %d): %s. Sanggah dapat diajukan sampai %s.", stageName(stage).ID, pub.Revision, a.Reason, id))
			return CommandRecord{Kind: CmdCorrectResult, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{CorrectResult: &rec},
				Applications: changes, Result: s.stageResult(next, pub), Message: m}
		})
}
