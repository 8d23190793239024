package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// selDocs is a selection the candidate tests create beside selOpen: it requires an ijazah
// and an LHKPN (PDF, JPEG or PNG up to 4 MiB), and its announcement is open.
const selDocs = "sel-docs"

// candidateSelectionConfig is docSelectionConfig with the post the pages show.
var candidateSelectionConfig = `{"positionTitle":"Kepala Badan Keuangan","positionUnit":"BPKAD","agency":"Pemkab Contoh","timeZone":"TIME_ZONE_WIB",` +
	strings.TrimPrefix(docSelectionConfig, "{")

func addDocSelection(t *testing.T, api *realAPI) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if _, err := api.store.CreateSelection(ctx, store.NewSelection{ID: selDocs, RequestID: "create-" + selDocs, WorkflowID: workflows.WorkflowID(selDocs),
		PositionTitle: "Kepala Badan Keuangan", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(candidateSelectionConfig),
		Committee: []store.CommitteeMember{{MemberID: "member-1", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
		Actor:     store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.store.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(selDocs), SelectionID: selDocs, Key: "window-1",
		Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour), ClosesWall: now.Add(24 * time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
}

// page is a browser-like client of the web pages.
type page struct {
	t    *testing.T
	c    *http.Client
	base string
	// csrf is the token of the last page read.
	csrf string
}

func (p *page) get(path string) (int, string, http.Header) {
	p.t.Helper()
	resp, err := p.c.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		p.csrf = html.UnescapeString(string(m[1]))
	}
	return resp.StatusCode, string(b), resp.Header
}

func (p *page) do(req *http.Request) (int, string, http.Header) {
	p.t.Helper()
	req.Header.Set("Origin", p.base)
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		p.csrf = html.UnescapeString(string(m[1]))
	}
	return resp.StatusCode, string(b), resp.Header
}

// post posts a form with the CSRF token of the last page read.
func (p *page) post(path string, v url.Values) (int, string, http.Header) {
	p.t.Helper()
	v.Set("csrf_token", p.csrf)
	req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(req)
}

// upload posts a multipart form with one file, as a browser without JavaScript does.
func (p *page) upload(path string, v url.Values, fileName string, content []byte) (int, string, http.Header) {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", p.csrf)
	for k, vals := range v {
		for _, val := range vals {
			_ = mw.WriteField(k, val)
		}
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("berkas", fileName)
		_, _ = fw.Write(content)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, p.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return p.do(req)
}

func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: no %q in\n%s", what, w, body)
		}
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var profileForm = url.Values{
	"full_name": {"Dr. Budi Santoso, M.Si."}, "nip": {"198001012005011002"}, "email": {"budi@example.id"}, "phone": {"+62 812 3456 7890"},
	"birth_date": {"1980-01-01"}, "education_level": {"EDUCATION_LEVEL_MASTER"}, "education_major": {"Ekonomi"},
	"years_of_experience": {"12"}, "years_in_administrator_post": {"4"}, "current_post": {"Kepala Bidang Anggaran"},
	"current_post_level": {"POST_LEVEL_ADMINISTRATOR"}, "current_agency": {"BPKAD Kabupaten Contoh"}, "statement": {"Saya ingin melayani."},
}

// TestWebCandidateApply: a candidate applies without JavaScript: their details (kept as a
// draft), one upload per required document relayed to the real upload handler (a text file
// refused with the content check's message beside its input, the other document kept), the
// review refusing a missing document, the submission, and the receipt listing each document
// with its size and SHA-256; then the application is on "My applications", its detail shows
// where it is, and it is withdrawn through the confirmation page.
func TestWebCandidateApply(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	addDocSelection(t, api)
	p := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-b", Issuer: auth.LocalIssuer, Subject: "cand-b", Role: auth.RoleCandidate, Name: "Budi"})}

	code, body, _ := p.get("/lamaran/baru/" + selDocs)
	if code != http.StatusOK {
		t.Fatalf("apply page = %d\n%s", code, body)
	}
	mustContain(t, "profile step", body, `id="nip"`, `for="nip"`, `aria-describedby="nip-hint"`, `aria-current="step"`, `value="Budi"`)
	code, _, h := p.post("/lamaran/baru/"+selDocs, url.Values(cloneValues(profileForm)))
	if code != http.StatusSeeOther || h.Get("Location") != "/lamaran/baru/"+selDocs+"/dokumen" {
		t.Fatalf("profile post = %d to %q", code, h.Get("Location"))
	}
	// The draft is kept: going back shows it.
	_, body, _ = p.get("/lamaran/baru/" + selDocs)
	mustContain(t, "draft", body, `value="198001012005011002"`, `<option value="EDUCATION_LEVEL_MASTER" selected>`)

	_, body, _ = p.get("/lamaran/baru/" + selDocs + "/dokumen")
	mustContain(t, "documents step", body, `id="berkas-ijazah"`, `id="berkas-lhkpn"`, `action="/unggah/dokumen"`, `enctype="multipart/form-data"`, "Belum diunggah", "4,0 MB")

	// Submitting without the documents: the review says which are missing.
	_, body, _ = p.get("/lamaran/baru/" + selDocs + "/periksa")
	reqID := regexp.MustCompile(`name="request_id" value="([^"]+)"`).FindStringSubmatch(body)
	if reqID == nil {
		t.Fatalf("no request_id on the review page:\n%s", body)
	}
	code, body, _ = p.post("/lamaran/baru/"+selDocs+"/kirim", url.Values{"request_id": {reqID[1]}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("submit without documents = %d\n%s", code, body)
	}
	mustContain(t, "missing documents", body, `id="ringkasan-galat"`, `href="#dok-ijazah"`, "Dokumen Ijazah belum diunggah.", "Dokumen LHKPN belum diunggah.")

	ijazah, lhkpn := doctest.PDF(300<<10, 1), doctest.PDF(150<<10, 2)
	_, _, _ = p.get("/lamaran/baru/" + selDocs + "/dokumen")
	code, body, h = p.upload("/unggah/dokumen", url.Values{"selection": {selDocs}, "kind": {"ijazah"}}, "ijazah-s2.pdf", ijazah)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/lamaran/baru/"+selDocs+"/dokumen") {
		t.Fatalf("upload ijazah = %d to %q\n%s", code, h.Get("Location"), body)
	}
	_, body, _ = p.get("/lamaran/baru/" + selDocs + "/dokumen")
	mustContain(t, "after the ijazah", body, "Dokumen telah diunggah dan diperiksa.", "ijazah-s2.pdf", digest(ijazah))

	// A text file posing as the LHKPN is refused with the content check's own words, beside
	// its input; the ijazah is still there.
	code, body, _ = p.upload("/unggah/dokumen", url.Values{"selection": {selDocs}, "kind": {"lhkpn"}}, "lhkpn.pdf", []byte("bukan PDF, hanya teks biasa\n"))
	if code < 400 || code >= 500 {
		t.Fatalf("hostile upload = %d\n%s", code, body)
	}
	mustContain(t, "refused file", body, `id="berkas-lhkpn-error"`, `aria-invalid="true"`, `href="#berkas-lhkpn"`, "format yang diterima hanya", "ijazah-s2.pdf", digest(ijazah))
	// Posting the form without choosing a file says so.
	code, body, _ = p.upload("/unggah/dokumen", url.Values{"selection": {selDocs}, "kind": {"lhkpn"}}, "", nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("upload without a file = %d", code)
	}
	mustContain(t, "no file", body, "Pilih berkas yang akan diunggah.")

	code, body, _ = p.upload("/unggah/dokumen", url.Values{"selection": {selDocs}, "kind": {"lhkpn"}}, "lhkpn 2025.pdf", lhkpn)
	if code != http.StatusSeeOther {
		t.Fatalf("upload lhkpn = %d\n%s", code, body)
	}
	_, body, _ = p.get("/lamaran/baru/" + selDocs + "/periksa")
	mustContain(t, "review", body, "Dr. Budi Santoso, M.Si.", "S-2", "ijazah-s2.pdf", "lhkpn 2025.pdf", digest(lhkpn))
	reqID = regexp.MustCompile(`name="request_id" value="([^"]+)"`).FindStringSubmatch(body)
	code, body, h = p.post("/lamaran/baru/"+selDocs+"/kirim", url.Values{"request_id": {reqID[1]}})
	if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "/tanda-terima") {
		t.Fatalf("submit = %d to %q\n%s", code, h.Get("Location"), body)
	}
	receipt := h.Get("Location")
	appID := strings.Split(receipt, "/")[3]
	code, body, _ = p.get(receipt)
	if code != http.StatusOK {
		t.Fatalf("receipt = %d\n%s", code, body)
	}
	mustContain(t, "receipt", body, "Lamaran Anda telah dikirim.", "Tanda terima lamaran", `<code id="id-lamaran">`+appID+`</code>`, " WIB",
		"ijazah-s2.pdf", "lhkpn 2025.pdf", digest(ijazah), digest(lhkpn), "300 KB", "150 KB", "<caption>")
	// The first application of the selection is participant 1, in the default format.
	if !regexp.MustCompile(`id="nomor-peserta"><strong>20\d\d-` + selDocs + `-0001</strong>`).MatchString(body) {
		t.Errorf("receipt without participant number 0001:\n%s", body)
	}

	// Applying again leads to the application.
	code, _, h = p.get("/lamaran/baru/" + selDocs)
	if code != http.StatusSeeOther || h.Get("Location") != "/lamaran/"+selDocs+"/"+appID {
		t.Errorf("applying twice = %d to %q", code, h.Get("Location"))
	}

	_, body, _ = p.get("/lamaran")
	mustContain(t, "my applications", body, "Kepala Badan Keuangan", `href="/lamaran/`+selDocs+`/`+appID+`"`, "Terkirim")
	if strings.Contains(body, "/lamaran/"+selOpen+"/") {
		t.Errorf("another candidate's application is listed:\n%s", body)
	}

	_, body, _ = p.get("/lamaran/" + selDocs + "/" + appID)
	mustContain(t, "detail", body, `id="linimasa"`, `aria-current="step"`, "Pengumuman", "Seleksi administrasi", "tahap saat ini",
		digest(lhkpn), `href="/lamaran/`+selDocs+`/`+appID+`/tarik"`, `id="form-ganti-ijazah"`)
	if strings.Contains(body, `id="form-sanggah-`) {
		t.Errorf("an objection form with no published result:\n%s", body)
	}

	// Withdrawing asks first, then withdraws.
	code, body, _ = p.get("/lamaran/" + selDocs + "/" + appID + "/tarik")
	if code != http.StatusOK {
		t.Fatalf("withdraw page = %d", code)
	}
	mustContain(t, "withdraw confirmation", body, `id="form-tarik"`, `for="reason"`, "Ya, tarik lamaran saya")
	reqID = regexp.MustCompile(`name="request_id" value="([^"]+)"`).FindStringSubmatch(body)
	code, _, h = p.post("/lamaran/"+selDocs+"/"+appID+"/tarik", url.Values{"request_id": {reqID[1]}, "reason": {"Mendapat tugas lain."}})
	if code != http.StatusSeeOther || h.Get("Location") != "/lamaran/"+selDocs+"/"+appID {
		t.Fatalf("withdraw = %d to %q", code, h.Get("Location"))
	}
	_, body, _ = p.get("/lamaran/" + selDocs + "/" + appID)
	mustContain(t, "withdrawn", body, "Lamaran Anda telah ditarik.", "Ditarik")
	if strings.Contains(body, `/tarik"`) {
		t.Errorf("a withdrawn application offers to withdraw again")
	}
}

func cloneValues(v url.Values) map[string][]string {
	out := map[string][]string{}
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

// TestWebCandidateApplyFieldErrors: the API's field errors on submission send the candidate
// back to their details, each beside its input and in the summary, in the page's language.
func TestWebCandidateApplyFieldErrors(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	addDocSelection(t, api)
	p := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-b", Issuer: auth.LocalIssuer, Subject: "cand-b", Role: auth.RoleCandidate, Name: "Budi"})}
	_, _, _ = p.get("/lamaran/baru/" + selDocs)
	bad := url.Values(cloneValues(profileForm))
	bad.Set("nip", "12345")
	bad.Set("email", "bukan-surel")
	p.post("/lamaran/baru/"+selDocs, bad)
	_, _, _ = p.get("/lamaran/baru/" + selDocs + "/dokumen")
	for i, kind := range []string{"ijazah", "lhkpn"} {
		if code, body, _ := p.upload("/unggah/dokumen", url.Values{"selection": {selDocs}, "kind": {kind}}, kind+".pdf", doctest.PDF(2000, uint64(10+i))); code != http.StatusSeeOther {
			t.Fatalf("upload %s = %d\n%s", kind, code, body)
		}
	}
	_, body, _ := p.get("/lamaran/baru/" + selDocs + "/periksa")
	reqID := regexp.MustCompile(`name="request_id" value="([^"]+)"`).FindStringSubmatch(body)
	code, body, _ := p.post("/lamaran/baru/"+selDocs+"/kirim", url.Values{"request_id": {reqID[1]}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("submit with a bad NIP = %d\n%s", code, body)
	}
	mustContain(t, "field errors", body, `href="#nip"`, `href="#email"`, `id="nip-error"`, `aria-invalid="true"`, `value="12345"`)
}

// TestWebCandidateOthersApplication: someone else's application is the same 404 page as
// one that does not exist, for every page of an application.
func TestWebCandidateOthersApplication(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	p := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-b", Issuer: auth.LocalIssuer, Subject: "cand-b", Role: auth.RoleCandidate, Name: "Budi"})}
	strip := regexp.MustCompile(`value="[^"]*"`)
	for _, suffix := range []string{"", "/tanda-terima", "/tarik"} {
		codeOther, other, _ := p.get("/lamaran/" + selOpen + "/" + appOpen + suffix)
		codeMissing, missing, _ := p.get("/lamaran/" + selOpen + "/app-tidak-ada" + suffix)
		if codeOther != http.StatusNotFound || codeMissing != http.StatusNotFound {
			t.Errorf("%s: someone else's = %d, missing = %d; want 404 both", suffix, codeOther, codeMissing)
		}
		// The pages differ only in the address they were asked for (in the language switch).
		other, missing = strings.ReplaceAll(other, appOpen, "X"), strings.ReplaceAll(missing, "app-tidak-ada", "X")
		if strip.ReplaceAllString(other, "") != strip.ReplaceAllString(missing, "") {
			t.Errorf("%s: someone else's application looks different from a missing one:\n%s\n---\n%s", suffix, other, missing)
		}
	}
	// Withdrawing it is refused the same way.
	p.get("/lamaran")
	if code, _, _ := p.post("/lamaran/"+selOpen+"/"+appOpen+"/tarik", url.Values{"request_id": {"req-withdraw-other"}}); code != http.StatusNotFound {
		t.Errorf("withdrawing someone else's application = %d, want 404", code)
	}
	// The owner sees theirs.
	owner := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-a", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon A"})}
	if code, body, _ := owner.get("/lamaran/" + selOpen + "/" + appOpen); code != http.StatusOK {
		t.Errorf("the owner's application = %d\n%s", code, body)
	}
	// Other roles are not candidates.
	committee := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-m", Issuer: auth.LocalIssuer, Subject: "member-1", Role: auth.RoleCommittee, Name: "Ketua"})}
	if code, _, _ := committee.get("/lamaran"); code != http.StatusForbidden {
		t.Errorf("a committee member on /lamaran = %d, want 403", code)
	}
	// Not signed in: to the sign-in page and back.
	anon := &page{t: t, base: api.base, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, _, h := anon.get("/lamaran"); code != http.StatusSeeOther || h.Get("Location") != "/masuk?kembali=%2Flamaran" {
		t.Errorf("anonymous /lamaran = %d to %q", code, h.Get("Location"))
	}
}

// publishScreening publishes the administrative screening result of selOpen, failing
// appOpen on one requirement, with the objection window ending at deadline.
func publishScreening(t *testing.T, api *realAPI, deadline time.Time) {
	t.Helper()
	at := time.Now().UTC().Add(-time.Minute)
	if _, err := api.store.ApplyCommand(context.Background(), store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen,
		Key: "req-advance-0001", Seq: 1, Kind: workflows.CmdAdvance, Stage: "STAGE_ADMINISTRATIVE_SCREENING", At: at, Phase: "OBJECTIONS",
		Actor: store.Actor{Subject: "member-1", Role: "ROLE_COMMITTEE"},
		Result: &store.StageResult{Stage: "STAGE_ADMINISTRATIVE_SCREENING", Revision: 1, PublishedAt: at, ObjectionDeadline: deadline,
			Entries: []store.ResultEntry{{ApplicationID: appOpen, Outcome: "OUTCOME_FAIL", Reason: "Ijazah tidak terbaca"}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestWebCandidateObjectionWindow: the objection form is on the application's page only
// while the published result's objection window is open, with its deadline in the
// selection's zone.
func TestWebCandidateObjectionWindow(t *testing.T) {
	for _, tt := range []struct {
		name     string
		deadline time.Duration
		want     bool
	}{{"open", 48 * time.Hour, true}, {"closed", -time.Hour, false}} {
		t.Run(tt.name, func(t *testing.T) {
			api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
			publishScreening(t, api, time.Now().Add(tt.deadline))
			p := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-a", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon A"})}
			code, body, _ := p.get("/lamaran/" + selOpen + "/" + appOpen)
			if code != http.StatusOK {
				t.Fatalf("detail = %d\n%s", code, body)
			}
			mustContain(t, "published result", body, "Hasil per tahap", "Tidak lulus", "Ijazah tidak terbaca")
			has := strings.Contains(body, `id="form-sanggah-administrative-screening"`)
			if has != tt.want {
				t.Fatalf("objection form shown = %v, want %v\n%s", has, tt.want, body)
			}
			if tt.want {
				mustContain(t, "objection form", body, `action="/unggah/sanggah/`+selOpen+`/`+appOpen+`"`, "Sanggah dapat diajukan sampai", " WIB.",
					`id="alasan-administrative-screening"`, `for="alasan-administrative-screening"`)
			}
		})
	}
}

// csrfTransport adds what a page's script adds to its requests: the CSRF token header and
// the page's origin.
type csrfTransport struct {
	token, origin string
	// cut, when set, cuts off the body of the PATCH it returns true for after 100 KiB.
	cut func(*http.Request) bool
}

func (c *csrfTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-CSRF-Token", c.token)
	r.Header.Set("Origin", c.origin)
	if c.cut != nil && r.Method == http.MethodPatch && c.cut(r) {
		r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, 100<<10), errReader{}))
	}
	return http.DefaultTransport.RoundTrip(r)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("the connection dropped") }

// TestWebCandidateTusRelay: the browser's resumable uploads go through /unggah/tus/ with
// the session cookie and the CSRF header (no token of the browser's own): the upload URL
// points at the relay, a chunk cut off halfway is resumed from the offset the server holds,
// the finished upload names its document, and the document appears on the documents form.
// Without the CSRF header, or signed out, nothing is uploaded.
func TestWebCandidateTusRelay(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	addDocSelection(t, api)
	p := &page{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-b", Issuer: auth.LocalIssuer, Subject: "cand-b", Role: auth.RoleCandidate, Name: "Budi"})}
	_, body, _ := p.get("/lamaran/baru/" + selDocs + "/dokumen")
	mustContain(t, "scripts", body, "/static/vendor/tus.min.js?v=", "/static/candidate.js?v=", `data-kind="ijazah"`, `id="progres-ijazah"`)

	file := doctest.PDF(700<<10, 7)
	cuts := 0
	tr := &csrfTransport{token: p.csrf, origin: api.base, cut: func(r *http.Request) bool {
		if r.Header.Get("Upload-Offset") == fmt.Sprint(256<<10) && cuts == 0 {
			cuts++
			return true
		}
		return false
	}}
	c := &http.Client{Jar: p.c.Jar, Transport: tr}
	tc := &tusclient.Client{HTTP: c, AcceptLanguage: "id", ChunkSize: 256 << 10, Backoff: 10 * time.Millisecond}
	ctx := context.Background()
	meta := map[string]string{"selection": "selections/" + selDocs, "kind": "ijazah", "filename": "ijazah-tus.pdf"}
	loc, err := tc.Create(ctx, api.base+"/unggah/tus/", int64(len(file)), meta)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, api.base+"/unggah/tus/") {
		t.Fatalf("upload URL %q does not point at the relay", loc)
	}
	var offsets []int64
	fin, err := tc.Send(ctx, loc, bytes.NewReader(file), int64(len(file)), func(o int64) { offsets = append(offsets, o) })
	if err != nil {
		t.Fatal(err)
	}
	if cuts != 1 {
		t.Fatalf("the chunk was cut %d times, want 1", cuts)
	}
	if !strings.HasPrefix(fin.Document, "documents/") || !strings.Contains(string(fin.Body), digest(file)) {
		t.Fatalf("finished upload: %q %s", fin.Document, fin.Body)
	}
	// After the cut the client asked for the offset and went on from the bytes the server
	// had kept (the chunk's first 100 KiB), not from the chunk's start.
	resumed := false
	for _, o := range offsets {
		if o > 256<<10 && (o-(256<<10+100<<10))%(256<<10) == 0 {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("offsets %v: the upload did not go on from what the server kept", offsets)
	}
	_, body, _ = p.get("/lamaran/baru/" + selDocs + "/dokumen")
	mustContain(t, "document on the form", body, "ijazah-tus.pdf", digest(file), "Sudah diunggah")

	// A refused file through the relay: the handler's message, in the page's language.
	_, err = tc.Create(ctx, api.base+"/unggah/tus/", 10, map[string]string{"selection": "selections/" + selDocs, "kind": "ktp", "filename": "x.pdf"})
	var te *tusclient.Error
	if !errors.As(err, &te) || te.Status != http.StatusUnprocessableEntity || !strings.Contains(te.Error(), "ktp") {
		t.Errorf("upload of a kind not required: %v", err)
	}

	// Without the CSRF header the relay refuses before anything reaches the handler.
	noCSRF := &tusclient.Client{HTTP: &http.Client{Jar: p.c.Jar, Transport: &csrfTransport{origin: api.base}}}
	if _, err := noCSRF.Create(ctx, api.base+"/unggah/tus/", 10, meta); !errors.As(err, &te) || te.Status != http.StatusForbidden {
		t.Errorf("upload without the CSRF header: %v", err)
	}
	// Signed out: no upload either.
	anon := &tusclient.Client{HTTP: &http.Client{Transport: &csrfTransport{token: p.csrf, origin: api.base}}}
	if _, err := anon.Create(ctx, api.base+"/unggah/tus/", 10, meta); !errors.As(err, &te) || (te.Status != http.StatusUnauthorized && te.Status != http.StatusForbidden) {
		t.Errorf("upload signed out: %v", err)
	}
}
