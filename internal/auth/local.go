package auth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bkpsdm/seleksi/internal/keys"
)

// Local issuer defaults of the embedded deployment.
const (
	LocalIssuer   = "seleksi-local"
	LocalAudience = "seleksi"
	// keyFile is the signing key's file name inside the data directory's keys folder.
	keyFile = "token-signing-ed25519.pem"
)

// LocalKey is the Ed25519 keys Seleksi signs its own tokens with: the embedded default's key
// in the data directory, or the token-signing keys of a key directory (keys.LoadDir). The
// active key signs, and names itself in the token's kid header; every key of the ring
// verifies, picked by that kid, so tokens minted before a rotation stay valid while their key
// is in the directory.
type LocalKey struct {
	ring keys.Ring
}

// LoadOrCreateLocalKey reads the signing key from dataDir/keys, creating it (readable by the
// owner only) on first start. A key that exists but cannot be read is an error, never a
// reason to make a new one: that would silently invalidate every token handed out. Its key
// ID is derived from the public key (keys.KeyID).
func LoadOrCreateLocalKey(dataDir string) (*LocalKey, error) {
	k, err := keys.LoadOrCreateEd25519(dataDir, keyFile)
	if err != nil {
		return nil, fmt.Errorf("auth: signing key: %w", err)
	}
	return &LocalKey{ring: keys.SingleRing(k)}, nil
}

// NewLocalKey signs with the ring's active key and verifies with all of its keys.
func NewLocalKey(ring keys.Ring) (*LocalKey, error) {
	if ring.Empty() {
		return nil, errors.New("auth: no token-signing key")
	}
	return &LocalKey{ring: ring}, nil
}

// KeyID is the ID of the key that signs.
func (k *LocalKey) KeyID() string { return k.ring.Active.ID }

// Active is the key that signs.
func (k *LocalKey) Active() keys.SigningKey { return k.ring.Active }

// Public is the key that verifies tokens and signatures made with the active key.
func (k *LocalKey) Public() ed25519.PublicKey { return k.ring.Active.Public }

// Signer signs with the active key (the embedded default signs audit bundles with it too).
func (k *LocalKey) Signer() crypto.Signer { return k.ring.Active.Private }

// PublicKeys are every key that verifies tokens, for the key set the API publishes.
func (k *LocalKey) PublicKeys() []keys.PublicKey {
	out := make([]keys.PublicKey, 0, len(k.ring.Keys))
	for _, sk := range k.ring.Keys {
		out = append(out, keys.PublicKey{ID: sk.ID, Purpose: keys.PurposeToken, Key: sk.Public})
	}
	return out
}

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
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = k.ring.Active.ID
	s, err := t.SignedString(k.ring.Active.Private)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verifier verifies tokens minted with this key: EdDSA only, local issuer and audience, valid
// for at most maxLifetime (zero means DefaultMaxLifetime), signed by the key their kid names.
// A token without a kid (minted before tokens carried one) is checked against the active key.
// now is the clock (time.Now in production).
func (k *LocalKey) Verifier(now func() time.Time, maxLifetime time.Duration) Verifier {
	ring := k.ring
	return &tokenVerifier{
		algorithms: []string{jwt.SigningMethodEdDSA.Alg()},
		issuer:     LocalIssuer,
		audience:   LocalAudience,
		key: func(_ context.Context, t *jwt.Token) (crypto.PublicKey, error) {
			kid, ok := t.Header["kid"].(string)
			if !ok {
				if _, present := t.Header["kid"]; present {
					return nil, errors.New("the token's kid is not a string")
				}
				return ring.Active.Public, nil
			}
			sk, found := ring.Lookup(kid)
			if !found {
				return nil, fmt.Errorf("no token-signing key %q", kid)
			}
			return sk.Public, nil
		},
		now:         now,
		maxLifetime: maxLifetime,
		// The web application mints tokens for people who signed in through the identity
		// provider with this key (see MintOptions.IdentityIssuer).
		identityIssuer: true,
	}
}
