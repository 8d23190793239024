package web

import (
	"mime"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// The secretariat's pages (role admin): the selections with their stage, a blocked one's
// reason and the Resume and Cancel commands, the selection wizard, a year's days off, the
// appointment and the notifications that could not be delivered.

// secretariatRoutes registers the secretariat pages.
func (s *Server) secretariatRoutes(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleAdmin) }
	mux.HandleFunc("GET /sekretariat", admin(s.secDashboard))
	mux.HandleFunc("GET /sekretariat/seleksi/baru", admin(s.wizardPage))
	mux.HandleFunc("POST /sekretariat/seleksi/baru", admin(s.wizardPost))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}", admin(s.secSelectionPage))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/lanjutkan", admin(s.secResume))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/batal", admin(s.secCancelPage))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/batal", admin(s.secCancel))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/pengangkatan", admin(s.secAppointPage))
	mux.HandleFunc("POST /sekretariat/seleksi/{sel}/pengangkatan", admin(s.secAppoint))
	mux.HandleFunc("GET /sekretariat/hari-libur", admin(s.secHolidaysPage))
	mux.HandleFunc("POST /sekretariat/hari-libur", admin(s.secHolidays))
	mux.HandleFunc("GET /sekretariat/notifikasi", admin(s.secNotificationsPage))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/kepatuhan", admin(s.meritCompliance("/sekretariat/seleksi/")))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/rekap/{stage}", admin(s.secRecapDownload))
	mux.HandleFunc("GET /sekretariat/seleksi/{sel}/rekap/{stage}/pdf", admin(s.secRecapDownload))
	mux.HandleFunc("POST /sekretariat/notifikasi/{id}/ulangi", admin(s.secRetryNotification))
}

// secDashboardData lists the selections, the blocked ones first.
type secDashboardData struct {
	Blocked, Others []*seleksiv1.Selection
	// Rows are the report service's dashboard rows in the order asked for (Sort).
	Rows []*seleksiv1.DashboardRow
	Sort string
	// DashboardFailed: the report service did not answer; the page says so.
	DashboardFailed bool
	// ResumeIDs are the request IDs of the blocked selections' Resume forms.
	ResumeIDs map[string]string
}

// secDashboard lists every selection with its stage; blocked ones come first, with their
// reason and a Resume button.
func (s *Server) secDashboard(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.selections.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{PageSize: 200})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	d := secDashboardData{ResumeIDs: map[string]string{}}
	for _, sel := range resp.GetSelections() {
		if sel.GetBlocked() != nil {
			d.Blocked = append(d.Blocked, sel)
			d.ResumeIDs[selectionID(sel.GetName())] = commandRequestID()
		} else {
			d.Others = append(d.Others, sel)
		}
	}
	// The dashboard counts working days and overdue items with each selection's calendar;
	// the sort order is one of the report service's (anything else is its default).
	d.Sort = r.URL.Query().Get("urut")
	if !slices.Contains([]string{"name", "stage", "days_left", "overdue"}, d.Sort) {
		d.Sort = "name"
	}
	// Without the dashboard the page still lists the selections and the blocked ones with
	// their Resume buttons, which the secretariat must always reach.
	if dash, err := s.api.reports.GetDashboard(ctx, &seleksiv1.GetDashboardRequest{OrderBy: d.Sort}); err != nil {
		s.logger.WarnContext(r.Context(), "secretariat dashboard: report service failed", "error", err)
		d.DashboardFailed = true
	} else {
		d.Rows = dash.GetRows()
	}
	s.render(w, r, http.StatusOK, "secretariat/dashboard", d)
}

// secRecapDownload serves a stage's score recap as an XLSX file, or as a PDF under .../pdf,
// fetched from the report service with the caller's identity (so with the same
// authorization as the API).
func (s *Server) secRecapDownload(w http.ResponseWriter, r *http.Request) {
	format := "xlsx"
	if strings.HasSuffix(r.URL.Path, "/pdf") {
		format = "pdf"
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	name := "selections/" + r.PathValue("sel") + "/scoreRecaps/" + r.PathValue("stage")
	resp, err := s.api.reports.ExportScoreRecap(ctx, &seleksiv1.ExportScoreRecapRequest{Name: name, Format: format})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", resp.GetContentType())
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": resp.GetFileName()}))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(resp.GetContent())
}

// secSelectionData is one selection as the secretariat sees it.
type secSelectionData struct {
	ID        string
	Selection *seleksiv1.Selection
	RequestID string
}

// Open says whether the selection can still be cancelled.
func (d secSelectionData) Open() bool {
	st := d.Selection.GetStage()
	return st != seleksiv1.Stage_STAGE_CLOSED && st != seleksiv1.Stage_STAGE_CANCELLED
}

// Deciding says whether the selection waits for the appointment (the committee has decided,
// or is about to).
func (d secSelectionData) Deciding() bool {
	return d.Selection.GetStage() == seleksiv1.Stage_STAGE_COMMITTEE_DECISION
}

func (s *Server) secSelection(w http.ResponseWriter, r *http.Request) (secSelectionData, bool) {
	id := r.PathValue("sel")
	_, resp, ok := s.loadSelection(w, r, id)
	if !ok {
		return secSelectionData{}, false
	}
	return secSelectionData{ID: id, Selection: resp, RequestID: commandRequestID()}, true
}

// secSelectionPage shows a selection's state, why it is blocked if it is, and what the
// secretariat can do with it.
func (s *Server) secSelectionPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.secSelection(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "secretariat/selection", d)
}

// secResume asks a blocked selection to retry its step now.
func (s *Server) secResume(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	_, err = s.api.selections.ResumeSelection(ctx, &seleksiv1.ResumeSelectionRequest{
		Name: "selections/" + id, RequestId: postedRequestID(r.PostFormValue("request_id")), Reason: r.PostFormValue("reason")})
	if status.Code(err) == codes.FailedPrecondition {
		// No longer blocked: it went on by itself meanwhile.
		s.flash(r.Context(), "admin.flash.not_blocked")
	} else if err != nil {
		s.apiFailed(w, r, err)
		return
	} else {
		s.flash(r.Context(), "admin.flash.resumed")
	}
	http.Redirect(w, r, "/sekretariat/seleksi/"+id, http.StatusSeeOther)
}

// secCancelPage asks for the reason and a confirmation before cancelling.
func (s *Server) secCancelPage(w http.ResponseWriter, r *http.Request) {
	d, ok := s.secSelection(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "secretariat/cancel", d)
}

// secCancel cancels the selection with the reason given.
func (s *Server) secCancel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	rid := postedRequestID(r.PostFormValue("request_id"))
	_, err = s.api.selections.CancelSelection(ctx, &seleksiv1.CancelSelectionRequest{
		Name: "selections/" + id, RequestId: rid, Reason: r.PostFormValue("reason")})
	if status.Code(err) == codes.InvalidArgument {
		d, ok := s.secSelection(w, r)
		if !ok {
			return
		}
		d.RequestID = rid
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/cancel", d, r.PostForm, secErrors(err, nil))
		return
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "admin.flash.cancelled")
	http.Redirect(w, r, "/sekretariat/seleksi/"+id, http.StatusSeeOther)
}
