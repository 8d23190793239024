//go:build !noembedded

package main

import (
	"log/slog"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/temporalserver"
)

// startEmbedded runs Temporal in-process. Its own logs are kept to warnings: at info level
// the server reports every membership and shard event.
func startEmbedded(cfg config.Config, logger *slog.Logger) (app.EmbeddedTemporal, error) {
	return temporalserver.Start(temporalserver.Options{
		DataDir:      cfg.DataDir,
		FrontendAddr: cfg.EmbeddedFrontendAddr,
		UIAddr:       cfg.EmbeddedUIAddr,
		Namespaces:   []string{cfg.TemporalNamespace},
		// Created with the namespace, the search attributes are usable from the first
		// request; added later through the operator API they take a moment to propagate.
		SearchAttributes: app.SearchAttributes(),
		Logger:           logger,
		LogLevel:         max(cfg.LogLevel, slog.LevelWarn),
	})
}
