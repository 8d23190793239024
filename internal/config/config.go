// Package config owns seleksid's settings: every address, the data directory, and where
// Temporal and the database live. Each setting is a flag with an environment-variable
// fallback, so the same binary runs from a terminal, a Compose file or a Kubernetes pod.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Mode selects which parts of seleksid this process runs, so API replicas and workers can
// scale separately in production.
type Mode string

// Modes of seleksid.
const (
	ModeAll    Mode = "all"
	ModeAPI    Mode = "api"
	ModeWorker Mode = "worker"
)

// Config is seleksid's configuration.
type Config struct {
	Mode    Mode
	DataDir string

	GRPCAddr string
	HTTPAddr string

	// TemporalAddress is an external cluster's frontend; empty runs the embedded server.
	TemporalAddress   string
	TemporalNamespace string
	TemporalTaskQueue string
	TemporalRetention time.Duration
	// ArchiveInterval is how often closed workflow runs are copied into the store; it only
	// has to be far shorter than TemporalRetention.
	ArchiveInterval      time.Duration
	EmbeddedFrontendAddr string
	EmbeddedUIAddr       string

	// ReconcileInterval is how often the API looks for selections whose workflow was recorded
	// but not started (the process died between the two) and starts them.
	ReconcileInterval time.Duration

	// DatabaseURL is a PostgreSQL URL (postgres://...) or sqlite:PATH; empty means the SQLite
	// file seleksi.db in the data directory.
	DatabaseURL string

	// OIDC settings verify tokens from the agency's identity provider; when OIDCIssuer is
	// empty, tokens are verified with the local key in the data directory (seleksictl token).
	OIDCIssuer   string
	OIDCAudience string
	OIDCJWKSURL  string

	// DemoSecondsPerDay compresses each new selection's days to this many seconds, for
	// demonstrations and tests only; zero (the default) is real time.
	DemoSecondsPerDay int64

	// SMTP settings send notifications by mail; without SMTPAddr they are written to the log.
	SMTPAddr string
	SMTPFrom string

	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	LogFormat       string

	// Privacy and tokens (issue 10 §7-8).
	// MaxTokenLifetime is the longest validity of a bearer token the API accepts, from the
	// local key or the identity provider alike.
	MaxTokenLifetime time.Duration
}

// Embedded reports whether seleksid runs its own Temporal server.
func (c Config) Embedded() bool { return c.TemporalAddress == "" }

// RunsAPI reports whether this process serves gRPC and HTTP.
func (c Config) RunsAPI() bool { return c.Mode == ModeAll || c.Mode == ModeAPI }

// RunsWorker reports whether this process runs the Temporal worker.
func (c Config) RunsWorker() bool { return c.Mode == ModeAll || c.Mode == ModeWorker }

// StoreURL is the database to open, defaulting to a SQLite file in the data directory.
func (c Config) StoreURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return "sqlite:" + filepath.Join(c.DataDir, "seleksi.db")
}

// Parse reads flags from args, falling back to environment variables (looked up with
// getenv) and then to defaults. Errors name the offending flag or variable.
func Parse(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("seleksid", flag.ContinueOnError)
	fs.SetOutput(usageOut)

	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var mode, retention, archiveEvery, reconcileEvery, shutdown, level string
	fs.StringVar(&mode, "mode", env("SELEKSI_MODE", string(ModeAll)),
		"what to run: all, api (gRPC + REST only) or worker (Temporal worker only) [SELEKSI_MODE]")
	fs.StringVar(&c.DataDir, "data-dir", env("SELEKSI_DATA_DIR", "data"),
		"directory for the embedded Temporal database, the SQLite store and local keys [SELEKSI_DATA_DIR]")
	fs.StringVar(&c.GRPCAddr, "grpc-addr", env("SELEKSI_GRPC_ADDR", ":9090"),
		"gRPC listen address [SELEKSI_GRPC_ADDR]")
	fs.StringVar(&c.HTTPAddr, "http-addr", env("SELEKSI_HTTP_ADDR", ":8080"),
		"REST/JSON gateway and web pages listen address [SELEKSI_HTTP_ADDR]")
	fs.StringVar(&c.TemporalAddress, "temporal-address", env("SELEKSI_TEMPORAL_ADDRESS", ""),
		"host:port of an external Temporal frontend; empty runs an embedded server [SELEKSI_TEMPORAL_ADDRESS]")
	fs.StringVar(&c.TemporalNamespace, "temporal-namespace", env("SELEKSI_TEMPORAL_NAMESPACE", "seleksi"),
		"Temporal namespace [SELEKSI_TEMPORAL_NAMESPACE]")
	fs.StringVar(&c.TemporalTaskQueue, "temporal-task-queue", env("SELEKSI_TEMPORAL_TASK_QUEUE", "seleksi"),
		"Temporal task queue of the selection workflows [SELEKSI_TEMPORAL_TASK_QUEUE]")
	fs.StringVar(&retention, "temporal-retention", env("SELEKSI_TEMPORAL_RETENTION", "720h"),
		"how long Temporal keeps closed histories (Seleksi archives them first) [SELEKSI_TEMPORAL_RETENTION]")
	fs.StringVar(&archiveEvery, "archive-interval", env("SELEKSI_ARCHIVE_INTERVAL", "30s"),
		"how often closed workflow histories are archived into the store [SELEKSI_ARCHIVE_INTERVAL]")
	fs.StringVar(&reconcileEvery, "reconcile-interval", env("SELEKSI_RECONCILE_INTERVAL", "2s"),
		"how often selections whose workflow did not start with their creation are started [SELEKSI_RECONCILE_INTERVAL]")
	fs.StringVar(&c.EmbeddedFrontendAddr, "embedded-temporal-addr", env("SELEKSI_EMBEDDED_TEMPORAL_ADDR", "127.0.0.1:7233"),
		"listen address of the embedded Temporal frontend [SELEKSI_EMBEDDED_TEMPORAL_ADDR]")
	fs.StringVar(&c.EmbeddedUIAddr, "embedded-temporal-ui-addr", env("SELEKSI_EMBEDDED_TEMPORAL_UI_ADDR", "127.0.0.1:8233"),
		"listen address of the embedded Temporal Web UI; empty disables it [SELEKSI_EMBEDDED_TEMPORAL_UI_ADDR]")
	fs.StringVar(&c.DatabaseURL, "database-url", env("SELEKSI_DATABASE_URL", ""),
		"store database: postgres://user@host:5432/db or sqlite:PATH; empty uses DATA_DIR/seleksi.db [SELEKSI_DATABASE_URL]")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", env("SELEKSI_OIDC_ISSUER", ""),
		"issuer of the identity provider's tokens; empty verifies tokens with the local key in DATA_DIR/keys [SELEKSI_OIDC_ISSUER]")
	fs.StringVar(&c.OIDCAudience, "oidc-audience", env("SELEKSI_OIDC_AUDIENCE", "seleksi"),
		"audience the identity provider's tokens must name [SELEKSI_OIDC_AUDIENCE]")
	fs.StringVar(&c.OIDCJWKSURL, "oidc-jwks-url", env("SELEKSI_OIDC_JWKS_URL", ""),
		"URL of the identity provider's signing keys (JWKS) [SELEKSI_OIDC_JWKS_URL]")
	fs.Int64Var(&c.DemoSecondsPerDay, "demo-seconds-per-day", envInt(getenv, "SELEKSI_DEMO_SECONDS_PER_DAY"),
		"DEMONSTRATIONS AND TESTS ONLY: one day of every new selection lasts this many seconds; 0 is real time [SELEKSI_DEMO_SECONDS_PER_DAY]")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", env("SELEKSI_SMTP_ADDR", ""),
		"host:port of the mail relay for notifications; empty writes them to the log [SELEKSI_SMTP_ADDR]")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("SELEKSI_SMTP_FROM", "seleksi@localhost"),
		"sender address of notification mail [SELEKSI_SMTP_FROM]")
	fs.StringVar(&shutdown, "shutdown-timeout", env("SELEKSI_SHUTDOWN_TIMEOUT", "30s"),
		"how long to let in-flight requests and activities finish on SIGINT/SIGTERM [SELEKSI_SHUTDOWN_TIMEOUT]")
	fs.StringVar(&level, "log-level", env("SELEKSI_LOG_LEVEL", "info"),
		"debug, info, warn or error [SELEKSI_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", env("SELEKSI_LOG_FORMAT", "text"),
		"text or json [SELEKSI_LOG_FORMAT]")
	// Privacy and tokens (issue 10 §7-8).
	var maxTokenLifetime string
	fs.StringVar(&maxTokenLifetime, "max-token-lifetime", env("SELEKSI_MAX_TOKEN_LIFETIME", "24h"),
		"longest validity (exp - iat) of a bearer token the API accepts; seleksictl token mints no longer [SELEKSI_MAX_TOKEN_LIFETIME]")

	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: seleksid [flags]\n\n"+
			"Runs Seleksi: the gRPC API, the REST/JSON gateway and the Temporal worker, with an\n"+
			"embedded Temporal server and SQLite store unless external ones are configured.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	var errs []error
	c.Mode = Mode(mode)
	switch c.Mode {
	case ModeAll, ModeAPI, ModeWorker:
	default:
		errs = append(errs, fmt.Errorf("-mode %q: want all, api or worker", mode))
	}
	var err error
	if c.TemporalRetention, err = time.ParseDuration(retention); err != nil || c.TemporalRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("-temporal-retention %q: want a duration of at least 24h", retention))
	}
	if c.ArchiveInterval, err = time.ParseDuration(archiveEvery); err != nil || c.ArchiveInterval <= 0 {
		errs = append(errs, fmt.Errorf("-archive-interval %q: want a positive duration", archiveEvery))
	} else if c.TemporalRetention > 0 && c.ArchiveInterval*10 > c.TemporalRetention {
		// Histories must be archived many times over before Temporal may delete them.
		errs = append(errs, fmt.Errorf("-archive-interval %s: must be at most a tenth of -temporal-retention", archiveEvery))
	}
	if c.ReconcileInterval, err = time.ParseDuration(reconcileEvery); err != nil || c.ReconcileInterval < 100*time.Millisecond || c.ReconcileInterval > time.Minute {
		// A selection without its workflow must be repaired within seconds, not minutes.
		errs = append(errs, fmt.Errorf("-reconcile-interval %q: want a duration from 100ms to 1m", reconcileEvery))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil || c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-shutdown-timeout %q: want a positive duration", shutdown))
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level %q: want debug, info, warn or error", level))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format %q: want text or json", c.LogFormat))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("-data-dir must not be empty"))
	}
	if c.TemporalNamespace == "" || c.TemporalTaskQueue == "" {
		errs = append(errs, errors.New("-temporal-namespace and -temporal-task-queue must not be empty"))
	}
	if c.Embedded() && c.Mode != ModeAll {
		// A worker-only or API-only process with its own private Temporal server would never
		// meet its other half: splitting only makes sense against a shared cluster.
		errs = append(errs, fmt.Errorf("-mode %s needs -temporal-address (an external Temporal cluster)", c.Mode))
	}
	if u := c.DatabaseURL; u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") && !strings.HasPrefix(u, "sqlite:") {
		errs = append(errs, fmt.Errorf("-database-url: want postgres://... or sqlite:PATH"))
	}
	if c.DemoSecondsPerDay < 0 || c.DemoSecondsPerDay > 86400 {
		errs = append(errs, fmt.Errorf("-demo-seconds-per-day %d: want 0 to 86400", c.DemoSecondsPerDay))
	}
	if c.OIDCIssuer != "" && (c.OIDCJWKSURL == "" || c.OIDCAudience == "") {
		errs = append(errs, errors.New("-oidc-issuer needs -oidc-jwks-url and -oidc-audience"))
	}
	// Privacy and tokens (issue 10 §7-8).
	if c.MaxTokenLifetime, err = time.ParseDuration(maxTokenLifetime); err != nil || c.MaxTokenLifetime < time.Minute || c.MaxTokenLifetime > 31*24*time.Hour {
		errs = append(errs, fmt.Errorf("-max-token-lifetime %q: want a duration from 1m to 744h", maxTokenLifetime))
	}

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// envInt reads an integer variable; a malformed value becomes -1 so validation reports it.
func envInt(getenv func(string) string, name string) int64 {
	v := getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// FromOS parses the process's arguments and environment.
func FromOS() (Config, error) {
	return Parse(os.Args[1:], os.Getenv, os.Stderr)
}
