package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/documents/retention"
)

// startRetention erases, until the app stops, the documents of selections closed longer
// than -document-retention ago, from blobs: the document storage the uploads write to. It
// runs with the API for that reason: with the filesystem storage the files are on the API's
// disk (as the unfinished uploads are), and a worker elsewhere would find none of them to
// delete while marking their documents erased. Several API replicas sweep side by side (the
// store claims each document for one of them). With the retention off, documents are kept
// for good and no sweeper runs.
func (a *App) startRetention(cfg config.Config, logger *slog.Logger, blobs blob.Store) error {
	if cfg.Retention.Documents <= 0 {
		logger.Warn("document retention is off: documents of closed selections are kept for good")
		return nil
	}
	sw, err := retention.New(a.store, blobs, logger, retention.Options{Retention: cfg.Retention.Documents,
		Interval: cfg.Retention.Interval, Now: time.Now})
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	a.sweeper = sw
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sw.Run(ctx)
	}()
	a.stopRetention = func() {
		cancel()
		<-done
	}
	return nil
}

// EraseDueDocuments erases at once every document whose retention has passed, and reports
// what it did: for operators before maintenance, and for tests. It needs the API with the
// retention on.
func (a *App) EraseDueDocuments(ctx context.Context) (retention.Summary, error) {
	if a.sweeper == nil {
		return retention.Summary{}, errors.New("app: no document retention sweeper runs in this process")
	}
	return a.sweeper.RunOnce(ctx)
}
