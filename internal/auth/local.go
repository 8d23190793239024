package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Local issuer defaults of the embedded deployment.
const (
	LocalIssuer   = "seleksi-local"
	LocalAudience = "seleksi"
	// keyFile is the signing key's file name inside the data directory's keys folder.
	keyFile = "token-signing-ed25519.pem"
)

// LocalKey is the Ed25519 key the embedded default signs tokens with.
type LocalKey struct {
	private ed25519.PrivateKey
}

// LoadOrCreateLocalKey reads the signing key from dataDir/keys, creating it (readable by the
// owner only) on first start. A key that exists but cannot be read is an error, never a
// reason to make a new one: that would silently invalidate every token handed out.
func LoadOrCreateLocalKey(dataDir string) (*LocalKey, error) {
	path := filepath.Join(dataDir, "keys", keyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseLocalKey(path, b)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("auth: read signing key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: encode signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: create key directory: %w", err)
	}
	// O_EXCL: if two processes start at once, one creates the key and the other reads it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateLocalKey(dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("auth: write signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("auth: write signing key: %w", err)
	}
	return &LocalKey{private: priv}, nil
}

func parseLocalKey(path string, b []byte) (*LocalKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: parse %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: %s holds a %T, want an Ed25519 key", path, k)
	}
	return &LocalKey{private: priv}, nil
}

// Public is the key that verifies tokens and signatures made with this key.
func (k *LocalKey) Public() ed25519.PublicKey { return k.private.Public().(ed25519.PublicKey) }

// Signer signs with the key (audit bundles use it too).
func (k *LocalKey) Signer() crypto.Signer { return k.private }

// MintOptions describe a token to mint.
type MintOptions struct {
	Subject    string
	Role       Role
	Selections []string
	TTL        time.Duration
	Now        time.Time
	// MaxLifetime is the longest TTL allowed, the maximum the verifier accepts (zero means
	// DefaultMaxLifetime): a token the server would refuse is not minted.
	MaxLifetime time.Duration
	// IdentityIssuer, when set, is who vouches for Subject instead of the local issuer: the
	// identity provider a person signed in to the web application through.
	IdentityIssuer string
}

// Mint signs a token for local use (seleksictl token, tests).
func (k *LocalKey) Mint(o MintOptions) (string, error) {
	if o.Subject == "" {
		return "", errors.New("auth: a token needs a subject")
	}
	if _, err := ParseRole(string(o.Role)); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	if o.TTL <= 0 {
		return "", errors.New("auth: a token needs a positive lifetime")
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.TTL > o.MaxLifetime {
		return "", fmt.Errorf("auth: a lifetime of %s exceeds the maximum token lifetime of %s", o.TTL, o.MaxLifetime)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    LocalIssuer,
			Subject:   o.Subject,
			Audience:  jwt.ClaimStrings{LocalAudience},
			IssuedAt:  jwt.NewNumericDate(o.Now),
			NotBefore: jwt.NewNumericDate(o.Now),
			ExpiresAt: jwt.NewNumericDate(o.Now.Add(o.TTL)),
		},
		Role:       string(o.Role),
		Selections: o.Selections,
	}
	if o.IdentityIssuer != LocalIssuer {
		c.IdentityIssuer = o.IdentityIssuer
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(k.private)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verifier verifies tokens minted with this key: EdDSA only, local issuer and audience, valid
// for at most maxLifetime (zero means DefaultMaxLifetime). now is the clock (time.Now in
// production).
func (k *LocalKey) Verifier(now func() time.Time, maxLifetime time.Duration) Verifier {
	pub := k.Public()
	return &tokenVerifier{
		algorithms:  []string{jwt.SigningMethodEdDSA.Alg()},
		issuer:      LocalIssuer,
		audience:    LocalAudience,
		key:         func(context.Context, *jwt.Token) (crypto.PublicKey, error) { return pub, nil },
		now:         now,
		maxLifetime: maxLifetime,
		// The web application mints tokens for people who signed in through the identity
		// provider with this key (see MintOptions.IdentityIssuer).
		identityIssuer: true,
	}
}
