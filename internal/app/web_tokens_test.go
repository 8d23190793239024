package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/cli"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

var (
	secretInPage = regexp.MustCompile(`skp_[A-Za-z0-9_-]{43}`)
	revokeForm   = regexp.MustCompile(`action="/akun/token/(tok_[0-9a-f]+)/cabut"`)
)

// rest calls the REST gateway with a bearer token and returns the status and body.
func rest(t *testing.T, api *realAPI, path, token string) (int, string) {
	t.Helper()
	code, _, b := bearerRequest(t, http.MethodGet, api.base+path, token)
	return code, string(b)
}

// ctl runs seleksictl against the API's gRPC server with the token in SELEKSI_TOKEN, as
// the token page tells people to.
func ctl(t *testing.T, api *realAPI, token string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &cli.App{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string {
		return map[string]string{"SELEKSI_SERVER": api.tr.GRPCAddr(), "SELEKSI_TOKEN": token, "SELEKSI_LANG": "en"}[k]
	}}
	code := a.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// makeToken creates a token on the page and returns its secret, read from the page that
// answered the form.
func makeToken(t *testing.T, v *visitor, name, days string) string {
	t.Helper()
	if code, body, _ := v.get("/akun/token"); code != http.StatusOK {
		t.Fatalf("token page = %d\n%s", code, body)
	}
	code, body, _ := v.post("/akun/token", url.Values{"token_name": {name}, "validity_days": {days}})
	wantPage(t, "new token", code, body, http.StatusCreated, `id="token-rahasia"`, "Salin token ini sekarang", "export SELEKSI_TOKEN=skp_",
		"seleksictl selection list", "/v1/selections", name)
	secret := secretInPage.FindString(body)
	if secret == "" {
		t.Fatalf("no secret on the page\n%s", body)
	}
	return secret
}

func submitOther(t *testing.T, api *realAPI, subject string) string {
	t.Helper()
	ctx := context.Background()
	owner, err := api.store.ActorID(ctx, auth.LocalIssuer, subject)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.store.SubmitApplication(ctx, store.SubmitInput{SelectionID: selOpen, RequestID: "submit-" + subject, Owner: owner,
		Candidate: store.Candidate{Subject: subject, FullName: "Calon Lain", NIP: "197606062001011002", Email: "b@example.id", BirthDate: "1976-06-06"},
		Now:       time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// TestWebPersonalTokensCandidate: a candidate makes a token on /akun/token (field errors in
// the summary first), sees its secret once, and with it lists through the REST gateway and
// seleksictl only their own application of the selection (not another candidate's, which
// is not found); the page then shows when it was last used; after revocation the same
// token is answered 401, and nobody else can revoke it.
func TestWebPersonalTokensCandidate(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	other := submitOther(t, api, "cand-b")
	acc, err := api.store.CreateAccount(ctx, store.AccountRecord{ID: "acc_cand_a", Issuer: auth.LocalIssuer, Subject: "cand-a",
		Role: string(auth.RoleCandidate), FullName: "Calon A", Email: "a@example.id", EmailConfirmed: true, CreatedAt: time.Now().UTC()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: acc.ID, Issuer: acc.Issuer, Subject: acc.Subject,
		Role: auth.RoleCandidate, Name: "Calon A"})}

	code, body, _ := v.get("/akun/token")
	wantPage(t, "token page", code, body, http.StatusOK, `href="/akun/token"`, "Token akses", "Anda belum memiliki token akses",
		`<label for="token_name">`, `<label for="validity_days">`, `id="form-token-baru"`, `value="30"`, "<caption>")
	code, body, _ = v.post("/akun/token", url.Values{"token_name": {" "}, "validity_days": {"91"}})
	wantPage(t, "invalid token form", code, body, http.StatusBadRequest, `id="ringkasan-galat"`, `href="#token_name"`, "Nama token wajib diisi",
		`href="#validity_days"`, "Masa berlaku token 1 sampai 90 hari", `aria-invalid="true"`, `value="91"`)
	if secretInPage.MatchString(body) {
		t.Fatal("a refused form showed a token")
	}

	secret := makeToken(t, v, "laporan harian", "7")
	code, body, _ = v.get("/akun/token")
	wantPage(t, "token list", code, body, http.StatusOK, "laporan harian", "Belum pernah", " WIB")
	if strings.Contains(body, secret) {
		t.Fatal("the list shows the secret again")
	}
	m := revokeForm.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no revoke form\n%s", body)
	}
	tokenID := m[1]

	code, body = rest(t, api, "/v1/selections/"+selOpen+"/applications", secret)
	if code != http.StatusOK || !strings.Contains(body, appOpen) || strings.Contains(body, other) {
		t.Fatalf("REST list with the token = %d\n%s", code, body)
	}
	if code, body = rest(t, api, "/v1/selections/"+selOpen+"/applications/"+other, secret); code != http.StatusNotFound {
		t.Fatalf("another candidate's application = %d\n%s", code, body)
	}
	exit, out, errOut := ctl(t, api, secret, "application", "list", selOpen)
	if exit != 0 || !strings.Contains(out, appOpen) || strings.Contains(out, other) {
		t.Fatalf("seleksictl application list = %d\n%s\n%s", exit, out, errOut)
	}
	code, body, _ = v.get("/akun/token")
	if code != http.StatusOK || strings.Contains(body, "Belum pernah") {
		t.Errorf("the last use is not shown\n%s", body)
	}

	// Another person cannot revoke it: the same page as a missing token.
	stranger := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc_lain", Issuer: auth.LocalIssuer, Subject: "cand-b",
		Role: auth.RoleCandidate, Name: "Calon B"})}
	stranger.get("/akun/token")
	if code, body, _ := stranger.post("/akun/token/"+tokenID+"/cabut", url.Values{}); code != http.StatusNotFound {
		t.Fatalf("a stranger revokes = %d\n%s", code, body)
	}
	if code, _ := rest(t, api, "/v1/selections/"+selOpen+"/applications", secret); code != http.StatusOK {
		t.Fatalf("the token stopped working after a stranger's attempt: %d", code)
	}

	code, _, loc := v.post("/akun/token/"+tokenID+"/cabut", url.Values{})
	if code != http.StatusSeeOther || loc != "/akun/token" {
		t.Fatalf("revoke = %d to %q", code, loc)
	}
	code, body, _ = v.get("/akun/token")
	wantPage(t, "after revoke", code, body, http.StatusOK, "Token telah dicabut", "Anda belum memiliki token akses")
	if code, body := rest(t, api, "/v1/selections/"+selOpen+"/applications", secret); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token = %d\n%s", code, body)
	}
	if exit, _, errOut := ctl(t, api, secret, "application", "list", selOpen); exit == 0 || strings.Contains(errOut, secret) {
		t.Fatalf("seleksictl with a revoked token = %d\n%s", exit, errOut)
	}
}

// TestWebPersonalTokensCommittee: a committee account's token carries the seats linked to
// the account at each call: with the seat linked it lists every application of the
// selection, and once unlinked it is refused, without a new token.
func TestWebPersonalTokensCommittee(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	other := submitOther(t, api, "cand-b")
	acc, err := api.store.CreateAccount(ctx, store.AccountRecord{ID: "acc_member", Issuer: auth.LocalIssuer, Subject: "member-1",
		Role: string(auth.RoleCommittee), FullName: "Ketua", Email: "ketua@example.go.id", EmailConfirmed: true, CreatedAt: time.Now().UTC()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.accounts.LinkSeat(ctx, selOpen, acc.ID); err != nil {
		t.Fatal(err)
	}
	v := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: acc.ID, Issuer: acc.Issuer, Subject: acc.Subject,
		Role: auth.RoleCommittee, Name: "Ketua"})}
	secret := makeToken(t, v, "rekap panitia", "")

	code, body := rest(t, api, "/v1/selections/"+selOpen+"/applications", secret)
	if code != http.StatusOK || !strings.Contains(body, appOpen) || !strings.Contains(body, other) {
		t.Fatalf("committee REST list = %d\n%s", code, body)
	}
	exit, out, errOut := ctl(t, api, secret, "application", "list", selOpen)
	if exit != 0 || !strings.Contains(out, appOpen) || !strings.Contains(out, other) {
		t.Fatalf("committee seleksictl list = %d\n%s\n%s", exit, out, errOut)
	}
	list, err := api.accounts.Tokens(ctx, acc.ID)
	if err != nil || len(list) != 1 || !list[0].ExpiresAt.Equal(list[0].CreatedAt.Add(accounts.DefaultTokenTTL)) {
		t.Fatalf("an empty validity is the default: %+v, %v", list, err)
	}

	if err := api.accounts.UnlinkSeat(ctx, selOpen, acc.ID); err != nil {
		t.Fatal(err)
	}
	if code, body := rest(t, api, "/v1/selections/"+selOpen+"/applications", secret); code != http.StatusForbidden {
		t.Fatalf("after the seat was unlinked = %d\n%s", code, body)
	}
	// A disabled account's tokens stop working.
	if err := api.accounts.SetDisabled(ctx, acc.ID, true); err != nil {
		t.Fatal(err)
	}
	if code, _ := rest(t, api, "/v1/selections", secret); code != http.StatusUnauthorized {
		t.Fatalf("a disabled account's token = %d", code)
	}
}

// storedToken stores a token row directly (times the page cannot make) and returns its
// secret.
func storedToken(t *testing.T, st *store.Store, accountID string, created, expires time.Time) string {
	t.Helper()
	secret := accounts.TokenPrefix + strings.Repeat("Q", 42) + "w"
	sum := sha256.Sum256([]byte(secret))
	if _, err := st.CreateAccessToken(context.Background(), store.AccessTokenRecord{ID: "tok_stored", AccountID: accountID, Name: "lama",
		SecretHash: hex.EncodeToString(sum[:]), CreatedAt: created, ExpiresAt: expires}, 0); err != nil {
		t.Fatal(err)
	}
	return secret
}

// TestPersonalTokenExpiredAndMalformed: an expired token is 401 on REST and gRPC, shown
// as expired on the page; malformed and unknown skp_ tokens are 401 too, and JWTs keep
// working beside them.
func TestPersonalTokenExpiredAndMalformed(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	acc, err := api.store.CreateAccount(ctx, store.AccountRecord{ID: "acc_cand_a", Issuer: auth.LocalIssuer, Subject: "cand-a",
		Role: string(auth.RoleCandidate), CreatedAt: time.Now().UTC()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	expired := storedToken(t, api.store, acc.ID, now.Add(-40*24*time.Hour), now.Add(-10*24*time.Hour))
	for _, tok := range []string{expired, "skp_", "skp_" + strings.Repeat("A", 43), "skp_bukan token"} {
		if code, body := rest(t, api, "/v1/selections/"+selOpen+"/applications", tok); code != http.StatusUnauthorized {
			t.Errorf("token %q = %d\n%s", tok, code, body)
		}
	}
	if exit, _, errOut := ctl(t, api, expired, "selection", "list"); exit == 0 {
		t.Errorf("seleksictl with an expired token succeeded\n%s", errOut)
	}
	if code, _ := rest(t, api, "/v1/selections/"+selOpen+"/applications", api.candidate); code != http.StatusOK {
		t.Errorf("a local JWT beside personal tokens = %d", code)
	}
	v := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: acc.ID, Issuer: acc.Issuer, Subject: acc.Subject,
		Role: auth.RoleCandidate, Name: "Calon A"})}
	code, body, _ := v.get("/akun/token")
	wantPage(t, "expired token listed", code, body, http.StatusOK, "lama", "Kedaluwarsa")

	// Anyone not signed in is sent to sign in.
	if code, _, loc := newVisitor(t, api).get("/akun/token"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/masuk") {
		t.Errorf("anonymous = %d to %q", code, loc)
	}
}

// TestPersonalTokenUploads: the upload endpoint verifies bearer tokens with seleksid's
// verifier, personal tokens included: a candidate's token uploads a document, and once
// revoked it is answered 401.
func TestPersonalTokenUploads(t *testing.T) {
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
	const sel = "sel-own"
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create-" + sel, WorkflowID: workflows.WorkflowID(sel),
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(docSelectionConfig),
		Actor: store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(sel), SelectionID: sel, Key: "window-1",
		Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour), ClosesWall: now.Add(24 * time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	accts := accounts.New(st, accounts.Options{}, logger)
	acc, err := st.CreateAccount(ctx, store.AccountRecord{ID: "acc_cand", Issuer: auth.LocalIssuer, Subject: "cand-a",
		Role: string(auth.RoleCandidate), CreatedAt: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := accts.CreateToken(ctx, acc.ID, "unggah", 0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := newVerifier(config.Config{}, key, accts)
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
	env := &docEnv{st: st, key: key, uploads: filepath.Join(dir, "uploads")}
	up, err := documents.NewUploads(st, blobs, documents.ScanInspector{}, verifier, catalog, logger,
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
	}, WithUploads(func(l documents.Limiter) http.Handler { return up.LimitedBy(l) }))
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	env.base = "http://" + tr.HTTPAddr()
	env.grpc = tr.GRPCAddr()

	doc, err := env.upload(t, secret, sel, "ijazah", pdf(64<<10, 3))
	if err != nil || doc == "" {
		t.Fatalf("upload with a personal token: %q, %v", doc, err)
	}
	if code, _, body := env.call(t, http.MethodGet, "/v1/"+doc, secret); code != http.StatusOK {
		t.Fatalf("the uploaded document with the same token = %d\n%s", code, body)
	}
	if err := accts.RevokeToken(ctx, acc.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.upload(t, secret, sel, "lhkpn", pdf(64<<10, 4)); !isStatus(err, http.StatusUnauthorized) {
		t.Fatalf("upload with a revoked token: %v", err)
	}
}
