package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testMigrations(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, false)
	cur, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := newestMigration(t); cur != 0 || latest != want {
		t.Fatalf("empty database: version %d of %d, want 0 of %d", cur, latest, want)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate from empty: %v", err)
	}
	rows := count(t, s, versionTable, "1 = 1")
	// Running again is a no-op: nothing applied, nothing recorded.
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if again := count(t, s, versionTable, "1 = 1"); again != rows {
		t.Fatalf("second migrate recorded %d rows, want %d", again, rows)
	}
	if cur, _, _ := s.SchemaVersion(ctx); cur != latest {
		t.Fatalf("version after migrate = %d, want %d", cur, latest)
	}
	// The schema works: a selection can be created.
	newSelection(t, s, "sel-migrated")
}

func testSelections(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	sel := newSelection(t, s, "sel-a")
	if sel.Stage != StageAnnouncement || len(sel.Committee) != 2 || sel.Committee[0].MemberID != "chair" || sel.AuditSeq != 1 {
		t.Fatalf("created selection = %+v", sel)
	}
	// Retrying the same request returns the same selection; reusing the request ID or the
	// selection ID for something else conflicts.
	again := newSelection(t, s, "sel-a")
	if again.Version != sel.Version || again.AuditSeq != 1 {
		t.Fatalf("retry changed the selection: %+v", again)
	}
	_, err := s.CreateSelection(ctx, NewSelection{ID: "sel-a", RequestID: "req-sel-a", WorkflowID: "selection-sel-a", PositionTitle: "Other", Now: t0})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("same request, other definition: %v, want ErrConflict", err)
	}
	_, err = s.CreateSelection(ctx, NewSelection{ID: "sel-a", RequestID: "req-other", WorkflowID: "selection-sel-a", PositionTitle: "Other", Now: t0})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("taken ID: %v, want ErrConflict", err)
	}
	if _, err := s.GetSelection(ctx, "sel-missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}

	for i := range 6 {
		_, err := s.CreateSelection(ctx, NewSelection{ID: fmt.Sprintf("sel-%02d", i), RequestID: fmt.Sprintf("req-%02d", i),
			WorkflowID: fmt.Sprintf("selection-sel-%02d", i), PositionTitle: fmt.Sprintf("Jabatan %d", 5-i), Agency: "Instansi", Now: t0.Add(time.Duration(i+1) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Two announcements are open, the later-created one closing first.
	for id, closes := range map[string]time.Duration{"sel-02": 100 * time.Hour, "sel-04": 50 * time.Hour} {
		if _, err := s.ProjectWindow(ctx, WindowInput{WorkflowID: "selection-" + id, SelectionID: id, Key: "window-0",
			Window: Window{Opens: t0, Closes: t0.Add(closes), ClosesWall: t0.Add(closes)}}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ApplyCommand(ctx, Command{WorkflowID: "selection-sel-03", SelectionID: "sel-03", Key: "event-1", Seq: 1,
		Kind: "AnnouncementClosed", Actor: Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: t0, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OPEN"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		opts  ListOptions
		want  []string
		error error
	}{
		{"newest first by default", ListOptions{PageSize: 2}, []string{"sel-05", "sel-04", "sel-03", "sel-02", "sel-01", "sel-00", "sel-a"}, nil},
		{"by create time", ListOptions{PageSize: 3, OrderBy: "create_time"}, []string{"sel-a", "sel-00", "sel-01", "sel-02", "sel-03", "sel-04", "sel-05"}, nil},
		{"by name desc", ListOptions{PageSize: 4, OrderBy: "name desc"}, []string{"sel-a", "sel-05", "sel-04", "sel-03", "sel-02", "sel-01", "sel-00"}, nil},
		{"stage filter", ListOptions{Filter: "stage = ADMINISTRATIVE_SCREENING"}, []string{"sel-03"}, nil},
		// The orders the API documents.
		{"by stage close time", ListOptions{PageSize: 1, OrderBy: "stage_close_time"}, []string{"sel-04", "sel-02", "sel-a", "sel-00", "sel-01", "sel-03", "sel-05"}, nil},
		{"by stage close time desc", ListOptions{PageSize: 2, OrderBy: "stage_close_time desc"}, []string{"sel-05", "sel-03", "sel-01", "sel-00", "sel-a", "sel-02", "sel-04"}, nil},
		{"by position title", ListOptions{PageSize: 3, OrderBy: "position_title"}, []string{"sel-05", "sel-04", "sel-03", "sel-02", "sel-01", "sel-00", "sel-a"}, nil},
		{"by create time desc", ListOptions{PageSize: 3, OrderBy: "create_time desc"}, []string{"sel-05", "sel-04", "sel-03", "sel-02", "sel-01", "sel-00", "sel-a"}, nil},
		{"stage filter, full name", ListOptions{Filter: `stage = "STAGE_ANNOUNCEMENT"`, OrderBy: "id", PageSize: 10}, []string{"sel-00", "sel-01", "sel-02", "sel-04", "sel-05", "sel-a"}, nil},
		{"agency and time zone", ListOptions{Filter: `agency = "Pemerintah Kota Contoh" AND time_zone = WIB`}, []string{"sel-a"}, nil},
		{"unknown time zone", ListOptions{Filter: "time_zone = UTC"}, nil, ErrInvalidArgument},
		{"unknown field", ListOptions{Filter: "owner = X"}, nil, ErrInvalidArgument},
		{"OR is not supported", ListOptions{Filter: "stage = CLOSED OR stage = CANCELLED"}, nil, ErrInvalidArgument},
		{"unknown order", ListOptions{OrderBy: "agency"}, nil, ErrInvalidArgument},
		{"negative page size", ListOptions{PageSize: -1}, nil, ErrInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			opts := tc.opts
			for {
				page, err := s.ListSelections(ctx, opts)
				if tc.error != nil {
					if !errors.Is(err, tc.error) {
						t.Fatalf("err = %v, want %v", err, tc.error)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if page.TotalSize != int64(len(tc.want)) {
					t.Fatalf("total = %d, want %d", page.TotalSize, len(tc.want))
				}
				for _, sel := range page.Items {
					got = append(got, sel.ID)
				}
				if page.NextPageToken == "" {
					break
				}
				opts.PageToken = page.NextPageToken
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func testIntake(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-closed")
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-closed", 1, t0)); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("no window yet: %v, want ErrFailedPrecondition", err)
	}
	openWindow(t, s, "sel-i")
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-i", 1, t0.Add(-time.Minute))); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("before the window: %v, want ErrFailedPrecondition", err)
	}
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-i", 1, t0.Add(240*time.Hour))); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("at the close: %v, want ErrFailedPrecondition", err)
	}
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-missing", 1, t0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing selection: %v, want ErrNotFound", err)
	}
	in := newSubmission("sel-i", 1, t0.Add(time.Hour))
	first := submit(t, s, in)
	if first.State != StateSubmitted || first.CurrentStage != StageAnnouncement || first.Candidate.NIP != in.Candidate.NIP ||
		!first.SubmitTime.Equal(t0.Add(time.Hour)) || *first.Facts.ExperienceMonths != 120 || len(first.Documents) != 0 {
		t.Fatalf("stored application = %+v", first)
	}

	// A retry returns the first result, even after the window has closed.
	late := in
	late.Now = t0.Add(300 * time.Hour)
	if again := submit(t, s, late); again.ID != first.ID {
		t.Fatalf("retry created %s, want %s", again.ID, first.ID)
	}
	other := in
	other.Statement = "changed"
	tests := []struct {
		name string
		in   SubmitInput
		want error
	}{
		{"same request ID, other content", other, ErrConflict},
		{"second application of the candidate", func() SubmitInput {
			x := newSubmission("sel-i", 2, t0)
			x.Candidate.Subject, x.Owner = in.Candidate.Subject, in.Owner
			return x
		}(), ErrConflict},
		{"same NIP under another account", func() SubmitInput { x := newSubmission("sel-i", 3, t0); x.Candidate.NIP = in.Candidate.NIP; return x }(), ErrConflict},
		{"missing birth date", func() SubmitInput { x := newSubmission("sel-i", 4, t0); x.Candidate.BirthDate = "15-06-1975"; return x }(), ErrInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.SubmitApplication(ctx, tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if n := count(t, s, "applications", "selection_id = ?", "sel-i"); n != 1 {
		t.Fatalf("%d applications stored, want 1", n)
	}
	if _, err := s.GetApplication(ctx, "sel-i", "app-missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
	// Every accepted submission is in the chain: creation + one submission.
	if rep, err := s.VerifyChain(ctx, "sel-i"); err != nil || !rep.OK || rep.EventsChecked != 2 {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
}

func testListApplications(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-l")
	const n = 120
	var ids []string
	for i := range n {
		// Pairs share a submission time, so that the ID must break ties.
		app := submit(t, s, newSubmission("sel-l", i, t0.Add(time.Duration(i/2)*time.Second)))
		ids = append(ids, app.ID)
	}
	// Published results list candidates by name, all fetched in one query.
	names, err := s.CandidateNames(ctx, "sel-l")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != n || names[ids[7]] != "Calon 7" || names[ids[119]] != "Calon 119" {
		t.Errorf("CandidateNames: %d names, %q, %q", len(names), names[ids[7]], names[ids[119]])
	}
	if other, err := s.CandidateNames(ctx, "no-such-selection"); err != nil || len(other) != 0 {
		t.Errorf("names of an unknown selection: %v, %v", other, err)
	}

	// Eliminate every third application at screening.
	var changes []ApplicationChange
	for i := 0; i < n; i += 3 {
		changes = append(changes, ApplicationChange{ApplicationID: ids[i], State: StateEliminated, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Reason: "no LHKPN"})
	}
	// Some have final scores, with ties.
	for i := 1; i < n; i += 3 {
		changes = append(changes, ApplicationChange{ApplicationID: ids[i], State: StateSubmitted, Stage: "STAGE_ADMINISTRATIVE_SCREENING", FinalScore: int64(7000 + i%7)})
	}
	if _, err := s.ApplyCommand(ctx, Command{WorkflowID: "selection-sel-l", SelectionID: "sel-l", Key: "u1", Seq: 1, Kind: "AdvanceStage",
		Actor: Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}, At: t0.Add(300 * time.Hour), Stage: "STAGE_ADMINISTRATIVE_SCREENING",
		Phase: "OBJECTIONS", Applications: changes}); err != nil {
		t.Fatal(err)
	}
	all := func(opts ListOptions) ([]Application, error) {
		var out []Application
		for {
			page, err := s.ListApplications(ctx, "sel-l", opts)
			if err != nil {
				return nil, err
			}
			out = append(out, page.Items...)
			if page.NextPageToken == "" {
				return out, nil
			}
			opts.PageToken = page.NextPageToken
		}
	}
	tests := []struct {
		name  string
		opts  ListOptions
		count int
		check func(a, b Application) bool // holds for consecutive items
	}{
		{"default order", ListOptions{PageSize: 7}, n, func(a, b Application) bool {
			return a.SubmitTime.Before(b.SubmitTime) || a.SubmitTime.Equal(b.SubmitTime) && a.ID < b.ID
		}},
		{"submit time desc", ListOptions{PageSize: 11, OrderBy: "submit_time desc"}, n, func(a, b Application) bool {
			return a.SubmitTime.After(b.SubmitTime) || a.SubmitTime.Equal(b.SubmitTime) && a.ID > b.ID
		}},
		{"by ID", ListOptions{PageSize: 1000, OrderBy: "name"}, n, func(a, b Application) bool { return a.ID < b.ID }},
		// The orders the API documents.
		{"final score desc", ListOptions{PageSize: 13, OrderBy: "final_score desc"}, n, func(a, b Application) bool {
			return a.FinalScore > b.FinalScore || a.FinalScore == b.FinalScore && a.ID > b.ID
		}},
		{"final score", ListOptions{PageSize: 13, OrderBy: "final_score"}, n, func(a, b Application) bool {
			return a.FinalScore < b.FinalScore || a.FinalScore == b.FinalScore && a.ID < b.ID
		}},
		{"candidate name", ListOptions{PageSize: 8, OrderBy: "candidate.full_name"}, n, func(a, b Application) bool {
			return a.Candidate.FullName < b.Candidate.FullName
		}},
		{"candidate name desc", ListOptions{PageSize: 8, OrderBy: "candidate.full_name  DESC"}, n, func(a, b Application) bool {
			return a.Candidate.FullName > b.Candidate.FullName
		}},
		{"a candidate's own", ListOptions{PageSize: 8, Owner: "cand-7"}, 1, nil},
		{"eliminated", ListOptions{PageSize: 5, Filter: "state = ELIMINATED"}, n / 3, func(a, b Application) bool {
			return a.State == StateEliminated && b.EliminationReason == "no LHKPN"
		}},
		{"state and stage", ListOptions{PageSize: 9, Filter: "state = APPLICATION_STATE_SUBMITTED AND stage = ADMINISTRATIVE_SCREENING"}, n - n/3, func(a, b Application) bool {
			return a.State == StateSubmitted && b.CurrentStage == "STAGE_ADMINISTRATIVE_SCREENING"
		}},
		{"no match", ListOptions{Filter: "stage = INTERVIEW"}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := all(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.count {
				t.Fatalf("%d applications, want %d", len(got), tc.count)
			}
			seen := map[string]bool{}
			for i := range got {
				if seen[got[i].ID] {
					t.Fatalf("%s listed twice", got[i].ID)
				}
				seen[got[i].ID] = true
				if got[i].Candidate.FullName == "" {
					t.Fatalf("%s without candidate data", got[i].ID)
				}
				if i > 0 && !tc.check(got[i-1], got[i]) {
					t.Fatalf("items %d and %d out of order or unfiltered: %+v / %+v", i-1, i, got[i-1], got[i])
				}
			}
		})
	}
	errTests := []struct {
		name string
		opts ListOptions
	}{
		{"unknown field", ListOptions{Filter: "owner = x"}},
		{"unknown state", ListOptions{Filter: "state = HIRED"}},
		{"comparison", ListOptions{Filter: "state != SUBMITTED"}},
		{"dangling AND", ListOptions{Filter: "state = SUBMITTED AND"}},
		{"lower-case and", ListOptions{Filter: "state = SUBMITTED and stage = INTERVIEW"}},
		{"injection", ListOptions{Filter: "state = SUBMITTED; DROP TABLE applications"}},
		{"bad order", ListOptions{OrderBy: "rank"}},
		{"garbage token", ListOptions{PageToken: "not-a-token"}},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.ListApplications(ctx, "sel-l", tc.opts); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
	t.Run("token of another query", func(t *testing.T) {
		page, err := s.ListApplications(ctx, "sel-l", ListOptions{PageSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.ListApplications(ctx, "sel-l", ListOptions{PageSize: 5, PageToken: page.NextPageToken, Filter: "state = SUBMITTED"})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("err = %v, want ErrInvalidArgument", err)
		}
	})
	t.Run("page size capped", func(t *testing.T) {
		page, err := s.ListApplications(ctx, "sel-l", ListOptions{})
		if err != nil || len(page.Items) != DefaultPageSize || page.TotalSize != n {
			t.Fatalf("default page: %d items, total %d, %v", len(page.Items), page.TotalSize, err)
		}
		page, err = s.ListApplications(ctx, "sel-l", ListOptions{PageSize: 5000})
		if err != nil || len(page.Items) != n {
			t.Fatalf("large page: %d items, %v", len(page.Items), err)
		}
	})
	t.Run("missing selection", func(t *testing.T) {
		if _, err := s.ListApplications(ctx, "sel-none", ListOptions{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("counts", func(t *testing.T) {
		c, err := s.ApplicationCounts(ctx, "sel-l")
		if err != nil || c.Total != n || c.ByState[StateEliminated] != n/3 {
			t.Fatalf("counts = %+v, %v", c, err)
		}
	})
}

// testPaginationUnderInserts pages through a selection while other goroutines keep
// submitting: every application that existed before the first page is listed exactly once,
// and nothing is listed twice, in every order.
func testPaginationUnderInserts(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-p")
	const before = 60
	initial := map[string]bool{}
	for i := range before {
		initial[submit(t, s, newSubmission("sel-p", i, t0.Add(time.Duration(i)*time.Minute))).ID] = true
	}
	for _, order := range []string{"submit_time", "submit_time desc", "name", "name desc"} {
		t.Run(order, func(t *testing.T) {
			var (
				stop     atomic.Bool
				inserted atomic.Int64
				wg       sync.WaitGroup
			)
			base := 1000 * (1 + len(order)) // distinct candidates per subtest
			for w := range 3 {
				wg.Go(func() {
					for i := 0; !stop.Load(); i++ {
						// Some inserts sort before the cursor, some after it.
						at := t0.Add(time.Duration((i*37+w*11)%(2*before)) * time.Minute)
						in := newSubmission("sel-p", base+w*1000+i, at)
						if _, err := s.SubmitApplication(ctx, in); err != nil {
							t.Errorf("insert: %v", err)
							return
						}
						inserted.Add(1)
					}
				})
			}
			seen := map[string]bool{}
			opts := ListOptions{PageSize: 4, OrderBy: order}
			for {
				page, err := s.ListApplications(ctx, "sel-p", opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range page.Items {
					if seen[a.ID] {
						t.Fatalf("%s listed twice", a.ID)
					}
					seen[a.ID] = true
				}
				if page.NextPageToken == "" {
					break
				}
				opts.PageToken = page.NextPageToken
				time.Sleep(time.Millisecond) // let the writers in between pages
			}
			stop.Store(true)
			wg.Wait()
			for id := range initial {
				if !seen[id] {
					t.Fatalf("%s existed before the first page but was not listed", id)
				}
			}
			if inserted.Load() == 0 {
				t.Fatal("no concurrent inserts happened")
			}
		})
	}
}

// testConcurrentIntake sends thousands of submissions at once, with retries of the same
// request and second attempts by the same candidate mixed in.
func testConcurrentIntake(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-c")
	const (
		total      = 2000
		candidates = 1500
	)
	// Submissions 0..1499 are one per candidate; 1500..1749 retry the requests of candidates
	// 0..249 (same request ID and content); 1750..1999 are second requests, with new request
	// IDs, by candidates 1000..1249, racing their first ones: one of each pair must win.
	input := func(i int) SubmitInput {
		switch {
		case i < candidates:
			return newSubmission("sel-c", i, t0.Add(time.Duration(i)*time.Millisecond))
		case i < 1750:
			return newSubmission("sel-c", i-candidates, t0.Add(time.Duration(i-candidates)*time.Millisecond))
		default:
			in := newSubmission("sel-c", i, t0.Add(time.Hour))
			in.Candidate.Subject, in.Owner = "cand-"+itoa(i-750), "cand-"+itoa(i-750)
			return in
		}
	}
	var mu sync.Mutex
	ids := map[string]string{} // request ID -> application ID
	start := time.Now()
	errs := parallel(total, func(i int) error {
		in := input(i)
		app, err := s.SubmitApplication(ctx, in)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := ids[in.RequestID]; ok && prev != app.ID {
			return fmt.Errorf("request %s answered %s and %s", in.RequestID, prev, app.ID)
		}
		ids[in.RequestID] = app.ID
		return nil
	})
	t.Logf("%d concurrent submissions on %s in %v", total, s.Dialect(), time.Since(start))
	for i, err := range errs {
		switch {
		case i >= 1000 && i < 1250:
			second := errs[i+750]
			if (err == nil) == (second == nil) || !errors.Is(errors.Join(err, second), ErrConflict) {
				t.Fatalf("candidate %d: first request %v, second request %v; want exactly one ErrConflict", i, err, second)
			}
		case i >= 1750:
			// Checked with its pair above.
		case err != nil:
			t.Fatalf("submission %d: %v", i, err)
		}
	}
	if n := count(t, s, "applications", "selection_id = ?", "sel-c"); n != candidates {
		t.Fatalf("%d applications, want %d", n, candidates)
	}
	if n := count(t, s, "candidates", "selection_id = ?", "sel-c"); n != candidates {
		t.Fatalf("%d candidates, want %d", n, candidates)
	}
	rep, err := s.VerifyChain(ctx, "sel-c")
	if err != nil || !rep.OK || rep.EventsChecked != candidates+1 {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
}

// testConcurrentChain has 50 writers append to one selection's chain at once, through both
// intake and workflow commands; the chain stays linear and verifiable.
func testConcurrentChain(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-x")
	const writers = 50
	errs := parallel(writers, func(i int) error {
		if i%2 == 0 {
			_, err := s.SubmitApplication(ctx, newSubmission("sel-x", i, t0.Add(time.Minute)))
			return err
		}
		_, err := s.ApplyCommand(ctx, Command{WorkflowID: "selection-sel-x", SelectionID: "sel-x", Key: "update-" + itoa(i), Seq: int64(i),
			Kind: "DeclareConflict", Actor: Actor{Subject: "m1", Role: "ROLE_COMMITTEE"}, Reason: "kerabat", At: t0.Add(time.Hour),
			Stage: StageAnnouncement, Phase: "OPEN", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			Conflicts: []Conflict{{MemberID: "m1", ApplicationID: "app-" + itoa(i), DeclaredBy: "m1"}}})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	rep, err := s.VerifyChain(ctx, "sel-x")
	if err != nil || !rep.OK || rep.EventsChecked != writers+1 || rep.HeadSeq != writers+1 {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
	if n := count(t, s, "audit_events", "selection_id = ?", "sel-x"); n != writers+1 {
		t.Fatalf("%d events, want %d", n, writers+1)
	}
}

// testVerifyWhileAppending verifies a chain again and again while submissions append to it:
// every report is clean, however the walk and the appends interleave.
func testVerifyWhileAppending(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-v")
	const n = 120
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := s.SubmitApplication(ctx, newSubmission("sel-v", i, t0.Add(time.Duration(i)*time.Second))); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	verified := 0
	for {
		rep, err := s.VerifyChain(ctx, "sel-v")
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.EventsChecked != rep.HeadSeq {
			t.Fatalf("report while appending: %+v (first finding %+v)", rep, rep.First)
		}
		verified++
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			rep, err := s.VerifyChain(ctx, "sel-v")
			if err != nil || !rep.OK || rep.EventsChecked != n+1 {
				t.Fatalf("final report = %+v, %v; want %d events", rep, err, n+1)
			}
			t.Logf("%d verifications while %d submissions were appended", verified, n)
			return
		default:
		}
	}
}

func testTampering(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	tests := []struct {
		name   string
		tamper []string // SQL run against the selection's chain; ? is the selection ID
		kind   FindingKind
		seq    int64
	}{
		{"changed reason", []string{"UPDATE audit_events SET reason = 'edited' WHERE selection_id = ? AND seq = 4"}, FindingHashMismatch, 4},
		{"changed actor", []string{"UPDATE audit_events SET actor_subject = 'someone' WHERE selection_id = ? AND seq = 2"}, FindingHashMismatch, 2},
		{"changed payload", []string{"UPDATE audit_events SET payload = '{}' WHERE selection_id = ? AND seq = 5"}, FindingHashMismatch, 5},
		{"deleted event", []string{"DELETE FROM audit_events WHERE selection_id = ? AND seq = 3"}, FindingMissingEvent, 3},
		{"deleted last event", []string{"DELETE FROM audit_events WHERE selection_id = ? AND seq = 6"}, FindingMissingEvent, 6},
		{"head moved back", []string{
			"UPDATE selections SET audit_seq = 5, audit_head = (SELECT hash FROM audit_events a WHERE a.selection_id = selections.id AND a.seq = 5) WHERE id = ?",
		}, FindingUnexpectedEvent, 6},
		{"reordered events", []string{
			"UPDATE audit_events SET seq = -3 WHERE selection_id = ? AND seq = 3",
			"UPDATE audit_events SET seq = 3 WHERE selection_id = ? AND seq = 4",
			"UPDATE audit_events SET seq = 4 WHERE selection_id = ? AND seq = -3",
		}, FindingChainBroken, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "sel-t" + itoa(i)
			openWindow(t, s, id)
			for j := range 5 {
				submit(t, s, newSubmission(id, j, t0.Add(time.Duration(j)*time.Minute)))
			}
			if rep, err := s.VerifyChain(ctx, id); err != nil || !rep.OK || rep.EventsChecked != 6 {
				t.Fatalf("before tampering: %+v, %v", rep, err)
			}
			for _, q := range tc.tamper {
				if err := s.db.Exec(q, id).Error; err != nil {
					t.Fatalf("tamper: %v", err)
				}
			}
			rep, err := s.VerifyChain(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.First == nil || rep.First.Kind != tc.kind || rep.First.Seq != tc.seq {
				t.Fatalf("report = %+v (%+v), want %s at %d", rep, rep.First, tc.kind, tc.seq)
			}
		})
	}
	if _, err := s.VerifyChain(ctx, "sel-none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing selection: %v, want ErrNotFound", err)
	}
}

func testSnapshot(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-s")
	var ids []string
	for i := range 5 {
		ids = append(ids, submit(t, s, newSubmission("sel-s", i, t0.Add(time.Duration(i)*time.Minute))).ID)
	}
	closedAt := time.Date(2026, 6, 15, 17, 0, 0, 0, time.UTC) // midnight WIB of 16 June
	in := SnapshotInput{WorkflowID: "selection-sel-s", SelectionID: "sel-s", Key: "snapshot-1", ClosedAt: closedAt}
	snap, err := s.TakeSnapshot(ctx, in, closedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Applications) != 5 || snap.Digest == "" {
		t.Fatalf("snapshot = %+v", snap)
	}
	for i := 1; i < len(snap.Applications); i++ {
		if snap.Applications[i-1].ID >= snap.Applications[i].ID {
			t.Fatal("snapshot not in ID order")
		}
	}
	a := snap.Applications[0]
	// Born 15 June 1975: 51 on the last day of the window (15 June 2026, WIB).
	if a.Facts.AgeAtClose != 51 || a.Facts.Education != "EDUCATION_LEVEL_MASTER" || *a.Facts.ExperienceMonths != 120 || a.Candidate == "" {
		t.Fatalf("snapshot application = %+v", a)
	}
	// Intake is frozen from the snapshot on, even inside the projected window.
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-s", 9, t0.Add(time.Hour))); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("submission after the snapshot: %v, want ErrFailedPrecondition", err)
	}
	// The same key returns the same snapshot.
	again, err := s.TakeSnapshot(ctx, in, closedAt.Add(time.Minute))
	if err != nil || again.Digest != snap.Digest || len(again.Applications) != 5 {
		t.Fatalf("retried snapshot = %+v, %v", again, err)
	}
	if n := count(t, s, "snapshots", "selection_id = ?", "sel-s"); n != 1 {
		t.Fatalf("%d snapshot rows, want 1", n)
	}
	readOnly, err := s.Snapshot(ctx, "sel-s", closedAt)
	if err != nil || readOnly.Digest != snap.Digest {
		t.Fatalf("Snapshot = %s, %v; want %s", readOnly.Digest, err, snap.Digest)
	}
	if chk, err := s.VerifySnapshot(ctx, "sel-s", "snapshot-1"); err != nil || !chk.OK {
		t.Fatalf("intact snapshot: %+v, %v", chk, err)
	}
	// A status change does not touch the digest; a changed submission does.
	if _, err := s.ApplyCommand(ctx, Command{WorkflowID: "selection-sel-s", SelectionID: "sel-s", Key: "event-2", Seq: 2, Kind: "AnnouncementClosed",
		Actor: Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: closedAt, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OPEN",
		Applications: []ApplicationChange{{ApplicationID: ids[0], State: StateInProgress}}}); err != nil {
		t.Fatal(err)
	}
	if chk, _ := s.VerifySnapshot(ctx, "sel-s", "snapshot-1"); !chk.OK {
		t.Fatalf("status change broke the snapshot: %+v", chk)
	}
	tampers := []struct {
		name, sql string
	}{
		{"candidate name", "UPDATE candidates SET full_name = 'Other' WHERE id = (SELECT candidate_id FROM applications WHERE id = ?)"},
		{"facts", `UPDATE applications SET facts = '{"education":"EDUCATION_LEVEL_DOCTORATE"}' WHERE id = ?`},
		{"deleted", "DELETE FROM applications WHERE id = ?"},
	}
	for i, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.db.Exec(tc.sql, ids[i+1]).Error; err != nil {
				t.Fatal(err)
			}
			chk, err := s.VerifySnapshot(ctx, "sel-s", "snapshot-1")
			if err != nil || chk.OK || chk.Recomputed == chk.Recorded {
				t.Fatalf("tampered snapshot: %+v, %v", chk, err)
			}
			now, _ := s.Snapshot(ctx, "sel-s", closedAt)
			if now.Digest == snap.Digest {
				t.Fatal("digest unchanged after tampering")
			}
		})
	}
}

func testApplyCommand(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-k")
	var ids []string
	for i := range 4 {
		ids = append(ids, submit(t, s, newSubmission("sel-k", i, t0.Add(time.Duration(i)*time.Minute))).ID)
	}
	wf := "selection-sel-k"
	system := Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}
	chair := Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}
	at := t0.Add(300 * time.Hour)
	msg := &Text{Code: "AdvanceStage", EN: "The result is published.", ID: "Hasil diumumkan."}
	advance := Command{WorkflowID: wf, SelectionID: "sel-k", Key: "req-advance-1", Seq: 2, Kind: "AdvanceStage", Actor: chair,
		At: at.Add(time.Hour), Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OBJECTIONS", Reason: "screening done",
		Payload: json.RawMessage(`{"stage":"STAGE_ADMINISTRATIVE_SCREENING","actor":{"subject":"chair"}}`),
		Applications: []ApplicationChange{
			{ApplicationID: ids[0], State: StateEliminated, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Reason: "no LHKPN"},
			{ApplicationID: ids[1], State: StateInProgress, Stage: "STAGE_ADMINISTRATIVE_SCREENING"},
		},
		Result: &StageResult{Stage: "STAGE_ADMINISTRATIVE_SCREENING", Revision: 1, PublishedAt: at.Add(time.Hour), ObjectionDeadline: at.Add(72 * time.Hour),
			Entries: []ResultEntry{{ApplicationID: ids[0], Outcome: "OUTCOME_FAIL", Reason: "no LHKPN"}, {ApplicationID: ids[1], Outcome: "OUTCOME_PASS"}}},
		Message: msg, Answer: json.RawMessage(`{"seq":2,"stage":"STAGE_ADMINISTRATIVE_SCREENING","phase":"OBJECTIONS"}`),
	}
	steps := []Command{
		{WorkflowID: wf, SelectionID: "sel-k", Key: "event-1", Seq: 1, Kind: "AnnouncementClosed", Actor: system, At: at, AtWall: at.Add(-time.Hour),
			Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OPEN", SnapshotDigest: "abc",
			Result:  &StageResult{Stage: StageAnnouncement, Revision: 1, PublishedAt: at, Entries: []ResultEntry{{ApplicationID: ids[0], Outcome: "OUTCOME_PASS"}}},
			Message: &Text{EN: "closed", ID: "ditutup"}},
		advance,
	}
	for _, c := range steps {
		if applied, err := s.ApplyCommand(ctx, c); err != nil || !applied {
			t.Fatalf("apply %s: %v, %v", c.Key, applied, err)
		}
	}
	counts := func() [5]int64 {
		return [5]int64{count(t, s, "audit_events", "selection_id = ?", "sel-k"), count(t, s, "processed_commands", "workflow_id = ?", wf),
			count(t, s, "notifications", "selection_id = ?", "sel-k"), count(t, s, "stage_results", "selection_id = ?", "sel-k"),
			count(t, s, "application_results", "selection_id = ?", "sel-k")}
	}
	before := counts()
	// Retries (and replays) of the same record change nothing.
	for range 3 {
		if applied, err := s.ApplyCommand(ctx, advance); err != nil || applied {
			t.Fatalf("retry: applied %v, %v", applied, err)
		}
	}
	if after := counts(); after != before {
		t.Fatalf("retries changed the counts: %v -> %v", before, after)
	}
	// Notifications: each of the 4 submissions was received, then the command's own 1 + 2.
	if before != [5]int64{1 + 4 + 2, 1 + 2, 4 + 1 + 2, 2, 3} {
		t.Fatalf("counts = %v", before)
	}
	// The ledger keeps the digest of the arguments and the answer for the caller's retries,
	// whatever the run of the workflow that asks.
	got, err := s.CommandAnswer(ctx, wf, "req-advance-1")
	if err != nil {
		t.Fatal(err)
	}
	// The API digests the arguments it sends; key order and spacing must not matter.
	want, err := PayloadDigest(map[string]any{"actor": map[string]any{"subject": "chair"}, "stage": "STAGE_ADMINISTRATIVE_SCREENING"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "AdvanceStage" || got.ArgsSHA256 != want || string(got.Answer) != string(advance.Answer) {
		t.Fatalf("ledger answer = %+v %s, want digest %s and %s", got, got.Answer, want, advance.Answer)
	}
	if _, err := s.CommandAnswer(ctx, wf, "req-never-sent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v, want ErrNotFound", err)
	}
	changed := advance
	changed.Payload = json.RawMessage(`{"stage":"STAGE_INTERVIEW"}`)
	if _, err := s.ApplyCommand(ctx, changed); !errors.Is(err, ErrConflict) {
		t.Fatalf("same key, other payload: %v, want ErrConflict", err)
	}
	bad := advance
	bad.Key = ""
	if _, err := s.ApplyCommand(ctx, bad); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no key: %v, want ErrInvalidArgument", err)
	}
	unknown := advance
	unknown.Key, unknown.Result = "req-unknown", nil
	unknown.Applications = []ApplicationChange{{ApplicationID: "app-unknown", State: StateEliminated}}
	if _, err := s.ApplyCommand(ctx, unknown); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("unknown application: %v, want ErrFailedPrecondition", err)
	}

	sel, _ := s.GetSelection(ctx, "sel-k")
	if sel.Stage != "STAGE_ADMINISTRATIVE_SCREENING" || sel.Phase != "OBJECTIONS" || sel.SnapshotDigest != "abc" || !sel.StageOpenTime.Equal(at) ||
		!sel.StageOpenWallTime.Equal(at.Add(-time.Hour)) {
		t.Fatalf("selection = %+v", sel)
	}
	elim, _ := s.GetApplication(ctx, "sel-k", ids[0])
	if elim.State != StateEliminated || elim.EliminatedStage != "STAGE_ADMINISTRATIVE_SCREENING" || elim.EliminationReason != "no LHKPN" ||
		len(elim.Results) != 2 || elim.Results[1].Outcome != "OUTCOME_FAIL" {
		t.Fatalf("eliminated application = %+v", elim)
	}
	// The untouched applications moved with the selection to screening.
	rest, _ := s.GetApplication(ctx, "sel-k", ids[3])
	if rest.State != StateSubmitted || rest.CurrentStage != "STAGE_ADMINISTRATIVE_SCREENING" {
		t.Fatalf("untouched application = %+v", rest)
	}

	// An objection is filed and accepted; the result is re-published as revision 2.
	filed := Objection{ID: "ADMINISTRATIVE_SCREENING:" + ids[0], ApplicationID: ids[0], Stage: "STAGE_ADMINISTRATIVE_SCREENING",
		Candidate: "cand-0", Reason: "LHKPN was uploaded", State: "OBJECTION_STATE_PENDING", FileTime: at.Add(2 * time.Hour)}
	answered := filed
	answered.State, answered.Answer, answered.AnsweredBy, answered.AnswerTime = "OBJECTION_STATE_ACCEPTED", "found it", "chair", at.Add(3*time.Hour)
	answered.Correction = json.RawMessage(`{"outcome":"OUTCOME_PASS"}`)
	more := []Command{
		{WorkflowID: wf, SelectionID: "sel-k", Key: "req-object-1", Seq: 3, Kind: "FileObjection", Actor: Actor{Subject: "cand-0", Role: "ROLE_CANDIDATE"},
			At: filed.FileTime, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OBJECTIONS", Reason: filed.Reason, Objection: &filed,
			Target: "selections/sel-k/applications/" + ids[0] + "/objections/x"},
		{WorkflowID: wf, SelectionID: "sel-k", Key: "req-answer-1", Seq: 4, Kind: "AnswerObjection", Actor: chair, At: answered.AnswerTime,
			Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OBJECTIONS", Reason: "found it", Objection: &answered,
			Applications: []ApplicationChange{{ApplicationID: ids[0], State: StateInProgress, Stage: "STAGE_ADMINISTRATIVE_SCREENING"}},
			Result: &StageResult{Stage: "STAGE_ADMINISTRATIVE_SCREENING", Revision: 2, PublishedAt: answered.AnswerTime, RevisionReason: "objection accepted",
				Entries: []ResultEntry{{ApplicationID: ids[0], Outcome: "OUTCOME_PASS"}, {ApplicationID: ids[1], Outcome: "OUTCOME_PASS"}}}},
		{WorkflowID: wf, SelectionID: "sel-k", Key: "req-conflict-1", Seq: 5, Kind: "DeclareConflict", Actor: Actor{Subject: "m1", Role: "ROLE_COMMITTEE"},
			At: answered.AnswerTime, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OBJECTIONS", Reason: "sepupu",
			Conflicts: []Conflict{{MemberID: "m1", ApplicationID: ids[1], Relationship: "cousin", Reason: "sepupu", DeclaredBy: "m1"}}},
		{WorkflowID: wf, SelectionID: "sel-k", Key: "req-advance-2", Seq: 6, Kind: "AdvanceStage", Actor: chair,
			At: answered.AnswerTime.Add(30 * time.Minute), Stage: "STAGE_COMPETENCY_TEST", Phase: "OBJECTIONS",
			Result: &StageResult{Stage: "STAGE_COMPETENCY_TEST", Revision: 1, PublishedAt: answered.AnswerTime.Add(30 * time.Minute),
				Entries: []ResultEntry{{ApplicationID: ids[1], Outcome: "OUTCOME_PASS", CompetencyCategory: "COMPETENCY_CATEGORY_STILL_MEETS"}}}},
		{WorkflowID: wf, SelectionID: "sel-k", Key: "req-appoint-1", Seq: 7, Kind: "Appoint", Actor: Actor{Subject: "admin", Role: "ROLE_ADMIN"},
			At: answered.AnswerTime.Add(time.Hour), Stage: "STAGE_CLOSED", Appointment: &Appointment{ApplicationID: ids[1], PPKDecreeRef: "SK-1", OversightRecommendationRef: "BKN-1",
				Justification: "memimpin program kesehatan daerah"},
			Applications: []ApplicationChange{{ApplicationID: ids[1], State: StateAppointed, Rank: 1}}},
	}
	for _, c := range more {
		if _, err := s.ApplyCommand(ctx, c); err != nil {
			t.Fatalf("apply %s: %v", c.Key, err)
		}
	}
	res, err := s.GetStageResult(ctx, "sel-k", "STAGE_ADMINISTRATIVE_SCREENING", 0)
	if err != nil || res.Revision != 2 || res.RevisionReason != "objection accepted" || len(res.Entries) != 2 || res.Entries[0].Outcome != "OUTCOME_PASS" {
		t.Fatalf("latest result = %+v, %v", res, err)
	}
	if first, err := s.GetStageResult(ctx, "sel-k", "STAGE_ADMINISTRATIVE_SCREENING", 1); err != nil || first.Entries[0].Outcome != "OUTCOME_FAIL" || !first.ObjectionDeadline.Equal(at.Add(72*time.Hour)) {
		t.Fatalf("revision 1 = %+v, %v", first, err)
	}
	if _, err := s.GetStageResult(ctx, "sel-k", "STAGE_INTERVIEW", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unpublished result: %v, want ErrNotFound", err)
	}
	back, _ := s.GetApplication(ctx, "sel-k", ids[0])
	if back.State != StateInProgress || back.EliminationReason != "" || back.Results[1].Revision != 2 {
		t.Fatalf("corrected application = %+v", back)
	}
	for _, parent := range []string{ids[0], "-"} {
		page, err := s.ListObjections(ctx, "sel-k", parent, ListOptions{})
		if err != nil || len(page.Items) != 1 || page.Items[0].State != "OBJECTION_STATE_ACCEPTED" || page.Items[0].Answer != "found it" ||
			string(page.Items[0].Correction) != `{"outcome":"OUTCOME_PASS"}` {
			t.Fatalf("objections of %s = %+v, %v", parent, page, err)
		}
	}
	if page, err := s.ListObjections(ctx, "sel-k", ids[1], ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("objections of another application = %+v, %v", page, err)
	}
	if page, err := s.ListObjections(ctx, "sel-k", "-", ListOptions{Filter: "state = PENDING"}); err != nil || len(page.Items) != 0 {
		t.Fatalf("pending objections = %+v, %v", page, err)
	}
	if _, err := s.GetObjection(ctx, "sel-k", filed.ID); err != nil {
		t.Fatal(err)
	}
	sel, _ = s.GetSelection(ctx, "sel-k")
	if sel.Stage != "STAGE_CLOSED" || sel.AppointedApplication != ids[1] || sel.PPKDecreeRef != "SK-1" ||
		sel.AppointmentJustification != "memimpin program kesehatan daerah" || len(sel.Conflicts) != 1 ||
		sel.Conflicts[0].Relationship != "cousin" {
		t.Fatalf("closed selection = %+v", sel)
	}
	appointed, _ := s.GetApplication(ctx, "sel-k", ids[1])
	if appointed.State != StateAppointed || appointed.Rank != 1 {
		t.Fatalf("appointed = %+v", appointed)
	}
	// The competency result keeps the assessment center's category, in the application's
	// results and in the published entries.
	if r := appointed.Results[len(appointed.Results)-1]; r.Stage != "STAGE_COMPETENCY_TEST" || r.CompetencyCategory != "COMPETENCY_CATEGORY_STILL_MEETS" {
		t.Fatalf("competency result of the application = %+v", r)
	}
	if comp, err := s.GetStageResult(ctx, "sel-k", "STAGE_COMPETENCY_TEST", 0); err != nil || comp.Entries[0].CompetencyCategory != "COMPETENCY_CATEGORY_STILL_MEETS" {
		t.Fatalf("competency result = %+v, %v", comp, err)
	}
	if rep, err := s.VerifyChain(ctx, "sel-k"); err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
	for _, id := range ids {
		checkGetApplication(t, s, "sel-k", id)
	}
}

func testProjectWindow(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-w")
	in := WindowInput{WorkflowID: "selection-sel-w", SelectionID: "sel-w", Key: "window-0",
		Window: Window{Opens: t0, Closes: t0.Add(48 * time.Hour), ClosesWall: t0.Add(time.Hour)}}
	for i, want := range []bool{true, false} {
		applied, err := s.ProjectWindow(ctx, in, t0)
		if err != nil || applied != want {
			t.Fatalf("call %d: applied %v, %v; want %v", i, applied, err, want)
		}
	}
	// A scaled window: both clocks are kept for the opening as for the close. A projection
	// recorded without the opening's wall time (before it was sent) is the same projection.
	newSelection(t, s, "sel-ws")
	scaled := WindowInput{WorkflowID: "selection-sel-ws", SelectionID: "sel-ws", Key: "window-0",
		Window: Window{Opens: t0, OpensWall: t0.Add(-time.Minute), Closes: t0.Add(48 * time.Hour), ClosesWall: t0.Add(time.Hour)}}
	if _, err := s.ProjectWindow(ctx, scaled, t0); err != nil {
		t.Fatal(err)
	}
	if sel, err := s.GetSelection(ctx, "sel-ws"); err != nil || !sel.Window.OpensWall.Equal(t0.Add(-time.Minute)) || !sel.Window.ClosesWall.Equal(t0.Add(time.Hour)) {
		t.Fatalf("scaled window = %+v, %v", sel.Window, err)
	}
	if applied, err := s.ProjectWindow(ctx, in, t0); err != nil || applied {
		t.Fatalf("retry of a projection without the opening's wall time: applied %v, %v", applied, err)
	}
	other := in
	other.Window.ClosesWall = t0.Add(2 * time.Hour)
	if _, err := s.ProjectWindow(ctx, other, t0); !errors.Is(err, ErrConflict) {
		t.Fatalf("same key, other window: %v, want ErrConflict", err)
	}
	bad := in
	bad.Key, bad.Window.ClosesWall = "window-9", t0.Add(-time.Hour)
	if _, err := s.ProjectWindow(ctx, bad, t0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("close before open: %v, want ErrInvalidArgument", err)
	}
	missing := in
	missing.SelectionID = "sel-none"
	if _, err := s.ProjectWindow(ctx, missing, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing selection: %v, want ErrNotFound", err)
	}
	submit(t, s, newSubmission("sel-w", 1, t0.Add(30*time.Minute)))
	if _, err := s.TakeSnapshot(ctx, SnapshotInput{WorkflowID: "selection-sel-w", SelectionID: "sel-w", Key: "snapshot-1", ClosedAt: t0.Add(48 * time.Hour)}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The extension reopens intake until its own close.
	ext := WindowInput{WorkflowID: "selection-sel-w", SelectionID: "sel-w", Key: "window-1",
		Window: Window{Opens: t0, Closes: t0.Add(96 * time.Hour), ClosesWall: t0.Add(2 * time.Hour), Extension: 1}}
	if _, err := s.ProjectWindow(ctx, ext, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sel, _ := s.GetSelection(ctx, "sel-w")
	if sel.IntakeFrozen || sel.Window.Extension != 1 || !sel.Window.ClosesWall.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("extended selection = %+v", sel)
	}
	submit(t, s, newSubmission("sel-w", 2, t0.Add(90*time.Minute)))
	snap, err := s.TakeSnapshot(ctx, SnapshotInput{WorkflowID: "selection-sel-w", SelectionID: "sel-w", Key: "snapshot-2", ClosedAt: t0.Add(96 * time.Hour)}, t0.Add(2*time.Hour))
	if err != nil || len(snap.Applications) != 2 {
		t.Fatalf("second snapshot = %+v, %v", snap, err)
	}
	// The first snapshot still verifies over its own applications.
	if chk, err := s.VerifySnapshot(ctx, "sel-w", "snapshot-1"); err != nil || !chk.OK {
		t.Fatalf("first snapshot after the extension: %+v, %v", chk, err)
	}
}

func testAuditEvents(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-e")
	for i := range 9 {
		submit(t, s, newSubmission("sel-e", i, t0.Add(time.Duration(i)*time.Minute)))
	}
	var seqs []int64
	opts := ListOptions{PageSize: 4}
	for {
		page, err := s.ListAuditEvents(ctx, "sel-e", opts)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalSize != 10 {
			t.Fatalf("total = %d, want 10", page.TotalSize)
		}
		for _, e := range page.Items {
			seqs = append(seqs, e.Seq)
			if e.Hash != ChainHash(e) {
				t.Fatalf("event %d: exported hash does not recompute", e.Seq)
			}
		}
		if page.NextPageToken == "" {
			break
		}
		opts.PageToken = page.NextPageToken
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("seqs = %v", seqs)
	}
	page, err := s.ListAuditEvents(ctx, "sel-e", ListOptions{Filter: "role = ADMIN"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Action != "CreateSelection" {
		t.Fatalf("admin events = %+v, %v", page, err)
	}
	page, err = s.ListAuditEvents(ctx, "sel-e", ListOptions{Filter: "action = SubmitApplication", PageSize: 100})
	if err != nil || len(page.Items) != 9 {
		t.Fatalf("submissions = %d, %v", len(page.Items), err)
	}
	var payload map[string]any
	if err := json.Unmarshal(page.Items[0].Payload, &payload); err != nil || payload["fullName"] != nil || payload["requestSha256"] == nil {
		t.Fatalf("intake payload = %s (must hold no personal data)", page.Items[0].Payload)
	}
	if _, err := s.ListAuditEvents(ctx, "sel-none", ListOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing selection: %v, want ErrNotFound", err)
	}
}

func testNotifications(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-n")
	app := submit(t, s, newSubmission("sel-n", 1, t0))
	drainNotifications(t, s, t0)
	if _, err := s.ApplyCommand(ctx, Command{WorkflowID: "selection-sel-n", SelectionID: "sel-n", Key: "event-1", Seq: 1, Kind: "Cancel",
		Actor: Actor{Subject: "admin", Role: "ROLE_ADMIN"}, At: t0.Add(time.Hour), Stage: "STAGE_CANCELLED", CancelReason: "budget",
		Applications: []ApplicationChange{{ApplicationID: app.ID, State: StateNotSelected, Reason: "cancelled",
			Status: &Text{EN: "The selection was cancelled.", ID: "Seleksi dibatalkan."}}}}); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingNotifications(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].Recipient != "cand-1" || pending[0].Text.ID != "Seleksi dibatalkan." {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	// It goes to the address the candidate gave in the application, fixed when queued.
	if pending[0].Email != "calon1@example.go.id" || pending[0].ApplicationID != app.ID {
		t.Fatalf("notification addressed to %q for %q, want the application's e-mail", pending[0].Email, pending[0].ApplicationID)
	}
	// A failed attempt puts it back until its retry time; a sent one leaves the outbox.
	claim := Claim{Owner: "d1", Limit: 10, MaxAttempts: 5, Now: t0, Lease: time.Minute}
	got, err := s.ClaimNotifications(ctx, claim)
	if err != nil || len(got.Due) != 1 || got.Due[0].ID != pending[0].ID {
		t.Fatalf("claim = %+v, %v", got, err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: pending[0].ID, Owner: "d1", At: t0, Error: "smtp down", Retry: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.PendingNotifications(ctx, 10); len(again) != 1 || again[0].Attempts != 1 || again[0].LastError != "smtp down" {
		t.Fatalf("after a failed attempt: %+v", again)
	}
	claim.Now = t0.Add(time.Minute)
	if got, err := s.ClaimNotifications(ctx, claim); err != nil || len(got.Due) != 1 {
		t.Fatalf("claim at the retry time = %+v, %v", got, err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: pending[0].ID, Owner: "d1", At: claim.Now}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.PendingNotifications(ctx, 10); len(again) != 0 {
		t.Fatalf("after delivery: %+v", again)
	}
	if n, err := s.GetNotification(ctx, pending[0].ID); err != nil || n.State != NotificationSent || n.Attempts != 2 || n.LastError != "" ||
		!n.SendTime.Equal(claim.Now) {
		t.Fatalf("sent notification = %+v, %v", n, err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: "missing", Owner: "d1", At: t0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing notification: %v, want ErrNotFound", err)
	}
}

func testWithdrawBeforeClose(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-wd")
	var apps []Application
	for i := range 3 {
		apps = append(apps, submit(t, s, newSubmission("sel-wd", i, t0.Add(time.Duration(i)*time.Minute))))
	}
	owner := Actor{Subject: apps[0].Owner, Role: "ROLE_CANDIDATE"}
	in := WithdrawInput{SelectionID: "sel-wd", ApplicationID: apps[0].ID, RequestID: "withdraw-1", Actor: owner, Reason: "pindah tugas",
		Status: &Text{Code: StateWithdrawn, EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."}, Now: t0.Add(time.Hour)}
	for range 2 { // the retry changes nothing
		app, err := s.WithdrawBeforeClose(ctx, in)
		if err != nil || app.State != StateWithdrawn || app.EliminatedStage != StageAnnouncement || app.EliminationReason != "pindah tugas" {
			t.Fatalf("withdrawn = %+v, %v", app, err)
		}
		// The candidate reads the status the API gave, not the one from before.
		if app.Status.ID != "Anda telah menarik lamaran." || app.Status.EN != "You withdrew your application." {
			t.Fatalf("status after the withdrawal = %+v", app.Status)
		}
	}
	tests := []struct {
		name string
		in   func() WithdrawInput
		want error
	}{
		{"someone else's", func() WithdrawInput { x := in; x.ApplicationID = apps[1].ID; return x }, ErrNotFound},
		{"missing", func() WithdrawInput { x := in; x.ApplicationID = "app-none"; return x }, ErrNotFound},
		{"no actor", func() WithdrawInput { x := in; x.Actor = Actor{}; return x }, ErrInvalidArgument},
		{"after the close", func() WithdrawInput {
			x := in
			x.ApplicationID, x.Actor, x.Now = apps[1].ID, Actor{Subject: apps[1].Owner, Role: "ROLE_CANDIDATE"}, t0.Add(241*time.Hour)
			return x
		}, ErrFailedPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.WithdrawBeforeClose(ctx, tc.in()); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A withdrawal is final: the candidate cannot apply again.
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-wd", 0, t0.Add(2*time.Hour))); err != nil {
		t.Fatalf("retry of the original submission: %v", err)
	}
	again := newSubmission("sel-wd", 0, t0.Add(2*time.Hour))
	again.RequestID = "request-new"
	if _, err := s.SubmitApplication(ctx, again); !errors.Is(err, ErrConflict) {
		t.Fatalf("reapplication: %v, want ErrConflict", err)
	}
	// The secretariat records a written withdrawal of another application.
	if _, err := s.WithdrawBeforeClose(ctx, WithdrawInput{SelectionID: "sel-wd", ApplicationID: apps[2].ID, RequestID: "withdraw-2",
		Actor: Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Reason: "surat pengunduran diri", Now: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.TakeSnapshot(ctx, SnapshotInput{WorkflowID: "selection-sel-wd", SelectionID: "sel-wd", Key: "snapshot-1", ClosedAt: t0.Add(240 * time.Hour)}, t0.Add(240*time.Hour))
	if err != nil || len(snap.Applications) != 1 || snap.Applications[0].ID != apps[1].ID {
		t.Fatalf("snapshot = %+v, %v; want only %s", snap, err, apps[1].ID)
	}
	// After the snapshot, withdrawals go through the workflow.
	if _, err := s.WithdrawBeforeClose(ctx, WithdrawInput{SelectionID: "sel-wd", ApplicationID: apps[1].ID, RequestID: "withdraw-3",
		Actor: Actor{Subject: apps[1].Owner, Role: "ROLE_CANDIDATE"}, Now: t0.Add(2 * time.Hour)}); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("withdrawal after the snapshot: %v, want ErrFailedPrecondition", err)
	}
	page, err := s.ListAuditEvents(ctx, "sel-wd", ListOptions{Filter: "action = " + ActionWithdrawBeforeClose})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("withdrawal events = %d, %v; want 2", len(page.Items), err)
	}
	if rep, err := s.VerifyChain(ctx, "sel-wd"); err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
}

// testMessageCodes: what the workflow says is stored as a code with parameters and an
// embedded message, and read back the same, for statuses, elimination reasons, published
// reasons, revision reasons, cancellations and notifications.
func testMessageCodes(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-m")
	app := submit(t, s, newSubmission("sel-m", 1, t0))
	why := &Text{Code: "reason.interview_below_mark", Params: map[string]string{"score": "6850", "mark": "7000"}}
	status := &Text{Code: "status.eliminated", Params: map[string]string{"stage": "STAGE_INTERVIEW", "deadline": "2026-07-23T17:00:00Z", "zone": "WIB"},
		Detail: why}
	revision := &Text{Code: "reason.objection_accepted", Params: map[string]string{"objection": "o-1", "answer": "Diterima."}}
	cancel := &Text{Code: "reason.postponed", Params: map[string]string{"count": "1", "extensions": "2", "required": "6"}}
	if _, err := s.ApplyCommand(ctx, Command{WorkflowID: "selection-sel-m", SelectionID: "sel-m", Key: "event-1", Seq: 1, Kind: "Postponed",
		Actor: Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: t0.Add(time.Hour), Stage: "STAGE_CANCELLED", CancelMessage: cancel,
		Applications: []ApplicationChange{{ApplicationID: app.ID, State: StateEliminated, Stage: "STAGE_INTERVIEW", ReasonMessage: why, Status: status}},
		Result: &StageResult{Stage: "STAGE_INTERVIEW", Revision: 1, PublishedAt: t0.Add(time.Hour), RevisionMessage: revision,
			Entries: []ResultEntry{{ApplicationID: app.ID, Outcome: "OUTCOME_FAIL", ReasonMessage: why}}},
		Message: cancel}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetApplication(ctx, "sel-m", app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Status, *status) || !reflect.DeepEqual(got.EliminationMessage, why) || got.EliminationReason != "" {
		t.Errorf("application status %+v, elimination %+v %q", got.Status, got.EliminationMessage, got.EliminationReason)
	}
	if len(got.Results) != 1 || !reflect.DeepEqual(got.Results[0].ReasonMessage, why) {
		t.Errorf("application results %+v", got.Results)
	}
	res, err := s.GetStageResult(ctx, "sel-m", "STAGE_INTERVIEW", 0)
	if err != nil || !reflect.DeepEqual(res.RevisionMessage, revision) || len(res.Entries) != 1 || !reflect.DeepEqual(res.Entries[0].ReasonMessage, why) {
		t.Errorf("stage result %+v, %v", res, err)
	}
	sel, err := s.GetSelection(ctx, "sel-m")
	if err != nil || !reflect.DeepEqual(sel.CancelMessage, cancel) || sel.CancelReason != "" {
		t.Errorf("selection cancellation %+v %q, %v", sel.CancelMessage, sel.CancelReason, err)
	}
	pending, err := s.PendingNotifications(ctx, 10)
	pending = slices.DeleteFunc(pending, func(n Notification) bool { return n.Kind == ActionSubmitApplication })
	if err != nil || len(pending) != 1 || !reflect.DeepEqual(pending[0].Text, *status) {
		t.Errorf("pending = %+v, %v", pending, err)
	}
}

// drainNotifications marks every pending notification sent, as a dispatcher would at now:
// tests of later notifications start from an empty outbox.
func drainNotifications(t *testing.T, s *Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	got, err := s.ClaimNotifications(ctx, Claim{Owner: "drain", Limit: 100, MaxAttempts: 5, Now: now, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range got.Due {
		if err := s.RecordDelivery(ctx, Delivery{ID: n.ID, Owner: "drain", At: now}); err != nil {
			t.Fatal(err)
		}
	}
}

// newestMigration is the number of the newest migration file shipped in the binary.
func newestMigration(t *testing.T) int64 {
	t.Helper()
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migration files: %v %v", names, err)
	}
	var newest int64
	for _, n := range names {
		v, err := strconv.ParseInt(strings.SplitN(path.Base(n), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", n, err)
		}
		newest = max(newest, v)
	}
	return newest
}

// testSelectionIntake: the intake facts agree with the whole selection, before and after its
// window is projected.
func testSelectionIntake(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-in")
	for _, project := range []bool{false, true} {
		if project {
			openWindow(t, s, "sel-in2")
		}
		id := map[bool]string{false: "sel-in", true: "sel-in2"}[project]
		sel, err := s.GetSelection(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.GetSelectionIntake(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := SelectionIntake{Stage: sel.Stage, WindowCloses: sel.Window.Closes, TimeZone: sel.TimeZone}
		if in != want || in.TimeZone == "" || in.WindowCloses.IsZero() != !project {
			t.Fatalf("intake of %s = %+v, want %+v", id, in, want)
		}
	}
	if _, err := s.GetSelectionIntake(ctx, "sel-none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing selection: %v, want ErrNotFound", err)
	}
}
