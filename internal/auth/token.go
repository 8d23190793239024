package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claims is the token body: registered claims plus Seleksi's role and, for committee
// members, the selections they sit on.
type claims struct {
	jwt.RegisteredClaims
	Role       string   `json:"role"`
	Selections []string `json:"selections,omitempty"`
	// IdentityIssuer is, in a token the web application mints with the local key for a
	// person who signed in through the agency's identity provider, that provider's issuer:
	// the person is (IdentityIssuer, sub), as their own tokens from the provider say.
	IdentityIssuer string `json:"idp,omitempty"`
}

// keyFunc finds the key that verifies a token (a fixed key, or one from a JWKS by kid).
type keyFunc func(ctx context.Context, t *jwt.Token) (crypto.PublicKey, error)

// DefaultMaxLifetime is the longest a bearer token may be valid when nothing else is
// configured: a day, so that a leaked token is worth little for long.
const DefaultMaxLifetime = 24 * time.Hour

// leeway is the clock skew tolerated between the token's issuer and this server.
const leeway = 30 * time.Second

// tokenVerifier checks signature, algorithm, expiry, lifetime, issuer and audience.
type tokenVerifier struct {
	algorithms []string
	issuer     string
	audience   string
	key        keyFunc
	now        func() time.Time
	// maxLifetime is the longest validity accepted: exp - iat, or exp - now for a token
	// without iat.
	maxLifetime time.Duration
	// identityIssuer honours the idp claim (the local key's tokens only: an identity
	// provider's token names no other issuer than its own).
	identityIssuer bool
}

func (v *tokenVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if raw == "" {
		return Principal{}, fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	var c claims
	parser := jwt.NewParser(
		// Pinning the algorithms defeats "alg":"none" and RS/HS confusion attacks.
		jwt.WithValidMethods(v.algorithms),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(v.now),
	)
	_, err := parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if c.Subject == "" {
		return Principal{}, fmt.Errorf("%w: token has no subject", ErrUnauthenticated)
	}
	if err := v.checkLifetime(c.RegisteredClaims); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	p := Principal{Issuer: c.Issuer, Subject: c.Subject, Role: role, Selections: c.Selections}
	if v.identityIssuer && c.IdentityIssuer != "" {
		p.Issuer = c.IdentityIssuer
	}
	return p, nil
}

// checkLifetime refuses a token valid for longer than the maximum: one issued for a hundred
// years is a standing key to the service, whoever signed it. The parser has already required
// exp and checked that iat, when present, is not in the future.
func (v *tokenVerifier) checkLifetime(c jwt.RegisteredClaims) error {
	max := v.maxLifetime
	if max <= 0 {
		max = DefaultMaxLifetime
	}
	if c.ExpiresAt == nil {
		return errors.New("token has no expiry")
	}
	from, what := v.now(), "from now"
	if c.IssuedAt != nil {
		from, what = c.IssuedAt.Time, "from its issue"
	}
	if life := c.ExpiresAt.Sub(from); life > max+leeway {
		return fmt.Errorf("token is valid for %s %s, longer than the maximum of %s", life.Round(time.Second), what, max)
	}
	return nil
}
