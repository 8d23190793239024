package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runSeleksidEnv makes this test binary run seleksid instead of the tests. A test that must
// crash seleksid (SIGKILL, no deferred code, no graceful shutdown) runs it as a separate
// process this way, without building and linking the embedded Temporal server a second time
// for a seleksid binary.
const runSeleksidEnv = "SELEKSI_TEST_RUN_SELEKSID"

func TestMain(m *testing.M) {
	if os.Getenv(runSeleksidEnv) == "1" {
		// main exits with status 1 on an error and returns after a clean shutdown.
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// figuresEnv names a file the load tests append their figures to (error rates, latencies,
// throughput): .ci/test prints it after the tests, since go test shows a passing package's
// output only with -v.
const figuresEnv = "SELEKSI_TEST_FIGURES"

// figures reports a load test's figures: in the test's log, and on a line of the file
// figuresEnv names.
func figures(t *testing.T, line string) {
	t.Helper()
	t.Log(line)
	path := os.Getenv(figuresEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Errorf("figures file: %v", err)
		return
	}
	// One write per line: the load tests run in parallel, and O_APPEND keeps lines whole.
	if _, err := f.Write([]byte(t.Name() + ": " + line + "\n")); err != nil {
		t.Errorf("figures file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("figures file: %v", err)
	}
}

// seleksidProcess is seleksid running as a child process of the test, with its log (JSON)
// copied to a file.
type seleksidProcess struct {
	cmd     *exec.Cmd
	logPath string
	// serving receives the listen addresses from the "serving" log line.
	serving chan servingAddrs
	// exited is closed once the process has exited and its log is fully copied.
	exited chan struct{}
	waitMu sync.Mutex
	// waitErr is what Wait returned, set before exited is closed.
	waitErr error
}

// servingAddrs are the addresses seleksid reports when it starts serving.
type servingAddrs struct {
	GRPC string `json:"grpc"`
	HTTP string `json:"http"`
}

// startSeleksidProcess runs this test binary as seleksid with args, writing its log to
// logPath. It does not wait for seleksid to serve; waitServing does.
func startSeleksidProcess(t *testing.T, logPath string, args ...string) *seleksidProcess {
	t.Helper()
	return startSeleksidProcessEnv(t, logPath, nil, args...)
}

// startSeleksidProcessEnv is startSeleksidProcess with env (NAME=value) added to the
// process's environment, for the settings seleksid reads only from there (secrets).
func startSeleksidProcessEnv(t *testing.T, logPath string, env []string, args ...string) *seleksidProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("test executable: %v", err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("seleksid log: %v", err)
	}
	cmd := exec.Command(exe, append([]string{"-log-format", "json"}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), runSeleksidEnv+"=1")
	cmd.SysProcAttr = childProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("seleksid stderr: %v", err)
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start seleksid process: %v", err)
	}
	p := &seleksidProcess{cmd: cmd, logPath: logPath, serving: make(chan servingAddrs, 1), exited: make(chan struct{})}
	go p.copyLog(stderr, logFile)
	// Whatever happens to the test, the process does not outlive it.
	t.Cleanup(func() { p.kill() })
	return p
}

// copyLog copies the process's log to the file, picks out the "serving" line, and reaps the
// process when its stderr closes (Wait must not run before every read from the pipe).
func (p *seleksidProcess) copyLog(stderr io.Reader, logFile *os.File) {
	defer close(p.exited)
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = logFile.Write(line)
		_, _ = logFile.Write([]byte{'\n'})
		if !bytes.Contains(line, []byte(`"msg":"serving"`)) {
			continue
		}
		var a servingAddrs
		if json.Unmarshal(line, &a) == nil && a.HTTP != "" {
			select {
			case p.serving <- a:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
	err := p.cmd.Wait()
	_ = logFile.Close()
	p.waitMu.Lock()
	p.waitErr = err
	p.waitMu.Unlock()
}

// waitServing waits until seleksid serves and returns its addresses, or an error when it
// exits first or the timeout passes.
func (p *seleksidProcess) waitServing(timeout time.Duration) (servingAddrs, error) {
	select {
	case a := <-p.serving:
		return a, nil
	case <-p.exited:
		p.waitMu.Lock()
		defer p.waitMu.Unlock()
		return servingAddrs{}, fmt.Errorf("seleksid exited before serving: %v", p.waitErr)
	case <-time.After(timeout):
		return servingAddrs{}, fmt.Errorf("seleksid did not serve within %s", timeout)
	}
}

// kill sends SIGKILL, as a crash or the OOM killer would, and waits for the process to be
// gone. It does nothing to a process that has already exited.
func (p *seleksidProcess) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop asks seleksid to shut down (SIGTERM) and waits up to timeout for it to exit, then
// kills it. It reports a process that did not exit cleanly in time.
func (p *seleksidProcess) stop(timeout time.Duration) error {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(timeout):
			p.kill()
			return fmt.Errorf("seleksid did not stop within %s of SIGTERM", timeout)
		}
	}
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	if p.waitErr != nil {
		return fmt.Errorf("seleksid exited: %w", p.waitErr)
	}
	return nil
}

// logContains reports whether the process's log so far contains s.
func (p *seleksidProcess) logContains(s string) bool {
	b, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(b, []byte(s))
}

// logTail is the last n lines of the process's log at warning level or above, and every
// line that is not JSON (a panic's stack trace), for a failing test's output.
func (p *seleksidProcess) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		var rec struct {
			Level string `json:"level"`
		}
		if line == "" {
			continue
		}
		if json.Unmarshal([]byte(line), &rec) != nil || (rec.Level != "INFO" && rec.Level != "DEBUG") {
			keep = append(keep, line)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
