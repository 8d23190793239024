// Package temporalserver runs a Temporal server inside the seleksid process, persisted in a
// SQLite file, the way Temporal's own development server does. It is the only package that
// links the Temporal server module (about 1,750 packages), so only cmd/seleksid and the
// end-to-end tests pay for it; everything else talks to Temporal through the SDK client and
// works the same against an external cluster.
package temporalserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	clusterName = "active"
	// clusterID must be a UUID, and fixed: it is stored in the cluster metadata on first start.
	clusterID = "6f1d5c2e-8a4b-4e1f-9c3d-7b2a5e8f0c41"
	// DatabaseFile is the SQLite file, relative to the data directory, that holds the
	// embedded server's state (histories, task queues, visibility).
	DatabaseFile = "temporal.db"
)

// Options configure the embedded server.
type Options struct {
	// DataDir holds the SQLite database; it is created if missing. State survives restarts.
	DataDir string
	// FrontendAddr is the host:port of the frontend gRPC service that SDK clients dial.
	// A port of 0 picks a free one (tests).
	FrontendAddr string
	// UIAddr is the host:port of the Temporal Web UI; empty disables the UI.
	UIAddr string
	// Namespaces are registered on first start (and on every start if missing).
	Namespaces []string
	// SearchAttributes are the custom search attributes each namespace is created with.
	SearchAttributes map[string]enumspb.IndexedValueType
	// Logger receives the server's logs at LogLevel and above. The server is chatty at info
	// level, so callers usually pass warn.
	Logger   *slog.Logger
	LogLevel slog.Level
}

// Server is a running embedded Temporal server.
type Server struct {
	server       temporal.Server
	ui           *uiserver.Server
	frontendAddr string
	uiAddr       string
	logger       *slog.Logger
	serverLog    *slogLogger
}

// Start builds and starts the server and, if configured, the Web UI. It returns once the
// frontend accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("temporalserver: data directory is required")
	}
	if len(opts.Namespaces) == 0 {
		return nil, errors.New("temporalserver: at least one namespace is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// The directory and the database hold workflow histories: the owner's only.
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("temporalserver: create data dir: %w", err)
	}

	host, port, err := splitHostPort(opts.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: frontend address: %w", err)
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	}
	frontendAddr := net.JoinHostPort(host, strconv.Itoa(port))

	sqlConf, err := sqlConfig(filepath.Join(opts.DataDir, DatabaseFile), opts.Namespaces, opts.SearchAttributes)
	if err != nil {
		return nil, err
	}
	conf, err := serverConfig(host, port, sqlConf)
	if err != nil {
		return nil, err
	}

	logger := &slogLogger{log: opts.Logger}
	logger.level.Set(opts.LogLevel)
	staticHosts := make(map[primitives.ServiceName]static.Hosts, len(conf.Services))
	for name, svc := range conf.Services {
		staticHosts[primitives.ServiceName(name)] = static.SingleLocalHost(
			net.JoinHostPort(host, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		// The dev server's values: a larger mutable-state cache and visibility rate, which a
		// single-host deployment can afford.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(staticHosts),
		temporal.WithLogger(logger),
		// The frontend listens on loopback only; seleksid's own API does the authorization.
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return authorization.NewNoopClaimMapper() }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("temporalserver: build server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporalserver: start server: %w", err)
	}

	s := &Server{server: srv, frontendAddr: frontendAddr, logger: opts.Logger, serverLog: logger}
	if opts.UIAddr != "" {
		if err := s.startUI(opts.UIAddr); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

// FrontendAddr is the host:port SDK clients dial.
func (s *Server) FrontendAddr() string { return s.frontendAddr }

// UIAddr is the host:port of the Web UI, or empty when it is disabled.
func (s *Server) UIAddr() string { return s.uiAddr }

// Stop stops the UI and then the server; the server flushes its state to SQLite.
func (s *Server) Stop() {
	// While stopping, the server's internal workers warn about every connection they lose;
	// those warnings describe the shutdown itself, not a problem.
	s.serverLog.level.Set(max(s.serverLog.level.Level(), slog.LevelError))
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

func (s *Server) startUI(addr string) error {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return fmt.Errorf("temporalserver: UI address: %w", err)
	}
	if port == 0 {
		if port, err = freePort(host); err != nil {
			return err
		}
	}
	// ui.Start blocks and only reports a bind failure by returning, so check the port first
	// to fail start-up with a clear error instead of a UI that silently never came up.
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("temporalserver: UI address %s: %w", addr, err)
	}
	_ = l.Close()
	s.uiAddr = net.JoinHostPort(host, strconv.Itoa(port))
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: s.frontendAddr,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		// The machine may have no route to the internet; the UI must not try to reach it.
		DisableNewsFetch: true,
	}))
	go func() {
		if err := s.ui.Start(); err != nil {
			s.logger.Error("temporal web UI stopped", "error", err)
		}
	}()
	return nil
}

func serverConfig(host string, frontendPort int, sqlConf *config.SQL) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host

	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}

	httpPort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	frontendAddr := net.JoinHostPort(host, strconv.Itoa(frontendPort))
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontendAddr,
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(httpPort)),
				ClusterID:              clusterID,
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = host
		if name == "frontend" {
			svc.RPC.GRPCPort = frontendPort
			svc.RPC.HTTPPort = httpPort
		} else if svc.RPC.GRPCPort, err = freePort(host); err != nil {
			return nil, err
		}
		conf.Services[name] = svc
	}
	// Seleksi archives closed runs itself (in its store), so Temporal's archival stays off.
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontendAddr
	return &conf, nil
}

// sqlConfig creates the schema on first start and registers any missing namespace.
func sqlConfig(file string, namespaces []string, searchAttributes map[string]enumspb.IndexedValueType) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: file,
		// Keys other than SQLite URI parameters become pragmas. WAL keeps readers (the
		// UI, visibility queries) from blocking the history writer. synchronous=normal, as
		// the store has: in WAL mode a commit is then written, not fsynced, and a killed
		// process loses nothing; only a power cut can lose the last commits, of the store
		// and of the history alike. It was an fsync on every history write.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "busy_timeout": "10000", "synchronous": "normal"},
	}
	_, err := os.Stat(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("temporalserver: stat %s: %w", file, err)
	}
	fresh := err != nil
	if err := privateFiles(file); err != nil {
		return nil, err
	}
	if fresh {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("temporalserver: set up schema in %s: %w", file, err)
		}
	}
	nsConfigs := make([]*sqliteschema.NamespaceConfig, 0, len(namespaces))
	for _, ns := range namespaces {
		c, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, searchAttributes)
		if err != nil {
			return nil, fmt.Errorf("temporalserver: namespace %q: %w", ns, err)
		}
		nsConfigs = append(nsConfigs, c)
	}
	if err := sqliteschema.CreateNamespaces(conf, nsConfigs...); err != nil {
		return nil, fmt.Errorf("temporalserver: create namespaces: %w", err)
	}
	return conf, nil
}

// privateFiles makes the SQLite file and its WAL and shared-memory companions readable by
// the owner only. The file is created 0600 (empty, which SQLite takes for an empty database)
// before SQLite opens it, because SQLite gives the -wal and -shm files the database file's
// permissions; files left by an earlier version are narrowed.
func privateFiles(file string) error {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("temporalserver: create %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("temporalserver: create %s: %w", file, err)
	}
	for _, p := range []string{file, file + "-wal", file + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("temporalserver: make %s private: %w", p, err)
		}
	}
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", portStr, err)
	}
	return host, port, nil
}

// freePort asks the kernel for an unused port. Another process could take it before the
// server binds it; that is acceptable for the internal services of a single-host server.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("temporalserver: find free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
