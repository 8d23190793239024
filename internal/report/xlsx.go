package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Labels of the recap, Indonesian first: a workbook is read by people of both languages and
// has no language switch.
var (
	lblRecapTitle  = i18n.Text{ID: "Rekapitulasi nilai", EN: "Score recap"}
	lblSelection   = i18n.Text{ID: "Seleksi", EN: "Selection"}
	lblStage       = i18n.Text{ID: "Tahap", EN: "Stage"}
	lblRevision    = i18n.Text{ID: "Revisi hasil", EN: "Result revision"}
	lblUnpublished = i18n.Text{ID: "belum diumumkan", EN: "not published"}
	lblGenerated   = i18n.Text{ID: "Dibuat", EN: "Generated"}
	lblConfidental = i18n.Text{ID: "Memuat nilai yang belum diumumkan; untuk panitia, sekretariat, dan auditor.",
		EN: "Contains unpublished scores; for the committee, the secretariat and auditors."}
	lblNo          = i18n.Text{ID: "No.", EN: "No."}
	lblApplication = i18n.Text{ID: "Lamaran", EN: "Application"}
	lblCandidate   = i18n.Text{ID: "Nama calon", EN: "Candidate"}
	lblCategory    = i18n.Text{ID: "Kategori", EN: "Category"}
	lblInterviewBy = i18n.Text{ID: "Wawancara", EN: "Interview"}
	lblFinal       = i18n.Text{ID: "Nilai akhir tahap", EN: "Stage score"}
	lblOutcome     = i18n.Text{ID: "Hasil", EN: "Outcome"}
	lblRank        = i18n.Text{ID: "Peringkat", EN: "Rank"}
	lblRecused     = i18n.Text{ID: "dikecualikan (konflik kepentingan)", EN: "recused (conflict of interest)"}
)

// OutcomeLabel names a published outcome.
func OutcomeLabel(outcome string) i18n.Text {
	switch outcome {
	case "OUTCOME_PASS":
		return i18n.Text{ID: "lulus", EN: "passed"}
	case "OUTCOME_FAIL":
		return i18n.Text{ID: "tidak lulus", EN: "not passed"}
	case "":
		return i18n.Text{}
	}
	return i18n.Text{ID: outcome, EN: outcome}
}

// CategoryLabel names an assessment-center category.
func CategoryLabel(category string) i18n.Text {
	switch category {
	case "COMPETENCY_CATEGORY_MEETS":
		return i18n.Text{ID: "memenuhi syarat", EN: "meets"}
	case "COMPETENCY_CATEGORY_STILL_MEETS":
		return i18n.Text{ID: "masih memenuhi syarat", EN: "still meets"}
	case "COMPETENCY_CATEGORY_DOES_NOT_MEET":
		return i18n.Text{ID: "belum memenuhi syarat", EN: "does not meet"}
	case "":
		return i18n.Text{}
	}
	return i18n.Text{ID: category, EN: category}
}

func both(t i18n.Text) string {
	if t.ID == "" && t.EN == "" {
		return ""
	}
	return t.Both()
}

// RecapHeaders are the column headers of a recap, in both languages.
func RecapHeaders(cat *i18n.Catalog, r Recap) []string {
	h := []string{both(lblNo), both(lblApplication), both(lblCandidate)}
	for _, c := range r.Components {
		h = append(h, both(cat.Text(i18n.Msg{Code: "component." + c})))
	}
	if r.Stage == "STAGE_COMPETENCY_TEST" {
		h = append(h, both(lblCategory))
	}
	for _, m := range r.Members {
		h = append(h, both(lblInterviewBy)+": "+m.DisplayName)
	}
	return append(h, both(lblFinal), both(lblOutcome), both(lblRank))
}

// WriteXLSX writes the recap as an XLSX workbook with one sheet: a header naming the
// selection, the stage, the result revision and the time, then one row per application.
// Scores are numbers with two decimals, so that the sheet can be summed and sorted.
func WriteXLSX(w io.Writer, cat *i18n.Catalog, r Recap) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	const sheet = "Rekap"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	revision := both(lblUnpublished)
	if r.Revision > 0 {
		revision = strconv.Itoa(r.Revision)
	}
	head := [][]any{
		{both(lblRecapTitle)},
		{both(lblSelection), r.SelectionID, r.PositionTitle, r.Agency},
		{both(lblStage), both(cat.Text(i18n.Msg{Code: "stage." + r.Stage}))},
		{both(lblRevision), revision},
		{both(lblGenerated), r.GenerateTime.UTC().Format("2006-01-02 15:04:05 UTC")},
		{both(lblConfidental)},
	}
	for i, row := range head {
		if err := f.SetSheetRow(sheet, cellName(1, i+1), &row); err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
	}
	const first = 8
	headers := RecapHeaders(cat, r)
	hrow := make([]any, len(headers))
	for i, h := range headers {
		hrow[i] = h
	}
	if err := f.SetSheetRow(sheet, cellName(1, first), &hrow); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	if err := f.SetCellStyle(sheet, cellName(1, first), cellName(len(headers), first), bold); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	if err := f.SetCellStyle(sheet, "A1", "A1", bold); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	num, err := f.NewStyle(&excelize.Style{NumFmt: 2}) // 0.00
	if err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	for i, row := range r.Rows {
		line := RecapLine(cat, r, i, row)
		if err := f.SetSheetRow(sheet, cellName(1, first+1+i), &line); err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
		for j, v := range line {
			if _, ok := v.(float64); ok {
				if err := f.SetCellStyle(sheet, cellName(j+1, first+1+i), cellName(j+1, first+1+i), num); err != nil {
					return fmt.Errorf("report: xlsx: %w", err)
				}
			}
		}
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: first, TopLeftCell: cellName(1, first+1), ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	return nil
}

// RecapLine is row i of the recap as cell values: float64 scores (points), strings, ints.
func RecapLine(cat *i18n.Catalog, r Recap, i int, row RecapRow) []any {
	line := []any{i + 1, row.ApplicationID, row.Candidate}
	for _, c := range row.Scores {
		line = append(line, cellValue(c))
	}
	if r.Stage == "STAGE_COMPETENCY_TEST" {
		line = append(line, both(CategoryLabel(row.Category)))
	}
	for _, c := range row.Members {
		line = append(line, cellValue(c))
	}
	line = append(line, cellValue(row.Final), both(OutcomeLabel(row.Outcome)))
	if row.Rank > 0 {
		line = append(line, row.Rank)
	} else {
		line = append(line, "")
	}
	return line
}

func cellValue(c Cell) any {
	switch {
	case c.Recused:
		return both(lblRecused)
	case !c.Set:
		return ""
	}
	return float64(c.Score) / 100
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}
