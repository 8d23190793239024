package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// The candidate's files reach the upload handler (internal/documents, served by the API at
// uploadsPath) through two routes under /unggah, which the edge streams with the document
// limit instead of the page limit:
//
//   - /unggah/dokumen and the other multipart forms: the page works without JavaScript; the
//     file the browser posted is relayed in-process to the upload handler as one tus
//     "creation with upload" request, as the signed-in candidate.
//   - /unggah/tus/: the browser's own tus requests (static/candidate.js), resumable with
//     progress, relayed one for one with the candidate's token, the upload URLs rewritten
//     between the two prefixes.
//
// Either way the upload handler does every check (the selection, the kind, the window, the
// size, the content) and its refusal, already in the page's language, is what the candidate
// reads beside the file input.

const (
	// uploadsPath is where the API serves the upload handler (internal/app.UploadsPath).
	uploadsPath = "/v1/uploads/"
	// tusRelayPath is where the browser reaches it through the web application.
	tusRelayPath = "/unggah/tus/"
	// documentHeader names the document a finished upload became (internal/documents).
	documentHeader = "Seleksi-Document"
	// objectionKind is the kind of a document attached to an objection (store.DocumentKindObjection).
	objectionKind = "objection"
	// formFile is the file input's name in every upload form.
	formFile = "berkas"
)

// uploaded is the document an upload became: the last chunk's answer.
type uploaded struct {
	Name      string `json:"name"`
	MediaType string `json:"mediaType"`
	SizeBytes int64  `json:"sizeBytes,string"`
	SHA256    string `json:"sha256"`
	FileName  string `json:"-"`
}

// uploadRefused is the upload handler's refusal: its status and its message, in the page's
// language.
type uploadRefused struct {
	Status  int
	Message string
}

func (e *uploadRefused) Error() string {
	return fmt.Sprintf("upload refused (%d): %s", e.Status, e.Message)
}

// errNoUploads: this web application was built without the upload handler.
var errNoUploads = errors.New("web: uploads are not available")

// uploadFile sends one file to the upload handler as the signed-in candidate: a tus creation
// carrying the whole file. A refusal is an *uploadRefused with the handler's message.
func (s *Server) uploadFile(r *http.Request, u User, selection, kind, fileName string, size int64, body io.Reader) (uploaded, error) {
	if s.opts.Uploads == nil {
		return uploaded{}, errNoUploads
	}
	tok, err := s.opts.Minter.Token(r.Context(), u)
	if err != nil {
		return uploaded{}, fmt.Errorf("web: token for an upload: %w", err)
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, uploadsPath, body)
	if err != nil {
		return uploaded{}, err
	}
	req.Host = r.Host
	req.RemoteAddr = r.RemoteAddr
	req.ContentLength = size
	h := req.Header
	h.Set("Tus-Resumable", "1.0.0")
	h.Set("Authorization", "Bearer "+tok)
	h.Set("Accept-Language", string(s.lang(r)))
	h.Set("Content-Type", "application/offset+octet-stream")
	h.Set("Upload-Length", strconv.FormatInt(size, 10))
	h.Set("Upload-Metadata", tusMetadata(map[string]string{"selection": selection, "kind": kind, "filename": fileName}))
	rec := httptest.NewRecorder()
	s.opts.Uploads.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 400 {
		return uploaded{}, &uploadRefused{Status: resp.StatusCode, Message: statusMessage(b)}
	}
	if resp.Header.Get(documentHeader) == "" {
		// The upload was created but not finished: the file was shorter than it said.
		return uploaded{}, &uploadRefused{Status: http.StatusUnprocessableEntity, Message: ""}
	}
	var out uploaded
	if err := json.Unmarshal(b, &out); err != nil || out.Name == "" {
		out = uploaded{Name: resp.Header.Get(documentHeader), SizeBytes: size}
	}
	out.FileName = fileName
	return out, nil
}

// tusMetadata is an Upload-Metadata header.
func tusMetadata(meta map[string]string) string {
	parts := make([]string, 0, len(meta))
	for _, k := range []string{"selection", "kind", "filename"} {
		if v, ok := meta[k]; ok {
			parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
		}
	}
	return strings.Join(parts, ",")
}

// statusMessage is the message of a google.rpc.Status in JSON.
func statusMessage(b []byte) string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &st) == nil {
		return st.Message
	}
	return ""
}

// formUpload reads the file of a multipart upload form (already parsed by the CSRF check,
// which reads the token from the form) and relays it. ok is false when the form carried no
// file.
func (s *Server) formUpload(r *http.Request, u User, selection, kind string) (doc uploaded, ok bool, err error) {
	f, fh, err := r.FormFile(formFile)
	if errors.Is(err, http.ErrMissingFile) || (err == nil && fh.Size == 0 && fh.Filename == "") {
		return uploaded{}, false, nil
	}
	if err != nil {
		return uploaded{}, false, fmt.Errorf("web: read the posted file: %w", err)
	}
	defer f.Close()
	doc, err = s.uploadFile(r, u, selection, kind, fh.Filename, fh.Size, f)
	return doc, true, err
}

// parseUploadForm parses a multipart form (if the CSRF check has not yet) and returns a
// function removing its temporary files.
func parseUploadForm(r *http.Request) (func(), error) {
	if r.MultipartForm == nil {
		if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return func() {}, err
		}
	}
	return func() {
		if r.MultipartForm != nil {
			_ = r.MultipartForm.RemoveAll()
		}
	}, nil
}

// tusRelay forwards the browser's tus requests to the upload handler as the signed-in
// candidate. The session cookie and the CSRF header stay here; the handler gets a token.
func (s *Server) tusRelay(w http.ResponseWriter, r *http.Request) {
	u, ok := s.user(r)
	if !ok || u.Role != auth.RoleCandidate {
		w.Header().Set("Tus-Resumable", "1.0.0")
		code, text := http.StatusUnauthorized, "error.session_ended"
		if ok {
			code, text = http.StatusForbidden, "error.forbidden"
		}
		s.relayError(w, r, code, text)
		return
	}
	if s.opts.Uploads == nil {
		s.logger.ErrorContext(r.Context(), "web: tus relay", "error", errNoUploads)
		s.relayError(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	tok, err := s.opts.Minter.Token(r.Context(), u)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "web: token for an upload", "error", err)
		s.relayError(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	out := r.Clone(r.Context())
	out.URL.Path = uploadsPath + strings.TrimPrefix(r.URL.Path, tusRelayPath)
	out.URL.RawPath = ""
	out.RequestURI = ""
	out.Header.Del("Cookie")
	out.Header.Del("X-CSRF-Token")
	out.Header.Set("Authorization", "Bearer "+tok)
	out.Header.Set("Accept-Language", string(s.lang(r)))
	s.opts.Uploads.ServeHTTP(&locationRewriter{ResponseWriter: w}, out)
}

// relayError answers a tus request the relay refuses itself as the upload handler answers
// its own refusals, a google.rpc.Status in the page's language, which the upload script
// shows.
func (s *Server) relayError(w http.ResponseWriter, r *http.Request, httpCode int, text string) {
	c := codes.Unavailable
	switch httpCode {
	case http.StatusUnauthorized:
		c = codes.Unauthenticated
	case http.StatusForbidden:
		c = codes.PermissionDenied
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpCode)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": int(c), "message": view{p: s.pages, Lang: s.lang(r)}.T(text)})
}

// locationRewriter points the upload URLs the handler answers with at the relay.
type locationRewriter struct {
	http.ResponseWriter
	wrote bool
}

func (l *locationRewriter) WriteHeader(code int) {
	if !l.wrote {
		l.wrote = true
		if loc := l.Header().Get("Location"); loc != "" {
			if i := strings.Index(loc, uploadsPath); i >= 0 {
				l.Header().Set("Location", loc[:i]+tusRelayPath+loc[i+len(uploadsPath):])
			}
		}
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *locationRewriter) Write(b []byte) (int, error) {
	if !l.wrote {
		l.WriteHeader(http.StatusOK)
	}
	return l.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (tusd sets read deadlines).
func (l *locationRewriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// requestID is a fresh idempotency key for a form (26 characters of base32).
func requestID() string { return rand.Text() }
