// Package calendar owns the working-day arithmetic of a selection: which days count
// (Monday to Friday, minus national holidays and cuti bersama), in which Indonesian time zone
// the agency counts them, and when a window of N working days closes.
//
// It is pure and deterministic so that the selection workflow can use it during replay: time
// zones are fixed offsets (Indonesia has no daylight saving time, so nothing from the tz
// database is needed, and a worker's tzdata version can never change a replayed decision), and
// the holiday lists reach the workflow as part of its input rather than being read from disk.
// Loading the shipped lists (Shipped, Build) happens outside the workflow.
package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Zone is an Indonesian time zone. The value is the zone's common abbreviation.
type Zone string

// The three Indonesian time zones.
const (
	WIB  Zone = "WIB"  // Waktu Indonesia Barat, UTC+7.
	WITA Zone = "WITA" // Waktu Indonesia Tengah, UTC+8.
	WIT  Zone = "WIT"  // Waktu Indonesia Timur, UTC+9.
)

// Offset is the zone's fixed offset from UTC.
func (z Zone) Offset() (time.Duration, error) {
	switch z {
	case WIB:
		return 7 * time.Hour, nil
	case WITA:
		return 8 * time.Hour, nil
	case WIT:
		return 9 * time.Hour, nil
	}
	return 0, &Error{
		Code: CodeUnknownZone, Key: "calendar.unknown_zone", Args: []string{"zone", string(z)},
		EN: fmt.Sprintf("unknown time zone %q: use WIB, WITA or WIT", string(z)),
		ID: fmt.Sprintf("zona waktu %q tidak dikenal: gunakan WIB, WITA atau WIT", string(z)),
	}
}

// Location is a fixed-offset location for the zone, for formatting instants in local time.
func (z Zone) Location() (*time.Location, error) {
	off, err := z.Offset()
	if err != nil {
		return nil, err
	}
	return time.FixedZone(string(z), int(off/time.Second)), nil
}

// Kind says why a day is not a working day.
type Kind string

// The kinds of non-working days that the joint ministerial decree (SKB) lists.
const (
	NationalHoliday Kind = "libur_nasional"
	JointLeave      Kind = "cuti_bersama"
)

// Holiday is one listed day off.
type Holiday struct {
	Date   Date   `json:"date"`
	Kind   Kind   `json:"kind"`
	NameID string `json:"nameId,omitempty"`
	NameEN string `json:"nameEn,omitempty"`
}

// Year is the complete list of days off for one calendar year. A year is known to the
// calendar only when it has a Year entry, even an empty one: the lists are decreed late in the
// preceding year, and counting working days in an undecreed year would silently ignore its
// holidays.
type Year struct {
	Year int       `json:"year"`
	Days []Holiday `json:"days"`
	// Source records where the list came from ("shipped" or "selection"), for the audit.
	Source string `json:"source,omitempty"`
}

// Sources of a year's list.
const (
	SourceShipped   = "shipped"
	SourceSelection = "selection"
)

// Calendar is the working-day calendar of one selection. Its zero value is not usable; build
// one with New or Build. It is a plain value that serialises to JSON so that it can travel in
// a workflow input.
type Calendar struct {
	Zone  Zone   `json:"zone"`
	Years []Year `json:"years"`
}

// New checks the zone and the year lists and returns a calendar with the years sorted.
func New(zone Zone, years []Year) (Calendar, error) {
	c := Calendar{Zone: zone, Years: slices.Clone(years)}
	slices.SortFunc(c.Years, func(a, b Year) int { return a.Year - b.Year })
	if err := c.Validate(); err != nil {
		return Calendar{}, err
	}
	return c, nil
}

// Build returns a calendar for the zone from the shipped lists, with every year in supplied
// replacing the shipped list of the same year (a selection can correct a list or supply a
// year that was not shipped yet).
func Build(zone Zone, supplied []Year) (Calendar, error) {
	shipped, err := Shipped()
	if err != nil {
		return Calendar{}, err
	}
	var years []Year
	for _, y := range shipped {
		if !slices.ContainsFunc(supplied, func(s Year) bool { return s.Year == y.Year }) {
			years = append(years, y)
		}
	}
	for _, s := range supplied {
		if s.Source == "" {
			s.Source = SourceSelection
		}
		years = append(years, s)
	}
	return New(zone, years)
}

// Validate reports the first problem with the calendar: an unknown zone, a year listed twice,
// or a day that lies outside its year or is listed twice.
func (c Calendar) Validate() error {
	if _, err := c.Zone.Offset(); err != nil {
		return err
	}
	for i, y := range c.Years {
		if y.Year < 2000 || y.Year > 2200 {
			return &Error{
				Code: CodeBadList, Key: "calendar.year_out_of_range", Args: []string{"year", strconv.Itoa(y.Year)},
				EN: fmt.Sprintf("holiday list for year %d is outside the supported range 2000-2200", y.Year),
				ID: fmt.Sprintf("daftar hari libur tahun %d di luar rentang yang didukung (2000-2200)", y.Year),
			}
		}
		if i > 0 && c.Years[i-1].Year == y.Year {
			return &Error{
				Code: CodeBadList, Key: "calendar.year_twice", Args: []string{"year", strconv.Itoa(y.Year)},
				EN: fmt.Sprintf("the holiday list for %d is given twice", y.Year),
				ID: fmt.Sprintf("daftar hari libur tahun %d diberikan dua kali", y.Year),
			}
		}
		for j, d := range y.Days {
			if !d.Date.Valid() || d.Date.Year != y.Year {
				return &Error{
					Code: CodeBadList, Key: "calendar.day_not_in_year", Args: []string{"day", d.Date.String(), "year", strconv.Itoa(y.Year)},
					EN: fmt.Sprintf("day %s is not a valid date of %d", d.Date, y.Year),
					ID: fmt.Sprintf("tanggal %s bukan tanggal yang sah pada tahun %d", d.Date, y.Year),
				}
			}
			if d.Kind != NationalHoliday && d.Kind != JointLeave {
				return &Error{
					Code: CodeBadList, Key: "calendar.day_kind", Args: []string{"day", d.Date.String(), "kind", string(d.Kind)},
					EN: fmt.Sprintf("day %s has unknown kind %q (use %s or %s)", d.Date, string(d.Kind), NationalHoliday, JointLeave),
					ID: fmt.Sprintf("tanggal %s berjenis %q yang tidak dikenal (gunakan %s atau %s)", d.Date, string(d.Kind), NationalHoliday, JointLeave),
				}
			}
			for _, e := range y.Days[:j] {
				if e.Date == d.Date {
					return &Error{
						Code: CodeBadList, Key: "calendar.day_twice", Args: []string{"day", d.Date.String(), "year", strconv.Itoa(y.Year)},
						EN: fmt.Sprintf("day %s is listed twice for %d", d.Date, y.Year),
						ID: fmt.Sprintf("tanggal %s tercantum dua kali pada tahun %d", d.Date, y.Year),
					}
				}
			}
		}
	}
	return nil
}

// Covers reports whether the calendar has a holiday list for the year.
func (c Calendar) Covers(year int) bool {
	return c.year(year) != nil
}

func (c Calendar) year(year int) *Year {
	for i := range c.Years {
		if c.Years[i].Year == year {
			return &c.Years[i]
		}
	}
	return nil
}

// IsWorkingDay reports whether d is a working day. It fails with a *YearNotCoveredError when
// the calendar has no list for d's year.
func (c Calendar) IsWorkingDay(d Date) (bool, error) {
	y := c.year(d.Year)
	if y == nil {
		return false, &YearNotCoveredError{Year: d.Year}
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false, nil
	}
	for _, h := range y.Days {
		if h.Date == d {
			return false, nil
		}
	}
	return true, nil
}

// Holiday returns the listed day off on d, if any.
func (c Calendar) Holiday(d Date) (Holiday, bool) {
	if y := c.year(d.Year); y != nil {
		for _, h := range y.Days {
			if h.Date == d {
				return h, true
			}
		}
	}
	return Holiday{}, false
}

// maxScan bounds every day-by-day walk. No window in a selection is longer than a few months;
// the bound turns a nonsensical request into an error instead of a long loop in a workflow.
const maxScan = 3 * 366

// AddWorkingDays returns the n-th working day after d (d itself does not count). n must be at
// least 1.
func (c Calendar) AddWorkingDays(d Date, n int) (Date, error) {
	if n < 1 {
		return Date{}, errBadCount(n)
	}
	cur := d
	for range maxScan {
		cur = cur.AddDays(1)
		ok, err := c.IsWorkingDay(cur)
		if err != nil {
			return Date{}, err
		}
		if ok {
			n--
			if n == 0 {
				return cur, nil
			}
		}
	}
	return Date{}, errTooLong()
}

// CountWorkingDays counts the working days from from to to, both included. It is 0 when to is
// before from.
func (c Calendar) CountWorkingDays(from, to Date) (int, error) {
	n := 0
	for cur, i := from, 0; !to.Before(cur); cur, i = cur.AddDays(1), i+1 {
		if i >= maxScan {
			return 0, errTooLong()
		}
		ok, err := c.IsWorkingDay(cur)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// LocalDate is the calendar date of instant t in the agency's zone.
func (c Calendar) LocalDate(t time.Time) (Date, error) {
	off, err := c.Zone.Offset()
	if err != nil {
		return Date{}, err
	}
	u := t.UTC().Add(off)
	return Date{Year: u.Year(), Month: u.Month(), Day: u.Day()}, nil
}

// StartOf is the instant at which day d begins (00:00) in the agency's zone.
func (c Calendar) StartOf(d Date) (time.Time, error) {
	off, err := c.Zone.Offset()
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(-off), nil
}

// EndOf is the instant at which day d ends in the agency's zone, which is the start of the
// next day. Windows are half-open: an action at exactly EndOf is too late.
func (c Calendar) EndOf(d Date) (time.Time, error) {
	return c.StartOf(d.AddDays(1))
}

// WindowClose returns the last working day of a window of n working days that opens at the
// instant open, and the instant the window closes (the end of that day in the agency's zone).
//
// The opening day counts as the first day when it is a working day, because announcements
// and results are published during office hours and the rules count the window from the day
// of publication; when the window opens on a weekend or holiday, the first working day after
// it is day one.
func (c Calendar) WindowClose(open time.Time, n int) (Date, time.Time, error) {
	if n < 1 {
		return Date{}, time.Time{}, errBadCount(n)
	}
	first, err := c.LocalDate(open)
	if err != nil {
		return Date{}, time.Time{}, err
	}
	ok, err := c.IsWorkingDay(first)
	if err != nil {
		return Date{}, time.Time{}, err
	}
	last := first
	if ok {
		if n > 1 {
			last, err = c.AddWorkingDays(first, n-1)
		}
	} else {
		last, err = c.AddWorkingDays(first, n)
	}
	if err != nil {
		return Date{}, time.Time{}, err
	}
	end, err := c.EndOf(last)
	if err != nil {
		return Date{}, time.Time{}, err
	}
	return last, end, nil
}

func errBadCount(n int) error {
	return &Error{
		Code: CodeBadCount, Key: "calendar.bad_count", Args: []string{"count", strconv.Itoa(n)},
		EN: fmt.Sprintf("a window must last at least one working day, not %d", n),
		ID: fmt.Sprintf("jangka waktu paling sedikit satu hari kerja, bukan %d", n),
	}
}

func errTooLong() error {
	return &Error{
		Code: CodeTooLong, Key: "calendar.too_long", Args: []string{"max", strconv.Itoa(maxScan)},
		EN: fmt.Sprintf("the window is longer than %d calendar days", maxScan),
		ID: fmt.Sprintf("jangka waktu lebih dari %d hari kalender", maxScan),
	}
}
