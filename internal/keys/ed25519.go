package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SigningKey is an Ed25519 key pair with its key ID.
type SigningKey struct {
	// ID is derived from the public key alone (see KeyID), so anyone holding the public key
	// computes the same ID and a rotated key gets a new one.
	ID      string
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
}

// KeyID is the ID of an Ed25519 public key: "ed25519-" and the first 16 hex digits of the
// SHA-256 of its bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519-" + hex.EncodeToString(sum[:8])
}

// LoadOrCreateEd25519 reads the Ed25519 private key named name (PKCS #8 PEM) from
// dataDir/keys, creating it (mode 0600 in a 0700 folder) on first use. As with
// LoadOrCreateSecret, a file that exists but holds no valid key is an error, never replaced:
// signatures made with the old key must stay verifiable.
func LoadOrCreateEd25519(dataDir, name string) (SigningKey, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return SigningKey{}, fmt.Errorf("keys: invalid key name %q", name)
	}
	path := filepath.Join(dataDir, Dir, name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseEd25519(path, b)
	case !errors.Is(err, os.ErrNotExist):
		return SigningKey{}, fmt.Errorf("keys: read %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return SigningKey{}, fmt.Errorf("keys: create key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, fmt.Errorf("keys: generate %s: %w", name, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("keys: encode %s: %w", name, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process created it first: use theirs.
		return LoadOrCreateEd25519(dataDir, name)
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("keys: create %s: %w", name, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return SigningKey{}, fmt.Errorf("keys: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return SigningKey{}, fmt.Errorf("keys: write %s: %w", name, err)
	}
	return newSigningKey(priv), nil
}

func parseEd25519(path string, b []byte) (SigningKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return SigningKey{}, fmt.Errorf("keys: %s does not hold a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return SigningKey{}, fmt.Errorf("keys: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return SigningKey{}, fmt.Errorf("keys: %s holds a %T, not an Ed25519 key", path, k)
	}
	return newSigningKey(priv), nil
}

func newSigningKey(priv ed25519.PrivateKey) SigningKey {
	pub := priv.Public().(ed25519.PublicKey)
	return SigningKey{ID: KeyID(pub), Private: priv, Public: pub}
}
