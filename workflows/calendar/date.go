package calendar

import (
	"fmt"
	"time"
)

// Date is a calendar day without a time or zone. It marshals as "YYYY-MM-DD" so that
// holiday lists and workflow histories stay readable.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, &Error{
			Code: CodeBadDate, Key: "calendar.bad_date", Args: []string{"date", s},
			EN: fmt.Sprintf("%q is not a date in the form YYYY-MM-DD", s),
			ID: fmt.Sprintf("%q bukan tanggal dengan format TTTT-BB-HH", s),
		}
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// MustDate parses "YYYY-MM-DD" and panics on error; for tests and constant tables.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Valid reports whether d names a real day (time.Date would silently normalise 31 April).
func (d Date) Valid() bool {
	t := d.utc()
	return d.Year > 0 && t.Year() == d.Year && t.Month() == d.Month && t.Day() == d.Day
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Weekday is the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// AddDays returns the date n calendar days after d (before, when n is negative).
func (d Date) AddDays(n int) Date {
	// Within the first 28 days of a month no date normalises, so the usual step of a
	// day-by-day walk needs no trip through time.Time.
	if d.Month >= time.January && d.Month <= time.December && d.Day >= 1 && n >= 0 && d.Day+n <= 28 {
		return Date{Year: d.Year, Month: d.Month, Day: d.Day + n}
	}
	t := d.utc().AddDate(0, 0, n)
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.utc().Before(e.utc()) }

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool { return d == Date{} }

// MarshalText implements encoding.TextMarshaler. The zero Date marshals as "" so that a
// value not yet set survives a round trip (in a query result or a continue-as-new input).
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
