package server

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// The plan check at creation: a selection whose announcement, with every allowed extension,
// or whose first objection window reaches a year with no holiday list would stop in the
// workflow moments after the API said yes. The API counts the windows with
// workflows.PlanAnnouncementWindow, the same calendar calls the workflow makes, and refuses
// such a plan with a field violation that says how to supply the year.

// maxScheduleAhead bounds how far ahead an announcement can be scheduled: the plan must be
// counted against holiday lists that exist, and a plan approved by the oversight body goes
// stale long before a year has passed.
const maxScheduleAhead = 366 * 24 * time.Hour

// REST names of the fields the plan check names, as clients send them.
const (
	fieldAnnouncementDays = "selection.announcementWorkingDays"
	fieldExtensionDays    = "selection.extensionWorkingDays"
	fieldObjectionDays    = "selection.objectionWindowWorkingDays"
	fieldOpenTime         = "selection.announcementOpenTime"
)

// scheduledOpening checks the requested opening time against now: in the future and at most
// maxScheduleAhead away. Zero means the announcement opens at once.
func scheduledOpening(sel *seleksiv1.Selection, now time.Time, lang i18n.Lang) (time.Time, *errdetails.BadRequest_FieldViolation) {
	if sel.GetAnnouncementOpenTime() == nil {
		return time.Time{}, nil
	}
	at := sel.GetAnnouncementOpenTime().AsTime().UTC()
	var t i18n.Text
	switch {
	case !at.After(now):
		t = i18n.Text{ID: "waktu pembukaan pengumuman harus di masa mendatang; kosongkan untuk membukanya sekarang",
			EN: "the announcement opening time must lie in the future; leave it empty to open the announcement now"}
	case at.After(now.Add(maxScheduleAhead)):
		t = i18n.Text{ID: "pengumuman paling lambat dijadwalkan 366 hari ke depan",
			EN: "the announcement can be scheduled at most 366 days ahead"}
	default:
		return at, nil
	}
	return time.Time{}, &errdetails.BadRequest_FieldViolation{Field: fieldOpenTime, Description: t.In(lang), Reason: "OUT_OF_RANGE"}
}

// checkPlan counts the selection's announcement window opening at open and returns the plan,
// or the field violation of the first window that cannot be counted.
func checkPlan(in workflows.SelectionInput, open time.Time, lang i18n.Lang) (workflows.AnnouncementPlan, *errdetails.BadRequest_FieldViolation) {
	p, err := workflows.PlanAnnouncementWindow(in.Calendar, in.Windows, open)
	if err == nil {
		return p, nil
	}
	var pe *workflows.PlanError
	if !errors.As(err, &pe) {
		return p, &errdetails.BadRequest_FieldViolation{Field: "selection", Description: msgInvalidSelInput.In(lang), Reason: "invalid"}
	}
	w := in.Windows
	field := fieldAnnouncementDays
	var what i18n.Text
	switch pe.Part {
	case workflows.PlanAnnouncement:
		what = i18n.Text{
			ID: fmt.Sprintf("Jangka waktu pengumuman %d hari kerja", w.AnnouncementDays),
			EN: fmt.Sprintf("The announcement window of %d working days", w.AnnouncementDays)}
	case workflows.PlanExtensions:
		field = fieldExtensionDays
		what = i18n.Text{
			ID: fmt.Sprintf("Pengumuman %d hari kerja beserta seluruh perpanjangan yang diizinkan (%d kali %d hari kerja)",
				w.AnnouncementDays, w.MaxExtensions, w.ExtensionDays),
			EN: fmt.Sprintf("The announcement of %d working days with every allowed extension (%d of %d working days)",
				w.AnnouncementDays, w.MaxExtensions, w.ExtensionDays)}
	case workflows.PlanObjections:
		field = fieldObjectionDays
		last := p.LatestLastDay.String()
		what = i18n.Text{
			ID: fmt.Sprintf("Masa sanggah pertama (%d hari kerja setelah pengumuman paling lambat ditutup pada akhir %s)", w.ObjectionDays, last),
			EN: fmt.Sprintf("The first objection window (%d working days after the announcement closes at the latest, at the end of %s)", w.ObjectionDays, last)}
	}
	year := pe.UncoveredYear()
	if year == 0 {
		// Not a missing year (a window too long to count, say): the calendar's own words.
		t := i18n.Text{ID: pe.Err.Error(), EN: pe.Err.Error()}
		var ce *calendar.Error
		if errors.As(pe.Err, &ce) {
			t = i18n.Text{ID: ce.ID, EN: ce.EN}
		}
		return p, &errdetails.BadRequest_FieldViolation{Field: field, Description: what.In(lang) + ": " + t.In(lang), Reason: "invalid"}
	}
	t := i18n.Text{
		ID: fmt.Sprintf("%s mencapai tahun %d, yang daftar hari liburnya belum tersedia. Cantumkan seluruh hari libur nasional "+
			"dan cuti bersama tahun %d sebagai hari libur di holidayOverrides saat membuat seleksi, atau perpendek jangka waktunya.",
			what.ID, year, year),
		EN: fmt.Sprintf("%s reaches %d, for which no holiday list is known yet. Supply every national holiday and joint leave day "+
			"(cuti bersama) of %d as days off in holidayOverrides when creating the selection, or shorten the window.",
			what.EN, year, year),
	}
	return p, &errdetails.BadRequest_FieldViolation{Field: field, Description: t.In(lang), Reason: calendar.CodeYearNotCovered}
}

// planView is the announcement plan as the API returns it, in UTC and in the agency's zone.
func planView(p workflows.AnnouncementPlan, in workflows.SelectionInput, zone seleksiv1.TimeZone, scheduled bool, lang i18n.Lang) *seleksiv1.AnnouncementPlan {
	loc := time.UTC
	if l, err := in.Calendar.Zone.Location(); err == nil {
		loc = l
	}
	local := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	// The listed days off the count skipped, from the opening day to the latest last day.
	var off []*seleksiv1.PlanDayOff
	if first, err := in.Calendar.LocalDate(p.Opens); err == nil && !p.LatestLastDay.IsZero() {
		for d := first; !p.LatestLastDay.Before(d); d = d.AddDays(1) {
			h, ok := in.Calendar.Holiday(d)
			if !ok {
				continue
			}
			name := h.NameID
			if lang == i18n.EN && h.NameEN != "" {
				name = h.NameEN
			}
			off = append(off, &seleksiv1.PlanDayOff{Date: d.String(), Name: name, JointLeave: h.Kind == calendar.JointLeave})
		}
	}
	return &seleksiv1.AnnouncementPlan{
		TimeZone:             zone,
		Scheduled:            scheduled,
		OpenTime:             ts(p.Opens),
		OpenLocalTime:        local(p.Opens),
		CloseTime:            ts(p.Closes),
		CloseLocalTime:       local(p.Closes),
		LastDay:              p.LastDay.String(),
		ExtensionsPossible:   in.Windows.MaxExtensions > 0,
		LatestCloseTime:      ts(p.LatestCloses),
		LatestCloseLocalTime: local(p.LatestCloses),
		LatestLastDay:        p.LatestLastDay.String(),
		DaysOff:              off,
	}
}
