package workflows

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Objections (sanggah): after a stage result is published, each candidate who took part may
// file one objection against it within the objection window. The committee answers each; an
// accepted objection corrects the result and re-publishes it. The next stage does not open
// while any objection is unanswered (see systemStep).
//
// One objection per candidate per published revision that opened an objection window
// (ChangeIDObjectionPerRevision): the first publication opens one, and so does each chair's
// correction (correctResult), which publishes a result the candidate has not yet been able to
// object to. An accepted objection's re-publication opens no new window (it keeps the
// deadline of the window the objection was filed in) and so gives no new objection: it only
// grants what the objector asked for, within a window every candidate already had, and a
// fresh objection right without a fresh window would be a right that cannot be exercised
// fairly by all. The revisions it publishes share the window, and objections to them are
// objections of that window. Runs recorded before the change keep one objection per stage.

// ChangeIDObjectionPerRevision marks runs in which a chair's correction gives each candidate
// a new objection against the corrected revision.
const ChangeIDObjectionPerRevision = "objection-per-revision"

// Objection is one objection and its answer.
type Objection struct {
	// ID is "<stage>:<application>" for an objection in the window of a stage's first
	// publication and "<stage>-r<revision>:<application>" for one in the window a later
	// revision opened (ObjectionRevisionID): unique because there is one objection per
	// application per window, and stable across replays.
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
	// Revision is the revision whose publication opened the window the objection was filed
	// in; 0 means the first (kept so that the state of older runs is unchanged).
	Revision int `json:"revision,omitempty"`
	// Items are the contested requirement items, Document the clarifying document, and
	// ItemAnswers the committee's answer to each item.
	Items       []string     `json:"items,omitempty"`
	Document    string       `json:"document,omitempty"`
	ItemAnswers []ItemAnswer `json:"itemAnswers,omitempty"`
	// Reminded and Overdue say that the committee was reminded of the answer's deadline and
	// that the deadline passed unanswered (escalated to the chair and the secretariat); see
	// ChangeIDDeadlineTimers.
	Reminded bool `json:"reminded,omitempty"`
	Overdue  bool `json:"overdue,omitempty"`
}

// ObjectionID is the ID of the objection against the first published result of stage for
// an application.
func ObjectionID(stage Stage, applicationID string) string {
	return ObjectionRevisionID(stage, 1, applicationID)
}

// ObjectionRevisionID is the ID of the objection against revision of the result of stage
// for an application. Revision 1 (or 0) keeps the format of ObjectionID, so that objections
// recorded before revisions counted keep their IDs.
func ObjectionRevisionID(stage Stage, revision int, applicationID string) string {
	prefix := strings.TrimPrefix(string(stage), "STAGE_")
	if revision > 1 {
		prefix += "-r" + strconv.Itoa(revision)
	}
	return prefix + ":" + applicationID
}

// ParseObjectionID splits an objection ID into its stage, revision (1 for the first
// publication) and application; ok is false when id is not an objection ID.
func ParseObjectionID(id string) (stage Stage, revision int, applicationID string, ok bool) {
	prefix, app, found := strings.Cut(id, ":")
	if !found || prefix == "" || app == "" {
		return "", 0, "", false
	}
	revision = 1
	if name, rev, has := strings.Cut(prefix, "-r"); has {
		n, err := strconv.Atoi(rev)
		if err != nil || n < 2 || strconv.Itoa(n) != rev {
			return "", 0, "", false
		}
		prefix, revision = name, n
	}
	return Stage("STAGE_" + prefix), revision, app, true
}

// windowRevision is the revision whose publication opened p's objection window.
func (p Publication) windowRevision() int {
	if p.WindowRevision > 1 {
		return p.WindowRevision
	}
	return 1
}

// pendingObjection is whether the application has an unanswered objection against the
// result of stage, in any window.
func (st *SelectionState) pendingObjection(stage Stage, applicationID string) bool {
	for _, o := range st.Objections {
		if o.Stage == stage && o.ApplicationID == applicationID && o.State == ObjectionPending {
			return true
		}
	}
	return false
}

// objectionIDFor is the ID an objection filed now by applicationID against stage gets: one
// per window when revisions count, one per stage otherwise.
func (s *selection) objectionIDFor(stage Stage, applicationID string) string {
	if !s.objectionRevisions {
		return ObjectionID(stage, applicationID)
	}
	return ObjectionRevisionID(stage, s.publication(stage).windowRevision(), applicationID)
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
		m := code("reject.wrong_actor.objection_own")
		return &m
	}
	if a.Stage != st.Stage || st.Phase != PhaseObjections {
		p := s.publication(a.Stage)
		if !p.ObjectionDeadline.IsZero() && !now.Before(p.ObjectionDeadline) {
			return s.windowClosed(a.Stage, p.ObjectionDeadline)
		}
		m := code("reject.wrong_stage.nothing_to_object", "stage", string(a.Stage))
		return &m
	}
	p := s.publication(st.Stage)
	if !now.Before(p.ObjectionDeadline) {
		return s.windowClosed(a.Stage, p.ObjectionDeadline)
	}
	if _, ok := app.outcome(a.Stage); !ok || app.State == AppWithdrawn {
		m := code("reject.wrong_stage.not_in_result", "application", app.ID)
		return &m
	}
	if s.objectionRevisions && a.Revision != 0 {
		// A revision named explicitly must be one published in the current window: an
		// older one has been replaced (its window is over), a later one does not exist.
		if a.Revision > p.Revision {
			m := code("reject.not_found.objection_revision", "stage", string(a.Stage), "revision", strconv.Itoa(a.Revision))
			return &m
		}
		if a.Revision < p.windowRevision() {
			m := code("reject.out_of_window.objection_revision_replaced", "stage", string(a.Stage),
				"revision", strconv.Itoa(a.Revision), "current", strconv.Itoa(p.Revision))
			return &m
		}
	}
	if st.objection(s.objectionIDFor(a.Stage, app.ID)) >= 0 {
		m := code("reject.duplicate.objection_filed")
		return &m
	}
	if m := s.checkObjectionRequirements(app, a); m != nil {
		return m
	}
	return checkText("objection_reason", a.Reason, true)
}

// checkObjectionRequirements checks the contested items and the clarifying document of an
// objection. Against a screening result with a checklist, an application with unmet items
// names the items it contests; elsewhere an objection names none. A document needs the
// selection's leave.
func (s *selection) checkObjectionRequirements(app *Application, a FileObjectionArgs) *Message {
	if a.Stage == StageAdministrativeScreening && app.Checklist != nil {
		// An objection naming no item contests the result as a whole and is answered with
		// a corrected verdict, as before the checklist.
		if m := checkObjectionItems(app, a.Items); m != nil {
			return m
		}
	} else if len(a.Items) > 0 {
		m := code("reject.invalid_argument.objection_items_screening_only")
		return &m
	}
	if a.Document != "" {
		if !s.in.ObjectionDocuments {
			m := code("reject.invalid_argument.objection_document_not_allowed")
			return &m
		}
		if id, ok := strings.CutPrefix(a.Document, "documents/"); !ok || !itemIDPattern.MatchString(strings.ToLower(id)) {
			m := code("reject.invalid_argument.objection_document_name")
			return &m
		}
	}
	return nil
}

func (s *selection) windowClosed(stage Stage, deadline time.Time) *Message {
	m := code("reject.out_of_window.objection_window_ended", "stage", string(stage),
		"deadline", deadline.UTC().Format(time.RFC3339), "zone", string(s.in.Calendar.Zone))
	return &m
}

func (s *selection) fileObjection(ctx workflow.Context, a FileObjectionArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkFileObjection(now, a) },
		func(next *SelectionState, now time.Time, res *UpdateResult) CommandRecord {
			o := Objection{ID: s.objectionIDFor(a.Stage, a.ApplicationID), ApplicationID: a.ApplicationID, Stage: a.Stage,
				Candidate: a.Actor.Subject, Reason: a.Reason, FiledAt: now, State: ObjectionPending,
				Items: slices.Clone(a.Items), Document: a.Document}
			if s.objectionRevisions {
				if r := s.publication(a.Stage).windowRevision(); r > 1 {
					o.Revision = r
				}
			}
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
		m := code("reject.not_found.objection", "objection", a.ObjectionID)
		return &m
	}
	o := st.Objections[oi]
	if o.State != ObjectionPending {
		m := code("reject.duplicate.objection_answered")
		return &m
	}
	if st.recused(mem.Subject, o.ApplicationID) {
		m := code("reject.wrong_actor.recused_objection")
		return &m
	}
	if m := checkText("answer", a.Answer, true); m != nil {
		return m
	}
	if len(o.Items) > 0 || len(a.Items) > 0 {
		return checkItemAnswers(o, a)
	}
	if !a.Accept {
		if a.Correction != nil {
			m := code("reject.invalid_argument.rejected_with_correction")
			return &m
		}
		return nil
	}
	app := &st.Applications[st.app(o.ApplicationID)]
	c := a.Correction
	if c == nil {
		if o.Stage == StageCommitteeDecision {
			return nil // accepting voids the decision; the committee decides again
		}
		m := code("reject.incomplete.correction_required")
		return &m
	}
	if c.ApplicationID != "" && c.ApplicationID != o.ApplicationID {
		m := code("reject.invalid_argument.correction_other_application")
		return &m
	}
	if m := checkText("reason", c.Reason, c.Outcome == OutcomeFail); m != nil {
		return m
	}
	switch o.Stage {
	case StageAdministrativeScreening:
		if len(c.Items) > 0 {
			if app.Checklist == nil {
				return noChecklist(app.ID)
			}
			return checkItemVerdicts(app, *c, true)
		}
		// The automatic check does not bind a correction: the objection is the reason.
		if c.Outcome != OutcomePass && c.Outcome != OutcomeFail {
			m := code("reject.invalid_argument.correction_screening_verdict")
			return &m
		}
	case StageCompetencyTest:
		return s.validateCompetencyEntry(app, *c)
	case StageInterview:
		if c.Outcome != OutcomePass && c.Outcome != OutcomeFail || len(c.Scores) > 0 {
			m := code("reject.invalid_argument.correction_interview")
			return &m
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
			o.ItemAnswers = slices.Clone(a.Items)
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
			if len(a.Items) > 0 {
				// The accepted items flip to met; the outcome follows from the items again.
				for _, ans := range a.Items {
					if ans.Accepted {
						it := &app.Checklist[app.item(ans.Item)]
						it.Status, it.Note, it.By, it.At, it.Objection = ItemMet, ans.Answer, a.Actor.Subject, now, o.ID
					}
				}
				if app.Screening != nil {
					v := *app.Screening
					v.Outcome = ""
					app.Screening = &v
				}
				rec.Checklists = []ApplicationChecklist{checklistChange(app)}
			}
			revisionReason, revisionWhy := s.reason(code(CodeReasonObjectionAccepted, "objection", o.ID, "answer", a.Answer), englishOnly)

			if o.Stage == StageCommitteeDecision {
				rec.Applications = s.voidDecision(next, app, a.Correction, revisionReason, revisionWhy)
				return rec
			}
			var outcome Outcome
			var reason string
			var why *Message
			switch o.Stage {
			case StageAdministrativeScreening:
				switch {
				case a.Correction != nil && app.Checklist != nil:
					// A corrected verdict decides the items; the answer is the note of the
					// items it overrides when the correction gives no reason.
					c := *a.Correction
					if blank(c.Reason) {
						c.Reason = a.Answer
					}
					screen(app, c, a.Actor.Subject, now)
					app.Screening.Reason = a.Correction.Reason
					rec.Checklists = []ApplicationChecklist{checklistChange(app)}
				case a.Correction != nil:
					app.Screening = &Verdict{Outcome: a.Correction.Outcome, Reason: a.Correction.Reason, By: a.Actor.Subject, At: now}
				}
				outcome, reason, why = screeningOutcome(app)
			case StageCompetencyTest:
				app.Competency = competencyRecord(*a.Correction, a.Actor.Subject, now)
				outcome, reason, why = s.competencyOutcome(app)
			case StageInterview:
				outcome, reason = a.Correction.Outcome, a.Correction.Reason
			}
			rec.Applications = []ApplicationChange{setOutcome(app, o.Stage, outcome, reason, why)}
			prev := s.publication(o.Stage)
			pub := prev
			pub.Revision, pub.PublishedAt, pub.RevisionReason, pub.RevisionMessage = prev.Revision+1, now, revisionReason, revisionWhy
			next.setPublication(pub)
			rec.Result = s.stageResult(next, pub)
			return rec
		})
}

// voidDecision applies an accepted objection against the committee decision: score
// corrections are applied, the final scores recomputed, and the decision set aside so that
// the committee decides again (re-publishing the result).
func (s *selection) voidDecision(next *SelectionState, app *Application, c *ResultInput, reason string, why *Message) []ApplicationChange {
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
			a.State, a.Rank, a.EliminatedAt, a.Reason, a.ReasonMessage = AppInProgress, 0, "", "", nil
			changes = append(changes, ApplicationChange{ApplicationID: a.ID, State: a.State, Stage: StageCommitteeDecision, Reason: reason, ReasonMessage: why})
		}
	}
	s.computeFinals(next)
	next.Decision = nil
	next.Phase = PhaseOpen
	p := s.publication(StageCommitteeDecision)
	p.RevisionReason, p.RevisionMessage = reason, why
	next.setPublication(p)
	return changes
}
