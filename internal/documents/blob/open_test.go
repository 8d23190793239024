package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
)

func TestOpen(t *testing.T) {
	s3 := blob.S3Config{Endpoint: "127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	tests := []struct {
		name    string
		opts    func(dir string) blob.Options
		wantErr string
		check   func(t *testing.T, s blob.Store, dir string)
	}{
		{name: "filesystem is the default backend", opts: func(dir string) blob.Options { return blob.Options{Dir: dir} },
			check: func(t *testing.T, s blob.Store, dir string) {
				if _, ok := s.(*blob.FS); !ok {
					t.Fatalf("got %T", s)
				}
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					t.Errorf("directory not made: %v", err)
				}
			}},
		{name: "filesystem without a directory", opts: func(string) blob.Options { return blob.Options{Backend: blob.BackendFS} }, wantErr: "needs a directory"},
		{name: "unknown backend", opts: func(string) blob.Options { return blob.Options{Backend: "gcs"} }, wantErr: `"gcs"`},
		{name: "s3 without a bucket", opts: func(string) blob.Options {
			c := s3
			c.Bucket = ""
			return blob.Options{Backend: blob.BackendS3, S3: c}
		}, wantErr: "needs a bucket"},
		{name: "s3 without keys", opts: func(string) blob.Options {
			c := s3
			c.SecretKey = ""
			return blob.Options{Backend: blob.BackendS3, S3: c}
		}, wantErr: "secret key"},
		{name: "s3 endpoint with a scheme", opts: func(string) blob.Options {
			c := s3
			c.Endpoint = "http://127.0.0.1:1"
			return blob.Options{Backend: blob.BackendS3, S3: c}
		}, wantErr: "without a scheme"},
		{name: "s3 prefix with a dot segment", opts: func(string) blob.Options {
			c := s3
			c.Prefix = "a/../b"
			return blob.Options{Backend: blob.BackendS3, S3: c}
		}, wantErr: "prefix"},
		{name: "s3 that does not answer", opts: func(string) blob.Options { return blob.Options{Backend: blob.BackendS3, S3: s3} }, wantErr: "bucket b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "documents")
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := blob.Open(ctx, tt.opts(dir))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s, dir)
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := blob.Secret("hunter2")
	for _, got := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		if strings.Contains(got, "hunter2") || !strings.Contains(got, "REDACTED") {
			t.Errorf("secret shows as %q", got)
		}
	}
	if b, _ := s.MarshalText(); string(b) != "REDACTED" {
		t.Errorf("MarshalText = %q", b)
	}
	if blob.Secret("").String() != "" {
		t.Error("an unset secret should print empty, so a dump shows it is missing")
	}
}
