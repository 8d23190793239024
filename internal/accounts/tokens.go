package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Personal access tokens let a person with an account call the API from seleksictl and
// scripts with the rights of their account, without a password and without the operator's
// signing key. The secret ("skp_" and 32 random bytes, base64url) is shown once when the
// token is made; the store keeps only its SHA-256, by which a presented token is found. A
// token always expires, and its owner can revoke it at any time. It carries the account's
// rights as they are at each call: its current role, and for a committee account the seats
// linked to it at that moment; a disabled account's tokens stop working.

// AccessToken is a personal access token, without its secret.
type AccessToken struct {
	// ID is opaque ("tok_" and random hex); it names the token in lists and logs.
	ID        string
	AccountID string
	// Name is what the owner called the token.
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// LastUsedAt is zero when the token was never used; it is written at most once a
	// minute.
	LastUsedAt time.Time
}

// Expired reports whether the token has expired at now.
func (t AccessToken) Expired(now time.Time) bool { return !now.Before(t.ExpiresAt) }

// Limits of personal access tokens.
const (
	// TokenPrefix begins every secret, so that a leaked one is recognised (by secret
	// scanners, and by the API, which never hands it to its JWT verifiers).
	TokenPrefix = "skp_"
	// DefaultTokenTTL is a token's validity when none is asked for; MaxTokenTTL the longest.
	DefaultTokenTTL = 30 * 24 * time.Hour
	MaxTokenTTL     = 90 * 24 * time.Hour
	// MaxTokenNameLen bounds a token's name (characters).
	MaxTokenNameLen = 100
	// MaxLiveTokens bounds the live (not revoked, not expired) tokens of one account.
	MaxLiveTokens = 20
	// tokenTouchEvery is how often a token's last use is written at most.
	tokenTouchEvery = time.Minute
	secretBytes     = 32
)

var secretLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormedSecret checks a secret's form before the database is asked.
func wellFormedSecret(s string) bool {
	if len(s) != secretLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s[len(TokenPrefix):])
	return err == nil
}

func tokenOf(r store.AccessTokenRecord) AccessToken {
	return AccessToken{ID: r.ID, AccountID: r.AccountID, Name: r.Name, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt}
}

func validTokenName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", fieldError(FieldTokenName, CodeRequired)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", fieldError(FieldTokenName, CodeInvalid)
	case utf8.RuneCountInString(name) > MaxTokenNameLen:
		return "", fieldError(FieldTokenName, CodeTooLong)
	}
	return name, nil
}

// CreateToken makes a personal access token for an account, valid for ttl (DefaultTokenTTL
// when zero, at most MaxTokenTTL), and returns its secret, which is never shown again. A bad
// name or validity is a *FieldError; an account with MaxLiveTokens live tokens gets a
// *FieldError on the name (CodeTooMany); a disabled account ErrDisabled.
func (s *Service) CreateToken(ctx context.Context, accountID, name string, ttl time.Duration) (string, AccessToken, error) {
	const op = "create access token"
	var c collect
	name = c.str(validTokenName(name))
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < 0 || ttl > MaxTokenTTL {
		c.add(fieldError(FieldTokenValidity, CodeInvalid))
	}
	if err := c.err(op); err != nil {
		return "", AccessToken{}, err
	}
	acc, err := s.st.GetAccount(ctx, accountID)
	if err != nil {
		return "", AccessToken{}, storeErr(op, err)
	}
	if acc.Disabled {
		return "", AccessToken{}, fmt.Errorf("accounts: %s: %w", op, ErrDisabled)
	}
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	rec, err := s.st.CreateAccessToken(ctx, store.AccessTokenRecord{ID: "tok_" + randomHex(10), AccountID: acc.ID, Name: name,
		SecretHash: hashSecret(secret), CreatedAt: now, ExpiresAt: now.Add(ttl)}, MaxLiveTokens)
	if errors.Is(err, store.ErrTooManyAccessTokens) {
		return "", AccessToken{}, fmt.Errorf("accounts: %s: %w", op, fieldError(FieldTokenName, CodeTooMany))
	}
	if err != nil {
		return "", AccessToken{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "personal access token created", "account", acc.ID, "token", rec.ID, "expires", rec.ExpiresAt)
	return secret, tokenOf(rec), nil
}

// Tokens lists an account's tokens that are not revoked, expired ones included, newest
// first.
func (s *Service) Tokens(ctx context.Context, accountID string) ([]AccessToken, error) {
	recs, err := s.st.AccessTokensOfAccount(ctx, accountID)
	if err != nil {
		return nil, storeErr("list access tokens", err)
	}
	out := make([]AccessToken, len(recs))
	for i, r := range recs {
		out[i] = tokenOf(r)
	}
	return out, nil
}

// RevokeToken ends one of the account's tokens now. Another account's token, or none, is
// ErrNotFound; revoking twice is not an error.
func (s *Service) RevokeToken(ctx context.Context, accountID, tokenID string) error {
	if err := s.st.RevokeAccessToken(ctx, accountID, tokenID, s.now()); err != nil {
		return storeErr("revoke access token", err)
	}
	s.logger.InfoContext(ctx, "personal access token revoked", "account", accountID, "token", tokenID)
	return nil
}

// TokenVerifier verifies personal access tokens, for the API and the upload endpoint. It
// accepts only strings that begin with TokenPrefix; anything else, and every token that is
// unknown, revoked, expired or of a disabled account, is an error wrapping
// auth.ErrUnauthenticated whose text never holds the secret. A database that cannot answer
// is an error that does not wrap it ("try again later", not "sign in again").
func (s *Service) TokenVerifier() auth.Verifier { return tokenVerifier{s} }

type tokenVerifier struct{ s *Service }

func (v tokenVerifier) Verify(ctx context.Context, token string) (auth.Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return auth.Principal{}, fmt.Errorf("%w: not a personal access token", auth.ErrUnauthenticated)
	}
	if !wellFormedSecret(token) {
		return auth.Principal{}, fmt.Errorf("%w: malformed personal access token", auth.ErrUnauthenticated)
	}
	hash := hashSecret(token)
	rec, acc, err := v.s.st.AccessTokenBySecretHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return auth.Principal{}, fmt.Errorf("%w: unknown personal access token", auth.ErrUnauthenticated)
	case err != nil:
		return auth.Principal{}, fmt.Errorf("accounts: verify personal access token: %w", err)
	}
	// The row was found by its hash; comparing again in constant time costs nothing and does
	// not rely on how the database compares.
	if subtle.ConstantTimeCompare([]byte(rec.SecretHash), []byte(hash)) != 1 {
		return auth.Principal{}, fmt.Errorf("%w: unknown personal access token", auth.ErrUnauthenticated)
	}
	now := v.s.now()
	switch {
	case !rec.RevokedAt.IsZero():
		return auth.Principal{}, fmt.Errorf("%w: personal access token %s was revoked", auth.ErrUnauthenticated, rec.ID)
	case !now.Before(rec.ExpiresAt):
		return auth.Principal{}, fmt.Errorf("%w: personal access token %s expired", auth.ErrUnauthenticated, rec.ID)
	case acc.Disabled:
		return auth.Principal{}, fmt.Errorf("%w: personal access token %s: account disabled", auth.ErrUnauthenticated, rec.ID)
	}
	role, err := auth.ParseRole(acc.Role)
	if err != nil {
		return auth.Principal{}, fmt.Errorf("%w: personal access token %s: %v", auth.ErrUnauthenticated, rec.ID, err)
	}
	p := auth.Principal{Issuer: acc.Issuer, Subject: acc.Subject, Role: role}
	if role == auth.RoleCommittee {
		seats, err := v.s.st.SeatsOfAccount(ctx, acc.ID)
		if err != nil {
			return auth.Principal{}, fmt.Errorf("accounts: verify personal access token: %w", err)
		}
		for _, st := range seats {
			p.Selections = append(p.Selections, st.SelectionID)
		}
	}
	if err := v.s.st.TouchAccessToken(ctx, rec.ID, now, tokenTouchEvery); err != nil {
		// The call goes on: when a token was last used is worth less than the call.
		v.s.logger.WarnContext(ctx, "personal access token: last use not recorded", "token", rec.ID, "error", err)
	}
	return p, nil
}
