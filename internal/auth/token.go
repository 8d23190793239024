package auth

import (
	"context"
	"crypto"
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
}

// keyFunc finds the key that verifies a token (a fixed key, or one from a JWKS by kid).
type keyFunc func(ctx context.Context, t *jwt.Token) (crypto.PublicKey, error)

// tokenVerifier checks signature, algorithm, expiry, issuer and audience.
type tokenVerifier struct {
	algorithms []string
	issuer     string
	audience   string
	key        keyFunc
	now        func() time.Time
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
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(v.now),
	)
	_, err := parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if c.Subject == "" {
		return Principal{}, fmt.Errorf("%w: token has no subject", ErrUnauthenticated)
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return Principal{Subject: c.Subject, Role: role, Selections: c.Selections}, nil
}
