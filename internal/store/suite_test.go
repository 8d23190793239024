package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The store test suite runs every test against each database: SQLite in a temporary
// directory, and PostgreSQL in a fresh schema per test. PostgreSQL's URL comes from
// SELEKSI_TEST_POSTGRES_URL; when the server is unreachable the PostgreSQL half fails under CI
// (env CI set) and is skipped elsewhere.

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// factory opens an empty store for one test, migrated unless told otherwise, and closes and
// removes it when the test ends.
type factory func(t testing.TB, migrate bool) *Store

func TestSQLite(t *testing.T) {
	t.Parallel()
	runSuite(t, sqliteFactory)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	runSuite(t, postgresFactory(t))
}

func sqliteFactory(t testing.TB, migrate bool) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if migrate {
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return s
}

func postgresFactory(t testing.TB) factory {
	t.Helper()
	admin, raw := postgresAdmin(t)
	return func(t testing.TB, migrate bool) *Store {
		t.Helper()
		s, err := Open(context.Background(), freshSchema(t, admin, raw))
		if err != nil {
			t.Fatalf("open postgres schema: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if migrate {
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		return s
	}
}

// postgresAdmin connects to the test server, or fails (under CI) or skips the test.
func postgresAdmin(t testing.TB) (*Store, string) {
	t.Helper()
	raw := os.Getenv("SELEKSI_TEST_POSTGRES_URL")
	if raw == "" {
		raw = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := Open(ctx, raw)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (set SELEKSI_TEST_POSTGRES_URL): %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	return admin, raw
}

// freshSchema creates an empty schema t_<random>, drops it when the test ends, and returns
// the URL of a connection that works in it. Stores opened on the URL must be closed first;
// t.Cleanup runs in reverse order, so registering their Close later does that.
func freshSchema(t testing.TB, admin *Store, raw string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if err := admin.db.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.db.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPostgresConcurrentMigrate starts several processes' worth of stores on one empty schema
// at once: the advisory lock lets one apply the migrations and the others find them applied.
func TestPostgresConcurrentMigrate(t *testing.T) {
	t.Parallel()
	admin, raw := postgresAdmin(t)
	dsn := freshSchema(t, admin, raw)
	stores := make([]*Store, 4)
	for i := range stores {
		s, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	errs := parallel(len(stores), func(i int) error { return stores[i].Migrate(context.Background()) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
	}
	cur, latest, err := stores[0].SchemaVersion(context.Background())
	if err != nil || cur != latest {
		t.Fatalf("version %d of %d, %v", cur, latest, err)
	}
	// Each migration is recorded once (plus goose's initial version-0 row). Versions are the
	// files' numbers, which may leave gaps while branches merge, so the files are counted.
	files, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, stores[0], versionTable, "1 = 1"); n != int64(len(files))+1 {
		t.Fatalf("%d version rows, want %d", n, len(files)+1)
	}
}

func runSuite(t *testing.T, open factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open factory)
	}{
		{"Migrations", testMigrations},
		{"Sessions", testSessions},
		{"Selections", testSelections},
		{"Intake", testIntake},
		{"ListApplications", testListApplications},
		{"PaginationUnderInserts", testPaginationUnderInserts},
		{"ConcurrentIntake", testConcurrentIntake},
		{"GroupCommit", testGroupCommit},
		{"SubmitAnswer", testSubmitAnswer},
		{"GetApplicationMissing", testGetApplicationMissing},
		{"GroupCommitAsOneByOne", testGroupCommitAsOneByOne},
		{"ParticipantNumbers", testParticipantNumbers},
		{"Schedules", testSchedules},
		{"Attendance", testAttendance},
		{"Absence", testAbsence},
		{"ConcurrentChain", testConcurrentChain},
		{"Tampering", testTampering},
		{"VerifyWhileAppending", testVerifyWhileAppending},
		{"SelectionIntake", testSelectionIntake},
		{"Snapshot", testSnapshot},
		{"ApplyCommand", testApplyCommand},
		{"ProjectWindow", testProjectWindow},
		{"AuditEvents", testAuditEvents},
		{"Notifications", testNotifications},
		{"NotificationChannels", testNotificationChannels},
		{"UnfinishedApplicants", testUnfinishedApplicants},
		{"OutboxDueSelection", testOutboxDueSelection},
		{"OutboxConcurrentClaims", testOutboxConcurrentClaims},
		{"OutboxLeases", testOutboxLeases},
		{"OutboxDeadLetters", testOutboxDeadLetters},
		{"MessageCodes", testMessageCodes},
		{"WithdrawBeforeClose", testWithdrawBeforeClose},
		{"WorkflowStarts", testWorkflowStarts},
		{"ObjectionPerRevision", testObjectionPerRevision},
		{"ChecklistProjection", testChecklistProjection},
		{"ChecklistBatch", testChecklistBatch},
		{"ObjectionDeadlines", testObjectionDeadlines},
		{"Actors", testActors},
		{"AccountRows", testAccountRows},
		{"AccountsMigrationDown", testAccountsMigrationDown},
		{"AccessTokens", testAccessTokens},
		{"AccessTokensMigrationDown", testAccessTokensMigrationDown},
		{"NotificationsRecipientIndex", testNotificationsRecipientIndex},
		{"Documents", testDocuments},
		{"DocumentAccesses", testDocumentAccesses},
		{"ApplicationDocuments", testApplicationDocuments},
		{"ReplaceDocument", testReplaceDocument},
		{"SnapshotCoversDocuments", testSnapshotCoversDocuments},
		{"Retention", testRetention},
		{"ConcurrentErasure", testConcurrentErasure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// Fixtures.

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

const workflowPrefix = "selection-"

func newSelection(t testing.TB, s *Store, id string) Selection {
	t.Helper()
	sel, err := s.CreateSelection(context.Background(), NewSelection{
		ID: id, RequestID: "req-" + id, WorkflowID: workflowPrefix + id,
		PositionTitle: "Kepala Dinas Kesehatan", PositionUnit: "Dinas Kesehatan", Agency: "Pemerintah Kota Contoh",
		TimeZone: "TIME_ZONE_WIB", Config: []byte(`{"windows":{"announcementDays":5}}`),
		Committee: []CommitteeMember{
			{MemberID: "chair", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"},
			{MemberID: "m1", DisplayName: "Anggota 1", Kind: "MEMBER_KIND_INTERNAL", Role: "COMMITTEE_ROLE_MEMBER", PostLevel: "POST_LEVEL_JPT_PRATAMA"},
		},
		Actor: Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0,
	})
	if err != nil {
		t.Fatalf("create selection %s: %v", id, err)
	}
	return sel
}

// openWindow creates a selection whose announcement window is open from t0 for ten days.
func openWindow(t testing.TB, s *Store, id string) {
	t.Helper()
	newSelection(t, s, id)
	_, err := s.ProjectWindow(context.Background(), WindowInput{WorkflowID: workflowPrefix + id, SelectionID: id, Key: "window-0",
		Window: Window{Opens: t0, Closes: t0.Add(240 * time.Hour), ClosesWall: t0.Add(240 * time.Hour)}}, t0)
	if err != nil {
		t.Fatalf("project window: %v", err)
	}
}

func intp(n int) *int { return &n }

func newSubmission(selectionID string, n int, at time.Time) SubmitInput {
	return SubmitInput{
		SelectionID: selectionID,
		RequestID:   "request-" + itoa(n),
		// In these tests the candidate's actor ID is their subject: the store treats both
		// as opaque strings.
		Owner: "cand-" + itoa(n),
		Candidate: Candidate{Subject: "cand-" + itoa(n), FullName: "Calon " + itoa(n), NIP: nip(n),
			Email: "calon" + itoa(n) + "@example.go.id", Phone: "+62811000" + itoa(n), BirthDate: "1975-06-15"},
		Profile:   []byte(`{"education":"EDUCATION_LEVEL_MASTER","currentPost":"Sekretaris Dinas"}`),
		Statement: "Motivasi",
		Facts:     Facts{Education: "EDUCATION_LEVEL_MASTER", ExperienceMonths: intp(120), AdministratorMonths: intp(36), Documents: []string{}},
		Now:       at,
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

func nip(n int) string {
	s := itoa(n)
	return "19750615" + strings.Repeat("0", 10-len(s)) + s
}

func submit(t testing.TB, s *Store, in SubmitInput) Application {
	t.Helper()
	app, err := s.SubmitApplication(context.Background(), in)
	if err != nil {
		t.Fatalf("submit %s: %v", in.RequestID, err)
	}
	return app
}

// parallel runs fn(i) for i in [0, n) on n goroutines and collects the errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errs
}

func count(t testing.TB, s *Store, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
