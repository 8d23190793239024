package web

import "net/http"

// committeeRoutes registers the committee pages.
func (s *Server) committeeRoutes(mux *http.ServeMux) {}
