package official

import (
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/report"
	"github.com/bkpsdm/seleksi/internal/store"
)

// TestScoreRecapContent: the recap PDF has the workbook's columns and lines: each member's
// interview score with the Indonesian decimal comma, a recusal where a member declared a
// conflict, the stage score, outcome and rank, and the zone's clock.
func TestScoreRecapContent(t *testing.T) {
	cat := NewIssuer(nil, nil, nil, Options{}).opts.Catalog
	r := report.Recap{SelectionID: "kadis-2026", PositionTitle: "Kepala Dinas Pendidikan", Agency: "Pemerintah Kabupaten Contoh",
		Stage: "STAGE_INTERVIEW", Revision: 1, GenerateTime: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC),
		Components: []string{"SCORE_COMPONENT_INTERVIEW"},
		Members:    []store.CommitteeMember{{MemberID: "m-1", DisplayName: "Prof. Dr. Ketut Suardana"}, {MemberID: "m-2", DisplayName: "Dr. Siti Aisyah"}},
		Rows: []report.RecapRow{
			{ApplicationID: "app-1", Candidate: "Ni Luh Putu Ayu Ariani", Scores: []report.Cell{{Score: 8325, Set: true}},
				Members: []report.Cell{{Score: 8000, Set: true}, {Score: 8650, Set: true}}, Final: report.Cell{Score: 8325, Set: true}, Outcome: "OUTCOME_PASS", Rank: 1},
			{ApplicationID: "app-2", Candidate: "Yohanes Bosco Tefa", Scores: []report.Cell{{Score: 7010, Set: true}},
				Members: []report.Cell{{Score: 7010, Set: true}, {Recused: true}}, Final: report.Cell{Score: 7010, Set: true}, Outcome: "OUTCOME_FAIL"},
		}}
	pdf, err := Render(Meta{Issuer: r.Agency, IssuerUnit: DefaultIssuerUnit, Number: "REKAP/kadis-2026/interview", Issued: r.GenerateTime,
		Location: ZoneLocation("TIME_ZONE_WITA")}, ScoreRecapContent(cat, r, "TIME_ZONE_WITA"))
	if err != nil {
		t.Fatal(err)
	}
	pdfPages(t, pdf, "score-recap", false)
	text := strings.Join(strings.Fields(pdfText(t, pdf)), " ")
	for _, p := range []string{"Rekapitulasi Nilai Tahap Wawancara akhir", "Score Recap of the Final interview", "Ni Luh Putu Ayu Ariani",
		"Suardana", "Aisyah", "83,25 80,00 86,50 83,25", "70,10 70,10 konflik recused 70,10", "karena konflik kepentingan", "lulus", "tidak lulus", "11.00 WITA",
		"Memuat nilai yang belum diumumkan", "bukan dokumen resmi yang terdaftar"} {
		if !strings.Contains(text, p) {
			t.Errorf("the recap lacks %q:\n%s", p, text)
		}
	}
}
