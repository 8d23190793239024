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
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/bodylimit"
	"github.com/bkpsdm/seleksi/internal/clientaddr"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/participant"
	"github.com/bkpsdm/seleksi/internal/ratelimit"
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
	// KeysDir is a key directory shared by every process of a deployment (internal/keys,
	// LoadDir): token, bundle, official-document and page-token keys with rotation. Empty
	// keeps the embedded default's keys in DataDir/keys.
	KeysDir string

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

	// Edge limits (issue 10, items 1 and 2: request sizes, HTTP timeouts, rate limits).
	// MaxRequestBytes is the largest REST/JSON body and gRPC message.
	MaxRequestBytes int64
	// HTTPReadTimeout bounds reading a whole HTTP request, headers and body.
	HTTPReadTimeout time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// RateLimits is the policy; every rate off when -rate-limits=false.
	RateLimits ratelimit.Policy
	// Outbox tunes notification delivery (issue 10 §5).
	Outbox Outbox
	// Webhook is the agency's WhatsApp/SMS gateway for notifications (issue 13); off while
	// Webhook.URL is empty.
	Webhook Webhook
	// Uploads configures unfinished resumable uploads of documents (issue 11).
	Uploads Uploads
	// Official documents (issue 13 §3): OfficialNumberPrefix starts every document number
	// (the agency's code); OfficialInterval is the pause between the worker's issuing rounds
	// that found nothing to do.
	OfficialNumberPrefix string
	OfficialInterval     time.Duration

	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	LogFormat       string

	// Honest errors and readiness (issue 10, items 3 and 4). RPCTimeout bounds every RPC on
	// the server, RPCLongTimeout the exports and verifications that read a whole selection.
	// The readiness checker pings the store and Temporal every ReadinessInterval, giving each
	// ping ReadinessTimeout; while either fails, gRPC health and /readyz say NOT_SERVING.
	RPCTimeout        time.Duration
	RPCLongTimeout    time.Duration
	ReadinessInterval time.Duration
	ReadinessTimeout  time.Duration
	// Privacy and tokens (issue 10 §7-8).
	// MaxTokenLifetime is the longest validity of a bearer token the API accepts, from the
	// local key or the identity provider alike.
	MaxTokenLifetime time.Duration

	// Documents chooses where uploaded documents are kept (issue 11 §2): a directory (the
	// default, DATA_DIR/documents) or an S3-compatible bucket. blob.Open(ctx, Documents)
	// builds the store.
	Documents blob.Options
	// Retention erases documents of closed selections (issue 11 §9).
	Retention Retention
	// Web configures the web application (issue 12).
	Web Web
	// SignIn is sign-in to the web pages through the agency's OpenID provider at
	// OIDCIssuer (issue 12); off while SignIn.ClientID is empty.
	SignIn SignIn
	// Demo seeds a demonstration at start (issue 12): accounts of every role with a printed
	// password and a sample selection. Refused outside a demonstration (see demoFlag).
	Demo bool
	// ParticipantNumbers is the agency's format of participant numbers (issue 13).
	ParticipantNumbers participant.Format
	// PayloadCodec encrypts Temporal payloads (issue 14 §3; see payload.go).
	PayloadCodec PayloadCodec
	// TLS of the gRPC and HTTP servers, and TemporalTLS of the Temporal client (issue 14 §4).
	TLS         TLS
	TemporalTLS TemporalTLS
	// MigrateOnly migrates the store to the binary's schema and exits, without Temporal or
	// any server: the migration Job run before an upgrade (deploy/kubernetes).
	MigrateOnly bool
	// Telemetry: where /metrics is served and where traces go (issue 14 §6).
	Telemetry Telemetry
}

// Web configures the web application's sessions and links.
type Web struct {
	// PublicURL is where people reach the service (links in e-mails, the OIDC redirect);
	// an https URL makes the cookies Secure.
	PublicURL *url.URL
	// SessionIdle ends a session unused for this long; SessionLifetime ends any session
	// this long after sign-in.
	SessionIdle, SessionLifetime time.Duration
}

// Secure reports whether people reach the service over TLS, so cookies must be Secure.
func (w Web) Secure() bool { return w.PublicURL != nil && w.PublicURL.Scheme == "https" }

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
	fs.StringVar(&c.KeysDir, "keys-dir", env("SELEKSI_KEYS_DIR", ""),
		"key directory shared by all replicas (a mounted Secret: token-signing.<kid>.pem, bundle-signing.<kid>.pem, official-signing.<kid>.pem, page-token.<kid>.key); empty keeps keys in <data-dir>/keys [SELEKSI_KEYS_DIR]")
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
	// Official documents (issue 13 §3).
	var officialInterval string
	// The agency's code opens each number: {prefix}/{kind}/{selection}/{seq}.
	fs.StringVar(&c.OfficialNumberPrefix, "official-number-prefix", env("SELEKSI_OFFICIAL_NUMBER_PREFIX", "SELEKSI"),
		"first part of every official document number, the agency's code, such as BKPSDM-KABCONTOH [SELEKSI_OFFICIAL_NUMBER_PREFIX]")
	// How soon a worker notices a record that calls for a document.
	fs.StringVar(&officialInterval, "official-interval", env("SELEKSI_OFFICIAL_INTERVAL", "5s"),
		"pause between a worker's rounds of issuing official documents that found nothing to do [SELEKSI_OFFICIAL_INTERVAL]")
	// Edge limits (issue 10, items 1 and 2).
	var maxRequest, readTimeout, trustedProxies string
	var rateLimits bool
	rates := []struct {
		flag, env, def, usage string
		dst                   *ratelimit.Rate
	}{
		{"rate-limit-address-reads", "SELEKSI_RATE_LIMIT_ADDRESS_READS", "100/10s", "reads (GET) per client address", &c.RateLimits.AddressReads},
		{"rate-limit-address-mutations", "SELEKSI_RATE_LIMIT_ADDRESS_MUTATIONS", "120/1m", "other requests per client address", &c.RateLimits.AddressMutations},
		{"rate-limit-auth-failures", "SELEKSI_RATE_LIMIT_AUTH_FAILURES", "20/1m", "refused bearer tokens per client address", &c.RateLimits.AuthFailures},
		{"rate-limit-subject-reads", "SELEKSI_RATE_LIMIT_SUBJECT_READS", "100/10s", "reads per signed-in subject", &c.RateLimits.SubjectReads},
		{"rate-limit-subject-mutations", "SELEKSI_RATE_LIMIT_SUBJECT_MUTATIONS", "30/1m", "other requests per signed-in subject", &c.RateLimits.SubjectMutations},
	}
	rateSpecs := make([]string, len(rates))
	fs.StringVar(&maxRequest, "max-request-bytes", env("SELEKSI_MAX_REQUEST_BYTES", strconv.Itoa(bodylimit.DefaultMaxBytes)),
		"largest REST/JSON request body and gRPC message, in bytes; larger ones get 413 [SELEKSI_MAX_REQUEST_BYTES]")
	fs.StringVar(&readTimeout, "http-read-timeout", env("SELEKSI_HTTP_READ_TIMEOUT", "30s"),
		"how long a client may take to send a whole HTTP request, headers and body [SELEKSI_HTTP_READ_TIMEOUT]")
	fs.StringVar(&trustedProxies, "trusted-proxies", env("SELEKSI_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client; behind a proxy, without this every client shares the proxy's limits [SELEKSI_TRUSTED_PROXIES]")
	rateLimitsDefault, rateLimitsEnvErr := strconv.ParseBool(env("SELEKSI_RATE_LIMITS", "true"))
	fs.BoolVar(&rateLimits, "rate-limits", rateLimitsDefault || rateLimitsEnvErr != nil,
		"apply the rate limits; false turns them all off (load tests, or a proxy that limits already) [SELEKSI_RATE_LIMITS]")
	for i, r := range rates {
		fs.StringVar(&rateSpecs[i], r.flag, env(r.env, r.def),
			"rate limit of "+r.usage+": N/DURATION (bursts of N, N per DURATION sustained) or off ["+r.env+"]")
	}

	outbox := outboxFlags(fs, env)
	webhook := webhookFlags(fs, env, getenv)
	uploads := uploadFlags(fs, env)
	web := webFlags(fs, env)
	fs.StringVar(&shutdown, "shutdown-timeout", env("SELEKSI_SHUTDOWN_TIMEOUT", "30s"),
		"how long to let in-flight requests and activities finish on SIGINT/SIGTERM [SELEKSI_SHUTDOWN_TIMEOUT]")
	// Honest errors and readiness (issue 10, items 3 and 4).
	var rpcTimeout, rpcLongTimeout, readyEvery, readyTimeout string
	fs.StringVar(&rpcTimeout, "rpc-timeout", env("SELEKSI_RPC_TIMEOUT", "30s"),
		"server-side deadline of every RPC except exports and verification [SELEKSI_RPC_TIMEOUT]")
	fs.StringVar(&rpcLongTimeout, "rpc-long-timeout", env("SELEKSI_RPC_LONG_TIMEOUT", "5m"),
		"server-side deadline of history exports and verifications [SELEKSI_RPC_LONG_TIMEOUT]")
	fs.StringVar(&readyEvery, "readiness-interval", env("SELEKSI_READINESS_INTERVAL", "5s"),
		"how often the store and Temporal are pinged for readiness (gRPC health, /readyz) [SELEKSI_READINESS_INTERVAL]")
	fs.StringVar(&readyTimeout, "readiness-timeout", env("SELEKSI_READINESS_TIMEOUT", "2s"),
		"how long each readiness ping may take before its dependency counts as unreachable [SELEKSI_READINESS_TIMEOUT]")
	fs.StringVar(&level, "log-level", env("SELEKSI_LOG_LEVEL", "info"),
		"debug, info, warn or error [SELEKSI_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", env("SELEKSI_LOG_FORMAT", "text"),
		"text or json [SELEKSI_LOG_FORMAT]")
	// Privacy and tokens (issue 10 §7-8).
	var maxTokenLifetime string
	fs.StringVar(&maxTokenLifetime, "max-token-lifetime", env("SELEKSI_MAX_TOKEN_LIFETIME", "24h"),
		"longest validity (exp - iat) of a bearer token the API accepts; seleksictl token mints no longer [SELEKSI_MAX_TOKEN_LIFETIME]")
	// Document storage (issue 11 §2). The S3 keys are read from the environment only: a flag
	// would show them in the process list.
	var documentsDir string
	fs.StringVar(&c.Documents.Backend, "documents-store", env("SELEKSI_DOCUMENTS_STORE", blob.BackendFS),
		"where uploaded documents are kept: fs (a directory) or s3 (an S3-compatible bucket; keys in SELEKSI_S3_ACCESS_KEY and SELEKSI_S3_SECRET_KEY) [SELEKSI_DOCUMENTS_STORE]")
	fs.StringVar(&documentsDir, "documents-dir", env("SELEKSI_DOCUMENTS_DIR", ""),
		"directory of the fs document store; empty uses DATA_DIR/documents [SELEKSI_DOCUMENTS_DIR]")
	fs.StringVar(&c.Documents.S3.Endpoint, "s3-endpoint", env("SELEKSI_S3_ENDPOINT", ""),
		"host:port of the S3-compatible service, without a scheme (e.g. s3.ap-southeast-3.amazonaws.com) [SELEKSI_S3_ENDPOINT]")
	fs.StringVar(&c.Documents.S3.Bucket, "s3-bucket", env("SELEKSI_S3_BUCKET", ""),
		"bucket of the documents; private, ideally versioned with object lock (see README) [SELEKSI_S3_BUCKET]")
	fs.StringVar(&c.Documents.S3.Region, "s3-region", env("SELEKSI_S3_REGION", ""),
		"region of the bucket; empty asks the service [SELEKSI_S3_REGION]")
	fs.StringVar(&c.Documents.S3.Prefix, "s3-prefix", env("SELEKSI_S3_PREFIX", ""),
		"key prefix within the bucket, e.g. seleksi/prod (lowercase path segments); empty uses the whole bucket [SELEKSI_S3_PREFIX]")
	s3TLSDefault, s3TLSEnvErr := strconv.ParseBool(env("SELEKSI_S3_TLS", "true"))
	fs.BoolVar(&c.Documents.S3.TLS, "s3-tls", s3TLSDefault || s3TLSEnvErr != nil,
		"reach the S3 service over https; false only for a service on a private link [SELEKSI_S3_TLS]")
	s3CreateDefault, s3CreateEnvErr := strconv.ParseBool(env("SELEKSI_S3_CREATE_BUCKET", "false"))
	fs.BoolVar(&c.Documents.S3.CreateBucket, "s3-create-bucket", s3CreateDefault && s3CreateEnvErr == nil,
		"make the bucket at start when it is missing (development; production buckets are made with their retention settings) [SELEKSI_S3_CREATE_BUCKET]")
	c.Documents.S3.AccessKey = blob.Secret(getenv("SELEKSI_S3_ACCESS_KEY"))
	c.Documents.S3.SecretKey = blob.Secret(getenv("SELEKSI_S3_SECRET_KEY"))

	// Retention and erasure of documents (issue 11 §9).
	retentionOf := retentionFlags(fs, env)
	// Sign-in through the agency's OpenID provider (issue 12).
	signIn := signInFlags(fs, env, getenv)
	// The demonstration seed (issue 12).
	demo := demoFlag(fs, env)
	// The migration Job of an upgrade (issue 14).
	migrateOnly := migrateOnlyFlag(fs, env)
	// Participant numbers, schedules and invitations (issue 13).
	participantNumbers := participantFlags(fs, env)
	payloadCodec := payloadCodecFlags(fs, env)
	// TLS of the servers and of the Temporal client (issue 14 §4).
	tlsOf := tlsFlags(fs, env, getenv)
	// Metrics and traces (issue 14 §6).
	telemetry := telemetryFlags(fs, env, getenv)

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
	// Edge limits (issue 10, items 1 and 2).
	if c.MaxRequestBytes, err = strconv.ParseInt(maxRequest, 10, 64); err != nil || c.MaxRequestBytes < 1024 || c.MaxRequestBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("-max-request-bytes %q: want a number of bytes from 1024 to 1073741824", maxRequest))
	}
	if c.HTTPReadTimeout, err = time.ParseDuration(readTimeout); err != nil || c.HTTPReadTimeout < time.Second {
		errs = append(errs, fmt.Errorf("-http-read-timeout %q: want a duration of at least 1s", readTimeout))
	}
	if c.TrustedProxies, err = clientaddr.ParsePrefixes(trustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("-trusted-proxies: %w", err))
	}
	for i, r := range rates {
		if *r.dst, err = ratelimit.ParseRate(rateSpecs[i]); err != nil {
			errs = append(errs, fmt.Errorf("-%s %w", r.flag, err))
		}
	}
	if rateLimitsEnvErr != nil {
		errs = append(errs, errors.New("SELEKSI_RATE_LIMITS: want true or false"))
	}
	if !rateLimits {
		c.RateLimits = ratelimit.Policy{}
	}

	if c.Web, err = web(); err != nil {
		errs = append(errs, err)
	}
	if c.OfficialInterval, err = time.ParseDuration(officialInterval); err != nil || c.OfficialInterval < 10*time.Millisecond || c.OfficialInterval > time.Hour {
		errs = append(errs, fmt.Errorf("-official-interval %q: want a duration from 10ms to 1h", officialInterval))
	}
	if p := c.OfficialNumberPrefix; p == "" || len(p) > 40 || strings.ContainsAny(p, " /") {
		errs = append(errs, fmt.Errorf("-official-number-prefix %q: want 1 to 40 characters without spaces or slashes", p))
	}
	if c.Outbox, err = outbox(); err != nil {
		errs = append(errs, err)
	}
	if c.Webhook, err = webhook(); err != nil {
		errs = append(errs, err)
	}
	if c.Uploads, err = uploads(c.DataDir); err != nil {
		errs = append(errs, err)
	}
	if c.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil || c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-shutdown-timeout %q: want a positive duration", shutdown))
	}
	// Honest errors and readiness (issue 10, items 3 and 4).
	if c.RPCTimeout, err = time.ParseDuration(rpcTimeout); err != nil || c.RPCTimeout < time.Second || c.RPCTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("-rpc-timeout %q: want a duration from 1s to 10m", rpcTimeout))
	}
	if c.RPCLongTimeout, err = time.ParseDuration(rpcLongTimeout); err != nil || c.RPCLongTimeout < c.RPCTimeout || c.RPCLongTimeout > 2*time.Hour {
		errs = append(errs, fmt.Errorf("-rpc-long-timeout %q: want a duration from -rpc-timeout to 2h", rpcLongTimeout))
	}
	if c.ReadinessInterval, err = time.ParseDuration(readyEvery); err != nil || c.ReadinessInterval < 100*time.Millisecond || c.ReadinessInterval > 5*time.Minute {
		errs = append(errs, fmt.Errorf("-readiness-interval %q: want a duration from 100ms to 5m", readyEvery))
	}
	if c.ReadinessTimeout, err = time.ParseDuration(readyTimeout); err != nil || c.ReadinessTimeout <= 0 || c.ReadinessTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("-readiness-timeout %q: want a positive duration up to 1m", readyTimeout))
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
	// Document storage (issue 11 §2).
	if s3TLSEnvErr != nil {
		errs = append(errs, errors.New("SELEKSI_S3_TLS: want true or false"))
	}
	if s3CreateEnvErr != nil {
		errs = append(errs, errors.New("SELEKSI_S3_CREATE_BUCKET: want true or false"))
	}
	c.Documents.Dir = documentsDir
	if c.Documents.Dir == "" {
		c.Documents.Dir = filepath.Join(c.DataDir, "documents")
	}
	switch d := c.Documents; d.Backend {
	case blob.BackendFS:
	case blob.BackendS3:
		if d.S3.Endpoint == "" || d.S3.Bucket == "" {
			errs = append(errs, errors.New("-documents-store s3 needs -s3-endpoint and -s3-bucket"))
		}
		if strings.Contains(d.S3.Endpoint, "://") {
			errs = append(errs, fmt.Errorf("-s3-endpoint %q: want host:port without a scheme; -s3-tls chooses https", d.S3.Endpoint))
		}
		if d.S3.AccessKey == "" || d.S3.SecretKey == "" {
			errs = append(errs, errors.New("-documents-store s3 needs SELEKSI_S3_ACCESS_KEY and SELEKSI_S3_SECRET_KEY in the environment"))
		}
		if d.S3.Prefix != "" && !blob.ValidKey(d.S3.Prefix) {
			errs = append(errs, fmt.Errorf("-s3-prefix %q: want lowercase path segments of a-z, 0-9, '-', '_' and '.', e.g. seleksi/prod", d.S3.Prefix))
		}
	default:
		errs = append(errs, fmt.Errorf("-documents-store %q: want fs or s3", d.Backend))
	}
	// Retention and erasure of documents (issue 11 §9).
	if c.Retention, err = retentionOf(c.DemoSecondsPerDay); err != nil {
		errs = append(errs, err)
	}
	// Sign-in through the agency's OpenID provider (issue 12).
	if c.SignIn, err = signIn(c.OIDCIssuer); err != nil {
		errs = append(errs, err)
	}
	if c.MigrateOnly, err = migrateOnly(); err != nil {
		errs = append(errs, err)
	}
	// The demonstration seed (issue 12).
	if c.Demo, err = demo(c); err != nil {
		errs = append(errs, err)
	}
	// Participant numbers (issue 13).
	if c.ParticipantNumbers, err = participantNumbers(); err != nil {
		errs = append(errs, err)
	}
	// Payload encryption (issue 14 §3).
	if c.PayloadCodec, err = payloadCodec(); err != nil {
		errs = append(errs, err)
	}
	// TLS (issue 14 §4).
	if c.TLS, c.TemporalTLS, err = tlsOf(c); err != nil {
		errs = append(errs, err)
	}
	// Metrics and traces (issue 14 §6).
	if c.Telemetry, err = telemetry(); err != nil {
		errs = append(errs, err)
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

// --- Notification outbox (issue 10 §5: an outbox that never jams) ---

// Outbox tunes how workers deliver the notification outbox. Every worker runs a dispatcher;
// they share the outbox through leases in the store.
type Outbox struct {
	// Interval is the pause between rounds that found less than a full batch.
	Interval time.Duration
	// BatchSize is how many due notifications one round claims.
	BatchSize int
	// Concurrency is how many of a batch are sent at once (connections to the relay).
	Concurrency int
	// MaxAttempts: a notification failing this many times becomes a dead letter.
	MaxAttempts int
	// BackoffInitial is the pause after the first failure, doubled per failure up to
	// BackoffMax (each drawn between half and all of it).
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// SendTimeout bounds one delivery.
	SendTimeout time.Duration
}

// --- Notification webhook (issue 13: notifications that reach people) ---

// Webhook is the gateway an agency contracts for WhatsApp or SMS: candidates who chose that
// channel get each notification as a signed JSON POST there (internal/notify.WebhookSender).
type Webhook struct {
	// URL receives the deliveries; empty turns the webhook channel off.
	URL string
	// Secret signs each delivery (HMAC-SHA256, Standard Webhooks); from
	// SELEKSI_NOTIFY_WEBHOOK_SECRET or -notify-webhook-secret-file, never from a flag, which
	// would show it in the process list. It never prints itself.
	Secret blob.Secret
	// Events are the event kinds or message codes sent; empty sends every one.
	Events []string
}

// webhookFlags registers the webhook's flags on fs and returns the function that checks
// them after parsing.
func webhookFlags(fs *flag.FlagSet, env func(name, def string) string, getenv func(string) string) func() (Webhook, error) {
	var w Webhook
	var secretFile, events string
	// -notify-webhook-url: where the agency's gateway takes deliveries.
	fs.StringVar(&w.URL, "notify-webhook-url", env("SELEKSI_NOTIFY_WEBHOOK_URL", ""),
		"URL of the agency's WhatsApp/SMS gateway that receives signed notification webhooks; empty turns that channel off [SELEKSI_NOTIFY_WEBHOOK_URL]")
	// -notify-webhook-secret-file: the signing secret, as a mounted secret file.
	fs.StringVar(&secretFile, "notify-webhook-secret-file", env("SELEKSI_NOTIFY_WEBHOOK_SECRET_FILE", ""),
		"file holding the webhook signing secret (whsec_<base64> or at least 16 characters); else it is read from SELEKSI_NOTIFY_WEBHOOK_SECRET, never from a flag [SELEKSI_NOTIFY_WEBHOOK_SECRET_FILE]")
	// -notify-webhook-events: which events the gateway takes.
	fs.StringVar(&events, "notify-webhook-events", env("SELEKSI_NOTIFY_WEBHOOK_EVENTS", ""),
		"comma-separated event kinds or message codes sent to the gateway (e.g. SubmitApplication,status.eliminated); empty sends every one [SELEKSI_NOTIFY_WEBHOOK_EVENTS]")
	return func() (Webhook, error) {
		envSecret := getenv("SELEKSI_NOTIFY_WEBHOOK_SECRET")
		if w.URL == "" {
			if secretFile != "" || envSecret != "" || events != "" {
				return Webhook{}, errors.New("the webhook secret and -notify-webhook-events need -notify-webhook-url")
			}
			return Webhook{}, nil
		}
		var errs []error
		if u, err := url.Parse(w.URL); err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, errors.New("-notify-webhook-url: want an absolute http(s) URL"))
		} else if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			errs = append(errs, errors.New("-notify-webhook-url: want https (http only on localhost): deliveries carry phone numbers"))
		}
		switch {
		case secretFile != "" && envSecret != "":
			errs = append(errs, errors.New("-notify-webhook-secret-file and SELEKSI_NOTIFY_WEBHOOK_SECRET: give one"))
		case secretFile != "":
			b, err := os.ReadFile(secretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("-notify-webhook-secret-file: %w", err))
			}
			w.Secret = blob.Secret(strings.TrimSpace(string(b)))
		default:
			w.Secret = blob.Secret(strings.TrimSpace(envSecret))
		}
		if len(w.Secret) < 16 {
			errs = append(errs, errors.New("-notify-webhook-url needs a signing secret of at least 16 characters in SELEKSI_NOTIFY_WEBHOOK_SECRET or -notify-webhook-secret-file"))
		}
		for _, e := range strings.Split(events, ",") {
			if e = strings.TrimSpace(e); e != "" {
				w.Events = append(w.Events, e)
			}
		}
		return w, errors.Join(errs...)
	}
}

// participantFlags registers the settings of participant numbers (issue 13) and returns the
// function that checks them after parsing.
func participantFlags(fs *flag.FlagSet, env func(name, def string) string) func() (participant.Format, error) {
	var format string
	// The format is checked at start, not at the first submission, so that a typo never
	// leaves candidates unable to apply.
	fs.StringVar(&format, "participant-number-format", env("SELEKSI_PARTICIPANT_NUMBER_FORMAT", participant.DefaultFormat),
		"format of participant numbers: text with {year}, {selection} and {seq} or {seq:N} (zero-padded to N digits, required once) [SELEKSI_PARTICIPANT_NUMBER_FORMAT]")
	return func() (participant.Format, error) {
		f, err := participant.Parse(format)
		if err != nil {
			return participant.Format{}, fmt.Errorf("-participant-number-format: %w", err)
		}
		return f, nil
	}
}

// webFlags are the web application's settings (issue 12).
func webFlags(fs *flag.FlagSet, env func(name, def string) string) func() (Web, error) {
	var public, idle, lifetime string
	fs.StringVar(&public, "public-url", env("SELEKSI_PUBLIC_URL", "http://localhost:8080"),
		"where people reach the service, for links in e-mails and sign-in redirects; https makes cookies Secure [SELEKSI_PUBLIC_URL]")
	fs.StringVar(&idle, "session-idle-timeout", env("SELEKSI_SESSION_IDLE_TIMEOUT", "30m"),
		"a web session unused for this long ends [SELEKSI_SESSION_IDLE_TIMEOUT]")
	fs.StringVar(&lifetime, "session-lifetime", env("SELEKSI_SESSION_LIFETIME", "12h"),
		"any web session ends this long after sign-in [SELEKSI_SESSION_LIFETIME]")
	return func() (Web, error) {
		var w Web
		var errs []error
		u, err := url.Parse(public)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("-public-url %q: want an absolute http or https URL", public))
		}
		w.PublicURL = u
		if w.SessionIdle, err = time.ParseDuration(idle); err != nil || w.SessionIdle < time.Minute || w.SessionIdle > 24*time.Hour {
			errs = append(errs, fmt.Errorf("-session-idle-timeout %q: want a duration from 1m to 24h", idle))
		}
		if w.SessionLifetime, err = time.ParseDuration(lifetime); err != nil || w.SessionLifetime < w.SessionIdle || w.SessionLifetime > 31*24*time.Hour {
			errs = append(errs, fmt.Errorf("-session-lifetime %q: want a duration from the idle timeout to 744h", lifetime))
		}
		return w, errors.Join(errs...)
	}
}

// outboxFlags registers the outbox's flags on fs and returns the function that checks them
// after parsing.
func outboxFlags(fs *flag.FlagSet, env func(name, def string) string) func() (Outbox, error) {
	var interval, backoff, backoffMax, timeout, batch, concurrency, attempts string
	fs.StringVar(&interval, "notify-interval", env("SELEKSI_NOTIFY_INTERVAL", "2s"),
		"pause between outbox rounds that found less than a full batch [SELEKSI_NOTIFY_INTERVAL]")
	fs.StringVar(&batch, "notify-batch", env("SELEKSI_NOTIFY_BATCH", "100"),
		"notifications claimed per round [SELEKSI_NOTIFY_BATCH]")
	fs.StringVar(&concurrency, "notify-concurrency", env("SELEKSI_NOTIFY_CONCURRENCY", "4"),
		"notifications sent at once by each worker [SELEKSI_NOTIFY_CONCURRENCY]")
	fs.StringVar(&attempts, "notify-max-attempts", env("SELEKSI_NOTIFY_MAX_ATTEMPTS", "20"),
		"failed attempts after which a notification becomes a dead letter (seleksictl notification list --dead) [SELEKSI_NOTIFY_MAX_ATTEMPTS]")
	fs.StringVar(&backoff, "notify-backoff", env("SELEKSI_NOTIFY_BACKOFF", "10s"),
		"pause after a notification's first failed attempt, doubled after each further one [SELEKSI_NOTIFY_BACKOFF]")
	fs.StringVar(&backoffMax, "notify-backoff-max", env("SELEKSI_NOTIFY_BACKOFF_MAX", "30m"),
		"longest pause between two attempts at a notification [SELEKSI_NOTIFY_BACKOFF_MAX]")
	fs.StringVar(&timeout, "notify-send-timeout", env("SELEKSI_NOTIFY_SEND_TIMEOUT", "30s"),
		"longest one delivery to the mail relay may take [SELEKSI_NOTIFY_SEND_TIMEOUT]")
	return func() (Outbox, error) {
		var o Outbox
		var errs []error
		duration := func(flagName, v string, lo, hi time.Duration) time.Duration {
			d, err := time.ParseDuration(v)
			if err != nil || d < lo || d > hi {
				errs = append(errs, fmt.Errorf("-%s %q: want a duration from %s to %s", flagName, v, lo, hi))
			}
			return d
		}
		number := func(flagName, v string, lo, hi int) int {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				errs = append(errs, fmt.Errorf("-%s %q: want a number from %d to %d", flagName, v, lo, hi))
			}
			return n
		}
		o.Interval = duration("notify-interval", interval, 10*time.Millisecond, time.Minute)
		o.BatchSize = number("notify-batch", batch, 1, 1000)
		o.Concurrency = number("notify-concurrency", concurrency, 1, 64)
		o.MaxAttempts = number("notify-max-attempts", attempts, 1, 1000)
		o.BackoffInitial = duration("notify-backoff", backoff, 10*time.Millisecond, time.Hour)
		o.BackoffMax = duration("notify-backoff-max", backoffMax, 10*time.Millisecond, 24*time.Hour)
		o.SendTimeout = duration("notify-send-timeout", timeout, time.Second, 10*time.Minute)
		if len(errs) == 0 && o.BackoffMax < o.BackoffInitial {
			errs = append(errs, fmt.Errorf("-notify-backoff-max %s: must not be shorter than -notify-backoff %s", backoffMax, backoff))
		}
		return o, errors.Join(errs...)
	}
}

// Uploads configures the documents candidates upload (issue 11): where unfinished
// --- Retention and erasure of documents (issue 11 §9; UU 27/2022: retention limited to need) ---

// DefaultDocumentRetention is how long documents are kept after their selection closed,
// unless configured: two years. A closed selection can still be contested: an appointment
// decree is open to an administrative objection and to a suit at the administrative court
// within 90 days of its announcement (UU 5/1986 art. 55), followed by appeal and cassation,
// and BKN reviews merit compliance after the fact; the candidates' documents are the
// evidence in both. Two years covers these in the usual case; an agency sets the value of
// its own records retention schedule (JRA, following Peraturan ANRI 22/2017 on personnel
// records), and "off" while a case is pending.
const DefaultDocumentRetention = 2 * 365 * 24 * time.Hour

// minDocumentRetention is the shortest retention outside demonstrations and tests: a
// shorter one would erase documents while the selection's results can still be contested.
const minDocumentRetention = 24 * time.Hour

// Retention tunes the erasure of documents of closed selections.
type Retention struct {
	// Documents is how long documents are kept after their selection closed (reached
	// STAGE_CLOSED or STAGE_CANCELLED); 0 means they are kept for good ("off") and no
	// sweeper runs.
	Documents time.Duration
	// Interval is the pause between two sweeps.
	Interval time.Duration
}

// retentionFlags registers the retention's flags on fs and returns the function that checks
// them after parsing, given the demo time scale (short retentions are for demos and tests).
func retentionFlags(fs *flag.FlagSet, env func(name, def string) string) func(demoSecondsPerDay int64) (Retention, error) {
	var keep, every string
	fs.StringVar(&keep, "document-retention", env("SELEKSI_DOCUMENT_RETENTION", "730d"),
		"how long uploaded documents are kept after their selection closed or was cancelled, then erased (bytes deleted, digest "+
			"and audit event kept): Nd (days) or a Go duration, at least 1d; off keeps them for good (a pending lawsuit). "+
			"The default of two years covers objections, the administrative court (90 days to sue, UU 5/1986 art. 55) with "+
			"appeals, and BKN's review; set your agency's records retention schedule (JRA) [SELEKSI_DOCUMENT_RETENTION]")
	fs.StringVar(&every, "document-erasure-interval", env("SELEKSI_DOCUMENT_ERASURE_INTERVAL", "1h"),
		"how often the API looks for documents whose retention has passed, and erases them [SELEKSI_DOCUMENT_ERASURE_INTERVAL]")
	return func(demoSecondsPerDay int64) (Retention, error) {
		var r Retention
		var errs []error
		switch d, err := parseDays(keep); {
		case strings.EqualFold(strings.TrimSpace(keep), "off"):
			r.Documents = 0
		case err != nil || d <= 0:
			// Zero must never mean "erase at once": a typo would erase every closed
			// selection's documents on the next sweep.
			errs = append(errs, fmt.Errorf("-document-retention %q: want a positive duration (Nd or a Go duration) or off to keep documents for good", keep))
		case d < minDocumentRetention && demoSecondsPerDay == 0:
			errs = append(errs, fmt.Errorf("-document-retention %s: want at least 1d (shorter ones only with -demo-seconds-per-day, for demonstrations and tests)", keep))
		default:
			r.Documents = d
		}
		d, err := time.ParseDuration(every)
		if err != nil || d < time.Second || d > 24*time.Hour {
			errs = append(errs, fmt.Errorf("-document-erasure-interval %q: want a duration from 1s to 24h", every))
		}
		r.Interval = d
		return r, errors.Join(errs...)
	}
}

// parseDays reads "Nd" (whole days) or a Go duration.
func parseDays(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("%q: want a whole number of days", v)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

// Documents configures the documents candidates upload (issue 11): where unfinished
// resumable uploads wait, and how long. Finished documents are kept in document storage
// (Config.Documents).
type Uploads struct {
	// UploadsDir holds unfinished uploads; <data dir>/uploads by default.
	UploadsDir string
	// UploadExpiry removes an unfinished upload this long after its last chunk.
	UploadExpiry time.Duration
}

// uploadFlags registers the uploads' flags on fs and returns the function that checks
// them after parsing, given the data directory.
func uploadFlags(fs *flag.FlagSet, env func(name, def string) string) func(dataDir string) (Uploads, error) {
	var dir, expiry string
	fs.StringVar(&dir, "uploads-dir", env("SELEKSI_UPLOADS_DIR", ""),
		"directory of unfinished resumable document uploads, private to seleksid; empty means <data-dir>/uploads [SELEKSI_UPLOADS_DIR]")
	fs.StringVar(&expiry, "upload-expiry", env("SELEKSI_UPLOAD_EXPIRY", "24h"),
		"how long an unfinished upload is kept after its last chunk before it is removed [SELEKSI_UPLOAD_EXPIRY]")
	return func(dataDir string) (Uploads, error) {
		d := Uploads{UploadsDir: dir}
		if d.UploadsDir == "" {
			d.UploadsDir = filepath.Join(dataDir, "uploads")
		}
		var err error
		if d.UploadExpiry, err = time.ParseDuration(expiry); err != nil || d.UploadExpiry < time.Minute || d.UploadExpiry > 30*24*time.Hour {
			return d, fmt.Errorf("-upload-expiry %q: want a duration from 1m to 720h", expiry)
		}
		return d, nil
	}
}

// --- Sign-in through the agency's OpenID provider (issue 12, production) ---

// SignIn is Seleksi's registration as a relying party at the agency's OpenID provider
// (the issuer is Config.OIDCIssuer) and the mapping of the provider's claims to roles.
// internal/accounts/oidc.Config is built from it.
type SignIn struct {
	// ClientID is the client registered at the provider; empty turns sign-in off.
	ClientID string
	// ClientSecret comes from SELEKSI_OIDC_CLIENT_SECRET or the file named by
	// -oidc-client-secret-file (a mounted Kubernetes secret); never from a flag, which
	// would show it in the process list. It never prints itself.
	ClientSecret blob.Secret
	// RedirectURL is Seleksi's callback, as registered at the provider.
	RedirectURL string
	Scopes      []string
	// RoleClaim names the claim holding a role or groups; RoleMap maps its values to
	// roles; DefaultRole is given when none maps ("" refuses the sign-in).
	RoleClaim   string
	RoleMap     map[string]auth.Role
	DefaultRole auth.Role
	// SelectionsClaim optionally names the claim with a committee member's selections.
	SelectionsClaim string
}

// Enabled reports whether people sign in through the OpenID provider.
func (s SignIn) Enabled() bool { return s.ClientID != "" }

// signInFlags registers the sign-in flags on fs and returns the function that checks them
// after parsing, given the issuer (-oidc-issuer).
func signInFlags(fs *flag.FlagSet, env func(name, def string) string, getenv func(string) string) func(issuer string) (SignIn, error) {
	var s SignIn
	var secretFile, scopes, roleMap, defaultRole string
	fs.StringVar(&s.ClientID, "oidc-client-id", env("SELEKSI_OIDC_CLIENT_ID", ""),
		"client ID of Seleksi at the OpenID provider (-oidc-issuer) for sign-in to the web pages; empty turns that sign-in off [SELEKSI_OIDC_CLIENT_ID]")
	fs.StringVar(&secretFile, "oidc-client-secret-file", env("SELEKSI_OIDC_CLIENT_SECRET_FILE", ""),
		"file holding the client secret (e.g. a mounted Kubernetes secret); else the secret is read from SELEKSI_OIDC_CLIENT_SECRET, never from a flag [SELEKSI_OIDC_CLIENT_SECRET_FILE]")
	fs.StringVar(&s.RedirectURL, "oidc-redirect-url", env("SELEKSI_OIDC_REDIRECT_URL", ""),
		"absolute URL of Seleksi's sign-in callback as registered at the provider, https except on localhost [SELEKSI_OIDC_REDIRECT_URL]")
	fs.StringVar(&scopes, "oidc-scopes", env("SELEKSI_OIDC_SCOPES", "openid profile email"),
		"space-separated scopes to request; add the one that makes your provider send groups or roles, if any [SELEKSI_OIDC_SCOPES]")
	fs.StringVar(&s.RoleClaim, "oidc-role-claim", env("SELEKSI_OIDC_ROLE_CLAIM", "seleksi_role"),
		"claim holding a role or a list of roles or groups; a dotted path reaches into objects, e.g. realm_access.roles [SELEKSI_OIDC_ROLE_CLAIM]")
	fs.StringVar(&roleMap, "oidc-role-map", env("SELEKSI_OIDC_ROLE_MAP", ""),
		"comma-separated VALUE=ROLE pairs mapping role-claim values to admin, committee, candidate or auditor, e.g. bkpsdm-sekretariat=admin,pansel=committee; other values are ignored [SELEKSI_OIDC_ROLE_MAP]")
	fs.StringVar(&defaultRole, "oidc-default-role", env("SELEKSI_OIDC_DEFAULT_ROLE", ""),
		"role of an account none of whose claim values is mapped, e.g. candidate; empty refuses such accounts [SELEKSI_OIDC_DEFAULT_ROLE]")
	fs.StringVar(&s.SelectionsClaim, "oidc-selections-claim", env("SELEKSI_OIDC_SELECTIONS_CLAIM", ""),
		"optional claim listing the selection IDs a committee member sits on [SELEKSI_OIDC_SELECTIONS_CLAIM]")
	return func(issuer string) (SignIn, error) {
		envSecret := getenv("SELEKSI_OIDC_CLIENT_SECRET")
		if !s.Enabled() {
			if s.RedirectURL != "" || roleMap != "" || defaultRole != "" || secretFile != "" || envSecret != "" {
				return SignIn{}, errors.New("-oidc-redirect-url, -oidc-role-map, -oidc-default-role and the client secret need -oidc-client-id")
			}
			return SignIn{}, nil
		}
		var errs []error
		if issuer == "" {
			errs = append(errs, errors.New("-oidc-client-id needs -oidc-issuer, the provider whose discovery document is read"))
		}
		switch u, err := url.Parse(s.RedirectURL); {
		case s.RedirectURL == "":
			errs = append(errs, errors.New("-oidc-client-id needs -oidc-redirect-url"))
		case err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			errs = append(errs, fmt.Errorf("-oidc-redirect-url %q: want an absolute http(s) URL", s.RedirectURL))
		case u.Scheme == "http" && !loopbackHost(u.Hostname()):
			errs = append(errs, fmt.Errorf("-oidc-redirect-url %q: want https (http only on localhost)", s.RedirectURL))
		case u.Fragment != "":
			errs = append(errs, fmt.Errorf("-oidc-redirect-url %q: must not have a fragment", s.RedirectURL))
		}
		switch {
		case secretFile != "" && envSecret != "":
			errs = append(errs, errors.New("-oidc-client-secret-file and SELEKSI_OIDC_CLIENT_SECRET: give one"))
		case secretFile != "":
			b, err := os.ReadFile(secretFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("-oidc-client-secret-file: %w", err))
			} else if s.ClientSecret = blob.Secret(strings.TrimSpace(string(b))); s.ClientSecret == "" {
				errs = append(errs, fmt.Errorf("-oidc-client-secret-file %s is empty", secretFile))
			}
		case envSecret != "":
			s.ClientSecret = blob.Secret(envSecret)
		default:
			errs = append(errs, errors.New("-oidc-client-id needs its secret in SELEKSI_OIDC_CLIENT_SECRET or -oidc-client-secret-file"))
		}
		s.Scopes = strings.Fields(scopes)
		if !slices.Contains(s.Scopes, "openid") {
			errs = append(errs, fmt.Errorf("-oidc-scopes %q: must include openid", scopes))
		}
		if s.RoleClaim == "" {
			errs = append(errs, errors.New("-oidc-role-claim must not be empty"))
		}
		var err error
		if s.RoleMap, err = parseRoleMap(roleMap); err != nil {
			errs = append(errs, fmt.Errorf("-oidc-role-map: %w", err))
		}
		if defaultRole != "" {
			r, err := auth.ParseRole(defaultRole)
			if err != nil {
				errs = append(errs, fmt.Errorf("-oidc-default-role: %w", err))
			}
			s.DefaultRole = r
		}
		if len(s.RoleMap) == 0 && defaultRole == "" && err == nil {
			errs = append(errs, errors.New("-oidc-client-id needs -oidc-role-map or -oidc-default-role: otherwise nobody can sign in"))
		}
		if err := errors.Join(errs...); err != nil {
			return SignIn{}, err
		}
		return s, nil
	}
}

// parseRoleMap reads VALUE=ROLE pairs separated by commas. A value may itself hold '='
// (the pair is split at its last one, as roles have none), not ','.
func parseRoleMap(v string) (map[string]auth.Role, error) {
	m := map[string]auth.Role{}
	var errs []error
	for pair := range strings.SplitSeq(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		i := strings.LastIndexByte(pair, '=')
		if i <= 0 {
			errs = append(errs, fmt.Errorf("%q: want VALUE=ROLE", pair))
			continue
		}
		value, role := strings.TrimSpace(pair[:i]), strings.TrimSpace(pair[i+1:])
		r, err := auth.ParseRole(role)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", pair, err))
			continue
		}
		if old, ok := m[value]; ok && old != r {
			errs = append(errs, fmt.Errorf("%q is mapped to both %s and %s", value, old, r))
			continue
		}
		m[value] = r
	}
	if len(m) == 0 {
		m = nil
	}
	return m, errors.Join(errs...)
}

// loopbackHost reports whether host is this machine, where a plain-http callback cannot
// be overheard.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// --- The demonstration seed (issue 12: "a flag seeds a demo") ---

// demoFlag registers -demo. Its accounts have a password printed on the log for everyone
// to read, so it is refused wherever it could reach real people's data: it is accepted
// only on the embedded default (embedded Temporal and a SQLite store, which production
// never runs, see README) or with -demo-seconds-per-day, itself for demonstrations only.
func demoFlag(fs *flag.FlagSet, env func(name, def string) string) func(c Config) (bool, error) {
	var demo bool
	def, envErr := strconv.ParseBool(env("SELEKSI_DEMO", "false"))
	fs.BoolVar(&demo, "demo", def && envErr == nil,
		"DEMONSTRATIONS ONLY: at start, seed a sample selection and accounts of every role with a known password, printed on the log; "+
			"refused unless on the embedded default (embedded Temporal, SQLite) or with -demo-seconds-per-day [SELEKSI_DEMO]")
	return func(c Config) (bool, error) {
		switch {
		case envErr != nil:
			return false, errors.New("SELEKSI_DEMO: want true or false")
		case !demo:
			return false, nil
		case c.DemoSecondsPerDay > 0:
			return true, nil
		case !c.Embedded() || !strings.HasPrefix(c.StoreURL(), "sqlite:"):
			return false, errors.New("-demo: refused with an external Temporal or PostgreSQL (a real deployment); " +
				"use it on the embedded default or with -demo-seconds-per-day")
		}
		return true, nil
	}
}

// migrateOnlyFlag registers -migrate-only: bring the store's schema to this binary's and exit.
// Every seleksid still migrates at start; the flag lets an upgrade migrate once, in a Job of
// its own, before the new API replicas and workers roll out.
func migrateOnlyFlag(fs *flag.FlagSet, env func(name, def string) string) func() (bool, error) {
	var on bool
	def, envErr := strconv.ParseBool(env("SELEKSI_MIGRATE_ONLY", "false"))
	fs.BoolVar(&on, "migrate-only", def && envErr == nil,
		"migrate the store (-database-url) to this version's schema and exit; starts no Temporal and no server [SELEKSI_MIGRATE_ONLY]")
	return func() (bool, error) {
		if envErr != nil {
			return false, errors.New("SELEKSI_MIGRATE_ONLY: want true or false")
		}
		return on, nil
	}
}
