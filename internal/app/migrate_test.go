package app

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
)

// TestMigrate: -migrate-only brings an empty store to the binary's schema on both databases,
// a second run changes nothing, and a store migrated by a newer release is refused rather than
// run by an older binary.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			url := d.URL(t)
			cfg, err := config.Parse([]string{"-migrate-only", "-data-dir", t.TempDir(), "-database-url", url}, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.MigrateOnly {
				t.Fatal("-migrate-only not set")
			}
			for run := 1; run <= 2; run++ {
				if err := Migrate(ctx, cfg, logger); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				st, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				cur, latest, err := st.SchemaVersion(ctx)
				_ = st.Close()
				if err != nil {
					t.Fatal(err)
				}
				if cur != latest || latest == 0 {
					t.Fatalf("run %d: schema version %d, want the binary's %d", run, cur, latest)
				}
			}

			// A release ahead of this binary recorded a migration this binary does not have.
			driver, dsn := "pgx", url
			if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
				driver, dsn = "sqlite", path
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(ctx, "INSERT INTO schema_migrations (version_id, is_applied) VALUES (99999, true)"); err != nil {
				t.Fatal(err)
			}
			err = Migrate(ctx, cfg, logger)
			if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
				t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
			}
		})
	}
}

// TestMigrateUnreachable: a database that does not answer fails the Job instead of hanging.
func TestMigrateUnreachable(t *testing.T) {
	cfg, err := config.Parse([]string{"-migrate-only", "-data-dir", t.TempDir(),
		"-database-url", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := Migrate(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("Migrate against a closed port succeeded")
	}
}
