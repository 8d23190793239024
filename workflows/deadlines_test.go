package workflows

import (
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

func TestDeadlinesDue(t *testing.T) {
	years, err := calendar.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.WIB, years)
	if err != nil {
		t.Fatal(err)
	}
	wib := time.FixedZone("WIB", 7*3600)
	tests := []struct {
		name string
		d    Deadlines
		at   time.Time
		kind string
		want time.Time
	}{
		// Thursday 2026-03-12: three working days after are Fri 13, Mon 16 and Tue 17
		// (no holiday falls between).
		{"objection default", Deadlines{}, time.Date(2026, 3, 12, 10, 0, 0, 0, wib), "objection", time.Date(2026, 3, 18, 0, 0, 0, 0, wib)},
		{"objection filed late in the day", Deadlines{ObjectionAnswerDays: 1}, time.Date(2026, 3, 12, 23, 59, 0, 0, wib), "objection", time.Date(2026, 3, 14, 0, 0, 0, 0, wib)},
		// Friday 2026-08-14: Monday the 17th is Independence Day.
		{"objection over a holiday", Deadlines{ObjectionAnswerDays: 1}, time.Date(2026, 8, 14, 9, 0, 0, 0, wib), "objection", time.Date(2026, 8, 19, 0, 0, 0, 0, wib)},
		{"appointment default", Deadlines{}, time.Date(2026, 3, 2, 9, 0, 0, 0, wib), "appointment", time.Date(2026, 3, 17, 0, 0, 0, 0, wib)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got time.Time
			var err error
			if tt.kind == "objection" {
				got, err = tt.d.ObjectionAnswerDue(cal, tt.at)
			} else {
				got, err = tt.d.AppointmentDue(cal, tt.at)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("due %s, want %s", got.In(wib), tt.want)
			}
		})
	}
}
