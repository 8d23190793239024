package calendar

import (
	"fmt"
	"testing"
	"time"
)

// Benchmarks of the working-day arithmetic that every stage deadline, reminder and report
// runs, on the shipped 2026 list. They report; no test asserts their speed.

func benchCalendar(b *testing.B) Calendar {
	b.Helper()
	c, err := Build(WIB, []Year{{Year: 2027, Days: []Holiday{{Date: MustDate("2027-01-01"), Kind: NationalHoliday}}}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkBuild is what building a selection's calendar costs: the server does it for every
// selection it creates or validates.
func BenchmarkBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(WIB, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIsWorkingDay(b *testing.B) {
	c := benchCalendar(b)
	d := MustDate("2026-12-30") // after every listed day of 2026: the longest scan
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.IsWorkingDay(d); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkWindowClose covers the windows a selection opens: an objection window (3 working
// days), an announcement (5), an announcement with two extensions (15) and a long stage (60),
// opened just before the Idul Fitri run of days off so that the holidays are crossed.
func BenchmarkWindowClose(b *testing.B) {
	c := benchCalendar(b)
	open := time.Date(2026, 3, 16, 2, 0, 0, 0, time.UTC)
	for _, n := range []int{3, 5, 15, 60} {
		b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.WindowClose(open, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAddWorkingDays is an objection's answer deadline (5 working days) and a reminder
// far ahead (100), across the Christmas days and into the supplied 2027 list.
func BenchmarkAddWorkingDays(b *testing.B) {
	c := benchCalendar(b)
	from := MustDate("2026-09-01")
	for _, n := range []int{5, 100} {
		b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.AddWorkingDays(from, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCountWorkingDays is the dashboard's and the merit report's count of days left,
// over a month and over the whole year.
func BenchmarkCountWorkingDays(b *testing.B) {
	c := benchCalendar(b)
	for _, span := range []struct{ name, from, to string }{
		{"month", "2026-03-01", "2026-03-31"},
		{"year", "2026-01-01", "2026-12-31"},
	} {
		b.Run(span.name, func(b *testing.B) {
			from, to := MustDate(span.from), MustDate(span.to)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.CountWorkingDays(from, to); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
