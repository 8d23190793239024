// Package clustertest starts a Temporal server as a process of its own for tests: the
// server module's cmd/server at the version in go.mod, on two PostgreSQL databases of its
// own (history and visibility) on the machine's test server, their schemas set up by
// Temporal's own SQL tool (cmd/tools/sql) from the schema files the server module ships.
// It is the separate cluster of a scaled-out deployment (issue 14) in miniature; seleksid's
// API and worker processes connect to it as they would to a production cluster. It is
// imported by tests only.
//
// Both programs are go tools of this module (go.mod's tool block), built with `go build -o`
// into a cache directory that outlives the test run, where a later build with nothing
// changed does not link again.
package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/temporalclient"

	// The database/sql driver "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
)

// The packages of the two programs, go tools of this module.
const (
	serverPackage  = "go.temporal.io/server/cmd/server"
	sqlToolPackage = "go.temporal.io/server/cmd/tools/sql"
	serverModule   = "go.temporal.io/server"
)

// Options say what the cluster must hold before it is handed to the test.
type Options struct {
	// Namespace is registered with Retention and the search attributes before Start
	// returns, so that the processes the test starts find it usable.
	Namespace        string
	Retention        time.Duration
	SearchAttributes map[string]enumspb.IndexedValueType
}

// Cluster is a running Temporal server process.
type Cluster struct {
	// FrontendAddr is the host:port SDK clients dial.
	FrontendAddr string
	// DatabaseURL and VisibilityURL reach the server's two databases, for tests that read
	// what Temporal keeps.
	DatabaseURL, VisibilityURL string
	// LogPath is the server's log (JSON lines).
	LogPath string
	// Took is how long Start took, by step.
	Took Timings

	cmd    *exec.Cmd
	exited chan struct{}
}

// Timings are the durations of Start's steps.
type Timings struct {
	Build, Schema, Serve, Namespace time.Duration
}

func (t Timings) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
	return fmt.Sprintf("build %s, schema %s, serving %s, namespace %s", r(t.Build), r(t.Schema), r(t.Serve), r(t.Namespace))
}

// Start builds the two programs, creates and sets up the databases (dropped when the test
// ends), starts the server (stopped when the test ends) and registers the namespace. When
// PostgreSQL is unreachable the test fails under CI and is skipped elsewhere, as pgtest does.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	c := &Cluster{exited: make(chan struct{})}
	began := time.Now()
	bins := build(t)
	c.Took.Build = time.Since(began)

	began = time.Now()
	pg := postgres(t)
	suffix := randomHex(t, 5)
	main, vis := "temporal_"+suffix, "temporal_visibility_"+suffix
	dir := serverModuleDir(t)
	for _, db := range []struct{ name, schema string }{
		{main, filepath.Join(dir, "schema", "postgresql", "v12", "temporal", "versioned")},
		{vis, filepath.Join(dir, "schema", "postgresql", "v12", "visibility", "versioned")},
	} {
		pg.create(t, db.name)
		pg.sqlTool(t, bins.sqlTool, db.name, "setup-schema", "-v", "0.0")
		pg.sqlTool(t, bins.sqlTool, db.name, "update-schema", "-d", db.schema)
	}
	c.DatabaseURL, c.VisibilityURL = pg.dbURL(main), pg.dbURL(vis)
	c.Took.Schema = time.Since(began)

	began = time.Now()
	work := t.TempDir()
	c.LogPath = filepath.Join(work, "temporal.log")
	// Free ports are found by listening on port 0 and closing; another process may take one
	// before the server binds it, so a server that exits at start is started again.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = c.start(t, bins.server, work, pg, main, vis); lastErr == nil {
			break
		}
		t.Logf("clustertest: temporal server did not start (attempt %d): %v", attempt+1, lastErr)
	}
	if lastErr != nil {
		t.Fatalf("clustertest: temporal server: %v\n%s", lastErr, c.logTail(40))
	}
	c.Took.Serve = time.Since(began)

	began = time.Now()
	c.ensureNamespace(t, opts)
	c.Took.Namespace = time.Since(began)
	return c
}

// binaries are the built programs.
type binaries struct{ server, sqlTool string }

// build builds the server and the SQL tool from this module (go.mod pins their version)
// into the user's cache directory; go build does not link a program again when the file
// there is already the build of the same inputs.
func build(t testing.TB) binaries {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "seleksi-clustertest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	b := binaries{server: filepath.Join(dir, "temporal-server"), sqlTool: filepath.Join(dir, "temporal-sql-tool")}
	for _, p := range []struct{ out, pkg string }{{b.server, serverPackage}, {b.sqlTool, sqlToolPackage}} {
		out, err := exec.Command("go", "build", "-o", p.out, p.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("clustertest: go build %s: %v\n%s", p.pkg, err, out)
		}
	}
	return b
}

// serverModuleDir is the server module's directory in the module cache, which holds the
// schema files.
func serverModuleDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", serverModule).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("clustertest: go list -m %s: %v", serverModule, err)
	}
	return dir
}

// pgServer is the machine's PostgreSQL test server.
type pgServer struct {
	base     *url.URL
	host     string
	port     string
	user     string
	password string
	admin    *sql.DB
}

func postgres(t testing.TB) *pgServer {
	t.Helper()
	raw := os.Getenv("SELEKSI_TEST_POSTGRES_URL")
	if raw == "" {
		raw = pgtest.DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("clustertest: parse %s: %v", raw, err)
	}
	admin, err := sql.Open("pgx", raw)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (set SELEKSI_TEST_POSTGRES_URL): %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	pw, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return &pgServer{base: u, host: u.Hostname(), port: port, user: u.User.Username(), password: pw, admin: admin}
}

// create creates the database and drops it when the test ends, after the server stopped
// (cleanups run last-registered first, and the server's is registered later).
func (p *pgServer) create(t testing.TB, name string) {
	t.Helper()
	if _, err := p.admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("clustertest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE: a server killed at the end of a failed test may leave connections behind.
		if _, err := p.admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("clustertest: drop database %s: %v", name, err)
		}
	})
}

func (p *pgServer) dbURL(name string) string {
	u := *p.base
	u.Path = "/" + name
	return u.String()
}

// sqlTool runs Temporal's SQL tool on the database with the command's arguments.
func (p *pgServer) sqlTool(t testing.TB, bin, db string, args ...string) {
	t.Helper()
	all := append([]string{"--plugin", "postgres12", "--ep", p.host, "-p", p.port, "-u", p.user, "--db", db}, args...)
	cmd := exec.Command(bin, all...)
	// The password goes through the environment, not the process list.
	cmd.Env = append(os.Environ(), "SQL_PASSWORD="+p.password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clustertest: temporal-sql-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// start writes the configuration on new free ports and starts the server, returning once its
// frontend accepts connections or with an error when it exits first.
func (c *Cluster) start(t testing.TB, bin, work string, pg *pgServer, main, vis string) error {
	ports, err := freePorts(10)
	if err != nil {
		return err
	}
	dyn := filepath.Join(work, "dynamicconfig.yaml")
	if err := os.WriteFile(dyn, []byte(dynamicConfig), 0o600); err != nil {
		return err
	}
	var conf bytes.Buffer
	if err := configTemplate.Execute(&conf, map[string]any{
		"Host": pg.host, "Port": pg.port, "User": pg.user, "Password": pg.password,
		"Main": main, "Visibility": vis, "Ports": ports, "Dynamic": dyn,
	}); err != nil {
		return err
	}
	confPath := filepath.Join(work, "temporal.yaml")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o600); err != nil {
		return err
	}
	logFile, err := os.OpenFile(c.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--config-file", confPath, "--allow-no-auth", "start")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		_ = logFile.Close()
		close(exited)
	}()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		select {
		case <-exited:
			return fmt.Errorf("exited at start: %v", waitErr)
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = conn.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("frontend %s not listening after 2 minutes", addr)
		}
	}
	c.FrontendAddr, c.cmd, c.exited = addr, cmd, exited
	t.Cleanup(func() { c.Stop(t) })
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 20 s); Start's cleanup calls it.
func (c *Cluster) Stop(t testing.TB) {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		t.Logf("clustertest: temporal server did not stop within 20 s of SIGINT; killing it")
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// ensureNamespace registers the namespace and its search attributes through the client
// seleksid itself uses, then waits until the frontend serves the namespace (the server's
// namespace cache picks a new one up on its next refresh).
func (c *Cluster) ensureNamespace(t testing.TB, opts Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		select {
		case <-c.exited:
			t.Fatalf("clustertest: the temporal server exited\n%s", c.logTail(20))
		default:
		}
		dialCtx, cancelDial := context.WithTimeout(ctx, 10*time.Second)
		cl, err := temporalclient.Dial(dialCtx, temporalclient.Options{
			HostPort: c.FrontendAddr, Namespace: opts.Namespace, Retention: opts.Retention, SearchAttributes: opts.SearchAttributes,
		})
		if err == nil {
			err = usable(dialCtx, cl, opts)
			cl.Close()
		}
		cancelDial()
		if err == nil {
			return
		}
		lastErr = err
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("clustertest: namespace %s not usable within 2 minutes: %v\n%s", opts.Namespace, lastErr, c.logTail(20))
}

// usable reports why the namespace is not usable yet: a visibility query in it must answer,
// and the frontend must list every search attribute (it learns of new ones on its next
// namespace cache refresh).
func usable(ctx context.Context, cl client.Client, opts Options) error {
	if _, err := cl.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: opts.Namespace, PageSize: 1}); err != nil {
		return err
	}
	list, err := cl.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: opts.Namespace})
	if err != nil {
		return err
	}
	for name := range opts.SearchAttributes {
		if _, ok := list.GetCustomAttributes()[name]; !ok {
			return fmt.Errorf("search attribute %s not listed yet", name)
		}
	}
	return nil
}

// logTail is the last n lines of the server's log.
func (c *Cluster) logTail(n int) string {
	f, err := os.Open(c.LogPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// freePorts finds n distinct free loopback ports below 32768: Temporal's SQL schema keeps a
// host's membership port in a smallint column, which the kernel's ephemeral ports (port 0)
// overflow.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, errors.New("no free loopback ports between 20000 and 32767")
		}
		port := 20000 + mrand.IntN(12768)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, port)
	}
	return ports, nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// dynamicConfig holds the values the embedded server uses too (internal/temporalserver): a
// larger mutable-state cache and visibility rate, which one host can afford.
const dynamicConfig = `history.hostLevelCacheMaxSize:
  - value: 8096
frontend.namespaceRPS.visibility:
  - value: 100
`

// configTemplate is the server's configuration: persistence on the two databases, one
// cluster, every service on a loopback port of its own (Ports: frontend gRPC, frontend HTTP,
// then gRPC and membership ports of the services).
var configTemplate = template.Must(template.New("temporal.yaml").Parse(`log:
  stdout: true
  level: warn
  format: json

persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
      sql:
        pluginName: postgres12
        databaseName: {{.Main}}
        connectAddr: "{{.Host}}:{{.Port}}"
        connectProtocol: tcp
        user: "{{.User}}"
        password: "{{.Password}}"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    visibility:
      sql:
        pluginName: postgres12
        databaseName: {{.Visibility}}
        connectAddr: "{{.Host}}:{{.Port}}"
        connectProtocol: tcp
        user: "{{.User}}"
        password: "{{.Password}}"
        maxConns: 4
        maxIdleConns: 4
        maxConnLifetime: 1h

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1

services:
  frontend:
    rpc:
      grpcPort: {{index .Ports 0}}
      httpPort: {{index .Ports 1}}
      membershipPort: {{index .Ports 2}}
      bindOnLocalHost: true
  history:
    rpc:
      grpcPort: {{index .Ports 3}}
      membershipPort: {{index .Ports 4}}
      bindOnLocalHost: true
  matching:
    rpc:
      grpcPort: {{index .Ports 5}}
      membershipPort: {{index .Ports 6}}
      bindOnLocalHost: true
  worker:
    rpc:
      grpcPort: {{index .Ports 7}}
      membershipPort: {{index .Ports 8}}
      bindOnLocalHost: true

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:{{index .Ports 0}}"

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: "{{.Dynamic}}"
  pollInterval: 10s
`))
