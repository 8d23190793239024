package audit

import (
	"strings"
	"testing"
)

// TestCompareProjectionRows: whole rows missing or unaccounted for, and a column the store
// serves that the rebuild does not know, are findings naming the table, row and column;
// columns the history has not determined are not compared.
func TestCompareProjectionRows(t *testing.T) {
	expected := func() []ProjectionRow {
		return []ProjectionRow{
			{Table: tableSelections, Key: "s1", Columns: map[string]string{"stage": string("STAGE_INTERVIEW"), "window_opens": notDetermined}},
			{Table: tableApplications, Key: "a1", Columns: map[string]string{"state": "APPLICATION_STATE_IN_PROGRESS"}},
			{Table: tableObjections, Key: "o1", Columns: map[string]string{"answer": "ditolak"}},
		}
	}
	stored := func() []ProjectionRow {
		return []ProjectionRow{
			{Table: tableSelections, Key: "s1", Columns: map[string]string{"stage": "STAGE_INTERVIEW", "window_opens": "2026-12-01T00:00:00.000000Z"}},
			{Table: tableApplications, Key: "a1", Columns: map[string]string{"state": "APPLICATION_STATE_IN_PROGRESS"}},
			// Withdrawn before any close: the store's alone.
			{Table: tableApplications, Key: "a0", Columns: map[string]string{"state": "APPLICATION_STATE_WITHDRAWN", "eliminated_stage": "STAGE_ANNOUNCEMENT"}},
			{Table: tableObjections, Key: "o1", Columns: map[string]string{"answer": "ditolak"}},
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func([]ProjectionRow) []ProjectionRow
		table string
		row   string
		col   string
		text  string
	}{
		{name: "agrees", edit: func(r []ProjectionRow) []ProjectionRow { return r }},
		{"row deleted", func(r []ProjectionRow) []ProjectionRow { return append(r[:3:3], r[4:]...) }, tableObjections, "o1", "", "does not have it"},
		{"row inserted", func(r []ProjectionRow) []ProjectionRow {
			return append(r, ProjectionRow{Table: tableStageResults, Key: "STAGE_INTERVIEW/2", Columns: map[string]string{}})
		}, tableStageResults, "STAGE_INTERVIEW/2", "", "does not account for it"},
		{"a column the verifier does not know", func(r []ProjectionRow) []ProjectionRow {
			r[1].Columns["category"] = "COMPETENCY_CATEGORY_MEETS"
			return r
		}, tableApplications, "a1", "category", "does not rebuild it"},
		{"a value changed", func(r []ProjectionRow) []ProjectionRow {
			r[3].Columns["answer"] = "diterima"
			return r
		}, tableObjections, "o1", "answer", `the history gives "ditolak", the store has "diterima"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := CompareProjection(expected(), tc.edit(stored()))
			if tc.table == "" {
				if len(fs) > 0 {
					t.Fatalf("findings:\n%s", findingLines(fs))
				}
				return
			}
			if len(fs) != 1 || fs[0].Kind != KindProjectionMismatch || fs[0].Table != tc.table || fs[0].Row != tc.row || fs[0].Column != tc.col ||
				!strings.Contains(fs[0].Message, tc.text) {
				t.Fatalf("want one finding on %s %s %q saying %q, got:\n%s", tc.table, tc.row, tc.col, tc.text, findingLines(fs))
			}
		})
	}
}
