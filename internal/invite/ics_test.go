package invite

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the parsed TZID is looked up by name

	"github.com/emersion/go-ical"
)

// TestBuildParsesBack: the file parses with go-ical, and UID, SEQUENCE, METHOD, the local
// start and end in the agency's zone, the venue or link and the attendee are as given.
func TestBuildParsesBack(t *testing.T) {
	wita := time.FixedZone("WITA", 8*3600)
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, wita)
	tests := []struct {
		name         string
		method       Method
		e            Event
		wantLocation string
		wantURL      string
		wantStatus   string
	}{
		{
			name:   "venue, first invitation",
			method: Request,
			e: Event{UID: "asg-1@seleksi.test", Sequence: 0, Summary: "Tes kompetensi", Start: start, End: start.Add(3 * time.Hour),
				Zone: wita, Location: "Gedung BKPSDM, Ruang 2; Lantai 3", Organizer: "panitia@bkpsdm.test", Attendee: "calon@example.go.id",
				Stamp: start.Add(-72 * time.Hour)},
			wantLocation: "Gedung BKPSDM, Ruang 2; Lantai 3", wantStatus: "CONFIRMED",
		},
		{
			name:   "online, changed twice",
			method: Request,
			e: Event{UID: "asg-2@seleksi.test", Sequence: 2, Summary: "Wawancara", Start: start, End: start.Add(time.Hour),
				Zone: wita, URL: "https://meet.example.go.id/abc", Stamp: start.Add(-time.Hour)},
			wantLocation: "https://meet.example.go.id/abc", wantURL: "https://meet.example.go.id/abc", wantStatus: "CONFIRMED",
		},
		{
			name:   "cancelled on a move",
			method: Cancel,
			e: Event{UID: "asg-1@seleksi.test", Sequence: 1, Summary: "Tes kompetensi", Start: start, End: start.Add(3 * time.Hour),
				Zone: wita, Location: "Gedung BKPSDM", Stamp: start.Add(-time.Hour)},
			wantLocation: "Gedung BKPSDM", wantStatus: "CANCELLED",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Build(tt.method, tt.e)
			if err != nil {
				t.Fatal(err)
			}
			cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, b)
			}
			if m, _ := cal.Props.Text(ical.PropMethod); m != string(tt.method) {
				t.Errorf("METHOD = %q, want %s", m, tt.method)
			}
			evs := cal.Events()
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			ev := evs[0]
			text := func(name string) string {
				v, err := ev.Props.Text(name)
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				return v
			}
			if got := text(ical.PropUID); got != tt.e.UID {
				t.Errorf("UID = %q, want %q", got, tt.e.UID)
			}
			if p := ev.Props.Get(ical.PropSequence); p == nil || p.Value != itoa(tt.e.Sequence) {
				t.Errorf("SEQUENCE = %+v, want %d", p, tt.e.Sequence)
			}
			if got := text(ical.PropLocation); got != tt.wantLocation {
				t.Errorf("LOCATION = %q, want %q", got, tt.wantLocation)
			}
			if got := text(ical.PropStatus); got != tt.wantStatus {
				t.Errorf("STATUS = %q, want %q", got, tt.wantStatus)
			}
			if tt.wantURL != "" {
				if u, err := ev.Props.URI(ical.PropURL); err != nil || u.String() != tt.wantURL {
					t.Errorf("URL = %v, %v", u, err)
				}
			}
			ds := ev.Props.Get(ical.PropDateTimeStart)
			if ds.Params.Get(ical.ParamTimezoneID) != "Asia/Makassar" || ds.Value != "20261207T080000" {
				t.Errorf("DTSTART = %s;TZID=%s, want 08:00 local in Asia/Makassar", ds.Value, ds.Params.Get(ical.ParamTimezoneID))
			}
			gotStart, err := ev.DateTimeStart(nil)
			if err != nil || !gotStart.Equal(tt.e.Start) {
				t.Errorf("DTSTART instant = %v, %v; want %v", gotStart, err, tt.e.Start)
			}
			gotEnd, err := ev.DateTimeEnd(nil)
			if err != nil || !gotEnd.Equal(tt.e.End) {
				t.Errorf("DTEND instant = %v, %v; want %v", gotEnd, err, tt.e.End)
			}
			if tt.e.Attendee != "" {
				a := ev.Props.Get(ical.PropAttendee)
				if a == nil || a.Value != "mailto:"+tt.e.Attendee || a.Params.Get(ical.ParamRSVP) != "TRUE" {
					t.Errorf("ATTENDEE = %+v", a)
				}
			}
			if !strings.Contains(string(b), "TZOFFSETTO:+0800") {
				t.Errorf("no VTIMEZONE with +0800:\n%s", b)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBuildRefuses(t *testing.T) {
	wib := time.FixedZone("WIB", 7*3600)
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, wib)
	ok := Event{UID: "u", Summary: "s", Start: start, End: start.Add(time.Hour), Zone: wib, Location: "x"}
	tests := []struct {
		name string
		edit func(*Event)
	}{
		{"no UID", func(e *Event) { e.UID = "" }},
		{"no zone", func(e *Event) { e.Zone = nil }},
		{"ends before it starts", func(e *Event) { e.End = e.Start }},
		{"no place", func(e *Event) { e.Location = "" }},
		{"link not http", func(e *Event) { e.Location, e.URL = "", "javascript:alert(1)" }},
	}
	if _, err := Build(Request, ok); err != nil {
		t.Fatalf("the valid event: %v", err)
	}
	for _, tt := range tests {
		e := ok
		tt.edit(&e)
		if _, err := Build(Request, e); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
