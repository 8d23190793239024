package official

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// The documents of a selection's course (issue 13 §3). Each states only what the published
// records state: names and outcomes as the published results list them, scores only where the
// selection publishes scores, and no personal data beyond that.

// Stage a document is about, and audit actions the documents read.
const (
	stageDecision     = "STAGE_COMMITTEE_DECISION"
	stageAnnouncement = "STAGE_ANNOUNCEMENT"
	actionDecide      = "Decide"
	actionAppoint     = "Appoint"
	actionShortlisted = "ShortlistSettled"
	roleCommittee     = "ROLE_COMMITTEE"
)

// StandardKinds are the documents every selection issues; def decodes a selection's stored
// definition for the merit-compliance report.
func StandardKinds(def DefinitionFunc) []Kind {
	return []Kind{
		{Name: store.OfficialVacancyAnnouncement, Code: "PENG", Build: buildVacancy},
		{Name: store.OfficialResultAnnouncement, Code: "HASIL", Build: buildResult},
		{Name: store.OfficialMinutes, Code: "BA", Build: buildMinutes},
		{Name: store.OfficialRecommendation, Code: "REKOM", Build: buildRecommendation},
		{Name: store.OfficialAppointmentRecord, Code: "ANGKAT", Build: buildAppointment},
		RegistrationProof(),
		MeritComplianceReport(def),
	}
}

// KindTitle is a kind's name for people.
func KindTitle(kind string) Text {
	switch kind {
	case store.OfficialVacancyAnnouncement:
		return T("Pengumuman lowongan", "Vacancy announcement")
	case store.OfficialResultAnnouncement:
		return T("Pengumuman hasil tahap", "Stage result announcement")
	case store.OfficialMinutes:
		return T("Berita acara keputusan panitia", "Minutes of the committee's decision")
	case store.OfficialRecommendation:
		return T("Rekomendasi tiga nama kepada PPK", "Recommendation of three names to the PPK")
	case store.OfficialAppointmentRecord:
		return T("Berita acara pengangkatan", "Appointment record")
	case store.OfficialRegistrationProof:
		return T("Bukti pendaftaran", "Proof of registration")
	case store.OfficialScoreRecap:
		return T("Rekapitulasi nilai", "Score recap")
	case store.OfficialMeritComplianceReport:
		return T("Laporan kepatuhan sistem merit", "Merit-compliance report")
	}
	return T(kind, kind)
}

// StageTitle is a stage's name for people.
func StageTitle(stage string) Text {
	switch stage {
	case "STAGE_ANNOUNCEMENT":
		return T("Pengumuman", "Announcement")
	case "STAGE_ADMINISTRATIVE_SCREENING":
		return T("Seleksi administrasi", "Administrative screening")
	case "STAGE_COMPETENCY_TEST":
		return T("Uji kompetensi", "Competency test")
	case "STAGE_INTERVIEW":
		return T("Wawancara akhir", "Final interview")
	case stageDecision:
		return T("Keputusan panitia", "Committee decision")
	case "STAGE_CLOSED":
		return T("Selesai", "Closed")
	case "STAGE_CANCELLED":
		return T("Dibatalkan", "Cancelled")
	}
	return T(stage, stage)
}

func outcomeText(o string) string {
	switch o {
	case "OUTCOME_PASS":
		return "Lulus / Pass"
	case "OUTCOME_FAIL":
		return "Tidak lulus / Not passed"
	}
	return "-"
}

// score prints hundredths of a point with the Indonesian decimal comma: 83,25.
func score(hundredths int64) string {
	return strings.Replace(strconv.FormatFloat(float64(hundredths)/100, 'f', 2, 64), ".", ",", 1)
}

// render is a stored message (or the words people wrote) in both languages.
func render(cat *i18n.Catalog, words string, m *store.Text) string {
	if words != "" || m == nil {
		return words
	}
	t := cat.Text(storeMsg(*m))
	if t.ID == t.EN || t.EN == "" {
		return t.ID
	}
	return t.ID + " / " + t.EN
}

func storeMsg(t store.Text) i18n.Msg {
	m := i18n.Msg{Code: t.Code, Params: t.Params, EN: t.EN, ID: t.ID}
	if t.Detail != nil {
		d := storeMsg(*t.Detail)
		m.Detail = &d
	}
	return m
}

func (src Source) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatDate(t.In(ZoneLocation(src.Selection.TimeZone)))
}

func (src Source) positionFields() []Field {
	s := src.Selection
	return []Field{
		KV("Jabatan", "Position", s.PositionTitle),
		KV("Unit kerja", "Unit", s.PositionUnit),
		KV("Instansi", "Agency", s.Agency),
		KV("Kode seleksi", "Selection", s.ID),
	}
}

// selectionConfig is the part of a selection's definition (the API's Selection as JSON) the
// documents print.
type selectionConfig struct {
	OversightApprovalRef string `json:"oversightApprovalRef"`
	Requirements         struct {
		MinEducation              string `json:"minEducation"`
		MinYearsExperience        int    `json:"minYearsExperience"`
		MinYearsAdministratorPost int    `json:"minYearsAdministratorPost"`
		MaxAgeYears               int    `json:"maxAgeYears"`
		RequiredDocuments         []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"requiredDocuments"`
		AdditionalItems []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"additionalItems"`
	} `json:"requirements"`
	ObjectionWindowWorkingDays int  `json:"objectionWindowWorkingDays"`
	PublishScores              bool `json:"publishScores"`
}

func buildVacancy(_ context.Context, src Source) (Built, error) {
	s := src.Selection
	var cfg selectionConfig
	if len(s.Config) > 0 {
		if err := json.Unmarshal(s.Config, &cfg); err != nil {
			return Built{}, fmt.Errorf("selection definition: %w", err)
		}
	}
	title := T("Pengumuman Seleksi Terbuka Jabatan Pimpinan Tinggi Pratama", "Announcement of the Open Selection for a Senior Executive (JPT Pratama) Post")
	c := Content{Title: title}
	if src.Job.Revision > 1 {
		n := strconv.Itoa(src.Job.Revision - 1)
		c.Blocks = append(c.Blocks, P("Pengumuman ini memperpanjang masa pendaftaran (perpanjangan ke-"+n+") dan menggantikan pengumuman sebelumnya.",
			"This announcement extends the application period (extension "+n+") and supersedes the previous announcement."))
	}
	c.Blocks = append(c.Blocks,
		P("Dengan ini diumumkan seleksi terbuka untuk mengisi jabatan pimpinan tinggi pratama berikut. Seleksi dilaksanakan secara terbuka dan kompetitif berdasarkan sistem merit.",
			"An open selection is announced to fill the following senior executive post. The selection is open and competitive, under the merit system."),
		F(append(src.positionFields(), KV("Persetujuan pengawas", "Oversight approval", cfg.OversightApprovalRef))...),
		H("Masa pendaftaran", "Application period"),
		F(KV("Dibuka", "Opens", src.when(cmp.Or(s.Window.OpensWall, s.Window.Opens))),
			KV("Ditutup", "Closes", src.when(cmp.Or(s.Window.ClosesWall, s.Window.Closes))),
			KV("Perpanjangan", "Extensions", strconv.Itoa(s.Window.Extension))),
		H("Persyaratan", "Requirements"),
	)
	r := cfg.Requirements
	var req []Field
	if r.MinEducation != "" {
		ed := src.Catalog.Text(i18n.Msg{Code: "education." + r.MinEducation})
		req = append(req, KV("Pendidikan paling rendah", "Minimum education", ed.ID+" / "+ed.EN))
	}
	if r.MinYearsExperience > 0 {
		req = append(req, KV("Pengalaman jabatan di bidangnya", "Experience in the field",
			fmt.Sprintf("paling singkat %d tahun / at least %d years", r.MinYearsExperience, r.MinYearsExperience)))
	}
	if r.MinYearsAdministratorPost > 0 {
		req = append(req, KV("Jabatan administrator atau fungsional ahli madya", "Administrator or senior functional post",
			fmt.Sprintf("paling singkat %d tahun / at least %d years", r.MinYearsAdministratorPost, r.MinYearsAdministratorPost)))
	}
	if r.MaxAgeYears > 0 {
		req = append(req, KV("Usia", "Age", fmt.Sprintf("paling tinggi %d tahun / at most %d years", r.MaxAgeYears, r.MaxAgeYears)))
	}
	if len(req) > 0 {
		c.Blocks = append(c.Blocks, F(req...))
	}
	if len(r.AdditionalItems) > 0 {
		t := &Table{Columns: []Text{T("No.", "No."), T("Persyaratan lain", "Other requirement"), T("Keterangan", "Details")}, Widths: []float64{1, 5, 7}}
		for i, it := range r.AdditionalItems {
			t.Rows = append(t.Rows, []string{strconv.Itoa(i + 1), it.Title, it.Description})
		}
		c.Blocks = append(c.Blocks, Block{Table: t})
	}
	c.Blocks = append(c.Blocks, H("Dokumen yang diperlukan", "Documents required"))
	docs := &Table{Columns: []Text{T("No.", "No."), T("Dokumen", "Document"), T("Keterangan", "Details")}, Widths: []float64{1, 5, 7},
		Empty: &Text{ID: "Tidak ada dokumen yang diwajibkan.", EN: "No documents are required."}}
	for i, d := range r.RequiredDocuments {
		docs.Rows = append(docs.Rows, []string{strconv.Itoa(i + 1), d.Title, d.Description})
	}
	c.Blocks = append(c.Blocks, Block{Table: docs})
	if src.PublicURL != "" {
		u := src.PublicURL + "/seleksi/" + s.ID
		c.Blocks = append(c.Blocks, P("Pendaftaran dan pengumuman setiap tahap: "+u, "Applications and every stage's announcements: "+u))
	}
	if cfg.ObjectionWindowWorkingDays > 0 {
		n := strconv.Itoa(cfg.ObjectionWindowWorkingDays)
		c.Blocks = append(c.Blocks, P("Hasil setiap tahap diumumkan; peserta dapat mengajukan sanggah dalam "+n+" hari kerja setelah pengumuman.",
			"Every stage's result is announced; candidates may object within "+n+" working days of the announcement."))
	}
	return Built{Content: c}, nil
}

// resultEntries are a published result's lines in the published order: the ranked first by
// rank, then everyone by name.
func resultEntries(r store.StageResult, names map[string]string) []store.ResultEntry {
	es := slices.Clone(r.Entries)
	slices.SortStableFunc(es, func(a, b store.ResultEntry) int {
		if (a.Rank == 0) != (b.Rank == 0) {
			if a.Rank != 0 {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), strings.Compare(names[a.ApplicationID], names[b.ApplicationID]),
			strings.Compare(a.ApplicationID, b.ApplicationID))
	})
	return es
}

func buildResult(ctx context.Context, src Source) (Built, error) {
	st := src.Job.Subject
	r, err := src.Store.GetStageResult(ctx, src.Selection.ID, st, src.Job.Revision)
	if err != nil {
		return Built{}, err
	}
	names, err := src.Store.CandidateNames(ctx, src.Selection.ID)
	if err != nil {
		return Built{}, err
	}
	stage := StageTitle(st)
	c := Content{Title: T("Pengumuman Hasil Tahap "+stage.ID, "Announcement of the Result of the "+stage.EN)}
	if st == stageAnnouncement {
		// The announcement's "result" is who applied by the close.
		c.Title = T("Pengumuman Daftar Pelamar pada Penutupan Pendaftaran", "List of Applicants at the Close of Applications")
	}
	if r.Revision > 1 {
		n := strconv.Itoa(r.Revision)
		c.Blocks = append(c.Blocks, P("Revisi ke-"+n+": pengumuman ini menggantikan revisi sebelumnya.",
			"Revision "+n+": this announcement supersedes the previous revision."),
			F(KV("Alasan revisi", "Reason for the revision", render(src.Catalog, r.RevisionReason, r.RevisionMessage))))
	}
	fields := append(src.positionFields(), KV("Tahap", "Stage", stage.ID+" / "+stage.EN), KV("Revisi", "Revision", strconv.Itoa(r.Revision)),
		KV("Diumumkan", "Published", src.when(r.PublishedAt)))
	if !r.ObjectionDeadline.IsZero() {
		fields = append(fields, KV("Batas sanggah", "Objections until", src.when(r.ObjectionDeadline)))
	}
	c.Blocks = append(c.Blocks, F(fields...))
	pass := 0
	for _, e := range r.Entries {
		if e.Outcome == "OUTCOME_PASS" {
			pass++
		}
	}
	c.Blocks = append(c.Blocks, P(fmt.Sprintf("Panitia seleksi menetapkan hasil tahap ini untuk %d peserta: %d lulus.", len(r.Entries), pass),
		fmt.Sprintf("The selection committee sets this stage's result for %d candidates: %d passed.", len(r.Entries), pass)))
	cols := []Text{T("No.", "No."), T("Nama", "Name"), T("Hasil", "Result")}
	widths := []float64{1, 6, 3}
	if r.ScoresPublished {
		cols = append(cols, T("Nilai", "Score"))
		widths = append(widths, 3)
	}
	cols = append(cols, T("Peringkat", "Rank"), T("Keterangan", "Reason"))
	widths = append(widths, 2, 7)
	t := &Table{Columns: cols, Widths: widths, Empty: &Text{ID: "Tidak ada peserta pada tahap ini.", EN: "No candidates in this stage."}}
	for i, e := range resultEntries(r, names) {
		row := []string{strconv.Itoa(i + 1), names[e.ApplicationID], outcomeText(e.Outcome)}
		if r.ScoresPublished {
			row = append(row, score(e.FinalScore))
		}
		rank := ""
		if e.Rank > 0 {
			rank = strconv.Itoa(e.Rank)
		}
		row = append(row, rank, render(src.Catalog, e.Reason, e.ReasonMessage))
		t.Rows = append(t.Rows, row)
	}
	c.Blocks = append(c.Blocks, Block{Table: t})
	if !r.ObjectionDeadline.IsZero() {
		c.Blocks = append(c.Blocks, P("Peserta yang berkeberatan atas hasil ini dapat mengajukan sanggah sampai "+src.when(r.ObjectionDeadline)+".",
			"Candidates who disagree with this result may object until the deadline above."))
	}
	return Built{Content: c, Stage: st}, nil
}

// allAuditEvents reads a selection's whole audit chain.
func allAuditEvents(ctx context.Context, st *store.Store, selectionID string) ([]store.AuditEvent, error) {
	var out []store.AuditEvent
	token := ""
	for {
		p, err := st.ListAuditEvents(ctx, selectionID, store.ListOptions{PageSize: store.MaxPageSize, PageToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextPageToken == "" {
			return out, nil
		}
		token = p.NextPageToken
	}
}

func memberRole(r string) string {
	switch r {
	case "COMMITTEE_ROLE_CHAIR":
		return "Ketua / Chair"
	case "COMMITTEE_ROLE_SECRETARY":
		return "Sekretaris / Secretary"
	}
	return "Anggota / Member"
}

func memberKind(k string) string {
	if k == "MEMBER_KIND_INTERNAL" {
		return "Internal"
	}
	return "Eksternal / External"
}

func buildMinutes(ctx context.Context, src Source) (Built, error) {
	s := src.Selection
	st := src.Job.Subject
	if st == stageAnnouncement {
		// The announcement closes by the calendar, not by a decision of the committee.
		return Built{}, fmt.Errorf("%w: the announcement closes without a committee decision", ErrNothingToIssue)
	}
	r, err := src.Store.GetStageResult(ctx, s.ID, st, src.Job.Revision)
	if err != nil {
		return Built{}, err
	}
	revs, err := src.Store.ListStageResultRevisions(ctx, s.ID)
	if err != nil {
		return Built{}, err
	}
	// The decision's span: from the publication before this one (of any stage) to this one.
	var since time.Time
	for _, o := range revs {
		if o.PublishedAt.Before(r.PublishedAt) && o.PublishedAt.After(since) {
			since = o.PublishedAt
		}
	}
	events, err := allAuditEvents(ctx, src.Store, s.ID)
	if err != nil {
		return Built{}, err
	}
	var actors []string
	var first, last int64
	for _, e := range events {
		if !e.WorkflowTime.After(since) || e.WorkflowTime.After(r.PublishedAt) {
			continue
		}
		if first == 0 {
			first = e.Seq
		}
		last = e.Seq
		if e.Role == roleCommittee {
			actors = append(actors, e.ActorSubject)
		}
	}
	subjects, err := src.Store.ActorSubjects(ctx, actors)
	if err != nil {
		return Built{}, err
	}
	took := map[string]bool{}
	for _, a := range actors {
		took[cmp.Or(subjects[a], a)] = true
	}
	recusals := map[string]int{}
	for _, cf := range s.Conflicts {
		recusals[cf.MemberID]++
	}
	stage := StageTitle(st)
	c := Content{Title: T("Berita Acara Keputusan Panitia Seleksi: "+stage.ID, "Minutes of the Selection Committee's Decision: "+stage.EN)}
	fields := append(src.positionFields(), KV("Tahap", "Stage", stage.ID+" / "+stage.EN), KV("Revisi hasil", "Result revision", strconv.Itoa(r.Revision)),
		KV("Waktu keputusan", "Decided", src.when(r.PublishedAt)))
	c.Blocks = append(c.Blocks, F(fields...))
	pass := 0
	for _, e := range r.Entries {
		if e.Outcome == "OUTCOME_PASS" {
			pass++
		}
	}
	if st == stageDecision {
		names, err := src.Store.CandidateNames(ctx, s.ID)
		if err != nil {
			return Built{}, err
		}
		var ranked []string
		for _, e := range resultEntries(r, names) {
			if e.Rank > 0 {
				ranked = append(ranked, fmt.Sprintf("%d. %s", e.Rank, names[e.ApplicationID]))
			}
		}
		c.Blocks = append(c.Blocks, P("Panitia seleksi memutuskan nama-nama yang diusulkan kepada Pejabat Pembina Kepegawaian menurut peringkat: "+strings.Join(ranked, "; ")+".",
			"The selection committee decided the names proposed to the appointing official (PPK), by rank, as listed."))
	} else {
		c.Blocks = append(c.Blocks, P(fmt.Sprintf("Panitia seleksi menutup tahap ini dan menetapkan serta mengumumkan hasilnya: %d dari %d peserta lulus. Hasil lengkap ada dalam pengumuman hasil tahap revisi %d.", pass, len(r.Entries), r.Revision),
			fmt.Sprintf("The selection committee closed this stage and set and published its result: %d of %d candidates passed. The full result is in the stage result announcement, revision %d.", pass, len(r.Entries), r.Revision)))
	}
	c.Blocks = append(c.Blocks, H("Susunan panitia dan keikutsertaan", "Committee and participation"))
	t := &Table{Columns: []Text{T("No.", "No."), T("Nama", "Name"), T("Kedudukan", "Role"), T("Ikut serta", "Took part"), T("Konflik", "Conflicts")},
		Widths: []float64{1.2, 6, 4, 2.6, 4}}
	for i, m := range s.Committee {
		part := "Tidak / No"
		if took[m.MemberID] {
			part = "Ya / Yes"
		}
		conflicts := "-"
		if n := recusals[m.MemberID]; n > 0 {
			conflicts = fmt.Sprintf("%d (tidak menilai / recused)", n)
		}
		name := m.DisplayName
		if m.Affiliation != "" {
			name += " (" + m.Affiliation + ")"
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(i + 1), name, memberRole(m.Role) + "\n" + memberKind(m.Kind), part, conflicts})
	}
	c.Blocks = append(c.Blocks, Block{Table: t}, P("Kolom konflik: jumlah peserta yang dinyatakan anggota memiliki konflik kepentingan dengannya; anggota tidak menilai peserta tersebut.",
		"Conflicts column: how many candidates the member declared a conflict of interest with; the member did not score them."))
	span := "-"
	if first > 0 {
		span = fmt.Sprintf("%d–%d", first, last)
	}
	c.Blocks = append(c.Blocks, P("Keikutsertaan disimpulkan dari jejak audit seleksi: anggota yang mencatat sedikitnya satu tindakan sejak pengumuman hasil sebelumnya sampai keputusan ini (peristiwa audit nomor "+span+") dinyatakan ikut serta. Konflik kepentingan sesuai pernyataan anggota; anggota yang menyatakan konflik tidak menilai peserta yang bersangkutan.",
		"Participation is derived from the selection's audit log: a member who recorded at least one action between the previous result's publication and this decision (audit events "+span+") is shown as taking part. Conflicts are as members declared them; a member who declared a conflict did not score that candidate."))
	return Built{Content: c, Stage: st}, nil
}

func lastEvent(events []store.AuditEvent, action string) (store.AuditEvent, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Action == action {
			return events[i], true
		}
	}
	return store.AuditEvent{}, false
}

func buildRecommendation(ctx context.Context, src Source) (Built, error) {
	s := src.Selection
	r, err := src.Store.GetStageResult(ctx, s.ID, stageDecision, 0)
	if err != nil {
		return Built{}, err
	}
	names, err := src.Store.CandidateNames(ctx, s.ID)
	if err != nil {
		return Built{}, err
	}
	events, err := allAuditEvents(ctx, src.Store, s.ID)
	if err != nil {
		return Built{}, err
	}
	var ranked []store.ResultEntry
	for _, e := range resultEntries(r, names) {
		if e.Rank > 0 {
			ranked = append(ranked, e)
		}
	}
	if len(ranked) == 0 {
		return Built{}, fmt.Errorf("%w: the committee proposed no names", ErrNothingToIssue)
	}
	c := Content{Title: T("Rekomendasi Panitia Seleksi kepada Pejabat Pembina Kepegawaian", "The Selection Committee's Recommendation to the Appointing Official (PPK)")}
	fields := src.positionFields()
	if ev, ok := lastEvent(events, actionShortlisted); ok {
		fields = append(fields, KV("Daftar usulan final", "Shortlist final", src.when(ev.WorkflowTime)))
	}
	c.Blocks = append(c.Blocks, F(fields...),
		P(fmt.Sprintf("Kepada Yth. Pejabat Pembina Kepegawaian %s. Setelah seluruh tahap seleksi dan masa sanggah berakhir, panitia seleksi mengusulkan %d nama berikut menurut peringkat. Peringkat tidak mengikat pilihan Pejabat Pembina Kepegawaian.", s.Agency, len(ranked)),
			fmt.Sprintf("To the appointing official (PPK) of %s. All stages and objection windows having ended, the selection committee proposes the following %d names by rank. The rank does not bind the PPK's choice.", s.Agency, len(ranked))))
	cols := []Text{T("Peringkat", "Rank"), T("Nama", "Name")}
	widths := []float64{3, 6}
	if r.ScoresPublished {
		cols = append(cols, T("Nilai akhir", "Final score"))
		widths = append(widths, 3)
	}
	cols = append(cols, T("Alasan", "Reasons"))
	widths = append(widths, 8)
	t := &Table{Columns: cols, Widths: widths}
	for _, e := range ranked {
		row := []string{strconv.Itoa(e.Rank), names[e.ApplicationID]}
		if r.ScoresPublished {
			parts := []string{score(e.FinalScore)}
			for _, sc := range e.Scores {
				comp := src.Catalog.Text(i18n.Msg{Code: "component." + sc.Component})
				parts = append(parts, comp.ID+": "+score(sc.Score))
			}
			row = append(row, strings.Join(parts, "\n"))
		}
		row = append(row, render(src.Catalog, e.Reason, e.ReasonMessage))
		t.Rows = append(t.Rows, row)
	}
	c.Blocks = append(c.Blocks, Block{Table: t})
	if !r.ScoresPublished {
		c.Blocks = append(c.Blocks, P("Seleksi ini tidak mengumumkan nilai; nilai disampaikan kepada Pejabat Pembina Kepegawaian dalam rekapitulasi nilai.",
			"This selection does not publish scores; the scores reach the PPK in the score recap."))
	}
	if ev, ok := lastEvent(events, actionDecide); ok && strings.TrimSpace(ev.Reason) != "" {
		c.Blocks = append(c.Blocks, H("Pernyataan panitia", "The committee's statement"), P(ev.Reason, ""))
	}
	return Built{Content: c, Stage: stageDecision}, nil
}

// appointArgs is what the appointment's audit event records of the PPK's command.
type appointArgs struct {
	ApplicationID string `json:"applicationId"`
	Reason        string `json:"reason"`
	Justification string `json:"justification"`
}

func buildAppointment(ctx context.Context, src Source) (Built, error) {
	s := src.Selection
	if s.AppointedApplication == "" {
		return Built{}, fmt.Errorf("%w: no appointment is recorded", ErrNothingToIssue)
	}
	names, err := src.Store.CandidateNames(ctx, s.ID)
	if err != nil {
		return Built{}, err
	}
	app, err := src.Store.GetApplication(ctx, s.ID, s.AppointedApplication)
	if err != nil {
		return Built{}, err
	}
	rank := app.Rank
	if r, err := src.Store.GetStageResult(ctx, s.ID, stageDecision, 0); err == nil {
		for _, e := range r.Entries {
			if e.ApplicationID == app.ID && e.Rank > 0 {
				rank = e.Rank
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return Built{}, err
	}
	events, err := allAuditEvents(ctx, src.Store, s.ID)
	if err != nil {
		return Built{}, err
	}
	var args appointArgs
	var at time.Time
	if ev, ok := lastEvent(events, actionAppoint); ok {
		at = ev.WorkflowTime
		var payload struct {
			appointArgs
			Args *appointArgs `json:"args"`
		}
		if err := json.Unmarshal(ev.Payload, &payload); err == nil {
			args = payload.appointArgs
			if payload.Args != nil {
				args = *payload.Args
			}
		}
		if args.Reason == "" {
			args.Reason = ev.Reason
		}
	}
	justification := cmp.Or(strings.TrimSpace(args.Justification), strings.TrimSpace(args.Reason))
	c := Content{Title: T("Berita Acara Pengangkatan dalam Jabatan Pimpinan Tinggi Pratama", "Record of Appointment to a Senior Executive (JPT Pratama) Post")}
	fields := append(src.positionFields(),
		KV("Calon yang dipilih", "Candidate chosen", names[app.ID]),
		KV("Peringkat usulan panitia", "Committee's rank", strconv.Itoa(rank)),
		KV("Keputusan PPK", "PPK's decree", s.PPKDecreeRef),
		KV("Rekomendasi pengawas", "Oversight recommendation", s.OversightRecommendationRef))
	if !at.IsZero() {
		fields = append(fields, KV("Dicatat", "Recorded", src.when(at)))
	}
	c.Blocks = append(c.Blocks, F(fields...),
		P("Pejabat Pembina Kepegawaian memilih satu dari tiga nama yang diusulkan panitia seleksi dan menetapkan pengangkatannya dengan keputusan tersebut di atas, setelah rekomendasi Badan Kepegawaian Negara selaku pengawas sistem merit.",
			"The appointing official (PPK) chose one of the three names the selection committee proposed and appointed them by the decree above, after the recommendation of the National Civil Service Agency (BKN) as overseer of the merit system."))
	if rank > 1 {
		c.Blocks = append(c.Blocks, H("Alasan tertulis pemilihan peringkat "+strconv.Itoa(rank), "Written justification of choosing rank "+strconv.Itoa(rank)))
		if justification != "" {
			c.Blocks = append(c.Blocks, P(justification, ""))
		} else {
			c.Blocks = append(c.Blocks, P("Tidak ada alasan tertulis yang tercatat.", "No written justification was recorded."))
		}
	}
	return Built{Content: c, Stage: stageDecision}, nil
}
