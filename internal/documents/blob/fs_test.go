package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/documents/blob/blobtest"
)

func newFS(t *testing.T) (*blob.FS, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "documents")
	s, err := blob.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return s, root
}

func TestFSConformance(t *testing.T) {
	s, root := newFS(t)
	blobtest.Run(t, s)
	// Whatever the suite did, failed and concurrent Puts included, no temporary file stays.
	assertNoTempFiles(t, root)
}

func TestFSOperations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s *blob.FS, root string)
	}{
		{"put writes the file under its key", func(t *testing.T, s *blob.FS, root string) {
			if err := s.Put(ctx, "sha256/ab/cdef", strings.NewReader("hello"), 5); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(root, "sha256", "ab", "cdef"))
			if err != nil || string(got) != "hello" {
				t.Fatalf("file holds %q, %v", got, err)
			}
		}},
		{"open reads what put wrote", func(t *testing.T, s *blob.FS, root string) {
			if err := s.Put(ctx, "k", strings.NewReader("data"), -1); err != nil {
				t.Fatal(err)
			}
			r, err := s.Open(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var b bytes.Buffer
			if _, err := b.ReadFrom(r); err != nil || b.String() != "data" {
				t.Fatalf("read %q, %v", b.String(), err)
			}
		}},
		{"stat reports the size", func(t *testing.T, s *blob.FS, root string) {
			if err := s.Put(ctx, "k", strings.NewReader("12345"), 5); err != nil {
				t.Fatal(err)
			}
			info, err := s.Stat(ctx, "k")
			if err != nil || info.Size != 5 || info.Key != "k" {
				t.Fatalf("Stat = %+v, %v", info, err)
			}
		}},
		{"delete removes the file", func(t *testing.T, s *blob.FS, root string) {
			if err := s.Put(ctx, "a/k", strings.NewReader("x"), 1); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "a/k"); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(root, "a", "k")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("file still there: %v", err)
			}
		}},
		{"a file where a key's directory would be is no object", func(t *testing.T, s *blob.FS, root string) {
			if err := s.Put(ctx, "a", strings.NewReader("x"), 1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Stat(ctx, "a/b"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat(a/b) under the file a: %v, want ErrNotFound", err)
			}
			if _, err := s.Open(ctx, "a/b"); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Open(a/b) under the file a: %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, "a/b"); err != nil {
				t.Errorf("Delete(a/b) under the file a: %v", err)
			}
		}},
		{"a symbolic link planted in the root is not followed by delete", func(t *testing.T, s *blob.FS, root string) {
			outside := filepath.Join(t.TempDir(), "outside")
			if err := os.WriteFile(outside, []byte("keep"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "link"); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(outside); err != nil || string(got) != "keep" {
				t.Errorf("file outside the root: %q, %v", got, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, root := newFS(t)
			tc.run(t, s, root)
		})
	}
}

// TestFSInvalidKeysTouchNothing: a refused key must not create a file or directory anywhere,
// inside the root or beside it.
func TestFSInvalidKeysTouchNothing(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "documents")
	s, err := blob.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	before := tree(t, base)
	for _, key := range blobtest.InvalidKeys {
		if err := s.Put(context.Background(), key, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q): %v, want ErrInvalidKey", key, err)
		}
	}
	if after := tree(t, base); !equal(before, after) {
		t.Errorf("invalid keys changed the tree:\nbefore %v\nafter  %v", before, after)
	}
}

// TestFSFailedPutLeavesNoTempFile: every failure, at any point, removes its temporary file.
func TestFSFailedPutLeavesNoTempFile(t *testing.T) {
	data := bytes.Repeat([]byte("document "), 10000)
	for _, f := range blobtest.FailedPuts(data) {
		t.Run(f.Name, func(t *testing.T) {
			s, root := newFS(t)
			ctx, r, size := f.Args()
			if err := s.Put(ctx, "doc", r, size); err == nil {
				t.Fatal("Put succeeded")
			}
			if _, err := os.Stat(filepath.Join(root, "doc")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("object file after a failed Put: %v", err)
			}
			assertNoTempFiles(t, root)
		})
	}
}

// TestFSModes: documents are personal data, readable by the service's user alone, whatever
// the process umask.
func TestFSModes(t *testing.T) {
	s, root := newFS(t)
	if err := s.Put(context.Background(), "sha256/ab/cd", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFSReopensExistingRoot: a restart finds its objects and tightens a root made too open.
func TestFSReopensExistingRoot(t *testing.T) {
	s, root := newFS(t)
	if err := s.Put(context.Background(), "k", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	again, err := blob.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Stat(context.Background(), "k"); err != nil {
		t.Errorf("object lost on reopening: %v", err)
	}
	if fi, err := os.Stat(root); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("root mode after reopening: %v, %v", fi.Mode(), err)
	}
}

func assertNoTempFiles(t *testing.T, root string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, ".tmp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("temporary file left behind: %s", e.Name())
	}
}

func tree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
