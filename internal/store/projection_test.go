package store

import (
	"errors"
	"slices"
	"testing"

	"gorm.io/gorm"
)

// TestProjectedColumnsClassified: every column of every table is either compared with the
// history (ProjectedTables) or named in notProjected with the reason it is not, so a column
// added to a row type cannot be left out of verification without anyone deciding it.
func TestProjectedColumnsClassified(t *testing.T) {
	s := sqliteFactory(t, false)
	projected := map[string]ProjectedTable{}
	for _, pt := range ProjectedTables() {
		projected[pt.Table] = pt
	}
	skip := notProjected()
	for table, row := range rowTypes() {
		stmt := &gorm.Statement{DB: s.db}
		if err := stmt.Parse(row); err != nil {
			t.Fatal(err)
		}
		if stmt.Schema.Table != table {
			t.Errorf("row type %T maps to table %s, listed as %s", row, stmt.Schema.Table, table)
		}
		reasons, listed := skip[table]
		pt, isProjected := projected[table]
		if !listed && !isProjected {
			t.Errorf("table %s is neither projected nor listed as not projected", table)
			continue
		}
		if reasons == nil && !isProjected {
			continue // the whole table is out, with its reason
		}
		for _, col := range stmt.Schema.DBNames {
			in := slices.Contains(pt.Columns, col) || slices.Contains(pt.Key, col)
			_, out := reasons[col]
			switch {
			case in && out:
				t.Errorf("%s.%s is both projected and not projected", table, col)
			case !in && !out:
				t.Errorf("%s.%s is new: add it to ProjectedTables (and rebuild it from the history in internal/audit) or to notProjected with the reason", table, col)
			}
		}
		for _, col := range append(slices.Clone(pt.Columns), pt.Key...) {
			if !slices.Contains(stmt.Schema.DBNames, col) {
				t.Errorf("%s.%s is listed as projected but the row type has no such column", table, col)
			}
		}
	}
	for table := range skip {
		if _, ok := rowTypes()[table]; !ok {
			t.Errorf("table %s is listed but has no row type", table)
		}
	}
}

func TestReadProjectionUnknownSelection(t *testing.T) {
	s := sqliteFactory(t, true)
	if _, err := s.ReadProjection(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown selection: %v, want ErrNotFound", err)
	}
}
