package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Migrate brings the store at cfg's database URL to this binary's schema and returns: the
// -migrate-only run of an upgrade's migration Job. It needs neither Temporal nor any key, so
// the Job runs before the new API replicas and workers, which then find nothing to migrate
// (they still migrate at start, under the store's lock, when no Job ran).
func Migrate(ctx context.Context, cfg config.Config, logger *slog.Logger) (err error) {
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if strings.HasPrefix(cfg.StoreURL(), "sqlite:") {
		if err := privateDataDir(cfg.DataDir, logger); err != nil {
			return fmt.Errorf("app: migrate: %w", err)
		}
	}
	st, err := store.Open(ctx, cfg.StoreURL())
	if err != nil {
		return fmt.Errorf("app: migrate: %w", err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("app: migrate: %w", cerr))
		}
	}()
	before, latest, err := st.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("app: migrate: %w", err)
	}
	if before > latest {
		// A database migrated by a newer release: rolling back the binary is only safe when
		// that release's migrations were backwards compatible, which this binary cannot know.
		return fmt.Errorf("app: migrate: the store is at schema version %d, newer than this binary's %d", before, latest)
	}
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("app: migrate: %w", err)
	}
	after, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("app: migrate: %w", err)
	}
	logger.Info("store migrated", "from_version", before, "to_version", after)
	return nil
}
