package app

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/internal/web/browsertest"
)

// TestWebCandidateBrowserUpload: in a real browser (headless Chromium) the documents page
// uploads with tus-js-client through /unggah/tus/ under the pages' Content-Security-Policy,
// shows the document with its digest without leaving the page, and the candidate's pages
// pass axe-core's WCAG 2.1 AA rules (when SELEKSI_AXE_JS is set).
func TestWebCandidateBrowserUpload(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	addDocSelection(t, api)
	c := signedIn(t, api, web.User{AccountID: "acc-b", Issuer: auth.LocalIssuer, Subject: "cand-b", Role: auth.RoleCandidate, Name: "Budi"})
	base, _ := url.Parse(api.base)
	var token string
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == "seleksi_sesi" {
			token = ck.Value
		}
	}
	b := browsertest.Start(t)
	p := b.NewUser(t)
	p.Navigate(api.base + "/")
	// The session cookie the store holds, as sign-in would have set it.
	p.Eval(`document.cookie = "seleksi_sesi=`+token+`; path=/"`, nil)

	if code := p.Navigate(api.base + "/lamaran/baru/" + selDocs + "/dokumen"); code != 200 {
		t.Fatalf("documents page = %d", code)
	}
	file := filepath.Join(t.TempDir(), "ijazah-browser.pdf")
	if err := os.WriteFile(file, doctest.PDF(1500<<10, 21), 0o600); err != nil {
		t.Fatal(err)
	}
	p.SetFile("#berkas-ijazah", file)
	p.Click("#unggah-ijazah")
	p.WaitVisible(`#status-ijazah[data-document^="documents/"]`)
	if got := p.Text("#status-ijazah"); !strings.Contains(got, "ijazah-browser.pdf") || !strings.Contains(got, digest(mustRead(t, file))) {
		t.Errorf("status after the upload: %q", got)
	}
	if !strings.HasSuffix(p.CurrentURL(), "/dokumen") {
		t.Errorf("the page left for %s", p.CurrentURL())
	}
	// A refused file: the handler's message beside the input, in Indonesian.
	bad := filepath.Join(t.TempDir(), "lhkpn.pdf")
	if err := os.WriteFile(bad, []byte("bukan PDF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.SetFile("#berkas-lhkpn", bad)
	p.Click("#unggah-lhkpn")
	p.WaitVisible("#berkas-lhkpn-error")
	if got := p.Text("#berkas-lhkpn-error"); !strings.Contains(got, "format yang diterima hanya") {
		t.Errorf("refusal shown: %q", got)
	}
	p.AssertAccessible(t, "documents")
	for _, path := range []string{"/lamaran/baru/" + selDocs, "/lamaran/baru/" + selDocs + "/periksa", "/lamaran", "/lamaran/notifikasi", "/lamaran/notifikasi/saluran"} {
		p.Navigate(api.base + path)
		p.AssertAccessible(t, path)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
