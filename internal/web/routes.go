package web

import (
	"net/http"
	"net/url"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// routes registers every page. Paths are Indonesian, like the pages: people read and share
// them.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /bahasa", s.switchLang)
	mux.HandleFunc("GET /seleksi/{id}", s.selectionPage)
	mux.HandleFunc("GET /seleksi/{id}/hasil/{stage}", s.stageResultPage)
	mux.HandleFunc("POST /keluar", s.signOutPage)
	s.accountRoutes(mux)
	s.candidateRoutes(mux)
	s.committeeRoutes(mux)
	s.secretariatRoutes(mux)
	s.scheduleRoutes(mux)
	s.candidateScheduleRoutes(mux)
	s.attendanceRoutes(mux)
	s.staffRoutes(mux)
	s.notificationRoutes(mux)
	s.auditorRoutes(mux)
	s.tokenRoutes(mux)
	s.officialRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
	})
}

// switchLang remembers the chosen language for a year and returns to the page.
func (s *Server) switchLang(w http.ResponseWriter, r *http.Request) {
	l := i18n.ID
	if r.URL.Query().Get("ke") == string(i18n.EN) {
		l = i18n.EN
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.opts.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("kembali")), http.StatusSeeOther)
}

// signOutPage ends the session and returns to the home page.
func (s *Server) signOutPage(w http.ResponseWriter, r *http.Request) {
	if err := s.signOut(r.Context()); err != nil {
		s.logger.ErrorContext(r.Context(), "web: sign out", "error", err)
	}
	s.flash(r.Context(), "flash.signed_out")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// back is the local return address a form or link carries.
func back(v url.Values) string { return safeNext(v.Get("kembali")) }
