package server

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/activities"
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
)

// TestVerifySelectionRealStore is the defect of issue 9 end to end on a real store: a
// published component score changed with SQL (application_results.scores) was served by
// the API and verified OK. The store is built from the recorded happy path through the same
// store calls and activities the worker uses.
func TestVerifySelectionRealStore(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			st, raw, update := openRealStore(t, db)
			verifyRealStore(t, st, raw, update)
		})
	}
}

// openRealStore opens an empty store on SQLite in a temporary directory or on PostgreSQL in
// a fresh schema, with a connection of its own for edits and the UPDATE that changes one
// application_results row's scores on it.
func openRealStore(t *testing.T, db string) (*store.Store, *sql.DB, string) {
	t.Helper()
	ctx := context.Background()
	update := "UPDATE application_results SET scores = ? WHERE selection_id = ? AND application_id = ? AND stage = ?"
	if db == "sqlite" {
		path := filepath.Join(t.TempDir(), "seleksi.db")
		st, err := store.Open(ctx, "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = raw.Close() })
		return st, raw, update
	}
	dsn := pgtest.SchemaURL(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	return st, raw, "UPDATE application_results SET scores = $1 WHERE selection_id = $2 AND application_id = $3 AND stage = $4"
}

func verifyRealStore(t *testing.T, st *store.Store, raw *sql.DB, update string) {
	rec := loadRecorded(t)
	ctx := context.Background()
	applyHistory(t, st, rec.facts)

	key := testAuditKey()
	s, err := NewAuditServer(st, rec.history, key, key.Public().(ed25519.PublicKey), slog.New(slog.DiscardHandler), func() time.Time { return time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	verify := func() []*seleksiv1.Finding {
		t.Helper()
		resp, err := s.VerifySelection(ctx, &seleksiv1.VerifySelectionRequest{Name: "selections/" + rec.facts.SelectionID, Replay: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []*seleksiv1.Finding
		for _, f := range resp.GetReport().GetFindings() {
			// The recorder's activities wrote stand-in snapshot digests, which a real store
			// does not reproduce; everything else must hold.
			if f.GetKind() != seleksiv1.FindingKind_FINDING_KIND_SNAPSHOT_MISMATCH {
				out = append(out, f)
			}
		}
		return out
	}
	if fs := verify(); len(fs) > 0 {
		t.Fatalf("the untouched store: %v", fs)
	}

	var appID, stage, scores string
	lines, err := st.ReadProjection(ctx, rec.facts.SelectionID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range lines {
		if r.Table == store.TableApplicationResults && strings.Contains(r.Columns["scores"], `"score":`) {
			appID, stage, _ = strings.Cut(r.Key, "/")
			scores = r.Columns["scores"]
			break
		}
	}
	if appID == "" {
		t.Fatal("the happy path publishes no component score")
	}
	changed := strings.Replace(scores, `"score":`, `"score":1`, 1)
	if _, err := raw.ExecContext(ctx, update, changed, rec.facts.SelectionID, appID, stage); err != nil {
		t.Fatal(err)
	}
	// The API serves the changed score...
	app, err := st.GetApplication(ctx, rec.facts.SelectionID, appID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(app.Results, func(r store.ApplicationResult) bool { return r.Stage == stage })
	if i < 0 || len(app.Results[i].Scores) == 0 || app.Results[i].Scores[0].Score < 10000 {
		t.Fatalf("the edit did not reach what the API serves: %+v", app.Results)
	}
	// ...and verification names it.
	want := fmt.Sprintf("[application_results %s/%s column scores]", appID, stage)
	fs := verify()
	if len(fs) != 1 || fs[0].GetKind() != seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH || !strings.Contains(fs[0].GetMessage(), want) {
		t.Fatalf("after the edit: %v, want one PROJECTION_MISMATCH naming %s", fs, want)
	}
}

// applyHistory applies to a fresh store what the recorded history's activities applied:
// the windows, the submissions of the applications each close froze and the snapshot, and
// every applied record through the real ApplyCommand activity, in the order the history
// completed them.
func applyHistory(t *testing.T, st *store.Store, facts audit.HistoryFacts) {
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
		steps = append(steps, step{w.Run, w.CompletedEventID, func() error {
			window = store.Window{Opens: w.Window.Opens, Closes: w.Window.Closes, ClosesWall: w.Window.ClosesWall, Extension: w.Window.Extension}
			_, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: w.Window.WorkflowID, SelectionID: w.Window.SelectionID,
				Key: w.Window.Key, Window: window}, w.Window.Opens)
			return err
		}})
	}
	submitted := map[string]bool{}
	for _, s := range facts.Snapshots {
		steps = append(steps, step{s.Run, s.CompletedEventID, func() error {
			for _, id := range s.ApplicationIDs {
				if submitted[id] {
					continue
				}
				submitted[id] = true
				n := len(submitted)
				if _, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: facts.SelectionID, RequestID: "req-submit-" + id, ID: id,
					Owner: "cand-" + id, Candidate: store.Candidate{Subject: "cand-" + id, FullName: "Calon " + id, NIP: fmt.Sprintf("1975061500000%05d", n),
						Email: id + "@example.go.id", BirthDate: "1975-06-15"},
					Facts: store.Facts{Education: "EDUCATION_LEVEL_MASTER", Documents: []string{}},
					Now:   window.Opens.Add(window.ClosesWall.Sub(window.Opens) * time.Duration(n) / time.Duration(len(s.ApplicationIDs)+2))}); err != nil {
					return fmt.Errorf("submit %s: %w", id, err)
				}
			}
			_, err := st.TakeSnapshot(ctx, store.SnapshotInput{WorkflowID: s.Request.WorkflowID, SelectionID: s.Request.SelectionID,
				Key: s.Request.Key, ClosedAt: s.Request.ClosedAt}, s.Request.ClosedAt)
			return err
		}})
	}
	for _, r := range facts.Records {
		if r.Applied() {
			steps = append(steps, step{r.Run, r.CompletedEventID, func() error { return acts.ApplyCommand(ctx, r.Record) }})
		}
	}
	slices.SortStableFunc(steps, func(a, b step) int { return cmp.Or(cmp.Compare(a.run, b.run), cmp.Compare(a.event, b.event)) })
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("apply the history to the store: run %d event %d: %v", s.run, s.event, err)
		}
	}
}
