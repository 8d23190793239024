package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Deadlines are the working-day periods a selection keeps with durable timers (the API's
// Selection.deadlines). Zero fields take the defaults below; WithDefaults fills them in.
type Deadlines struct {
	// ObjectionAnswerDays: each objection is answered by the end of this many working days
	// after the day it was filed.
	ObjectionAnswerDays int `json:"objectionAnswerDays,omitempty"`
	// AppointmentDueDays: the PPK's choice is due by the end of this many working days after
	// the shortlist is final.
	AppointmentDueDays int `json:"appointmentDueDays,omitempty"`
	// ReminderLeadDays: reminders go this many working days before a deadline or the close
	// of a window candidates act in.
	ReminderLeadDays int `json:"reminderLeadDays,omitempty"`
}

// Defaults of Deadlines.
const (
	DefaultObjectionAnswerDays = 3
	DefaultAppointmentDueDays  = 10
	DefaultReminderLeadDays    = 1
)

// WithDefaults returns d with each zero field set to its default.
func (d Deadlines) WithDefaults() Deadlines {
	if d.ObjectionAnswerDays == 0 {
		d.ObjectionAnswerDays = DefaultObjectionAnswerDays
	}
	if d.AppointmentDueDays == 0 {
		d.AppointmentDueDays = DefaultAppointmentDueDays
	}
	if d.ReminderLeadDays == 0 {
		d.ReminderLeadDays = DefaultReminderLeadDays
	}
	return d
}

// ObjectionAnswerDue is when an objection filed at filed (selection time) must be answered:
// the end, in the agency's zone, of the ObjectionAnswerDays-th working day after the day it
// was filed. The report and the dashboard use it as the workflow's timers do.
func (d Deadlines) ObjectionAnswerDue(cal calendar.Calendar, filed time.Time) (time.Time, error) {
	return workingDaysAfter(cal, filed, d.WithDefaults().ObjectionAnswerDays)
}

// AppointmentDue is when the PPK's choice is due for a shortlist made final at final.
func (d Deadlines) AppointmentDue(cal calendar.Calendar, final time.Time) (time.Time, error) {
	return workingDaysAfter(cal, final, d.WithDefaults().AppointmentDueDays)
}

// workingDaysAfter is the end of the n-th working day after the local day of t.
func workingDaysAfter(cal calendar.Calendar, t time.Time, n int) (time.Time, error) {
	day, err := cal.LocalDate(t)
	if err != nil {
		return time.Time{}, fmt.Errorf("deadline: %w", err)
	}
	due, err := cal.AddWorkingDays(day, n)
	if err != nil {
		return time.Time{}, fmt.Errorf("deadline: %w", err)
	}
	end, err := cal.EndOf(due)
	if err != nil {
		return time.Time{}, fmt.Errorf("deadline: %w", err)
	}
	return end, nil
}

// ChangeIDDeadlineTimers marks runs that keep the deadlines with durable timers: the
// committee is reminded before an objection's answer is due, and the chair and the
// secretariat are told when it passes unanswered. Runs recorded before wake only for their
// stage deadlines and replay unchanged.
const ChangeIDDeadlineTimers = "deadline-timers"

// ChangeIDAppointmentDeadline marks runs that keep the PPK's choice's deadline
// (Deadlines.AppointmentDue, from the moment the shortlist is final) with a durable timer: the
// secretariat is reminded when the reminder lead remains and told when it passes without an
// appointment. A separate change from ChangeIDDeadlineTimers so that runs recorded with that
// change alone replay unchanged.
const ChangeIDAppointmentDeadline = "appointment-deadline"

// ChangeIDObjectionWindowReminders marks runs that remind candidates before an objection
// window closes: ReminderLeadDays working days before a publication's ObjectionDeadline, each
// candidate the result eliminated at that stage who has filed no objection in the window.
const ChangeIDObjectionWindowReminders = "objection-window-reminders"

// ChangeIDAnnouncementReminders marks runs that remind candidates before the announcement
// closes: ReminderLeadDays working days before the window's last day ends (and again before
// an extension's), those who uploaded documents to the selection and have not submitted an
// application. The workflow does not know them (submissions go to the store during the
// announcement), so the record addresses RecipientUnfinishedApplicants and the store names
// them when it queues the notices.
const ChangeIDAnnouncementReminders = "announcement-reminders"

// RecipientUnfinishedApplicants addresses, in the outbox, the candidates who uploaded
// documents to the selection and have not submitted an application, when the notice is
// queued.
const RecipientUnfinishedApplicants = "selection:unfinished-applicants"

// StepDeadline is the step that records a reminder or an escalation (see Blocked.Step).
const StepDeadline = "Deadline"

// Staff recipients of reminders and escalations, in the outbox's addressing of accounts and
// roles: RecipientAccount(subject) is one account, RecipientSecretariat the secretariat (the
// admin role).
const RecipientSecretariat = "role:admin"

// RecipientAccount addresses the account of a token subject.
func RecipientAccount(subject string) string { return "account:" + subject }

// deadlineEvent is the next reminder or escalation the workflow owes: Kind is the record
// kind, Objection the index of the objection it concerns (for objection kinds), At when it is
// due and Due the deadline it concerns (selection time).
type deadlineEvent struct {
	Kind      string
	Objection int
	At        time.Time
	Due       time.Time
}

// objectionReminderAt is when the committee is reminded of an objection filed at filed: the
// start of the day from which ReminderLeadDays working days remain before the answer is due.
// With a lead as long as the period or longer, the reminder goes at once.
func (d Deadlines) objectionReminderAt(cal calendar.Calendar, filed time.Time) (time.Time, error) {
	d = d.WithDefaults()
	return d.reminderAt(cal, filed, d.ObjectionAnswerDays)
}

// appointmentReminderAt is when the secretariat is reminded of the PPK's choice for a
// shortlist made final at final.
func (d Deadlines) appointmentReminderAt(cal calendar.Calendar, final time.Time) (time.Time, error) {
	d = d.WithDefaults()
	return d.reminderAt(cal, final, d.AppointmentDueDays)
}

// reminderAt is the start of the day from which ReminderLeadDays working days remain of a
// period of days working days counted from the day of from; from itself when the lead is
// as long as the period or longer.
func (d Deadlines) reminderAt(cal calendar.Calendar, from time.Time, days int) (time.Time, error) {
	n := days - d.WithDefaults().ReminderLeadDays + 1
	if n < 1 {
		return from, nil
	}
	day, err := cal.LocalDate(from)
	if err != nil {
		return time.Time{}, fmt.Errorf("reminder: %w", err)
	}
	reminderDay, err := cal.AddWorkingDays(day, n)
	if err != nil {
		return time.Time{}, fmt.Errorf("reminder: %w", err)
	}
	at, err := cal.StartOf(reminderDay)
	if err != nil {
		return time.Time{}, fmt.Errorf("reminder: %w", err)
	}
	return at, nil
}

// nextDeadlineEvent is the earliest reminder or escalation still owed, over the pending
// objections in their order in the state (no map: the choice is deterministic). An objection
// whose dates the calendar cannot give (a year without a holiday list) gets no timer until
// the year is supplied; the stage itself blocks on such a year.
func (s *selection) nextDeadlineEvent() (deadlineEvent, bool) {
	var best deadlineEvent
	found := false
	cal := s.cal()
	for i, o := range s.st.Objections {
		if !s.deadlineTimers {
			break
		}
		if o.State != ObjectionPending || o.Overdue {
			continue
		}
		due, err := s.in.Deadlines.ObjectionAnswerDue(cal, o.FiledAt)
		if err != nil {
			continue
		}
		ev := deadlineEvent{Kind: EvtObjectionOverdue, Objection: i, At: due, Due: due}
		if !o.Reminded {
			at, err := s.in.Deadlines.objectionReminderAt(cal, o.FiledAt)
			if err != nil {
				continue
			}
			ev.Kind, ev.At = EvtObjectionReminder, at
		}
		if !found || ev.At.Before(best.At) {
			best, found = ev, true
		}
	}
	if ev, ok := s.appointmentEvent(cal); ok && (!found || ev.At.Before(best.At)) {
		best, found = ev, true
	}
	if ev, ok := s.windowReminderEvent(cal); ok && (!found || ev.At.Before(best.At)) {
		best, found = ev, true
	}
	if ev, ok := s.announcementReminderEvent(cal); ok && (!found || ev.At.Before(best.At)) {
		best, found = ev, true
	}
	return best, found
}

// announcementReminderEvent is the reminder owed before the open announcement window closes:
// due at the start of the ReminderLeadDays-th working day counted back from the window's
// last day (that day included), or at the opening when the window is shorter. Each window
// (the first and each extension) is reminded of once.
func (s *selection) announcementReminderEvent(cal calendar.Calendar) (deadlineEvent, bool) {
	st := s.st
	a := st.Announcement
	if !s.announcementReminders || st.Stage != StageAnnouncement || a.Closes.IsZero() || st.AnnouncementReminded == a.Extensions+1 {
		return deadlineEvent{}, false
	}
	day, err := workingDayBack(cal, a.LastDay, s.in.Deadlines.WithDefaults().ReminderLeadDays)
	if err != nil {
		return deadlineEvent{}, false
	}
	at, err := cal.StartOf(day)
	if err != nil {
		return deadlineEvent{}, false
	}
	at = maxTime(at, a.Opens)
	if !at.Before(a.Closes) {
		return deadlineEvent{}, false
	}
	return deadlineEvent{Kind: EvtAnnouncementReminder, At: at, Due: a.Closes}, true
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// recordAnnouncementReminder commits the reminder ev to the candidates who have not finished
// applying. It runs with the lock held.
func (s *selection) recordAnnouncementReminder(ctx workflow.Context, ev deadlineEvent) error {
	next := s.st.clone()
	next.AnnouncementReminded = s.st.Announcement.Extensions + 1
	m := code(CodeEventAnnouncementClosing, "deadline", ev.Due.UTC().Format(time.RFC3339), "zone", string(s.in.Calendar.Zone))
	rec := CommandRecord{Kind: ev.Kind, Actor: systemActor(), Message: &m, Recipients: []string{RecipientUnfinishedApplicants}}
	return s.commit(ctx, next, rec)
}

// windowReminderEvent is the reminder owed to candidates while the current stage's objection
// window is open: due at the start of the ReminderLeadDays-th working day counted back from
// the window's last day (that day included), or at publication when the window is shorter.
// None when every candidate concerned has objected already.
func (s *selection) windowReminderEvent(cal calendar.Calendar) (deadlineEvent, bool) {
	st := s.st
	if !s.windowReminders || st.Phase != PhaseObjections || slices.Contains(st.WindowsReminded, st.Stage) {
		return deadlineEvent{}, false
	}
	pub := s.publication(st.Stage)
	if pub.ObjectionDeadline.IsZero() || len(s.windowReminderCandidates(st.Stage)) == 0 {
		return deadlineEvent{}, false
	}
	// The deadline is the end of the window's last day, which is the start of the next.
	last, err := cal.LocalDate(pub.ObjectionDeadline.Add(-time.Nanosecond))
	if err != nil {
		return deadlineEvent{}, false
	}
	day, err := workingDayBack(cal, last, s.in.Deadlines.WithDefaults().ReminderLeadDays)
	if err != nil {
		return deadlineEvent{}, false
	}
	at, err := cal.StartOf(day)
	if err != nil {
		return deadlineEvent{}, false
	}
	if at.Before(pub.PublishedAt) {
		at = pub.PublishedAt
	}
	if !at.Before(pub.ObjectionDeadline) {
		return deadlineEvent{}, false
	}
	return deadlineEvent{Kind: EvtObjectionWindowReminder, At: at, Due: pub.ObjectionDeadline}, true
}

// windowReminderCandidates are the applications the published result of stage eliminated
// whose candidates have not objected to it, in ID order.
func (s *selection) windowReminderCandidates(stage Stage) []string {
	// A set of the objectors (looked up, never ranged over): a selection of thousands of
	// applications asks this after every command while the window is open.
	objected := map[string]bool{}
	for _, o := range s.st.Objections {
		if o.Stage == stage {
			objected[o.ApplicationID] = true
		}
	}
	var ids []string
	for _, a := range s.st.Applications {
		if a.EliminatedAt == stage && (a.State == AppEliminated || a.State == AppNotSelected) && !objected[a.ID] {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// recordWindowReminder commits the reminder ev to the candidates who may still object. It
// runs with the lock held.
func (s *selection) recordWindowReminder(ctx workflow.Context, ev deadlineEvent) error {
	next := s.st.clone()
	next.WindowsReminded = append(next.WindowsReminded, s.st.Stage)
	m := code(CodeEventWindowReminder, "stage", string(s.st.Stage), "deadline", ev.Due.UTC().Format(time.RFC3339),
		"zone", string(s.in.Calendar.Zone))
	rec := CommandRecord{Kind: ev.Kind, Actor: systemActor(), Message: &m, Candidates: s.windowReminderCandidates(s.st.Stage)}
	return s.commit(ctx, next, rec)
}

// workingDayBack is the n-th working day counted back from d, d itself counting when it is a
// working day. n must be at least 1.
func workingDayBack(cal calendar.Calendar, d calendar.Date, n int) (calendar.Date, error) {
	if n < 1 {
		return calendar.Date{}, fmt.Errorf("working day back: count %d", n)
	}
	cur := d
	for range 3 * 366 {
		ok, err := cal.IsWorkingDay(cur)
		if err != nil {
			return calendar.Date{}, fmt.Errorf("working day back: %w", err)
		}
		if ok {
			n--
			if n == 0 {
				return cur, nil
			}
		}
		cur = cur.AddDays(-1)
	}
	return calendar.Date{}, fmt.Errorf("working day back from %s: no working day found", d)
}

// appointmentEvent is the reminder or overdue notice still owed for the PPK's choice, while
// the final shortlist waits for it.
func (s *selection) appointmentEvent(cal calendar.Calendar) (deadlineEvent, bool) {
	st := s.st
	if !s.appointmentTimers || st.Stage != StageCommitteeDecision || st.Phase != PhaseAppointment ||
		st.ShortlistFinalAt.IsZero() || st.AppointmentOverdue {
		return deadlineEvent{}, false
	}
	due, err := s.in.Deadlines.AppointmentDue(cal, st.ShortlistFinalAt)
	if err != nil {
		return deadlineEvent{}, false
	}
	ev := deadlineEvent{Kind: EvtAppointmentOverdue, At: due, Due: due}
	if !st.AppointmentReminded {
		at, err := s.in.Deadlines.appointmentReminderAt(cal, st.ShortlistFinalAt)
		if err != nil {
			return deadlineEvent{}, false
		}
		ev.Kind, ev.At = EvtAppointmentReminder, at
	}
	return ev, true
}

// recordAppointmentDeadline commits the reminder or overdue notice ev of the PPK's choice,
// both to the secretariat, who follows the choice up with the PPK. It runs with the lock held.
func (s *selection) recordAppointmentDeadline(ctx workflow.Context, ev deadlineEvent) error {
	next := s.st.clone()
	if ev.Kind == EvtAppointmentReminder && !s.now(ctx).Before(ev.Due) {
		ev.Kind = EvtAppointmentOverdue
	}
	due := ev.Due.UTC().Format(time.RFC3339)
	zone := string(s.in.Calendar.Zone)
	m := code(CodeEventAppointmentReminder, "due", due, "zone", zone)
	next.AppointmentReminded = true
	if ev.Kind == EvtAppointmentOverdue {
		m = code(CodeEventAppointmentOverdue, "due", due, "zone", zone)
		next.AppointmentOverdue = true
	}
	rec := CommandRecord{Kind: ev.Kind, Actor: systemActor(), Message: &m, Recipients: []string{RecipientSecretariat}}
	return s.commit(ctx, next, rec)
}

// recordDeadline commits the reminder or escalation ev. A reminder whose answer is already
// overdue (the workflow was down, or the lead is longer than the period) becomes the
// escalation, which also counts as the reminder. It runs with the lock held.
func (s *selection) recordDeadline(ctx workflow.Context, ev deadlineEvent) error {
	switch ev.Kind {
	case EvtAppointmentReminder, EvtAppointmentOverdue:
		return s.recordAppointmentDeadline(ctx, ev)
	case EvtObjectionWindowReminder:
		return s.recordWindowReminder(ctx, ev)
	case EvtAnnouncementReminder:
		return s.recordAnnouncementReminder(ctx, ev)
	}
	now := s.now(ctx)
	next := s.st.clone()
	o := &next.Objections[ev.Objection]
	if ev.Kind == EvtObjectionReminder && !now.Before(ev.Due) {
		ev.Kind = EvtObjectionOverdue
	}
	var recipients []string
	var m Message
	due := ev.Due.UTC().Format(time.RFC3339)
	if ev.Kind == EvtObjectionReminder {
		o.Reminded = true
		m = code(CodeEventObjectionReminder, "objection", o.ID, "application", o.ApplicationID, "stage", string(o.Stage), "due", due, "zone", string(s.in.Calendar.Zone))
		// Every member who may answer it: those not recused from the application.
		for _, mem := range s.in.Committee {
			if !s.st.recused(mem.Subject, o.ApplicationID) {
				recipients = append(recipients, RecipientAccount(mem.Subject))
			}
		}
	} else {
		o.Reminded, o.Overdue = true, true
		m = code(CodeEventObjectionOverdue, "objection", o.ID, "application", o.ApplicationID, "stage", string(o.Stage), "due", due, "zone", string(s.in.Calendar.Zone))
		for _, mem := range s.in.Committee {
			if mem.Role == CommitteeChair {
				recipients = append(recipients, RecipientAccount(mem.Subject))
			}
		}
		recipients = append(recipients, RecipientSecretariat)
	}
	rec := CommandRecord{Kind: ev.Kind, Actor: systemActor(), Message: &m, Recipients: recipients,
		Deadline: &DeadlineRecord{Objection: o.ID, Due: ev.Due, Overdue: o.Overdue}}
	return s.commit(ctx, next, rec)
}
