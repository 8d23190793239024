package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/cli"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// appDocEnv is docEnv with the real ApplicationService: applications name documents
// uploaded through the real upload handler, over a real store (SQLite) and real document
// storage, on loopback. Selections are created in the store directly: sel-own and sel-other
// require an ijazah and an LHKPN, and their announcement windows are open.
func newAppDocEnv(t *testing.T) *docEnv {
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
	for _, id := range []string{"sel-own", "sel-other"} {
		if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: workflows.WorkflowID(id),
			PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(docSelectionConfig),
			Committee: []store.CommitteeMember{{MemberID: "member-1", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
			Actor:     store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
			t.Fatal(err)
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
	up, err := documents.NewUploads(st, blobs, documents.ScanInspector{}, verifier, catalog, logger,
		documents.UploadOptions{Dir: env.uploads, BasePath: UploadsPath})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", verifier, server.Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  server.NewApplicationServer(st, acceptingWorkflows{}, catalog, logger, time.Now),
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
		Document:     server.NewDocumentServer(st, blobs, logger, time.Now),
	}, WithLimits(Limits{}), WithUploads(func(l documents.Limiter) http.Handler { return up.LimitedBy(l) }))
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	env.base = "http://" + tr.HTTPAddr()
	env.grpc = tr.GRPCAddr()
	return env
}

// post sends a JSON body over REST and decodes the answer.
func (e *docEnv) post(t *testing.T, path, token, lang string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// violations are the BadRequest field violations of an error answer, field -> description.
func violations(out map[string]any) map[string]string {
	got := map[string]string{}
	details, _ := out["details"].([]any)
	for _, d := range details {
		m, _ := d.(map[string]any)
		fvs, _ := m["fieldViolations"].([]any)
		for _, fv := range fvs {
			v, _ := fv.(map[string]any)
			got[fmt.Sprint(v["field"])] = fmt.Sprint(v["description"])
		}
	}
	return got
}

func applicationBody(n int, docs ...map[string]string) map[string]any {
	return map[string]any{
		"candidate": map[string]any{"fullName": fmt.Sprintf("Calon %d", n), "nip": fmt.Sprintf("19750615200001%04d", n),
			"email": fmt.Sprintf("calon%d@example.go.id", n), "birthDate": "1975-06-15", "educationLevel": "EDUCATION_LEVEL_MASTER",
			"currentPost": "Sekretaris Dinas", "currentAgency": "Pemkab Contoh", "yearsOfExperience": 10, "yearsInAdministratorPost": 3},
		"documents": docs,
	}
}

func ref(kind, doc string) map[string]string { return map[string]string{"kind": kind, "document": doc} }

// TestApplicationsNameUploadedDocuments goes through the REST gateway: a submission lacking
// a required document, naming another candidate's document or one of another selection is
// refused with a field violation each (the missing kinds named, in Indonesian or English);
// the accepted application carries each document's digest as the server computed it; a
// retry answers the same application; a document is replaced while the window is open and
// not after the close.
func TestApplicationsNameUploadedDocuments(t *testing.T) {
	env := newAppDocEnv(t)
	alice, bob := env.mint(t, "cand-a", auth.RoleCandidate), env.mint(t, "cand-b", auth.RoleCandidate)
	files := map[string][]byte{"ijazah": pdf(4096, 1), "lhkpn": pdf(4096, 2), "lhkpn-2": pdf(4096, 3), "late": pdf(4096, 4)}
	up := func(token, sel, kind, file string) string {
		t.Helper()
		name, err := env.upload(t, token, sel, kind, files[file])
		if err != nil {
			t.Fatalf("upload %s: %v", file, err)
		}
		return name
	}
	ijazah := up(alice, "sel-own", "ijazah", "ijazah")
	bobsLHKPN := up(bob, "sel-own", "lhkpn", "lhkpn")
	elsewhere := up(alice, "sel-other", "lhkpn", "lhkpn")
	otherKind := up(alice, "sel-own", "ijazah", "lhkpn-2")
	path := "/v1/selections/sel-own/applications?requestId=submit-alice-1"

	code, out := env.post(t, path, alice, "en", applicationBody(1, ref("ijazah", ijazah)))
	if v := violations(out); code != http.StatusBadRequest || !strings.Contains(v["application.documents"], "required documents missing: lhkpn") {
		t.Fatalf("a required document missing: %d %v", code, out)
	}
	code, out = env.post(t, path, alice, "id", applicationBody(1, ref("ijazah", ijazah)))
	if v := violations(out); code != http.StatusBadRequest || !strings.Contains(v["application.documents"], "dokumen persyaratan belum dilampirkan: lhkpn") {
		t.Fatalf("a required document missing, in Indonesian: %d %v", code, out)
	}
	for name, tc := range map[string]struct{ doc, field, want string }{
		"another candidate's document":    {bobsLHKPN, "application.documents[1].document", "no such document"},
		"a document of another selection": {elsewhere, "application.documents[1].document", "another selection"},
		"a document of another kind":      {otherKind, "application.documents[1].document", "another kind"},
	} {
		code, out := env.post(t, path, alice, "en", applicationBody(1, ref("ijazah", ijazah), ref("lhkpn", tc.doc)))
		if v := violations(out); code != http.StatusBadRequest || !strings.Contains(v[tc.field], tc.want) {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}

	lhkpn := up(alice, "sel-own", "lhkpn", "lhkpn")
	body := applicationBody(1, ref("ijazah", ijazah), ref("lhkpn", lhkpn))
	code, out = env.post(t, path, alice, "en", body)
	if code != http.StatusOK {
		t.Fatalf("submit: %d %v", code, out)
	}
	app, _ := out["application"].(map[string]any)
	docs, _ := app["documents"].([]any)
	if len(docs) != 2 {
		t.Fatalf("submitted documents: %v", app)
	}
	for i, kind := range []string{"ijazah", "lhkpn"} {
		d, _ := docs[i].(map[string]any)
		if d["kind"] != kind || d["sha256"] != sha(files[kind]) || d["mediaType"] != "application/pdf" || d["sizeBytes"] != fmt.Sprint(len(files[kind])) {
			t.Errorf("document %d: %v", i, d)
		}
	}
	appName := fmt.Sprint(app["name"])
	// A retry answers the same application; its documents are attached to it already.
	if code, again := env.post(t, path, alice, "en", body); code != http.StatusOK || again["application"].(map[string]any)["name"] != appName {
		t.Fatalf("retry: %d %v", code, again)
	}
	// Bob cannot attach Alice's documents.
	if code, out := env.post(t, "/v1/selections/sel-own/applications?requestId=submit-bob-1", bob, "en",
		applicationBody(2, ref("ijazah", ijazah), ref("lhkpn", bobsLHKPN))); code != http.StatusBadRequest ||
		!strings.Contains(violations(out)["application.documents[0].document"], "no such document") {
		t.Fatalf("another candidate's attached document: %d %v", code, out)
	}

	// Replacement while the window is open.
	newer := up(alice, "sel-own", "lhkpn", "lhkpn-2")
	code, out = env.post(t, "/v1/"+appName+":replaceDocument", alice, "en", map[string]string{"requestId": "replace-alice-1", "kind": "lhkpn", "document": newer})
	if code != http.StatusOK {
		t.Fatalf("replace: %d %v", code, out)
	}
	d := out["application"].(map[string]any)["documents"].([]any)[1].(map[string]any)
	if d["document"] != newer || d["sha256"] != sha(files["lhkpn-2"]) {
		t.Fatalf("the replaced document: %v", d)
	}
	if code, out := env.post(t, "/v1/"+appName+":replaceDocument", bob, "en", map[string]string{"requestId": "replace-bob-1", "kind": "lhkpn", "document": bobsLHKPN}); code != http.StatusNotFound {
		t.Fatalf("replacing in another's application: %d %v", code, out)
	}

	// After the close: the workflow's snapshot freezes intake and documents.
	late := up(alice, "sel-own", "lhkpn", "late")
	closed := time.Now().UTC()
	if _, err := env.st.TakeSnapshot(context.Background(), store.SnapshotInput{WorkflowID: workflows.WorkflowID("sel-own"), SelectionID: "sel-own",
		Key: "snapshot-1", ClosedAt: closed}, closed); err != nil {
		t.Fatal(err)
	}
	code, out = env.post(t, "/v1/"+appName+":replaceDocument", alice, "en", map[string]string{"requestId": "replace-alice-2", "kind": "lhkpn", "document": late})
	if code != http.StatusBadRequest || out["code"] != float64(9) || !strings.Contains(fmt.Sprint(out["message"]), "frozen at its close") {
		t.Fatalf("replacement after the close: %d %v", code, out)
	}
}

// TestApplicationSubmitUploadsFiles: `seleksictl application submit` with a YAML naming one
// document by a local file (relative to the YAML) and one by an uploaded document uploads the
// file first and submits the application naming both; the application's digests are the
// local files'.
func TestApplicationSubmitUploadsFiles(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the upload state files
	env := newAppDocEnv(t)
	token := env.mint(t, "cand-c", auth.RoleCandidate)
	dir := t.TempDir()
	ijazah, lhkpn := pdf(300<<10, 5), pdf(2048, 6)
	if err := os.MkdirAll(filepath.Join(dir, "berkas"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "berkas", "ijazah.pdf"), ijazah, 0o600); err != nil {
		t.Fatal(err)
	}
	uploaded, err := env.upload(t, token, "sel-own", "lhkpn", lhkpn)
	if err != nil {
		t.Fatal(err)
	}
	yamlFile := filepath.Join(dir, "application.yaml")
	yml := fmt.Sprintf(`candidate:
  full_name: Calon C
  nip: "197506152000010003"
  email: calon.c@example.go.id
  birth_date: "1975-06-15"
  education_level: EDUCATION_LEVEL_MASTER
  current_post: Sekretaris Dinas
  current_agency: Pemkab Contoh
documents:
  - kind: ijazah
    file: berkas/ijazah.pdf
  - kind: lhkpn
    document: %s
`, uploaded)
	if err := os.WriteFile(yamlFile, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	// Run from another directory: the file's path is relative to the YAML, not to here.
	code, stdout, stderr := env.runCtl(t, token, env.base, "-o", "json", "application", "submit", "sel-own", "-f", yamlFile)
	if code != cli.ExitOK {
		t.Fatalf("application submit: exit %d: %s %s", code, stdout, stderr)
	}
	var resp struct {
		Application struct {
			Documents []struct{ Kind, Document, Sha256 string } `json:"documents"`
		} `json:"application"`
	}
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
		t.Fatalf("output: %v\n%s", err, stdout)
	}
	got := resp.Application.Documents
	if len(got) != 2 || got[0].Kind != "ijazah" || got[0].Sha256 != sha(ijazah) || got[1].Document != uploaded || got[1].Sha256 != sha(lhkpn) {
		t.Fatalf("submitted documents: %+v", got)
	}
	if !strings.HasPrefix(got[0].Document, "documents/doc-") || !strings.Contains(stderr, "uploaded "+filepath.Join(dir, "berkas", "ijazah.pdf")) {
		t.Fatalf("the local file was not uploaded first: %+v, %s", got, stderr)
	}

	// replace-document --file uploads the new file and replaces the application's ijazah.
	var sub struct {
		Application struct{ Name string } `json:"application"`
	}
	_ = json.Unmarshal([]byte(stdout), &sub)
	newer := filepath.Join(dir, "ijazah-legalisir.pdf")
	if err := os.WriteFile(newer, pdf(1024, 7), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = env.runCtl(t, token, env.base, "-o", "json", "application", "replace-document", sub.Application.Name,
		"--kind", "ijazah", "--file", newer)
	if code != cli.ExitOK || !strings.Contains(stdout, sha(pdf(1024, 7))) {
		t.Fatalf("replace-document --file: exit %d: %s %s", code, stdout, stderr)
	}

	// A file that does not exist stops the command before anything is submitted.
	bad := strings.Replace(yml, "berkas/ijazah.pdf", "berkas/none.pdf", 1)
	if err := os.WriteFile(yamlFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := env.runCtl(t, env.mint(t, "cand-d", auth.RoleCandidate), env.base, "application", "submit", "sel-own", "-f", yamlFile); code != cli.ExitUsage {
		t.Fatalf("a missing file: exit %d, want %d", code, cli.ExitUsage)
	}
}
