package blob_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/documents/blob/blobtest"
	"github.com/bkpsdm/seleksi/internal/documents/blob/s3test"
)

func s3Config(srv *s3test.Server, bucket string) blob.S3Config {
	return blob.S3Config{
		Endpoint:  srv.Endpoint,
		Bucket:    bucket,
		Region:    srv.Region,
		AccessKey: blob.Secret(srv.AccessKey),
		SecretKey: blob.Secret(srv.SecretKey),
	}
}

func newS3(t *testing.T, cfg blob.S3Config) *blob.S3 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := blob.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestS3Conformance runs the suite against versitygw, a real S3 server, with and without a
// key prefix, through Open as the service calls it.
func TestS3Conformance(t *testing.T) {
	srv := s3test.Start(t)
	for _, prefix := range []string{"", "seleksi/documents"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			cfg := s3Config(srv, srv.Bucket(t))
			cfg.Prefix = prefix
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := blob.Open(ctx, blob.Options{Backend: blob.BackendS3, S3: cfg})
			if err != nil {
				t.Fatal(err)
			}
			blobtest.Run(t, s)
		})
	}
}

// TestS3KeysAndHeaders: objects land under the prefix and key given, typed as opaque bytes
// (the service sets the real type when serving), and no upload is left open by failures.
func TestS3KeysAndHeaders(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.Bucket(t)
	cfg := s3Config(srv, bucket)
	cfg.Prefix = "prod"
	s := newS3(t, cfg)
	ctx := context.Background()
	if err := s.Put(ctx, "sha256/ab/cd", strings.NewReader("%PDF-1.7"), -1); err != nil {
		t.Fatal(err)
	}
	client := srv.Client(t)
	oi, err := client.StatObject(ctx, bucket, "prod/sha256/ab/cd", minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("object not under the prefix: %v", err)
	}
	if oi.ContentType != "application/octet-stream" || oi.Size != 8 {
		t.Errorf("object: type %q size %d", oi.ContentType, oi.Size)
	}
	// The same key in another prefix is another object.
	other := newS3(t, s3Config(srv, bucket))
	if _, err := other.Stat(ctx, "sha256/ab/cd"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat without the prefix: %v, want ErrNotFound", err)
	}

	// Above the 16 MiB part size an upload goes multipart (its ETag counts the parts), with
	// the length known or not; the conformance suite's large objects take this path.
	big := strings.Repeat("x", 17<<20)
	for _, size := range []int64{-1, int64(len(big))} {
		if err := s.Put(ctx, "sha256/12/34", strings.NewReader(big), size); err != nil {
			t.Fatal(err)
		}
		oi, err := client.StatObject(ctx, bucket, "prod/sha256/12/34", minio.StatObjectOptions{})
		if err != nil || !strings.HasSuffix(oi.ETag, "-2") || oi.Size != int64(len(big)) {
			t.Errorf("size %d: ETag %q size %d (%v), want a two-part upload", size, oi.ETag, oi.Size, err)
		}
	}

	// A failed multipart Put (unknown size, reader error after the first part) aborts its
	// upload rather than leaving parts that cost storage.
	r := io.MultiReader(strings.NewReader(big), readerFunc(func([]byte) (int, error) { return 0, errors.New("cut") }))
	if err := s.Put(ctx, "sha256/ef/01", r, -1); err == nil {
		t.Fatal("Put succeeded")
	}
	for u := range client.ListIncompleteUploads(ctx, bucket, "prod/", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		t.Errorf("incomplete upload left: %s", u.Key)
	}
}

// TestS3ObjectsArePrivate: an anonymous GET of an object, or a listing of the bucket, is
// refused; documents are only ever served by the service after its own authorization.
func TestS3ObjectsArePrivate(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.Bucket(t)
	s := newS3(t, s3Config(srv, bucket))
	if err := s.Put(context.Background(), "private", strings.NewReader("personal data"), -1); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/" + bucket + "/private", "/" + bucket + "/"} {
		resp, err := http.Get("http://" + srv.Endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), "personal data") {
			t.Errorf("anonymous GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestS3Configuration(t *testing.T) {
	srv := s3test.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("missing bucket is an error at start", func(t *testing.T) {
		_, err := blob.NewS3(ctx, s3Config(srv, "no-such-bucket"))
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("NewS3 of a missing bucket: %v", err)
		}
	})
	t.Run("missing bucket is made when asked", func(t *testing.T) {
		cfg := s3Config(srv, "made-at-start")
		cfg.CreateBucket = true
		s := newS3(t, cfg)
		if err := s.Check(ctx); err != nil {
			t.Fatal(err)
		}
		// A second start (another replica) finds it made.
		newS3(t, cfg)
	})
	t.Run("wrong secret is refused", func(t *testing.T) {
		cfg := s3Config(srv, srv.Bucket(t))
		cfg.SecretKey = "wrong"
		if _, err := blob.NewS3(ctx, cfg); err == nil {
			t.Error("NewS3 with a wrong secret succeeded")
		}
	})
	t.Run("check fails once the bucket is gone", func(t *testing.T) {
		bucket := srv.Bucket(t)
		s := newS3(t, s3Config(srv, bucket))
		if err := srv.Client(t).RemoveBucket(ctx, bucket); err != nil {
			t.Fatal(err)
		}
		if err := s.Check(ctx); err == nil {
			t.Error("Check passed without the bucket")
		}
		// A missing bucket is a broken deployment, not a missing document.
		if _, err := s.Stat(ctx, "k"); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat without the bucket: %v, want an error other than ErrNotFound", err)
		}
	})
	t.Run("unreachable endpoint is an error at start", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		cfg := s3Config(srv, "any")
		cfg.Endpoint = ln.Addr().String()
		_ = ln.Close() // nothing listens there now
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if _, err := blob.NewS3(short, cfg); err == nil {
			t.Error("NewS3 against a closed port succeeded")
		}
	})
	t.Run("sidecar or xattrs", func(t *testing.T) {
		// Report which metadata store the run used, for the record.
		if srv.Sidecar != "" {
			t.Logf("versitygw metadata in sidecar %s", srv.Sidecar)
		} else {
			t.Logf("versitygw metadata in user xattrs under %s", srv.Root)
		}
		if _, err := os.Stat(filepath.Join(srv.Root, "made-at-start")); err != nil {
			t.Errorf("bucket directory: %v", err)
		}
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
