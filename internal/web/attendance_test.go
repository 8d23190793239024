package web

import (
	"bytes"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// TestAttendanceTextsExist: every attendance text a template names, the flashes the handlers
// set and each absence policy's name are in both catalogs.
func TestAttendanceTextsExist(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	found := templateCodes(t, regexp.MustCompile(`"(attendance\.[a-z_.]+)"`))
	if len(found) < 10 {
		t.Fatalf("found only %d attendance texts in the templates: %v", len(found), found)
	}
	for _, c := range []string{"attendance.flash.present", "attendance.flash.absent", "attendance.flash.eliminated", "attendance.flash.policy"} {
		found[c] = true
	}
	// "attendance.policy" alone is the prefix the pages name the policies by, through .Enum.
	delete(found, "attendance.policy")
	delete(found, "attendance.state")
	for n := range seleksiv1.AbsenceConsequence_value {
		found["attendance.policy."+n] = true
	}
	for n := range seleksiv1.Attendance_value {
		found["attendance.state."+n] = true
	}
	for c := range found {
		for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
			if !p.text.Knows(c, l) {
				t.Errorf("%s: no text in %s", c, l)
			}
		}
	}
}

// TestAttendanceForms: the secretariat's schedule page has, per placed candidate, a present
// and an absent form posting to its own path with the CSRF token, and the policy form with
// the current policy chosen; the committee's page posts attendance to the committee's path
// and cannot change the policy; a server without attendance shows neither.
func TestAttendanceForms(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	data := func(base string, absence seleksiv1.AbsenceConsequence) secScheduleData {
		start := timestamppb.New(timestamppb.Now().AsTime().Add(24 * 60 * 60 * 1e9))
		return secScheduleData{ID: "sel-abc", Slug: "interview", Stage: seleksiv1.Stage_STAGE_INTERVIEW,
			Selection: &seleksiv1.Selection{Name: "selections/sel-abc", PositionTitle: "Kepala Dinas", TimeZone: seleksiv1.TimeZone_TIME_ZONE_WIB},
			Sessions:  []*seleksiv1.Session{{Name: "selections/sel-abc/stages/interview/sessions/ses-1", StartTime: start, EndTime: start, Venue: "Aula", Capacity: 5, Assigned: 1}},
			Assignments: []*seleksiv1.Assignment{{Name: "selections/sel-abc/stages/interview/assignments/app-001",
				Application: "selections/sel-abc/applications/app-001", ParticipantNumber: "JPT-001", Session: "selections/sel-abc/stages/interview/sessions/ses-1",
				Status: seleksiv1.AssignmentStatus_ASSIGNMENT_STATUS_CONFIRMED}},
			RequestID: "web-abcdefgh", Absence: absence, Base: base,
			Attendance: map[string]seleksiv1.Attendance{"selections/sel-abc/stages/interview/assignments/app-001": seleksiv1.Attendance_ATTENDANCE_ABSENT}}
	}
	render := func(page string, d secScheduleData) string {
		t.Helper()
		var buf bytes.Buffer
		if err := p.byName[page].ExecuteTemplate(&buf, "layout", view{p: p, Lang: i18n.ID, CSRF: "csrf-tok", Data: d}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	sec := render("secretariat/schedule", data("/sekretariat/seleksi/sel-abc/jadwal/interview", seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_ELIMINATE))
	for _, want := range []string{
		`action="/sekretariat/seleksi/sel-abc/jadwal/interview/kehadiran"`,
		`name="csrf_token" value="csrf-tok"`,
		`name="application" value="app-001"`,
		`name="attendance" value="hadir"`, `name="attendance" value="tidak-hadir"`,
		`value="web-abcdefgh-h0"`, `value="web-abcdefgh-a0"`,
		`action="/sekretariat/seleksi/sel-abc/jadwal/interview/aturan-ketidakhadiran"`,
		`value="ABSENCE_CONSEQUENCE_ELIMINATE" checked`,
		"Peserta yang tidak hadir gugur pada tahap ini",
		`<td id="tercatat-app-001">Tidak hadir</td>`,
	} {
		if !strings.Contains(sec, want) {
			t.Errorf("secretariat page lacks %s", want)
		}
	}
	com := render("committee/schedule", data("/panitia/sel-abc/jadwal/interview", seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_RECORD_ONLY))
	if !strings.Contains(com, `action="/panitia/sel-abc/jadwal/interview/kehadiran"`) || strings.Contains(com, "aturan-ketidakhadiran\"") ||
		!strings.Contains(com, "Hanya dicatat") {
		t.Errorf("committee page: attendance forms to its own path, no policy form, the policy shown:\n%s", com)
	}
	none := render("secretariat/schedule", data("/sekretariat/seleksi/sel-abc/jadwal/interview", seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_UNSPECIFIED))
	if strings.Contains(none, "/kehadiran\"") {
		t.Error("attendance forms shown on a server without attendance")
	}
}

// TestAttendanceRequests: the posted button names the attendance, and each page returns to
// itself.
func TestAttendanceRequests(t *testing.T) {
	if postedAttendance("hadir") != seleksiv1.Attendance_ATTENDANCE_PRESENT || postedAttendance("tidak-hadir") != seleksiv1.Attendance_ATTENDANCE_ABSENT ||
		postedAttendance("PRESENT") != seleksiv1.Attendance_ATTENDANCE_UNSPECIFIED {
		t.Error("posted attendance misread")
	}
	for path, want := range map[string]string{
		"/panitia/sel-abc/jadwal/interview/kehadiran":                         "/panitia/sel-abc/jadwal/interview",
		"/sekretariat/seleksi/sel-abc/jadwal/interview/kehadiran":             "/sekretariat/seleksi/sel-abc/jadwal/interview",
		"/sekretariat/seleksi/sel-abc/jadwal/interview/aturan-ketidakhadiran": "/sekretariat/seleksi/sel-abc/jadwal/interview",
	} {
		r := httptest.NewRequest("POST", path, nil)
		r.SetPathValue("sel", "sel-abc")
		r.SetPathValue("stage", "interview")
		if got := attendanceBase(r); got != want {
			t.Errorf("%s returns to %s, want %s", path, got, want)
		}
	}
}
