package app

import (
	"context"
	"crypto/rand"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"

	"github.com/bkpsdm/seleksi/internal/server"
)

// TestWebPublicPages: the web application is served beside the API at every path that is
// not the API's, in Indonesian until the reader switches to English (and then remembered),
// with a form posted without its CSRF token refused, and the API's paths left to the gateway.
func TestWebPublicPages(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := c.Get(api.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	tests := []struct {
		path     string
		wantCode int
		want     []string
	}{
		{"/", http.StatusOK, []string{`<html lang="id">`, "Pendaftaran dibuka", "/seleksi/" + selOpen, "Pendaftaran ditutup "}},
		{"/seleksi/" + selOpen, http.StatusOK, []string{"Pengumuman", "Tahap ditutup", " WIB", "Lamar jabatan ini"}},
		{"/seleksi/tidak-ada", http.StatusNotFound, []string{"Halaman tidak ditemukan"}},
		{"/seleksi/" + selOpen + "/hasil/bukan-tahap", http.StatusNotFound, []string{"Halaman tidak ditemukan"}},
		{"/tidak/ada", http.StatusNotFound, []string{"Halaman tidak ditemukan"}},
		{"/v1/selections/" + selOpen, http.StatusOK, []string{`"name":"selections/sel-open"`}},
		{"/healthz", http.StatusOK, []string{"LIVE"}},
	}
	for _, tt := range tests {
		code, body, _ := get(tt.path)
		if code != tt.wantCode {
			t.Errorf("GET %s = %d, want %d\n%s", tt.path, code, tt.wantCode, body)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: no %q in\n%s", tt.path, w, body)
			}
		}
	}
	// The close is shown as a date in Indonesian, in the selection's zone (what the date is
	// depends on the day the test runs).
	_, home, h := get("/")
	if !regexp.MustCompile(`Pendaftaran ditutup \d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|Desember) \d{4} pukul \d{2}\.\d{2} WIB`).MatchString(home) {
		t.Errorf("GET /: the announcement's close is not a date in Indonesian:\n%s", home)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("pages have no strict CSP: %q", csp)
	}

	// English, one click away, and remembered.
	code, _, h := get("/bahasa?ke=en&kembali=" + url.QueryEscape("/seleksi/"+selOpen))
	if code != http.StatusSeeOther || h.Get("Location") != "/seleksi/"+selOpen {
		t.Fatalf("language switch = %d to %q", code, h.Get("Location"))
	}
	if _, body, _ := get("/"); !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Open for applications") {
		t.Errorf("the English choice was not remembered:\n%s", body)
	}
	if code, _, h := get("/bahasa?ke=id&kembali=https://evil.example/"); code != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Errorf("the switch followed an outside address: %d %q", code, h.Get("Location"))
	}

	// A form posted without its CSRF token is refused, with a page that says why.
	resp, err := c.PostForm(api.base+"/keluar", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "Formulir kedaluwarsa") {
		t.Errorf("POST without a CSRF token = %d\n%s", resp.StatusCode, b)
	}

	// Assets are served compressed and cacheable.
	req, _ := http.NewRequest(http.MethodGet, api.base+"/static/app.css?v=1", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("stylesheet = %d encoding %q cache %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
	}
}

// signedIn is a browser-like client (cookies kept, redirects not followed) signed in as u:
// its session is written to the store the way the web application writes one (scs's codec,
// the keys of internal/web), as if u had just signed in.
func signedIn(t *testing.T, api *realAPI, u web.User) *http.Client {
	t.Helper()
	// The account exists, as the session's account of a real sign-in does (a session whose
	// account is gone or disabled is ended at its next page).
	issuer := u.Issuer
	if issuer == "" {
		issuer = auth.LocalIssuer
	}
	if _, err := api.store.GetAccount(context.Background(), u.AccountID); err != nil {
		if _, err := api.store.CreateAccount(context.Background(), store.AccountRecord{ID: u.AccountID, Issuer: issuer, Subject: u.Subject,
			Role: string(u.Role), FullName: u.Name, Lang: "id", EmailConfirmed: true, CreatedAt: time.Now().UTC()}, nil); err != nil {
			t.Fatalf("account of the session: %v", err)
		}
	}
	token := rand.Text()
	expiry := time.Now().Add(time.Hour)
	data, err := scs.GobCodec{}.Encode(expiry, map[string]any{
		"account": u.AccountID, "issuer": u.Issuer, "subject": u.Subject, "role": string(u.Role), "name": u.Name})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.store.Sessions(time.Now).CommitCtx(context.Background(), token, data, expiry); err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(api.base)
	jar.SetCookies(base, []*http.Cookie{{Name: "seleksi_sesi", Value: token, Path: "/"}})
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestWebSignedInSession: a signed-in session shows its user and role's navigation; signing
// out (with the form's CSRF token) ends it in the store, so the same cookie is no longer
// signed in.
func TestWebSignedInSession(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	c := signedIn(t, api, web.User{AccountID: "acc-1", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon A"})
	resp, err := c.Get(api.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	page := string(b)
	if !strings.Contains(page, "Calon A") || !strings.Contains(page, `href="/lamaran"`) {
		t.Fatalf("signed-in home page lacks the user or their navigation:\n%s", page)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token in the sign-out form")
	}
	req, _ := http.NewRequest(http.MethodPost, api.base+"/keluar", strings.NewReader(url.Values{"csrf_token": {html.UnescapeString(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", api.base)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out = %d\n%s", resp.StatusCode, b)
	}
	resp, err = c.Get(api.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if strings.Contains(string(b), "Calon A") || !strings.Contains(string(b), "Anda telah keluar") {
		t.Errorf("still signed in after signing out:\n%s", b)
	}
}
