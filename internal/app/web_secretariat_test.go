package app

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// secUpdates are the updates named name that wf was sent, in order.
func secUpdates(wf *recordingWorkflows, name string) []client.UpdateWorkflowOptions {
	wf.mu.Lock()
	defer wf.mu.Unlock()
	var out []client.UpdateWorkflowOptions
	for _, u := range wf.sent {
		if u.UpdateName == name {
			out = append(out, u)
		}
	}
	return out
}

var (
	secAdmin   = web.User{AccountID: "acc-admin", Issuer: auth.LocalIssuer, Subject: "admin-1", Role: auth.RoleAdmin, Name: "Sekretariat"}
	secAuditor = web.User{AccountID: "acc-auditor", Issuer: auth.LocalIssuer, Subject: "auditor-1", Role: auth.RoleAuditor, Name: "Auditor"}
	secCand    = web.User{AccountID: "acc-cand", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon A"}
)

// webPage is a page as a browser got it.
type webPage struct {
	code   int
	body   string
	header http.Header
}

func webGet(t *testing.T, c *http.Client, u string) webPage {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webPage{resp.StatusCode, string(b), resp.Header}
}

// webPost posts form from the page at pageURL (read first, for its CSRF token), as the
// browser would.
func webPost(t *testing.T, c *http.Client, base, pageURL, action string, form url.Values) webPage {
	t.Helper()
	page := webGet(t, c, base+pageURL)
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (%d):\n%s", pageURL, page.code, page.body)
	}
	form.Set("csrf_token", html.UnescapeString(m[1]))
	req, _ := http.NewRequest(http.MethodPost, base+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Referer", base+pageURL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webPage{resp.StatusCode, string(b), resp.Header}
}

func secContains(t *testing.T, what string, p webPage, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("%s: no %q in\n%s", what, w, p.body)
		}
	}
}

// validWizardForm is a complete, valid wizard form: five members (two internal), weights of
// 100, and the days off of this year and the next, so the plan is covered whenever the test
// runs.
func validWizardForm() url.Values {
	f := url.Values{
		"position_title": {"Kepala Dinas Pendidikan"}, "position_unit": {"Dinas Pendidikan"}, "agency": {"Pemerintah Kabupaten Contoh"},
		"time_zone": {"TIME_ZONE_WITA"}, "oversight_approval_ref": {"B-1234/KASN/2026"}, "selection_id": {"kadis-pendidikan-2026"},
		"requirements-min_education": {"EDUCATION_LEVEL_BACHELOR"}, "requirements-min_years_experience": {"5"},
		"requirements-min_years_administrator_post": {"2"}, "requirements-max_age_years": {"56"},
		"requirements-required_documents-0-id": {"lhkpn"}, "requirements-required_documents-0-title": {"LHKPN"},
		"announcement_working_days": {"5"}, "extension_working_days": {"3"}, "max_extensions": {"1"}, "min_applicants": {"3"},
		"insufficient_applicants_policy": {"INSUFFICIENT_APPLICANTS_POLICY_CONTINUE"}, "objection_window_working_days": {"3"},
		"score_weights-written_test": {"15"}, "score_weights-competency_test": {"40"}, "score_weights-paper": {"10"},
		"score_weights-interview": {"20"}, "score_weights-track_record": {"15"},
		"pass_thresholds-competency_test-min_score": {"65,5"},
		"min_competency_category":                   {"COMPETENCY_CATEGORY_STILL_MEETS"}, "min_final_score": {"70"},
		"tie_break_rule": {"TIE_BREAK_RULE_COMPETENCY_TEST_FIRST"}, "publish_scores": {"on"},
		"document_policy-max_document_bytes": {"5"}, "document_policy-max_pages": {"50"},
		"document_policy-document_media_types": {"application/pdf", "image/jpeg"},
	}
	y := time.Now().Year()
	f.Set("holiday_overrides", fmt.Sprintf("%d-08-17,Hari Kemerdekaan\n%d-08-17,Hari Kemerdekaan", y, y+1))
	kinds := []string{"MEMBER_KIND_EXTERNAL", "MEMBER_KIND_INTERNAL", "MEMBER_KIND_INTERNAL", "MEMBER_KIND_EXTERNAL", "MEMBER_KIND_EXTERNAL"}
	roles := []string{"COMMITTEE_ROLE_CHAIR", "COMMITTEE_ROLE_SECRETARY", "COMMITTEE_ROLE_MEMBER", "COMMITTEE_ROLE_MEMBER", "COMMITTEE_ROLE_MEMBER"}
	for i := range 5 {
		p := fmt.Sprintf("committee-%d-", i)
		f.Set(p+"member_id", fmt.Sprintf("pansel-%d", i+1))
		f.Set(p+"display_name", fmt.Sprintf("Dr. Anggota %d", i+1))
		f.Set(p+"kind", kinds[i])
		f.Set(p+"post_level", "POST_LEVEL_JPT_PRATAMA")
		f.Set(p+"role", roles[i])
	}
	return f
}

// TestWebSecretariatWizard: the wizard refuses an invalid selection with the API's own field
// violations, in the summary and beside each field (a committee row after an empty one
// included), keeping what was typed; its preview shows the service's plan with the days off
// inside it and creates nothing; a valid submit creates the selection and goes to its page.
func TestWebSecretariatWizard(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	c := signedIn(t, api, secAdmin)
	const wizard = "/sekretariat/seleksi/baru"
	// A committee account is offered for the members' IDs (its subject is its NIP).
	if _, err := api.accounts.Create(context.Background(), accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Prof. Siti Aminah",
		NIP: "196801011990032001", Email: "siti@example.id", Lang: "id"}); err != nil {
		t.Fatal(err)
	}

	page := webGet(t, c, api.base+wizard)
	if page.code != http.StatusOK {
		t.Fatalf("GET wizard = %d\n%s", page.code, page.body)
	}
	secContains(t, "wizard", page, `id="seleksi-baru"`, `name="request_id" value="web-`, `id="committee-8-member_id"`,
		`<label for="score_weights-interview">`, `secretariat.js`, `id="pratinjau"`, `id="buat-seleksi"`,
		`list="akun-panitia"`, `<option value="196801011990032001">Prof. Siti Aminah (siti@example.id)</option>`)

	// Invalid: a too short title, weights of 90, a committee with a gap (row 2 empty) whose
	// fourth row has a malformed ID, so four members and no odd count.
	bad := validWizardForm()
	bad.Set("position_title", "Ka")
	bad.Set("score_weights-paper", "0")
	bad.Del("committee-1-member_id")
	bad.Del("committee-1-display_name")
	bad.Set("committee-3-member_id", "bukan id!")
	bad.Set("action", "buat")
	page = webPost(t, c, api.base, wizard, wizard, bad)
	if page.code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid wizard = %d\n%s", page.code, page.body)
	}
	secContains(t, "invalid wizard", page,
		`id="ringkasan-galat"`,
		`<a href="#position_title">paling sedikit 3 karakter</a>`,
		`id="position_title-error">paling sedikit 3 karakter</span>`,
		`id="position_title" name="position_title" value="Ka" aria-describedby="position_title-hint position_title-error" aria-invalid="true"`,
		`<a href="#score_weights">jumlah bobot harus 100</a>`,
		`id="score_weights-error">jumlah bobot harus 100</span>`,
		`<a href="#committee">jumlah anggota panitia seleksi harus ganjil</a>`,
		`id="committee-error">jumlah anggota panitia seleksi harus ganjil</p>`,
		`<a href="#committee-3-member_id">`,
		`id="committee-3-member_id-error">bentuknya tidak sesuai`,
		`value="bukan id!"`, `value="Dr. Anggota 5"`)
	if strings.Contains(page.body, `id="committee-2-member_id-error"`) {
		t.Errorf("the violation of the third member sent landed on the form's third row, not its fourth:\n%s", page.body)
	}
	if _, err := api.store.GetSelection(context.Background(), "kadis-pendidikan-2026"); err == nil {
		t.Error("an invalid wizard created the selection")
	}

	// Preview: the service's plan, nothing stored.
	ok := validWizardForm()
	ok.Set("action", "pratinjau")
	page = webPost(t, c, api.base, wizard, wizard, ok)
	if page.code != http.StatusOK {
		t.Fatalf("preview = %d\n%s", page.code, page.body)
	}
	secContains(t, "preview", page, `id="pratinjau-kalender"`, `id="pratinjau-hari-terakhir"`, "Hari terakhir pendaftaran", " WITA", `value="Kepala Dinas Pendidikan"`)
	if strings.Contains(page.body, `id="ringkasan-galat"`) {
		t.Errorf("a valid preview shows errors:\n%s", page.body)
	}
	if _, err := api.store.GetSelection(context.Background(), "kadis-pendidikan-2026"); err == nil {
		t.Error("the preview created the selection")
	}

	// Create.
	ok.Set("action", "buat")
	page = webPost(t, c, api.base, wizard, wizard, ok)
	if page.code != http.StatusSeeOther || page.header.Get("Location") != "/sekretariat/seleksi/kadis-pendidikan-2026" {
		t.Fatalf("create = %d to %q\n%s", page.code, page.header.Get("Location"), page.body)
	}
	sel, err := api.store.GetSelection(context.Background(), "kadis-pendidikan-2026")
	if err != nil || sel.PositionTitle != "Kepala Dinas Pendidikan" || len(sel.Committee) != 5 {
		t.Fatalf("stored selection %+v, %v", sel, err)
	}
	page = webGet(t, c, api.base+"/sekretariat/seleksi/kadis-pendidikan-2026")
	secContains(t, "created selection", page, "Seleksi telah dibuat.", "Kepala Dinas Pendidikan", "B-1234/KASN/2026", "Dr. Anggota 1")
}

// TestWebSecretariatBlockedAndCancel: a blocked selection is shown first on the dashboard with
// its reason and what to do, and its Resume button sends the resume command to its workflow;
// cancelling asks for a reason on a confirmation page, refuses an empty one beside the field,
// and sends the cancel command with the reason given.
func TestWebSecretariatBlockedAndCancel(t *testing.T) {
	wf := &recordingWorkflows{}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withWorkflows(wf))
	now := time.Now().UTC()
	if err := api.store.ProjectBlocked(context.Background(), workflows.WorkflowID(selOpen), selOpen, &store.Blocked{
		Reason: string(workflows.BlockedCalendarNotCovered), Step: workflows.StepCloseAnnouncement, Year: 2031,
		Since: now, Attempts: 4, NextAttempt: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, api, secAdmin)
	page := webGet(t, c, api.base+"/sekretariat")
	if page.code != http.StatusOK {
		t.Fatalf("dashboard = %d\n%s", page.code, page.body)
	}
	secContains(t, "dashboard", page, `id="tertahan-sel-open"`, "Tertahan", "mencapai tahun 2031", `id="lanjutkan-sel-open"`)
	// The report service's dashboard lists the selection, blocked, sortable without scripts.
	secContains(t, "dashboard table", page, `id="dasbor-sel-open"`, "Dasbor seleksi", `href="/sekretariat?urut=overdue#dasbor"`)
	page = webGet(t, c, api.base+"/sekretariat?urut=days_left")
	secContains(t, "dashboard by days left", page, `id="dasbor-sel-open"`, `href="/sekretariat?urut=days_left#dasbor" aria-current="true"`)
	// The score recap downloads as an XLSX workbook (a ZIP container) through ReportService.
	page = webGet(t, c, api.base+"/sekretariat/seleksi/"+selOpen+"/rekap/interview")
	if page.code != http.StatusOK || !strings.HasPrefix(page.body, "PK") {
		t.Fatalf("recap download = %d, %.40q", page.code, page.body)
	}
	// ... and as a PDF with the official layout.
	page = webGet(t, c, api.base+"/sekretariat/seleksi/"+selOpen+"/rekap/interview/pdf")
	if page.code != http.StatusOK || !strings.HasPrefix(page.body, "%PDF-") {
		t.Fatalf("recap PDF download = %d, %.40q", page.code, page.body)
	}
	page = webGet(t, c, api.base+"/sekretariat/seleksi/"+selOpen)
	secContains(t, "recap links", page, `href="/sekretariat/seleksi/sel-open/rekap/interview"`, `href="/sekretariat/seleksi/sel-open/rekap/interview/pdf"`)
	secContains(t, "blocked selection", page, `id="tertahan"`, "CalendarNotCovered", "CloseAnnouncement", "daftar hari libur tahun 2031",
		`href="/sekretariat/hari-libur?seleksi=sel-open"`, `id="lanjutkan"`)

	page = webPost(t, c, api.base, "/sekretariat/seleksi/"+selOpen, "/sekretariat/seleksi/"+selOpen+"/lanjutkan",
		url.Values{"request_id": {"web-resume-0001"}, "reason": {"daftar 2031 sudah dipasok"}})
	if page.code != http.StatusSeeOther {
		t.Fatalf("resume = %d\n%s", page.code, page.body)
	}
	if got := secUpdates(wf, workflows.UpdateResume); len(got) != 1 || got[0].WorkflowID != workflows.WorkflowID(selOpen) {
		t.Fatalf("resume updates sent: %+v", got)
	}
	secContains(t, "after resume", webGet(t, c, api.base+page.header.Get("Location")), "diminta mencoba lagi")

	// Cancel: a confirmation page; an empty reason is refused beside the field.
	page = webGet(t, c, api.base+"/sekretariat/seleksi/"+selOpen+"/batal")
	secContains(t, "cancel page", page, `id="form-batal"`, `<label for="reason">`, `id="konfirmasi-batal"`)
	cancel := "/sekretariat/seleksi/" + selOpen + "/batal"
	page = webPost(t, c, api.base, cancel, cancel, url.Values{"request_id": {"web-cancel-0001"}, "reason": {""}})
	if page.code != http.StatusUnprocessableEntity {
		t.Fatalf("cancel without a reason = %d\n%s", page.code, page.body)
	}
	secContains(t, "cancel without a reason", page, `<a href="#reason">`, `id="reason-error"`, `value="web-cancel-0001"`)
	if n := len(secUpdates(wf, workflows.UpdateCancel)); n != 0 {
		t.Fatalf("%d cancel updates sent for a refused form", n)
	}
	page = webPost(t, c, api.base, cancel, cancel, url.Values{"request_id": {"web-cancel-0001"}, "reason": {"Jabatan dihapus dalam reorganisasi"}})
	if page.code != http.StatusSeeOther {
		t.Fatalf("cancel = %d\n%s", page.code, page.body)
	}
	if got := secUpdates(wf, workflows.UpdateCancel); len(got) != 1 || got[0].UpdateID != "web-cancel-0001" {
		t.Fatalf("cancel updates sent: %+v", got)
	}
}

// TestWebSecretariatHolidaysAndAppointment: the days-off form reads pasted lines (the shipped
// CSV too) and shows the API's violations beside the field; the appointment page without a
// published decision says so instead of failing; the dead letters page lists nothing.
func TestWebSecretariatHolidaysAndAppointment(t *testing.T) {
	wf := &recordingWorkflows{}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withWorkflows(wf))
	c := signedIn(t, api, secAdmin)
	const form = "/sekretariat/hari-libur"
	page := webGet(t, c, api.base+form+"?seleksi="+selOpen)
	secContains(t, "holidays", page, `id="form-hari-libur"`, `<option value="sel-open" selected>`, `<label for="days">`)
	page = webPost(t, c, api.base, form, form, url.Values{"request_id": {"web-holidays-01"}, "name": {selOpen}, "year": {"2031"},
		"days": {"2031-01-01,Tahun Baru\n2031-02-30,Tanggal keliru"}, "reason": {"SKB 3 Menteri 2030"}})
	if page.code != http.StatusUnprocessableEntity {
		t.Fatalf("holidays with a bad date = %d\n%s", page.code, page.body)
	}
	secContains(t, "holidays with a bad date", page, `<a href="#days">`, `id="days-error"`, "2031-02-30,Tanggal keliru")
	page = webPost(t, c, api.base, form, form, url.Values{"request_id": {"web-holidays-02"}, "name": {selOpen}, "year": {"2031"},
		"days":   {"date,kind,name_id,name_en\n2031-01-01,libur_nasional,Tahun Baru 2031 Masehi,New Year's Day\n2031-12-25,libur_nasional,Kelahiran Yesus Kristus,Christmas Day"},
		"reason": {"SKB 3 Menteri 2030"}})
	if page.code != http.StatusSeeOther {
		t.Fatalf("holidays = %d\n%s", page.code, page.body)
	}
	got := secUpdates(wf, workflows.UpdateSupplyHolidays)
	if len(got) != 1 {
		t.Fatalf("supply updates sent: %+v", got)
	}

	page = webGet(t, c, api.base+"/sekretariat/seleksi/"+selOpen+"/pengangkatan")
	if page.code != http.StatusOK {
		t.Fatalf("appointment page = %d\n%s", page.code, page.body)
	}
	secContains(t, "appointment before the decision", page, "belum menetapkan keputusannya")

	page = webGet(t, c, api.base+"/sekretariat/notifikasi")
	secContains(t, "dead letters", page, `id="tidak-ada-surat-gagal"`)
}

// TestWebSecretariatAccess: only the secretariat opens its pages; a candidate and an auditor
// get 403, someone not signed in is sent to sign in.
func TestWebSecretariatAccess(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	for _, u := range []web.User{secCand, secAuditor} {
		c := signedIn(t, api, u)
		for _, p := range []string{"/sekretariat", "/sekretariat/seleksi/baru", "/sekretariat/seleksi/" + selOpen, "/sekretariat/hari-libur"} {
			if page := webGet(t, c, api.base+p); page.code != http.StatusForbidden || !strings.Contains(page.body, "Tidak diizinkan") {
				t.Errorf("%s GET %s = %d", u.Role, p, page.code)
			}
		}
	}
	c := signedIn(t, api, secCand)
	page := webPost(t, c, api.base, "/", "/sekretariat/seleksi/"+selOpen+"/batal", url.Values{"reason": {"x"}})
	if page.code != http.StatusForbidden {
		t.Errorf("a candidate's cancel = %d", page.code)
	}
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if page := webGet(t, anon, api.base+"/sekretariat"); page.code != http.StatusSeeOther || !strings.HasPrefix(page.header.Get("Location"), "/masuk") {
		t.Errorf("anonymous GET /sekretariat = %d to %q", page.code, page.header.Get("Location"))
	}
}

// TestWebSecretariatAppointment: after the committee's decision the appointment page lists
// the ranked names to choose from; a choice without the PPK's decree is refused beside the
// field, keeping the choice; choosing rank 2 without the PPK's justification is refused beside
// its field; a complete one sends the appointment, with the justification, to the workflow.
func TestWebSecretariatAppointment(t *testing.T) {
	wf := &recordingWorkflows{}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withWorkflows(wf))
	now := time.Now().UTC()
	if _, err := api.store.ApplyCommand(context.Background(), store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen,
		Key: "decide-0001", Seq: 1, Kind: "DecideSelection", Actor: store.Actor{Subject: "member-1", Role: "ROLE_COMMITTEE"},
		At: now, Stage: "STAGE_COMMITTEE_DECISION", Payload: []byte(`{}`),
		Result: &store.StageResult{SelectionID: selOpen, Stage: "STAGE_COMMITTEE_DECISION", Revision: 1, PublishedAt: now,
			Entries: []store.ResultEntry{{ApplicationID: appOpen, Outcome: "OUTCOME_PASS", Rank: 2, Reason: "Paling unggul dalam wawancara"}}},
	}); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, api, secAdmin)
	app := "selections/" + selOpen + "/applications/" + appOpen
	appoint := "/sekretariat/seleksi/" + selOpen + "/pengangkatan"
	secContains(t, "selection in its decision", webGet(t, c, api.base+"/sekretariat/seleksi/"+selOpen), `id="pengangkatan-link"`)
	page := webGet(t, c, api.base+appoint)
	secContains(t, "appointment", page, `id="form-pengangkatan"`, `id="calon-2"`, `value="`+app+`"`, "Peringkat 2: Calon A", `name="justification"`,
		"Paling unggul dalam wawancara")
	page = webPost(t, c, api.base, appoint, appoint, url.Values{"request_id": {"web-appoint-01"}, "application": {app},
		"oversight_recommendation_ref": {"R-77/KASN/2027"}, "justification": {"Rekam jejak"}})
	if page.code != http.StatusUnprocessableEntity {
		t.Fatalf("appointment without a decree = %d\n%s", page.code, page.body)
	}
	secContains(t, "appointment without a decree", page, `<a href="#ppk_decree_ref">`, `id="ppk_decree_ref-error"`, `value="R-77/KASN/2027"`,
		`value="`+app+`" checked`)
	page = webPost(t, c, api.base, appoint, appoint, url.Values{"request_id": {"web-appoint-01"}, "application": {app},
		"ppk_decree_ref": {"800/123/2027"}, "oversight_recommendation_ref": {"R-77/KASN/2027"}, "justification": {"  "}})
	if page.code != http.StatusUnprocessableEntity {
		t.Fatalf("rank 2 without a justification = %d\n%s", page.code, page.body)
	}
	secContains(t, "rank 2 without a justification", page, `<a href="#justification">`, `id="justification-error"`,
		"berperingkat 2", `value="800/123/2027"`, `value="`+app+`" checked`)
	if got := secUpdates(wf, workflows.UpdateAppoint); len(got) != 0 {
		t.Fatalf("a refused form sent %+v", got)
	}
	page = webPost(t, c, api.base, appoint, appoint, url.Values{"request_id": {"web-appoint-01"}, "application": {app},
		"ppk_decree_ref": {"800/123/2027"}, "oversight_recommendation_ref": {"R-77/KASN/2027"},
		"justification": {"Rekam jejak memimpin program kesehatan daerah"}})
	if page.code != http.StatusSeeOther {
		t.Fatalf("appointment = %d\n%s", page.code, page.body)
	}
	got := secUpdates(wf, workflows.UpdateAppoint)
	if len(got) != 1 || got[0].UpdateID != "web-appoint-01" {
		t.Fatalf("appoint updates sent: %+v", got)
	}
	if args, ok := got[0].Args[0].(workflows.AppointArgs); !ok || args.Justification != "Rekam jejak memimpin program kesehatan daerah" {
		t.Errorf("appoint arguments %+v", got[0].Args)
	}
}
