package web

import (
	"net/http"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// notificationRoutes registers the candidate's notifications.
func (s *Server) notificationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /lamaran/notifikasi", s.require(s.myNotifications, auth.RoleCandidate))
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
