package web

import "net/http"

// accountRoutes registers the account pages.
func (s *Server) accountRoutes(mux *http.ServeMux) {}
