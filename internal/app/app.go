// Package app wires seleksid together: the Temporal connection (embedded or external), the
// store, the worker and the network transport, and it starts and stops them in order. It
// does not link the embedded Temporal server itself; cmd/seleksid hands one in, so tests of
// this package stay fast.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/grpc"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/accounts/oidc"
	"github.com/bkpsdm/seleksi/internal/activities"
	"github.com/bkpsdm/seleksi/internal/archive"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/demo"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/documents/retention"
	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/internal/notify"
	"github.com/bkpsdm/seleksi/internal/official"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
	"github.com/bkpsdm/seleksi/internal/reconcile"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/telemetry"
	"github.com/bkpsdm/seleksi/internal/temporalclient"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// EmbeddedTemporal is a Temporal server running inside this process.
type EmbeddedTemporal interface {
	FrontendAddr() string
	UIAddr() string
	Stop()
}

// StartEmbeddedFunc starts the embedded Temporal server for a configuration.
type StartEmbeddedFunc func(cfg config.Config, logger *slog.Logger) (EmbeddedTemporal, error)

// App is a running seleksid.
type App struct {
	cfg    config.Config
	logger *slog.Logger
	// catalog renders message codes for the API and the notifications; parsed once.
	catalog  *i18n.Catalog
	embedded EmbeddedTemporal
	temporal client.Client
	// codec encrypts every payload the Temporal client sends (and the worker on it), and
	// decrypts them for the audit handlers and the codec endpoint.
	codec     *payloadcodec.Codec
	store     *store.Store
	worker    worker.Worker
	transport *Transport
	// stopNotifications ends the outbox dispatcher and waits for it.
	stopNotifications func()
	// archiver copies closed runs into the store before Temporal's retention deletes them;
	// stopArchiver ends its loop (run with the worker) and waits for it.
	archiver     *archive.Archiver
	stopArchiver func()
	// stopReconciler ends the loop that starts workflows left unstarted by a creation that
	// died halfway (run with the API), and waits for it.
	stopReconciler func()
	// stopReadiness ends the readiness checker (run with the API) and waits for it.
	stopReadiness func()
	// sweeper erases documents after their retention (run with the API, beside the
	// uploads); stopRetention ends its loop and waits for it.
	sweeper       *retention.Sweeper
	stopRetention func()
	// stopSessionSweep ends the loop deleting expired web sessions and waits for it.
	stopSessionSweep func()
	// accounts are the local accounts of the web application (run with the API).
	accounts *accounts.Service
	// stopUploadExpiry ends the loop removing expired unfinished uploads (run with the
	// API) and waits for it.
	stopUploadExpiry func()
	// issuer issues official documents; stopOfficial ends its loop (run with the worker)
	// and waits for it.
	issuer       *official.Issuer
	stopOfficial func()
	// telemetry holds the metrics and the tracer (internal/telemetry); metricsLis and
	// stopMetrics are the listener of -metrics-addr and the end of its server.
	telemetry   *telemetry.Telemetry
	metricsLis  net.Listener
	stopMetrics func()
	// pprofLis and stopPprof are the listener of -pprof-addr and the end of its server.
	pprofLis  net.Listener
	stopPprof func()
}

// OfficialKeyFile is the file in the data directory's keys folder that holds the Ed25519 key
// official documents are signed with: the workers' (created on first start, or mounted). Its
// public half goes to the store, from which the API replicas publish it.
const OfficialKeyFile = "official-documents-ed25519.pem"

// PageTokenKeyFile is the file in the data directory's keys folder that holds the key page
// tokens are authenticated with.
const PageTokenKeyFile = "page-token-hmac.key"

// workflowTaskDeadlockTimeout is how long one workflow task may run before the SDK calls it
// a deadlock.
const workflowTaskDeadlockTimeout = 10 * time.Second

// startupTimeout bounds how long seleksid waits for Temporal and the database at start.
const startupTimeout = time.Minute

// Start brings seleksid up: embedded Temporal (unless an external cluster is configured),
// the Temporal client and namespace, the store, the worker and the API, in that order. On
// error, whatever was started is stopped again.
func Start(ctx context.Context, cfg config.Config, logger *slog.Logger, startEmbedded StartEmbeddedFunc) (_ *App, err error) {
	a := &App{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			_ = a.stop(ctx)
		}
	}()
	if a.catalog, err = i18n.NewCatalog(); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	// A worker against an external Temporal and PostgreSQL keeps nothing in the data
	// directory, and may run where it cannot write one.
	if cfg.Embedded() || cfg.RunsAPI() || strings.HasPrefix(cfg.StoreURL(), "sqlite:") {
		if err = privateDataDir(cfg.DataDir, logger); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
	}

	if err = a.startTelemetry(ctx, cfg, logger); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	hostPort := cfg.TemporalAddress
	if cfg.Embedded() {
		if startEmbedded == nil {
			return nil, errors.New("app: no Temporal address configured and no embedded server available")
		}
		if a.embedded, err = startEmbedded(cfg, logger); err != nil {
			return nil, fmt.Errorf("app: start embedded Temporal: %w", err)
		}
		hostPort = a.embedded.FrontendAddr()
		logger.Info("embedded Temporal server started", "frontend", hostPort, "ui", a.embedded.UIAddr(), "data_dir", cfg.DataDir)
	}
	temporalInterceptors, err := a.telemetry.TemporalInterceptors()
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// Payloads reach Temporal encrypted (issue 14 §3), with the keys configured or, by
	// default, a key file created in the data directory's keys folder on first start.
	if a.codec, err = openPayloadCodec(cfg, logger); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	logger.Info("temporal payloads are encrypted", "active_key_id", a.codec.ActiveKeyID(), "key_ids", a.codec.KeyIDs())
	temporalOpts := temporalclient.Options{
		HostPort:         hostPort,
		Namespace:        cfg.TemporalNamespace,
		Retention:        cfg.TemporalRetention,
		SearchAttributes: SearchAttributes(),
		DataConverter:    a.codec.DataConverter(),
		Logger:           logger,
		MetricsHandler:   a.telemetry.TemporalMetricsHandler(),
		Interceptors:     temporalInterceptors,
	}
	if err = temporalSecurity(cfg, logger, &temporalOpts); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if a.temporal, err = temporalclient.Dial(ctx, temporalOpts); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// Keys come from the key directory every replica mounts, or from the data directory
	// (see keySource).
	ks, err := newKeySource(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// The API's page tokens are authenticated with a persistent key, like the token signing
	// key, so that they survive restarts and hold across replicas sharing the key directory.
	// A worker lists nothing for clients.
	storeOpts := []store.Option{store.WithPlugins(a.telemetry.GormPlugin())}
	if cfg.RunsAPI() {
		pageKey, older, err := ks.pageTokenKeys()
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		storeOpts = append(storeOpts, store.WithPageTokenKeys(pageKey, older...))
	}
	if a.store, err = store.Open(ctx, cfg.StoreURL(), storeOpts...); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// Every process migrates at start; the store serializes concurrent migrators (API
	// replicas and workers starting together) with a lock.
	if err = a.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if err = a.registerStoreStats(); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if err = a.startPprofServer(cfg, logger); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if err = a.startMetricsServer(cfg, logger); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	// The archiver's full scan catches a run visibility recorded later than the overlap; it
	// comes at least four times within the retention, so that such a run is archived before
	// Temporal deletes it.
	archiveOpts := archive.Options{Interval: cfg.ArchiveInterval}
	if cfg.TemporalRetention > 0 {
		archiveOpts.FullScanEvery = min(archive.DefaultFullScanEvery, cfg.TemporalRetention/4)
	}
	a.archiver = archive.New(a.temporal, a.store, logger, archiveOpts)

	if cfg.RunsWorker() {
		a.worker = worker.New(a.temporal, cfg.TemporalTaskQueue, worker.Options{
			// Let running activities finish their store writes before the process exits,
			// within the worker's share of the shutdown timeout.
			WorkerStopTimeout: workerStopTimeout(cfg),
			// A workflow task that decodes a large selection's close snapshot (over 1 MB for
			// 5,000 applications) can take longer than the SDK's default 1 s on a busy
			// worker; that is not a deadlock, and failing the task would only repeat it.
			DeadlockDetectionTimeout: workflowTaskDeadlockTimeout,
		})
		a.worker.RegisterWorkflow(workflows.SelectionWorkflow)
		a.worker.RegisterActivity(activities.New(a.store, logger))
		if err = a.worker.Start(); err != nil {
			return nil, fmt.Errorf("app: start worker: %w", err)
		}
		if err = a.startNotifications(cfg, logger); err != nil {
			return nil, err
		}
		a.startArchiver()
		// Workers sign official documents with the active official key and register the
		// public halves in the store, where the API replicas find them.
		officialKey, retired, err := ks.officialKeys()
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		signer, err := official.NewEd25519Signer(officialKey, retired...)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		a.issuer = official.NewIssuer(a.store, signer, logger, official.Options{
			PublicURL: publicURL(cfg), NumberPrefix: cfg.OfficialNumberPrefix, Catalog: a.catalog, Interval: cfg.OfficialInterval,
		}, official.StandardKinds(server.ReportDefinition)...)
		a.startOfficial()
	}
	if cfg.RunsAPI() {
		// The local key signs the web application's tokens and verifies them (and every token
		// when no identity provider is configured); the bundle keys sign export bundles.
		key, err := ks.tokenKeys()
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		bundleKeys := ks.bundleKeys(key)
		keySet, err := jwks(key, bundleKeys)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		// The accounts verify personal access tokens, so they come before the verifier.
		a.accounts = accounts.New(a.store, accounts.Options{}, logger)
		verifier, err := newVerifier(cfg, key, a.accounts)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		blobs, err := documentStorage(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		signIn, err := openIDSignIn(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		// A demonstration seeds its secretariat account below instead.
		// The first secretariat account comes from the setup link on a deployment of local
		// accounts only: with the agency's identity provider, the secretariat signs in there
		// (its role from the provider's claims), and a setup code printed at every start of
		// every replica would let whoever reads the logs make an administrator.
		if !cfg.Demo && !cfg.SignIn.Enabled() {
			if err := a.firstStart(ctx, cfg, logger); err != nil {
				return nil, fmt.Errorf("app: %w", err)
			}
		}
		svcs, err := a.services(cfg, logger, bundleKeys.Active, blobs)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		uploads, err := documents.NewUploads(a.store, blobs, documentInspector(), verifier, a.catalog, logger, documents.UploadOptions{
			Dir: cfg.Uploads.UploadsDir, BasePath: UploadsPath, Expiry: cfg.Uploads.UploadExpiry})
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		transportTLS, err := serverTLS(cfg, logger)
		if err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		if a.transport, err = NewTransport(ctx, logger, cfg.GRPCAddr, cfg.HTTPAddr, verifier, svcs, transportTLS, WithLimits(Limits{
			MaxRequestBytes: cfg.MaxRequestBytes,
			ReadTimeout:     cfg.HTTPReadTimeout,
			TrustedProxies:  cfg.TrustedProxies,
			Rates:           cfg.RateLimits,
		}), WithDeadlines(server.Deadlines{Default: cfg.RPCTimeout, Long: cfg.RPCLongTimeout}), WithJWKS(keySet),
			WithUploads(func(l documents.Limiter) http.Handler { return uploads.LimitedBy(l) }),
			WithCodec(newCodecHandler(a.codec, verifier, cfg.PayloadCodec.CORSOrigins, logger)),
			WithTelemetry(a.telemetry, cfg.Telemetry.MetricsOnHTTP()),
			WithWeb(func(conn grpc.ClientConnInterface) (http.Handler, error) {
				return web.New(web.Options{Conn: conn, Sessions: a.store.Sessions(time.Now), Minter: webMinter{key: key, ttl: webTokenTTL, accounts: a.accounts},
					Logger: logger, Secure: cfg.Secure(), IdleTimeout: cfg.Web.SessionIdle, Lifetime: cfg.Web.SessionLifetime,
					Accounts: a.accounts, Messages: a.catalog, OIDC: signIn,
					// The candidate pages relay their files to the same upload handler (limited
					// by the transport's limiter, set on it before this runs).
					Uploads: uploads})
			})); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		}
		a.startUploadExpiry(uploads)
		a.startSessionSweep(logger)
		if err = a.startRetention(cfg, logger, blobs); err != nil {
			return nil, err
		}
		a.startReadiness(ctx, cfg, logger)
		a.transport.Start()
		a.startReconciler(cfg, logger)
		if cfg.Demo {
			if err := a.seedDemo(ctx, cfg, logger, key); err != nil {
				return nil, fmt.Errorf("app: %w", err)
			}
		}
	}
	return a, nil
}

// openPayloadCodec opens the payload keys. A process of a split deployment (-mode api or
// worker) never creates them: each would make its own, and the others could not read what it
// sends to Temporal; it needs -payload-keys or the key file in its keys folder (mounted, as
// the other keys are). A -mode all process against an external Temporal is told so in the
// log, as it is for the key directory (keySource).
func openPayloadCodec(cfg config.Config, logger *slog.Logger) (*payloadcodec.Codec, error) {
	if cfg.Mode != config.ModeAll && cfg.PayloadCodec.Keys.Keys == "" {
		if _, err := os.Stat(payloadcodec.DefaultPath(cfg.DataDir)); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("-mode %s needs the payload keys every process shares: -payload-keys, or %s in the keys folder (README, \"Encrypted Temporal payloads\")",
				cfg.Mode, payloadcodec.DefaultKeyFile)
		}
	}
	if !cfg.Embedded() && cfg.PayloadCodec.Keys.Keys == "" {
		logger.Warn("no -payload-keys against an external Temporal: this process encrypts with the key of its own data directory, "+
			"which no other process shares / tanpa -payload-keys: kunci enkripsi diambil dari direktori data proses ini sendiri",
			"data_dir", cfg.DataDir)
	}
	return payloadcodec.Open(cfg.PayloadCodec.Keys, cfg.DataDir, time.Now)
}

// privateDataDir creates the data directory readable by the owner only (it holds the keys,
// the SQLite store and Temporal's histories, all personal data or secrets), and narrows one
// left open by an earlier version. A directory this process cannot narrow (a volume owned by
// someone else) is reported and used as it is: the files in it are created 0600 anyway.
func privateDataDir(dir string, logger *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(dir, fi.Mode().Perm()&0o700); err != nil {
		logger.Warn("the data directory is readable by others and cannot be narrowed", "data_dir", dir, "mode", fi.Mode().Perm().String(), "error", err)
	}
	return nil
}

// startReconciler starts, until the app stops, the workflows of selections that were stored
// but whose creating request died before starting them. It runs with the API, which creates
// selections: every API replica runs one, and they may race harmlessly (starting is
// idempotent by workflow ID), so no replica's crash leaves a selection without its workflow
// for longer than an interval or two.
func (a *App) startReconciler(cfg config.Config, logger *slog.Logger) {
	r := reconcile.New(a.temporal, a.store, logger, reconcile.Options{TaskQueue: cfg.TemporalTaskQueue,
		Interval: cfg.ReconcileInterval, Grace: cfg.ReconcileInterval})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	a.stopReconciler = func() {
		cancel()
		<-done
	}
}

// startReadiness checks the store and Temporal once, so that the API reports the truth from
// its first moment, and then every -readiness-interval until the app stops: gRPC health and
// /readyz say NOT_SERVING while either cannot be reached, and SERVING again when both answer.
func (a *App) startReadiness(ctx context.Context, cfg config.Config, logger *slog.Logger) {
	checker := health.NewChecker(a.transport.Readiness(), logger,
		health.Options{Interval: cfg.ReadinessInterval, Timeout: cfg.ReadinessTimeout},
		health.Dependency{Name: health.Store, Ping: a.store.Ping},
		health.Dependency{Name: health.Temporal, Ping: func(ctx context.Context) error {
			_, err := a.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}})
	checker.CheckNow(ctx)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		checker.Run(runCtx)
	}()
	a.stopReadiness = func() {
		cancel()
		<-done
	}
}

// newVerifier trusts the agency's identity provider when one is configured, and otherwise
// the local signing key in the data directory (created on first start); and, in both
// cases, the personal access tokens of the accounts (see bearerVerifier).
func newVerifier(cfg config.Config, key *auth.LocalKey, accts *accounts.Service) (auth.Verifier, error) {
	var jwts auth.Verifier = key.Verifier(time.Now, cfg.MaxTokenLifetime)
	if cfg.OIDCIssuer != "" {
		idp, err := auth.NewOIDCVerifier(auth.OIDCOptions{Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, JWKSURL: cfg.OIDCJWKSURL,
			MaxLifetime: cfg.MaxTokenLifetime})
		if err != nil {
			return nil, err
		}
		// The web application calls the API with tokens it mints with the local key for
		// the people signed in to it (whichever way they signed in).
		jwts = auth.FirstOf(idp, jwts)
	}
	// A JWT's validity is its signature and its times, so a verified one is remembered
	// (auth.NewCache) rather than checked again at every call of a client that sends the same
	// token; personal access tokens are looked up every time, so that a revocation takes
	// effect at the next call.
	return bearerVerifier{jwts: auth.NewCache(jwts, auth.CacheOptions{}), personal: accts.TokenVerifier()}, nil
}

// bearerVerifier tells the two kinds of bearer token apart by their form: a personal
// access token (accounts.TokenPrefix) goes to the accounts' verifier only, anything else to
// the JWT verifiers only. So a personal token's secret never reaches a JWT parser (whose
// errors are logged), a JWT costs no database lookup, and a database that cannot answer a
// personal token's lookup reads as "try again later" rather than "unauthenticated" (which
// auth.FirstOf would make of every error).
type bearerVerifier struct{ jwts, personal auth.Verifier }

func (v bearerVerifier) Verify(ctx context.Context, token string) (auth.Principal, error) {
	if strings.HasPrefix(token, accounts.TokenPrefix) {
		return v.personal.Verify(ctx, token)
	}
	return v.jwts.Verify(ctx, token)
}

// webTokenTTL is how long a token the web application mints for one page's API calls is
// valid: long enough for the slowest page, short enough that a token that leaked from a
// log or a crash dump is worthless.
const webTokenTTL = 2 * time.Minute

// webMinter mints the tokens pages call the API with, with the local key. A committee
// member's selections are their account's seats at that moment (plus those the identity
// provider named at sign-in), so a seat the secretariat unlinks stops working at the next
// page, whatever the session holds.
type webMinter struct {
	key      *auth.LocalKey
	ttl      time.Duration
	accounts *accounts.Service
}

func (m webMinter) Token(ctx context.Context, u web.User) (string, error) {
	sels := slices.Clone(u.Selections)
	if u.Role == auth.RoleCommittee && m.accounts != nil {
		seats, err := m.accounts.Seats(ctx, u.AccountID)
		if err != nil {
			return "", fmt.Errorf("committee seats of the session's account: %w", err)
		}
		for _, s := range seats {
			sels = append(sels, s.SelectionID)
		}
	}
	return m.key.Mint(auth.MintOptions{Subject: u.Subject, Role: u.Role, Selections: sels, TTL: m.ttl, IdentityIssuer: u.Issuer})
}

// openIDSignIn is sign-in to the pages through the agency's OpenID provider, when it is
// configured (nil otherwise). Discovery reaches the provider, so it gets a bounded time.
func openIDSignIn(ctx context.Context, cfg config.Config) (*oidc.Provider, error) {
	if !cfg.SignIn.Enabled() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := cfg.SignIn
	p, err := oidc.New(ctx, oidc.Config{Issuer: cfg.OIDCIssuer, ClientID: s.ClientID, ClientSecret: string(s.ClientSecret),
		RedirectURL: s.RedirectURL, Scopes: s.Scopes, RoleClaim: s.RoleClaim, RoleMap: s.RoleMap, DefaultRole: s.DefaultRole,
		SelectionsClaim: s.SelectionsClaim})
	if err != nil {
		return nil, fmt.Errorf("OpenID sign-in: %w", err)
	}
	return p, nil
}

// firstStart tells, while no secretariat account exists, how the first one is made: a
// one-time link with a setup code (valid 24 hours, replaced at each start until used). It
// is printed on the log, which only the operator who started seleksid reads.
func (a *App) firstStart(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	code, err := a.accounts.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("first-start setup code: %w", err)
	}
	if code == "" {
		return nil
	}
	link := cfg.Web.PublicURL.JoinPath("/pengaturan-awal")
	link.RawQuery = url.Values{"code": {code}}.Encode()
	logger.Warn("no secretariat account yet: open this one-time link to create it (valid 24 hours) / "+
		"belum ada akun sekretariat: buka tautan sekali pakai ini untuk membuatnya (berlaku 24 jam)", "setup_link", link.String())
	return nil
}

// seedDemo makes sure the demonstration exists (-demo): its accounts, and its sample
// selection created through the API just started, as any client would, over a connection
// of its own to the gRPC address; then it prints the sign-in list.
func (a *App) seedDemo(ctx context.Context, cfg config.Config, logger *slog.Logger, key *auth.LocalKey) error {
	conn, err := grpc.NewClient(loopback(a.transport.grpcLis.Addr()), a.transport.loopback)
	if err != nil {
		return fmt.Errorf("demo: connection to the API: %w", err)
	}
	defer func() { _ = conn.Close() }()
	_, err = demo.Seed(ctx, demo.Options{Accounts: a.accounts, Conn: conn, Key: key, WebURL: cfg.Web.PublicURL, Logger: logger})
	return err
}

// documentStorage is where the contents of uploaded documents are kept: files under the
// data directory by default, or the S3-compatible bucket configured. Opening S3 checks the
// bucket over the network, so it gets a bounded time.
func documentStorage(ctx context.Context, cfg config.Config) (blob.Store, error) {
	opts := cfg.Documents
	if opts.Dir == "" {
		opts.Dir = filepath.Join(cfg.DataDir, "documents")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return blob.Open(ctx, opts)
}

// documentInspector checks each finished upload's content: internal/documents/scan parses
// it and refuses hostile files.
func documentInspector() documents.Inspector { return documents.ScanInspector{} }

// sessionSweepInterval is how often expired web sessions are deleted.
const sessionSweepInterval = 10 * time.Minute

// startSessionSweep deletes expired web sessions until the app stops: their rows hold names
// and drafts of applications, kept no longer than the session. Every API replica sweeps;
// deleting the same rows twice is harmless.
func (a *App) startSessionSweep(logger *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sessions := a.store.Sessions(time.Now)
	go func() {
		defer close(done)
		t := time.NewTicker(sessionSweepInterval)
		defer t.Stop()
		for {
			if n, err := sessions.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("web sessions: delete expired", "error", err)
			} else if n > 0 {
				logger.Debug("web sessions: expired ones deleted", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	a.stopSessionSweep = func() {
		cancel()
		<-done
	}
}

// startUploadExpiry removes unfinished uploads past their expiry until the app stops. It runs
// with the API, which holds the partial uploads on its disk.
func (a *App) startUploadExpiry(u *documents.Uploads) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		u.Run(ctx)
	}()
	a.stopUploadExpiry = func() {
		cancel()
		<-done
	}
}

// services are the handlers registered on the gRPC server. Export bundles are signed with
// bundleKey (see keySource.bundleKeys), whoever issues the tokens: an auditor checks them
// against the key GetSigningKey publishes, or any key of the key set at JWKSPath.
func (a *App) services(cfg config.Config, logger *slog.Logger, bundleKey keys.SigningKey, blobs blob.Store) (server.Services, error) {
	auditSrv, err := server.NewAuditServer(a.store, a.temporal, bundleKey.Private, bundleKey.Public, logger, time.Now)
	if err != nil {
		return server.Services{}, err
	}
	auditSrv.UseArchive(a.store)
	auditSrv.UsePayloadCodec(a.codec)
	appSrv := server.NewApplicationServer(a.store, a.temporal, a.catalog, logger, nil)
	appSrv.UseDocuments(server.NewStoreDocumentChecker(a.store))
	appSrv.UseParticipantNumbers(cfg.ParticipantNumbers)
	return server.Services{
		Selection: server.NewSelectionServer(a.store, a.temporal, a.catalog, logger, server.SelectionOptions{
			TaskQueue: cfg.TemporalTaskQueue, SecondsPerDay: cfg.DemoSecondsPerDay}),
		Application:  appSrv,
		Audit:        auditSrv,
		Notification: server.NewNotificationServer(a.store, a.catalog, logger),
		Document:     server.NewDocumentServer(a.store, blobs, logger, time.Now),
		Official:     server.NewOfficialDocumentServer(a.store, official.NewRegisteredKeys(a.store), logger),
		Schedule:     server.NewScheduleServer(a.store, logger, time.Now),
		Attendance:   server.NewAttendanceServer(a.store, a.temporal, a.catalog, logger, time.Now),
		Report:       server.NewReportServer(a.store, a.catalog, logger, time.Now),
	}, nil
}

// startNotifications drains the notification outbox until the app stops, each row on its
// own channel: e-mail by the relay when one is configured, otherwise into the log; webhooks
// to the agency's gateway when one is configured. It runs with the worker; several workers
// share the outbox through the store's leases, so none sends what another sends.
func (a *App) startNotifications(cfg config.Config, logger *slog.Logger) error {
	channels := notify.Channels{Email: notify.LogSender{Logger: logger}}
	if cfg.SMTPAddr != "" {
		smtpSender := notify.NewSMTPSender(cfg.SMTPAddr, cfg.SMTPFrom, nil, candidateEmails{a.store})
		// Invitations carry their .ics (issue 13).
		smtpSender.UseAttachments(a.store)
		channels.Email = smtpSender
	}
	if cfg.Webhook.URL != "" {
		secret, err := notify.WebhookSecret(string(cfg.Webhook.Secret))
		if err != nil {
			return fmt.Errorf("app: notification webhook: %w", err)
		}
		channels.Webhook = notify.NewWebhookSender([]notify.WebhookEndpoint{{URL: cfg.Webhook.URL, Secret: secret, Events: cfg.Webhook.Events}}, nil, nil)
	}
	var sender notify.Sender = channels
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		notify.NewDispatcher(a.store, sender, a.catalog, logger, notify.Options{
			Interval: cfg.Outbox.Interval, BatchSize: cfg.Outbox.BatchSize, Concurrency: cfg.Outbox.Concurrency,
			MaxAttempts: cfg.Outbox.MaxAttempts, BackoffInitial: cfg.Outbox.BackoffInitial, BackoffMax: cfg.Outbox.BackoffMax,
			SendTimeout: cfg.Outbox.SendTimeout,
		}).Run(ctx)
	}()
	a.stopNotifications = func() {
		cancel()
		<-done
	}
	return nil
}

// startOfficial issues official documents until the app stops. It runs with the worker;
// workers share the queue through the store's leases, so each document is issued once.
func (a *App) startOfficial() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.issuer.Run(ctx)
	}()
	a.stopOfficial = func() {
		cancel()
		<-done
	}
}

// IssueOfficialNow runs one round of issuing official documents at once: for operators and
// tests.
func (a *App) IssueOfficialNow(ctx context.Context) (official.Round, error) {
	if a.issuer == nil {
		return official.Round{}, errors.New("app: not started")
	}
	return a.issuer.IssueOnce(ctx)
}

// publicURL is where people reach the service, without a trailing slash.
func publicURL(cfg config.Config) string {
	if cfg.Web.PublicURL == nil {
		return ""
	}
	return strings.TrimRight(cfg.Web.PublicURL.String(), "/")
}

// startArchiver archives closed runs until the app stops. It runs with the worker, so that
// a deployment that splits API replicas from workers archives from the workers only. Every
// worker runs one, and they take turns under a lease in the store (internal/archive); a run
// archived twice is stored once all the same (the store is idempotent per run).
func (a *App) startArchiver() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.archiver.Run(ctx)
	}()
	a.stopArchiver = func() {
		cancel()
		<-done
	}
}

// ArchiveNow runs an archive pass at once (closed runs since the watermark) and reports how
// many runs it archived: for operators before maintenance, and for tests. It fails with
// archive.ErrLeaseHeld while another worker's archiver holds the lease.
func (a *App) ArchiveNow(ctx context.Context) (int, error) {
	if a.archiver == nil {
		return 0, errors.New("app: not started")
	}
	return a.archiver.RunOnce(ctx)
}

// candidateEmails finds a notification's address from its application's candidate.
type candidateEmails struct{ store *store.Store }

func (c candidateEmails) EmailOf(ctx context.Context, n store.Notification) (string, error) {
	app, err := c.store.GetApplication(ctx, n.SelectionID, n.ApplicationID)
	if err != nil {
		return "", err
	}
	return app.Candidate.Email, nil
}

// SearchAttributes are the custom search attributes the selection workflows carry. They
// hold no personal data: operators find an agency's selections, or those in a stage, in the
// Web UI.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		workflows.SearchAttributeAgency: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		workflows.SearchAttributeStage:  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		// The reason code of a blocked selection, unset otherwise.
		workflows.SearchAttributeBlocked: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// GRPCAddr is the gRPC listen address, or empty in worker-only mode.
func (a *App) GRPCAddr() string {
	if a.transport == nil {
		return ""
	}
	return a.transport.GRPCAddr()
}

// HTTPAddr is the gateway listen address, or empty in worker-only mode.
func (a *App) HTTPAddr() string {
	if a.transport == nil {
		return ""
	}
	return a.transport.HTTPAddr()
}

// EmbeddedUIAddr is the embedded Temporal Web UI's address, or empty when there is none.
func (a *App) EmbeddedUIAddr() string {
	if a.embedded == nil {
		return ""
	}
	return a.embedded.UIAddr()
}

// TemporalNamespace is the namespace the selection workflows run in.
func (a *App) TemporalNamespace() string { return a.cfg.TemporalNamespace }

// TemporalClient is the connected Temporal client.
func (a *App) TemporalClient() client.Client { return a.temporal }

// Run starts seleksid and blocks until ctx is cancelled (SIGINT/SIGTERM) or a server fails,
// then shuts down within the configured timeout.
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, startEmbedded StartEmbeddedFunc) error {
	a, err := Start(ctx, cfg, logger, startEmbedded)
	if err != nil {
		return err
	}
	var failure error
	var transportErrs <-chan error
	if a.transport != nil {
		transportErrs = a.transport.Errors()
	}
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case failure = <-transportErrs:
		logger.Error("server failed; shutting down", "error", failure)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(failure, a.Shutdown(shutdownCtx))
}

// Shutdown stops accepting requests, lets in-flight ones finish, stops the worker after its
// running activities complete, then closes the client, the store and the embedded server,
// all by ctx's deadline (without one, within the configured shutdown timeout): each step
// gets its share of the time (see shutdownPlan), and one that overruns it is left behind.
func (a *App) Shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.cfg.ShutdownTimeout)
		defer cancel()
	}
	err := a.stop(ctx)
	if err == nil {
		a.logger.Info("stopped cleanly")
	}
	return err
}

// stop stops whatever of the transport, the loops, the worker, the client, the store and
// the embedded server is running, in that order.
func (a *App) stop(ctx context.Context) error {
	plan := planShutdown(a.cfg)
	var phases []phase
	if t := a.transport; t != nil {
		phases = append(phases, phase{"transport", plan.transport, t.Shutdown})
	}
	// The readiness checker, the reconciler, the archiver, the dispatcher and the retention
	// sweeper use the store and Temporal: they stop before either closes, all at once.
	var loops []func()
	for _, stop := range []*func(){&a.stopReadiness, &a.stopReconciler, &a.stopArchiver, &a.stopNotifications, &a.stopOfficial, &a.stopRetention, &a.stopUploadExpiry, &a.stopSessionSweep, &a.stopMetrics, &a.stopPprof} {
		if *stop != nil {
			loops = append(loops, *stop)
			*stop = nil
		}
	}
	a.archiver, a.sweeper = nil, nil
	if len(loops) > 0 {
		phases = append(phases, phase{"background loops", plan.loops, func(context.Context) error {
			done := make(chan struct{}, len(loops))
			for _, stop := range loops {
				go func() {
					stop()
					done <- struct{}{}
				}()
			}
			for range loops {
				<-done
			}
			return nil
		}})
	}
	if w := a.worker; w != nil {
		phases = append(phases, phase{"worker", plan.worker, func(context.Context) error {
			w.Stop()
			return nil
		}})
	}
	if c, st := a.temporal, a.store; c != nil || st != nil {
		phases = append(phases, phase{"Temporal client and store", plan.backends, func(context.Context) error {
			if c != nil {
				c.Close()
			}
			if st != nil {
				return st.Close()
			}
			return nil
		}})
	}
	// The last spans (the shutdown's own calls) are exported before the embedded server's
	// stop, which may take the rest of the time; a collector that does not answer gets
	// telemetryFlushTimeout at most.
	if tel := a.telemetry; tel != nil {
		phases = append(phases, phase{"telemetry", telemetryShutdownBy, func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, telemetryFlushTimeout)
			defer cancel()
			return tel.Shutdown(ctx)
		}})
	}
	if e := a.embedded; e != nil {
		phases = append(phases, phase{"embedded Temporal", 1, func(context.Context) error {
			e.Stop()
			return nil
		}})
	}
	// The transport stays, so its addresses can still be read (tests restart on them).
	a.worker, a.temporal, a.store, a.embedded, a.telemetry = nil, nil, nil, nil, nil
	return runPhases(ctx, a.logger, phases)
}
