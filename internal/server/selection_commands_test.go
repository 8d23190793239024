package server

import (
	"strings"
	"testing"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

func TestSuppliedYear(t *testing.T) {
	day := func(date string, working bool) *seleksiv1.HolidayOverride {
		return &seleksiv1.HolidayOverride{Date: date, WorkingDay: working, Description: "libur"}
	}
	tests := []struct {
		name    string
		days    []*seleksiv1.HolidayOverride
		wantErr string
	}{
		{"the year's days off", []*seleksiv1.HolidayOverride{day("2027-01-01", false), day("2027-03-10", false)}, ""},
		{"a day of another year", []*seleksiv1.HolidayOverride{day("2026-12-31", false)}, "not in 2027"},
		{"a working day", []*seleksiv1.HolidayOverride{day("2027-01-02", true)}, "days off only"},
		{"an impossible date", []*seleksiv1.HolidayOverride{day("2027-02-30", false)}, "days[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, err := suppliedYear(&seleksiv1.SupplyHolidaysRequest{Year: 2027, Days: tt.days})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cal, err := calendar.New(calendar.WIB, []calendar.Year{y})
			if err != nil {
				t.Fatalf("the supplied year is not a valid calendar: %v", err)
			}
			if w, _ := cal.IsWorkingDay(calendar.MustDate("2027-03-10")); w {
				t.Error("a supplied day off counts as a working day")
			}
			if w, _ := cal.IsWorkingDay(calendar.MustDate("2027-03-11")); !w {
				t.Error("an ordinary Thursday is not a working day")
			}
		})
	}
}
