package keys

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// PublicKey is a verification key to publish: its ID, the purpose it verifies, and the key.
type PublicKey struct {
	ID      string
	Purpose Purpose
	Key     ed25519.PublicKey
}

// JWK is one Ed25519 verification key in the JSON Web Key form (RFC 8037).
type JWK struct {
	Kty    string   `json:"kty"`
	Crv    string   `json:"crv"`
	X      string   `json:"x"`
	Kid    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	// Purpose says what the key verifies (token-signing or bundle-signing), so that a
	// consumer that checks tokens takes only token keys. RFC 7517 lets a JWK carry members
	// of its own; consumers ignore those they do not understand.
	Purpose Purpose `json:"seleksi_purpose"`
}

// JWKS is a JSON Web Key Set (RFC 7517).
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// NewJWKS builds the key set of ks, in their order. Two keys with one ID are an error: a
// consumer picks its key by ID.
func NewJWKS(ks ...PublicKey) (JWKS, error) {
	set := JWKS{Keys: []JWK{}}
	seen := map[string]bool{}
	for _, k := range ks {
		if len(k.Key) != ed25519.PublicKeySize {
			return JWKS{}, fmt.Errorf("keys: key %q is not an Ed25519 public key", k.ID)
		}
		if seen[k.ID] {
			return JWKS{}, fmt.Errorf("keys: two keys with the ID %q in one key set", k.ID)
		}
		seen[k.ID] = true
		set.Keys = append(set.Keys, JWK{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Key),
			Kid: k.ID, Alg: "EdDSA", Use: "sig", KeyOps: []string{"verify"}, Purpose: k.Purpose,
		})
	}
	return set, nil
}

// Marshal is the set's JSON.
func (s JWKS) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keys: encode key set: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseJWKS reads the Ed25519 keys of a key set (others are skipped).
func ParseJWKS(b []byte) ([]PublicKey, error) {
	var set JWKS
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("keys: decode key set: %w", err)
	}
	var out []PublicKey
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("keys: key %q of the key set is not a valid Ed25519 key", k.Kid)
		}
		out = append(out, PublicKey{ID: k.Kid, Purpose: k.Purpose, Key: ed25519.PublicKey(x)})
	}
	return out, nil
}
