package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// documentID is the pattern of a document's ID (the API's documents/{id}).
var documentID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)

// shownTypes are the media types shown inline; anything else (the API sniffs and accepts
// only these) is offered as a download.
var shownTypes = map[string]bool{"application/pdf": true, "image/jpeg": true, "image/png": true}

// documentDownload streams a document through DocumentService.DownloadDocument: the API
// decides who may read it and records the read (UU 27/2022) before the first byte. The
// content is shown inline (beside the screening checklist) as the type the API sniffed from
// it, never guessed by the browser, and a PDF is sandboxed: no scripts, no forms, no
// same-origin access, whatever it contains.
func (s *Server) documentDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		// The API records every download as a read of the document: a HEAD would record a
		// read that shows nothing, so only GET is served.
		w.Header().Set("Allow", http.MethodGet)
		s.renderError(w, r, http.StatusMethodNotAllowed, "error.refused")
		return
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// Each read is recorded in the document's access log: a link on another site must
		// not record a read the member never chose to make.
		s.renderError(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	id := r.PathValue("id")
	if !documentID.MatchString(id) {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	stream, err := s.api.documents.DownloadDocument(ctx, &seleksiv1.DownloadDocumentRequest{Name: "documents/" + id})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	first, err := stream.Recv()
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	doc := first.GetHeader()
	if doc == nil {
		s.logger.ErrorContext(r.Context(), "web: document download began without its header", "document", id)
		s.renderError(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	h := w.Header()
	mediaType := doc.GetMediaType()
	disposition := "inline"
	if !shownTypes[mediaType] {
		mediaType, disposition = "application/octet-stream", "attachment"
	}
	h.Set("Content-Type", mediaType)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": doc.GetFileName()}))
	h.Set("X-Content-Type-Options", "nosniff")
	// The page's own policy (set by securityHeaders) forbids framing; the document is shown
	// in a frame of our own screening page, so it may be framed by this site only. A PDF
	// runs sandboxed: it cannot script, submit or reach this site as itself.
	csp := "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
	if doc.GetMediaType() == "application/pdf" {
		csp += "; sandbox"
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "private, no-store")
	if doc.GetSha256() != "" {
		h.Set("ETag", `"`+doc.GetSha256()+`"`)
	}
	if doc.GetSizeBytes() > 0 {
		h.Set("Content-Length", strconv.FormatInt(doc.GetSizeBytes(), 10))
	}
	w.WriteHeader(http.StatusOK)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The status line is sent: the only honest thing left is to cut the response
			// short, so the browser does not take a truncated file for the whole.
			s.logger.WarnContext(r.Context(), "web: document download cut short", "document", id, "error", err)
			panic(http.ErrAbortHandler)
		}
		if _, err := w.Write(msg.GetChunk()); err != nil {
			return
		}
	}
}
