package web

import (
	"context"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// Attendance (issue 13): on a stage's schedule page the committee of the selection or the
// secretariat marks each placed candidate present or absent, one small form per row, and the
// secretariat sets what absence does in the stage. The pages call AttendanceService as the
// signed-in user; where the policy eliminates, the service has the workflow eliminate the
// application, and the candidate is told with the right to object.

func (s *Server) attendanceRoutes(mux *http.ServeMux) {
	committee := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleCommittee) }
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleAdmin) }
	mux.HandleFunc("GET /panitia/{sel}/jadwal/{stage}", committee(s.committeeSchedulePage))
	mux.HandleFunc("POST /panitia/{sel}/jadwal/{stage}/kehadiran", committee(s.recordAttendance))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/kehadiran", admin(s.recordAttendance))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/aturan-ketidakhadiran", admin(s.setAbsencePolicy))
}

// attendanceBase is the schedule page the request belongs to: the committee's or the
// secretariat's.
func attendanceBase(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/panitia/") {
		return "/panitia/" + r.PathValue("sel") + "/jadwal/" + r.PathValue("stage")
	}
	return "/sekretariat/seleksi/" + r.PathValue("sel") + "/jadwal/" + r.PathValue("stage")
}

// Secretariat reports whether the page is the secretariat's, which may set the policy.
func (d secScheduleData) Secretariat() bool { return strings.HasPrefix(d.Base, "/sekretariat/") }

// attendanceOf is what absence does in a stage and what was recorded of each assignment;
// UNSPECIFIED and nothing when the server has no attendance service, so that the schedule
// pages still work without it.
func (s *Server) attendanceOf(ctx context.Context, sel, slug string) (seleksiv1.AbsenceConsequence, map[string]seleksiv1.Attendance, error) {
	none := seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_UNSPECIFIED
	resp, err := s.api.attendance.GetAbsencePolicy(ctx, &seleksiv1.GetAbsencePolicyRequest{
		Name: "selections/" + sel + "/stages/" + slug + "/absencePolicy"})
	if status.Code(err) == codes.Unimplemented {
		return none, nil, nil
	}
	if err != nil {
		return none, nil, err
	}
	list, err := s.api.attendance.ListAttendance(ctx, &seleksiv1.ListAttendanceRequest{Parent: "selections/" + sel + "/stages/" + slug})
	if err != nil {
		return none, nil, err
	}
	recorded := make(map[string]seleksiv1.Attendance, len(list.GetRecords()))
	for _, r := range list.GetRecords() {
		recorded[r.GetAssignment()] = r.GetAttendance()
	}
	return resp.GetPolicy().GetConsequence(), recorded, nil
}

// Attended is what was recorded of an assignment's attendance.
func (d secScheduleData) Attended(name string) seleksiv1.Attendance { return d.Attendance[name] }

// committeeSchedulePage shows the committee a stage's placements with an attendance form
// each, and the stage's absence policy.
func (s *Server) committeeSchedulePage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.scheduleData(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "committee/schedule", d)
}

// postedAttendance reads the button pressed: "hadir" or "tidak-hadir".
func postedAttendance(v string) seleksiv1.Attendance {
	switch v {
	case "hadir":
		return seleksiv1.Attendance_ATTENDANCE_PRESENT
	case "tidak-hadir":
		return seleksiv1.Attendance_ATTENDANCE_ABSENT
	}
	return seleksiv1.Attendance_ATTENDANCE_UNSPECIFIED
}

// recordAttendance records one candidate's attendance and returns to the schedule page,
// saying whether the absence eliminated the application.
func (s *Server) recordAttendance(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	slug := r.PathValue("stage")
	attendance := postedAttendance(r.PostForm.Get("attendance"))
	if _, ok := scheduleStages[slug]; !ok || attendance == seleksiv1.Attendance_ATTENDANCE_UNSPECIFIED {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	f := r.PostForm
	resp, err := s.api.attendance.RecordAttendance(ctx, &seleksiv1.RecordAttendanceRequest{
		Name:      "selections/" + r.PathValue("sel") + "/stages/" + slug + "/assignments/" + f.Get("application"),
		RequestId: postedRequestID(f.Get("request_id")), Attendance: attendance, Note: strings.TrimSpace(f.Get("note"))})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	switch {
	case resp.GetEliminated():
		s.flash(r.Context(), "attendance.flash.eliminated")
	case attendance == seleksiv1.Attendance_ATTENDANCE_ABSENT:
		s.flash(r.Context(), "attendance.flash.absent")
	default:
		s.flash(r.Context(), "attendance.flash.present")
	}
	http.Redirect(w, r, attendanceBase(r), http.StatusSeeOther)
}

// setAbsencePolicy sets what absence does in the stage.
func (s *Server) setAbsencePolicy(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	slug := r.PathValue("stage")
	consequence := seleksiv1.AbsenceConsequence(seleksiv1.AbsenceConsequence_value[r.PostForm.Get("consequence")])
	if _, ok := scheduleStages[slug]; !ok || consequence == seleksiv1.AbsenceConsequence_ABSENCE_CONSEQUENCE_UNSPECIFIED {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if _, err := s.api.attendance.SetAbsencePolicy(ctx, &seleksiv1.SetAbsencePolicyRequest{
		Name:      "selections/" + r.PathValue("sel") + "/stages/" + slug + "/absencePolicy",
		RequestId: postedRequestID(r.PostForm.Get("request_id")), Consequence: consequence}); err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "attendance.flash.policy")
	http.Redirect(w, r, attendanceBase(r), http.StatusSeeOther)
}
