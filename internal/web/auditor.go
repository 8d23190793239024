package web

import "net/http"

// auditorRoutes registers the auditor pages.
func (s *Server) auditorRoutes(mux *http.ServeMux) {}
