package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// A selection is a legal process that must never end as Failed. When a step the workflow makes
// by itself (opening or closing the announcement, opening the next stage, settling the
// shortlist) cannot be made, the selection stays where it is, records why in
// SelectionState.Blocked, logs at ERROR and sets SearchAttributeBlocked, and tries the step
// again with a growing pause until it succeeds or the secretariat asks for an immediate retry
// (UpdateResume). Commands still work while it is blocked; cancelling ends it. A command
// whose store write fails is answered with an error, and the state stays as it was.

// ChangeIDBlocked marks runs that block instead of failing, with bounded activity budgets.
// Runs recorded before it replay with the behaviour they were recorded with.
const ChangeIDBlocked = "blocked-state"

// SearchAttributeBlocked is the reason code of a blocked selection (keyword), empty otherwise.
const SearchAttributeBlocked = "SeleksiBlocked"

// UpdateResume asks a blocked selection to retry its step now (ResumeArgs).
const UpdateResume = "resume"

// Error types of the activities' non-retryable errors. The activities set them; the workflow
// decides from them whether a step blocks on bad data, on an inconsistent store, or on a store
// that is away.
const (
	// ErrTypeInvalidData: the store cannot hold the data (a NUL byte, a value out of range, a
	// constraint violated). Retrying cannot help.
	ErrTypeInvalidData = "InvalidData"
	// ErrTypeInvalidRecord: the record itself is malformed.
	ErrTypeInvalidRecord = "InvalidRecord"
	// ErrTypeKeyReused: an idempotency key was reused with different content.
	ErrTypeKeyReused = "IdempotencyKeyReused"
	// ErrTypeInconsistent: the store is not in the state the workflow's history implies.
	ErrTypeInconsistent = "StoreInconsistent"
	// ErrTypeNoSelection: the selection's row is missing.
	ErrTypeNoSelection = "SelectionNotFound"
	// ErrTypeRowMissing: a row the record refers to is missing.
	ErrTypeRowMissing = "RowMissing"
)

// BlockedReason says why a selection is blocked. It is a code; the API renders it.
type BlockedReason string

const (
	// BlockedStoreUnavailable: the store did not answer within the step's budget.
	BlockedStoreUnavailable BlockedReason = "StoreUnavailable"
	// BlockedStoreRejectedData: the store refused the step's data as invalid.
	BlockedStoreRejectedData BlockedReason = "StoreRejectedData"
	// BlockedStoreInconsistent: a row the step needs is missing or contradicts the history;
	// an operator must look (an alarm).
	BlockedStoreInconsistent BlockedReason = "StoreInconsistent"
	// BlockedCalendarNotCovered: a window reaches a year without a holiday list (Year);
	// supplyHolidays resumes the selection.
	BlockedCalendarNotCovered BlockedReason = "CalendarNotCovered"
	// BlockedStepFailed: any other failure of the step.
	BlockedStepFailed BlockedReason = "StepFailed"
	// BlockedInvalidInput: the selection was started with a definition that breaks the rules
	// (Problems); the API refuses such definitions, so only a start that bypassed it gets
	// here. Nothing can repair the input: the secretariat cancels the selection.
	BlockedInvalidInput BlockedReason = "InvalidInput"
)

// Steps the workflow makes by itself, for Blocked.Step.
const (
	StepOpenAnnouncement  = "OpenAnnouncement"
	StepCloseAnnouncement = "CloseAnnouncement"
	StepOpenNextStage     = "OpenNextStage"
	StepSettleShortlist   = "SettleShortlist"
	// StepStart is the check of a new selection's definition.
	StepStart = "Start"
)

// Blocked is why and since when a selection cannot make its next step. Everything in it is a
// code or a parameter; people's words are rendered at the edges.
type Blocked struct {
	Reason BlockedReason `json:"reason"`
	// Step is the step that fails (Step* constants).
	Step string `json:"step"`
	// ErrorType is the activity's error type when there is one (ErrType* constants).
	ErrorType string `json:"errorType,omitempty"`
	// Year is the year without a holiday list (BlockedCalendarNotCovered).
	Year int `json:"year,omitempty"`
	// Since is when the step first failed, and NextAttempt when it is tried again (workflow
	// time); Attempts counts the failed attempts.
	Since       time.Time `json:"since"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt"`
	// Problems are what is wrong with the definition (BlockedInvalidInput).
	Problems []Message `json:"problems,omitempty"`
}

// ResumeArgs asks a blocked selection to retry its step now; the secretariat (admin) sends it
// once the cause is fixed.
type ResumeArgs struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// Retry pacing of a blocked step: a durable timer that starts at retryFirst and doubles up to
// retryMax, so that a brief outage resumes within seconds and a long one costs little.
const (
	retryFirst = time.Second
	retryMax   = 10 * time.Minute
)

// Activity budgets of runs that block (see ChangeIDBlocked). Short start-to-close timeouts
// (and a heartbeat for the snapshot) let a crashed worker's activity be retried within
// seconds. A command's store write has a schedule-to-close budget well under any client's
// deadline, so that the selection's lock is never held across unbounded retries.
const (
	commandBudget   = 20 * time.Second
	systemBudget    = 30 * time.Second
	storeCallLimit  = 10 * time.Second
	snapshotLimit   = 5 * time.Minute
	snapshotBeat    = 10 * time.Second
	snapshotBudget  = 10 * time.Minute
	activityBackoff = 10 * time.Second
	// projectBlockedBudget bounds showing the blocked state in the store.
	projectBlockedBudget = 10 * time.Second
)

// storeOptions are the options of ApplyCommand and ProjectWindow. command is whether a
// caller waits for the answer.
func (s *selection) storeOptions(ctx workflow.Context, command bool) workflow.Context {
	if !s.blocking {
		return activityOptions(ctx, time.Minute)
	}
	budget, first := systemBudget, time.Second
	if command {
		budget, first = commandBudget, 200*time.Millisecond
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    storeCallLimit,
		ScheduleToCloseTimeout: budget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: first, BackoffCoefficient: 2, MaximumInterval: activityBackoff,
		},
	})
}

// snapshotOptions are the options of SnapshotApplications, which heartbeats while it works.
func (s *selection) snapshotOptions(ctx workflow.Context) workflow.Context {
	if !s.blocking {
		return activityOptions(ctx, 5*time.Minute)
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    snapshotLimit,
		HeartbeatTimeout:       snapshotBeat,
		ScheduleToCloseTimeout: snapshotBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: activityBackoff,
		},
	})
}

// system makes one of the workflow's own steps. In runs that block, it holds the lock for each
// attempt and, when an attempt fails, blocks and retries until the step succeeds or a command
// ends the selection. It returns an error only when the workflow itself is cancelled, or to
// continue as new while blocked.
func (s *selection) system(ctx workflow.Context, step string, fn func() error) error {
	if !s.blocking {
		if step == StepOpenAnnouncement {
			return fn()
		}
		return s.locked(ctx, fn)
	}
	for {
		var wait time.Duration
		// The blocked state is set and cleared under the lock, so that a command committing
		// meanwhile (which installs a copy of the state) neither loses nor revives it.
		err := s.locked(ctx, func() error {
			err := fn()
			switch {
			case err == nil || s.st.Stage.Terminal():
				s.unblock(ctx)
				return nil
			case temporal.IsCanceledError(err) || ctx.Err() != nil:
				return err
			}
			wait = s.block(ctx, step, err)
			return nil
		})
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		seenChanges, seenResumes := s.changes, s.resumes
		// A command (cancel, supplyHolidays) or a resume ends the pause early. A block can
		// last weeks; when the history grows long, the next run carries the blocked state on.
		woken := func() bool {
			return s.changes != seenChanges || s.resumes != seenResumes || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
		}
		if wait < 0 {
			// Only a command can lift this block (see block); waking up on a timer would only
			// lengthen the history.
			if err := workflow.Await(ctx, woken); err != nil {
				return err
			}
		} else if _, err := workflow.AwaitWithTimeout(ctx, wait, woken); err != nil {
			return err
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() && !s.st.Stage.Terminal() {
			return s.continueAsNew(ctx)
		}
		if s.st.Stage.Terminal() {
			if err := s.locked(ctx, func() error { s.unblock(ctx); return nil }); err != nil {
				return err
			}
			return nil
		}
	}
}

// block records a failed attempt of step and returns how long to wait before the next one, or
// a negative duration when only a command can lift the block: a window reaching a year without
// a holiday list waits for supplyHolidays (or a resume, or a cancellation).
func (s *selection) block(ctx workflow.Context, step string, err error) time.Duration {
	now := utc(workflow.Now(ctx))
	b := blockedBy(err)
	b.Step = step
	b.Since, b.Attempts = now, 1
	prev := s.st.Blocked
	if prev != nil && prev.Step == step {
		b.Since, b.Attempts = prev.Since, prev.Attempts+1
	}
	wait := retryFirst
	for i := 1; i < b.Attempts && wait < retryMax; i++ {
		wait *= 2
	}
	wait = min(wait, retryMax)
	b.NextAttempt = now.Add(wait)
	if b.Reason == BlockedCalendarNotCovered {
		wait, b.NextAttempt = -1, time.Time{}
	}
	s.st.Blocked = &b
	s.logger.Error("selection blocked", "step", step, "reason", b.Reason, "errorType", b.ErrorType,
		"year", b.Year, "attempts", b.Attempts, "retryIn", wait, "error", err)
	if prev == nil || prev.Reason != b.Reason {
		s.upsertBlocked(ctx, string(b.Reason))
	}
	s.projectBlocked(ctx, &b)
	return wait
}

// unblock clears the blocked state after the step succeeded or the selection ended.
func (s *selection) unblock(ctx workflow.Context) {
	if s.st.Blocked == nil {
		return
	}
	s.logger.Info("selection resumed", "step", s.st.Blocked.Step, "attempts", s.st.Blocked.Attempts)
	s.st.Blocked = nil
	s.upsertBlocked(ctx, "")
	s.projectBlocked(ctx, nil)
}

// projectBlocked shows the blocked state in the store, on a short budget. When the store is
// what is failing, this fails too; the state, the search attribute and the log still say it.
func (s *selection) projectBlocked(ctx workflow.Context, b *Blocked) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    projectBlockedBudget / 2,
		ScheduleToCloseTimeout: projectBlockedBudget,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2},
	})
	p := BlockedProjection{WorkflowID: s.wfID, SelectionID: s.in.SelectionID, Blocked: b}
	if err := workflow.ExecuteActivity(actx, ActivityProjectBlocked, p).Get(actx, nil); err != nil {
		s.logger.Error("project blocked state", "error", err)
	}
}

// upsertBlocked sets or clears SearchAttributeBlocked. A failure is only logged: the state and
// the log still say it, and an index must never stop a selection.
func (s *selection) upsertBlocked(ctx workflow.Context, reason string) {
	key := temporal.NewSearchAttributeKeyKeyword(SearchAttributeBlocked)
	upd := key.ValueSet(reason)
	if reason == "" {
		upd = key.ValueUnset()
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, upd); err != nil {
		s.logger.Error("upsert blocked search attribute", "error", err)
	}
}

// blockedBy classifies the error of a failed step.
func blockedBy(err error) Blocked {
	var ync *calendar.YearNotCoveredError
	if errors.As(err, &ync) {
		return Blocked{Reason: BlockedCalendarNotCovered, Year: ync.Year}
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch t := appErr.Type(); t {
		case ErrTypeInvalidData, ErrTypeInvalidRecord:
			return Blocked{Reason: BlockedStoreRejectedData, ErrorType: t}
		case ErrTypeInconsistent, ErrTypeNoSelection, ErrTypeRowMissing, ErrTypeKeyReused:
			return Blocked{Reason: BlockedStoreInconsistent, ErrorType: t}
		default:
			if !appErr.NonRetryable() {
				// A retryable error that outlived the activity's budget.
				return Blocked{Reason: BlockedStoreUnavailable, ErrorType: t}
			}
			return Blocked{Reason: BlockedStepFailed, ErrorType: t}
		}
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return Blocked{Reason: BlockedStoreUnavailable}
	}
	return Blocked{Reason: BlockedStepFailed}
}

// commandFailed answers a command whose store write failed: the state is as it was and the
// lock is freed; the caller learns whether to fix the data or try again later.
func (s *selection) commandFailed(kind string, err error) error {
	b := blockedBy(err)
	s.logger.Error("command not applied", "kind", kind, "reason", b.Reason, "errorType", b.ErrorType, "error", err)
	switch b.Reason {
	case BlockedStoreRejectedData:
		return rejectMsg(RejectInvalidArgument, code("reject.invalid_argument.data_not_storable"))
	case BlockedStoreInconsistent:
		return rejectMsg(RejectInconsistent, code("reject.inconsistent.records"))
	}
	return rejectMsg(RejectUnavailable, code("reject.unavailable.not_saved"))
}

func (s *selection) checkResume(_ time.Time, a ResumeArgs) *Message {
	if m := admin(a.Actor); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	if s.st.Blocked == nil {
		m := code("reject.wrong_stage.not_blocked")
		return &m
	}
	return checkText("reason", a.Reason, false)
}

// resume wakes the blocked step at once, then records the secretariat's request in the store
// and the audit trail like any command. It does not wait for the retry: the selection's state
// (and its blocked field) tells how it went. When the store is what fails, the record fails
// too and the caller is told so, but the step has been retried all the same.
func (s *selection) resume(ctx workflow.Context, a ResumeArgs) (UpdateResult, error) {
	s.resumes++
	s.logger.Info("resume requested", "by", a.Actor.Subject)
	// Under the lock the step may have succeeded already; the request is recorded anyway.
	recheck := func(time.Time) *Message {
		if m := admin(a.Actor); m != nil {
			return m
		}
		return s.checkOpen()
	}
	return s.handle(ctx, recheck, func(*SelectionState, time.Time, *UpdateResult) CommandRecord {
		return CommandRecord{Kind: CmdResume, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Resume: &a}}
	})
}

// holdInvalidInput keeps a selection whose definition breaks the rules visible instead of
// failing it: it is blocked with BlockedInvalidInput and the problems, logged at ERROR and
// marked in SearchAttributeBlocked, and waits until the secretariat cancels it (commands
// that need a valid definition are refused by their validators as before).
func (s *selection) holdInvalidInput(ctx workflow.Context) (SelectionResult, error) {
	b := &Blocked{Reason: BlockedInvalidInput, Step: StepStart, ErrorType: InvalidInputType,
		Since: utc(workflow.Now(ctx)), Attempts: 1, Problems: ProblemsOf(s.invalid)}
	s.st.Blocked = b
	codes := make([]string, len(b.Problems))
	for i, p := range b.Problems {
		codes[i] = p.Code
	}
	s.logger.Error("selection definition refused; it waits to be cancelled", "problems", codes)
	s.upsertBlocked(ctx, string(b.Reason))
	s.projectBlocked(ctx, b)
	if err := workflow.Await(ctx, func() bool { return s.st.Stage.Terminal() && workflow.AllHandlersFinished(ctx) }); err != nil {
		return SelectionResult{}, err
	}
	s.unblock(ctx)
	return s.result(), nil
}
