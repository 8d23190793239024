package app

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// recordingWorkflows accepts every command, like acceptingWorkflows, and keeps what it was
// sent, so a test sees exactly what a page asked the API to do.
type recordingWorkflows struct {
	acceptingWorkflows
	mu   sync.Mutex
	sent []client.UpdateWorkflowOptions
}

func (r *recordingWorkflows) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	r.mu.Lock()
	r.sent = append(r.sent, o)
	r.mu.Unlock()
	return acceptedHandle{}, nil
}

// last is the last update named name, or nil.
func (r *recordingWorkflows) last(name string) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.sent) - 1; i >= 0; i-- {
		if r.sent[i].UpdateName == name {
			return r.sent[i].Args[0]
		}
	}
	return nil
}

func (r *recordingWorkflows) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.sent {
		if o.UpdateName == name {
			n++
		}
	}
	return n
}

// committeeConfig is the stored definition of the committee tests' selection.
const committeeConfig = `{"positionTitle":"Kepala Dinas Pendidikan","positionUnit":"Dinas Pendidikan","agency":"Pemkab Contoh",` +
	`"timeZone":"TIME_ZONE_WIB","committee":[` +
	`{"memberId":"member-1","displayName":"Prof. Ketua","kind":"MEMBER_KIND_EXTERNAL","role":"COMMITTEE_ROLE_CHAIR"},` +
	`{"memberId":"member-2","displayName":"Dr. Sekretaris","kind":"MEMBER_KIND_INTERNAL","role":"COMMITTEE_ROLE_SECRETARY"},` +
	`{"memberId":"member-3","displayName":"Anggota Tiga","kind":"MEMBER_KIND_EXTERNAL","role":"COMMITTEE_ROLE_MEMBER"}],` +
	`"requirements":{"minEducation":"EDUCATION_LEVEL_BACHELOR","requiredDocuments":[{"id":"ijazah","title":"Ijazah"}]},` +
	`"scoreWeights":{"competencyTest":40,"paper":20,"interview":40},"tieBreakRule":"TIE_BREAK_RULE_INTERVIEW_FIRST","minFinalScore":60}`

// committeeEnv is the real API and web application with a selection in administrative
// screening: two applications, each with a PDF and a requirement checklist.
type committeeEnv struct {
	api        *realAPI
	wf         *recordingWorkflows
	sel        string
	appA, appB string
	docA       string
	docABytes  []byte
	member     *http.Client
	// other is a committee member seated on another selection.
	other         *http.Client
	memberSubject string
	now           time.Time
	commandSeq    int
	screeningAt   time.Time
}

func newCommitteeEnv(t *testing.T) *committeeEnv {
	t.Helper()
	ctx := context.Background()
	wf := &recordingWorkflows{}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withWorkflows(wf))
	blobs := api.blobs
	e := &committeeEnv{api: api, wf: wf, sel: "sel-panitia", now: time.Now().UTC()}
	st := api.store
	// Committee accounts, as the secretariat creates them; a member is known on a committee
	// by their account's subject, and acts on a selection through the seat linked to it.
	member := func(name, nip string) accounts.Account {
		a, err := api.accounts.Create(ctx, accounts.NewAccount{Role: auth.RoleCommittee, FullName: name, NIP: nip, Email: nip + "@example.id", Lang: "id"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	m1, m9 := member("Prof. Ketua", "196001011990031001"), member("Dr. Lain", "196001011990031009")
	for _, id := range []string{"sel-panitia", "sel-lain"} {
		who := m1
		if id == "sel-lain" {
			who = m9
		}
		cfg := strings.ReplaceAll(committeeConfig, `"member-1"`, `"`+who.Subject+`"`)
		if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: workflows.WorkflowID(id),
			PositionTitle: "Kepala Dinas Pendidikan", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(cfg),
			Committee: []store.CommitteeMember{{MemberID: who.Subject, DisplayName: who.FullName, Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
			Actor:     store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: e.now}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(id), SelectionID: id, Key: "window-1",
			Window: store.Window{Opens: e.now.Add(-time.Hour), Closes: e.now.Add(24 * time.Hour), ClosesWall: e.now.Add(24 * time.Hour)}}, e.now); err != nil {
			t.Fatal(err)
		}
		if _, err := api.accounts.LinkSeat(ctx, id, who.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.memberSubject = m1.Subject
	e.other = signedIn(t, api, web.User{AccountID: m9.ID, Issuer: auth.LocalIssuer, Subject: m9.Subject, Role: auth.RoleCommittee, Name: m9.FullName})
	e.member = signedIn(t, api, web.User{AccountID: m1.ID, Issuer: auth.LocalIssuer, Subject: m1.Subject, Role: auth.RoleCommittee, Name: m1.FullName})
	submit := func(subject, name, nip string, content []byte) (string, string) {
		owner, err := st.ActorID(ctx, auth.LocalIssuer, subject)
		if err != nil {
			t.Fatal(err)
		}
		digest := sha(content)
		if err := blobs.Put(ctx, documents.BlobKey(digest), bytes.NewReader(content), int64(len(content))); err != nil {
			t.Fatal(err)
		}
		doc, err := st.CreateDocument(ctx, store.NewDocument{SelectionID: e.sel, Owner: owner, Kind: "ijazah", UploadID: "upload-" + subject,
			FileName: "ijazah.pdf", MediaType: "application/pdf", SizeBytes: int64(len(content)), SHA256: digest, Pages: 1,
			BlobKey: documents.BlobKey(digest), Now: e.now})
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: e.sel, RequestID: "submit-" + subject, Owner: owner,
			Candidate: store.Candidate{Subject: subject, FullName: name, NIP: nip, Email: subject + "@example.id", BirthDate: "1975-05-05"},
			Documents: []store.DocumentRef{{Kind: "ijazah", DocumentID: doc.ID}}, Now: e.now})
		if err != nil {
			t.Fatal(err)
		}
		return a.ID, doc.ID
	}
	e.docABytes = doctest.PDF(4000, 7)
	e.appA, e.docA = submit("cand-a", "Calon Alfa", "197505052000011001", e.docABytes)
	e.appB, _ = submit("cand-b", "Calon Beta", "197505052000011002", doctest.PDF(3000, 8))
	// The announcement closes: both applications are screened item by item; education was
	// proposed met, the diploma is for the committee to decide.
	items := json.RawMessage(`[{"item":"education","proposed":"REQUIREMENT_STATUS_MET","status":"REQUIREMENT_STATUS_MET",` +
		`"finding":{"id":"S-1 memenuhi","en":"S-1 meets"}},{"item":"document:ijazah","proposed":"REQUIREMENT_STATUS_UNKNOWN","status":"REQUIREMENT_STATUS_UNKNOWN"}]`)
	e.apply(t, store.Command{Kind: workflows.EvtStageOpened, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OPEN",
		Checklists: []store.Checklist{{ApplicationID: e.appA, Items: items}, {ApplicationID: e.appB, Items: items}}})
	return e
}

// apply projects a workflow step into the store, as the worker's activities do.
func (e *committeeEnv) apply(t *testing.T, c store.Command) {
	t.Helper()
	e.commandSeq++
	c.WorkflowID, c.SelectionID = workflows.WorkflowID(e.sel), e.sel
	c.Key = "step-" + strings.Repeat("x", e.commandSeq)
	c.Seq = int64(e.commandSeq)
	c.At = e.now.Add(time.Duration(e.commandSeq) * time.Minute)
	if c.Actor.Subject == "" {
		c.Actor = store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}
	}
	c.Payload = json.RawMessage(`{}`)
	if _, err := e.api.store.ApplyCommand(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// cpage is one response: status, headers and body.
type cpage struct {
	code int
	h    http.Header
	body string
}

func cget(t *testing.T, c *http.Client, base, path string) cpage {
	t.Helper()
	resp, err := c.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return cpage{resp.StatusCode, resp.Header, string(b)}
}

// committeeForm is the hidden fields of the form with id formID on a page.
func committeeForm(t *testing.T, body, formID string) url.Values {
	t.Helper()
	i := strings.Index(body, `id="`+formID+`"`)
	if i < 0 {
		t.Fatalf("no form %q in\n%s", formID, body)
	}
	start := strings.LastIndex(body[:i], "<form")
	end := strings.Index(body[i:], "</form>")
	form := body[start : i+end]
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(form, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("csrf_token") == "" {
		t.Fatalf("form %q has no CSRF token", formID)
	}
	return v
}

func cpost(t *testing.T, c *http.Client, base, path string, v url.Values) cpage {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return cpage{resp.StatusCode, resp.Header, string(b)}
}

func wantPageHas(t *testing.T, what string, p cpage, code int, texts ...string) {
	t.Helper()
	if p.code != code {
		t.Errorf("%s = %d, want %d\n%s", what, p.code, code, p.body)
		return
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: no %q in\n%s", what, s, p.body)
		}
	}
}

// TestWebCommitteeAccess: the committee's pages are for committee members, and each
// selection's pages for the members the API seats on it; "my selections" lists the
// selections whose committee names the member.
func TestWebCommitteeAccess(t *testing.T) {
	e := newCommitteeEnv(t)
	base := e.api.base
	cand := signedIn(t, e.api, web.User{AccountID: "acc-a", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon Alfa"})
	wantPageHas(t, "a candidate on /panitia", cget(t, cand, base, "/panitia"), http.StatusForbidden, "Tidak diizinkan")

	home := cget(t, e.member, base, "/panitia")
	wantPageHas(t, "my selections", home, http.StatusOK, `href="/panitia/sel-panitia"`, "Seleksi administrasi")
	if strings.Contains(home.body, "/panitia/sel-lain") {
		t.Errorf("my selections lists a selection whose committee does not name the member")
	}
	other := e.other
	for _, path := range []string{"/panitia/sel-panitia", "/panitia/sel-panitia/lamaran", "/panitia/sel-panitia/lamaran/" + e.appA,
		"/panitia/sel-panitia/sanggah", "/panitia/sel-panitia/lanjut", "/panitia/sel-panitia/keputusan", "/dokumen/" + e.docA} {
		if p := cget(t, other, base, path); p.code != http.StatusForbidden && p.code != http.StatusNotFound {
			t.Errorf("a member of another selection: GET %s = %d\n%s", path, p.code, p.body)
		}
	}
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if p := cget(t, anon, base, "/panitia/sel-panitia"); p.code != http.StatusSeeOther || !strings.HasPrefix(p.h.Get("Location"), "/masuk?kembali=") {
		t.Errorf("not signed in: %d to %q", p.code, p.h.Get("Location"))
	}
	// Another candidate's document is the same 404 as a missing one.
	candB := signedIn(t, e.api, web.User{AccountID: "acc-b", Issuer: auth.LocalIssuer, Subject: "cand-b", Role: auth.RoleCandidate, Name: "Calon Beta"})
	wantPageHas(t, "another candidate's document", cget(t, candB, base, "/dokumen/"+e.docA), http.StatusNotFound, "Halaman tidak ditemukan")
	wantPageHas(t, "a missing document", cget(t, candB, base, "/dokumen/doc-tidak-ada"), http.StatusNotFound, "Halaman tidak ditemukan")
}

// TestWebCommitteeScreening: the board says what needs doing, the list filters and searches,
// the screening page shows the document beside the checklist, refuses an incomplete or
// unexplained verdict with field errors, and sends the per-item verdicts; the document route
// streams the bytes with safe headers and the API records the read.
func TestWebCommitteeScreening(t *testing.T) {
	e := newCommitteeEnv(t)
	base := e.api.base
	wantPageHas(t, "board", cget(t, e.member, base, "/panitia/sel-panitia"), http.StatusOK,
		"Kepala Dinas Pendidikan", "Seleksi administrasi", "2 dari 2 lamaran masih memiliki butir persyaratan yang belum diputus", "Ketua")

	list := cget(t, e.member, base, "/panitia/sel-panitia/lamaran?status=APPLICATION_STATE_SUBMITTED&q="+url.QueryEscape("alfa"))
	wantPageHas(t, "search", list, http.StatusOK, "Calon Alfa", "1 lamaran ditemukan", "Belum diputus")
	if strings.Contains(list.body, "Calon Beta") {
		t.Errorf("the search for alfa lists Calon Beta")
	}
	wantPageHas(t, "filter by NIP", cget(t, e.member, base, "/panitia/sel-panitia/lamaran?q=197505052000011002"), http.StatusOK, "Calon Beta")
	wantPageHas(t, "filter with nothing", cget(t, e.member, base, "/panitia/sel-panitia/lamaran?status=APPLICATION_STATE_ELIMINATED"), http.StatusOK, "Tidak ada lamaran yang sesuai")

	path := "/panitia/sel-panitia/lamaran/" + e.appA
	screen := cget(t, e.member, base, path)
	wantPageHas(t, "screening page", screen, http.StatusOK, `<iframe id="penampil-dokumen"`, `src="/dokumen/`+e.docA+`"`,
		"S-1 memenuhi", `name="met_0" value="ya" checked`, `id="met_1"`, `id="note_1"`)
	v := committeeForm(t, screen.body, "form-hasil")
	if v.Get("request_id") == "" || v.Get("stage") != "STAGE_ADMINISTRATIVE_SCREENING" {
		t.Fatalf("form fields: %v", v)
	}
	// No verdict on the diploma, and education overridden without a note.
	v.Set("met_0", "tidak")
	bad := cpost(t, e.member, base, path, v)
	wantPageHas(t, "incomplete screening", bad, http.StatusUnprocessableEntity, `href="#met_1"`, "Pilih salah satu.",
		`href="#note_0"`, "Tuliskan catatan", `aria-invalid="true"`)
	if n := e.wf.count(workflows.UpdateRecordResults); n != 0 {
		t.Fatalf("a refused form reached the API (%d updates)", n)
	}
	v.Set("met_0", "ya")
	v.Set("met_1", "tidak")
	v.Set("note_1", "Ijazah tidak dilegalisasi")
	ok := cpost(t, e.member, base, path, v)
	if ok.code != http.StatusSeeOther || ok.h.Get("Location") != path {
		t.Fatalf("screening = %d %q\n%s", ok.code, ok.h.Get("Location"), ok.body)
	}
	args, _ := e.wf.last(workflows.UpdateRecordResults).(workflows.RecordResultsArgs)
	if args.Stage != workflows.StageAdministrativeScreening || len(args.Results) != 1 || args.Results[0].ApplicationID != e.appA ||
		len(args.Results[0].Items) != 2 || !args.Results[0].Items[0].Met || args.Results[0].Items[1].Met ||
		args.Results[0].Items[1].Note != "Ijazah tidak dilegalisasi" || args.Actor.Subject == "" {
		t.Errorf("recorded %+v", args)
	}
	wantPageHas(t, "after recording", cget(t, e.member, base, path), http.StatusOK, "Hasil tercatat.")

	// The document: streamed with the type the API sniffed, inline, never sniffed by the
	// browser, a PDF sandboxed; the read is recorded.
	doc := cget(t, e.member, base, "/dokumen/"+e.docA)
	if doc.code != http.StatusOK || doc.body != string(e.docABytes) {
		t.Fatalf("document = %d, %d bytes (want %d)", doc.code, len(doc.body), len(e.docABytes))
	}
	for h, want := range map[string]string{"Content-Type": "application/pdf", "Content-Disposition": `inline; filename=ijazah.pdf`,
		"X-Content-Type-Options": "nosniff"} {
		if got := doc.h.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := doc.h.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("document CSP = %q", csp)
	}
	// A HEAD would record a read that shows nothing: refused.
	req, _ := http.NewRequest(http.MethodHead, base+"/dokumen/"+e.docA, nil)
	if resp, err := e.member.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD /dokumen = %v %v", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	acc, err := e.api.store.ListDocumentAccesses(context.Background(), e.docA, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Items) != 1 || acc.Items[0].Purpose != store.AccessDownload || acc.Items[0].Actor.Role != "ROLE_COMMITTEE" {
		t.Errorf("document accesses = %+v, want one download by the committee", acc.Items)
	}
}

// TestWebCommitteeScoreSheet: a CSV score sheet is previewed with its errors by line and its
// changes, nothing is sent until confirmed, and the confirmation sends it (in batches: the
// page's script asks for one batch at a time and gets JSON).
func TestWebCommitteeScoreSheet(t *testing.T) {
	e := newCommitteeEnv(t)
	base := e.api.base
	e.apply(t, store.Command{Kind: workflows.EvtStageOpened, Stage: "STAGE_COMPETENCY_TEST", Phase: "OPEN", Applications: []store.ApplicationChange{
		{ApplicationID: e.appA, State: store.StateInProgress}, {ApplicationID: e.appB, State: store.StateInProgress}}})
	form := cget(t, e.member, base, "/panitia/sel-panitia/nilai")
	wantPageHas(t, "upload form", form, http.StatusOK, `enctype="multipart/form-data"`, `id="file"`, "uji_kompetensi")
	upload := func(csv string) cpage {
		t.Helper()
		v := committeeForm(t, form.body, "unggah-nilai")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k := range v {
			_ = mw.WriteField(k, v.Get(k))
		}
		fw, _ := mw.CreateFormFile("file", "nilai.csv")
		_, _ = fw.Write([]byte(csv))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, base+"/unggah/nilai/sel-panitia", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", base)
		resp, err := e.member.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return cpage{resp.StatusCode, resp.Header, string(b)}
	}
	bad := upload("lamaran;komponen;nilai\n" + e.appA + ";uji_kompetensi;82,5\nnip-salah;uji_kompetensi;80\n" + e.appB + ";wawancara;70\n" + e.appB + ";makalah;120\n")
	wantPageHas(t, "preview with errors", bad, http.StatusOK, `id="galat-baris"`, "<td>3</td><td>Lamaran &#34;nip-salah&#34; tidak ditemukan",
		"<td>4</td><td>Komponen &#34;wawancara&#34; tidak dinilai", "<td>5</td><td>Nilai &#34;120&#34; harus berupa angka",
		"Kategori hasil asesmen untuk Calon Alfa belum diisi", `id="perubahan"`, "82.50")
	if strings.Contains(bad.body, `id="kirim-nilai"`) {
		t.Errorf("a sheet with errors can be confirmed")
	}
	good := upload("lamaran;komponen;nilai\n197505052000011001;uji_kompetensi;82,5\n197505052000011001;kategori;MS\n" +
		e.appB + ";uji_kompetensi;75\n" + e.appB + ";makalah;70\n" + e.appB + ";kategori;MMS\n")
	wantPageHas(t, "preview", good, http.StatusOK, `id="perubahan"`, "Calon Alfa", "Calon Beta", "82.50", "Masih memenuhi syarat (MMS)",
		"5 perubahan untuk 2 lamaran, 0 galat; dikirim dalam 1 kumpulan", `id="kirim-nilai"`, `<progress id="kemajuan-batang"`)
	if n := e.wf.count(workflows.UpdateRecordResults); n != 0 {
		t.Fatalf("the preview sent %d updates", n)
	}
	v := committeeForm(t, good.body, "kirim-nilai")
	if !strings.Contains(v.Get("csv"), "197505052000011001;kategori;MS") {
		t.Fatalf("the confirmation does not carry the sheet: %q", v.Get("csv"))
	}
	// The script's way: one batch, answered with JSON.
	vb := url.Values{}
	for k := range v {
		vb.Set(k, v.Get(k))
	}
	vb.Set("batch", "0")
	js := cpost(t, e.member, base, "/unggah/nilai/sel-panitia/kirim", vb)
	if js.code != http.StatusOK || !strings.Contains(js.body, `"ok":true`) || !strings.Contains(js.body, `"recorded":2`) {
		t.Fatalf("batch 0 = %d %s", js.code, js.body)
	}
	// Without the script: every batch, and a page saying what happened.
	sent := cpost(t, e.member, base, "/unggah/nilai/sel-panitia/kirim", v)
	wantPageHas(t, "sent", sent, http.StatusOK, "Semua 1 kumpulan nilai tercatat", "2 hasil tercatat")
	args, _ := e.wf.last(workflows.UpdateRecordResults).(workflows.RecordResultsArgs)
	if args.Stage != workflows.StageCompetencyTest || len(args.Results) != 2 {
		t.Fatalf("recorded %+v", args)
	}
	a := args.Results[0]
	if a.ApplicationID != e.appA || a.Category != "COMPETENCY_CATEGORY_MEETS" || len(a.Scores) != 1 || a.Scores[0].Score != 8250 {
		t.Errorf("first result %+v", a)
	}
	if e.wf.sent[0].UpdateID != v.Get("request_id")+"-0" || e.wf.sent[0].UpdateID != e.wf.sent[len(e.wf.sent)-1].UpdateID {
		t.Errorf("batch request IDs %q and %q, want %q-0 both times", e.wf.sent[0].UpdateID, e.wf.sent[len(e.wf.sent)-1].UpdateID, v.Get("request_id"))
	}
}

// TestWebCommitteeCommands: conflict declarations, an objection answered from the inbox with
// its deadline, the advance confirmation and the decision with its ranking and confirmation.
func TestWebCommitteeCommands(t *testing.T) {
	e := newCommitteeEnv(t)
	base := e.api.base

	// Conflicts: a field error, then the declaration in the member's own name.
	conf := cget(t, e.member, base, "/panitia/sel-panitia/konflik")
	wantPageHas(t, "conflicts", conf, http.StatusOK, "Belum ada konflik", `id="relationship"`)
	v := committeeForm(t, conf.body, "form-konflik")
	v.Set("application", "selections/sel-panitia/applications/"+e.appB)
	wantPageHas(t, "conflict without relationship", cpost(t, e.member, base, "/panitia/sel-panitia/konflik", v), http.StatusUnprocessableEntity,
		`href="#relationship"`, "Tuliskan hubungan Anda")
	v.Set("relationship", "kerabat")
	if p := cpost(t, e.member, base, "/panitia/sel-panitia/konflik", v); p.code != http.StatusSeeOther {
		t.Fatalf("declare = %d\n%s", p.code, p.body)
	}
	dc, _ := e.wf.last(workflows.UpdateDeclareConflict).(workflows.DeclareConflictArgs)
	if len(dc.ApplicationIDs) != 1 || dc.ApplicationIDs[0] != e.appB || dc.Relationship != "kerabat" {
		t.Errorf("declared %+v", dc)
	}

	// The advance confirmation shows what the checklists give, then sends the expected stage.
	adv := cget(t, e.member, base, "/panitia/sel-panitia/lanjut")
	wantPageHas(t, "advance", adv, http.StatusOK, "Tahap Seleksi administrasi akan ditutup", `id="akan-diumumkan"`, "Calon Alfa", "Belum diputus",
		`id="tutup-tahap"`)
	v = committeeForm(t, adv.body, "form-lanjut")
	if p := cpost(t, e.member, base, "/panitia/sel-panitia/lanjut", v); p.code != http.StatusSeeOther || p.h.Get("Location") != "/panitia/sel-panitia" {
		t.Fatalf("advance = %d\n%s", p.code, p.body)
	}
	aa, _ := e.wf.last(workflows.UpdateAdvanceStage).(workflows.AdvanceArgs)
	if aa.Stage != workflows.StageAdministrativeScreening {
		t.Errorf("advance sent %+v", aa)
	}

	// The screening result is published and Calon Beta objects to the diploma item.
	deadline := e.now.Add(72 * time.Hour)
	e.apply(t, store.Command{Kind: "ResultPublished", Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OBJECTIONS",
		Result: &store.StageResult{SelectionID: e.sel, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Revision: 1, PublishedAt: e.now, ObjectionDeadline: deadline,
			Entries: []store.ResultEntry{{ApplicationID: e.appA, Outcome: "OUTCOME_PASS"}, {ApplicationID: e.appB, Outcome: "OUTCOME_FAIL", Reason: "ijazah"}}}})
	objID := workflows.ObjectionID(workflows.StageAdministrativeScreening, e.appB)
	e.apply(t, store.Command{Kind: "ObjectionFiled", Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OBJECTIONS",
		Objection: &store.Objection{SelectionID: e.sel, ID: objID, ApplicationID: e.appB, Stage: "STAGE_ADMINISTRATIVE_SCREENING",
			Reason: "Ijazah saya sudah dilegalisasi", State: "OBJECTION_STATE_PENDING", FileTime: e.now, Items: []string{"document:ijazah"}}})
	wantPageHas(t, "board with an objection", cget(t, e.member, base, "/panitia/sel-panitia"), http.StatusOK, "1 sanggah menunggu jawaban")
	inbox := cget(t, e.member, base, "/panitia/sel-panitia/sanggah")
	wantPageHas(t, "inbox", inbox, http.StatusOK, "Calon Beta", " WIB", `id="sanggah-tertunda"`)
	link := regexp.MustCompile(`href="(/panitia/sel-panitia/sanggah/[^"]+)"`).FindStringSubmatch(inbox.body)
	if link == nil {
		t.Fatalf("no answer link in\n%s", inbox.body)
	}
	ans := cget(t, e.member, base, link[1])
	wantPageHas(t, "objection", ans, http.StatusOK, "Ijazah saya sudah dilegalisasi", `id="item_accept_0"`)
	v = committeeForm(t, ans.body, "form-sanggah")
	v.Set("answer", "Diterima setelah diperiksa")
	wantPageHas(t, "answer without the item's verdict", cpost(t, e.member, base, link[1], v), http.StatusUnprocessableEntity, `href="#item_accept_0"`)
	v.Set("item_accept_0", "ya")
	v.Set("item_answer_0", "Legalisasi ada di halaman 2")
	if p := cpost(t, e.member, base, link[1], v); p.code != http.StatusSeeOther {
		t.Fatalf("answer = %d\n%s", p.code, p.body)
	}
	oa, _ := e.wf.last(workflows.UpdateAnswerObjection).(workflows.AnswerObjectionArgs)
	if oa.ObjectionID != objID || !oa.Accept || len(oa.Items) != 1 || !oa.Items[0].Accepted || oa.Items[0].Item != "document:ijazah" {
		t.Errorf("answered %+v", oa)
	}

	// The decision stage: the ranking with the tie-break rule, the reasons, a confirmation.
	e.apply(t, store.Command{Kind: workflows.EvtStageOpened, Stage: "STAGE_COMMITTEE_DECISION", Phase: "OPEN", Applications: []store.ApplicationChange{
		{ApplicationID: e.appA, State: store.StateInProgress, FinalScore: 7500}, {ApplicationID: e.appB, State: store.StateInProgress, FinalScore: 5500}}})
	dec := cget(t, e.member, base, "/panitia/sel-panitia/keputusan")
	wantPageHas(t, "decision", dec, http.StatusOK, `id="peringkat"`, "wawancara lebih dahulu, lalu uji kompetensi", "75.00", "Di bawah nilai akhir minimum",
		"Peringkat 1: Calon Alfa", `id="shortfall_statement"`)
	v = committeeForm(t, dec.body, "form-keputusan")
	wantPageHas(t, "decision without reasons", cpost(t, e.member, base, "/panitia/sel-panitia/keputusan", v), http.StatusUnprocessableEntity,
		`href="#reason_1"`, `href="#shortfall_statement"`)
	v.Set("reason_1", "Nilai tertinggi dan rekam jejak baik")
	v.Set("shortfall_statement", "Hanya satu pelamar mencapai nilai akhir minimum")
	review := cpost(t, e.member, base, "/panitia/sel-panitia/keputusan", v)
	wantPageHas(t, "decision review", review, http.StatusOK, "Periksa keputusan sebelum ditetapkan", `id="tetapkan-keputusan"`, "Nilai tertinggi dan rekam jejak baik")
	if n := e.wf.count(workflows.UpdateDecide); n != 0 {
		t.Fatalf("the review sent the decision")
	}
	v = committeeForm(t, review.body, "form-keputusan")
	if p := cpost(t, e.member, base, "/panitia/sel-panitia/keputusan", v); p.code != http.StatusSeeOther {
		t.Fatalf("decide = %d\n%s", p.code, p.body)
	}
	da, _ := e.wf.last(workflows.UpdateDecide).(workflows.DecideArgs)
	if len(da.Shortlist) != 1 || da.Shortlist[0].ApplicationID != e.appA || da.Shortlist[0].Reason != "Nilai tertinggi dan rekam jejak baik" || da.Statement == "" {
		t.Errorf("decided %+v", da)
	}
}
