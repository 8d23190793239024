// Package keys owns secret key material with key IDs and rotation. The embedded default
// keeps its keys in files of the data directory: created on first use, readable by its owner
// only, and read again unchanged on every later start, so that what was authenticated with a
// key (page tokens, for one) stays valid across restarts. A deployment of several processes
// mounts one key directory into all of them instead (see LoadDir), with several keys per
// purpose for rotation, and publishes the public halves as a JSON Web Key Set (JWKS).
package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir is the folder of the data directory that holds keys.
const Dir = "keys"

// secretSize is the length of a generated secret: 256 bits, the HMAC-SHA256 block's worth.
const secretSize = 32

// LoadOrCreateSecret reads the secret named name from dataDir/keys, creating it (mode 0600 in
// a 0700 folder) on first use. A file that exists but cannot be read or holds no valid
// secret is an error, never a reason to make a new one: that would silently invalidate
// whatever the old secret authenticated.
func LoadOrCreateSecret(dataDir, name string) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("keys: invalid key name %q", name)
	}
	path := filepath.Join(dataDir, Dir, name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseSecret(path, b)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("keys: read %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keys: create key directory: %w", err)
	}
	secret := make([]byte, secretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("keys: generate %s: %w", name, err)
	}
	// O_EXCL: if two processes start at once, one creates the secret and the other reads it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateSecret(dataDir, name)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: create %s: %w", name, err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(secret) + "\n"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("keys: write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("keys: write %s: %w", name, err)
	}
	return secret, nil
}

func parseSecret(path string, b []byte) ([]byte, error) {
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) < secretSize {
		return nil, fmt.Errorf("keys: %s does not hold a base64 secret of at least %d bytes", path, secretSize)
	}
	return secret, nil
}
