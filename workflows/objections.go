package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Objections (sanggah): after a stage result is published, each candidate who took part may
// file one objection against it within the objection window. The committee answers each; an
// accepted objection corrects the result and re-publishes it. The next stage does not open
// while any objection is unanswered (see systemStep).

// Objection is one objection and its answer.
type Objection struct {
	// ID is "<stage>:<application>", unique because there is one objection per application
	// per stage, and stable across replays.
	ID            string         `json:"id"`
	ApplicationID string         `json:"applicationId"`
	Stage         Stage          `json:"stage"`
	Candidate     string         `json:"candidate"`
	Reason        string         `json:"reason"`
	FiledAt       time.Time      `json:"filedAt"`
	State         ObjectionState `json:"state"`
	Answer        string         `json:"answer,omitempty"`
	AnsweredBy    string         `json:"answeredBy,omitempty"`
	AnsweredAt    time.Time      `json:"answeredAt,omitzero"`
	Correction    *ResultInput   `json:"correction,omitempty"`
}

// ObjectionID is the ID of the objection against the result of stage for an application.
func ObjectionID(stage Stage, applicationID string) string {
	return strings.TrimPrefix(string(stage), "STAGE_") + ":" + applicationID
}

func (st *SelectionState) objection(id string) int {
	for i := range st.Objections {
		if st.Objections[i].ID == id {
			return i
		}
	}
	return -1
}

func (s *selection) pendingObjections(stage Stage) int {
	n := 0
	for _, o := range s.st.Objections {
		if o.Stage == stage && o.State == ObjectionPending {
			n++
		}
	}
	return n
}

func (s *selection) checkFileObjection(now time.Time, a FileObjectionArgs) *Message {
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	i := st.app(a.ApplicationID)
	if i < 0 {
		m := errNoApplication(a.ApplicationID)
		return &m
	}
	app := &st.Applications[i]
	if a.Actor.Role != RoleCandidate || a.Actor.Subject != app.Candidate {
		return bi(RejectWrongActor, "only the candidate may object, and only about their own application",
			"sanggah hanya dapat diajukan oleh peserta sendiri atas lamarannya sendiri")
	}
	if a.Stage != st.Stage || st.Phase != PhaseObjections {
		p := s.publication(a.Stage)
		if !p.ObjectionDeadline.IsZero() && !now.Before(p.ObjectionDeadline) {
			return s.windowClosed(a.Stage, p.ObjectionDeadline)
		}
		return bi(RejectWrongStage, fmt.Sprintf("there is no published result of %s open to objections now", stageName(a.Stage).EN),
			fmt.Sprintf("saat ini tidak ada hasil %s yang dapat disanggah", stageName(a.Stage).ID))
	}
	p := s.publication(st.Stage)
	if !now.Before(p.ObjectionDeadline) {
		return s.windowClosed(a.Stage, p.ObjectionDeadline)
	}
	if _, ok := app.outcome(a.Stage); !ok || app.State == AppWithdrawn {
		m := msg(RejectWrongStage, "application %s is not part of this result", "lamaran %s tidak termasuk dalam hasil ini", app.ID)
		return &m
	}
	if st.objection(ObjectionID(a.Stage, app.ID)) >= 0 {
		return bi(RejectDuplicate, "you have already filed an objection against this result; one objection per stage is allowed",
			"Anda sudah mengajukan sanggah atas hasil ini; sanggah hanya satu kali per tahap")
	}
	return checkText("reason for the objection", "alasan sanggah", a.Reason, true)
}

func (s *selection) windowClosed(stage Stage, deadline time.Time) *Message {
	en, id := s.deadline(deadline)
	return bi(RejectOutOfWindow, fmt.Sprintf("the objection window for %s ended at %s", stageName(stage).EN, en),
		fmt.Sprintf("masa sanggah %s berakhir pada %s", stageName(stage).ID, id))
}

func (s *selection) fileObjection(ctx workflow.Context, a FileObjectionArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkFileObjection(now, a) },
		func(next *SelectionState, now time.Time, res *UpdateResult) CommandRecord {
			o := Objection{ID: ObjectionID(a.Stage, a.ApplicationID), ApplicationID: a.ApplicationID, Stage: a.Stage,
				Candidate: a.Actor.Subject, Reason: a.Reason, FiledAt: now, State: ObjectionPending}
			next.Objections = append(next.Objections, o)
			res.ObjectionID = o.ID
			return CommandRecord{Kind: CmdFileObjection, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{FileObjection: &a}, Objection: &o}
		})
}

func (s *selection) checkAnswerObjection(_ time.Time, a AnswerObjectionArgs) *Message {
	mem, m := s.memberOfOpenSelection(a.Actor)
	if m != nil {
		return m
	}
	st := s.st
	oi := st.objection(a.ObjectionID)
	if oi < 0 {
		m := msg(RejectNotFound, "there is no objection %q in this selection", "tidak ada sanggah %q dalam seleksi ini", a.ObjectionID)
		return &m
	}
	o := st.Objections[oi]
	if o.State != ObjectionPending {
		return bi(RejectDuplicate, "this objection has already been answered", "sanggah ini sudah dijawab")
	}
	if st.recused(mem.Subject, o.ApplicationID) {
		return bi(RejectWrongActor, "you declared a conflict of interest with this candidate and cannot answer the objection",
			"Anda telah menyatakan konflik kepentingan dengan peserta ini sehingga tidak dapat menjawab sanggahnya")
	}
	if m := checkText("answer", "jawaban", a.Answer, true); m != nil {
		return m
	}
	if !a.Accept {
		if a.Correction != nil {
			return bi(RejectInvalidArgument, "a rejected objection changes nothing; leave the correction out",
				"sanggah yang ditolak tidak mengubah hasil; kosongkan perbaikan")
		}
		return nil
	}
	app := &st.Applications[st.app(o.ApplicationID)]
	c := a.Correction
	if c == nil {
		if o.Stage == StageCommitteeDecision {
			return nil // accepting voids the decision; the committee decides again
		}
		return bi(RejectIncomplete, "accepting an objection needs the corrected result", "menerima sanggah wajib disertai hasil yang diperbaiki")
	}
	if c.ApplicationID != "" && c.ApplicationID != o.ApplicationID {
		return bi(RejectInvalidArgument, "the correction must be for the application the objection is about",
			"perbaikan harus untuk lamaran yang disanggah")
	}
	if m := checkText("reason", "alasan", c.Reason, c.Outcome == OutcomeFail); m != nil {
		return m
	}
	switch o.Stage {
	case StageAdministrativeScreening:
		// The automatic check does not bind a correction: the objection is the reason.
		if c.Outcome != OutcomePass && c.Outcome != OutcomeFail {
			return bi(RejectInvalidArgument, "the corrected screening verdict must be pass or fail", "keputusan seleksi administrasi yang diperbaiki harus memenuhi atau tidak memenuhi syarat")
		}
	case StageCompetencyTest:
		return s.validateCompetencyEntry(app, *c)
	case StageInterview:
		if c.Outcome != OutcomePass && c.Outcome != OutcomeFail || len(c.Scores) > 0 {
			return bi(RejectInvalidArgument, "an interview correction sets the verdict (pass or fail); members' scores are corrected by the members",
				"perbaikan hasil wawancara menetapkan kelulusan (lulus atau tidak); nilai anggota diperbaiki oleh anggota sendiri")
		}
	case StageCommitteeDecision:
		return checkScores(app.ID, c.Scores, competencyComponent)
	}
	return nil
}

func (s *selection) answerObjection(ctx workflow.Context, a AnswerObjectionArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkAnswerObjection(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			o := &next.Objections[next.objection(a.ObjectionID)]
			o.Answer, o.AnsweredBy, o.AnsweredAt = a.Answer, a.Actor.Subject, now
			rec := CommandRecord{Kind: CmdAnswerObjection, Actor: a.Actor, Reason: a.Answer, Args: CommandArgs{AnswerObjection: &a}}
			if !a.Accept {
				o.State = ObjectionRejected
				cp := *o
				rec.Objection = &cp
				return rec
			}
			o.State, o.Correction = ObjectionAccepted, a.Correction.clone()
			cp := *o
			rec.Objection = &cp
			app := &next.Applications[next.app(o.ApplicationID)]
			revisionReason := fmt.Sprintf("objection %s accepted: %s", o.ID, a.Answer)

			if o.Stage == StageCommitteeDecision {
				rec.Applications = s.voidDecision(next, app, a.Correction, revisionReason)
				return rec
			}
			var outcome Outcome
			var reason string
			switch o.Stage {
			case StageAdministrativeScreening:
				app.Screening = &Verdict{Outcome: a.Correction.Outcome, Reason: a.Correction.Reason, By: a.Actor.Subject, At: now}
				outcome, reason = screeningOutcome(app)
			case StageCompetencyTest:
				app.Competency = competencyRecord(*a.Correction, a.Actor.Subject, now)
				outcome, reason = s.competencyOutcome(app)
			case StageInterview:
				outcome, reason = a.Correction.Outcome, a.Correction.Reason
			}
			rec.Applications = []ApplicationChange{setOutcome(app, o.Stage, outcome, reason)}
			prev := s.publication(o.Stage)
			pub := prev
			pub.Revision, pub.PublishedAt, pub.RevisionReason = prev.Revision+1, now, revisionReason
			next.setPublication(pub)
			rec.Result = s.stageResult(next, pub)
			return rec
		})
}

// voidDecision applies an accepted objection against the committee decision: score
// corrections are applied, the final scores recomputed, and the decision set aside so that
// the committee decides again (re-publishing the result).
func (s *selection) voidDecision(next *SelectionState, app *Application, c *ResultInput, reason string) []ApplicationChange {
	if c != nil && len(c.Scores) > 0 {
		if app.Competency == nil {
			app.Competency = &CompetencyRecord{Outcome: OutcomePass}
		}
		for _, sc := range c.Scores {
			replaced := false
			for i := range app.Competency.Scores {
				if app.Competency.Scores[i].Component == sc.Component {
					app.Competency.Scores[i].Score, replaced = sc.Score, true
				}
			}
			if !replaced {
				app.Competency.Scores = append(app.Competency.Scores, sc)
			}
		}
	}
	var changes []ApplicationChange
	for i := range next.Applications {
		a := &next.Applications[i]
		if a.State == AppShortlisted || (a.State == AppNotSelected && a.EliminatedAt == StageCommitteeDecision) {
			a.State, a.Rank, a.EliminatedAt, a.Reason = AppInProgress, 0, "", ""
			changes = append(changes, ApplicationChange{ApplicationID: a.ID, State: a.State, Stage: StageCommitteeDecision, Reason: reason})
		}
	}
	s.computeFinals(next)
	next.Decision = nil
	next.Phase = PhaseOpen
	p := s.publication(StageCommitteeDecision)
	p.RevisionReason = reason
	next.setPublication(p)
	return changes
}
