package browsertest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// serve starts an httptest server for the test with the given routes.
func serve(t *testing.T, routes map[string]http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func writePage(w http.ResponseWriter, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title></head><body><main><h1>%s</h1>%s</main></body></html>`, title, title, body)
}

// A labelled form, filled by label and by selector with a file chosen, posts what a user
// typed; the server's redirect is followed and its page read.
func TestFormFillSubmitAndFollow(t *testing.T) {
	t.Parallel()
	type submission struct{ email, name, role, file, fileName string }
	var (
		mu  sync.Mutex
		got submission
	)
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /{$}": func(w http.ResponseWriter, r *http.Request) {
			writePage(w, "Daftar", `<form method="post" action="/daftar" enctype="multipart/form-data" novalidate>
<label for="email">Surel</label><input id="email" name="email" type="email" value="lama@example.id">
<label for="name">Nama lengkap</label><input id="name" name="name">
<label for="role">Peran</label><select id="role" name="role"><option value="candidate">Calon</option><option value="committee">Pansel</option></select>
<label for="doc">Surat lamaran</label><input id="doc" name="doc" type="file">
<button type="submit">Kirim</button></form>`)
		},
		"POST /daftar": func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			f, fh, err := r.FormFile("doc")
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			content, _ := io.ReadAll(f)
			mu.Lock()
			got = submission{r.FormValue("email"), r.FormValue("name"), r.FormValue("role"), string(content), fh.Filename}
			mu.Unlock()
			http.Redirect(w, r, "/selesai?nama="+r.FormValue("name"), http.StatusSeeOther)
		},
		"GET /selesai": func(w http.ResponseWriter, r *http.Request) {
			writePage(w, "Terkirim", `<p id="result">Terima kasih, `+html.EscapeString(r.FormValue("nama"))+`.</p><a id="back" href="/">Kembali</a>`)
		},
	})
	doc := filepath.Join(t.TempDir(), "lamaran.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4 lamaran"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := Start(t).NewUser(t)
	if status := p.Navigate(srv.URL); status != http.StatusOK {
		t.Fatalf("GET / = %d", status)
	}
	p.FillLabel("Surel", "calon@example.id") // replaces the value the page had
	p.Fill("#name", "Siti Rahayu")
	p.Select("#role", "committee")
	p.SetFile("#doc", doc)
	if status := p.Submit("form"); status != http.StatusOK {
		t.Fatalf("submit answered %d", status)
	}

	if u := p.CurrentURL(); !strings.HasPrefix(u, srv.URL+"/selesai") {
		t.Errorf("after submitting the page is %s, want %s/selesai", u, srv.URL)
	}
	// The weight of the answer is the redirected document's: one request, followed once.
	if w := p.Weight(t); len(w.Resources) != 1 || w.Resources[0].Redirects != 1 || !strings.HasPrefix(w.Resources[0].URL, srv.URL+"/selesai") {
		t.Errorf("weight after the post and its redirect: %+v", w.Resources)
	}
	if got, want := p.Text("#result"), "Terima kasih, Siti Rahayu."; got != want {
		t.Errorf("result text %q, want %q", got, want)
	}
	mu.Lock()
	want := submission{"calon@example.id", "Siti Rahayu", "committee", "%PDF-1.4 lamaran", "lamaran.pdf"}
	if got != want {
		t.Errorf("server received %+v, want %+v", got, want)
	}
	mu.Unlock()

	if status := p.ClickAndWait("#back"); status != http.StatusOK {
		t.Errorf("following the link answered %d", status)
	}
	p.WaitVisible("#email")
	if u := p.CurrentURL(); u != srv.URL+"/" {
		t.Errorf("after the link the page is %s", u)
	}
}

// tbRecorder records the errors a helper reports instead of failing the test.
type tbRecorder struct {
	testing.TB
	errors []string
}

func (r *tbRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// Axe finds an unlabelled field and low-contrast text (and AssertAccessible fails for them),
// and finds nothing on an accessible page, even under a strict Content-Security-Policy.
func TestAxe(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /bad": func(w http.ResponseWriter, r *http.Request) {
			writePage(w, "Buruk", `<p style="color:#c8c8c8;background:#fff" id="faint">Teks pucat yang sulit dibaca.</p>
<form><input id="nolabel" name="q"><button type="submit">Cari</button></form>`)
		},
		"GET /good": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
			writePage(w, "Baik", `<p>Teks yang jelas.</p>
<form><label for="q">Cari seleksi</label><input id="q" name="q"><button type="submit">Cari</button></form>`)
		},
	})
	b := Start(t)
	p := b.NewUser(t)
	p.Navigate(srv.URL + "/bad")
	found := map[string]Violation{}
	for _, v := range p.Axe(t) {
		found[v.ID] = v
	}
	for _, rule := range []string{"label", "color-contrast"} {
		v, ok := found[rule]
		if !ok {
			t.Errorf("axe did not report %q on the bad page; it reported %v", rule, found)
			continue
		}
		if !v.Blocking() {
			t.Errorf("%s has impact %q, want serious or critical", rule, v.Impact)
		}
	}
	rec := &tbRecorder{TB: t}
	p.AssertAccessible(rec, "bad page")
	report := strings.Join(rec.errors, "\n")
	for _, want := range []string{"bad page", "label", "color-contrast", "#nolabel", "#faint", "Form elements must have labels"} {
		if !strings.Contains(report, want) {
			t.Errorf("AssertAccessible's report lacks %q:\n%s", want, report)
		}
	}

	p.Navigate(srv.URL + "/good")
	if v := p.Axe(t); len(v) != 0 {
		t.Errorf("axe reported %d violations on the accessible page: %v", len(v), v)
	}
	p.AssertAccessible(t, "good page")
}

// Screenshot writes a full-page PNG at 360 and 1280 px and gives the tab its viewport back.
func TestScreenshot(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /{$}": func(w http.ResponseWriter, r *http.Request) {
			writePage(w, "Panjang", `<div style="height:2000px;background:linear-gradient(#fff,#036)">Isi</div>`)
		},
	})
	b := Start(t)
	b.ScreenshotDir = t.TempDir()
	p := b.NewUser(t)
	p.Navigate(srv.URL)
	paths := p.Screenshot("halaman panjang")
	if len(paths) != 2 {
		t.Fatalf("Screenshot wrote %v", paths)
	}
	for i, width := range []int{360, 1280} {
		want := filepath.Join(b.ScreenshotDir, fmt.Sprintf("halaman_panjang-%d.png", width))
		if paths[i] != want {
			t.Errorf("screenshot %d is %s, want %s", i, paths[i], want)
		}
		data, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		size := img.Bounds().Size()
		if size.X != width {
			t.Errorf("%s is %d px wide, want %d", want, size.X, width)
		}
		if size.Y < 2000 {
			t.Errorf("%s is %d px high: not the full page (over 2000 px)", want, size.Y)
		}
	}
	var inner int
	p.Eval(`window.innerWidth`, &inner)
	if inner != 1280 {
		t.Errorf("after the screenshots the viewport is %d px wide, want 1280 back", inner)
	}
}

// Weight counts a gzip-compressed document at its compressed size, with its stylesheet and
// script, and starts over at the next page.
func TestWeight(t *testing.T) {
	t.Parallel()
	var doc bytes.Buffer
	doc.WriteString(`<!doctype html><html lang="id"><head><title>Berat</title><link rel="stylesheet" href="/gaya.css"><script src="/skrip.js"></script></head><body><main>`)
	for i := range 3000 {
		fmt.Fprintf(&doc, "<p>Baris %d pengumuman seleksi terbuka jabatan pimpinan tinggi pratama.</p>\n", i)
	}
	doc.WriteString(`</main></body></html>`)
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(doc.Bytes())
	zw.Close()
	css := strings.Repeat("p { margin: 0 0 1em; }\n", 50)
	js := strings.Repeat("// skrip\n", 100)

	srv := serve(t, map[string]http.HandlerFunc{
		"GET /{$}": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", fmt.Sprint(gz.Len())) // else chunked framing adds bytes
			w.Write(gz.Bytes())
		},
		"GET /gaya.css": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, css)
		},
		"GET /skrip.js": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			io.WriteString(w, js)
		},
		"GET /kecil": func(w http.ResponseWriter, r *http.Request) {
			writePage(w, "Kecil", "<p>Halaman kecil.</p>")
		},
	})
	p := Start(t).NewUser(t)
	p.Navigate(srv.URL)
	w := p.AssertWeight(t, "heavy page", 100<<10)

	if len(w.Resources) != 3 {
		t.Fatalf("resources %+v, want the document, the stylesheet and the script", w.Resources)
	}
	d := w.Resources[0]
	if d.Type != "Document" || d.Encoding != "gzip" || d.Status != 200 {
		t.Errorf("document resource %+v", d)
	}
	if d.Body != int64(gz.Len()) {
		t.Errorf("document body on the wire %d bytes, want the gzip size %d (uncompressed %d)", d.Body, gz.Len(), doc.Len())
	}
	if d.Transferred < d.Body || d.Transferred > d.Body+1024 {
		t.Errorf("document transferred %d bytes, want its %d compressed bytes plus headers", d.Transferred, d.Body)
	}
	var sum int64
	for _, r := range w.Resources {
		sum += r.Transferred
	}
	if w.Total != sum || w.Code() != sum {
		t.Errorf("total %d, code %d, sum of resources %d", w.Total, w.Code(), sum)
	}
	if w.Of("Stylesheet") < int64(len(css)) || w.Of("Script") < int64(len(js)) {
		t.Errorf("stylesheet %d bytes (body %d), script %d bytes (body %d)", w.Of("Stylesheet"), len(css), w.Of("Script"), len(js))
	}
	if w.Total > int64(doc.Len())/4 {
		t.Errorf("total %d bytes: the document was not counted compressed (%d bytes uncompressed)", w.Total, doc.Len())
	}

	p.Navigate(srv.URL + "/kecil")
	small := p.Weight(t)
	if len(small.Resources) != 1 || small.Resources[0].URL != srv.URL+"/kecil" {
		t.Errorf("the next page's weight counts %+v, want only its document", small.Resources)
	}

	rec := &tbRecorder{TB: t}
	p.Navigate(srv.URL)
	p.AssertWeight(rec, "heavy page", 1024)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "over the budget of 1.0 KB") {
		t.Errorf("AssertWeight under a 1 KB budget reported %q", rec.errors)
	}
}

// Two users of one browser have separate cookie jars.
func TestUsersHaveSeparateCookies(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]http.HandlerFunc{
		"GET /masuk": func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "sesi", Value: r.FormValue("u"), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
			http.Redirect(w, r, "/", http.StatusSeeOther)
		},
		"GET /{$}": func(w http.ResponseWriter, r *http.Request) {
			who := "tamu"
			if c, err := r.Cookie("sesi"); err == nil {
				who = c.Value
			}
			writePage(w, "Beranda", `<p id="who">`+html.EscapeString(who)+`</p>`)
		},
	})
	b := Start(t)
	candidate, member, guest := b.NewUser(t), b.NewUser(t), b.NewUser(t)
	candidate.Navigate(srv.URL + "/masuk?u=calon")
	member.Navigate(srv.URL + "/masuk?u=pansel")
	guest.Navigate(srv.URL)
	candidate.Navigate(srv.URL)

	for _, c := range []struct {
		p    *Page
		want string
	}{{candidate, "calon"}, {member, "pansel"}, {guest, "tamu"}} {
		if got := c.p.Text("#who"); got != c.want {
			t.Errorf("page shows %q, want %q", got, c.want)
		}
		v, ok := c.p.Cookie("sesi")
		if c.want == "tamu" {
			if ok {
				t.Errorf("the guest has cookie sesi=%q", v)
			}
		} else if v != c.want {
			t.Errorf("cookie sesi=%q (present %v), want %q", v, ok, c.want)
		}
	}
	if n := len(guest.Cookies()); n != 0 {
		t.Errorf("the guest has %d cookies", n)
	}
}
