package keys

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSecretPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateSecret(dir, "page-token.key")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateSecret(dir, "page-token.key")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || len(a) != secretSize {
		t.Fatalf("second read gave another secret (%d and %d bytes)", len(a), len(b))
	}
	other, err := LoadOrCreateSecret(dir, "other.key")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, other) {
		t.Fatal("two names share a secret")
	}
	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, Dir):                   0o700,
		filepath.Join(dir, Dir, "page-token.key"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, Dir, "page-token.key"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSecret(dir, "page-token.key"); err == nil {
		t.Fatal("a corrupt secret was accepted or silently replaced")
	}
	if _, err := LoadOrCreateSecret(dir, "../escape"); err == nil {
		t.Fatal("a name with a path was accepted")
	}
}
