package official

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/report"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

const kindsConfig = `{"oversightApprovalRef":"B-123/BKN/2026","objectionWindowWorkingDays":3,"publishScores":true,
"requirements":{"minEducation":"EDUCATION_LEVEL_BACHELOR","minYearsExperience":5,"minYearsAdministratorPost":2,"maxAgeYears":56,
"requiredDocuments":[]}}`

var committee = []store.CommitteeMember{
	{MemberID: "m-chair", DisplayName: "Prof. Dr. Ketut Suardana", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR", Affiliation: "Universitas Udayana"},
	{MemberID: "m-sec", DisplayName: "Drs. Hendra Gunawan", Kind: "MEMBER_KIND_INTERNAL", Role: "COMMITTEE_ROLE_SECRETARY"},
	{MemberID: "m-3", DisplayName: "Dr. Siti Aisyah", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_MEMBER"},
	{MemberID: "m-4", DisplayName: "Ir. Bambang Sutrisno", Kind: "MEMBER_KIND_INTERNAL", Role: "COMMITTEE_ROLE_MEMBER"},
	{MemberID: "m-5", DisplayName: "Maria Goreti Ndoen, M.Si.", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_MEMBER"},
}

// courseOfSelection records, through the store's own writes, a selection that opens, screens
// (and corrects the screening in a second revision), decides three names with a member
// recused, and ends with the PPK choosing rank 2 with a justification. It returns the
// candidates' names by application ID. extra, if given, returns commands recorded after the
// shortlist is final and before the appointment (at is the decision stage's base time).
func courseOfSelection(t *testing.T, st *store.Store, t0 time.Time, extra ...func(ids []string, at time.Time) []store.Command) map[string]string {
	t.Helper()
	ctx := context.Background()
	const sel, wf = testSelection, "selection-" + testSelection
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create", WorkflowID: wf,
		PositionTitle: "Kepala Dinas Pendidikan", PositionUnit: "Dinas Pendidikan", Agency: "Pemerintah Kabupaten Contoh", TimeZone: "TIME_ZONE_WIB",
		Config: []byte(kindsConfig), Committee: committee, Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: wf, SelectionID: sel, Key: "window-1",
		Window: store.Window{Opens: t0, Closes: t0.Add(200 * time.Hour), ClosesWall: t0.Add(200 * time.Hour), OpensWall: t0}}, t0); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	var ids []string
	for i, n := range []string{"Ni Luh Putu Ayu Ariani", "Muhammad Rizky Pratama", "Yohanes Bosco Tefa", "Siti Nurhaliza", "Andi Baso Mappasessu"} {
		a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: fmt.Sprintf("submit-%d", i), Owner: fmt.Sprintf("act-cand-%d", i),
			Candidate: store.Candidate{Subject: fmt.Sprintf("cand-%d", i), FullName: n, NIP: fmt.Sprintf("19750505200001100%d", i), Email: "x@example.id", BirthDate: "1975-05-05"},
			Now:       t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
		names[a.ID] = n
	}
	member := func(id string) store.Actor {
		a, err := st.ActorID(ctx, "https://idp.example", id)
		if err != nil {
			t.Fatal(err)
		}
		return store.Actor{Subject: a, Role: "ROLE_COMMITTEE"}
	}
	at := t0.Add(300 * time.Hour)
	seq := int64(0)
	apply := func(c store.Command) {
		t.Helper()
		seq++
		c.WorkflowID, c.SelectionID, c.Seq, c.Key = wf, sel, seq, fmt.Sprintf("k-%d", seq)
		if c.Message == nil {
			c.Message = &store.Text{Code: c.Kind}
		}
		if c.Payload == nil {
			c.Payload = json.RawMessage(`{}`)
		}
		if _, err := st.ApplyCommand(ctx, c); err != nil {
			t.Fatalf("apply %s: %v", c.Kind, err)
		}
	}
	scr := "STAGE_ADMINISTRATIVE_SCREENING"
	apply(store.Command{Kind: "RecordResults", Actor: member("m-3"), At: at, Stage: scr, Phase: "OPEN"})
	apply(store.Command{Kind: "AdvanceStage", Actor: member("m-chair"), At: at.Add(time.Hour), Stage: scr, Phase: "OBJECTIONS",
		Result: &store.StageResult{Stage: scr, Revision: 1, PublishedAt: at.Add(time.Hour), ObjectionDeadline: at.Add(73 * time.Hour), ScoresPublished: true,
			Entries: []store.ResultEntry{{ApplicationID: ids[0], Outcome: "OUTCOME_PASS"}, {ApplicationID: ids[1], Outcome: "OUTCOME_PASS"},
				{ApplicationID: ids[2], Outcome: "OUTCOME_FAIL", Reason: "LHKPN tidak dilampirkan"}, {ApplicationID: ids[3], Outcome: "OUTCOME_PASS"},
				{ApplicationID: ids[4], Outcome: "OUTCOME_PASS"}}}})
	apply(store.Command{Kind: "CorrectResult", Actor: member("m-sec"), At: at.Add(30 * time.Hour), Stage: scr, Phase: "OBJECTIONS",
		Result: &store.StageResult{Stage: scr, Revision: 2, PublishedAt: at.Add(30 * time.Hour), ObjectionDeadline: at.Add(73 * time.Hour), ScoresPublished: true,
			RevisionReason: "Sanggah diterima: LHKPN ternyata dilampirkan",
			Entries: []store.ResultEntry{{ApplicationID: ids[0], Outcome: "OUTCOME_PASS"}, {ApplicationID: ids[1], Outcome: "OUTCOME_PASS"},
				{ApplicationID: ids[2], Outcome: "OUTCOME_PASS"}, {ApplicationID: ids[3], Outcome: "OUTCOME_PASS"}, {ApplicationID: ids[4], Outcome: "OUTCOME_PASS"}}}})
	dec := "STAGE_COMMITTEE_DECISION"
	apply(store.Command{Kind: "DeclareConflict", Actor: member("m-4"), At: at.Add(40 * time.Hour), Stage: dec, Phase: "OPEN",
		Conflicts: []store.Conflict{{MemberID: "m-4", ApplicationID: ids[1], Relationship: "RELATIONSHIP_FAMILY", DeclaredBy: "m-4", DeclareTime: at.Add(40 * time.Hour)}}})
	ranked := []store.ResultEntry{
		{ApplicationID: ids[3], Outcome: "OUTCOME_PASS", Rank: 1, FinalScore: 8725, Scores: []store.ComponentScore{{Component: "SCORE_COMPONENT_COMPETENCY_TEST", Score: 8800}}, Reason: "Nilai akhir tertinggi dan rekam jejak sangat baik"},
		{ApplicationID: ids[0], Outcome: "OUTCOME_PASS", Rank: 2, FinalScore: 8510, Reason: "Kompetensi manajerial kuat"},
		{ApplicationID: ids[2], Outcome: "OUTCOME_PASS", Rank: 3, FinalScore: 8102, Reason: "Pengalaman lapangan luas"},
		{ApplicationID: ids[1], Outcome: "OUTCOME_FAIL", FinalScore: 7600, Reason: "Tidak termasuk tiga besar"},
		{ApplicationID: ids[4], Outcome: "OUTCOME_FAIL", FinalScore: 7012, Reason: "Tidak termasuk tiga besar"},
	}
	var changes []store.ApplicationChange
	for _, e := range ranked {
		state := "APPLICATION_STATE_SHORTLISTED"
		if e.Rank == 0 {
			state = "APPLICATION_STATE_NOT_SELECTED"
		}
		changes = append(changes, store.ApplicationChange{ApplicationID: e.ApplicationID, State: state, Stage: dec, Rank: e.Rank})
	}
	apply(store.Command{Kind: "Decide", Actor: member("m-chair"), Reason: "Tiga nama diusulkan dengan suara bulat.", At: at.Add(50 * time.Hour), Stage: dec, Phase: "OBJECTIONS",
		Applications: changes, Result: &store.StageResult{Stage: dec, Revision: 1, PublishedAt: at.Add(50 * time.Hour), ObjectionDeadline: at.Add(122 * time.Hour), ScoresPublished: true, Entries: ranked}})
	apply(store.Command{Kind: "ShortlistSettled", Actor: store.Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: at.Add(130 * time.Hour), Stage: dec, Phase: "APPOINTMENT"})
	for _, x := range extra {
		for _, c := range x(ids, at) {
			apply(c)
		}
	}
	apply(store.Command{Kind: "Appoint", Actor: store.Actor{Subject: "ppk-office", Role: "ROLE_ADMIN"}, At: at.Add(150 * time.Hour), Stage: "STAGE_CLOSED",
		Payload:      json.RawMessage(`{"applicationId":"` + ids[0] + `","justification":"Rencana strategis daerah menuntut pengalaman manajerial calon peringkat 2."}`),
		Appointment:  &store.Appointment{ApplicationID: ids[0], PPKDecreeRef: "800/123/BKPSDM/2026", OversightRecommendationRef: "R-77/BKN/2026"},
		Applications: []store.ApplicationChange{{ApplicationID: ids[0], State: "APPLICATION_STATE_APPOINTED", Stage: dec, Rank: 2}}})
	return names
}

// TestDocumentKinds issues every document of a selection's course and reads each as a person
// would: its text in Indonesian and English, a QR code that opens its verification page, and
// revisions that supersede what they correct.
func TestDocumentKinds(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, storetest.Drivers()[0].URL(t))
	clk := newClock(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	courseOfSelection(t, st, clk.now().Add(-400*time.Hour))
	iss := NewIssuer(st, testSigner(t), slog.New(slog.NewTextHandler(io.Discard, nil)),
		Options{PublicURL: "https://seleksi.example.go.id", NumberPrefix: "BKPSDM-PKC", Now: clk.now}, StandardKinds(testDefinition)...)
	docs := issueAll(t, iss, st)
	type key struct {
		kind, subject string
		revision      int
	}
	byKey := map[key]store.OfficialDocument{}
	var course []store.OfficialDocument
	proofs := 0
	for _, d := range docs {
		byKey[key{d.Kind, d.Subject, d.Revision}] = d
		// Proofs of registration are issued per submission; registration_test.go reads them.
		if d.Kind == store.OfficialRegistrationProof {
			proofs++
			continue
		}
		course = append(course, d)
	}
	if proofs != 5 {
		t.Errorf("%d proofs of registration, want one per application (5)", proofs)
	}
	scr, dec := "STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMMITTEE_DECISION"
	want := map[key][]string{
		{store.OfficialVacancyAnnouncement, "", 1}: {"Pengumuman Seleksi Terbuka Jabatan Pimpinan Tinggi Pratama", "Announcement of the Open Selection",
			"Kepala Dinas Pendidikan", "B-123/BKN/2026", "Tidak ada dokumen yang diwajibkan", "paling singkat 5 tahun / at least 5 years",
			"https://seleksi.example.go.id/seleksi/kadis-2026"},
		{store.OfficialResultAnnouncement, scr, 1}: {"Pengumuman Hasil Tahap Seleksi administrasi", "Result of the Administrative screening",
			"Yohanes Bosco Tefa", "Tidak lulus / Not passed", "LHKPN tidak dilampirkan", "Batas sanggah"},
		{store.OfficialResultAnnouncement, scr, 2}: {"Revisi ke-2", "Revision 2", "Sanggah diterima: LHKPN ternyata dilampirkan"},
		{store.OfficialMinutes, scr, 1}: {"Berita Acara Keputusan Panitia Seleksi", "Minutes of the Selection Committee", "Prof. Dr. Ketut Suardana",
			"Ikut serta", "Took part", "jejak audit", "4 dari 5 peserta lulus", "4 of 5 candidates passed"},
		{store.OfficialMinutes, scr, 2}:            {"5 dari 5 peserta lulus"},
		{store.OfficialResultAnnouncement, dec, 1}: {"Keputusan panitia", "Siti Nurhaliza", "87,25"},
		{store.OfficialMinutes, dec, 1}:            {"1. Siti Nurhaliza; 2. Ni Luh Putu Ayu Ariani; 3. Yohanes Bosco Tefa", "1 (tidak menilai / recused)"},
		{store.OfficialRecommendation, "", 1}:      {"Rekomendasi Panitia Seleksi", "Recommendation to the Appointing Official", "Nilai akhir tertinggi dan rekam jejak sangat baik", "Tiga nama diusulkan dengan suara bulat."},
		{store.OfficialMeritComplianceReport, "", 1}: {"Laporan Kepatuhan Sistem Merit", "Merit-System Compliance Report",
			"Selesai / Closed", "Jangka waktu pengumuman", "Sanggah dijawab tepat waktu Objections answered on time Tidak berlaku Not applicable Tidak ada sanggah."},
		{store.OfficialAppointmentRecord, "", 1}: {"Berita Acara Pengangkatan", "Record of Appointment", "Ni Luh Putu Ayu Ariani", "800/123/BKPSDM/2026",
			"R-77/BKN/2026", "Alasan tertulis pemilihan peringkat 2", "Rencana strategis daerah menuntut pengalaman manajerial"},
	}
	if len(course) != len(want) {
		for _, d := range docs {
			t.Logf("%s %s %s r%d", d.Number, d.Kind, d.Subject, d.Revision)
		}
		t.Fatalf("%d documents of the course, want %d", len(course), len(want))
	}
	samples := map[key]string{
		{store.OfficialVacancyAnnouncement, "", 1}: "vacancy-announcement", {store.OfficialResultAnnouncement, scr, 2}: "result-announcement-revision-2",
		{store.OfficialMinutes, dec, 1}: "minutes-decision", {store.OfficialRecommendation, "", 1}: "recommendation", {store.OfficialAppointmentRecord, "", 1}: "appointment-record",
		{store.OfficialMeritComplianceReport, "", 1}: "merit-compliance-report",
	}
	for k, phrases := range want {
		d, ok := byKey[k]
		if !ok {
			t.Errorf("no document %+v", k)
			continue
		}
		full, err := st.GetOfficialDocument(ctx, d.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(pdfText(t, full.Content)), " ")
		for _, p := range append(phrases, full.Number, "PEMERINTAH KABUPATEN CONTOH") {
			if !strings.Contains(text, strings.Join(strings.Fields(p), " ")) {
				t.Errorf("%s (%+v) lacks %q", full.Number, k, p)
			}
		}
		pages := pdfPages(t, full.Content, samples[k], false)
		if got := decodeQR(t, pages[0]); got != "https://seleksi.example.go.id/verify/"+full.ID {
			t.Errorf("%s: QR code reads %q", full.Number, got)
		}
		if c, err := iss.Verify(ctx, full); err != nil || !c.Valid() || !c.Reproducible {
			t.Errorf("%s: check %+v, %v", full.Number, c, err)
		}
	}
	// Personal data beyond the published result stays out.
	for _, d := range docs {
		full, _ := st.GetOfficialDocument(ctx, d.ID, true)
		if text := pdfText(t, full.Content); strings.Contains(text, "197505052000011000") || strings.Contains(text, "x@example.id") {
			t.Errorf("%s prints a NIP or an e-mail address", d.Number)
		}
	}
	r1, r2 := byKey[key{store.OfficialResultAnnouncement, scr, 1}], byKey[key{store.OfficialResultAnnouncement, scr, 2}]
	if r1.SupersededBy != r2.ID || r2.Supersedes != r1.ID {
		t.Errorf("revision 2 does not supersede revision 1: %+v / %+v", r1, r2)
	}
	if min1, min2 := byKey[key{store.OfficialMinutes, scr, 1}], byKey[key{store.OfficialMinutes, scr, 2}]; min1.SupersededBy != min2.ID {
		t.Errorf("minutes of revision 2 do not supersede those of revision 1")
	}
}

// TestVacancyDocuments: the announcement lists the documents the selection requires. (The
// course above requires none, since the store refuses applications without their uploads.)
func TestVacancyDocuments(t *testing.T) {
	cfg := strings.Replace(kindsConfig, `"requiredDocuments":[]`,
		`"requiredDocuments":[{"id":"lhkpn","title":"LHKPN","description":"Laporan harta kekayaan terakhir"},{"id":"skck","title":"SKCK"}]`, 1)
	src := Source{Selection: store.Selection{ID: "s", PositionTitle: "Sekretaris Daerah", Agency: "Pemkab", TimeZone: "TIME_ZONE_WIT", Config: []byte(cfg)}, Job: store.OfficialJob{Revision: 2}}
	src.Catalog = NewIssuer(nil, nil, nil, Options{}).opts.Catalog
	b, err := buildVacancy(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Render(sampleMeta(), b.Content)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(pdfText(t, pdf)), " ")
	for _, p := range []string{"LHKPN", "Laporan harta kekayaan terakhir", "SKCK", "perpanjangan ke-1", "extension 1", "S1/D-IV"} {
		if !strings.Contains(text, p) {
			t.Errorf("the announcement lacks %q:\n%s", p, text)
		}
	}
}

// testDefinition stands for server.ReportDefinition: the WIB calendar, the usual windows
// and the default deadlines (an objection is answered within 3 working days).
func testDefinition(store.Selection) (report.Definition, error) {
	cal, err := calendar.Build(calendar.WIB, nil)
	if err != nil {
		return report.Definition{}, err
	}
	return report.Definition{Calendar: cal, Windows: workflows.Windows{AnnouncementDays: 5, ExtensionDays: 5, MaxExtensions: 2},
		PositionLevel: workflows.PostJPTPratama}, nil
}

// TestMeritComplianceDocument: a selection whose objection to the committee's decision was
// answered after its deadline closes; the merit-compliance report issued on closing states
// every item, marks "objections answered on time" not met with the late answer in both
// languages and the answer's audit event as evidence, and carries a QR code that opens its
// verification page.
func TestMeritComplianceDocument(t *testing.T) {
	for _, drv := range storetest.Drivers() {
		t.Run(drv.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, drv.URL(t))
			clk := newClock(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
			// The decision is published on Sunday 29 November 2026 (WIB); an objection filed
			// then is due by the end of Wednesday 2 December (17:00 UTC), and is answered on
			// Thursday.
			courseOfSelection(t, st, clk.now().Add(-400*time.Hour), func(ids []string, at time.Time) []store.Command {
				const dec = "STAGE_COMMITTEE_DECISION"
				o := store.Objection{ID: "COMMITTEE_DECISION:" + ids[1], ApplicationID: ids[1], Stage: dec, Candidate: "act-cand-1",
					Reason: "peringkat keliru", State: "OBJECTION_STATE_PENDING", FileTime: at.Add(51 * time.Hour)}
				a := o
				a.State, a.Answer, a.AnsweredBy, a.AnswerTime = "OBJECTION_STATE_REJECTED", "peringkat sudah benar", "m-chair", at.Add(145*time.Hour)
				target := "selections/" + testSelection + "/applications/" + ids[1] + "/objections/" + o.ID
				return []store.Command{
					{Kind: "FileObjection", Actor: store.Actor{Subject: "act-cand-1", Role: "ROLE_CANDIDATE"}, At: o.FileTime, Stage: dec, Phase: "APPOINTMENT", Target: target, Objection: &o},
					{Kind: "AnswerObjection", Actor: store.Actor{Subject: "m-chair", Role: "ROLE_COMMITTEE"}, At: a.AnswerTime, Stage: dec, Phase: "APPOINTMENT", Target: target, Objection: &a},
				}
			})
			iss := NewIssuer(st, testSigner(t), slog.New(slog.NewTextHandler(io.Discard, nil)),
				Options{PublicURL: "https://seleksi.example.go.id", NumberPrefix: "BKPSDM-PKC", Now: clk.now}, StandardKinds(testDefinition)...)
			docs := issueAll(t, iss, st)
			var doc store.OfficialDocument
			for _, d := range docs {
				if d.Kind == store.OfficialMeritComplianceReport {
					doc = d
				}
			}
			if doc.ID == "" {
				t.Fatalf("no merit-compliance report among %d documents", len(docs))
			}
			full, err := st.GetOfficialDocument(ctx, doc.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			// The answer's audit event is the evidence of the late item.
			events, err := allAuditEvents(ctx, st, testSelection)
			if err != nil {
				t.Fatal(err)
			}
			var fileSeq, answerSeq int64
			for _, e := range events {
				switch e.Action {
				case "FileObjection":
					fileSeq = e.Seq
				case "AnswerObjection":
					answerSeq = e.Seq
				}
			}
			text := strings.Join(strings.Fields(pdfText(t, full.Content)), " ")
			for _, p := range []string{"Laporan Kepatuhan Sistem Merit", "Merit-System Compliance Report", full.Number, "Selesai / Closed",
				"Jangka waktu pengumuman Announcement window Terpenuhi Met",
				"Sanggah dijawab tepat waktu Objections answered on time Tidak terpenuhi Not met Sanggah COMMITTEE_DECISION:",
				"dijawab 2026-12-02T22:00:00Z, melewati batas waktu 2 Desember 2026 pukul 23.59 WIB.",
				"after its deadline of 23:59 WIB on 2 December 2026. " + fmt.Sprintf("%d, %d", fileSeq, answerSeq),
				"3 butir tidak terpenuhi", "3 items are not met"} {
				if !strings.Contains(text, p) {
					t.Errorf("the report lacks %q:\n%s", p, text)
				}
			}
			pages := pdfPages(t, full.Content, "merit-compliance-"+drv.Name, false)
			if got := decodeQR(t, pages[0]); got != "https://seleksi.example.go.id/verify/"+full.ID {
				t.Errorf("QR code reads %q", got)
			}
			if c, err := iss.Verify(ctx, full); err != nil || !c.Valid() || !c.Reproducible {
				t.Errorf("check %+v, %v", c, err)
			}
		})
	}
}

// issueAll runs iss until it has nothing left to issue, failing the test on a failed
// document, and returns the test selection's documents.
func issueAll(t *testing.T, iss *Issuer, st *store.Store) []store.OfficialDocument {
	t.Helper()
	ctx := context.Background()
	for {
		r, err := iss.IssueOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Failed > 0 {
			jobs, _ := st.ListOfficialJobs(ctx, "", 20)
			t.Fatalf("a document failed: %+v", jobs)
		}
		if r.Issued == 0 {
			break
		}
	}
	docs, err := st.ListOfficialDocuments(ctx, testSelection)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}
