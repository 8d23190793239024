// Package store owns Seleksi's relational data: what people read and search (selections,
// applications and their status projection, published stage results, objections, the
// notification outbox and the audit log). It runs on SQLite (the embedded default) and
// PostgreSQL (production) through gorm, with versioned SQL migrations embedded in the binary.
//
// It owns four kinds of writes: application intake during the announcement window
// (SubmitApplication, which the API calls directly because a deadline rush is too much for
// workflow updates), the workflow's projections (ProjectWindow, TakeSnapshot, ApplyCommand,
// each idempotent by workflow ID and key), the selection's creation, and notification
// delivery bookkeeping. Every write that people must be able to account for appends an event
// to the selection's hash-chained audit log in the same transaction.
//
// Errors wrap ErrNotFound, ErrConflict, ErrFailedPrecondition or ErrInvalidArgument where one
// applies; only the API layer turns them into status codes.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	// The pure-Go SQLite driver, registered as "sqlite". The embedded Temporal server
	// registers the same driver, so one registration serves both (a second SQLite driver
	// under the same name would panic at start-up).
	_ "modernc.org/sqlite"
)

// Dialect names the database behind a Store.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// postgresMaxConns is the size of the PostgreSQL connection pool of one process.
const postgresMaxConns = 16

// Store is Seleksi's relational store.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	// pageKeys authenticate the page tokens of lists (see paging.go): the first signs, every
	// one verifies.
	pageKeys [][]byte
	// plugins are added to gorm at Open (tracing: internal/telemetry).
	plugins []gorm.Plugin
	// reads runs the queries of the status read that candidates repeat (GetApplication and
	// what the API reads beside it) as prepared statements on SQLite, which otherwise
	// parses each statement again at every call: a tenth of a status read's time. The set
	// of those statements is fixed, so their cache stays small. On PostgreSQL it is db: the
	// pgx driver keeps its own cache of prepared statements.
	reads *gorm.DB
	// actorIDs and recordsActorIDs remember what ActorID and RecordsActorIDs read, which
	// never changes once written (see memo).
	actorIDs        *memo[actorKey, string]
	recordsActorIDs *memo[string, bool]
	// intake queues submissions for their selection's next group commit (intake.go).
	intake *intake
}

// Option configures a Store.
type Option func(*Store)

// WithPageTokenKey authenticates page tokens with key (at least 32 bytes), so that tokens
// stay valid across restarts and across every process given the same key. Without it a Store
// makes a random key of its own: its tokens are then good only for its lifetime.
func WithPageTokenKey(key []byte) Option {
	return func(s *Store) { s.pageKeys = [][]byte{key} }
}

// WithPageTokenKeys authenticates new page tokens with active and accepts tokens
// authenticated with any of older too: a rotation of the key directory's page-token keys
// leaves the pages clients are reading valid while the old key is still there.
func WithPageTokenKeys(active []byte, older ...[]byte) Option {
	return func(s *Store) { s.pageKeys = append([][]byte{active}, older...) }
}

// WithPlugins adds gorm plugins to the store's connection, such as the spans of
// internal/telemetry; nil plugins are skipped.
func WithPlugins(plugins ...gorm.Plugin) Option {
	return func(s *Store) {
		for _, p := range plugins {
			if p != nil {
				s.plugins = append(s.plugins, p)
			}
		}
	}
}

// Open connects to the database named by rawURL: "sqlite:PATH" or a postgres:// URL.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	var (
		dialector gorm.Dialector
		dialect   Dialect
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(rawURL, "sqlite:")
		if path == "" {
			return nil, errors.New("store: sqlite URL has no path")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
		if err := privateSQLiteFiles(path); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		dialector = sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: sqliteDSN(path)})
		dialect = SQLite
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		dialector = postgres.Open(rawURL)
		dialect = Postgres
	default:
		return nil, fmt.Errorf("store: unsupported database URL %q: want sqlite:PATH or postgres://", redact(rawURL))
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s database: %w", dialect, err)
	}
	s := &Store{db: db, dialect: dialect, intake: newIntake(),
		actorIDs: newMemo[actorKey, string](memoSize), recordsActorIDs: newMemo[string, bool](memoSize)}
	for _, o := range opts {
		o(s)
	}
	if s.pageKeys == nil {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("store: page-token key: %w", err)
		}
		s.pageKeys = [][]byte{key}
	}
	for _, k := range s.pageKeys {
		if len(k) < 32 {
			_ = s.Close()
			return nil, errors.New("store: every page-token key must be at least 32 bytes")
		}
	}
	for _, p := range s.plugins {
		if err := db.Use(p); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("store: gorm plugin %s: %w", p.Name(), err)
		}
	}
	s.reads = db
	if dialect == SQLite {
		s.reads = db.Session(&gorm.Session{PrepareStmt: true})
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("store: sqlite handle: %w", err)
		}
		// SQLite has one writer; a small pool with WAL and a busy timeout queues writers
		// instead of failing them with "database is locked" at a deadline rush.
		sqlDB.SetMaxOpenConns(4)
		// Keep them open: database/sql keeps two idle by default and closes the others after
		// each burst, and every new SQLite connection parses the whole schema again.
		sqlDB.SetMaxIdleConns(4)
	} else {
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("store: postgres handle: %w", err)
		}
		// Bound the pool: a deadline rush of thousands of concurrent submissions must queue
		// here rather than exhaust the server's max_connections. Writes to one selection
		// are serialized by its row lock anyway, so more connections would not help them.
		sqlDB.SetMaxOpenConns(postgresMaxConns)
		sqlDB.SetMaxIdleConns(postgresMaxConns)
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// privateSQLiteFiles makes the database file and its WAL and shared-memory companions
// readable by the owner only: they hold personal data. The file is created 0600 before
// SQLite opens it, because SQLite creates the -wal and -shm files with the permissions of
// the database file; files left by an earlier version are narrowed.
func privateSQLiteFiles(path string) error {
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

// sqliteDSN enables WAL, a busy timeout, foreign keys and in-memory temporary files on every
// pooled connection.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Savepoints (a group commit of submissions has one per submission) copy each page they
	// change to a sub-journal, a temporary file by default: one write system call per page.
	// In memory it costs a copy.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Dialect reports which database the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.dialect, err)
	}
	return nil
}

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return sqlDB.Close()
}

// redact hides a password in a URL before it reaches a log or an error.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
