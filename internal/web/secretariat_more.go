package web

import (
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// secHolidaysData is the form that supplies a year's days off to a selection.
type secHolidaysData struct {
	Selections []*seleksiv1.Selection
	// Chosen is the selection picked by the link that led here (?seleksi=), and Year the
	// year it is blocked on, if any.
	Chosen    string
	Year      uint32
	RequestID string
}

// secHolidaysPage shows the form. The year a blocked selection waits for is filled in.
func (s *Server) secHolidaysPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.secHolidaysData(w, r, commandRequestID())
	if !ok {
		return
	}
	d.Chosen = r.URL.Query().Get("seleksi")
	for _, sel := range d.Selections {
		if selectionID(sel.GetName()) == d.Chosen {
			d.Year = sel.GetBlocked().GetYear()
		}
	}
	s.render(w, r, http.StatusOK, "secretariat/holidays", d)
}

func (s *Server) secHolidaysData(w http.ResponseWriter, r *http.Request, rid string) (secHolidaysData, bool) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return secHolidaysData{}, false
	}
	resp, err := s.api.selections.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{PageSize: 200})
	if err != nil {
		s.apiFailed(w, r, err)
		return secHolidaysData{}, false
	}
	d := secHolidaysData{RequestID: rid}
	for _, sel := range resp.GetSelections() {
		if st := sel.GetStage(); st != seleksiv1.Stage_STAGE_CLOSED && st != seleksiv1.Stage_STAGE_CANCELLED {
			d.Selections = append(d.Selections, sel)
		}
	}
	return d, true
}

// secHolidays supplies the year's days off (SupplyHolidays): the days are pasted one a line,
// "YYYY-MM-DD,name", or as the shipped CSV lists are written.
func (s *Server) secHolidays(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	rid := postedRequestID(f.Get("request_id"))
	year, yerr := strconv.ParseUint(strings.TrimSpace(f.Get("year")), 10, 32)
	if yerr != nil {
		d, ok := s.secHolidaysData(w, r, rid)
		if !ok {
			return
		}
		errs := map[string]string{"year": view{p: s.pages, Lang: s.lang(r)}.T("admin.form.not_a_number")}
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/holidays", d, f, errs)
		return
	}
	id := f.Get("name")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	_, err = s.api.selections.SupplyHolidays(ctx, &seleksiv1.SupplyHolidaysRequest{
		Name: "selections/" + id, RequestId: rid, Year: uint32(year),
		Days: secParseDays(f.Get("days")), Reason: strings.TrimSpace(f.Get("reason"))})
	if c := status.Code(err); c == codes.InvalidArgument || c == codes.FailedPrecondition {
		d, ok := s.secHolidaysData(w, r, rid)
		if !ok {
			return
		}
		errs := secErrors(err, nil, "days")
		if len(errs) == 0 {
			// Refused as a whole (the year is already covered, say): the API's own words.
			errs = map[string]string{"year": status.Convert(err).Message()}
		}
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/holidays", d, f, errs)
		return
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "admin.flash.holidays")
	http.Redirect(w, r, "/sekretariat/seleksi/"+id, http.StatusSeeOther)
}

// secAppointData is the appointment form: the committee's ranked names.
type secAppointData struct {
	secSelectionData
	// Ranked are the shortlisted entries of the committee's decision, by rank; Decided is
	// false until the decision is published.
	Ranked  []*seleksiv1.StageResultEntry
	Decided bool
}

func (s *Server) secAppointData(w http.ResponseWriter, r *http.Request) (secAppointData, bool) {
	sd, ok := s.secSelection(w, r)
	if !ok {
		return secAppointData{}, false
	}
	d := secAppointData{secSelectionData: sd}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return d, false
	}
	res, err := s.api.selections.GetStageResult(ctx, &seleksiv1.GetStageResultRequest{Name: "selections/" + sd.ID + "/results/committee-decision"})
	switch status.Code(err) {
	case codes.OK:
		d.Decided = true
		for rank := uint32(1); rank <= 3; rank++ {
			for _, e := range res.GetResult().GetEntries() {
				if e.GetRank() == rank {
					d.Ranked = append(d.Ranked, e)
				}
			}
		}
	case codes.NotFound:
	default:
		s.apiFailed(w, r, err)
		return d, false
	}
	return d, true
}

// secAppointPage shows the three names the committee ranked and the form for the PPK's
// choice.
func (s *Server) secAppointPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.secAppointData(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "secretariat/appoint", d)
}

// secAppoint records the PPK's choice (AppointCandidate) and closes the selection.
func (s *Server) secAppoint(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	id := r.PathValue("sel")
	rid := postedRequestID(f.Get("request_id"))
	justification := strings.TrimSpace(f.Get("justification"))
	if justification == "" {
		// Choosing rank 2 or 3 needs the PPK's justification. The workflow refuses it too, but
		// without naming the field; asking here puts the error on the field in the summary.
		d, ok := s.secAppointData(w, r)
		if !ok {
			return
		}
		for _, e := range d.Ranked {
			if e.GetApplication() == f.Get("application") && e.GetRank() > 1 {
				d.RequestID = rid
				errs := map[string]string{"justification": view{p: s.pages, Lang: s.lang(r)}.T("admin.appoint.justification_required", "rank", e.GetRank())}
				s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/appoint", d, f, errs)
				return
			}
		}
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	_, err = s.api.selections.AppointCandidate(ctx, &seleksiv1.AppointCandidateRequest{
		Name: "selections/" + id, RequestId: rid, Application: f.Get("application"),
		PpkDecreeRef: strings.TrimSpace(f.Get("ppk_decree_ref")), OversightRecommendationRef: strings.TrimSpace(f.Get("oversight_recommendation_ref")),
		Reason: strings.TrimSpace(f.Get("reason")), Justification: justification})
	if c := status.Code(err); c == codes.InvalidArgument || c == codes.FailedPrecondition {
		d, ok := s.secAppointData(w, r)
		if !ok {
			return
		}
		d.RequestID = rid
		errs := secErrors(err, nil)
		if len(errs) == 0 {
			errs = map[string]string{"application": status.Convert(err).Message()}
		}
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/appoint", d, f, errs)
		return
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "admin.flash.appointed")
	http.Redirect(w, r, "/sekretariat/seleksi/"+id, http.StatusSeeOther)
}

// secNotificationsData is a page of dead letters.
type secNotificationsData struct {
	Notifications []*seleksiv1.Notification
	Next          string
	Total         int32
}

// secNotificationsPage lists the notifications that could not be delivered (dead letters),
// each with a Retry button.
func (s *Server) secNotificationsPage(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.notifications.ListNotifications(ctx, &seleksiv1.ListNotificationsRequest{
		PageSize: 50, PageToken: r.URL.Query().Get("halaman"), Filter: "state = DEAD", OrderBy: "create_time desc"})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "secretariat/notifications", secNotificationsData{
		Notifications: resp.GetNotifications(), Next: resp.GetNextPageToken(), Total: resp.GetTotalSize()})
}

// secRetryNotification puts a dead letter back in the queue, due now.
func (s *Server) secRetryNotification(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if _, err := s.api.notifications.RetryNotification(ctx, &seleksiv1.RetryNotificationRequest{Name: "notifications/" + r.PathValue("id")}); err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "admin.flash.retried")
	http.Redirect(w, r, "/sekretariat/notifikasi", http.StatusSeeOther)
}

// NotificationID is the ID in a notification's name.
func (d secNotificationsData) NotificationID(name string) string {
	return strings.TrimPrefix(name, "notifications/")
}
