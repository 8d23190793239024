package i18n_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/documents/scan"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/workflows"
)

func msgOf(m workflows.Message) i18n.Msg {
	out := i18n.Msg{Code: m.Code, EN: m.EN, ID: m.ID}
	if len(m.Params) > 0 {
		out.Params = m.Params.Map()
	}
	if m.Detail != nil {
		d := msgOf(*m.Detail)
		out.Detail = &d
	}
	return out
}

// allCodes is every message code Seleksi renders, with example parameters: the workflow's,
// the upload checks' rejections, and the accounts' notices and form errors.
func allCodes() []i18n.Msg {
	var out []i18n.Msg
	for _, m := range workflows.Codes() {
		out = append(out, msgOf(m))
	}
	out = append(out, scan.Codes()...)
	return append(out, accounts.Codes()...)
}

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogRendersEveryCode: every code the workflow can emit has an Indonesian and an
// English template, and each renders with the parameters the workflow passes.
func TestCatalogRendersEveryCode(t *testing.T) {
	c := catalog(t)
	seen := map[string]bool{}
	for _, m := range allCodes() {
		// A code may be listed with several sets of parameters (every field name, say).
		key := fmt.Sprint(m.Code, m.Params)
		if seen[key] {
			t.Errorf("%s listed twice with the same parameters", m.Code)
		}
		seen[key] = true
		texts := map[i18n.Lang]string{}
		for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
			s, err := c.RenderStrict(m, l)
			if err != nil {
				t.Errorf("%s: %v", m.Code, err)
				continue
			}
			if strings.TrimSpace(s) == "" || strings.Contains(s, "{{") || strings.Contains(s, "STAGE_") {
				t.Errorf("%s in %s renders %q", m.Code, l, s)
			}
			texts[l] = s
		}
		if texts[i18n.ID] == texts[i18n.EN] {
			t.Errorf("%s renders the same in both languages: %q", m.Code, texts[i18n.ID])
		}
	}
}

// englishWords are common English words that have no business in an Indonesian sentence.
var englishWords = []string{"the", "is", "are", "and", "of", "not", "was", "were", "you", "your", "application", "subject", "admin",
	"found", "below", "above", "selection", "score", "stage", "objection", "until", "passed", "failed", "reason",
	"received", "assessment", "center", "committee", "interview", "test", "with", "for", "to", "by", "on", "at"}

// TestIndonesianHasNoEnglish renders every code in Indonesian and looks for English words,
// and reads the Indonesian catalog itself (the names the functions use included).
func TestIndonesianHasNoEnglish(t *testing.T) {
	c := catalog(t)
	word := regexp.MustCompile(`\pL+`)
	check := func(what, s string) {
		for _, w := range word.FindAllString(strings.ToLower(s), -1) {
			for _, e := range englishWords {
				if w == e {
					t.Errorf("%s: English word %q in %q", what, w, s)
				}
			}
		}
	}
	for _, m := range allCodes() {
		s, err := c.RenderStrict(m, i18n.ID)
		if err != nil {
			t.Fatal(err)
		}
		check(m.Code, s)
	}
	raw, err := os.ReadFile("messages/id.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if _, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
			// Template actions hold parameter and function names, not words for people.
			check(line, regexp.MustCompile(`\{\{[^}]*\}\}`).ReplaceAllString(v, " "))
		}
	}
}

func TestRenderFormats(t *testing.T) {
	c := catalog(t)
	tests := []struct {
		m      i18n.Msg
		id, en string
	}{
		{i18n.Msg{Code: workflows.CodeReasonCompetencyBelowMark, Params: map[string]string{"score": "6850", "mark": "7000"}},
			"nilai uji kompetensi 68,50 di bawah nilai ambang 70,00", "competency test score 68.50 is below the pass mark 70.00"},
		// A window ends at midnight local time (17:00 UTC in WIB): the last minute inside it.
		{i18n.Msg{Code: workflows.CodeEventPublished, Params: map[string]string{"stage": string(workflows.StageAdministrativeScreening),
			"deadline": "2026-07-15T17:00:00Z", "zone": "WIB"}},
			"Hasil seleksi administrasi diumumkan; sanggah dapat diajukan sampai 15 Juli 2026 pukul 23.59 WIB.",
			"The result of administrative screening is published; objections may be filed until 23:59 WIB on 15 July 2026."},
		{i18n.Msg{Code: workflows.CodeEventOpened, Params: map[string]string{"until": "2026-06-19", "zone": "WIB"}},
			"Pengumuman dibuka sampai akhir 19 Juni 2026 (WIB).", "The announcement is open until the end of 19 June 2026 (WIB)."},
		{i18n.Msg{Code: workflows.CodeStatusEliminated, Params: map[string]string{"stage": string(workflows.StageCompetencyTest), "reason": ""},
			Detail: &i18n.Msg{Code: workflows.CodeReasonCompetencyDoesNotMeet}},
			"Anda tidak lulus tahap uji kompetensi. Alasan: hasil penilaian kompetensi: kompetensi belum memenuhi standar.",
			"You did not pass the competency test. Reason: the assessment center found the competency does not meet the standard."},
		// A scheduled opening is an instant, shown in the agency's local time.
		{i18n.Msg{Code: workflows.CodeEventScheduled, Params: map[string]string{"opens": "2026-08-03T01:00:00Z", "zone": "WIB"}},
			"Pengumuman akan dibuka pada 3 Agustus 2026 pukul 08.00 WIB.", "The announcement will open at 08:00 WIB on 3 August 2026."},
		{i18n.Msg{Code: workflows.CodeEventCorrected, Params: map[string]string{"stage": string(workflows.StageAdministrativeScreening),
			"revision": "2", "reason": "usia dihitung dari tahun lahir yang salah", "deadline": "2026-07-20T17:00:00Z", "zone": "WIB"}},
			"Ketua panitia seleksi memperbaiki hasil seleksi administrasi (revisi 2): usia dihitung dari tahun lahir yang salah. Sanggah dapat diajukan sampai 20 Juli 2026 pukul 23.59 WIB.",
			"The committee chair corrected the result of administrative screening (revision 2): usia dihitung dari tahun lahir yang salah. Objections may be filed until 23:59 WIB on 20 July 2026."},
		// Sizes in bytes read as people write them, with each language's decimal separator.
		{i18n.Msg{Code: scan.CodeTooLarge, Params: map[string]string{"size": "5033165", "max": "5242880"}},
			"ukuran berkas 4,8 MiB melebihi batas 5 MiB; perkecil ukurannya (misalnya pindai ulang dengan resolusi lebih rendah atau kompres PDF-nya), lalu unggah ulang",
			"the file is 4.8 MiB, more than the limit of 5 MiB; make it smaller (scan it again at a lower resolution, or compress the PDF) and upload it again"},
		{i18n.Msg{Code: scan.CodeTooLarge, Params: map[string]string{"size": "1536", "max": "1024"}},
			"ukuran berkas 1,5 KiB melebihi batas 1 KiB; perkecil ukurannya (misalnya pindai ulang dengan resolusi lebih rendah atau kompres PDF-nya), lalu unggah ulang",
			"the file is 1.5 KiB, more than the limit of 1 KiB; make it smaller (scan it again at a lower resolution, or compress the PDF) and upload it again"},
		// A record from before message codes shows the texts it carries.
		{i18n.Msg{Code: "Education", EN: "education below the required level (S1/D-IV)", ID: "pendidikan di bawah jenjang yang disyaratkan (S1/D-IV)"},
			"pendidikan di bawah jenjang yang disyaratkan (S1/D-IV)", "education below the required level (S1/D-IV)"},
		// An unknown code with no texts shows the code rather than nothing.
		{i18n.Msg{Code: "no.such.code"}, "no.such.code", "no.such.code"},
	}
	for _, tt := range tests {
		if got := c.Text(tt.m); got.ID != tt.id || got.EN != tt.en {
			t.Errorf("%s:\n got %q / %q\nwant %q / %q", tt.m.Code, got.ID, got.EN, tt.id, tt.en)
		}
	}
}

// TestWordingChange: a catalog with an edited template renders the new wording for the same
// recorded code and parameters; nothing recorded needs to change.
func TestWordingChange(t *testing.T) {
	id, err := os.ReadFile("messages/id.yaml")
	if err != nil {
		t.Fatal(err)
	}
	en, err := os.ReadFile("messages/en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(id), `status.withdrawn: "Anda telah menarik lamaran."`,
		`status.withdrawn: "Lamaran Anda telah ditarik atas permintaan Anda."`, 1)
	if edited == string(id) {
		t.Fatal("the template to edit was not found")
	}
	c, err := i18n.ParseCatalog(map[i18n.Lang][]byte{i18n.ID: []byte(edited), i18n.EN: en})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Render(i18n.Msg{Code: workflows.CodeStatusWithdrawn}, i18n.ID); got != "Lamaran Anda telah ditarik atas permintaan Anda." {
		t.Errorf("edited catalog renders %q", got)
	}
}
