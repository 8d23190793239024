package auth

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// OIDCOptions configure verification of tokens from an agency's identity provider.
type OIDCOptions struct {
	Issuer   string
	Audience string
	// JWKSURL is where the provider publishes its signing keys.
	JWKSURL string
	// Algorithms are the only signature algorithms accepted (default RS256 and ES256).
	Algorithms []string
	HTTPClient *http.Client
	// MinRefresh limits how often an unknown key ID makes us fetch the key set again, so a
	// flood of forged tokens cannot turn into a flood of requests to the provider.
	MinRefresh time.Duration
	// MaxLifetime is the longest validity accepted (exp - iat, or exp - now without iat);
	// zero means DefaultMaxLifetime.
	MaxLifetime time.Duration
	Now         func() time.Time
}

// NewOIDCVerifier verifies tokens signed by keys from a JWKS URL, fetching them lazily and
// again when a token names a key ID that is not known yet (key rotation).
func NewOIDCVerifier(o OIDCOptions) (Verifier, error) {
	if o.Issuer == "" || o.Audience == "" || o.JWKSURL == "" {
		return nil, errors.New("auth: OIDC issuer, audience and JWKS URL are all required")
	}
	if len(o.Algorithms) == 0 {
		o.Algorithms = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}
	}
	for _, a := range o.Algorithms {
		if a == "none" || a == "HS256" || a == "HS384" || a == "HS512" {
			return nil, fmt.Errorf("auth: algorithm %s is not allowed for OIDC tokens", a)
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ks := &keySet{url: o.JWKSURL, client: o.HTTPClient, minRefresh: o.MinRefresh, now: o.Now}
	return &tokenVerifier{
		algorithms:  o.Algorithms,
		issuer:      o.Issuer,
		audience:    o.Audience,
		key:         ks.key,
		now:         o.Now,
		maxLifetime: o.MaxLifetime,
	}, nil
}

type keySet struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	now        func() time.Time

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

func (k *keySet) key(ctx context.Context, t *jwt.Token) (crypto.PublicKey, error) {
	kid, _ := t.Header["kid"].(string)
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.find(kid, t.Method.Alg()); ok {
		return key, nil
	}
	if !k.fetched.IsZero() && k.now().Sub(k.fetched) < k.minRefresh {
		return nil, fmt.Errorf("no key %q in the key set", kid)
	}
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	if key, ok := k.find(kid, t.Method.Alg()); ok {
		return key, nil
	}
	return nil, fmt.Errorf("no key %q in the key set", kid)
}

// find returns the public key with the ID, refusing one published for another algorithm.
func (k *keySet) find(kid, alg string) (crypto.PublicKey, bool) {
	for _, jwk := range k.keys.Key(kid) {
		if jwk.Algorithm != "" && jwk.Algorithm != alg {
			continue
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			continue
		}
		if !jwk.IsPublic() {
			continue
		}
		return jwk.Key, true
	}
	return nil, false
}

func (k *keySet) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return fmt.Errorf("fetch key set: %w", err)
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch key set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch key set: %s answered %s", k.url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("decode key set: %w", err)
	}
	set.Keys = slices.DeleteFunc(set.Keys, func(j jose.JSONWebKey) bool { return !j.Valid() })
	k.keys = set
	k.fetched = k.now()
	return nil
}
