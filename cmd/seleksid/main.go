// Command seleksid runs Seleksi: the gRPC API, the REST/JSON gateway and the Temporal
// worker. By default everything runs in this one process with an embedded Temporal server
// and SQLite under ./data; flags point it at an external Temporal cluster and PostgreSQL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "seleksid:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	cfg, err := config.FromOS()
	if err != nil {
		return err
	}
	logger := newLogger(cfg)
	if cfg.MigrateOnly {
		return app.Migrate(ctx, cfg, logger)
	}
	return app.Run(ctx, cfg, logger, startEmbedded)
}

func newLogger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
