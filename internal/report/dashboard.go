package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Window kinds of the dashboard: what the running window is.
const (
	WindowAnnouncement = "announcement"
	WindowObjections   = "objections"
	WindowAppointment  = "appointment"
)

// Overdue kinds.
const (
	OverdueObjection   = "objection"
	OverdueAppointment = "appointment"
)

// DashboardRow is one selection on the secretariat's dashboard.
type DashboardRow struct {
	SelectionID   string
	PositionTitle string
	Agency        string
	Stage         string
	Phase         string
	Blocked       *store.Blocked
	// Window is the kind of the running window ("" for none), Ends its end and DaysLeft the
	// working days left in it, today included when it is a working day.
	Window   string
	Ends     time.Time
	DaysLeft int
	Overdue  []Overdue
	// CalendarError is set when the selection's calendar cannot count its window (a year
	// without a holiday list); the row is still shown.
	CalendarError bool
}

// Overdue is one thing past its deadline: an unanswered objection, or the PPK's choice.
type Overdue struct {
	Kind string
	// Objection is the overdue objection; zero for the appointment.
	Objection store.Objection
	Due       time.Time
}

// DashboardReader is what the dashboard reads from the store.
type DashboardReader interface {
	ListSelections(ctx context.Context, opts store.ListOptions) (store.Page[store.Selection], error)
	ListObjections(ctx context.Context, selectionID, applicationID string, opts store.ListOptions) (store.Page[store.Objection], error)
	ListStageResults(ctx context.Context, selectionID string) ([]store.StageResult, error)
	ListAuditEvents(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.AuditEvent], error)
}

// Dashboard computes the rows of every selection at now. define decodes a selection's
// definition; a selection it fails on is an error, since the dashboard would otherwise hide
// it.
func Dashboard(ctx context.Context, r DashboardReader, define func(store.Selection) (Definition, error), now time.Time) ([]DashboardRow, error) {
	sels, err := all(ctx, func(o store.ListOptions) (store.Page[store.Selection], error) {
		o.OrderBy = "name"
		return r.ListSelections(ctx, o)
	})
	if err != nil {
		return nil, fmt.Errorf("report: dashboard: %w", err)
	}
	out := make([]DashboardRow, 0, len(sels))
	for _, sel := range sels {
		def, err := define(sel)
		if err != nil {
			return nil, fmt.Errorf("report: dashboard: definition of %s: %w", sel.ID, err)
		}
		f := Facts{Selection: sel, Definition: def}
		if !workflows.Stage(sel.Stage).Terminal() {
			if f.Objections, err = all(ctx, func(o store.ListOptions) (store.Page[store.Objection], error) {
				o.Filter = "state = PENDING"
				return r.ListObjections(ctx, sel.ID, "", o)
			}); err != nil {
				return nil, fmt.Errorf("report: dashboard: objections of %s: %w", sel.ID, err)
			}
			if f.Results, err = r.ListStageResults(ctx, sel.ID); err != nil {
				return nil, fmt.Errorf("report: dashboard: %w", err)
			}
			if sel.Phase == string(workflows.PhaseAppointment) {
				if f.Events, err = all(ctx, func(o store.ListOptions) (store.Page[store.AuditEvent], error) {
					o.Filter = "action = " + workflows.EvtShortlistSettled
					return r.ListAuditEvents(ctx, sel.ID, o)
				}); err != nil {
					return nil, fmt.Errorf("report: dashboard: events of %s: %w", sel.ID, err)
				}
			}
		}
		out = append(out, DashboardRowOf(f, now))
	}
	return out, nil
}

// DashboardRowOf is the dashboard row of f at now. f needs the selection, its pending
// objections, its published results and (in the appointment phase) its ShortlistSettled
// event.
func DashboardRowOf(f Facts, now time.Time) DashboardRow {
	sel := f.Selection
	row := DashboardRow{SelectionID: sel.ID, PositionTitle: sel.PositionTitle, Agency: sel.Agency, Stage: sel.Stage,
		Phase: sel.Phase, Blocked: sel.Blocked}
	if workflows.Stage(sel.Stage).Terminal() {
		return row
	}
	cal := f.Definition.Calendar
	switch {
	case sel.Stage == string(workflows.StageAnnouncement):
		row.Window, row.Ends = WindowAnnouncement, sel.Window.Closes
	case sel.Phase == string(workflows.PhaseObjections):
		if r := f.latestResult(sel.Stage); r != nil && !r.ObjectionDeadline.IsZero() {
			row.Window, row.Ends = WindowObjections, r.ObjectionDeadline
		}
	case sel.Phase == string(workflows.PhaseAppointment):
		if i := slices.IndexFunc(f.Events, func(e store.AuditEvent) bool { return e.Action == workflows.EvtShortlistSettled }); i >= 0 {
			if due, err := f.Definition.Deadlines.AppointmentDue(cal, f.Events[i].WorkflowTime); err == nil {
				row.Window, row.Ends = WindowAppointment, due
				if !now.Before(due) {
					row.Overdue = append(row.Overdue, Overdue{Kind: OverdueAppointment, Due: due})
				}
			} else {
				row.CalendarError = true
			}
		}
	}
	if row.Window != "" && !row.Ends.IsZero() {
		n, err := WorkingDaysLeft(f.Definition, now, row.Ends)
		if err != nil {
			row.CalendarError = true
		}
		row.DaysLeft = n
	}
	for _, t := range ObjectionTimings(f, now) {
		if t.Overdue {
			row.Overdue = append(row.Overdue, Overdue{Kind: OverdueObjection, Objection: t.Objection, Due: t.Due})
		}
	}
	return row
}

// WorkingDaysLeft counts the working days from now's local day to the last day of a window
// that ends at ends, both included: on the last day of a window one day is left; after its
// end none.
func WorkingDaysLeft(def Definition, now, ends time.Time) (int, error) {
	if !now.Before(ends) {
		return 0, nil
	}
	today, err := def.Calendar.LocalDate(now)
	if err != nil {
		return 0, err
	}
	last, err := lastDay(def.Calendar, ends)
	if err != nil {
		return 0, err
	}
	return def.Calendar.CountWorkingDays(today, last)
}

// Dashboard sort keys.
const (
	SortName     = "name"
	SortStage    = "stage"
	SortDaysLeft = "days_left"
	SortOverdue  = "overdue"
)

// SortDashboard orders rows by key: the selection name, the stage (in process order), the
// working days left (fewest first, rows without a window last) or the overdue items (most
// first, blocked selections before them). Ties go by name.
func SortDashboard(rows []DashboardRow, key string) {
	slices.SortStableFunc(rows, func(a, b DashboardRow) int {
		c := 0
		switch key {
		case SortStage:
			c = stageOrder(a.Stage) - stageOrder(b.Stage)
		case SortDaysLeft:
			c = daysKey(a) - daysKey(b)
		case SortOverdue:
			c = urgency(b) - urgency(a)
		}
		if c != 0 {
			return c
		}
		return strings.Compare(a.SelectionID, b.SelectionID)
	})
}

func stageOrder(stage string) int {
	i := slices.Index([]string{"STAGE_SCHEDULED", "STAGE_ANNOUNCEMENT", "STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMPETENCY_TEST",
		"STAGE_INTERVIEW", "STAGE_COMMITTEE_DECISION", "STAGE_CLOSED", "STAGE_CANCELLED"}, stage)
	if i < 0 {
		return 100
	}
	return i
}

func daysKey(r DashboardRow) int {
	if r.Window == "" {
		return 1 << 20
	}
	return r.DaysLeft
}

func urgency(r DashboardRow) int {
	u := len(r.Overdue)
	if r.Blocked != nil {
		u += 1000
	}
	return u
}
