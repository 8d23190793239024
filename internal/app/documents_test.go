package app

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/cli"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/documents/scan"
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
	"github.com/bkpsdm/seleksi/internal/faultproxy"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/ratelimit"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// docEnv is seleksid's API with a real store (SQLite), real document storage (the
// filesystem) and the real upload handler, on loopback: selections are created in the store
// directly, so no Temporal is needed.
type docEnv struct {
	st      *store.Store
	base    string // http://host:port of the gateway
	grpc    string // host:port of the gRPC server
	key     *auth.LocalKey
	uploads string // the uploads directory
}

// docSelectionConfig is a selection's stored definition: two required documents and a 4 MiB
// limit (the protojson of seleksiv1.Selection, as CreateSelection stores it).
const docSelectionConfig = `{"requirements":{"requiredDocuments":[{"id":"ijazah","title":"Ijazah"},{"id":"lhkpn","title":"LHKPN"}]},` +
	`"documentPolicy":{"maxDocumentBytes":"4194304"}}`

func newDocEnv(t *testing.T, limits Limits) *docEnv {
	t.Helper()
	return newDocEnvWith(t, limits, func(st *store.Store) documents.Store { return st })
}

// newDocEnvWith is newDocEnv with the upload handler's store wrapped by wrap.
func newDocEnvWith(t *testing.T, limits Limits, wrap func(*store.Store) documents.Store) *docEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{"sel-own", "sel-other", "sel-closed"} {
		if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: workflows.WorkflowID(id),
			PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(docSelectionConfig),
			Committee: []store.CommitteeMember{{MemberID: "member-1", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
			Actor:     store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
			t.Fatal(err)
		}
		if id == "sel-closed" {
			continue // no window projected: the announcement is not open
		}
		if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(id), SelectionID: id, Key: "window-1",
			Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour), ClosesWall: now.Add(24 * time.Hour)}}, now); err != nil {
			t.Fatal(err)
		}
	}
	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewFS(filepath.Join(dir, "documents"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	verifier := key.Verifier(time.Now, 0)
	env := &docEnv{st: st, key: key, uploads: filepath.Join(dir, "uploads")}
	up, err := documents.NewUploads(wrap(st), blobs, documents.ScanInspector{}, verifier, catalog, logger,
		documents.UploadOptions{Dir: env.uploads, BasePath: UploadsPath})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", verifier, server.Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  seleksiv1.UnimplementedApplicationServiceServer{},
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
		Document:     server.NewDocumentServer(st, blobs, logger, time.Now),
	}, WithLimits(limits), WithUploads(func(l documents.Limiter) http.Handler { return up.LimitedBy(l) }))
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	env.base = "http://" + tr.HTTPAddr()
	env.grpc = tr.GRPCAddr()
	return env
}

func (e *docEnv) mint(t testing.TB, sub string, role auth.Role, sel ...string) string {
	t.Helper()
	tok, err := e.key.Mint(auth.MintOptions{Subject: sub, Role: role, Selections: sel, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// pdf is a well-formed PDF of about n bytes, unique per seed, that the content check takes.
func pdf(n int, seed byte) []byte { return doctest.PDF(n, uint64(seed)) }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// upload uploads data in one go with the tus client and returns the document's name.
func (e *docEnv) upload(t testing.TB, token, sel, kind string, data []byte) (string, error) {
	t.Helper()
	c := &tusclient.Client{Token: token, Retries: 1}
	ctx := context.Background()
	u, err := c.Create(ctx, e.base+UploadsPath, int64(len(data)), map[string]string{"selection": sel, "kind": kind, "filename": kind + ".pdf"})
	if err != nil {
		return "", err
	}
	fin, err := c.Send(ctx, u, bytes.NewReader(data), int64(len(data)), nil)
	return fin.Document, err
}

// call sends one REST request and returns the status and body.
func (e *docEnv) call(t testing.TB, method, path, token string) (int, http.Header, []byte) {
	t.Helper()
	return bearerRequest(t, method, e.base+path, token)
}

// bearerRequest sends a request without a body to url, with token as its bearer token when
// there is one, and returns the status, headers and body.
func bearerRequest(t testing.TB, method, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// cutOnce is a file that, the first time bytes past at are read for sending, pauses, cuts
// the link (connections reset, new ones refused) and restores it a moment later: a
// candidate's connection dying in the middle of a PATCH.
type cutOnce struct {
	data  []byte
	at    int64
	proxy *faultproxy.Proxy
	once  sync.Once
	cut   chan struct{}
}

func (c *cutOnce) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > c.at {
		c.once.Do(func() {
			// What was sent so far reaches the server first: a reset discards what the
			// server's socket holds unread, and loopback buffers hold megabytes.
			time.Sleep(500 * time.Millisecond)
			c.proxy.Cut()
			go func() {
				time.Sleep(300 * time.Millisecond)
				_ = c.proxy.Restore()
				close(c.cut)
			}()
		})
	}
	if off >= int64(len(c.data)) {
		return 0, io.EOF
	}
	n := copy(p, c.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// offsets records the Upload-Offset of every HEAD answer and counts PATCH requests.
type offsets struct {
	mu      sync.Mutex
	heads   []int64
	patches atomic.Int32
}

func (o *offsets) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch {
		o.patches.Add(1)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.Method == http.MethodHead && resp.StatusCode < 300 {
		n, _ := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
		o.mu.Lock()
		o.heads = append(o.heads, n)
		o.mu.Unlock()
	}
	return resp, err
}

// TestDocumentUploadResumesAfterCut sends a 3 MiB document in one PATCH through a TCP proxy
// that resets the connection halfway: the client asks for the offset (HEAD), which lies
// between the start and the end, and sends the rest; the stored document's digest, and the
// downloaded bytes, are the original's; the partial upload is gone.
func TestDocumentUploadResumesAfterCut(t *testing.T) {
	env := newDocEnv(t, Limits{})
	proxy := faultproxy.Start(t, strings.TrimPrefix(env.base, "http://"))
	data := pdf(3<<20, 1)
	src := &cutOnce{data: data, at: 1 << 20, proxy: proxy, cut: make(chan struct{})}
	rec := &offsets{}
	token := env.mint(t, "cand-a", auth.RoleCandidate)
	c := &tusclient.Client{HTTP: &http.Client{Transport: rec}, Token: token, ChunkSize: 4 << 20, Backoff: 100 * time.Millisecond, Retries: 20}
	ctx := context.Background()
	u, err := c.Create(ctx, "http://"+proxy.Addr()+UploadsPath, int64(len(data)), map[string]string{"selection": "selections/sel-own", "kind": "ijazah", "filename": "Ijazah S2.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	fin, err := c.Send(ctx, u, src, int64(len(data)), nil)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	select {
	case <-src.cut:
	default:
		t.Fatal("the link was never cut")
	}
	rec.mu.Lock()
	heads := append([]int64(nil), rec.heads...)
	rec.mu.Unlock()
	resumed := false
	for _, h := range heads {
		if h > 0 && h < int64(len(data)) {
			resumed = true
		}
	}
	if !resumed || rec.patches.Load() < 2 {
		t.Fatalf("no resume from a partial offset: HEAD offsets %v, %d PATCHes", heads, rec.patches.Load())
	}
	t.Logf("HEAD offsets after the cut: %v; %d PATCH requests", heads, rec.patches.Load())
	if !strings.HasPrefix(fin.Document, "documents/doc-") {
		t.Fatalf("finished upload names %q", fin.Document)
	}
	doc, err := env.st.GetDocument(ctx, strings.TrimPrefix(fin.Document, "documents/"))
	if err != nil {
		t.Fatal(err)
	}
	if doc.SHA256 != sha(data) || doc.SizeBytes != int64(len(data)) || doc.MediaType != "application/pdf" || doc.FileName != "Ijazah S2.pdf" {
		t.Fatalf("stored document %+v, want digest %s", doc, sha(data))
	}
	code, h, body := env.call(t, http.MethodGet, "/v1/"+fin.Document+":download", token)
	if code != http.StatusOK || sha(body) != sha(data) {
		t.Fatalf("download: %d, %d bytes, digest %s", code, len(body), sha(body))
	}
	for name, want := range map[string]string{"Content-Type": "application/pdf", "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "sandbox", "ETag": `"` + sha(data) + `"`, "Content-Disposition": `attachment; filename="Ijazah S2.pdf"`} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(env.uploads, "*")); len(left) != 0 {
		t.Fatalf("partial upload left behind: %v", left)
	}
}

// TestDocumentAccessMatrix reads one candidate's document as every role, through REST:
// its description, its content, the selection's list and the document's access records.
// Each request's status is checked, and so is its trace: every read by someone other than
// the owner, and every download, adds exactly one access record and one DocumentViewed
// audit event; refused requests and the owner's own description add none.
func TestDocumentAccessMatrix(t *testing.T) {
	env := newDocEnv(t, Limits{})
	ctx := context.Background()
	owner := env.mint(t, "cand-a", auth.RoleCandidate)
	name, err := env.upload(t, owner, "sel-own", "ijazah", pdf(10_000, 2))
	if err != nil {
		t.Fatal(err)
	}
	docID := strings.TrimPrefix(name, "documents/")
	type caller struct {
		name, token string
		isOwner     bool
	}
	callers := []caller{
		{"anonymous", "", false},
		{"admin", env.mint(t, "admin-1", auth.RoleAdmin), false},
		{"committee of the selection", env.mint(t, "member-1", auth.RoleCommittee, "sel-own"), false},
		{"committee of another selection", env.mint(t, "member-1", auth.RoleCommittee, "sel-other"), false},
		{"owner", owner, true},
		{"another candidate", env.mint(t, "cand-b", auth.RoleCandidate), false},
		{"auditor", env.mint(t, "auditor-1", auth.RoleAuditor), false},
	}
	const (
		metadata = iota
		download
		list
		accesses
	)
	routes := []struct {
		name string
		path string
		kind int
		// want is the status per caller, in callers' order.
		want [7]int
	}{
		{"get", "/v1/documents/" + docID, metadata, [7]int{401, 200, 200, 403, 200, 404, 200}},
		{"download", "/v1/documents/" + docID + ":download", download, [7]int{401, 200, 200, 403, 200, 404, 200}},
		{"list", "/v1/documents?selection=selections/sel-own", list, [7]int{401, 200, 200, 403, 200, 200, 200}},
		{"accesses", "/v1/documents/" + docID + "/accesses", accesses, [7]int{401, 200, 403, 403, 200, 404, 200}},
	}
	traces := func() (int64, int64) {
		acc, err := env.st.ListDocumentAccesses(ctx, docID, store.ListOptions{PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := env.st.ListAuditEvents(ctx, "sel-own", store.ListOptions{Filter: `action = "` + store.ActionDocumentViewed + `"`, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		if len(ev.Items) > 0 || ev.NextPageToken != "" {
			all, _ := env.st.ListAuditEvents(ctx, "sel-own", store.ListOptions{Filter: `action = "` + store.ActionDocumentViewed + `"`, PageSize: 1000})
			n = int64(len(all.Items))
		}
		return acc.TotalSize, n
	}
	for _, rt := range routes {
		for i, c := range callers {
			beforeAcc, beforeEv := traces()
			code, h, body := env.call(t, http.MethodGet, rt.path, c.token)
			if code != rt.want[i] {
				t.Errorf("%s as %s: %d, want %d (%s)", rt.name, c.name, code, rt.want[i], body)
				continue
			}
			if code >= 400 && !strings.Contains(string(body), `"code"`) {
				t.Errorf("%s as %s: %d without a google.rpc.Status body: %s", rt.name, c.name, code, body)
			}
			// Which successful reads leave a trace.
			wantTrace := int64(0)
			if code == 200 {
				switch rt.kind {
				case metadata:
					if !c.isOwner {
						wantTrace = 1
					}
				case download:
					wantTrace = 1
				case list:
					var page struct {
						Documents []struct{ Name string } `json:"documents"`
					}
					_ = json.Unmarshal(body, &page)
					if len(page.Documents) > 0 && !c.isOwner {
						wantTrace = 1
					}
					if c.name == "another candidate" && len(page.Documents) != 0 {
						t.Errorf("another candidate lists %v", page.Documents)
					}
					if c.name != "another candidate" && (len(page.Documents) != 1 || page.Documents[0].Name != name) {
						t.Errorf("list as %s: %s", c.name, body)
					}
				}
			}
			if rt.kind == download && code == 200 && h.Get("Content-Security-Policy") != "sandbox" {
				t.Errorf("download as %s lacks the sandbox", c.name)
			}
			afterAcc, afterEv := traces()
			if afterAcc-beforeAcc != wantTrace || afterEv-beforeEv != wantTrace {
				t.Errorf("%s as %s (%d): %d access records and %d audit events added, want %d", rt.name, c.name, code,
					afterAcc-beforeAcc, afterEv-beforeEv, wantTrace)
			}
		}
	}
	// The owner sees who read their document, by subject, with the audit event of each read.
	code, _, body := env.call(t, http.MethodGet, "/v1/documents/"+docID+"/accesses?pageSize=100", owner)
	var page struct {
		Accesses []struct {
			Actor, Role, Purpose string
			AuditSequence        string `json:"auditSequence"`
		} `json:"accesses"`
	}
	if code != 200 || json.Unmarshal(body, &page) != nil {
		t.Fatalf("owner's access list: %d %s", code, body)
	}
	seen := map[string]bool{}
	for _, a := range page.Accesses {
		seen[a.Actor+" "+a.Purpose] = true
		if a.AuditSequence == "" || a.AuditSequence == "0" {
			t.Errorf("access %+v names no audit event", a)
		}
	}
	for _, want := range []string{"member-1 ACCESS_PURPOSE_METADATA", "member-1 ACCESS_PURPOSE_DOWNLOAD", "auditor-1 ACCESS_PURPOSE_DOWNLOAD",
		"admin-1 ACCESS_PURPOSE_METADATA", "cand-a ACCESS_PURPOSE_DOWNLOAD"} {
		if !seen[want] {
			t.Errorf("owner's access list lacks %q: %s", want, body)
		}
	}
	if seen["cand-a ACCESS_PURPOSE_METADATA"] {
		t.Errorf("the owner's own reads of the description were recorded: %s", body)
	}
	if rep, err := env.st.VerifyChain(ctx, "sel-own"); err != nil || !rep.OK {
		t.Fatalf("audit chain after the reads: %+v, %v", rep, err)
	}
}

// rawCreate creates an upload with the given headers and returns the answer.
func (e *docEnv) rawCreate(t testing.TB, token string, length string, meta map[string]string, extra map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+UploadsPath, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if length != "" {
		req.Header.Set("Upload-Length", length)
	}
	var parts []string
	for k, v := range meta {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	req.Header.Set("Upload-Metadata", strings.Join(parts, ","))
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// TestUploadRejections: what the upload routes refuse, each with its status and a
// google.rpc.Status body in the caller's language; a refused file leaves no document, no
// audit event and no partial upload behind.
func TestUploadRejections(t *testing.T) {
	env := newDocEnv(t, Limits{})
	ctx := context.Background()
	cand := env.mint(t, "cand-a", auth.RoleCandidate)
	meta := func(sel, kind string) map[string]string {
		return map[string]string{"selection": sel, "kind": kind, "filename": "x.pdf"}
	}
	creations := []struct {
		name   string
		token  string
		length string
		meta   map[string]string
		extra  map[string]string
		want   int
		reason string // the ErrorInfo's code
	}{
		{"anonymous", "", "100", meta("sel-own", "ijazah"), nil, 401, documents.CodeUnauthenticated},
		{"not a candidate", env.mint(t, "admin-1", auth.RoleAdmin), "100", meta("sel-own", "ijazah"), nil, 403, documents.CodeCandidatesOnly},
		{"declared too large", cand, strconv.Itoa(4<<20 + 1), meta("sel-own", "ijazah"), nil, 413, documents.CodeTooLarge},
		{"kind not required", cand, "100", meta("sel-own", "skck"), nil, 422, documents.CodeKindNotRequired},
		{"objection documents not allowed", cand, "100", meta("sel-own", "objection"), nil, 422, documents.CodeObjectionNotAllowed},
		{"window closed", cand, "100", meta("sel-closed", "ijazah"), nil, 422, documents.CodeWindowClosed},
		{"no such selection", cand, "100", meta("sel-none", "ijazah"), nil, 404, documents.CodeSelectionNotFound},
		{"no selection named", cand, "100", map[string]string{"kind": "ijazah"}, nil, 400, documents.CodeMetadataMissing},
		{"length deferred", cand, "", meta("sel-own", "ijazah"), map[string]string{"Upload-Defer-Length": "1"}, 411, documents.CodeLengthRequired},
		{"empty", cand, "0", meta("sel-own", "ijazah"), nil, 422, documents.CodeEmpty},
	}
	for _, tc := range creations {
		code, _, body := env.rawCreate(t, tc.token, tc.length, tc.meta, tc.extra)
		var st struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Details []struct {
				Reason   string            `json:"reason"`
				Metadata map[string]string `json:"metadata"`
			} `json:"details"`
		}
		if code != tc.want || json.Unmarshal(body, &st) != nil || st.Message == "" {
			t.Errorf("%s: %d %s, want %d with a google.rpc.Status", tc.name, code, body, tc.want)
			continue
		}
		found := false
		for _, d := range st.Details {
			found = found || d.Metadata["code"] == tc.reason
		}
		if !found {
			t.Errorf("%s: body %s does not name %s", tc.name, body, tc.reason)
		}
	}
	// Messages are in the caller's language: Indonesian by default, English when asked.
	_, _, id := env.rawCreate(t, cand, "100", meta("sel-closed", "ijazah"), nil)
	_, _, en := env.rawCreate(t, cand, "100", meta("sel-closed", "ijazah"), map[string]string{"Accept-Language": "en"})
	if !strings.Contains(string(id), "masa pengumuman") || !strings.Contains(string(en), "announcement window is open") {
		t.Errorf("localized refusals: id %s; en %s", id, en)
	}

	// Finished uploads whose content is refused.
	finishes := []struct {
		name   string
		data   []byte
		want   int
		reason string
	}{
		{"not a PDF, JPEG or PNG", []byte("MZ\x90\x00 this is an executable, not a document"), 415, scan.CodeUnrecognized},
		{"HTML named as a PDF", []byte("<html><body>not a document</body></html>"), 415, scan.CodeTypeNotAllowed},
		{"a PDF with a ZIP inside", append(pdf(5000, 4), zipFile(t)...), 422, scan.CodePolyglot},
		{"truncated PDF", pdf(5000, 3)[:4000], 422, scan.CodePDFMalformed},
	}
	for _, tc := range finishes {
		_, err := env.upload(t, cand, "sel-own", "lhkpn", tc.data)
		var e *tusclient.Error
		if !errors.As(err, &e) || e.Status != tc.want || !strings.Contains(string(e.Body), tc.reason) {
			t.Errorf("%s: %v, want %d %s", tc.name, err, tc.want, tc.reason)
		}
	}
	// More bytes than declared: tusd stops at the declared length.
	c := &tusclient.Client{Token: cand}
	u, err := c.Create(ctx, env.base+UploadsPath, 100, meta("sel-own", "ijazah"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPatch, u, bytes.NewReader(pdf(500, 4)))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+cand)
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("500 bytes into a 100-byte upload: %d, want 413", resp.StatusCode)
	}
	// Another candidate cannot see or continue the upload.
	other := &tusclient.Client{Token: env.mint(t, "cand-b", auth.RoleCandidate), Retries: 1}
	if _, err := other.Offset(ctx, u); !isStatus(err, 404) {
		t.Errorf("another candidate's HEAD: %v, want 404", err)
	}
	if _, err := other.Send(ctx, u, bytes.NewReader(pdf(100, 5)), 100, nil); !isStatus(err, 404) {
		t.Errorf("another candidate's PATCH: %v, want 404", err)
	}
	// A body larger than any document is cut by the transport, before tusd reads it.
	big, err := c.Create(ctx, env.base+UploadsPath, 1000, meta("sel-own", "ijazah"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodPatch, big, io.LimitReader(rand.NewChaCha8([32]byte{}), documents.MaxBytesLimit+1))
	req.ContentLength = documents.MaxBytesLimit + 1
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+cand)
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a body over the transport's limit: %d, want 413", resp.StatusCode)
		}
	}

	// Nothing refused became a document or an audit event.
	page, err := env.st.ListDocuments(ctx, store.DocumentFilter{SelectionID: "sel-own"}, store.ListOptions{})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("documents after refusals: %+v, %v", page.Items, err)
	}
	ev, err := env.st.ListAuditEvents(ctx, "sel-own", store.ListOptions{Filter: `action = "` + store.ActionDocumentUploaded + `"`})
	if err != nil || len(ev.Items) != 0 {
		t.Fatalf("upload events after refusals: %+v, %v", ev.Items, err)
	}
	// Refused finished uploads were removed; the two unfinished ones wait for their expiry.
	if left, _ := filepath.Glob(filepath.Join(env.uploads, "*.info")); len(left) != 2 {
		t.Fatalf("%d partial uploads left, want the 2 unfinished ones", len(left))
	}
}

func isStatus(err error, code int) bool {
	var e *tusclient.Error
	return errors.As(err, &e) && e.Status == code
}

// TestUploadChunksAndRateLimits: under rate limits that allow 20 mutations a minute per
// address, a candidate sends three files in 16 KiB chunks (about forty PATCH requests),
// because chunks count as reads of the upload they belong to; creations still count as
// mutations of the subject, so a candidate creating uploads in a loop is refused with 429
// and Retry-After.
func TestUploadChunksAndRateLimits(t *testing.T) {
	env := newDocEnv(t, Limits{Rates: ratelimit.Policy{
		AddressReads: ratelimit.Rate{Events: 1000, Per: 10 * time.Second}, AddressMutations: ratelimit.Rate{Events: 20, Per: time.Minute},
		AuthFailures: ratelimit.Rate{Events: 20, Per: time.Minute}, SubjectReads: ratelimit.Rate{Events: 1000, Per: 10 * time.Second},
		SubjectMutations: ratelimit.Rate{Events: 10, Per: time.Minute},
	}})
	cand := env.mint(t, "cand-a", auth.RoleCandidate)
	ctx := context.Background()
	rec := &offsets{}
	c := &tusclient.Client{HTTP: &http.Client{Transport: rec}, Token: cand, ChunkSize: 16 << 10, Retries: 1}
	for i, kind := range []string{"ijazah", "lhkpn", "ijazah"} {
		data := pdf(200_000, byte(10+i))
		u, err := c.Create(ctx, env.base+UploadsPath, int64(len(data)), map[string]string{"selection": "sel-own", "kind": kind})
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		fin, err := c.Send(ctx, u, bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			t.Fatalf("send %d after %d PATCH requests: %v", i, rec.patches.Load(), err)
		}
		doc, err := env.st.GetDocument(ctx, strings.TrimPrefix(fin.Document, "documents/"))
		if err != nil || doc.SHA256 != sha(data) {
			t.Fatalf("document %d: %+v, %v", i, doc, err)
		}
	}
	if n := rec.patches.Load(); n <= 20 {
		t.Fatalf("only %d PATCH requests: the test does not exceed the mutation allowance", n)
	}
	refused := false
	for i := 0; i < 20 && !refused; i++ {
		code, h, body := env.rawCreate(t, cand, "100", map[string]string{"selection": "sel-own", "kind": "ijazah"}, nil)
		if code == http.StatusTooManyRequests {
			refused = h.Get("Retry-After") != "" && strings.Contains(string(body), "RATE_LIMITED")
		}
	}
	if !refused {
		t.Fatal("twenty upload creations in a row were never refused with 429, Retry-After and RATE_LIMITED")
	}
}

// TestUploadExpiry: an unfinished upload untouched for longer than the expiry is removed; a
// recent one stays.
func TestUploadExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	catalog, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	blobs, _ := blob.NewFS(filepath.Join(dir, "documents"))
	key, _ := auth.LoadOrCreateLocalKey(dir)
	up, err := documents.NewUploads(fakeDocStore{}, blobs, documents.ScanInspector{}, key.Verifier(time.Now, 0), catalog, slog.New(slog.DiscardHandler),
		documents.UploadOptions{Dir: filepath.Join(dir, "uploads"), BasePath: UploadsPath, Expiry: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for id, age := range map[string]time.Duration{strings.Repeat("a", 32): 2 * time.Hour, strings.Repeat("b", 32): time.Minute} {
		for _, f := range []string{id, id + ".info"} {
			p := filepath.Join(dir, "uploads", f)
			if err := os.WriteFile(p, []byte(`{"ID":"`+id+`"}`), 0o600); err != nil {
				t.Fatal(err)
			}
			_ = os.Chtimes(p, now.Add(-age), now.Add(-age))
		}
	}
	n, err := up.Expire(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "uploads", "*"))
	if fmt.Sprint(left) != fmt.Sprint([]string{filepath.Join(dir, "uploads", strings.Repeat("b", 32)), filepath.Join(dir, "uploads", strings.Repeat("b", 32)+".info")}) {
		t.Fatalf("left %v", left)
	}
}

// fakeDocStore is never called: expiry touches only the uploads directory.
type fakeDocStore struct{ documents.Store }

// runCtl runs seleksictl against the environment and returns its exit code and output.
func (e *docEnv) runCtl(t *testing.T, token, httpBase string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &cli.App{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
		return map[string]string{"SELEKSI_SERVER": e.grpc, "SELEKSI_HTTP": httpBase, "SELEKSI_TOKEN": token, "SELEKSI_LANG": "en"}[k]
	}}
	code := a.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// TestDocumentCLI: seleksictl document upload sends a file in chunks through a link that is
// cut once some chunks have arrived; the command gives up, and running it again resumes from
// the server's offset (its state file remembers the upload) instead of starting over. Then
// document list shows it and document get -O downloads the same bytes.
func TestDocumentCLI(t *testing.T) {
	env := newDocEnv(t, Limits{})
	proxy := faultproxy.Start(t, strings.TrimPrefix(env.base, "http://"))
	token := env.mint(t, "cand-a", auth.RoleCandidate)
	dir := t.TempDir()
	file := filepath.Join(dir, "ijazah.pdf")
	data := pdf(3<<20, 9)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	upload := []string{"document", "upload", file, "--selection", "sel-own", "--kind", "ijazah", "--chunk-size", "262144",
		"--retries", "1", "--state-dir", state}
	// Cut the link once half a megabyte has arrived, and keep it down until the command gives up.
	arrived := make(chan int64, 1)
	go func() {
		for range 500 {
			bins, _ := filepath.Glob(filepath.Join(env.uploads, "*[0-9a-f]"))
			for _, b := range bins {
				if fi, err := os.Stat(b); err == nil && fi.Size() >= 512<<10 && !strings.HasSuffix(b, ".info") {
					proxy.Cut()
					arrived <- fi.Size()
					return
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		arrived <- -1
	}()
	code, _, stderr := env.runCtl(t, token, "http://"+proxy.Addr(), upload...)
	if got := <-arrived; got < 0 {
		t.Fatal("the upload never reached half a megabyte")
	}
	if code == cli.ExitOK {
		t.Fatalf("the upload finished although the link was cut: %s", stderr)
	}
	if states, _ := filepath.Glob(filepath.Join(state, "*.json")); len(states) != 1 {
		t.Fatalf("state files after the cut: %v (stderr %s)", states, stderr)
	}
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := env.runCtl(t, token, "http://"+proxy.Addr(), upload...)
	if code != cli.ExitOK {
		t.Fatalf("resumed upload: exit %d: %s %s", code, stdout, stderr)
	}
	var off int64
	if _, err := fmt.Sscanf(stderr[strings.Index(stderr, "resuming the upload at "):], "resuming the upload at %d", &off); err != nil || off < 512<<10 || off >= int64(len(data)) {
		t.Fatalf("the second run did not resume from the server's offset: %q", stderr)
	}
	if states, _ := filepath.Glob(filepath.Join(state, "*.json")); len(states) != 0 {
		t.Fatalf("state files left after the upload: %v", states)
	}
	name := ""
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Document" {
			name = f[1]
		}
	}
	if !strings.HasPrefix(name, "documents/doc-") || !strings.Contains(stdout, sha(data)) {
		t.Fatalf("upload output: %s", stdout)
	}
	code, stdout, stderr = env.runCtl(t, token, env.base, "document", "list", "--selection", "sel-own")
	if code != cli.ExitOK || !strings.Contains(stdout, name) || !strings.Contains(stdout, "ijazah.pdf") {
		t.Fatalf("document list: exit %d: %s %s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "copy.pdf")
	code, _, stderr = env.runCtl(t, env.mint(t, "member-1", auth.RoleCommittee, "sel-own"), env.base, "document", "get", name, "-O", out)
	got, _ := os.ReadFile(out)
	if code != cli.ExitOK || sha(got) != sha(data) {
		t.Fatalf("document get -O: exit %d, digest %s: %s", code, sha(got), stderr)
	}
	// Another candidate gets nothing.
	if code, _, _ := env.runCtl(t, env.mint(t, "cand-b", auth.RoleCandidate), env.base, "document", "get", name); code != cli.ExitNotFound {
		t.Fatalf("another candidate's document get: exit %d, want %d", code, cli.ExitNotFound)
	}
}

// TestUploadSmallRush uploads 16 candidates × 3 files of 1 MiB at 8 concurrent clients in
// 256 KiB chunks on loopback and checks every stored digest; throughput and the p99 time per
// file are reported, not asserted (the full rush is 500 × 3 at 32 clients).
func TestUploadSmallRush(t *testing.T) {
	env := newDocEnv(t, Limits{})
	ctx := context.Background()
	const candidates, files, workers = 16, 3, 8
	type job struct{ cand, file int }
	jobs := make(chan job)
	var mu sync.Mutex
	var durations []time.Duration
	var failures []error
	tokens := make([]string, candidates)
	for i := range tokens {
		tokens[i] = env.mint(t, fmt.Sprintf("cand-%02d", i), auth.RoleCandidate)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				data := pdf(1<<20, byte(j.cand*files+j.file))
				c := &tusclient.Client{Token: tokens[j.cand], ChunkSize: 256 << 10}
				began := time.Now()
				u, err := c.Create(ctx, env.base+UploadsPath, int64(len(data)), map[string]string{"selection": "sel-own", "kind": []string{"ijazah", "lhkpn", "ijazah"}[j.file]})
				var fin tusclient.Finished
				if err == nil {
					fin, err = c.Send(ctx, u, bytes.NewReader(data), int64(len(data)), nil)
				}
				var doc store.StoredDocument
				if err == nil {
					doc, err = env.st.GetDocument(ctx, strings.TrimPrefix(fin.Document, "documents/"))
				}
				if err == nil && doc.SHA256 != sha(data) {
					err = fmt.Errorf("stored digest %s, sent %s", doc.SHA256, sha(data))
				}
				mu.Lock()
				durations = append(durations, time.Since(began))
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		})
	}
	for c := range candidates {
		for f := range files {
			jobs <- job{c, f}
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		t.Fatalf("%d of %d uploads failed, first: %v", len(failures), candidates*files, failures[0])
	}
	page, err := env.st.ListDocuments(ctx, store.DocumentFilter{SelectionID: "sel-own"}, store.ListOptions{PageSize: 1})
	if err != nil || page.TotalSize != candidates*files {
		t.Fatalf("%d documents stored, want %d (%v)", page.TotalSize, candidates*files, err)
	}
	slices.Sort(durations)
	p99 := durations[(len(durations)*99+99)/100-1]
	t.Logf("%d files of 1 MiB in %v at %d clients: %.1f MiB/s, %.1f files/s, p99 per file %v",
		len(durations), elapsed.Round(time.Millisecond), workers, float64(len(durations))/elapsed.Seconds(),
		float64(len(durations))/elapsed.Seconds(), p99.Round(time.Millisecond))
}

// zipFile is a small ZIP archive, to append to a document as a polyglot would.
func zipFile(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, err := zw.Create("index.html")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("<html>hidden</html>"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// failingFinish is a store whose first CreateDocument fails as an unreachable database does.
type failingFinish struct {
	*store.Store
	failed atomic.Bool
}

func (f *failingFinish) CreateDocument(ctx context.Context, in store.NewDocument) (store.StoredDocument, error) {
	if f.failed.CompareAndSwap(false, true) {
		return store.StoredDocument{}, fmt.Errorf("create document: %w", store.ErrUnavailable)
	}
	return f.Store.CreateDocument(ctx, in)
}

// TestUploadFinishedAfterAFailedFinish: when turning a complete upload into a document fails
// (the store is away for a moment), the bytes are not lost: the client's next request
// finishes it, and the client, resuming, gets the document without sending the file again.
// A client that lost the answer to its last chunk learns the document from HEAD.
func TestUploadFinishedAfterAFailedFinish(t *testing.T) {
	var fs *failingFinish
	env := newDocEnvWith(t, Limits{}, func(st *store.Store) documents.Store {
		fs = &failingFinish{Store: st}
		return fs
	})
	cand := env.mint(t, "cand-1", auth.RoleCandidate)
	data := pdf(300_000, 21)
	ctx := context.Background()
	c := &tusclient.Client{Token: cand, Retries: 3, Backoff: 10 * time.Millisecond}
	u, err := c.Create(ctx, env.base+UploadsPath, int64(len(data)), map[string]string{"selection": "sel-own", "kind": "lhkpn", "filename": "lhkpn.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	fin, err := c.Send(ctx, u, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil || fin.Document == "" {
		t.Fatalf("send: %+v, %v", fin, err)
	}
	if !fs.failed.Load() {
		t.Fatal("the first finish did not fail: the test proves nothing")
	}
	doc, err := env.st.GetDocument(ctx, strings.TrimPrefix(fin.Document, "documents/"))
	if err != nil || doc.SHA256 != sha(data) || doc.SizeBytes != int64(len(data)) {
		t.Fatalf("document %+v, %v; want the digest of what was sent", doc, err)
	}

	// The upload is gone now; asking for it again names the same document.
	again, err := c.Send(ctx, u, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil || again.Document != fin.Document {
		t.Fatalf("resending a finished upload: %+v, %v; want %s", again, err, fin.Document)
	}
	// Another candidate learns nothing of it.
	other := &tusclient.Client{Token: env.mint(t, "cand-2", auth.RoleCandidate), Retries: 1}
	if _, err := other.Offset(ctx, u); err == nil {
		t.Error("another candidate reached a finished upload")
	}
}
