package s3test_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/bkpsdm/seleksi/internal/documents/blob/s3test"
)

// TestStart: both ways of keeping versitygw's metadata serve objects, so the harness works
// on filesystems without user extended attributes too.
func TestStart(t *testing.T) {
	for _, sidecar := range []bool{false, true} {
		t.Run(map[bool]string{false: "xattrs", true: "sidecar"}[sidecar], func(t *testing.T) {
			srv := s3test.StartWith(t, s3test.Options{Sidecar: sidecar})
			if sidecar != (srv.Sidecar != "") {
				t.Fatalf("Sidecar = %q", srv.Sidecar)
			}
			bucket := srv.Bucket(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := srv.Client(t)
			data := []byte("round trip")
			if _, err := c.PutObject(ctx, bucket, "a/b", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
				t.Fatal(err)
			}
			obj, err := c.GetObject(ctx, bucket, "a/b", minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(obj)
			_ = obj.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read %q, %v", got, err)
			}
			oi, err := c.StatObject(ctx, bucket, "a/b", minio.StatObjectOptions{})
			if err != nil || oi.ContentType != "text/plain" {
				t.Errorf("metadata lost: %q, %v", oi.ContentType, err)
			}
			if sidecar {
				if entries, err := os.ReadDir(srv.Sidecar); err != nil || len(entries) == 0 {
					t.Errorf("sidecar directory holds %d entries, %v", len(entries), err)
				}
			}
			// The gateway serves the directory given: the object is a file in it.
			if onDisk, err := os.ReadFile(filepath.Join(srv.Root, bucket, "a", "b")); err != nil || !bytes.Equal(onDisk, data) {
				t.Errorf("file on disk %q, %v", onDisk, err)
			}
		})
	}
}
