package web

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/invite"
)

// Schedules (issue 13): the secretariat's page of a stage's sessions, where it adds
// sessions, places the stage's candidates automatically and moves one by hand. The page
// calls ScheduleService as the signed-in admin, like every other page.

func (s *Server) scheduleRoutes(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleAdmin) }
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/jadwal/{stage}", admin(s.secSchedulePage))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/sesi", admin(s.secCreateSession))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/tetapkan", admin(s.secAssignSessions))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/pindah", admin(s.secMoveAssignment))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/terima", admin(s.secAcceptReschedule))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/jadwal/{stage}/tolak", admin(s.secRefuseReschedule))
}

// scheduleStages are the stages that have sessions, by the slug their URLs use.
var scheduleStages = map[string]seleksiv1.Stage{
	"competency-test": seleksiv1.Stage_STAGE_COMPETENCY_TEST,
	"interview":       seleksiv1.Stage_STAGE_INTERVIEW,
}

// secScheduleData is a stage's schedule as the secretariat plans it.
type secScheduleData struct {
	ID        string
	Slug      string
	Stage     seleksiv1.Stage
	Selection *seleksiv1.Selection
	Sessions  []*seleksiv1.Session
	// SessionIDs names each session by its ID, for the move form's choices.
	Assignments []*seleksiv1.Assignment
	RequestID   string
	// Absence is what absence does in the stage (see attendance.go); UNSPECIFIED on a server
	// without attendance, which hides the attendance forms.
	Absence seleksiv1.AbsenceConsequence
	// Attendance is what was recorded of each assignment, by its name.
	Attendance map[string]seleksiv1.Attendance
	// Base is the page's path, where its attendance forms post.
	Base string
}

// Pending are the assignments whose candidates asked for another session.
func (d secScheduleData) Pending() []*seleksiv1.Assignment {
	var out []*seleksiv1.Assignment
	for _, a := range d.Assignments {
		if a.GetStatus() == seleksiv1.AssignmentStatus_ASSIGNMENT_STATUS_RESCHEDULE_REQUESTED {
			out = append(out, a)
		}
	}
	return out
}

// SessionID is the last segment of a session's name.
func (d secScheduleData) SessionID(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// SessionLabel is how a session is named in lists: its start and its place.
func (d secScheduleData) SessionLabel(v view, name string) string {
	for _, ss := range d.Sessions {
		if ss.GetName() == name {
			place := ss.GetVenue()
			if place == "" {
				place = ss.GetMeetingUri()
			}
			return v.When(ss.GetStartTime(), d.Selection.GetTimeZone()) + " · " + place
		}
	}
	return name
}

func (s *Server) scheduleData(w http.ResponseWriter, r *http.Request) (secScheduleData, bool) {
	slug := r.PathValue("stage")
	stage, ok := scheduleStages[slug]
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return secScheduleData{}, false
	}
	id := r.PathValue("sel")
	ctx, sel, ok := s.loadSelection(w, r, id)
	if !ok {
		return secScheduleData{}, false
	}
	parent := "selections/" + id + "/stages/" + slug
	sessions, err := s.api.schedules.ListSessions(ctx, &seleksiv1.ListSessionsRequest{Parent: parent})
	if err != nil {
		s.apiFailed(w, r, err)
		return secScheduleData{}, false
	}
	assignments, err := s.api.schedules.ListAssignments(ctx, &seleksiv1.ListAssignmentsRequest{Parent: parent})
	if err != nil {
		s.apiFailed(w, r, err)
		return secScheduleData{}, false
	}
	absence, attendance, err := s.attendanceOf(ctx, id, slug)
	if err != nil {
		s.apiFailed(w, r, err)
		return secScheduleData{}, false
	}
	return secScheduleData{ID: id, Slug: slug, Stage: stage, Selection: sel, Sessions: sessions.GetSessions(),
		Assignments: assignments.GetAssignments(), RequestID: commandRequestID(), Absence: absence, Attendance: attendance, Base: attendanceBase(r)}, true
}

// secSchedulePage shows a stage's sessions, the form to add one, the automatic placement
// and the placements with a move form each.
func (s *Server) secSchedulePage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.scheduleData(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "secretariat/schedule", d)
}

func (s *Server) schedulePath(r *http.Request) string {
	return "/sekretariat/seleksi/" + r.PathValue("sel") + "/jadwal/" + r.PathValue("stage")
}

// secCreateSession adds a session. Date and times are read in the selection's zone.
func (s *Server) secCreateSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	d, ok := s.scheduleData(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	v := view{p: s.pages, Lang: s.lang(r)}
	errs := map[string]string{}
	loc := zoneLocation(d.Selection.GetTimeZone())
	day, derr := time.ParseInLocation("2006-01-02", strings.TrimSpace(f.Get("date")), loc)
	if derr != nil {
		errs["date"] = v.T("schedule.err.date")
	}
	start, serr := clockOn(day, f.Get("start"))
	end, eerr := clockOn(day, f.Get("end"))
	if serr != nil {
		errs["start"] = v.T("schedule.err.time")
	}
	if eerr != nil {
		errs["end"] = v.T("schedule.err.time")
	}
	capacity, cerr := strconv.ParseUint(strings.TrimSpace(f.Get("capacity")), 10, 32)
	if cerr != nil || capacity < 1 {
		errs["capacity"] = v.T("admin.form.not_a_number")
	}
	if len(errs) > 0 {
		d.RequestID = postedRequestID(f.Get("request_id"))
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/schedule", d, f, errs)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	_, err = s.api.schedules.CreateSession(ctx, &seleksiv1.CreateSessionRequest{
		Parent: "selections/" + d.ID + "/stages/" + d.Slug, RequestId: postedRequestID(f.Get("request_id")),
		Session: &seleksiv1.Session{StartTime: timestamppb.New(start), EndTime: timestamppb.New(end),
			Venue: strings.TrimSpace(f.Get("venue")), MeetingUri: strings.TrimSpace(f.Get("meeting_uri")), Capacity: uint32(capacity)},
	})
	if err != nil {
		if fe := fieldErrors(err); len(fe) > 0 {
			errs := map[string]string{}
			for field, msg := range fe {
				switch {
				case strings.HasSuffix(field, "venue"), strings.HasSuffix(field, "meeting_uri"):
					errs["venue"] = msg
				case strings.HasSuffix(field, "capacity"):
					errs["capacity"] = msg
				default:
					errs["end"] = msg
				}
			}
			d.RequestID = postedRequestID(f.Get("request_id"))
			s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/schedule", d, f, errs)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "schedule.flash.created")
	http.Redirect(w, r, s.schedulePath(r), http.StatusSeeOther)
}

// clockOn is the moment "HH:MM" on day, in day's zone.
func clockOn(day time.Time, hhmm string) (time.Time, error) {
	c, err := time.Parse("15:04", strings.TrimSpace(hhmm))
	if err != nil {
		return time.Time{}, err
	}
	return time.Date(day.Year(), day.Month(), day.Day(), c.Hour(), c.Minute(), 0, 0, day.Location()), nil
}

// zoneLocation is the fixed zone of a selection (Indonesia keeps no daylight saving time).
func zoneLocation(z seleksiv1.TimeZone) *time.Location {
	switch z {
	case seleksiv1.TimeZone_TIME_ZONE_WITA:
		return time.FixedZone("WITA", 8*3600)
	case seleksiv1.TimeZone_TIME_ZONE_WIT:
		return time.FixedZone("WIT", 9*3600)
	}
	return time.FixedZone("WIB", 7*3600)
}

// secAssignSessions places the stage's waiting candidates automatically.
func (s *Server) secAssignSessions(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	if _, ok := scheduleStages[r.PathValue("stage")]; !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.schedules.AssignSessions(ctx, &seleksiv1.AssignSessionsRequest{
		Parent: "selections/" + r.PathValue("sel") + "/stages/" + r.PathValue("stage"), RequestId: postedRequestID(r.PostForm.Get("request_id"))})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if len(resp.GetAssignments()) == 0 {
		s.flash(r.Context(), "schedule.flash.nobody")
	} else {
		s.flash(r.Context(), "schedule.flash.assigned")
	}
	http.Redirect(w, r, s.schedulePath(r), http.StatusSeeOther)
}

// secMoveAssignment moves one candidate to another session.
func (s *Server) secMoveAssignment(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	slug := r.PathValue("stage")
	if _, ok := scheduleStages[slug]; !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	f := r.PostForm
	prefix := "selections/" + r.PathValue("sel") + "/stages/" + slug
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	reason := strings.TrimSpace(f.Get("reason"))
	if reason == "" {
		reason = view{p: s.pages, Lang: s.lang(r)}.T("schedule.move.default_reason")
	}
	_, err = s.api.schedules.MoveAssignment(ctx, &seleksiv1.MoveAssignmentRequest{
		Name: prefix + "/assignments/" + f.Get("application"), Session: prefix + "/sessions/" + f.Get("session"),
		RequestId: postedRequestID(f.Get("request_id")), Reason: reason})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "schedule.flash.moved")
	http.Redirect(w, r, s.schedulePath(r), http.StatusSeeOther)
}

// candidateScheduleRoutes are the candidate's invitations: the .ics of each.
func (s *Server) candidateScheduleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /lamaran/{sel}/{app}/undangan/{stage}", s.require(s.invitationICS, auth.RoleCandidate))
	mux.HandleFunc("GET /lamaran/{sel}/{app}/bukti", s.require(s.registrationProof, auth.RoleCandidate))
	mux.HandleFunc("POST /lamaran/{sel}/{app}/undangan/{stage}/hadir", s.require(s.confirmAttendance, auth.RoleCandidate))
	mux.HandleFunc("POST /lamaran/{sel}/{app}/undangan/{stage}/pindah", s.require(s.requestReschedule, auth.RoleCandidate))
}

// registrationProof downloads the candidate's signed proof of registration. The registry
// shows a candidate only their own proofs (OfficialDocumentService), so the page asks it
// with the candidate's identity like any client.
func (s *Server) registrationProof(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	list, err := s.api.official.ListOfficialDocuments(ctx, &seleksiv1.ListOfficialDocumentsRequest{Parent: "selections/" + ref.Sel})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	for _, d := range list.GetOfficialDocuments() {
		if d.GetKind() != seleksiv1.OfficialDocumentKind_OFFICIAL_DOCUMENT_KIND_REGISTRATION_PROOF {
			continue
		}
		full, err := s.api.official.GetOfficialDocument(ctx, &seleksiv1.GetOfficialDocumentRequest{Name: d.GetName(),
			View: seleksiv1.OfficialDocumentView_OFFICIAL_DOCUMENT_VIEW_FULL})
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/pdf")
		h.Set("Cache-Control", "private, no-store")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "bukti-pendaftaran-" + ref.App + ".pdf"}))
		_, _ = w.Write(full.GetOfficialDocument().GetContent())
		return
	}
	// Issued by the worker moments after the submission; until then there is none.
	s.renderError(w, r, http.StatusNotFound, "participant.proof.pending")
}

// invitationView is one of the candidate's places in a session.
type invitationView struct {
	Slug       string
	Stage      seleksiv1.Stage
	Assignment *seleksiv1.Assignment
}

// invitations lists the candidate's places in the sessions of the competency test and the
// interview, as ScheduleService lists them to a candidate (their own only).
func (s *Server) invitations(ctx context.Context, ref appRef) ([]invitationView, error) {
	var out []invitationView
	for _, slug := range []string{"competency-test", "interview"} {
		resp, err := s.api.schedules.ListAssignments(ctx, &seleksiv1.ListAssignmentsRequest{Parent: "selections/" + ref.Sel + "/stages/" + slug})
		if status.Code(err) == codes.Unimplemented {
			// A server without schedules: the page goes on without invitations.
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, a := range resp.GetAssignments() {
			if a.GetApplication() == ref.name() {
				out = append(out, invitationView{Slug: slug, Stage: scheduleStages[slug], Assignment: a})
			}
		}
	}
	return out, nil
}

// invitationICS downloads the candidate's invitation to a stage's session as an iCalendar
// file, the same event (UID, SEQUENCE) the invitation mail carried.
func (s *Server) invitationICS(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	stage, ok := scheduleStages[r.PathValue("stage")]
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx, sel, ok := s.loadSelection(w, r, ref.Sel)
	if !ok {
		return
	}
	list, err := s.invitations(ctx, ref)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	for _, inv := range list {
		if inv.Stage != stage {
			continue
		}
		a := inv.Assignment
		words := v18(s, r, "stage."+stage.String())
		ics, err := invite.Build(invite.Request, invite.Event{
			UID: a.GetUid(), Sequence: int(a.GetSequence()), Summary: words + " — " + sel.GetPositionTitle(),
			Start: a.GetStartTime().AsTime(), End: a.GetEndTime().AsTime(), Zone: zoneLocation(sel.GetTimeZone()),
			Location: a.GetVenue(), URL: a.GetMeetingUri(), Stamp: a.GetUpdateTime().AsTime(),
		})
		if err != nil {
			s.logger.ErrorContext(r.Context(), "web: build an invitation", "error", err)
			s.renderError(w, r, http.StatusInternalServerError, "error.internal")
			return
		}
		w.Header().Set("Content-Type", invite.MediaType(invite.Request))
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": invite.FileName(stage.String())}))
		_, _ = w.Write(ics)
		return
	}
	s.renderError(w, r, http.StatusNotFound, "error.not_found")
}

// v18 is a UI text in the request's language.
func v18(s *Server, r *http.Request, code string) string {
	return view{p: s.pages, Lang: s.lang(r)}.T(code)
}

// secAcceptReschedule answers a candidate's request by moving them to the session chosen.
func (s *Server) secAcceptReschedule(w http.ResponseWriter, r *http.Request) {
	s.answerReschedule(w, r, true)
}

// secRefuseReschedule refuses a candidate's request with the reason written.
func (s *Server) secRefuseReschedule(w http.ResponseWriter, r *http.Request) {
	s.answerReschedule(w, r, false)
}

func (s *Server) answerReschedule(w http.ResponseWriter, r *http.Request, accept bool) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	slug := r.PathValue("stage")
	if _, ok := scheduleStages[slug]; !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	f := r.PostForm
	prefix := "selections/" + r.PathValue("sel") + "/stages/" + slug
	name := prefix + "/assignments/" + f.Get("application")
	reason := strings.TrimSpace(f.Get("reason"))
	if !accept && reason == "" {
		d, ok := s.scheduleData(w, r)
		if !ok {
			return
		}
		d.RequestID = postedRequestID(f.Get("request_id"))
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/schedule", d, f,
			map[string]string{"tolak-" + f.Get("application"): v18(s, r, "schedule.err.reason")})
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	reqID := postedRequestID(f.Get("request_id"))
	if accept {
		_, err = s.api.schedules.AcceptReschedule(ctx, &seleksiv1.AcceptRescheduleRequest{Name: name, RequestId: reqID,
			Session: prefix + "/sessions/" + f.Get("session"), Reason: reason})
	} else {
		_, err = s.api.schedules.RefuseReschedule(ctx, &seleksiv1.RefuseRescheduleRequest{Name: name, RequestId: reqID, Reason: reason})
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if accept {
		s.flash(r.Context(), "schedule.flash.accepted")
	} else {
		s.flash(r.Context(), "schedule.flash.refused")
	}
	http.Redirect(w, r, s.schedulePath(r), http.StatusSeeOther)
}

// confirmAttendance confirms the candidate's own place in a stage's session.
func (s *Server) confirmAttendance(w http.ResponseWriter, r *http.Request) {
	s.candidateAttendance(w, r, false)
}

// requestReschedule asks for another session with the reason written.
func (s *Server) requestReschedule(w http.ResponseWriter, r *http.Request) {
	s.candidateAttendance(w, r, true)
}

func (s *Server) candidateAttendance(w http.ResponseWriter, r *http.Request, reschedule bool) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	ref := refOf(r)
	slug := r.PathValue("stage")
	if _, ok := scheduleStages[slug]; !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	name := "selections/" + ref.Sel + "/stages/" + slug + "/assignments/" + ref.App
	reqID := postedRequestID(r.PostForm.Get("request_id"))
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	back := "/lamaran/" + ref.Sel + "/" + ref.App
	if reschedule && reason == "" {
		s.flash(r.Context(), "schedule.err.reason")
		http.Redirect(w, r, back+"#undangan-"+slug, http.StatusSeeOther)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if reschedule {
		_, err = s.api.schedules.RequestReschedule(ctx, &seleksiv1.RequestRescheduleRequest{Name: name, RequestId: reqID, Reason: reason})
	} else {
		_, err = s.api.schedules.ConfirmAttendance(ctx, &seleksiv1.ConfirmAttendanceRequest{Name: name, RequestId: reqID})
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if reschedule {
		s.flash(r.Context(), "schedule.flash.requested")
	} else {
		s.flash(r.Context(), "schedule.flash.confirmed")
	}
	http.Redirect(w, r, back+"#undangan-"+slug, http.StatusSeeOther)
}
