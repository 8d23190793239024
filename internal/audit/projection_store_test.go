package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"

	"github.com/bkpsdm/seleksi/internal/activities"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// The projection check against real stores: a store is built from a recorded history the
// way the worker builds it (the same store calls, through the real activities), on SQLite and
// on PostgreSQL; the rows it serves must match the rows the history determines exactly, and
// every projected column of every projected table, edited alone with SQL, must be found.

// dbUnderTest is one database a store is built on, with a raw connection for the edits.
type dbUnderTest struct {
	name string
	open func(t *testing.T) (*store.Store, *sql.DB)
}

func databases(t *testing.T) []dbUnderTest {
	return []dbUnderTest{
		{"sqlite", func(t *testing.T) (*store.Store, *sql.DB) {
			path := filepath.Join(t.TempDir(), "seleksi.db")
			st, err := store.Open(context.Background(), "sqlite:"+path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = raw.Close() })
			return st, raw
		}},
		{"postgres", func(t *testing.T) (*store.Store, *sql.DB) {
			dsn := pgtest.SchemaURL(t)
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			raw, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = raw.Close() })
			return st, raw
		}},
	}
}

// buildStore applies everything the histories record to a fresh store, in the order the
// history completed it: the selection's creation, the windows, the submissions of the
// applications each snapshot froze and the snapshot itself, and every applied record through
// the real ApplyCommand activity.
func buildStore(t *testing.T, st *store.Store, facts HistoryFacts) {
	t.Helper()
	buildStoreWithdrawing(t, st, facts, nil)
}

// buildStoreWithdrawing is buildStore where the applications withdrawBefore lists for a
// snapshot key are withdrawn (WithdrawBeforeClose) just before that snapshot.
func buildStoreWithdrawing(t *testing.T, st *store.Store, facts HistoryFacts, withdrawBefore map[string][]string) {
	t.Helper()
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: facts.SelectionID, RequestID: "req-create", WorkflowID: facts.WorkflowID,
		PositionTitle: "Kepala Dinas", Agency: "Kota Contoh", Config: []byte(`{}`), Actor: store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"},
		Now: facts.Runs[0].StartedAt.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	acts := activities.New(st, nil)
	type step struct {
		run   int
		event int64
		do    func() error
	}
	var steps []step
	var window store.Window
	for _, w := range facts.Windows {
		if w.CompletedEventID == 0 {
			continue
		}
		steps = append(steps, step{w.Run, w.CompletedEventID, func() error {
			window = store.Window{Opens: w.Window.Opens, Closes: w.Window.Closes, ClosesWall: w.Window.ClosesWall, Extension: w.Window.Extension}
			_, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: w.Window.WorkflowID, SelectionID: w.Window.SelectionID, Key: w.Window.Key,
				Window: window}, w.Window.Opens)
			return err
		}})
	}
	submitted := map[string]bool{}
	for _, s := range facts.Snapshots {
		if s.CompletedEventID == 0 {
			continue
		}
		steps = append(steps, step{s.Run, s.CompletedEventID, func() error {
			for _, id := range s.ApplicationIDs {
				if submitted[id] {
					continue
				}
				n := len(submitted) + 1
				submitted[id] = true
				_, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: facts.SelectionID, RequestID: "req-submit-" + id, ID: id,
					Owner: "cand-" + id, Candidate: store.Candidate{Subject: "cand-" + id, FullName: "Calon " + id, NIP: fmt.Sprintf("1975061500000%05d", n),
						Email: id + "@example.go.id", BirthDate: "1975-06-15"},
					Facts: store.Facts{Education: "EDUCATION_LEVEL_MASTER", Documents: []string{}},
					// Inside the window open at the time, which a time scale may make short.
					Now: window.Opens.Add(window.ClosesWall.Sub(window.Opens) * time.Duration(n) / time.Duration(len(s.ApplicationIDs)+len(submitted)+2))})
				if err != nil {
					return fmt.Errorf("submit %s: %w", id, err)
				}
			}
			for _, id := range withdrawBefore[s.Request.Key] {
				if _, err := st.WithdrawBeforeClose(ctx, store.WithdrawInput{SelectionID: facts.SelectionID, ApplicationID: id,
					RequestID: "req-withdraw-" + id, Actor: store.Actor{Subject: "cand-" + id, Role: "ROLE_CANDIDATE"},
					Reason: "mundur", Now: window.Opens.Add(window.ClosesWall.Sub(window.Opens) / 2)}); err != nil {
					return fmt.Errorf("withdraw %s: %w", id, err)
				}
			}
			_, err := st.TakeSnapshot(ctx, store.SnapshotInput{WorkflowID: s.Request.WorkflowID, SelectionID: s.Request.SelectionID,
				Key: s.Request.Key, ClosedAt: s.Request.ClosedAt}, s.Request.ClosedAt)
			return err
		}})
	}
	for _, r := range facts.Records {
		if !r.Applied() {
			continue
		}
		steps = append(steps, step{r.Run, r.CompletedEventID, func() error { return acts.ApplyCommand(ctx, r.Record) }})
	}
	slices.SortStableFunc(steps, func(a, b step) int {
		if a.run != b.run {
			return a.run - b.run
		}
		return int(a.event - b.event)
	})
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("build the store: run %d event %d: %v", s.run, s.event, err)
		}
	}
}

// storedProjection reads the store's rows in the library's form, as the server does.
func storedProjection(t *testing.T, st *store.Store, selectionID string) []ProjectionRow {
	t.Helper()
	rows, err := st.ReadProjection(context.Background(), selectionID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]ProjectionRow, len(rows))
	for i, r := range rows {
		out[i] = ProjectionRow{Table: r.Table, Key: r.Key, Columns: r.Columns, StoreOnly: r.StoreOnly}
	}
	return out
}

func runFacts(t *testing.T, runs ...[]byte) HistoryFacts {
	t.Helper()
	hs := make([]*historypb.History, len(runs))
	for i, b := range runs {
		h, err := ParseHistory(b)
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	facts, fs := ExtractFacts(hs)
	if len(fs) > 0 {
		t.Fatalf("facts: %v", fs)
	}
	return facts
}

// TestProjectionMatchesStore: a store that applied exactly what the history records serves
// exactly the rows the history determines, for every recorded scenario (one has an accepted
// objection and so a re-published revision), for a selection that continued as new, on both
// databases: no false positives.
func TestProjectionMatchesStore(t *testing.T) {
	rec := recorded(t)
	cases := map[string]HistoryFacts{}
	for name, b := range rec {
		cases[name] = runFacts(t, b)
	}
	run1, run2 := continuedRuns(t, rec["happy-path"])
	cases["continued-as-new"] = runFacts(t, run1, run2)
	revised := false
	for _, f := range cases["objections-recusal-withdrawal"].Records {
		revised = revised || (f.Record.Result != nil && f.Record.Result.Revision > 1)
	}
	if !revised {
		t.Fatal("the objections scenario no longer re-publishes a revision; the test needs one")
	}
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			for name, facts := range cases {
				t.Run(name, func(t *testing.T) {
					st, _ := db.open(t)
					buildStore(t, st, facts)
					if fs := CompareProjection(ExpectedProjection(facts), storedProjection(t, st, facts.SelectionID)); len(fs) > 0 {
						t.Fatalf("an untouched store has %d finding(s):\n%s", len(fs), findingLines(fs))
					}
				})
			}
		})
	}
}

func findingLines(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

// TestProjectionEditsFound edits, one at a time, every projected column of every projected
// table of a closed selection (the objections scenario: it has conflicts, objections with
// answers, a re-published revision and an appointment) with SQL, and requires a finding that
// names the table, the row and the column.
func TestProjectionEditsFound(t *testing.T) {
	rec := recorded(t)
	facts := runFacts(t, rec["objections-recusal-withdrawal"])
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			st, raw := db.open(t)
			buildStore(t, st, facts)
			expected := ExpectedProjection(facts)
			clean := storedProjection(t, st, facts.SelectionID)
			if fs := CompareProjection(expected, clean); len(fs) > 0 {
				t.Fatalf("the untouched store has findings:\n%s", findingLines(fs))
			}
			for _, pt := range store.ProjectedTables() {
				// The store reads exactly the listed columns of every row.
				for _, r := range clean {
					if r.Table != pt.Table {
						continue
					}
					got := slices.Sorted(maps.Keys(r.Columns))
					if want := slices.Sorted(slices.Values(pt.Columns)); !slices.Equal(got, want) {
						t.Errorf("ReadProjection reads %v of %s, ProjectedTables lists %v", got, pt.Table, want)
					}
				}
				row, ok := editableRow(clean, pt.Table)
				if !ok {
					t.Errorf("the scenario has no %s row to edit", pt.Table)
					continue
				}
				for _, col := range pt.Columns {
					t.Run(pt.Table+"."+col, func(t *testing.T) {
						r := row
						if col == "objection_deadline" || col == "answered_at" || col == "correction" {
							r = rowWith(t, clean, pt.Table, col)
						}
						old := r.Columns[col]
						restore := editColumn(t, raw, db.name == "postgres", facts.SelectionID, pt, r, col, old)
						defer restore()
						fs := CompareProjection(expected, storedProjection(t, st, facts.SelectionID))
						if len(fs) != 1 || fs[0].Table != pt.Table || fs[0].Row != r.Key || fs[0].Column != col {
							t.Fatalf("edited %s[%s].%s: want one finding naming it, got:\n%s", pt.Table, r.Key, col, findingLines(fs))
						}
						if !strings.Contains(fs[0].String(), pt.Table) || !strings.Contains(fs[0].String(), col) {
							t.Fatalf("the finding's text does not name the column: %s", fs[0])
						}
					})
				}
			}
		})
	}
}

// editableRow is the first row of the table, preferring one whose columns are all set.
func editableRow(rows []ProjectionRow, table string) (ProjectionRow, bool) {
	var first *ProjectionRow
	for i := range rows {
		if rows[i].Table != table {
			continue
		}
		if first == nil {
			first = &rows[i]
		}
	}
	if first == nil {
		return ProjectionRow{}, false
	}
	return *first, true
}

// rowWith is a row of the table whose column is set (an answered objection, a result with
// an objection window).
func rowWith(t *testing.T, rows []ProjectionRow, table, col string) ProjectionRow {
	t.Helper()
	for _, r := range rows {
		if r.Table == table && r.Columns[col] != "" {
			return r
		}
	}
	t.Fatalf("no %s row has %s set", table, col)
	return ProjectionRow{}
}

// editColumn changes one column of one row with SQL and returns what restores it.
func editColumn(t *testing.T, db *sql.DB, dollar bool, selectionID string, pt store.ProjectedTable, r ProjectionRow, col, old string) func() {
	t.Helper()
	where := []string{"selection_id = ?"}
	args := []any{selectionID}
	if pt.Table == "selections" {
		where, args = []string{"id = ?"}, []any{selectionID}
	}
	keys := strings.Split(r.Key, "/")
	if pt.Table != "selections" {
		for i, k := range pt.Key {
			where = append(where, k+" = ?")
			if v, err := strconv.Atoi(keys[i]); err == nil && k == "revision" {
				args = append(args, v)
			} else {
				args = append(args, keys[i])
			}
		}
	}
	set := func(v any) {
		q := "UPDATE " + pt.Table + " SET " + col + " = ? WHERE " + strings.Join(where, " AND ")
		if dollar {
			q = dollarPlaceholders(q)
		}
		res, err := db.Exec(q, append([]any{v}, args...)...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s changed %d rows", q, n)
		}
	}
	var newValue, oldValue any
	switch kindOf(col) {
	case "time":
		var ot *time.Time
		if old != "" {
			tv, err := time.Parse(time.RFC3339Nano, old)
			if err != nil {
				t.Fatal(err)
			}
			ot = &tv
			newValue = tv.Add(time.Hour)
		} else {
			newValue = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		}
		oldValue = ot
		if ot == nil {
			oldValue = nil
		} else {
			oldValue = *ot
		}
	case "bool":
		b, _ := strconv.ParseBool(old)
		newValue, oldValue = !b, b
	case "int":
		n, _ := strconv.ParseInt(old, 10, 64)
		newValue, oldValue = n+1, n
	case "json":
		newValue, oldValue = editJSON(t, old), old
	default:
		newValue, oldValue = old+"x", old
	}
	set(newValue)
	return func() { set(oldValue) }
}

// dollarPlaceholders turns ? placeholders into PostgreSQL's $n.
func dollarPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func kindOf(col string) string {
	switch {
	case strings.HasSuffix(col, "_at"), strings.HasSuffix(col, "_wall"), col == "window_opens", col == "window_closes", col == "objection_deadline", col == "answer_due":
		return "time"
	case col == "intake_frozen", col == "scores_published", col == "overdue":
		return "bool"
	case col == "rank", col == "final_score", col == "revision", col == "window_extension":
		return "int"
	case col == "entries", col == "scores", col == "correction":
		return "json"
	}
	return "text"
}

// editJSON changes the first number in a JSON document by one (a score, a rank), or, when it
// holds none, the first string; an empty list gains a score.
func editJSON(t *testing.T, doc string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	done := false
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				x[k] = walk(x[k])
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case float64:
			if !done {
				done = true
				return x + 1
			}
		}
		return v
	}
	v = walk(v)
	if !done {
		if l, ok := v.([]any); ok && len(l) == 0 {
			v = []any{map[string]any{"component": "SCORE_COMPONENT_INTERVIEW", "score": 1}}
			done = true
		}
	}
	if !done {
		var walkString func(v any) any
		walkString = func(v any) any {
			switch x := v.(type) {
			case map[string]any:
				for k := range x {
					if !done {
						x[k] = walkString(x[k])
					}
				}
			case []any:
				for i := range x {
					x[i] = walkString(x[i])
				}
			case string:
				if !done {
					done = true
					return x + "x"
				}
			}
			return v
		}
		v = walkString(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCheckStateClean: the state every recorded history replays to agrees with the rows its
// records determine, also for a selection that continued as new (whose second run is open).
func TestCheckStateClean(t *testing.T) {
	rec := recorded(t)
	cases := map[string][][]byte{}
	for name, b := range rec {
		cases[name] = [][]byte{b}
	}
	run1, run2 := continuedRuns(t, rec["happy-path"])
	cases["continued-as-new"] = [][]byte{run1, run2}
	cases["continued-as-new, first run"] = [][]byte{run1}
	for name, runs := range cases {
		t.Run(name, func(t *testing.T) {
			rep, err := Replay(context.Background(), runs)
			if err != nil || rep.State == nil {
				t.Fatalf("replay: %v %v", err, rep.Findings)
			}
			if fs := CheckState(rep.State, rep.Facts); len(fs) > 0 {
				t.Fatalf("findings:\n%s", findingLines(fs))
			}
		})
	}
}

// TestCheckStateFindsEditedRecords: a command record edited in the history (its activity
// input, which the replayer does not compare) disagrees with the state the replay rebuilds.
func TestCheckStateFindsEditedRecords(t *testing.T) {
	happy := recorded(t)["happy-path"]
	for _, tc := range []struct {
		name, old, new     string
		table, row, column string
	}{
		{"an objection deadline", `"objectionDeadline":"2026-12-16T17:00:00Z"`, `"objectionDeadline":"2026-12-17T17:00:00Z"`,
			tableStageResults, "STAGE_COMMITTEE_DECISION/1", "objection_deadline"},
		{"a published final score", `"finalScore":7200`, `"finalScore":7300`, tableApplications, "app-0003", "final_score"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Replay(context.Background(), [][]byte{editPayload(t, happy, tc.old, tc.new)})
			if err != nil || rep.State == nil || !rep.OK() {
				t.Fatalf("replay: %v %v", err, rep.Findings)
			}
			fs := CheckState(rep.State, rep.Facts)
			if !slices.ContainsFunc(fs, func(f Finding) bool {
				return f.Kind == KindStateMismatch && f.Table == tc.table && f.Row == tc.row && f.Column == tc.column
			}) {
				t.Fatalf("no finding on %s %s %s:\n%s", tc.table, tc.row, tc.column, findingLines(fs))
			}
		})
	}
}

// TestProjectionWithdrawnBetweenCloses: an application the first close froze is withdrawn
// while an extension has the window open again, so the second close leaves it out; only the
// store records the withdrawal, and the verifier must not hold the history's first snapshot
// against it.
func TestProjectionWithdrawnBetweenCloses(t *testing.T) {
	facts := runFacts(t, recorded(t)["extended-then-postponed"])
	if len(facts.Snapshots) < 2 || len(facts.Snapshots[0].ApplicationIDs) == 0 {
		t.Fatal("the scenario no longer closes twice with an application frozen at the first close")
	}
	gone := facts.Snapshots[0].ApplicationIDs[0]
	// The history as it would be had the application been withdrawn before the second close:
	// the second snapshot and every later record leave it out.
	facts.Snapshots = slices.Clone(facts.Snapshots)
	facts.Snapshots[1].ApplicationIDs = slices.DeleteFunc(slices.Clone(facts.Snapshots[1].ApplicationIDs), func(id string) bool { return id == gone })
	facts.Records = slices.Clone(facts.Records)
	for i := range facts.Records {
		r := &facts.Records[i].Record
		r.Applications = slices.DeleteFunc(slices.Clone(r.Applications), func(c workflows.ApplicationChange) bool { return c.ApplicationID == gone })
	}
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			st, _ := db.open(t)
			buildStoreWithdrawing(t, st, facts, map[string][]string{facts.Snapshots[1].Request.Key: {gone}})
			if fs := CompareProjection(ExpectedProjection(facts), storedProjection(t, st, facts.SelectionID)); len(fs) > 0 {
				t.Fatalf("findings:\n%s", findingLines(fs))
			}
		})
	}
}

// TestProjectionComparesMessageCodes: in selections recorded with message codes, the
// *_message columns hold codes with parameters, the rebuild from the history gives the same,
// and a code changed in the store (a candidate's status, the system's reason for an outcome,
// a result line's reason) is a finding that names the row and the column.
func TestProjectionComparesMessageCodes(t *testing.T) {
	rec := recorded(t)
	for _, db := range databases(t) {
		t.Run(db.name, func(t *testing.T) {
			for _, tc := range []struct {
				history string
				columns map[string][]string // table: columns that some row must hold a code in
			}{
				{"objections-recusal-withdrawal-codes", map[string][]string{
					"applications": {"status_message", "elimination_message"}, "application_results": {"reason_message"}}},
				{"extended-then-postponed-codes", map[string][]string{"selections": {"cancel_message"}}},
			} {
				t.Run(tc.history, func(t *testing.T) {
					b, ok := rec[tc.history]
					if !ok {
						t.Fatalf("no recorded history %s", tc.history)
					}
					facts := runFacts(t, b)
					st, raw := db.open(t)
					buildStore(t, st, facts)
					expected := ExpectedProjection(facts)
					clean := storedProjection(t, st, facts.SelectionID)
					if fs := CompareProjection(expected, clean); len(fs) > 0 {
						t.Fatalf("the untouched store has findings:\n%s", findingLines(fs))
					}
					tables := map[string]store.ProjectedTable{}
					for _, pt := range store.ProjectedTables() {
						tables[pt.Table] = pt
					}
					for table, cols := range tc.columns {
						for _, col := range cols {
							r := rowWith(t, clean, table, col)
							old := r.Columns[col]
							if !strings.Contains(old, `"code":"`) {
								t.Fatalf("%s[%s].%s holds %q, not a message code", table, r.Key, col, old)
							}
							edited := strings.Replace(old, `"code":"`, `"code":"x.`, 1)
							setColumn(t, raw, db.name == "postgres", facts.SelectionID, tables[table], r, col, edited)
							fs := CompareProjection(expected, storedProjection(t, st, facts.SelectionID))
							setColumn(t, raw, db.name == "postgres", facts.SelectionID, tables[table], r, col, old)
							if len(fs) != 1 || fs[0].Table != table || fs[0].Row != r.Key || fs[0].Column != col {
								t.Errorf("edited the code in %s[%s].%s: want one finding naming it, got:\n%s", table, r.Key, col, findingLines(fs))
							}
						}
					}
				})
			}
		})
	}
}

// setColumn writes value into one projected column of row r.
func setColumn(t *testing.T, db *sql.DB, dollar bool, selectionID string, pt store.ProjectedTable, r ProjectionRow, col, value string) {
	t.Helper()
	where, args := []string{"selection_id = ?"}, []any{selectionID}
	if pt.Table == "selections" {
		where, args = []string{"id = ?"}, []any{selectionID}
	} else {
		for i, k := range pt.Key {
			where = append(where, k+" = ?")
			args = append(args, strings.Split(r.Key, "/")[i])
		}
	}
	q := "UPDATE " + pt.Table + " SET " + col + " = ? WHERE " + strings.Join(where, " AND ")
	if dollar {
		q = dollarPlaceholders(q)
	}
	res, err := db.Exec(q, append([]any{value}, args...)...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows", q, n)
	}
}
