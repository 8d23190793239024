package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// The store's error classes decide what the workflow does with a failed write: invalid data is
// refused at once (a command is answered, a step blocks), a transient error is retried with
// backoff. Each case below makes the database itself produce the error.

func TestErrorClassesSQLite(t *testing.T) {
	t.Parallel()
	testErrorClasses(t, sqliteFactory)
}

func TestErrorClassesPostgres(t *testing.T) {
	t.Parallel()
	testErrorClasses(t, postgresFactory(t))
}

type errorClass int

const (
	classOther errorClass = iota
	classInvalid
	classTransient
)

func classOf(err error) errorClass {
	switch {
	case IsInvalidData(err):
		return classInvalid
	case IsTransient(err):
		return classTransient
	}
	return classOther
}

func testErrorClasses(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	if err := s.db.Exec(`CREATE TABLE err_probe (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n < 10), s TEXT UNIQUE)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.db.Exec(`INSERT INTO err_probe (id, n, s) VALUES (1, 1, 'a')`).Error; err != nil {
		t.Fatal(err)
	}
	pg := s.Dialect() == Postgres
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	openWindow(t, s, "sel-e")
	nul := Command{WorkflowID: "selection-sel-e", SelectionID: "sel-e", Key: "req-withdraw-1", Seq: 1, Kind: "WithdrawApplication",
		Actor: Actor{Subject: "cand", Role: "ROLE_CANDIDATE"}, At: t0.Add(300 * time.Hour), Stage: "STAGE_ADMINISTRATIVE_SCREENING",
		Reason: "alasan\x00pribadi"}
	tests := []struct {
		name   string
		pgOnly bool
		run    func() error
		want   errorClass
	}{
		{"not null", false, func() error { return s.db.Exec(`INSERT INTO err_probe (id, n) VALUES (2, NULL)`).Error }, classInvalid},
		{"check", false, func() error { return s.db.Exec(`INSERT INTO err_probe (id, n) VALUES (3, 11)`).Error }, classInvalid},
		{"unique", false, func() error { return s.db.Exec(`INSERT INTO err_probe (id, n, s) VALUES (4, 1, 'a')`).Error }, classInvalid},
		{"primary key", false, func() error { return s.db.Exec(`INSERT INTO err_probe (id, n) VALUES (1, 1)`).Error }, classInvalid},
		// Found on PostgreSQL: a NUL byte in a withdrawal reason was retried forever.
		{"NUL in text", true, func() error { return s.db.Exec(`INSERT INTO err_probe (id, n, s) VALUES (5, 1, ?)`, "a\x00b").Error }, classInvalid},
		{"invalid UTF-8 in text", true, func() error { return s.db.Exec(`INSERT INTO err_probe (id, n, s) VALUES (6, 1, ?)`, "a\xffb").Error }, classInvalid},
		{"integer out of range", true, func() error { return s.db.Exec(`SELECT 2147483647::integer + 1`).Error }, classInvalid},
		{"NUL in a command (store check)", false, func() error { _, err := s.ApplyCommand(ctx, nul); return err }, classInvalid},
		{"serialization failure", true, func() error {
			return s.db.Exec(`DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '40001'; END $$`).Error
		}, classTransient},
		{"admin shutdown of the connection", true, func() error { return s.db.Exec(`SELECT pg_terminate_backend(pg_backend_pid())`).Error }, classTransient},
		{"deadline", false, func() error { return s.db.WithContext(expired).Exec(`SELECT 1`).Error }, classTransient},
		{"missing row", false, func() error { _, err := s.GetSelection(ctx, "none"); return err }, classOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.pgOnly && !pg {
				t.Skip("PostgreSQL only: SQLite stores the value")
			}
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			if got := classOf(err); got != tc.want {
				t.Errorf("class %d, want %d: %v", got, tc.want, err)
			}
		})
	}
	if _, err := s.GetSelection(ctx, "none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing row: %v", err)
	}
	if !pg {
		t.Run("busy", func(t *testing.T) { sqliteBusy(t) })
	} else {
		t.Run("connection refused", func(t *testing.T) {
			_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
			if err == nil || classOf(err) != classTransient {
				t.Errorf("class of %v, want transient", err)
			}
		})
	}
}

// sqliteBusy makes SQLite answer SQLITE_BUSY: a second connection without a busy timeout
// wants to write while the first holds the write lock.
func sqliteBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	db1, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db1.Close()
	db2, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	ctx := context.Background()
	if _, err := db1.ExecContext(ctx, `CREATE TABLE x (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	c1, err := db1.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if _, err := c1.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = c1.ExecContext(ctx, `ROLLBACK`) }()
	_, err = db2.ExecContext(ctx, `INSERT INTO x VALUES (1)`)
	if err == nil || classOf(err) != classTransient {
		t.Errorf("class of %v, want transient", err)
	}
}
