package app

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
)

// visitor is a browser without JavaScript: it keeps cookies, does not follow redirects,
// and posts forms with the CSRF token of the page it last read.
type visitor struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newVisitor(t *testing.T, api *realAPI) *visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &visitor{t: t, base: api.base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (v *visitor) read(resp *http.Response) (int, string, string) {
	v.t.Helper()
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		v.t.Fatal(err)
	}
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		v.csrf = html.UnescapeString(m[1])
	}
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// get reads a page: its status, its HTML and where it redirects.
func (v *visitor) get(path string) (int, string, string) {
	v.t.Helper()
	resp, err := v.c.Get(v.base + path)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.read(resp)
}

// post sends a form from this site with the last page's CSRF token.
func (v *visitor) post(path string, form url.Values) (int, string, string) {
	v.t.Helper()
	form.Set("csrf_token", v.csrf)
	req, err := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", v.base)
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.read(resp)
}

func wantPage(t *testing.T, what string, code int, body string, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Fatalf("%s: HTTP %d, want %d\n%s", what, code, wantCode, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q in the page\n%s", what, w, body)
		}
	}
}

// accountCode is the one-time code in the newest account notice of msg queued for email.
func accountCode(t *testing.T, st *store.Store, email, msg string) string {
	t.Helper()
	pending, err := st.PendingNotifications(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(pending) - 1; i >= 0; i-- {
		n := pending[i]
		if n.Kind == store.AccountKind && n.Email == accounts.NormalizeEmail(email) && n.Text.Code == msg {
			return n.Text.Params["code"]
		}
	}
	t.Fatalf("no %s notice for %s", msg, email)
	return ""
}

// TestWebAccounts: a candidate registers (field errors shown in the summary and beside the
// fields, values kept but never the password), confirms the e-mail with the code the outbox
// carries, is signed in, signs out, fails to sign in (one answer for a wrong password and an
// unknown address), is locked out after repeated failures, resets the password and signs in
// again back to where they were going. The first secretariat account is made with the
// first-start setup code.
func TestWebAccounts(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	v := newVisitor(t, api)
	const email, pass = "Rina.Wulandari@Example.go.id", "sandi-yang-kuat-2026"

	code, body, _ := v.get("/daftar")
	wantPage(t, "registration form", code, body, http.StatusOK, `<label for="full_name">`, `<label for="nip">`, `aria-describedby="nip-petunjuk"`)
	code, body, _ = v.post("/daftar", url.Values{"full_name": {"Rina Wulandari"}, "nip": {"12345"}, "email": {"bukan-email"},
		"password": {"pendek"}, "password_again": {"pendek"}})
	wantPage(t, "invalid registration", code, body, http.StatusBadRequest, `id="ringkasan-galat"`, "NIP terdiri atas 18 angka",
		"Masukkan alamat e-mail yang benar", "Kata sandi paling sedikit 10 karakter", `href="#nip"`, `aria-invalid="true"`, `value="Rina Wulandari"`)
	if strings.Contains(body, `value="pendek"`) {
		t.Error("the password was filled back into the form")
	}
	code, body, _ = v.post("/daftar", url.Values{"full_name": {"Rina Wulandari"}, "email": {email}, "password": {pass}, "password_again": {pass + "x"}})
	wantPage(t, "passwords differ", code, body, http.StatusBadRequest, "Kedua kata sandi tidak sama")

	code, body, loc := v.post("/daftar", url.Values{"full_name": {"Rina Wulandari"}, "nip": {"198203152006042003"}, "email": {email},
		"password": {pass}, "password_again": {pass}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/konfirmasi?email=") {
		t.Fatalf("registration = %d to %q\n%s", code, loc, body)
	}
	code, body, _ = v.get(loc)
	wantPage(t, "confirmation form", code, body, http.StatusOK, `value="`+email+`"`)
	code, body, _ = v.post("/konfirmasi", url.Values{"email": {email}, "code": {"000000"}})
	wantPage(t, "wrong code", code, body, http.StatusBadRequest, "Kode salah atau sudah kedaluwarsa")
	code, body, loc = v.post("/konfirmasi", url.Values{"email": {email}, "code": {accountCode(t, api.store, email, accounts.MsgConfirmCode)}})
	if code != http.StatusSeeOther || loc != "/lamaran" {
		t.Fatalf("confirmation = %d to %q\n%s", code, loc, body)
	}
	code, body, _ = v.get("/")
	wantPage(t, "signed in", code, body, http.StatusOK, "Rina Wulandari", "Alamat e-mail Anda telah dikonfirmasi")
	if code, _, _ = v.post("/keluar", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("sign out = %d", code)
	}

	// One answer for a wrong password and an unknown address.
	v.get("/masuk")
	code, wrong, _ := v.post("/masuk", url.Values{"email": {email}, "password": {"salah-sekali-123"}})
	wantPage(t, "wrong password", code, wrong, http.StatusUnauthorized, "Alamat e-mail atau kata sandi salah", `value="`+email+`"`)
	code, unknown, _ := v.post("/masuk", url.Values{"email": {"tidak.ada@example.go.id"}, "password": {"salah-sekali-123"}})
	wantPage(t, "unknown address", code, unknown, http.StatusUnauthorized, "Alamat e-mail atau kata sandi salah")

	// Locked after five failures in a row, even with the right password.
	for range 4 {
		v.post("/masuk", url.Values{"email": {email}, "password": {"salah-sekali-123"}})
	}
	code, body, _ = v.post("/masuk", url.Values{"email": {email}, "password": {pass}})
	wantPage(t, "locked", code, body, http.StatusTooManyRequests, "Akun dikunci sampai", " WIB")

	// A reset lifts the lock; signing in then returns to the page the person was going to.
	v.get("/lupa-sandi")
	code, _, loc = v.post("/lupa-sandi", url.Values{"email": {email}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/atur-sandi?email=") {
		t.Fatalf("forgot = %d to %q", code, loc)
	}
	v.get(loc)
	const newPass = "sandi-baru-yang-kuat"
	code, body, loc = v.post("/atur-sandi", url.Values{"email": {email}, "code": {accountCode(t, api.store, email, accounts.MsgResetCode)},
		"password": {newPass}, "password_again": {newPass}})
	if code != http.StatusSeeOther || loc != "/masuk" {
		t.Fatalf("reset = %d to %q\n%s", code, loc, body)
	}
	v.get("/masuk?kembali=" + url.QueryEscape("/seleksi/"+selOpen))
	code, _, loc = v.post("/masuk", url.Values{"email": {email}, "password": {newPass}, "kembali": {"/seleksi/" + selOpen}})
	if code != http.StatusSeeOther || loc != "/seleksi/"+selOpen {
		t.Fatalf("sign in = %d to %q", code, loc)
	}
	code, _, loc = v.post("/keluar", url.Values{})
	if code != http.StatusSeeOther {
		t.Fatalf("sign out = %d to %q", code, loc)
	}
	// An outside return address is not followed.
	v.get("/masuk")
	if _, _, loc = v.post("/masuk", url.Values{"email": {email}, "password": {newPass}, "kembali": {"//evil.example/"}}); loc != "/lamaran" {
		t.Errorf("sign in with an outside return address went to %q", loc)
	}

	// The first secretariat account, with the setup code printed at first start.
	setup, err := api.accounts.Bootstrap(context.Background())
	if err != nil || setup == "" {
		t.Fatalf("bootstrap = %q %v", setup, err)
	}
	admin := newVisitor(t, api)
	code, body, _ = admin.get("/pengaturan-awal?code=" + url.QueryEscape(setup))
	wantPage(t, "setup form", code, body, http.StatusOK, `value="`+setup+`"`)
	code, body, _ = admin.post("/pengaturan-awal", url.Values{"code": {"AAAAA-BBBBB"}, "full_name": {"Sekretariat"}, "email": {"sekretariat@example.go.id"},
		"password": {newPass}, "password_again": {newPass}})
	wantPage(t, "wrong setup code", code, body, http.StatusBadRequest, "Kode pengaturan awal salah")
	code, body, loc = admin.post("/pengaturan-awal", url.Values{"code": {setup}, "full_name": {"Sekretariat"}, "email": {"sekretariat@example.go.id"},
		"password": {newPass}, "password_again": {newPass}})
	if code != http.StatusSeeOther || loc != "/sekretariat" {
		t.Fatalf("setup = %d to %q\n%s", code, loc, body)
	}
	if again, err := api.accounts.Bootstrap(context.Background()); err != nil || again != "" {
		t.Errorf("a setup code after the first secretariat account: %q %v", again, err)
	}
}

// TestWebSessionsOfDisabledAccounts: disabling an account ends its session at its next page
// (the secretariat's answer to a compromised account cannot wait for the session to expire).
func TestWebSessionsOfDisabledAccounts(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	const email, pass = "panitia@example.go.id", "sandi-panitia-2026"
	a, err := api.accounts.Seed(ctx, accounts.NewAccount{Role: "committee", FullName: "Anggota Panitia", Email: email}, pass)
	if err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, api)
	v.get("/masuk")
	if code, _, _ := v.post("/masuk", url.Values{"email": {email}, "password": {pass}}); code != http.StatusSeeOther {
		t.Fatalf("sign in = %d", code)
	}
	code, body, _ := v.get("/")
	wantPage(t, "signed in", code, body, http.StatusOK, "Anggota Panitia")
	if err := api.accounts.SetDisabled(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	code, body, _ = v.get("/")
	if code != http.StatusOK || strings.Contains(body, "Anggota Panitia") {
		t.Errorf("a disabled account is still signed in: %d\n%s", code, body)
	}
	if code, _, loc := v.get("/panitia"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/masuk") {
		t.Errorf("a disabled account's session opened /panitia: %d %q", code, loc)
	}
}

// TestWebUploadFormsNeedASessionFirst: a form with a file is parsed only for a signed-in
// person of the form's role, and whatever it wrote to disk is gone after the request, even
// when the CSRF check refuses it. Found: anyone could leave 40 MB temporary files behind
// with each request.
func TestWebUploadFormsNeedASessionFirst(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	body := func() (*bytes.Buffer, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, err := mw.CreateFormFile("berkas", "besar.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(bytes.Repeat([]byte("x"), 5<<20)); err != nil {
			t.Fatal(err)
		}
		_ = mw.WriteField("selection", "selections/"+selOpen)
		_ = mw.Close()
		return &b, mw.FormDataContentType()
	}
	send := func(c *http.Client, method, path string) *http.Response {
		b, ctype := body()
		req, _ := http.NewRequest(method, api.base+path, b)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Origin", api.base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	post := func(c *http.Client, path string) *http.Response { return send(c, http.MethodPost, path) }
	anon := newVisitor(t, api)
	// Found in review: the tus relay's paths, and paths that only start like the upload
	// routes, let the CSRF check parse a large form body and leave it on disk.
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/unggah/tus/"}, {http.MethodPatch, "/unggah/tus/0123456789abcdef0123456789abcdef"}, {http.MethodPost, "/unggahx"},
	} {
		if resp := send(anon.c, r.method, r.path); resp.StatusCode < 400 {
			t.Errorf("anonymous multipart %s %s = %d, want refused", r.method, r.path, resp.StatusCode)
		}
	}
	if resp := post(anon.c, "/unggah/dokumen"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/masuk") {
		t.Errorf("anonymous upload form = %d %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	member := signedIn(t, api, web.User{AccountID: "acc-m", Issuer: auth.LocalIssuer, Subject: "member-1", Role: auth.RoleCommittee, Name: "Anggota"})
	if resp := post(member, "/unggah/dokumen"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a committee member's candidate upload form = %d, want 403", resp.StatusCode)
	}
	cand := signedIn(t, api, web.User{AccountID: "acc-c", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon"})
	if resp := post(cand, "/unggah/dokumen"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a candidate's upload form without its CSRF token = %d, want 403", resp.StatusCode)
	}
	left, err := filepath.Glob(filepath.Join(tmp, "multipart-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("temporary files left behind: %v %v", left, err)
	}
}
