// Package workflows owns the selection process: one Temporal workflow per selection
// (SelectionWorkflow) that carries a JPT Pratama open selection from the announcement to the
// appointment, with the committee's commands as Workflow Updates, published stage results and
// objections, the scoring and ranking rules, and the names and types the API and the worker
// share. Everything here is deterministic workflow code: no store, no clock but workflow.Now,
// no map iteration for decisions. The working-day calendar lives in the calendar subpackage.
package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// SelectionInput is the complete definition of a selection, fixed when it starts.
type SelectionInput struct {
	// SelectionID is the resource ID, such as "dinkes-2026-01"; see WorkflowID.
	SelectionID string   `json:"selectionId"`
	Position    Position `json:"position"`
	// OversightApprovalRef is the reference of the oversight body's approval of the plan.
	OversightApprovalRef string `json:"oversightApprovalRef"`
	// Calendar is the agency's zone and the holiday lists for the years the selection may
	// span; build it outside the workflow with calendar.Build.
	Calendar      calendar.Calendar `json:"calendar"`
	Requirements  Requirements      `json:"requirements"`
	Committee     []Member          `json:"committee"`
	Windows       Windows           `json:"windows"`
	Weights       []Weight          `json:"weights"`
	Thresholds    Thresholds        `json:"thresholds"`
	TieBreak      TieBreakRule      `json:"tieBreak"`
	PublishScores bool              `json:"publishScores"`
	TimeScale     TimeScale         `json:"timeScale,omitzero"`
	// Deadlines are the working-day deadlines the workflow keeps with durable timers (see
	// ChangeIDDeadlineTimers); zero fields take the defaults.
	Deadlines Deadlines `json:"deadlines,omitzero"`
	// ObjectionDocuments lets an objection to the screening result attach a clarifying
	// document. CASN rules allow no new documents in an objection, hence false by default.
	ObjectionDocuments bool `json:"objectionDocuments,omitempty"`
	// AnnouncementOpensAt, when set, schedules the announcement: the selection waits in
	// StageScheduled until this instant of its clock (see schedule.go). Zero opens it at once.
	AnnouncementOpensAt time.Time `json:"announcementOpensAt,omitzero"`
	// State is set only by continue-as-new: the state the previous run handed over.
	State *SelectionState `json:"state,omitempty"`
}

// SelectionState is everything the workflow knows. It is what the state query returns and
// what continue-as-new carries to the next run.
type SelectionState struct {
	// RulesVersion pins the scoring and stage rules a selection started with; see
	// ChangeIDRules.
	RulesVersion int `json:"rulesVersion"`
	// MessageCodes is whether this selection records the system's reasons as message codes
	// (ReasonMessage fields); selections started before codes keep recording the rendered
	// texts they always did, so that their histories replay to the same state. See
	// ChangeIDMessageCodes.
	MessageCodes bool `json:"messageCodes,omitempty"`
	// Checklist is whether this selection screens requirement by requirement (see
	// ChangeIDChecklist); selections started before keep whole-application verdicts.
	Checklist bool `json:"checklist,omitempty"`
	// ChecklistsSent counts the applications (in ID order) whose pre-filled checklist has
	// been sent to the store (see proposeChecklists).
	ChecklistsSent int `json:"checklistsSent,omitempty"`
	// Seq is the number of records sent to the store so far.
	Seq   int64 `json:"seq"`
	Stage Stage `json:"stage"`
	Phase Phase `json:"phase"`
	// StageOpenedAt is when the current stage opened, in selection time.
	StageOpenedAt time.Time `json:"stageOpenedAt"`
	Clock         Clock     `json:"clock"`

	Announcement Announcement `json:"announcement"`
	// Applications are sorted by ID.
	Applications []Application `json:"applications"`
	Recusals     []Recusal     `json:"recusals,omitempty"`
	// Holidays are holiday lists supplied during the selection (supplyHolidays) for years the
	// input's calendar did not cover.
	Holidays []calendar.Year `json:"holidays,omitempty"`
	// Publications hold the latest revision of each published stage result, without its
	// entries (the entries follow from the applications and are sent to the store).
	Publications []Publication `json:"publications,omitempty"`
	Objections   []Objection   `json:"objections,omitempty"`
	Decision     *Decision     `json:"decision,omitempty"`
	Appointment  *Appointment  `json:"appointment,omitempty"`
	Cancellation *Cancellation `json:"cancellation,omitempty"`
	// Blocked is set while a step of the workflow's own cannot be made (see blocked.go).
	Blocked *Blocked `json:"blocked,omitempty"`
	// Runs counts continue-as-new hand-overs, for operators.
	Runs int `json:"runs"`
	// Answers are the answers of the most recent updates, so that a retry reaching the next
	// run gets its first answer (see ChangeIDUpdateAnswers).
	Answers []UpdateAnswer `json:"answers,omitempty"`
	// ShortlistFinalAt is when the shortlist went to the appointing official, from which the
	// PPK's choice is due; AppointmentReminded and AppointmentOverdue say that the
	// secretariat was reminded of that deadline and told it passed. See
	// ChangeIDAppointmentDeadline.
	ShortlistFinalAt    time.Time `json:"shortlistFinalAt,omitzero"`
	AppointmentReminded bool      `json:"appointmentReminded,omitempty"`
	AppointmentOverdue  bool      `json:"appointmentOverdue,omitempty"`
	// WindowsReminded are the stages whose objection window's close the candidates it
	// eliminated were reminded of (see ChangeIDObjectionWindowReminders).
	WindowsReminded []Stage `json:"windowsReminded,omitempty"`
	// AnnouncementReminded is the window (its extension count + 1) whose close the candidates
	// who had not finished applying were last reminded of (see
	// ChangeIDAnnouncementReminders); 0 before the first reminder.
	AnnouncementReminded int `json:"announcementReminded,omitempty"`
}

// Clock converts workflow time to selection time. With a time scale, one selection day lasts
// SecondsPerDay seconds of workflow time, counted from Origin; without one they are equal.
type Clock struct {
	Origin        time.Time `json:"origin"`
	SecondsPerDay int64     `json:"secondsPerDay,omitempty"`
}

// Now is the selection time at workflow time wt.
func (c Clock) Now(wt time.Time) time.Time {
	if c.SecondsPerDay == 0 {
		return utc(wt)
	}
	ms := wt.Sub(c.Origin).Milliseconds()
	return utc(c.Origin.Add(time.Duration(ms*86400/c.SecondsPerDay) * time.Millisecond))
}

// Wall is the workflow (wall-clock) time at which selection time st is reached.
func (c Clock) Wall(st time.Time) time.Time {
	if c.SecondsPerDay == 0 {
		return utc(st)
	}
	ms := st.Sub(c.Origin).Milliseconds()
	// Round up so that waiting until Wall(st) never wakes before st.
	return utc(c.Origin.Add(time.Duration((ms*c.SecondsPerDay+86399)/86400) * time.Millisecond))
}

// Announcement is the state of the announcement window.
type Announcement struct {
	Opens      time.Time     `json:"opens"`
	Closes     time.Time     `json:"closes"`
	LastDay    calendar.Date `json:"lastDay"`
	Extensions int           `json:"extensions"`
	// Snapshots counts the closes (the first and each extension's).
	Snapshots      int    `json:"snapshots"`
	SnapshotDigest string `json:"snapshotDigest,omitempty"`
}

// Application is one application and everything recorded about it.
type Application struct {
	ID          string           `json:"id"`
	Candidate   string           `json:"candidate"`
	SubmittedAt time.Time        `json:"submittedAt"`
	Facts       EligibilityFacts `json:"facts"`
	State       ApplicationState `json:"state"`
	// EliminatedAt is the stage that eliminated or lost the application, with Reason.
	EliminatedAt Stage  `json:"eliminatedAt,omitempty"`
	Reason       string `json:"reason,omitempty"`
	// ReasonMessage is the system's reason, as a code (Reason holds people's words).
	ReasonMessage *Message `json:"reasonMessage,omitempty"`
	Rank          int      `json:"rank,omitempty"`

	Eligibility *Eligibility      `json:"eligibility,omitempty"`
	Screening   *Verdict          `json:"screening,omitempty"`
	Competency  *CompetencyRecord `json:"competency,omitempty"`
	Interview   []MemberScore     `json:"interview,omitempty"`
	// Checklist is the application's requirement items during screening (see checklist.go).
	Checklist []ChecklistItem `json:"checklist,omitempty"`
	// Decided is the checklist as a continued run's input carries it: only what the
	// committee or an objection decided, without what the close's pre-fill recomputes from
	// the facts (see compactChecklists).
	Decided []DecidedItem `json:"decided,omitempty"`
	// Compacted says the checklist travels as Decided (which may be empty).
	Compacted bool `json:"compacted,omitempty"`
	// Outcomes are the published verdicts per stage.
	Outcomes []StageOutcome `json:"outcomes,omitempty"`
	// Final is the weighted final score, computed when the committee decision opens.
	Final Score `json:"final,omitempty"`
}

// StageOutcome is the published verdict on an application at one stage.
type StageOutcome struct {
	Stage   Stage   `json:"stage"`
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// ReasonMessage is the system's reason, as a code.
	ReasonMessage *Message `json:"reasonMessage,omitempty"`
}

// Recusal is a declared conflict of interest: Member scores nothing for Application.
type Recusal struct {
	Member        string `json:"member"`
	ApplicationID string `json:"applicationId"`
	// Relationship is the member's relationship to the candidate (empty in recusals
	// declared before it was kept apart from Reason).
	Relationship string    `json:"relationship,omitempty"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
}

// Publication is the latest revision of a published stage result.
type Publication struct {
	Stage             Stage     `json:"stage"`
	Revision          int       `json:"revision"`
	PublishedAt       time.Time `json:"publishedAt"`
	ObjectionDeadline time.Time `json:"objectionDeadline,omitzero"`
	RevisionReason    string    `json:"revisionReason,omitempty"`
	// RevisionMessage says why the revision was published, as a code.
	RevisionMessage *Message `json:"revisionMessage,omitempty"`
	// WindowRevision is the revision whose publication opened the current objection window
	// (a chair's correction); 0 means the first publication. Objections are one per
	// candidate per such window (see ChangeIDObjectionPerRevision).
	WindowRevision int `json:"windowRevision,omitempty"`
}

// Cancellation says why a selection ended without appointment.
type Cancellation struct {
	By        Actor     `json:"by"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	Stage     Stage     `json:"stage"`
	Postponed bool      `json:"postponed,omitempty"`
	// ReasonMessage is the system's reason (a postponement, no qualified candidate), as a
	// code; Reason then stays empty.
	ReasonMessage *Message `json:"reasonMessage,omitempty"`
}

// SelectionResult is what the workflow returns when the selection ends.
type SelectionResult struct {
	Stage        Stage            `json:"stage"`
	Shortlist    []ShortlistEntry `json:"shortlist,omitempty"`
	Appointment  *Appointment     `json:"appointment,omitempty"`
	Cancellation *Cancellation    `json:"cancellation,omitempty"`
}

// Versioning. ChangeIDRules is recorded once, when a selection starts, and the version found
// is kept in SelectionState.RulesVersion for the selection's whole life (continue-as-new
// included). To change how scores, thresholds or rankings work, raise RulesVersionCurrent and
// branch on state.RulesVersion where the rule is applied, so that running selections finish
// under the rules they were announced with. Changes to the order of commands and activities
// (what the history records) need their own workflow.GetVersion change IDs at the point of
// change, as usual.
const (
	ChangeIDRules       = "seleksi-rules"
	RulesVersionCurrent = 1
	// ChangeIDStageSearchAttribute marks runs that keep SearchAttributeStage up to date.
	// Runs recorded before it replay without the upserts they never made.
	ChangeIDStageSearchAttribute = "stage-search-attribute"
	// ChangeIDMessageCodes marks selections that record message codes instead of rendered
	// texts in their state (SelectionState.MessageCodes). It is recorded once, when a
	// selection starts, and holds for the selection's whole life.
	ChangeIDMessageCodes = "message-codes"
)

// Search attributes of the selection workflows, for operators to find selections in the
// Temporal Web UI. They carry no personal data.
const (
	// SearchAttributeStage is the selection's current stage (keyword).
	SearchAttributeStage = "SeleksiStage"
	// SearchAttributeAgency is the agency running the selection (keyword), set at start.
	SearchAttributeAgency = "SeleksiAgency"
)

// SelectionWorkflow runs one selection from announcement to appointment or cancellation.
func SelectionWorkflow(ctx workflow.Context, in SelectionInput) (SelectionResult, error) {
	s, err := newSelection(ctx, in)
	if err != nil {
		return SelectionResult{}, err
	}
	return s.run(ctx)
}

// selection is one run of the workflow. All state changes happen while holding mu, either in
// an update handler or in the main loop, so that an activity call in one of them (which
// yields) cannot interleave with another change. Validators and queries only read.
type selection struct {
	in     SelectionInput
	st     *SelectionState
	mu     workflow.Mutex
	wfID   string
	logger log.Logger
	// indexStage is whether this run keeps SearchAttributeStage up to date (see
	// ChangeIDStageSearchAttribute).
	indexStage bool
	// blocking is whether this run blocks instead of failing (see ChangeIDBlocked).
	blocking bool
	// resumes counts resume requests, which wake a blocked step.
	resumes int
	// invalid is why a new selection's input was refused (see holdInvalidInput).
	invalid error
	// keepAnswers is whether this run keeps the answers of updates in the state (see
	// ChangeIDUpdateAnswers).
	keepAnswers bool
	// objectionRevisions is whether a chair's correction gives a new objection against the
	// corrected revision (see ChangeIDObjectionPerRevision).
	objectionRevisions bool
	// justify is whether choosing rank 2 or 3 needs a justification (see
	// ChangeIDAppointmentJustification).
	justify bool
	// deadlineTimers is whether this run keeps reminders and escalations (see
	// ChangeIDDeadlineTimers).
	deadlineTimers bool
	// appointmentTimers is whether this run keeps the PPK's choice's deadline (see
	// ChangeIDAppointmentDeadline).
	appointmentTimers bool
	// windowReminders is whether this run reminds candidates before an objection window
	// closes (see ChangeIDObjectionWindowReminders).
	windowReminders bool
	// announcementReminders is whether this run reminds candidates who have not finished
	// applying before the announcement closes (see ChangeIDAnnouncementReminders).
	announcementReminders bool
	// changes counts state changes so the main loop can wait for "something happened".
	changes int
}

func newSelection(ctx workflow.Context, in SelectionInput) (*selection, error) {
	s := &selection{
		in:     in,
		mu:     workflow.NewMutex(ctx),
		wfID:   workflow.GetInfo(ctx).WorkflowExecution.ID,
		logger: workflow.GetLogger(ctx),
	}
	// Only a new selection's input is checked: a continued run carries an input that was
	// valid when the selection started, and rules tightened since must not end it.
	if in.State == nil {
		s.invalid = in.Validate()
	}
	if in.State != nil {
		s.st = in.State
		s.st.Runs++
		// The next run must not carry the state twice (input and field).
		s.in.State = nil
		s.st.restoreChecklists(s.in.Requirements)
	} else {
		v := workflow.GetVersion(ctx, ChangeIDRules, workflow.DefaultVersion, RulesVersionCurrent)
		now := utc(workflow.Now(ctx))
		s.st = &SelectionState{
			RulesVersion:  int(v),
			Stage:         StageAnnouncement,
			Phase:         PhaseOpen,
			StageOpenedAt: now,
			Clock:         Clock{Origin: now, SecondsPerDay: in.TimeScale.SecondsPerDay},
			Applications:  []Application{},
		}
		s.st.MessageCodes = workflow.GetVersion(ctx, ChangeIDMessageCodes, workflow.DefaultVersion, 1) == 1
		s.st.Checklist = workflow.GetVersion(ctx, ChangeIDChecklist, workflow.DefaultVersion, 1) == 1
		if in.scheduledStart() {
			s.st.Stage, s.st.Phase = StageScheduled, ""
		}
	}
	s.indexStage = workflow.GetVersion(ctx, ChangeIDStageSearchAttribute, workflow.DefaultVersion, 1) == 1
	s.blocking = workflow.GetVersion(ctx, ChangeIDBlocked, workflow.DefaultVersion, 1) == 1
	s.keepAnswers = workflow.GetVersion(ctx, ChangeIDUpdateAnswers, workflow.DefaultVersion, 1) == 1
	s.objectionRevisions = workflow.GetVersion(ctx, ChangeIDObjectionPerRevision, workflow.DefaultVersion, 1) == 1
	s.justify = workflow.GetVersion(ctx, ChangeIDAppointmentJustification, workflow.DefaultVersion, 1) == 1
	s.deadlineTimers = workflow.GetVersion(ctx, ChangeIDDeadlineTimers, workflow.DefaultVersion, 1) == 1
	s.appointmentTimers = workflow.GetVersion(ctx, ChangeIDAppointmentDeadline, workflow.DefaultVersion, 1) == 1
	s.windowReminders = workflow.GetVersion(ctx, ChangeIDObjectionWindowReminders, workflow.DefaultVersion, 1) == 1
	s.announcementReminders = workflow.GetVersion(ctx, ChangeIDAnnouncementReminders, workflow.DefaultVersion, 1) == 1
	if s.indexStage {
		if err := s.upsertStage(ctx, s.st.Stage); err != nil {
			if !s.blocking {
				return nil, err
			}
			s.logger.Error("upsert stage search attribute", "error", err)
		}
	}
	if err := s.registerHandlers(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// upsertStage records the stage in the workflow's search attributes.
func (s *selection) upsertStage(ctx workflow.Context, stage Stage) error {
	key := temporal.NewSearchAttributeKeyKeyword(SearchAttributeStage)
	if err := workflow.UpsertTypedSearchAttributes(ctx, key.ValueSet(string(stage))); err != nil {
		return fmt.Errorf("upsert stage search attribute: %w", err)
	}
	return nil
}

// cal is the selection's calendar: the input's, plus the years supplied since.
func (s *selection) cal() calendar.Calendar {
	if len(s.st.Holidays) == 0 {
		return s.in.Calendar
	}
	c := s.in.Calendar
	c.Years = append(slices.Clone(c.Years), s.st.Holidays...)
	slices.SortFunc(c.Years, func(a, b calendar.Year) int { return a.Year - b.Year })
	return c
}

// now is the current selection time.
func (s *selection) now(ctx workflow.Context) time.Time { return s.st.Clock.Now(workflow.Now(ctx)) }

func (s *selection) run(ctx workflow.Context) (SelectionResult, error) {
	if s.invalid != nil {
		return s.holdInvalidInput(ctx)
	}
	if s.st.Seq == 0 {
		if err := s.system(ctx, StepOpenAnnouncement, func() error { return s.firstStep(ctx) }); err != nil {
			return SelectionResult{}, err
		}
	}
	for {
		if s.st.Stage.Terminal() {
			// Let handlers that were already accepted finish their store writes.
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return SelectionResult{}, err
			}
			return s.result(), nil
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return SelectionResult{}, s.continueAsNew(ctx)
		}
		due, deadline := s.systemStep(ctx)
		if due {
			if err := s.system(ctx, s.stepName(ctx), func() error { return s.step(ctx) }); err != nil {
				return SelectionResult{}, err
			}
			continue
		}
		seen := s.changes
		woken := func() bool { return s.changes != seen || workflow.GetInfo(ctx).GetContinueAsNewSuggested() }
		if deadline.IsZero() {
			if err := workflow.Await(ctx, woken); err != nil {
				return SelectionResult{}, err
			}
			continue
		}
		wait := s.st.Clock.Wall(deadline).Sub(utc(workflow.Now(ctx)))
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		if _, err := workflow.AwaitWithTimeout(ctx, wait, woken); err != nil {
			return SelectionResult{}, err
		}
	}
}

// systemStep reports whether the workflow has a transition of its own to make now, and
// otherwise the selection-time deadline at which it will have one (zero when only a command
// can move the selection on): the stage's own, or the nearest reminder or escalation.
func (s *selection) systemStep(ctx workflow.Context) (bool, time.Time) {
	due, deadline := s.stageStep(ctx)
	if due {
		return true, deadline
	}
	if ev, ok := s.nextDeadlineEvent(); ok {
		if !s.now(ctx).Before(ev.At) {
			return true, ev.At
		}
		if deadline.IsZero() || ev.At.Before(deadline) {
			deadline = ev.At
		}
	}
	return false, deadline
}

// stageStep is systemStep for the stage's own transitions.
func (s *selection) stageStep(ctx workflow.Context) (bool, time.Time) {
	now := s.now(ctx)
	switch {
	case s.st.Stage == StageScheduled:
		return !now.Before(s.in.AnnouncementOpensAt), s.in.AnnouncementOpensAt
	case s.st.Stage == StageAnnouncement:
		return !now.Before(s.st.Announcement.Closes), s.st.Announcement.Closes
	case s.st.checklistsPending():
		return true, time.Time{}
	case s.st.Phase == PhaseObjections:
		p := s.publication(s.st.Stage)
		if now.Before(p.ObjectionDeadline) {
			return false, p.ObjectionDeadline
		}
		// The next stage cannot open while objections are unanswered; answering one is a
		// command, which wakes the loop.
		return s.pendingObjections(s.st.Stage) == 0, time.Time{}
	}
	return false, time.Time{}
}

// step makes the due transition; it runs with the lock held.
func (s *selection) step(ctx workflow.Context) error {
	due, _ := s.systemStep(ctx)
	if !due {
		return nil // a command changed the situation while we waited for the lock
	}
	if stageDue, _ := s.stageStep(ctx); !stageDue {
		ev, _ := s.nextDeadlineEvent()
		return s.recordDeadline(ctx, ev)
	}
	if s.st.Stage == StageScheduled {
		return s.openAnnouncement(ctx)
	}
	if s.st.Stage == StageAnnouncement {
		return s.closeAnnouncement(ctx)
	}
	if s.st.checklistsPending() {
		return s.proposeChecklists(ctx)
	}
	return s.openNextStage(ctx)
}

// stepName names the step systemStep finds due, for Blocked.Step.
func (s *selection) stepName(ctx workflow.Context) string {
	if due, _ := s.stageStep(ctx); !due {
		return StepDeadline
	}
	switch s.st.Stage {
	case StageScheduled:
		return StepOpenAnnouncement
	case StageAnnouncement:
		return StepCloseAnnouncement
	case StageAdministrativeScreening:
		if s.st.checklistsPending() {
			return StepProposeChecklists
		}
	case StageCommitteeDecision:
		return StepSettleShortlist
	}
	return StepOpenNextStage
}

// locked runs fn with the state lock held.
func (s *selection) locked(ctx workflow.Context, fn func() error) error {
	if err := s.mu.Lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return fn()
}

// commit sends rec to the store and, once it is persisted, installs next as the state. A
// change is thus visible to queries and validators only after the store has it, and a failed
// store write leaves the state untouched. The caller holds the lock.
func (s *selection) commit(ctx workflow.Context, next *SelectionState, rec CommandRecord) error {
	rec.WorkflowID = s.wfID
	rec.SelectionID = s.in.SelectionID
	rec.Seq = s.st.Seq + 1
	// Commands carry their Update ID; the workflow's own transitions get theirs here.
	command := rec.Key != ""
	if rec.Key == "" {
		rec.Key = fmt.Sprintf("event-%d", rec.Seq)
	}
	rec.Stage, rec.Phase = next.Stage, next.Phase
	if rec.At.IsZero() {
		rec.At = s.now(ctx)
	}
	rec.AtWall = s.st.Clock.Wall(rec.At)
	for i := range rec.Applications {
		if j := next.app(rec.Applications[i].ApplicationID); j >= 0 {
			m := statusOf(next, &next.Applications[j], s.in.Calendar.Zone, rec.At).Status
			rec.Applications[i].Status = &m
		}
	}
	actx := s.storeOptions(ctx, command)
	if err := workflow.ExecuteActivity(actx, ActivityApplyCommand, rec).Get(actx, nil); err != nil {
		return err
	}
	moved := next.Stage != s.st.Stage
	next.Seq = rec.Seq
	s.st = next
	s.changes++
	if moved && s.indexStage {
		if err := s.upsertStage(ctx, next.Stage); err != nil {
			if !s.blocking {
				return err
			}
			// The store has the change: an index must not undo or stop it.
			s.logger.Error("upsert stage search attribute", "error", err)
		}
	}
	return nil
}

func (s *selection) continueAsNew(ctx workflow.Context) error {
	// Wait until no update is mid-way, so that none is lost and the lock is free.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	s.logger.Info("continuing as new", "seq", s.st.Seq, "stage", s.st.Stage, "applications", len(s.st.Applications))
	next := s.in
	next.State = s.st.compactChecklists(s.in.Requirements)
	return workflow.NewContinueAsNewError(ctx, SelectionWorkflow, next)
}

func (s *selection) result() SelectionResult {
	r := SelectionResult{Stage: s.st.Stage, Appointment: s.st.Appointment, Cancellation: s.st.Cancellation}
	if s.st.Decision != nil {
		r.Shortlist = s.st.Decision.Shortlist
	}
	return r
}

// app returns the index of an application, or -1. Applications are sorted by ID.
func (st *SelectionState) app(id string) int {
	lo, hi := 0, len(st.Applications)
	for lo < hi {
		m := (lo + hi) / 2
		if st.Applications[m].ID < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(st.Applications) && st.Applications[lo].ID == id {
		return lo
	}
	return -1
}

func (s *selection) publication(stage Stage) Publication {
	for _, p := range s.st.Publications {
		if p.Stage == stage {
			return p
		}
	}
	return Publication{}
}

func (st *SelectionState) setPublication(p Publication) {
	for i := range st.Publications {
		if st.Publications[i].Stage == p.Stage {
			st.Publications[i] = p
			return
		}
	}
	st.Publications = append(st.Publications, p)
}

func (s *selection) member(subject string) (Member, bool) {
	for _, m := range s.in.Committee {
		if m.Subject == subject {
			return m, true
		}
	}
	return Member{}, false
}

func (st *SelectionState) recused(member, appID string) bool {
	for _, r := range st.Recusals {
		if r.Member == member && r.ApplicationID == appID {
			return true
		}
	}
	return false
}
