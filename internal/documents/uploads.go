package documents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	expslog "golang.org/x/exp/slog"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Uploads are resumable with the tus protocol (https://tus.io/protocols/resumable-upload),
// served by tusd, the protocol's reference server, as a library: a candidate creates an
// upload (POST, declaring its length and naming the selection, the kind and the file name in
// Upload-Metadata), sends it in chunks (PATCH), and after a broken connection asks for the
// offset (HEAD) and sends the rest. Partial uploads are files in the uploads directory;
// nothing of them is believed until the last chunk: then the content is checked, hashed,
// stored content-addressed and recorded as a document, and the partial upload is removed.
//
// Locks: tusd's in-memory locker. An upload's partial file lives on this process's disk, so
// a lock across processes would buy nothing, and the in-memory locker, unlike the file
// locker, asks the holder of a lock to let go when another request wants it: the PATCH of a
// connection that died silently still holds the upload, and the client's HEAD and PATCH after
// reconnecting get it at once instead of waiting for the dead request's timeout.

// UploadOptions configure Uploads.
type UploadOptions struct {
	// Dir holds the partial uploads; created 0700.
	Dir string
	// BasePath is where the handler is mounted, such as "/v1/uploads/".
	BasePath string
	// Expiry removes an unfinished upload this long after its last chunk (default 24 h).
	Expiry time.Duration
	// Limiter, when set, holds each new upload to the caller's mutation allowance.
	Limiter Limiter
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ConcurrentChecks is how many finished uploads are checked at once (default 2);
	// others wait their turn.
	ConcurrentChecks int
}

// Limiter admits an authenticated caller's request (internal/ratelimit implements it); an
// error, a gRPC status such as RESOURCE_EXHAUSTED with RetryInfo, refuses it.
type Limiter interface {
	Admit(ctx context.Context, fullMethod string, p auth.Principal) error
}

// CreateUploadMethod is the name new uploads are counted under by the Limiter, as if it
// were an RPC (a mutation).
const CreateUploadMethod = "/seleksi.v1.DocumentService/CreateUpload"

// DocumentHeader names the document a finished upload became, `documents/{id}`.
const DocumentHeader = "Seleksi-Document"

// Upload-Metadata keys: what the client sends, and what the server keeps with the upload.
const (
	metaSelection = "selection"
	metaKind      = "kind"
	metaFileName  = "filename"
	metaOwner     = "owner"
)

// Uploads serves the tus upload routes.
type Uploads struct {
	st       Store
	blobs    blob.Store
	insp     Inspector
	verifier auth.Verifier
	catalog  *i18n.Catalog
	logger   *slog.Logger
	opts     UploadOptions
	files    filestore.FileStore
	locker   *memorylocker.MemoryLocker
	tus      http.Handler
	// checks bounds how many content checks run at once: parsing a PDF or decoding an
	// image takes up to a few hundred MB, and a rush finishes many uploads together.
	checks chan struct{}
}

// NewUploads builds the upload handler. Nothing is served until it is mounted at
// opts.BasePath.
func NewUploads(st Store, blobs blob.Store, insp Inspector, verifier auth.Verifier, catalog *i18n.Catalog, logger *slog.Logger, opts UploadOptions) (*Uploads, error) {
	if st == nil || blobs == nil || insp == nil || verifier == nil || catalog == nil {
		return nil, errors.New("documents: store, blob store, inspector, verifier and catalog are required")
	}
	if opts.Dir == "" || !strings.HasPrefix(opts.BasePath, "/") || !strings.HasSuffix(opts.BasePath, "/") {
		return nil, errors.New("documents: an uploads directory and a base path /.../ are required")
	}
	if opts.Expiry <= 0 {
		opts.Expiry = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ConcurrentChecks <= 0 {
		opts.ConcurrentChecks = 2
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("documents: uploads directory: %w", err)
	}
	// Partial uploads are personal data: only this process's user reads them.
	if err := os.Chmod(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("documents: uploads directory: %w", err)
	}
	u := &Uploads{st: st, blobs: blobs, insp: insp, verifier: verifier, catalog: catalog, logger: logger, opts: opts,
		files: filestore.New(opts.Dir), locker: memorylocker.New(), checks: make(chan struct{}, opts.ConcurrentChecks)}
	u.files.DirModePerm, u.files.FileModePerm = 0o700, 0o600
	composer := handler.NewStoreComposer()
	u.files.UseIn(composer)
	u.locker.UseIn(composer)
	h, err := handler.NewHandler(handler.Config{
		BasePath:      opts.BasePath,
		StoreComposer: composer,
		MaxSize:       MaxBytesLimit,
		// A finished upload becomes a document, read through DocumentService with its
		// access recorded; tusd's own GET would serve partial uploads unrecorded.
		DisableDownload: true,
		// Concatenation would let an upload's bytes come from other uploads, around the
		// checks at creation.
		DisableConcatenation: true,
		// Uploads come from Seleksi's own pages and clients, never from other origins.
		Cors:                      &handler.CorsConfig{Disable: true},
		PreUploadCreateCallback:   u.preCreate,
		PreFinishResponseCallback: u.preFinish,
		// tusd logs every request with its metadata, which holds file names (personal
		// data), through golang.org/x/exp/slog: its log is dropped, and this package logs
		// what goes wrong in its own words.
		Logger: expslog.New(expslog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, fmt.Errorf("documents: tus handler: %w", err)
	}
	u.tus = http.StripPrefix(strings.TrimSuffix(opts.BasePath, "/"), h)
	return u, nil
}

// LimitedBy holds each new upload to l's allowance (the transport owns the limiter, and
// builds it after the uploads are configured); it returns u.
func (u *Uploads) LimitedBy(l Limiter) *Uploads {
	u.opts.Limiter = l
	return u
}

// caller is the authenticated candidate of an upload request.
type caller struct {
	principal auth.Principal
	actor     string
}

type callerKey struct{}

func callerFrom(ctx context.Context) (caller, bool) {
	c, ok := ctx.Value(callerKey{}).(caller)
	return c, ok
}

// uploadID is what tusd's IDs look like (32 hex digits); anything else is no upload, and
// never reaches the file store's paths.
var uploadID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ServeHTTP authenticates the caller (a candidate's bearer token, verified as the gRPC
// server verifies it), holds new uploads to the caller's allowance, lets candidates reach
// only their own uploads, and hands the request to tusd.
func (u *Uploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		// The protocol's discovery request (versions, extensions, maximum size).
		u.tus.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
	p, err := u.verifier.Verify(ctx, bearer(r))
	if err != nil {
		if !errors.Is(err, auth.ErrUnauthenticated) {
			u.logger.ErrorContext(ctx, "token verification failed", "error", err)
			u.writeRejection(w, lang, &Rejection{Code: CodeUnavailable, Status: http.StatusServiceUnavailable})
			return
		}
		u.writeRejection(w, lang, &Rejection{Code: CodeUnauthenticated, Status: http.StatusUnauthorized})
		return
	}
	if p.Role != auth.RoleCandidate {
		u.writeRejection(w, lang, &Rejection{Code: CodeCandidatesOnly, Status: http.StatusForbidden})
		return
	}
	actor, err := u.st.ActorID(ctx, p.Issuer, p.Subject)
	if err != nil {
		u.logger.WarnContext(ctx, "upload: actor ID", "error", err)
		u.writeRejection(w, lang, &Rejection{Code: CodeUnavailable, Status: http.StatusServiceUnavailable})
		return
	}
	ctx = context.WithValue(auth.WithPrincipal(ctx, p), callerKey{}, caller{principal: p, actor: actor})
	id := strings.Trim(strings.TrimPrefix(r.URL.Path, u.opts.BasePath), "/")
	switch {
	case id == "" && r.Method == http.MethodPost:
		if u.opts.Limiter != nil {
			if err := u.opts.Limiter.Admit(ctx, CreateUploadMethod, p); err != nil {
				writeStatus(w, lang, http.StatusTooManyRequests, status.Convert(err))
				return
			}
		}
	case id != "":
		// Only the candidate who created an upload may see or continue it; another's is
		// not found, so IDs cannot be probed.
		info, err := u.info(ctx, id)
		if errors.Is(err, handler.ErrNotFound) && (r.Method == http.MethodHead || r.Method == http.MethodPatch) {
			// A finished upload is removed once its document exists: a client whose answer
			// to the last chunk was lost learns the document instead of starting again.
			if doc, err := u.st.DocumentByUpload(ctx, id); err == nil && doc.Owner == actor {
				writeFinished(w, r, doc)
				return
			}
		}
		if err != nil || info.MetaData[metaOwner] != actor {
			u.writeRejection(w, lang, &Rejection{Code: CodeUploadNotFound, Status: http.StatusNotFound})
			return
		}
		if r.Method == http.MethodPatch && !info.SizeIsDeferred && info.Size > 0 && info.Offset == info.Size {
			// Every byte is here but the upload is still present: finishing it failed
			// (the store or storage was unavailable). tusd never calls the finish hook for
			// a complete upload again, so the client's next PATCH finishes it here.
			u.finishAgain(w, r.WithContext(ctx), id, lang)
			return
		}
	}
	u.tus.ServeHTTP(w, r.WithContext(ctx))
}

// finishAgain finishes a complete upload whose first finish failed, under the upload's lock
// so that it never runs beside another request on the same upload.
func (u *Uploads) finishAgain(w http.ResponseWriter, r *http.Request, id string, lang i18n.Lang) {
	ctx := r.Context()
	lock, err := u.locker.NewLock(id)
	if err == nil {
		err = lock.Lock(ctx, func() {})
	}
	if err != nil {
		u.logger.WarnContext(ctx, "upload: lock to finish again", "upload", id, "error", err)
		u.writeRejection(w, lang, &Rejection{Code: CodeUnavailable, Status: http.StatusServiceUnavailable})
		return
	}
	defer func() { _ = lock.Unlock() }()
	c, _ := callerFrom(ctx)
	info, err := u.info(ctx, id)
	if err != nil {
		// Another request finished it while this one waited for the lock.
		if doc, derr := u.st.DocumentByUpload(ctx, id); derr == nil && doc.Owner == c.actor {
			writeFinished(w, r, doc)
			return
		}
		u.writeRejection(w, lang, &Rejection{Code: CodeUploadNotFound, Status: http.StatusNotFound})
		return
	}
	doc, rej := u.complete(ctx, c, info)
	if rej != nil {
		u.writeRejection(w, lang, rej)
		return
	}
	writeFinished(w, r, doc)
}

// complete turns a complete upload into a document (see finish) and removes the partial
// upload, unless the failure was the service's own: then the upload stays, complete, until
// it expires, and the client's next request finishes it (see finishAgain).
func (u *Uploads) complete(ctx context.Context, c caller, info handler.FileInfo) (store.StoredDocument, *Rejection) {
	doc, err := u.finish(ctx, c, info)
	var rej *Rejection
	if errors.As(err, &rej) {
		if rej.Code != CodeUnavailable {
			u.remove(ctx, info.ID)
		}
		return doc, rej
	}
	if err != nil {
		u.logger.ErrorContext(ctx, "upload: finish", "upload", info.ID, "error", err)
		return doc, &Rejection{Code: CodeUnavailable, Status: http.StatusServiceUnavailable}
	}
	u.remove(ctx, info.ID)
	return doc, nil
}

// finishedBody is the description of the document an upload became, the last chunk's answer.
func finishedBody(doc store.StoredDocument) []byte {
	body, _ := json.Marshal(finished{Name: "documents/" + doc.ID, MediaType: doc.MediaType, SizeBytes: doc.SizeBytes, SHA256: doc.SHA256, Pages: doc.Pages})
	return body
}

// writeFinished answers a request on an upload that already became a document as the last
// chunk's answer would have: all bytes received, and the document.
func writeFinished(w http.ResponseWriter, r *http.Request, doc store.StoredDocument) {
	h := w.Header()
	h.Set("Tus-Resumable", "1.0.0")
	h.Set("Upload-Offset", strconv.FormatInt(doc.SizeBytes, 10))
	h.Set("Upload-Length", strconv.FormatInt(doc.SizeBytes, 10))
	h.Set("Cache-Control", "no-store")
	h.Set(DocumentHeader, "documents/"+doc.ID)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	body := finishedBody(doc)
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// info reads an upload's description.
func (u *Uploads) info(ctx context.Context, id string) (handler.FileInfo, error) {
	if !uploadID.MatchString(id) {
		return handler.FileInfo{}, handler.ErrNotFound
	}
	up, err := u.files.GetUpload(ctx, id)
	if err != nil {
		return handler.FileInfo{}, err
	}
	return up.GetInfo(ctx)
}

// bearer is the request's bearer token.
func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// preCreate checks a new upload before anything is stored: the selection exists and takes
// documents now, the kind is one it asks for, and the declared length is within its limit.
// It keeps only the metadata Seleksi uses, with the owner's actor ID.
func (u *Uploads) preCreate(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	ctx := hook.Context
	c, ok := callerFrom(ctx)
	if !ok {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, errNoPrincipal
	}
	lang := i18n.FromAcceptLanguage(hook.HTTPRequest.Header.Get("Accept-Language"))
	refuse := func(rej *Rejection) (handler.HTTPResponse, handler.FileInfoChanges, error) {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, u.tusError(lang, rej)
	}
	meta := hook.Upload.MetaData
	selID := strings.TrimPrefix(meta[metaSelection], "selections/")
	kind := meta[metaKind]
	if selID == "" || kind == "" {
		return refuse(&Rejection{Code: CodeMetadataMissing, Status: http.StatusBadRequest})
	}
	if hook.Upload.SizeIsDeferred {
		return refuse(&Rejection{Code: CodeLengthRequired, Status: http.StatusLengthRequired})
	}
	if hook.Upload.Size <= 0 {
		return refuse(&Rejection{Code: CodeEmpty, Status: http.StatusUnprocessableEntity})
	}
	sel, err := u.st.GetSelection(ctx, selID)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(&Rejection{Code: CodeSelectionNotFound, Params: map[string]string{"selection": selID}, Status: http.StatusNotFound})
	}
	if err != nil {
		u.logger.WarnContext(ctx, "upload: read selection", "selection", selID, "error", err)
		return refuse(&Rejection{Code: CodeUnavailable, Status: http.StatusServiceUnavailable})
	}
	rules, err := rulesOf(sel)
	if err != nil {
		u.logger.ErrorContext(ctx, "upload: selection's document rules", "error", err)
		return refuse(&Rejection{Code: CodeUnavailable, Status: http.StatusServiceUnavailable})
	}
	if err := rules.checkKind(kind); err != nil {
		return refuse(err.(*Rejection))
	}
	if err := checkWindow(sel, kind, u.opts.Now()); err != nil {
		return refuse(err.(*Rejection))
	}
	if hook.Upload.Size > rules.policy.MaxBytes {
		return refuse(tooLarge(rules.policy.MaxBytes))
	}
	return handler.HTTPResponse{}, handler.FileInfoChanges{MetaData: handler.MetaData{
		metaSelection: selID, metaKind: kind, metaFileName: cleanFileName(meta[metaFileName], kind), metaOwner: c.actor,
	}}, nil
}

func tooLarge(limit int64) *Rejection {
	return &Rejection{Code: CodeTooLarge, Params: map[string]string{"limit": fmt.Sprint(limit)}, Status: http.StatusRequestEntityTooLarge}
}

// cleanFileName keeps a file name fit to show and to put in a Content-Disposition: its last
// path element, printable, at most 200 characters; the kind when nothing is left.
func cleanFileName(name, kind string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	for len(name) > 200 || !utf8.ValidString(name) {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if strings.Trim(name, ". ") == "" {
		return kind
	}
	return name
}

// finished is the answer body of an upload that became a document.
type finished struct {
	Name      string `json:"name"`
	MediaType string `json:"mediaType"`
	SizeBytes int64  `json:"sizeBytes,string"`
	SHA256    string `json:"sha256"`
	Pages     int    `json:"pages,omitempty"`
}

// preFinish turns a complete upload into a document, before the last chunk is answered: the
// content is checked by the inspector, hashed here (whatever the inspector says), stored
// under its digest, and recorded with its audit event; then the partial upload is removed.
// A refused file is removed too: sending it again cannot change the verdict.
func (u *Uploads) preFinish(hook handler.HookEvent) (handler.HTTPResponse, error) {
	ctx := hook.Context
	c, ok := callerFrom(ctx)
	if !ok {
		return handler.HTTPResponse{}, errNoPrincipal
	}
	lang := i18n.FromAcceptLanguage(hook.HTTPRequest.Header.Get("Accept-Language"))
	doc, rej := u.complete(ctx, c, hook.Upload)
	if rej != nil {
		return handler.HTTPResponse{}, u.tusError(lang, rej)
	}
	body := finishedBody(doc)
	resp := handler.HTTPResponse{Body: string(body), Header: handler.HTTPHeader{
		DocumentHeader: "documents/" + doc.ID, "Content-Type": "application/json"}}
	if hook.HTTPRequest.Method == http.MethodPatch {
		// 204 carries no body; the document's description goes with a 200.
		resp.StatusCode = http.StatusOK
	}
	return resp, nil
}

func (u *Uploads) finish(ctx context.Context, c caller, info handler.FileInfo) (store.StoredDocument, error) {
	selID, kind := info.MetaData[metaSelection], info.MetaData[metaKind]
	if info.MetaData[metaOwner] != c.actor {
		return store.StoredDocument{}, errors.New("upload finished by someone other than its owner")
	}
	sel, err := u.st.GetSelection(ctx, selID)
	if err != nil {
		return store.StoredDocument{}, fmt.Errorf("read selection: %w", err)
	}
	rules, err := rulesOf(sel)
	if err != nil {
		return store.StoredDocument{}, err
	}
	f, err := os.Open(info.Storage[filestore.StorageKeyPath])
	if err != nil {
		return store.StoredDocument{}, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return store.StoredDocument{}, fmt.Errorf("stat upload: %w", err)
	}
	if fi.Size() != info.Size {
		return store.StoredDocument{}, &Rejection{Code: CodeSizeMismatch, Status: http.StatusUnprocessableEntity}
	}
	if info.Size > rules.policy.MaxBytes {
		// The selection's limit was lowered while the upload ran.
		return store.StoredDocument{}, tooLarge(rules.policy.MaxBytes)
	}
	res, err := u.inspect(ctx, f, info.Size, rules.policy)
	if err != nil {
		return store.StoredDocument{}, err
	}
	if !slices.Contains(rules.policy.MediaTypes, res.MediaType) {
		return store.StoredDocument{}, &Rejection{Code: CodeTypeNotAllowed, Params: map[string]string{"type": res.MediaType,
			"allowed": strings.Join(rules.policy.MediaTypes, ", ")}, Status: http.StatusUnsupportedMediaType}
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, info.Size)); err != nil {
		return store.StoredDocument{}, fmt.Errorf("hash upload: %w", err)
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if res.SHA256 != "" && res.SHA256 != digest {
		return store.StoredDocument{}, fmt.Errorf("the inspector's digest %s differs from the file's %s", res.SHA256, digest)
	}
	// The window may have closed while the last chunk travelled: refuse before storing the
	// content, which no document would then own and no retention would ever erase.
	// (CreateDocument checks again under the selection's lock.)
	if err := checkWindow(sel, kind, u.opts.Now()); err != nil {
		return store.StoredDocument{}, err
	}
	key := BlobKey(digest)
	if err := u.blobs.Put(ctx, key, io.NewSectionReader(f, 0, info.Size), info.Size); err != nil {
		return store.StoredDocument{}, fmt.Errorf("store content: %w", err)
	}
	doc, err := u.st.CreateDocument(ctx, store.NewDocument{
		SelectionID: selID, Owner: c.actor, Kind: kind, UploadID: info.ID, FileName: info.MetaData[metaFileName],
		MediaType: res.MediaType, SizeBytes: info.Size, SHA256: digest, Pages: res.Pages, BlobKey: key,
		RequireOpenWindow: kind != store.DocumentKindObjection, Now: u.opts.Now(),
	})
	if errors.Is(err, store.ErrFailedPrecondition) {
		// The window closed while the last chunk was on its way.
		return store.StoredDocument{}, &Rejection{Code: CodeWindowClosed, Status: http.StatusUnprocessableEntity}
	}
	if err != nil {
		return doc, err
	}
	// The content is shared with every document of the same digest. Should the erasure of
	// the last other one (store.EraseDocument, after its retention) have deleted it between
	// the Put above and the document's creation, it is stored again: that erasure decided
	// under a lock on the key which CreateDocument takes too, so it is over by now, and no
	// later erasure deletes content a document that is not erased still uses.
	if _, err := u.blobs.Stat(ctx, key); errors.Is(err, blob.ErrNotFound) {
		if err := u.blobs.Put(ctx, key, io.NewSectionReader(f, 0, info.Size), info.Size); err != nil {
			return store.StoredDocument{}, fmt.Errorf("store content again after an erasure: %w", err)
		}
	} else if err != nil {
		return store.StoredDocument{}, fmt.Errorf("check stored content: %w", err)
	}
	return doc, nil
}

// inspect runs the content check when its turn comes among the uploads finishing together.
func (u *Uploads) inspect(ctx context.Context, f io.ReaderAt, size int64, p Policy) (Result, error) {
	select {
	case u.checks <- struct{}{}:
		defer func() { <-u.checks }()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("wait to check content: %w", ctx.Err())
	}
	return u.insp.Inspect(ctx, f, size, p)
}

// remove deletes a partial upload's files.
func (u *Uploads) remove(ctx context.Context, id string) {
	up, err := u.files.GetUpload(ctx, id)
	if err == nil {
		err = u.files.AsTerminatableUpload(up).Terminate(ctx)
	}
	if err != nil && !errors.Is(err, handler.ErrNotFound) {
		u.logger.WarnContext(ctx, "upload: remove partial upload", "upload", id, "error", err)
	}
}

// rejectionStatus is the gRPC code of a refusal's google.rpc.Status.
func rejectionStatus(rej *Rejection) (int, codes.Code) {
	httpCode := rej.Status
	if httpCode == 0 {
		httpCode = http.StatusUnprocessableEntity
	}
	switch {
	case httpCode == http.StatusUnauthorized:
		return httpCode, codes.Unauthenticated
	case httpCode == http.StatusForbidden:
		return httpCode, codes.PermissionDenied
	case httpCode == http.StatusNotFound:
		return httpCode, codes.NotFound
	case httpCode == http.StatusRequestEntityTooLarge:
		return httpCode, codes.ResourceExhausted
	case httpCode == http.StatusServiceUnavailable:
		return httpCode, codes.Unavailable
	case rej.Code == CodeWindowClosed || rej.Code == CodeObjectionNotAllowed:
		return httpCode, codes.FailedPrecondition
	}
	return httpCode, codes.InvalidArgument
}

// ReasonRefused is the google.rpc.ErrorInfo reason of a refused upload; the ErrorInfo's
// metadata holds the message code (`code`) and its parameters.
const ReasonRefused = "DOCUMENT_REFUSED"

// rejectionStatusOf renders a refusal as a google.rpc.Status in the caller's language.
func (u *Uploads) rejectionStatusOf(lang i18n.Lang, rej *Rejection) (int, *status.Status) {
	httpCode, code := rejectionStatus(rej)
	msg := i18n.Msg{Code: rej.Code, Params: rej.Params}
	if !u.catalog.Knows(rej.Code, lang) {
		msg = i18n.Msg{Code: CodeRefused, Params: map[string]string{"code": rej.Code}}
	}
	text := u.catalog.Render(msg, lang)
	meta := map[string]string{"code": rej.Code}
	for k, v := range rej.Params {
		meta[k] = v
	}
	st := status.New(code, text)
	if wd, err := st.WithDetails(&errdetails.LocalizedMessage{Locale: string(lang), Message: text},
		&errdetails.ErrorInfo{Reason: ReasonRefused, Domain: "seleksi", Metadata: meta}); err == nil {
		st = wd
	}
	return httpCode, st
}

// tusError is a refusal as tusd sends it: our status line and JSON body.
func (u *Uploads) tusError(lang i18n.Lang, rej *Rejection) error {
	httpCode, st := u.rejectionStatusOf(lang, rej)
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		body = []byte(fmt.Sprintf(`{"code":%d}`, st.Code()))
	}
	return handler.Error{ErrorCode: rej.Code, Message: st.Message(), HTTPResponse: handler.HTTPResponse{
		StatusCode: httpCode, Body: string(body), Header: handler.HTTPHeader{"Content-Type": "application/json"}}}
}

func (u *Uploads) writeRejection(w http.ResponseWriter, lang i18n.Lang, rej *Rejection) {
	httpCode, st := u.rejectionStatusOf(lang, rej)
	writeStatus(w, lang, httpCode, st)
}

// writeStatus answers with the JSON form of a google.rpc.Status, as the gateway does.
func writeStatus(w http.ResponseWriter, _ i18n.Lang, httpCode int, st *status.Status) {
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		body = []byte(fmt.Sprintf(`{"code":%d}`, st.Code()))
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			w.Header().Set("Retry-After", fmt.Sprint(max(1, int(ri.GetRetryDelay().AsDuration().Seconds()+0.999))))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}
