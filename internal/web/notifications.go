package web

import (
	"net/http"
	"net/url"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// notificationRoutes registers the candidate's notifications and the channels they choose.
func (s *Server) notificationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /lamaran/notifikasi", s.require(s.myNotifications, auth.RoleCandidate))
	mux.HandleFunc("GET /lamaran/notifikasi/saluran", s.require(s.myChannels, auth.RoleCandidate))
	mux.HandleFunc("POST /lamaran/notifikasi/saluran", s.require(s.myChannelsPost, auth.RoleCandidate))
}

// notificationsData is a page of the candidate's notifications, newest first.
type notificationsData struct {
	Items []*seleksiv1.Notification
	Next  string
}

// myNotifications lists what Seleksi told the candidate (the API lists a candidate's own
// notifications only), with whether and when each was delivered.
func (s *Server) myNotifications(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.notifications.ListNotifications(ctx, &seleksiv1.ListNotificationsRequest{PageSize: 50,
		OrderBy: "create_time desc", PageToken: r.URL.Query().Get("halaman")})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "notifications/mine", notificationsData{Items: resp.GetNotifications(), Next: resp.GetNextPageToken()})
}

// channelsForm is the preferences as the form's fields: checkboxes post "1" when ticked.
func channelsForm(p *seleksiv1.NotificationPreferences) url.Values {
	f := url.Values{}
	if p.GetEmail() {
		f.Set("email", "1")
	}
	if p.GetWebhook() {
		f.Set("webhook", "1")
	}
	f.Set("phone", p.GetPhone())
	return f
}

// myChannels shows the channels the candidate is told on.
func (s *Server) myChannels(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.notifications.GetNotificationPreferences(ctx, &seleksiv1.GetNotificationPreferencesRequest{Name: "accounts/me/notificationPreferences"})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.renderForm(w, r, http.StatusOK, "notifications/channels", nil, channelsForm(resp.GetNotificationPreferences()), nil)
}

// myChannelsPost stores the candidate's choice through the API, which checks the phone
// number; its refusal is shown beside the field.
func (s *Server) myChannelsPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	f := r.PostForm
	phone := strings.Join(strings.Fields(f.Get("phone")), "")
	_, err = s.api.notifications.UpdateNotificationPreferences(ctx, &seleksiv1.UpdateNotificationPreferencesRequest{
		NotificationPreferences: &seleksiv1.NotificationPreferences{Name: "accounts/me/notificationPreferences",
			Email: f.Get("email") == "1", Webhook: f.Get("webhook") == "1", Phone: phone}})
	if status.Code(err) == codes.InvalidArgument {
		errs := map[string]string{}
		for field, msg := range fieldErrors(err) {
			errs[strings.TrimPrefix(field, "notification_preferences.")] = msg
		}
		if len(errs) == 0 {
			errs["phone"] = status.Convert(err).Message()
		}
		s.renderForm(w, r, http.StatusBadRequest, "notifications/channels", nil, f, errs)
		return
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "notifications.channels.saved")
	http.Redirect(w, r, "/lamaran/notifikasi/saluran", http.StatusSeeOther)
}
