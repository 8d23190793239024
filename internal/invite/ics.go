// Package invite owns the iCalendar (RFC 5545) invitations a candidate receives for a
// scheduled session: one VEVENT per assignment, whose UID stays the same for the life of the
// assignment and whose SEQUENCE grows each time it changes, so that a calendar replaces the
// old entry instead of adding a second one. It is pure: the caller passes the session and
// the assignment as values.
package invite

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// MediaType is the media type of the files Build returns, with the method a mail client
// reads to offer "accept" or to remove the entry.
func MediaType(m Method) string { return "text/calendar; charset=utf-8; method=" + string(m) }

// Method is the iTIP method of an invitation.
type Method string

// The methods used: a new or changed session, and a session the candidate no longer attends
// (moved elsewhere: the new session is a REQUEST with another UID).
const (
	Request Method = "REQUEST"
	Cancel  Method = "CANCEL"
)

// Event is one invitation.
type Event struct {
	// UID identifies the assignment across changes, such as "asg-...@seleksi.example.go.id".
	UID string
	// Sequence is 0 for the first invitation and grows with every change.
	Sequence int
	// Summary is the title in the candidate's calendar ("Tes kompetensi — Kepala Dinas ...").
	Summary     string
	Description string
	// Start and End are instants; Zone is the agency's zone (WIB, WITA, WIT) as a location
	// with that name, so DTSTART and DTEND read as the local time people were told.
	Start, End time.Time
	Zone       *time.Location
	// Location is the venue; URL the online meeting link. At least one is set.
	Location string
	URL      string
	// Organizer is the secretariat's mail address; Attendee the candidate's.
	Organizer, Attendee string
	// Stamp is when the invitation was made (DTSTAMP).
	Stamp time.Time
}

// Build renders an iCalendar file with one VEVENT and a VTIMEZONE for the agency's zone
// (fixed offsets: Indonesia has no daylight saving time).
func Build(m Method, e Event) ([]byte, error) {
	switch {
	case e.UID == "" || e.Summary == "":
		return nil, errors.New("invite: UID and summary are required")
	case e.Zone == nil:
		return nil, errors.New("invite: the agency's zone is required")
	case !e.End.After(e.Start):
		return nil, fmt.Errorf("invite: end %s is not after start %s", e.End, e.Start)
	case e.Location == "" && e.URL == "":
		return nil, errors.New("invite: a venue or a meeting link is required")
	case e.Sequence < 0:
		return nil, errors.New("invite: negative sequence")
	}
	tzid := ianaName(e.Zone.String())
	var meeting *url.URL
	if e.URL != "" {
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("invite: meeting link %q is not an http(s) URL", e.URL)
		}
		meeting = u
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//BKPSDM//Seleksi//ID")
	cal.Props.SetText(ical.PropMethod, string(m))
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")

	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, tzid)
	std := ical.NewComponent(ical.CompTimezoneStandard)
	_, off := e.Start.In(e.Zone).Zone()
	offset := utcOffset(off)
	std.Props.Set(raw(ical.PropTimezoneOffsetFrom, offset))
	std.Props.Set(raw(ical.PropTimezoneOffsetTo, offset))
	std.Props.SetText(ical.PropTimezoneName, e.Zone.String())
	std.Props.Set(raw(ical.PropDateTimeStart, "19700101T000000"))
	tz.Children = append(tz.Children, std)
	cal.Children = append(cal.Children, tz)

	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, e.UID)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, e.Stamp.UTC())
	ev.Props.Set(localTime(ical.PropDateTimeStart, e.Start.In(e.Zone), tzid))
	ev.Props.Set(localTime(ical.PropDateTimeEnd, e.End.In(e.Zone), tzid))
	ev.Props.Set(raw(ical.PropSequence, strconv.Itoa(e.Sequence)))
	ev.Props.SetText(ical.PropSummary, e.Summary)
	if e.Description != "" {
		ev.Props.SetText(ical.PropDescription, e.Description)
	}
	if e.Location != "" {
		ev.Props.SetText(ical.PropLocation, e.Location)
	}
	if meeting != nil {
		ev.Props.SetURI(ical.PropURL, meeting)
		if e.Location == "" {
			// Calendars show LOCATION, not URL, in their lists; the link is the place.
			ev.Props.SetText(ical.PropLocation, e.URL)
		}
	}
	status := "CONFIRMED"
	if m == Cancel {
		status = "CANCELLED"
	}
	ev.Props.SetText(ical.PropStatus, status)
	if e.Organizer != "" {
		ev.Props.Set(raw(ical.PropOrganizer, "mailto:"+e.Organizer))
	}
	if e.Attendee != "" {
		a := ical.NewProp(ical.PropAttendee)
		a.Value = "mailto:" + e.Attendee
		a.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
		a.Params.Set(ical.ParamParticipationStatus, "NEEDS-ACTION")
		a.Params.Set(ical.ParamRSVP, "TRUE")
		ev.Props.Set(a)
	}
	cal.Children = append(cal.Children, ev.Component)

	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("invite: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// localTime is a DATE-TIME in the zone named by TZID (RFC 5545 "form #3"), not in UTC, so
// that the invitation says 08:00 WIB as the letter does.
func localTime(name string, t time.Time, tzid string) *ical.Prop {
	p := ical.NewProp(name)
	p.Value = t.Format("20060102T150405")
	p.Params.Set(ical.ParamTimezoneID, tzid)
	return p
}

// raw is a property whose value is already in its default type's syntax (INTEGER,
// UTC-OFFSET, CAL-ADDRESS, a local DATE-TIME), which SetText would mark as TEXT.
func raw(name, value string) *ical.Prop {
	p := ical.NewProp(name)
	p.Value = value
	return p
}

// ianaName names the agency's zone as calendars know it: TZID "WIB" means nothing to a
// phone's calendar, "Asia/Jakarta" does. Other names pass through.
func ianaName(zone string) string {
	switch zone {
	case "WIB":
		return "Asia/Jakarta"
	case "WITA":
		return "Asia/Makassar"
	case "WIT":
		return "Asia/Jayapura"
	}
	return zone
}

func utcOffset(seconds int) string {
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	return fmt.Sprintf("%c%02d%02d", sign, seconds/3600, seconds%3600/60)
}

// FileName is the attachment's name: "undangan-<stage>.ics" in lower case.
func FileName(stage string) string {
	return "undangan-" + strings.ToLower(strings.ReplaceAll(stage, "_", "-")) + ".ics"
}
