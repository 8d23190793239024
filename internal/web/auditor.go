package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// The auditor's pages: the selections, a selection's audit trail page by page, a
// verification run and the download of its signed evidence bundle, with the key the bundle is
// signed with for checking it.

// auditorRoutes registers the auditor pages.
func (s *Server) auditorRoutes(mux *http.ServeMux) {
	auditor := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleAuditor) }
	mux.HandleFunc("GET /audit", auditor(s.auditHome))
	mux.HandleFunc("GET /audit/seleksi/{sel}", auditor(s.auditTimeline))
	mux.HandleFunc("GET /audit/seleksi/{sel}/verifikasi", auditor(s.auditVerify))
	mux.HandleFunc("GET /audit/seleksi/{sel}/kepatuhan", auditor(s.meritCompliance("/audit/seleksi/")))
	mux.HandleFunc("GET /audit/seleksi/{sel}/unduh", auditor(s.auditDownload))
	mux.HandleFunc("GET /audit/kunci", auditor(s.auditKey))
}

// auditHome lists every selection, each leading to its audit trail.
func (s *Server) auditHome(w http.ResponseWriter, r *http.Request) {
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
	s.render(w, r, http.StatusOK, "auditor/home", resp.GetSelections())
}

// auditTimelineData is one page of a selection's audit trail.
type auditTimelineData struct {
	ID        string
	Selection *seleksiv1.Selection
	Events    []*seleksiv1.AuditEvent
	// Next is the token of the next page; First says whether this is the first page.
	Next  string
	First bool
}

// auditPageSize is how many events a timeline page shows.
const auditPageSize = 50

// auditTimeline shows a selection's audit events in order: who did what, when and why.
func (s *Server) auditTimeline(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, sel, ok := s.loadSelection(w, r, id)
	if !ok {
		return
	}
	page := r.URL.Query().Get("halaman")
	resp, err := s.api.audit.ListAuditEvents(ctx, &seleksiv1.ListAuditEventsRequest{Parent: "selections/" + id, PageSize: auditPageSize, PageToken: page})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "auditor/timeline", auditTimelineData{ID: id, Selection: sel,
		Events: resp.GetAuditEvents(), Next: resp.GetNextPageToken(), First: page == ""})
}

// auditVerifyData is a verification report.
type auditVerifyData struct {
	ID        string
	Selection *seleksiv1.Selection
	Report    *seleksiv1.VerificationReport
	Replay    bool
}

// auditVerify runs a verification of the selection (with the replay when asked) and shows
// its findings. A verification only reads, so it is a GET: the page can be reloaded to run
// it again.
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, sel, ok := s.loadSelection(w, r, id)
	if !ok {
		return
	}
	replay := r.URL.Query().Get("replay") != ""
	resp, err := s.api.audit.VerifySelection(ctx, &seleksiv1.VerifySelectionRequest{Name: "selections/" + id, Replay: replay})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "auditor/verify", auditVerifyData{ID: id, Selection: sel, Report: resp.GetReport(), Replay: replay})
}

// auditChunkTimeout bounds how long one chunk of a download may take to reach the browser,
// as the gateway's download does.
const auditChunkTimeout = 2 * time.Minute

// auditDownload streams the selection's evidence bundle (ExportHistory) to the browser as a
// file: the header's media type and file name, then the chunks as they come. Errors before
// the first byte get an error page; after it the transfer is cut off, so the browser reports
// a failed download rather than keeping a short file that looks complete.
func (s *Server) auditDownload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	stream, err := s.api.audit.ExportHistory(ctx, &seleksiv1.ExportHistoryRequest{Name: "selections/" + id})
	var first *seleksiv1.ExportHistoryResponse
	if err == nil {
		first, err = stream.Recv()
	}
	if err == nil && first.GetHeader() == nil {
		s.logger.ErrorContext(ctx, "web: export stream did not start with its header", "got", fmt.Sprintf("%T", first.GetContent()))
		err = status.Error(codes.Internal, "internal error")
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	head := first.GetHeader()
	h := w.Header()
	h.Set("Content-Type", head.GetContentType())
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": head.GetFileName()}))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			err = errors.New("the stream ended without its trailer")
		}
		if err != nil {
			s.auditAbort(r, err)
		}
		switch c := msg.GetContent().(type) {
		case *seleksiv1.ExportHistoryResponse_Chunk:
			_ = rc.SetWriteDeadline(time.Now().Add(auditChunkTimeout))
			if _, err := w.Write(c.Chunk); err != nil {
				s.auditAbort(r, err)
			}
		case *seleksiv1.ExportHistoryResponse_Trailer:
			_ = rc.Flush()
			return
		default:
			s.auditAbort(r, fmt.Errorf("unexpected %T in the export stream", c))
		}
	}
}

// auditAbort cuts a download off after its status line was sent.
func (s *Server) auditAbort(r *http.Request, err error) {
	if r.Context().Err() == nil {
		s.logger.WarnContext(r.Context(), "web: export download cut off", "path", r.URL.Path, "error", status.Convert(err).Message())
	}
	panic(http.ErrAbortHandler)
}

// auditKey shows the key the bundles are signed with, to check a bundle's signature.
func (s *Server) auditKey(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.audit.GetSigningKey(ctx, &seleksiv1.GetSigningKeyRequest{})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "auditor/key", resp)
}
