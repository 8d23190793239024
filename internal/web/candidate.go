package web

import "net/http"

// candidateRoutes registers the candidate pages.
func (s *Server) candidateRoutes(mux *http.ServeMux) {}
