package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	// The database/sql driver "pgx", for the PostgreSQL schema of a run and the raw baselines.
	_ "github.com/jackc/pgx/v5/stdlib"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
	"github.com/bkpsdm/seleksi/internal/store"
)

// DefaultSecondsPerDay is the time scale the bench starts seleksid with: one selection day
// lasts two seconds, so a selection runs through every stage within a minute or two.
const DefaultSecondsPerDay = 2

// StackOptions say which seleksid to run and on what.
type StackOptions struct {
	// Seleksid is the seleksid binary; empty builds one from the module the working
	// directory is in (BuildSeleksid).
	Seleksid string
	// DatabaseURL is a PostgreSQL server (postgres://...) the run makes a schema of its own
	// in and drops afterwards; empty runs on the embedded default's SQLite file.
	DatabaseURL string
	// TemporalAddress is an external Temporal frontend (host:port) with TemporalNamespace;
	// empty runs seleksid's embedded Temporal server.
	TemporalAddress, TemporalNamespace string
	// SecondsPerDay is seleksid's time scale (-demo-seconds-per-day); 0 means
	// DefaultSecondsPerDay.
	SecondsPerDay int64
	// Pprof has seleksid serve Go's profiles on a loopback listener of their own
	// (-pprof-addr), for Stack.Profile.
	Pprof bool
	// Args are added to seleksid's command line, after the bench's own.
	Args []string
	// Log receives the bench's progress and is handed to the scenarios in Env.Log.
	Log *slog.Logger
}

// Stack is a seleksid started by the bench as a child process, with what the scenarios need
// to reach it. Its CPU and memory are measured apart from the load generator's.
type Stack struct {
	Env *Env

	log *slog.Logger
	tmp string
	// pprof is the address of seleksid's profiles listener (-pprof-addr).
	pprof   string
	cmd     *exec.Cmd
	logPath string
	// exited is closed once seleksid has exited and its log is copied; waitErr is set first.
	exited  chan struct{}
	waitErr error
	// closers release what the stack opened, last opened first.
	closers []func(context.Context) error
}

// stopTimeout is how long seleksid gets to shut down on SIGTERM before it is killed.
const stopTimeout = 30 * time.Second

// startTimeout is how long seleksid gets to serve after it is started: the embedded
// Temporal server and the migrations take a few seconds on an idle machine, far longer
// beside a build.
const startTimeout = 3 * time.Minute

// StartStack starts seleksid and fills an Env for it. Close stops it and removes what the
// run made (its data directory, its PostgreSQL schema), also after an error here.
func StartStack(ctx context.Context, o StackOptions) (_ *Stack, err error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SecondsPerDay == 0 {
		o.SecondsPerDay = DefaultSecondsPerDay
	}
	if o.TemporalNamespace == "" {
		o.TemporalNamespace = "seleksi"
	}
	tmp, err := os.MkdirTemp("", "seleksibench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temp directory: %w", err)
	}
	s := &Stack{log: o.Log, tmp: tmp, exited: make(chan struct{})}
	s.closers = append(s.closers, func(context.Context) error { return os.RemoveAll(tmp) })
	defer func() {
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout+10*time.Second)
			defer cancel()
			err = errors.Join(err, s.Close(ctx))
		}
	}()

	bin := o.Seleksid
	if bin == "" {
		bin = filepath.Join(tmp, "seleksid")
		o.Log.Info("building seleksid", "output", bin)
		if err := BuildSeleksid(ctx, bin); err != nil {
			return nil, err
		}
	}
	dataDir := filepath.Join(tmp, "data")
	keysDir, payloadKeys, err := makeKeys(filepath.Join(tmp, "secrets"))
	if err != nil {
		return nil, err
	}
	storeURL := "sqlite:" + filepath.Join(dataDir, "seleksi.db")
	if o.DatabaseURL != "" {
		if storeURL, err = s.freshSchema(ctx, o.DatabaseURL); err != nil {
			return nil, err
		}
	}
	args := []string{
		"-log-format", "json",
		"-data-dir", dataDir,
		"-keys-dir", keysDir,
		"-payload-keys", payloadKeys,
		"-grpc-addr", "127.0.0.1:0",
		"-http-addr", "127.0.0.1:0",
		"-demo-seconds-per-day", strconv.FormatInt(o.SecondsPerDay, 10),
		// The bench sends from one loopback address far faster than any real client.
		"-rate-limits=false",
		"-temporal-namespace", o.TemporalNamespace,
	}
	if o.TemporalAddress != "" {
		args = append(args, "-temporal-address", o.TemporalAddress)
	} else {
		args = append(args, "-embedded-temporal-addr", "127.0.0.1:0", "-embedded-temporal-ui-addr", "")
	}
	if o.DatabaseURL != "" {
		args = append(args, "-database-url", storeURL)
	}
	if o.Pprof {
		args = append(args, "-pprof-addr", "127.0.0.1:0")
	}
	args = append(args, o.Args...)

	addrs, err := s.start(ctx, bin, args)
	if err != nil {
		return nil, err
	}
	temporalAddr := o.TemporalAddress
	if temporalAddr == "" {
		temporalAddr = addrs.temporal
	}
	s.pprof = addrs.pprof
	o.Log.Info("seleksid serving", "pid", s.cmd.Process.Pid, "grpc", addrs.GRPC, "http", addrs.HTTP, "temporal", temporalAddr)

	env := &Env{
		HTTPBase:          "http://" + addrs.HTTP,
		TemporalAddress:   temporalAddr,
		TemporalNamespace: o.TemporalNamespace,
		Server:            NewProcessMeter(s.cmd.Process.Pid),
		SecondsPerDay:     o.SecondsPerDay,
		Log:               o.Log,
	}
	if env.GRPC, err = grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		return nil, fmt.Errorf("bench: gRPC client of %s: %w", addrs.GRPC, err)
	}
	s.closers = append(s.closers, func(context.Context) error { return env.GRPC.Close() })
	if env.Store, err = store.Open(ctx, storeURL); err != nil {
		return nil, fmt.Errorf("bench: open seleksid's store: %w", err)
	}
	s.closers = append(s.closers, func(context.Context) error { return env.Store.Close() })
	if env.SQL, err = openSQL(storeURL); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func(context.Context) error { return env.SQL.Close() })
	d, err := keys.LoadDir(keysDir)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	key, err := auth.NewLocalKey(d.Token)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	env.Mint = func(m auth.MintOptions) (string, error) {
		if m.TTL == 0 {
			m.TTL = time.Hour
		}
		return key.Mint(m)
	}
	s.Env = env
	return s, nil
}

// BuildSeleksid builds cmd/seleksid of the module the working directory is in into out.
func BuildSeleksid(ctx context.Context, out string) error {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("bench: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return errors.New("bench: not inside the seleksi module; run from its checkout or give -seleksid")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/seleksid")
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: go build ./cmd/seleksid: %w\n%s", err, b)
	}
	return nil
}

// makeKeys writes a key directory (internal/keys: one key of every purpose) and a payload
// key file under dir, as a deployment mounts them, so that the bench mints tokens seleksid
// accepts whether it runs on its embedded default or against an external Temporal.
func makeKeys(dir string) (keysDir, payloadKeys string, err error) {
	// keys.LoadOrCreate* write into <dir>/keys, which becomes the key directory.
	for _, p := range []keys.Purpose{keys.PurposeToken, keys.PurposeBundle, keys.PurposeOfficial} {
		if _, err := keys.LoadOrCreateEd25519(dir, p.FileName("bench")); err != nil {
			return "", "", fmt.Errorf("bench: %w", err)
		}
	}
	if _, err := keys.LoadOrCreateSecret(dir, keys.PurposePageToken.FileName("bench")); err != nil {
		return "", "", fmt.Errorf("bench: %w", err)
	}
	line, err := payloadcodec.NewKeyLine(time.Now())
	if err != nil {
		return "", "", fmt.Errorf("bench: %w", err)
	}
	payloadKeys = filepath.Join(dir, "payload.keys")
	if err := os.WriteFile(payloadKeys, []byte(line+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("bench: payload keys: %w", err)
	}
	return filepath.Join(dir, keys.Dir), payloadKeys, nil
}

// freshSchema makes a PostgreSQL schema of the run's own on the server at base, dropped by
// Close, and returns the URL whose connections work in it.
func (s *Stack) freshSchema(ctx context.Context, base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("bench: -database-url: want postgres://..., got %q", base)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", fmt.Errorf("bench: PostgreSQL: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		return "", fmt.Errorf("bench: create schema %s: %w", schema, err)
	}
	s.log.Info("PostgreSQL schema of this run", "schema", schema)
	s.closers = append(s.closers, func(ctx context.Context) error {
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("bench: drop schema %s: %w", schema, err)
		}
		return nil
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// openSQL opens a database/sql handle on the store's database for the raw baselines, with
// the settings seleksid's own SQLite connections have (WAL, a busy timeout, immediate
// transactions), so that the baseline is the same database doing the same kind of work.
func openSQL(storeURL string) (*sql.DB, error) {
	driver, dsn := "pgx", storeURL
	if path, ok := strings.CutPrefix(storeURL, "sqlite:"); ok {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		driver, dsn = "sqlite", "file:"+path+"?"+q.Encode()
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("bench: open %s for the raw baselines: %w", driver, err)
	}
	if driver == "sqlite" {
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	}
	return db, nil
}

// stackAddrs are where seleksid listens, as its log reports them.
type stackAddrs struct {
	GRPC string `json:"grpc"`
	HTTP string `json:"http"`
	// temporal is the embedded Temporal frontend.
	temporal string
	// pprof is the profiles listener of -pprof-addr.
	pprof string
}

// start runs seleksid and waits until its log says it serves.
func (s *Stack) start(ctx context.Context, bin string, args []string) (stackAddrs, error) {
	s.logPath = filepath.Join(s.tmp, "seleksid.log")
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return stackAddrs{}, fmt.Errorf("bench: seleksid log: %w", err)
	}
	// Not CommandContext: the stack outlives the context it was started with, and is stopped
	// by Close with SIGTERM rather than killed.
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.SysProcAttr = childProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		_ = logFile.Close()
		return stackAddrs{}, fmt.Errorf("bench: seleksid stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return stackAddrs{}, fmt.Errorf("bench: start seleksid: %w", err)
	}
	s.cmd = cmd
	s.closers = append(s.closers, s.stop)
	serving := make(chan stackAddrs, 1)
	go s.copyLog(stderr, logFile, serving)

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case a := <-serving:
		return a, nil
	case <-s.exited:
		return stackAddrs{}, fmt.Errorf("bench: seleksid exited before serving: %v\n%s", s.waitErr, s.LogTail(30))
	case <-timer.C:
		return stackAddrs{}, fmt.Errorf("bench: seleksid did not serve within %s\n%s", startTimeout, s.LogTail(30))
	case <-ctx.Done():
		return stackAddrs{}, fmt.Errorf("bench: waiting for seleksid: %w", ctx.Err())
	}
}

// copyLog copies seleksid's log to its file, picks out the addresses, and reaps the process
// once its stderr closes (Wait must not run before every read from the pipe).
func (s *Stack) copyLog(stderr io.Reader, logFile *os.File, serving chan<- stackAddrs) {
	defer close(s.exited)
	var temporal, pprof string
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = logFile.Write(line)
		_, _ = logFile.Write([]byte{'\n'})
		switch {
		case bytes.Contains(line, []byte(`"msg":"embedded Temporal server started"`)):
			var l struct {
				Frontend string `json:"frontend"`
			}
			if json.Unmarshal(line, &l) == nil {
				temporal = l.Frontend
			}
		case bytes.Contains(line, []byte(`"msg":"serving profiles"`)):
			var l struct {
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &l) == nil {
				pprof = l.Addr
			}
		case bytes.Contains(line, []byte(`"msg":"serving"`)):
			var a stackAddrs
			if json.Unmarshal(line, &a) == nil && a.HTTP != "" && a.GRPC != "" {
				a.temporal, a.pprof = temporal, pprof
				select {
				case serving <- a:
				default:
				}
			}
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
	s.waitErr = s.cmd.Wait()
	_ = logFile.Close()
}

// stop asks seleksid to shut down (SIGTERM) and kills it if it has not within stopTimeout.
func (s *Stack) stop(ctx context.Context) error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("bench: seleksid exited: %w\n%s", s.waitErr, s.LogTail(20))
		}
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("bench: seleksid did not stop within %s of SIGTERM; killed", stopTimeout)
}

// Close stops seleksid and removes what the run made, in the reverse order of its making.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

// LogTail is the last n lines of seleksid's log at warning level and above, or all of its
// last n lines when it has none, for error messages.
func (s *Stack) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var serious []string
	for _, l := range lines {
		if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
			serious = append(serious, l)
		}
	}
	if len(serious) > 0 {
		lines = serious
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
