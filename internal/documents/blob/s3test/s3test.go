// Package s3test starts a real S3-compatible server for tests: versitygw serving a temporary
// directory on a loopback port. Tests of S3 code run against it instead of an in-memory fake,
// so signing, multipart uploads and error codes are the ones a real server produces.
//
// The binary is built outside the module (.ci/tools installs it):
//
//	cd /tmp && GOBIN=DIR go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
//
// and found through SELEKSI_VERSITYGW or as versitygw on PATH. Without it, tests skip, except
// under CI (CI set) or when SELEKSI_VERSITYGW names a missing file: there they fail.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running versitygw.
type Server struct {
	// Endpoint is host:port on loopback, plain HTTP.
	Endpoint  string
	AccessKey string
	SecretKey string
	Region    string
	// Root is the directory the gateway serves; each bucket is a directory in it.
	Root string
	// Sidecar is the metadata directory when the root's filesystem has no user extended
	// attributes, else empty.
	Sidecar string
}

// Options adjust Start.
type Options struct {
	// Sidecar keeps metadata in a sidecar directory even where extended attributes work, to
	// test the fallback.
	Sidecar bool
}

// Start runs versitygw for the rest of the test and stops it at cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := binary(t)
	base := t.TempDir()
	s := &Server{
		AccessKey: "seleksitest",
		SecretKey: randomHex(t, 20),
		Region:    "us-east-1",
		Root:      filepath.Join(base, "root"),
	}
	if err := os.Mkdir(s.Root, 0o700); err != nil {
		t.Fatal(err)
	}
	// versitygw's posix backend keeps object metadata (ETag, content type, ACLs) in user
	// extended attributes. Where the filesystem has none (tmpfs on some kernels, overlayfs in
	// some containers), its sidecar option keeps the metadata in files of another directory.
	xattrErr := xattrsWork(s.Root)
	if xattrErr != nil || opts.Sidecar {
		s.Sidecar = filepath.Join(base, "sidecar")
		if err := os.Mkdir(s.Sidecar, 0o700); err != nil {
			t.Fatal(err)
		}
		if xattrErr != nil {
			t.Logf("s3test: %s has no user extended attributes (%v); versitygw keeps metadata in %s", s.Root, xattrErr, s.Sidecar)
		}
	}

	// A free port is found by listening on port 0 and closing; another process could take it
	// before versitygw binds it, so a start that fails is tried again on a new port.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.start(t, bin); lastErr == nil {
			return s
		}
	}
	t.Fatalf("s3test: versitygw did not start: %v", lastErr)
	return nil
}

func (s *Server) start(t testing.TB, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Endpoint = net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	args := []string{"--port", s.Endpoint, "--region", s.Region, "--quiet", "posix"}
	if s.Sidecar != "" {
		args = append(args, "--sidecar", s.Sidecar)
	}
	args = append(args, s.Root)
	cmd := exec.Command(bin, args...)
	// Credentials go through the environment so they do not show in the process list.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited (%v): %s", err, out.String())
		default:
		}
		if answers(s.Endpoint) {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("versitygw did not answer on %s within 20s: %s", s.Endpoint, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("versitygw output:\n%s", out.String())
		}
	})
	return nil
}

// Client is a minio client signed in as the server's root user.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Bucket makes a bucket with a fresh name and returns the name.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := "test-" + randomHex(t, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client(t).MakeBucket(ctx, name, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("s3test: make bucket %s: %v", name, err)
	}
	return name
}

// binary finds versitygw, or skips or fails the test when there is none.
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SELEKSI_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("SELEKSI_VERSITYGW=%s: %v", p, err)
		}
		return p
	}
	p, err := exec.LookPath("versitygw")
	if err == nil {
		return p
	}
	const how = "build it with: cd /tmp && GOBIN=DIR go install github.com/versity/versitygw/cmd/versitygw@v1.8.0, then set SELEKSI_VERSITYGW=DIR/versitygw"
	if os.Getenv("CI") != "" {
		t.Fatalf("versitygw is required under CI (.ci/tools installs it); %s", how)
	}
	t.Skipf("no versitygw (SELEKSI_VERSITYGW unset, none on PATH); %s", how)
	return ""
}

// xattrsWork reports whether dir's filesystem accepts user extended attributes.
func xattrsWork(dir string) error {
	f, err := os.CreateTemp(dir, "xattr-probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_ = f.Close()
	defer os.Remove(name)
	if err := syscall.Setxattr(name, "user.seleksi.probe", []byte("1"), 0); err != nil {
		return err
	}
	buf := make([]byte, 8)
	n, err := syscall.Getxattr(name, "user.seleksi.probe", buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "1" {
		return errors.New("extended attribute read back differs")
	}
	return nil
}

// answers reports whether an HTTP server answers at endpoint; any status will do, since an
// anonymous request is refused.
func answers(endpoint string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + endpoint + "/")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return true
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// syncBuffer collects the server's output from its two pipes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
