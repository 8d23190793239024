package calendar

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func shipped(t *testing.T, zone Zone, supplied ...Year) Calendar {
	t.Helper()
	c, err := Build(zone, supplied)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return c
}

func TestShippedLists(t *testing.T) {
	years, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if len(years) == 0 || years[0].Year != 2026 {
		t.Fatalf("want the 2026 list first, got %+v", years)
	}
	y := years[0]
	var holidays, leave int
	for _, d := range y.Days {
		switch d.Kind {
		case NationalHoliday:
			holidays++
		case JointLeave:
			leave++
		}
	}
	// The SKB for 2026 lists 17 national holidays and 8 cuti bersama days.
	if holidays != 17 || leave != 8 {
		t.Errorf("2026: %d holidays and %d joint-leave days, want 17 and 8", holidays, leave)
	}
	if y.Source != SourceShipped {
		t.Errorf("source = %q", y.Source)
	}
}

func year2027() Year {
	return Year{Year: 2027, Days: []Holiday{{Date: MustDate("2027-01-01"), Kind: NationalHoliday, NameEN: "New Year's Day"}}}
}

func TestWindowClose(t *testing.T) {
	wib := func(s string) time.Time {
		tt, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tt.Add(-7 * time.Hour)
	}
	tests := []struct {
		name     string
		zone     Zone
		supplied []Year
		open     time.Time
		days     int
		wantLast string
		wantEnd  time.Time
		wantErr  string
	}{
		{
			name: "plain week", zone: WIB, open: wib("2026-07-06 09:00"), days: 5,
			wantLast: "2026-07-10", wantEnd: time.Date(2026, 7, 10, 17, 0, 0, 0, time.UTC),
		},
		{
			name: "opening on a Saturday starts on Monday", zone: WIB, open: wib("2026-07-04 09:00"), days: 1,
			wantLast: "2026-07-06", wantEnd: time.Date(2026, 7, 6, 17, 0, 0, 0, time.UTC),
		},
		{
			// 18-24 March 2026: Nyepi, Idul Fitri and their joint leave form one run of seven days off.
			name: "Idul Fitri run", zone: WIB, open: wib("2026-03-16 09:00"), days: 3,
			wantLast: "2026-03-25", wantEnd: time.Date(2026, 3, 25, 17, 0, 0, 0, time.UTC),
		},
		{
			name: "opening inside the Idul Fitri run", zone: WIB, open: wib("2026-03-20 09:00"), days: 2,
			wantLast: "2026-03-26", wantEnd: time.Date(2026, 3, 26, 17, 0, 0, 0, time.UTC),
		},
		{
			name: "Christmas, still inside 2026", zone: WIB, open: wib("2026-12-21 09:00"), days: 5,
			wantLast: "2026-12-29", wantEnd: time.Date(2026, 12, 29, 17, 0, 0, 0, time.UTC),
		},
		{
			name: "into 2027 without a list is refused", zone: WIB, open: wib("2026-12-21 09:00"), days: 8,
			wantErr: "no holiday list for 2027",
		},
		{
			name: "into 2027 with supplied days", zone: WIB, supplied: []Year{year2027()}, open: wib("2026-12-21 09:00"), days: 8,
			wantLast: "2027-01-04", wantEnd: time.Date(2027, 1, 4, 17, 0, 0, 0, time.UTC),
		},
		{
			name: "opening in 2027 without a list", zone: WIB, open: wib("2027-01-05 09:00"), days: 1,
			wantErr: "no holiday list for 2027",
		},
		// 2026-07-10T16:30Z is Friday 23:30 in WIB but already Saturday in WITA and WIT.
		{
			name: "WIB Friday night counts Friday", zone: WIB, open: time.Date(2026, 7, 10, 16, 30, 0, 0, time.UTC), days: 1,
			wantLast: "2026-07-10", wantEnd: time.Date(2026, 7, 10, 17, 0, 0, 0, time.UTC),
		},
		{
			name: "WITA same instant is Saturday", zone: WITA, open: time.Date(2026, 7, 10, 16, 30, 0, 0, time.UTC), days: 1,
			wantLast: "2026-07-13", wantEnd: time.Date(2026, 7, 13, 16, 0, 0, 0, time.UTC),
		},
		{
			name: "WIT same instant is Saturday", zone: WIT, open: time.Date(2026, 7, 10, 16, 30, 0, 0, time.UTC), days: 1,
			wantLast: "2026-07-13", wantEnd: time.Date(2026, 7, 13, 15, 0, 0, 0, time.UTC),
		},
		{
			name: "zero days", zone: WIB, open: wib("2026-07-06 09:00"), days: 0,
			wantErr: "at least one working day",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := shipped(t, tt.zone, tt.supplied...)
			last, end, err := c.WindowClose(tt.open, tt.days)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if last.String() != tt.wantLast || !end.Equal(tt.wantEnd) {
				t.Errorf("got %s / %s, want %s / %s", last, end.UTC(), tt.wantLast, tt.wantEnd)
			}
		})
	}
}

func TestYearNotCoveredIsTyped(t *testing.T) {
	c := shipped(t, WITA)
	_, err := c.AddWorkingDays(MustDate("2026-12-30"), 5)
	var ync *YearNotCoveredError
	if !errors.As(err, &ync) || ync.Year != 2027 {
		t.Fatalf("err = %v, want YearNotCoveredError for 2027", err)
	}
	if !strings.Contains(ync.Indonesian(), "2027") {
		t.Errorf("Indonesian message %q", ync.Indonesian())
	}
}

func TestAddAndCountWorkingDays(t *testing.T) {
	c := shipped(t, WIT, year2027())
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-17", 1, "2026-03-25"}, // across the Idul Fitri run
		{"2026-05-13", 1, "2026-05-18"}, // Ascension Thursday and the joint leave Friday
		{"2026-12-23", 1, "2026-12-28"}, // Christmas joint leave and day
		{"2026-12-31", 1, "2027-01-04"}, // New Year 2027 from a supplied list
		{"2026-07-06", 10, "2026-07-20"},
	}
	for _, tt := range tests {
		got, err := c.AddWorkingDays(MustDate(tt.from), tt.n)
		if err != nil {
			t.Fatalf("%s + %d: %v", tt.from, tt.n, err)
		}
		if got.String() != tt.want {
			t.Errorf("%s + %d = %s, want %s", tt.from, tt.n, got, tt.want)
		}
		// Counting back must agree with adding: the days after from up to got.
		n, err := c.CountWorkingDays(MustDate(tt.from).AddDays(1), got)
		if err != nil || n != tt.n {
			t.Errorf("count %s..%s = %d, %v; want %d", tt.from, got, n, err, tt.n)
		}
	}
	// March 2026: 22 weekdays minus Nyepi and Idul Fitri days falling on weekdays (18, 19, 20, 23, 24).
	n, err := c.CountWorkingDays(MustDate("2026-03-01"), MustDate("2026-03-31"))
	if err != nil || n != 17 {
		t.Errorf("working days in March 2026 = %d, %v; want 17", n, err)
	}
}

func TestValidateRejectsBadLists(t *testing.T) {
	tests := []struct {
		name  string
		zone  Zone
		years []Year
		want  string
	}{
		{"unknown zone", "CET", nil, "unknown time zone"},
		{"day outside its year", WIB, []Year{{Year: 2027, Days: []Holiday{{Date: MustDate("2026-01-01"), Kind: NationalHoliday}}}}, "not a valid date of 2027"},
		{"duplicate day", WIB, []Year{{Year: 2027, Days: []Holiday{{Date: MustDate("2027-01-01"), Kind: NationalHoliday}, {Date: MustDate("2027-01-01"), Kind: JointLeave}}}}, "listed twice"},
		{"unknown kind", WIB, []Year{{Year: 2027, Days: []Holiday{{Date: MustDate("2027-01-01"), Kind: "libur"}}}}, "unknown kind"},
		{"year twice", WIB, []Year{{Year: 2027}, {Year: 2027}}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.zone, tt.years)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSuppliedYearOverridesShipped(t *testing.T) {
	// An agency-specific correction: 2026-07-06 declared a day off; everything else in 2026 is
	// dropped because a supplied year replaces the shipped list entirely.
	c := shipped(t, WIB, Year{Year: 2026, Days: []Holiday{{Date: MustDate("2026-07-06"), Kind: JointLeave}}})
	if ok, _ := c.IsWorkingDay(MustDate("2026-07-06")); ok {
		t.Error("supplied day off counted as working day")
	}
	if ok, _ := c.IsWorkingDay(MustDate("2026-08-17")); !ok {
		t.Error("shipped list was not replaced")
	}
}

func TestDateText(t *testing.T) {
	var zero Date
	b, err := json.Marshal(struct{ D Date }{})
	if err != nil || json.Unmarshal(b, &struct{ D *Date }{&zero}) != nil || !zero.IsZero() {
		t.Errorf("zero date round trip: %s, %v", b, err)
	}
	var d Date
	if err := d.UnmarshalText([]byte("2026-02-29")); err == nil {
		t.Error("2026-02-29 accepted")
	}
	if err := d.UnmarshalText([]byte("2026-02-28")); err != nil || d.String() != "2026-02-28" {
		t.Errorf("got %v, %v", d, err)
	}
}

// Shipped parses the embedded lists once and hands out copies: what one caller does to its
// lists must not reach another's, and every copy must be what parsing gives (a calendar
// travels in workflow inputs, so even an empty list must stay [] and not become null).
func TestShippedCopies(t *testing.T) {
	parsed, err := load(shippedData, "data")
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(parsed)
	if err != nil {
		t.Fatal(err)
	}
	first, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	first[0].Days[0].Kind = JointLeave
	first[0].Days = append(first[0].Days[:1], first[0].Days[2:]...)
	first[0].Source = "changed"
	second, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(second)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Shipped after a caller changed its copy:\n%s\nwant\n%s", got, want)
	}
	empty, err := json.Marshal(Year{Year: 2030, Days: slices.Clone([]Holiday{})})
	if err != nil || !strings.Contains(string(empty), `"days":[]`) {
		t.Errorf("an empty list encodes as %s, %v", empty, err)
	}
}

// AddDays takes a short cut inside a month; it must agree with time.Time's arithmetic for
// every day, across month, leap-day and year ends, and for dates that time.Date normalises.
func TestAddDaysAgreesWithTime(t *testing.T) {
	var days []Date
	for d := MustDate("2027-12-01"); d.Year < 2029; d = d.AddDays(1) {
		days = append(days, d)
	}
	days = append(days, Date{2026, 2, 29}, Date{2026, 4, 31}, Date{2026, 1, 0}, Date{2026, 13, 5}, Date{2026, 0, 5}, Date{0, 1, 1})
	for _, d := range days {
		for _, n := range []int{-400, -29, -1, 0, 1, 2, 7, 27, 28, 31, 366} {
			tt := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
			want := Date{Year: tt.Year(), Month: tt.Month(), Day: tt.Day()}
			if got := d.AddDays(n); got != want {
				t.Fatalf("%+v.AddDays(%d) = %+v, want %+v", d, n, got, want)
			}
		}
	}
}
