package web

import "net/http"

// secretariatRoutes registers the secretariat pages.
func (s *Server) secretariatRoutes(mux *http.ServeMux) {}
