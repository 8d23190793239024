package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Names of the updates and queries of SelectionWorkflow. The API sends the gRPC request_id as
// the Update ID, so a retried request is applied once, and that ID is also the idempotency
// key of the store write the update makes.
const (
	UpdateWithdrawApplication = "withdrawApplication"
	UpdateRecordResults       = "recordResults"
	UpdateDeclareConflict     = "declareConflict"
	UpdateAdvanceStage        = "advanceStage"
	UpdateDecide              = "decide"
	UpdateAppoint             = "appoint"
	UpdateCancel              = "cancel"
	UpdateFileObjection       = "fileObjection"
	UpdateAnswerObjection     = "answerObjection"
	UpdateSupplyHolidays      = "supplyHolidays"
	UpdateCorrectResult       = "correctResult"
	// UpdateResume is declared with the blocked state, in blocked.go; UpdateRecordAbsence
	// with absence, in absence.go.

	// QueryState returns the SelectionState.
	QueryState = "state"
	// QueryApplicationStatus takes an application ID and returns its ApplicationStatus.
	QueryApplicationStatus = "applicationStatus"
)

// MaxBatch is the largest number of applications one update may carry. It keeps an update's
// payload well under Temporal's 2 MB limit per payload; a bigger score sheet is sent in
// several updates.
const MaxBatch = 1000

// MaxReasonLength bounds every free-text field, as the API does.
const MaxReasonLength = 4000

// UpdateResult is what every accepted update returns.
type UpdateResult struct {
	// Seq is the sequence number of the store record the command produced.
	Seq   int64 `json:"seq"`
	Stage Stage `json:"stage"`
	Phase Phase `json:"phase"`
	// ObjectionID is set by fileObjection.
	ObjectionID string `json:"objectionId,omitempty"`
}

// Answer is the UpdateResult the update that produced record r answered. The store keeps it
// in its ledger, so that the API answers a retried request the same in every run of the
// workflow: Temporal remembers an Update ID only within one run.
func (r CommandRecord) Answer() UpdateResult {
	res := UpdateResult{Seq: r.Seq, Stage: r.Stage, Phase: r.Phase}
	if r.Kind == CmdFileObjection && r.Objection != nil {
		res.ObjectionID = r.Objection.ID
	}
	return res
}

// WithdrawArgs withdraws an application after the announcement closed (before, the candidate
// withdraws in the store directly). A candidate withdraws their own application; the
// secretariat (admin) may record a written withdrawal, with a reason.
type WithdrawArgs struct {
	Actor         Actor  `json:"actor"`
	ApplicationID string `json:"applicationId"`
	Reason        string `json:"reason,omitempty"`
}

// RecordResultsArgs records the results of many applications at the current stage: screening
// verdicts, an assessment-center score sheet, or one member's interview scores.
type RecordResultsArgs struct {
	Actor Actor `json:"actor"`
	// Stage must be the current stage; it guards against a sheet meant for another stage.
	Stage   Stage         `json:"stage"`
	Results []ResultInput `json:"results"`
	// Correct replaces results already recorded; it needs a Reason.
	Correct bool   `json:"correct,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ResultInput is the result of one application.
type ResultInput struct {
	ApplicationID string `json:"applicationId"`
	// Outcome: screening needs PASS or FAIL; the competency test takes PASS, FAIL or NONE
	// (NONE lets the thresholds decide); interview scores take NONE (or empty).
	Outcome Outcome `json:"outcome,omitempty"`
	// Reason is required for FAIL and for a PASS that goes against the automatic check or
	// the thresholds. It is published; write it for the candidate.
	Reason string           `json:"reason,omitempty"`
	Scores []ComponentScore `json:"scores,omitempty"`
	// Competency test only.
	Category        CompetencyCategory `json:"category,omitempty"`
	Managerial      Score              `json:"managerial,omitempty"`
	SocioCultural   Score              `json:"socioCultural,omitempty"`
	TrackRecordNote string             `json:"trackRecordNote,omitempty"`
	// Items are per-item verdicts of administrative screening in a selection that screens
	// item by item; the outcome then follows from the items (see checklist.go).
	Items []ItemVerdict `json:"items,omitempty"`
}

// DeclareConflictArgs is a member's declaration of a conflict of interest with applications
// (relative, superior, business partner...). The member is recused from scoring them; interview
// scores the member already gave them are voided.
type DeclareConflictArgs struct {
	Actor          Actor    `json:"actor"`
	ApplicationIDs []string `json:"applicationIds"`
	// Relationship is the member's relationship to the candidates, such as "relative" or
	// "direct supervisor"; Reason explains further. One of them is required. Records made
	// before Relationship existed carry both in Reason ("relationship: explanation").
	Relationship string `json:"relationship,omitempty"`
	Reason       string `json:"reason"`
}

// AdvanceArgs closes the current stage: its result is computed and published, and the
// objection window opens. The next stage opens by itself when the window has passed and every
// objection is answered. Only the chair or the secretary advances.
type AdvanceArgs struct {
	Actor Actor `json:"actor"`
	// Stage must be the current stage, so that a repeated click cannot close two stages.
	Stage  Stage  `json:"stage"`
	Reason string `json:"reason,omitempty"`
}

// DecideArgs is the committee's decision: the best three (or fewer) in rank order, each with a
// reason. The order must follow the final scores and the tie-break rule; the chair submits it.
type DecideArgs struct {
	Actor     Actor            `json:"actor"`
	Shortlist []ShortlistInput `json:"shortlist"`
	// Statement is required when fewer than three candidates qualify.
	Statement string `json:"statement,omitempty"`
}

// ShortlistInput is one name on the shortlist.
type ShortlistInput struct {
	ApplicationID string `json:"applicationId"`
	Reason        string `json:"reason"`
}

// AppointArgs records the appointing official's (PPK) choice among the shortlist and the
// oversight recommendation; the secretariat (admin) submits it. The selection then closes.
type AppointArgs struct {
	Actor         Actor  `json:"actor"`
	ApplicationID string `json:"applicationId"`
	// PPKDecreeRef is the reference of the PPK's appointment decree, which identifies the
	// choice (the API's ppk_decree_ref). Its JSON name, appointingOfficial, is the one the
	// recorded histories carry; it is kept so that they decode unchanged.
	PPKDecreeRef               string `json:"appointingOfficial"`
	OversightRecommendationRef string `json:"oversightRecommendationRef"`
	// Reason is required when the choice is not rank 1 (rank 1 is not binding), in
	// selections from before the justification (see ChangeIDAppointmentJustification); since
	// then it is an optional note for the audit trail.
	Reason string `json:"reason,omitempty"`
	// Justification is why the PPK chose a name the committee did not rank first: required
	// for rank 2 or 3 and published with the appointment.
	Justification string `json:"justification,omitempty"`
}

// CancelArgs cancels the selection at any stage; the secretariat (admin) submits it.
type CancelArgs struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason"`
}

// FileObjectionArgs is a candidate's objection (sanggah) to the published result of a stage,
// one per application per stage, within the objection window.
type FileObjectionArgs struct {
	Actor         Actor  `json:"actor"`
	ApplicationID string `json:"applicationId"`
	Stage         Stage  `json:"stage"`
	Reason        string `json:"reason"`
	// Revision is the published revision objected to; 0 (the default) is the current one.
	// A revision replaced by a chair's correction can no longer be objected to.
	Revision int `json:"revision,omitempty"`
	// Items are the contested requirement items (screening, item by item): each an unmet
	// item of the application.
	Items []string `json:"items,omitempty"`
	// Document is a clarifying document, "documents/{id}", allowed only when the selection
	// allows new documents in objections; the API checks that the candidate owns it.
	Document string `json:"document,omitempty"`
}

// AnswerObjectionArgs is the committee's answer to an objection. Accepting it corrects the
// result (Correction, required except at the committee decision) and re-publishes it.
type AnswerObjectionArgs struct {
	Actor       Actor        `json:"actor"`
	ObjectionID string       `json:"objectionId"`
	Accept      bool         `json:"accept"`
	Answer      string       `json:"answer"`
	Correction  *ResultInput `json:"correction,omitempty"`
	// Items answer an objection that contests requirement items, each contested item once;
	// Accept is then whether any item is accepted.
	Items []ItemAnswer `json:"items,omitempty"`
}

// SupplyHolidaysArgs adds the holiday lists of years the selection's calendar does not cover
// yet, so that a window reaching into such a year can be counted. The secretariat (admin)
// supplies them once the year's joint decree (SKB) is published. Years already covered cannot
// be changed: deadlines may already have been computed from them.
type SupplyHolidaysArgs struct {
	Actor  Actor           `json:"actor"`
	Years  []calendar.Year `json:"years"`
	Reason string          `json:"reason,omitempty"`
}

// ApplicationStatus is one application's status, for the candidate.
type ApplicationStatus struct {
	ApplicationID string           `json:"applicationId"`
	State         ApplicationState `json:"state"`
	// SelectionStage is where the selection stands.
	SelectionStage Stage  `json:"selectionStage"`
	EliminatedAt   Stage  `json:"eliminatedAt,omitempty"`
	Reason         string `json:"reason,omitempty"`
	// ReasonMessage is the system's reason, as a code.
	ReasonMessage *Message `json:"reasonMessage,omitempty"`
	Rank          int      `json:"rank,omitempty"`
	// Status says it as a message code, rendered for people at the edges.
	Status Message `json:"status"`
}

func (s *selection) registerHandlers(ctx workflow.Context) error {
	type handler struct {
		name      string
		fn        any
		validator any
	}
	handlers := []handler{
		{UpdateWithdrawApplication, answeredHandler(s, s.withdraw), answeredValidator(s, func(ctx workflow.Context, a WithdrawArgs) error {
			return asRejection(s.checkWithdraw(s.now(ctx), a))
		})},
		{UpdateRecordResults, answeredHandler(s, s.recordResults), answeredValidator(s, func(ctx workflow.Context, a RecordResultsArgs) error {
			return asRejection(s.checkRecordResults(s.now(ctx), a))
		})},
		{UpdateDeclareConflict, answeredHandler(s, s.declareConflict), answeredValidator(s, func(ctx workflow.Context, a DeclareConflictArgs) error {
			return asRejection(s.checkDeclareConflict(s.now(ctx), a))
		})},
		{UpdateAdvanceStage, answeredHandler(s, s.advance), answeredValidator(s, func(ctx workflow.Context, a AdvanceArgs) error {
			return asRejection(s.checkAdvance(s.now(ctx), a))
		})},
		{UpdateDecide, answeredHandler(s, s.decide), answeredValidator(s, func(ctx workflow.Context, a DecideArgs) error {
			return asRejection(s.checkDecide(s.now(ctx), a))
		})},
		{UpdateAppoint, answeredHandler(s, s.appoint), answeredValidator(s, func(ctx workflow.Context, a AppointArgs) error {
			return asRejection(s.checkAppoint(s.now(ctx), a))
		})},
		{UpdateCancel, answeredHandler(s, s.cancel), answeredValidator(s, func(ctx workflow.Context, a CancelArgs) error {
			return asRejection(s.checkCancel(s.now(ctx), a))
		})},
		{UpdateFileObjection, answeredHandler(s, s.fileObjection), answeredValidator(s, func(ctx workflow.Context, a FileObjectionArgs) error {
			return asRejection(s.checkFileObjection(s.now(ctx), a))
		})},
		{UpdateAnswerObjection, answeredHandler(s, s.answerObjection), answeredValidator(s, func(ctx workflow.Context, a AnswerObjectionArgs) error {
			return asRejection(s.checkAnswerObjection(s.now(ctx), a))
		})},
		{UpdateSupplyHolidays, answeredHandler(s, s.supplyHolidays), answeredValidator(s, func(ctx workflow.Context, a SupplyHolidaysArgs) error {
			return asRejection(s.checkSupplyHolidays(s.now(ctx), a))
		})},
		{UpdateCorrectResult, answeredHandler(s, s.correctResult), answeredValidator(s, func(ctx workflow.Context, a CorrectResultArgs) error {
			return asRejection(s.checkCorrectResult(s.now(ctx), a))
		})},
		{UpdateRecordAbsence, answeredHandler(s, s.recordAbsence), answeredValidator(s, func(ctx workflow.Context, a RecordAbsenceArgs) error {
			return asRejection(s.checkRecordAbsence(s.now(ctx), a))
		})},
		{UpdateResume, answeredHandler(s, s.resume), answeredValidator(s, func(ctx workflow.Context, a ResumeArgs) error {
			return asRejection(s.checkResume(s.now(ctx), a))
		})},
	}
	for _, h := range handlers {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.fn, workflow.UpdateHandlerOptions{Validator: h.validator}); err != nil {
			return fmt.Errorf("register %s: %w", h.name, err)
		}
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (*SelectionState, error) { return s.st, nil }); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, QueryApplicationStatus, func(id string) (ApplicationStatus, error) {
		i := s.st.app(id)
		if i < 0 {
			return ApplicationStatus{}, rejectMsg(RejectNotFound, errNoApplication(id))
		}
		return s.status(&s.st.Applications[i], s.now(ctx)), nil
	})
}

func asRejection(m *Message) error {
	if m == nil {
		return nil
	}
	return rejectMsg(rejectType(m.Code), *m)
}

// handle runs an accepted command: under the lock it checks the command again (the state may
// have moved on since the validator ran, while the update waited for the lock), builds the
// next state and the store record, and commits them. The caller's answer waits for the store.
func (s *selection) handle(ctx workflow.Context, check func(now time.Time) *Message,
	apply func(next *SelectionState, now time.Time, res *UpdateResult) CommandRecord) (UpdateResult, error) {
	var res UpdateResult
	err := s.locked(ctx, func() error {
		now := s.now(ctx)
		if m := check(now); m != nil {
			return rejectMsg(rejectType(m.Code), *m)
		}
		next := s.st.clone()
		rec := apply(next, now, &res)
		rec.Key = workflow.GetCurrentUpdateInfo(ctx).ID
		rec.At = now
		if err := s.commit(ctx, next, rec); err != nil {
			if s.blocking {
				return s.commandFailed(rec.Kind, err)
			}
			return err
		}
		res.Seq, res.Stage, res.Phase = s.st.Seq, s.st.Stage, s.st.Phase
		return nil
	})
	return res, err
}

// Shared checks. Each returns nil when the check passes.

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// checkText checks a text people typed: field names it (a key the catalog names in each
// language, "field.<key>").
func checkText(field, s string, required bool) *Message {
	if required && blank(s) {
		m := code(CodeRejectTextRequired, "field", field)
		return &m
	}
	if len(s) > MaxReasonLength {
		m := code(CodeRejectTextTooLong, "field", field, "max", strconv.Itoa(MaxReasonLength))
		return &m
	}
	return nil
}

func (s *selection) checkOpen() *Message {
	if s.st.Stage.Terminal() {
		m := code(CodeRejectSelectionEnded, "stage", string(s.st.Stage))
		return &m
	}
	return nil
}

// memberOfOpenSelection is the check every committee command starts with: the actor sits on
// this committee, and the selection has not ended.
func (s *selection) memberOfOpenSelection(a Actor) (Member, *Message) {
	mem, m := s.committeeMember(a)
	if m != nil {
		return Member{}, m
	}
	if m := s.checkOpen(); m != nil {
		return Member{}, m
	}
	return mem, nil
}

// committeeMember checks that the actor is a member of this selection's committee.
func (s *selection) committeeMember(a Actor) (Member, *Message) {
	if a.Role != RoleCommittee {
		m := code(CodeRejectCommitteeOnly)
		return Member{}, &m
	}
	mem, ok := s.member(a.Subject)
	if !ok {
		m := code(CodeRejectNotOnCommittee)
		return Member{}, &m
	}
	return mem, nil
}

func (s *selection) chairOrSecretary(a Actor, chairOnly bool) *Message {
	mem, m := s.committeeMember(a)
	if m != nil {
		return m
	}
	if mem.Role == CommitteeChair || (!chairOnly && mem.Role == CommitteeSecretary) {
		return nil
	}
	if chairOnly {
		r := code(CodeRejectChairOnly)
		return &r
	}
	r := code(CodeRejectChairOrSecretary)
	return &r
}

func admin(a Actor) *Message {
	if a.Role != RoleAdmin || blank(a.Subject) {
		m := code(CodeRejectAdminOnly)
		return &m
	}
	return nil
}

func errNoApplication(id string) Message {
	return code(CodeRejectNoApplication, "application", id)
}

func wrongStage(want Stage, st Stage) *Message {
	m := code(CodeRejectOnlyDuring, "want", string(want), "stage", string(st))
	return &m
}
