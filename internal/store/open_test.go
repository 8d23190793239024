package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSQLiteFilesArePrivate: the SQLite store's directory is created 0700 and its database,
// WAL and shared-memory files 0600, even under a permissive umask; files an earlier version
// left readable by others are narrowed at the next start.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "seleksi.db")
	check := func() {
		t.Helper()
		s, err := Open(ctx, "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// Migrating writes through the WAL, so -wal and -shm exist while the store is open.
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600}
		for p, mode := range want {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != mode {
				t.Errorf("%s: mode %v, want %v", filepath.Base(p), fi.Mode().Perm(), mode)
			}
		}
	}
	check()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	check()
}
