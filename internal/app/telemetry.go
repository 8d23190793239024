package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/telemetry"
	"github.com/bkpsdm/seleksi/workflows"
)

// telemetryShutdownBy is the fraction of the shutdown's time by which the last spans are
// exported (see shutdownPlan): after the Temporal client and the store closed.
const telemetryShutdownBy = 0.98

// telemetryFlushTimeout bounds the export of the last spans at shutdown.
const telemetryFlushTimeout = 3 * time.Second

// statsTimeout bounds the store's queries at each scrape.
const statsTimeout = 5 * time.Second

// startTelemetry builds the metrics registry and, when a collector is configured, the tracer
// provider (see internal/telemetry); the store's state is added once the store is open.
func (a *App) startTelemetry(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	tel, err := telemetry.New(ctx, telemetry.Options{Mode: string(cfg.Mode), OTLPEndpoint: cfg.Telemetry.OTLPEndpoint,
		OTLPFromEnvironment: cfg.Telemetry.OTLPFromEnvironment, Logger: logger})
	if err != nil {
		return err
	}
	a.telemetry = tel
	if tel.Tracing() {
		logger.Info("traces are exported by OTLP", "endpoint", cfg.Telemetry.OTLPEndpoint, "from_environment", cfg.Telemetry.OTLPFromEnvironment)
	}
	if !cfg.RunsAPI() && cfg.Telemetry.MetricsOnHTTP() {
		logger.Warn("a worker serves no metrics without -metrics-addr")
	}
	return nil
}

// registerStoreStats adds the gauges of the store's state to the metrics.
func (a *App) registerStoreStats() error {
	return a.telemetry.RegisterStats(storeStats(a.store), statsTimeout, time.Now)
}

// storeStats reads the store's state for the metrics.
func storeStats(st *store.Store) telemetry.StatsFunc {
	return func(ctx context.Context) (telemetry.Stats, error) {
		s, err := st.OperationalStats(ctx)
		if err != nil {
			return telemetry.Stats{}, err
		}
		// Every stage is reported, with zero when no selection is in it, so that a stage
		// emptied is seen as zero rather than as a series that stopped.
		for _, stage := range allStages() {
			if _, ok := s.Selections[string(stage)]; !ok {
				s.Selections[string(stage)] = 0
			}
		}
		return telemetry.Stats{Selections: s.Selections, Blocked: s.Blocked, OutboxPending: s.OutboxPending,
			OutboxOldestPending: s.OutboxOldestPending, DeadLetters: s.DeadLetters, ArchivePending: s.ArchivePending,
			ArchiveOldestPending: s.ArchiveOldestPending}, nil
	}
}

// allStages are the stages the metrics report even when no selection is in them.
func allStages() []workflows.Stage {
	return []workflows.Stage{workflows.StageScheduled, workflows.StageAnnouncement, workflows.StageAdministrativeScreening,
		workflows.StageCompetencyTest, workflows.StageInterview, workflows.StageCommitteeDecision, workflows.StageClosed,
		workflows.StageCancelled}
}

// startMetricsServer serves /metrics on -metrics-addr, when it is set, until the app stops.
func (a *App) startMetricsServer(cfg config.Config, logger *slog.Logger) error {
	if !cfg.Telemetry.MetricsListener() {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+telemetry.MetricsPath, a.telemetry.Handler())
	lis, stop, err := serveAlone(cfg.Telemetry.MetricsAddr, mux, "metrics", logger)
	if err != nil {
		return err
	}
	a.metricsLis, a.stopMetrics = lis, stop
	return nil
}

// startPprofServer serves Go's runtime profiles on -pprof-addr, when it is set, until the app
// stops. Not /debug/pprof/cmdline: the command line can carry a database URL with its
// password.
func (a *App) startPprofServer(cfg config.Config, logger *slog.Logger) error {
	if cfg.Telemetry.PprofAddr == "" {
		return nil
	}
	// net/http/pprof also registers itself on http.DefaultServeMux, which this service
	// never serves.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	lis, stop, err := serveAlone(cfg.Telemetry.PprofAddr, mux, "profiles", logger)
	if err != nil {
		return err
	}
	a.pprofLis, a.stopPprof = lis, stop
	return nil
}

// serveAlone serves h on a listener of its own at addr (the operators' side ports: metrics,
// profiles) until stop, which gives running requests 2 s (a CPU profile in progress is cut
// short).
func serveAlone(addr string, h http.Handler, what string, logger *slog.Logger) (net.Listener, func(), error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen %s on %s: %w", what, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(what+" server failed", "error", err)
		}
	}()
	logger.Info("serving "+what, "addr", lis.Addr().String())
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	}
	return lis, stop, nil
}

// PprofAddr is the address of the profiles listener of -pprof-addr, or empty without one.
func (a *App) PprofAddr() string {
	if a.pprofLis == nil {
		return ""
	}
	return a.pprofLis.Addr().String()
}

// MetricsAddr is the address of the metrics listener of -metrics-addr, or empty without one.
func (a *App) MetricsAddr() string {
	if a.metricsLis == nil {
		return ""
	}
	return a.metricsLis.Addr().String()
}
