package auth

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// CacheOptions bound a verification cache.
type CacheOptions struct {
	// Size is the most tokens remembered (default 10,000).
	Size int
	// MaxAge is the longest a verification is remembered, however long its token is still
	// valid (default 1 minute): a signing key withdrawn from the key ring or the identity
	// provider's key set stops vouching for cached tokens after at most this long.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewCache remembers the principals of the JWTs v accepts, so that a client sending the same
// bearer token with every request (a candidate refreshing their status after an
// announcement) costs one signature check per MaxAge instead of one per call. Entries are
// keyed by the token's SHA-256 digest, so the cache holds no usable token; they are
// forgotten when the token expires or after MaxAge, whichever comes first, and only tokens
// that carry an expiry are remembered at all. Rejections are never remembered.
//
// It is meant for self-contained tokens only, whose validity is their signature and their
// times: never put it in front of a verifier that consults state that can change, such as
// the revocation of personal access tokens, which must take effect at the next call.
func NewCache(v Verifier, o CacheOptions) Verifier {
	if o.Size <= 0 {
		o.Size = 10_000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &cache{next: v, opts: o, entries: make(map[[sha256.Size]byte]cached, o.Size)}
}

type cache struct {
	next    Verifier
	opts    CacheOptions
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]cached
}

type cached struct {
	p     Principal
	until time.Time
}

func (c *cache) Verify(ctx context.Context, token string) (Principal, error) {
	key := sha256.Sum256([]byte(token))
	now := c.opts.Now()
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if ok && now.Before(e.until) {
		return clonePrincipal(e.p), nil
	}
	p, err := c.next.Verify(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	if exp, ok := expiry(token); ok {
		c.put(key, cached{p: clonePrincipal(p), until: earliest(exp, now.Add(c.opts.MaxAge))}, now)
	}
	return p, nil
}

func (c *cache) put(key [sha256.Size]byte, e cached, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.opts.Size {
		for k, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, k)
			}
		}
		// Still full of live entries: forget an arbitrary tenth (map order), which keeps
		// the cost of a full cache's insertions bounded without bookkeeping on every hit.
		for k := range c.entries {
			if len(c.entries) < c.opts.Size-c.opts.Size/10 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
}

// expiry reads the exp claim of a token that has just been verified; false for a token that
// is no JWT or has no expiry.
func expiry(token string) (time.Time, bool) {
	claims := jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil || claims.ExpiresAt == nil {
		return time.Time{}, false
	}
	return claims.ExpiresAt.Time, true
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// clonePrincipal copies p's slice, so that no caller can change what the cache hands out.
func clonePrincipal(p Principal) Principal {
	p.Selections = slices.Clone(p.Selections)
	return p
}
