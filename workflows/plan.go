package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// AnnouncementPlan is the announcement window of a selection as it will be counted when it
// opens at Opens: its close without extension, its latest close with every allowed extension,
// and the close of an objection window that opens at that latest close.
type AnnouncementPlan struct {
	Opens   time.Time
	Closes  time.Time
	LastDay calendar.Date
	// LatestCloses and LatestLastDay are the close after every allowed extension; equal to
	// Closes and LastDay when the selection allows none.
	LatestCloses  time.Time
	LatestLastDay calendar.Date
	// ObjectionCloses is the end of an objection window opening at LatestCloses: the earliest
	// the first objection window (after the screening result) can open when the announcement
	// runs its full course, so counting from there is the conservative check.
	ObjectionCloses time.Time
}

// PlanPart names the window of a plan that a calendar problem lies in.
type PlanPart string

// The parts of a plan, in the order they are counted.
const (
	PlanAnnouncement PlanPart = "announcement"
	PlanExtensions   PlanPart = "extensions"
	PlanObjections   PlanPart = "objections"
)

// PlanError reports the first window of a plan that cannot be counted, usually because it
// reaches a year with no holiday list (Err is then a *calendar.YearNotCoveredError).
type PlanError struct {
	Part PlanPart
	Err  error
}

func (e *PlanError) Error() string { return fmt.Sprintf("%s window: %v", e.Part, e.Err) }

func (e *PlanError) Unwrap() error { return e.Err }

// UncoveredYear is the year with no holiday list the window reaches, or 0 when the problem is
// another one.
func (e *PlanError) UncoveredYear() int {
	var ync *calendar.YearNotCoveredError
	if errors.As(e.Err, &ync) {
		return ync.Year
	}
	return 0
}

// PlanAnnouncementWindow counts the announcement window of windows w opening at open, with the
// calendar the selection will run on. It counts exactly as the workflow does: the window
// from open (openAnnouncement), each extension from the previous close (closeAnnouncement)
// and an objection window from a publication instant (results), so that the API's check at
// creation and the workflow can never disagree. It returns a *PlanError naming the first
// window that cannot be counted.
func PlanAnnouncementWindow(cal calendar.Calendar, w Windows, open time.Time) (AnnouncementPlan, error) {
	p := AnnouncementPlan{Opens: utc(open)}
	last, closes, err := cal.WindowClose(open, w.AnnouncementDays)
	if err != nil {
		return p, &PlanError{Part: PlanAnnouncement, Err: err}
	}
	p.LastDay, p.Closes = last, utc(closes)
	p.LatestLastDay, p.LatestCloses = last, utc(closes)
	for range w.MaxExtensions {
		last, closes, err = cal.WindowClose(p.LatestCloses, w.ExtensionDays)
		if err != nil {
			return p, &PlanError{Part: PlanExtensions, Err: err}
		}
		p.LatestLastDay, p.LatestCloses = last, utc(closes)
	}
	_, closes, err = cal.WindowClose(p.LatestCloses, w.ObjectionDays)
	if err != nil {
		return p, &PlanError{Part: PlanObjections, Err: err}
	}
	p.ObjectionCloses = utc(closes)
	return p, nil
}
