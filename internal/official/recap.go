package official

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/report"
)

// ScoreRecapContent lays a stage's score recap out with the official layout, beside the
// XLSX workbook: the same header, columns and lines (report.RecapHeaders, report.RecapLine),
// with scores written the Indonesian way (83,25). It shows unpublished scores, so it says who
// it is for.
func ScoreRecapContent(cat *i18n.Catalog, r report.Recap, zone string) Content {
	stage := StageTitle(r.Stage)
	revision := "belum diumumkan / not published"
	if r.Revision > 0 {
		revision = strconv.Itoa(r.Revision)
	}
	c := Content{Title: T("Rekapitulasi Nilai Tahap "+stage.ID, "Score Recap of the "+stage.EN)}
	c.Blocks = append(c.Blocks,
		F(KV("Jabatan", "Position", r.PositionTitle), KV("Instansi", "Agency", r.Agency), KV("Kode seleksi", "Selection", r.SelectionID),
			KV("Tahap", "Stage", stage.ID+" / "+stage.EN), KV("Revisi hasil", "Result revision", revision),
			KV("Dibuat", "Generated", FormatDate(r.GenerateTime.In(ZoneLocation(zone))))),
		P("Memuat nilai yang belum diumumkan; untuk panitia, sekretariat, dan auditor.",
			"Contains unpublished scores; for the committee, the secretariat and auditors."),
	)
	// The application ID column of the workbook is left out: a page has no room for it, and
	// the names identify the candidates to the readers. A member's interview column is
	// headed by the member's name alone.
	t := &Table{Empty: &Text{ID: "Belum ada nilai pada tahap ini.", EN: "No scores in this stage yet."}}
	headers := report.RecapHeaders(cat, r)
	memberCol := len(headers) - 3 - len(r.Members)
	for i, h := range headers {
		if i == 1 {
			continue
		}
		id, en, _ := strings.Cut(h, " / ")
		if i >= memberCol && i < memberCol+len(r.Members) {
			id, en = r.Members[i-memberCol].DisplayName, ""
		}
		t.Columns = append(t.Columns, T(id, en))
		switch i {
		case 0:
			t.Widths = append(t.Widths, 1.2)
		case 2:
			t.Widths = append(t.Widths, 4.5)
		default:
			t.Widths = append(t.Widths, 2.6)
		}
	}
	for i, row := range r.Rows {
		var cells []string
		for j, v := range report.RecapLine(cat, r, i, row) {
			if j == 1 {
				continue
			}
			switch v := v.(type) {
			case float64:
				cells = append(cells, score(int64(v*100+0.5)))
			case string:
				if strings.HasPrefix(v, "dikecualikan") {
					// The workbook's long recusal label does not fit a score column.
					v = "konflik / recused"
				}
				cells = append(cells, strings.Replace(v, " / ", "\n", 1))
			default:
				cells = append(cells, fmt.Sprint(v))
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	if len(r.Members) > 0 {
		c.Blocks = append(c.Blocks, P("Kolom bernama anggota panitia memuat nilai wawancara yang diberikan anggota tersebut; \"konflik\": anggota dikecualikan dari menilai calon itu karena konflik kepentingan.",
			"A column headed by a committee member's name holds the interview score that member gave; \"recused\": the member did not score that candidate for a conflict of interest."))
	}
	c.Blocks = append(c.Blocks, Block{Table: t})
	return c
}
