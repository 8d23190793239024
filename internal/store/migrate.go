package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/crc32"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFS holds the versioned schema migrations; they ship inside the binary so that a
// deployment can never run code against a schema it was not built for.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// versionTable records which migrations have been applied.
const versionTable = "schema_migrations"

// Migrate brings the schema up to the newest migration. It is safe to call at every start and
// from several processes at once: on PostgreSQL the migrations run under a session advisory
// lock, and on SQLite one process owns the file. Applied migrations are skipped.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.migrationProvider(ctx)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.dialect, err)
	}
	return nil
}

// SchemaVersion reports the newest applied migration and the newest one the binary has.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrationProvider(ctx)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: schema version: %w", err)
	}
	return current, latest, nil
}

func (s *Store) migrationProvider(ctx context.Context) (*goose.Provider, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(versionTable),
		goose.WithDisableGlobalRegistry(true),
	}
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		id, err := migrationLockID(ctx, sqlDB)
		if err != nil {
			return nil, err
		}
		// Poll the lock every second for up to five minutes: a peer that holds it is
		// applying the same migrations, which takes seconds.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, sqlDB, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// migrationLockID derives the advisory lock from the schema the connection works in, so that
// processes migrating the same schema exclude each other while independent schemas in one
// database (tenants, or parallel test runs) do not wait for one another.
func migrationLockID(ctx context.Context, db *sql.DB) (int64, error) {
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return 0, fmt.Errorf("store: migration lock: current schema: %w", err)
	}
	return int64(crc32.ChecksumIEEE([]byte("seleksi-migrations:" + schema))), nil
}
