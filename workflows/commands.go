package workflows

import (
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Commands that are not tied to one stage: withdrawal, conflict of interest, cancellation.

func (s *selection) checkWithdraw(_ time.Time, a WithdrawArgs) *Message {
	if m := s.checkOpen(); m != nil {
		return m
	}
	st := s.st
	if st.Stage == StageAnnouncement {
		// While the window is open the API withdraws in the store directly; a withdrawal
		// reaches the workflow during the announcement only between the window's end and
		// the recording of its close, which takes moments.
		m := code("reject.wrong_stage.withdraw_while_closing")
		return &m
	}
	i := st.app(a.ApplicationID)
	if i < 0 {
		m := errNoApplication(a.ApplicationID)
		return &m
	}
	app := &st.Applications[i]
	switch {
	case a.Actor.Role == RoleCandidate && a.Actor.Subject == app.Candidate:
	case a.Actor.Role == RoleAdmin && !blank(a.Actor.Subject):
		if blank(a.Reason) {
			m := code("reject.invalid_argument.withdrawal_reason")
			return &m
		}
	default:
		m := code("reject.wrong_actor.withdrawal")
		return &m
	}
	if !app.State.active() {
		m := code("reject.wrong_stage.application_out", "application", app.ID)
		return &m
	}
	return checkText("reason", a.Reason, false)
}

func (s *selection) withdraw(ctx workflow.Context, a WithdrawArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkWithdraw(now, a) },
		func(next *SelectionState, _ time.Time, _ *UpdateResult) CommandRecord {
			app := &next.Applications[next.app(a.ApplicationID)]
			app.State, app.EliminatedAt, app.Reason = AppWithdrawn, next.Stage, a.Reason
			return CommandRecord{Kind: CmdWithdraw, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Withdraw: &a},
				Applications: []ApplicationChange{{ApplicationID: app.ID, State: AppWithdrawn, Stage: next.Stage, Reason: a.Reason, Rank: app.Rank}}}
		})
}

func (s *selection) checkDeclareConflict(_ time.Time, a DeclareConflictArgs) *Message {
	mem, m := s.memberOfOpenSelection(a.Actor)
	if m != nil {
		return m
	}
	st := s.st
	if st.Stage == StageAnnouncement {
		m := code("reject.wrong_stage.conflict_before_close")
		return &m
	}
	if len(a.ApplicationIDs) == 0 || len(a.ApplicationIDs) > MaxBatch {
		m := code("reject.invalid_argument.conflict_batch", "max", strconv.Itoa(MaxBatch))
		return &m
	}
	if blank(a.Relationship) && blank(a.Reason) {
		m := code("reject.invalid_argument.relationship_required")
		return &m
	}
	if m := checkText("relationship", a.Relationship, false); m != nil {
		return m
	}
	if m := checkText("reason", a.Reason, false); m != nil {
		return m
	}
	for i, id := range a.ApplicationIDs {
		if st.app(id) < 0 {
			m := errNoApplication(id)
			return &m
		}
		for _, prev := range a.ApplicationIDs[:i] {
			if prev == id {
				m := code("reject.duplicate.application_twice", "application", id)
				return &m
			}
		}
		if st.recused(mem.Subject, id) {
			m := code("reject.duplicate.conflict_declared", "application", id)
			return &m
		}
	}
	return nil
}

func (s *selection) declareConflict(ctx workflow.Context, a DeclareConflictArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkDeclareConflict(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			for _, id := range a.ApplicationIDs {
				next.Recusals = append(next.Recusals, Recusal{Member: a.Actor.Subject, ApplicationID: id, Relationship: a.Relationship, Reason: a.Reason, At: now})
				app := &next.Applications[next.app(id)]
				// Scores given before the declaration cannot stand.
				kept := app.Interview[:0]
				for _, ms := range app.Interview {
					if ms.Member != a.Actor.Subject {
						kept = append(kept, ms)
					}
				}
				app.Interview = kept
				if len(app.Interview) == 0 {
					app.Interview = nil
				}
			}
			return CommandRecord{Kind: CmdDeclareConflict, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{DeclareConflict: &a}}
		})
}

func (s *selection) checkCancel(_ time.Time, a CancelArgs) *Message {
	if m := admin(a.Actor); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	return checkText("cancellation_reason", a.Reason, true)
}

func (s *selection) cancel(ctx workflow.Context, a CancelArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkCancel(now, a) },
		func(next *SelectionState, now time.Time, _ *UpdateResult) CommandRecord {
			from := next.Stage
			var changes []ApplicationChange
			for i := range next.Applications {
				app := &next.Applications[i]
				if app.State.active() {
					app.State, app.Reason = AppNotSelected, a.Reason
					changes = append(changes, ApplicationChange{ApplicationID: app.ID, State: AppNotSelected, Stage: from, Reason: a.Reason})
				}
			}
			next.Stage, next.Phase = StageCancelled, ""
			next.Cancellation = &Cancellation{By: a.Actor, Reason: a.Reason, At: now, Stage: from}
			m := code(CodeEventCancelled, "stage", string(from), "reason", a.Reason)
			return CommandRecord{Kind: CmdCancel, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{Cancel: &a}, Applications: changes, Message: &m}
		})
}

func (s *selection) checkSupplyHolidays(_ time.Time, a SupplyHolidaysArgs) *Message {
	if m := admin(a.Actor); m != nil {
		return m
	}
	if m := s.checkOpen(); m != nil {
		return m
	}
	if len(a.Years) == 0 {
		m := code("reject.invalid_argument.no_holiday_list")
		return &m
	}
	cur := s.cal()
	for _, y := range a.Years {
		if cur.Covers(y.Year) {
			m := code("reject.duplicate.holiday_year", "year", strconv.Itoa(y.Year))
			return &m
		}
	}
	if _, err := calendar.New(cur.Zone, append(slices.Clone(cur.Years), a.Years...)); err != nil {
		// A list the calendar refuses is an invalid argument (see rejectType).
		m := calendarMessage(err)
		return &m
	}
	return checkText("reason", a.Reason, false)
}

func (s *selection) supplyHolidays(ctx workflow.Context, a SupplyHolidaysArgs) (UpdateResult, error) {
	return s.handle(ctx, func(now time.Time) *Message { return s.checkSupplyHolidays(now, a) },
		func(next *SelectionState, _ time.Time, _ *UpdateResult) CommandRecord {
			for _, y := range a.Years {
				y.Source = calendar.SourceSelection
				y.Days = slices.Clone(y.Days)
				next.Holidays = append(next.Holidays, y)
			}
			return CommandRecord{Kind: CmdSupplyHolidays, Actor: a.Actor, Reason: a.Reason, Args: CommandArgs{SupplyHolidays: &a}}
		})
}

// status explains an application's state to its candidate.
func (s *selection) status(a *Application, now time.Time) ApplicationStatus {
	return statusOf(s.st, a, s.in.Calendar.Zone, now)
}

// statusOf is the status of application a in selection state sel, as a message code: what
// the candidate's state is, with the right to object and its deadline while a published
// result the application is part of can be objected to, and an accepted objection told as
// such. zone is the agency's, for the renderers to show local times; now (selection time)
// tells whether an objection window is still open.
func statusOf(sel *SelectionState, a *Application, zone calendar.Zone, now time.Time) ApplicationStatus {
	st := ApplicationStatus{ApplicationID: a.ID, State: a.State, SelectionStage: sel.Stage, EliminatedAt: a.EliminatedAt,
		Reason: a.Reason, ReasonMessage: a.ReasonMessage, Rank: a.Rank}
	var m Message
	// objectable is the stage whose published result the candidate may still object to.
	var objectable Stage
	switch a.State {
	case AppSubmitted:
		// The committee screens only what the announcement's close froze.
		if sel.Stage == StageAnnouncement {
			m = code(CodeStatusReceived, "closes", sel.Announcement.Closes.UTC().Format(time.RFC3339), "zone", string(zone))
		} else {
			m = code(CodeStatusScreening)
		}
	case AppInProgress:
		m = code(CodeStatusInProgress, "stage", string(sel.Stage))
		if sel.Phase == PhaseObjections {
			if _, ok := a.outcome(sel.Stage); ok {
				objectable = sel.Stage
				m.Params.Set("passed", string(sel.Stage))
			}
		}
	case AppEliminated:
		m = code(CodeStatusEliminated, "stage", string(a.EliminatedAt), "reason", a.Reason)
		if a.ReasonMessage != nil {
			m = m.with(*a.ReasonMessage)
		}
		objectable = a.EliminatedAt
	case AppWithdrawn:
		m = code(CodeStatusWithdrawn)
	case AppShortlisted:
		m = code(CodeStatusShortlisted, "rank", strconv.Itoa(a.Rank))
		objectable = StageCommitteeDecision
	case AppAppointed:
		m = code(CodeStatusAppointed)
	case AppNotSelected:
		switch {
		case sel.Stage == StageCancelled && sel.Cancellation != nil:
			c := sel.Cancellation
			m = code(CodeStatusCancelled, "stage", string(c.Stage), "reason", c.Reason)
			if c.ReasonMessage != nil {
				m = m.with(*c.ReasonMessage)
			}
		case a.Rank > 0:
			// On the shortlist, but the appointing official chose another name.
			m = code(CodeStatusNotAppointed, "rank", strconv.Itoa(a.Rank))
		default:
			m = code(CodeStatusNotSelected, "reason", a.Reason)
			if a.ReasonMessage != nil {
				m = m.with(*a.ReasonMessage)
			}
			objectable = a.EliminatedAt
		}
	}
	if objectable != "" && sel.Stage == objectable && sel.Phase == PhaseObjections {
		for _, p := range sel.Publications {
			if p.Stage == objectable && p.ObjectionDeadline.After(now) {
				m.Params.Set("deadline", p.ObjectionDeadline.UTC().Format(time.RFC3339))
				m.Params.Set("zone", string(zone))
			}
		}
	}
	for _, o := range sel.Objections {
		if o.ApplicationID == a.ID && o.State == ObjectionAccepted {
			m.Params.Set("accepted", string(o.Stage))
		}
	}
	st.Status = m
	return st
}
