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

func TestEd25519Persists(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateEd25519(dir, "official-signing.pem")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateEd25519(dir, "official-signing.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Private.Equal(b.Private) || a.ID != b.ID || a.ID != KeyID(b.Public) {
		t.Fatalf("second read gave another key: %s and %s", a.ID, b.ID)
	}
	other, err := LoadOrCreateEd25519(dir, "other.pem")
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == a.ID {
		t.Fatal("two names share a key ID")
	}
	fi, err := os.Stat(filepath.Join(dir, Dir, "official-signing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(dir, Dir, "official-signing.pem"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateEd25519(dir, "official-signing.pem"); err == nil {
		t.Fatal("a corrupt key was accepted or silently replaced")
	}
	// A secret file is not a signing key.
	if _, err := LoadOrCreateSecret(dir, "page.key"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateEd25519(dir, "page.key"); err == nil {
		t.Fatal("a secret was read as a signing key")
	}
}
