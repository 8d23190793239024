// Package oidc owns sign-in through the agency's OpenID Connect identity provider: the
// relying party's side of the authorization code flow with PKCE (S256), state and nonce,
// and the mapping of the provider's claims to a Seleksi role. It keeps nothing itself:
// Begin hands the web layer the secrets to keep in the user's session, Finish checks the
// callback against them and returns who signed in.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// Defaults of Config.
const (
	DefaultRoleClaim = "seleksi_role"
	// DefaultMaxPending is how long a user may take at the provider between Begin and
	// Finish. Long enough to type a password and a second factor, short enough that a
	// state leaked from an old session is worthless.
	DefaultMaxPending = 10 * time.Minute
	// DefaultHTTPTimeout bounds each request to the provider when Config.HTTPClient is
	// nil: a hung provider must not hold a sign-in (and its goroutine) forever.
	DefaultHTTPTimeout = 10 * time.Second
)

// DefaultScopes are requested when Config.Scopes is empty.
func DefaultScopes() []string { return []string{oidc.ScopeOpenID, "profile", "email"} }

// Config is the relying party's registration at the identity provider and the way its
// claims become a Seleksi role.
type Config struct {
	// Issuer is the provider's issuer URL, exactly as its discovery document states it
	// (a trailing slash matters).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Seleksi's callback, registered at the provider.
	RedirectURL string
	// Scopes requested; "openid" is added when missing. Default: openid profile email.
	Scopes []string

	// RoleClaim names the claim holding a role or a list of roles or groups (a string, a
	// list of strings, or an object whose keys are the roles, as Zitadel's project roles).
	// A name absent at the top level is read as a dotted path into nested objects, e.g.
	// Keycloak's "realm_access.roles". Default "seleksi_role".
	RoleClaim string
	// RoleMap maps a claim value to a role, e.g. "bkpsdm-sekretariat" to admin. Values not
	// in the map are ignored. When several values map to different roles, the most
	// privileged wins (admin, auditor, committee, candidate).
	RoleMap map[string]auth.Role
	// DefaultRole is given when no claim value is in RoleMap; "" refuses the sign-in with
	// ErrNoRole.
	DefaultRole auth.Role
	// SelectionsClaim optionally names the claim (a string or a list of strings, dotted
	// path as RoleClaim) holding the selection IDs a committee member sits on. It is read
	// for committee members only.
	SelectionsClaim string

	// MaxPending bounds the time between Begin and Finish; default DefaultMaxPending.
	MaxPending time.Duration
	// HTTPClient reaches the provider (discovery, keys, token and userinfo endpoints);
	// default a client whose requests time out after DefaultHTTPTimeout.
	HTTPClient *http.Client
}

// Pending is what Begin hands the web layer to keep in the user's session (server side, or
// in a cookie it cannot be read from) until the callback. It is used once.
type Pending struct {
	State    string
	Nonce    string
	Verifier string
	Created  time.Time
}

// Identity is who signed in, as the provider vouches.
type Identity struct {
	// Issuer and Subject name the person; like auth.Principal's they are personal data.
	Issuer  string
	Subject string
	Role    auth.Role
	// Selections are the selections a committee member sits on, from SelectionsClaim.
	Selections []string
	Name       string
	Email      string
	// EmailVerified is the provider's word that the person controls Email. Link accounts
	// by e-mail only when it is true.
	EmailVerified bool
}

// Principal is the identity as the rest of Seleksi knows a caller.
func (id Identity) Principal() auth.Principal {
	return auth.Principal{Issuer: id.Issuer, Subject: id.Subject, Role: id.Role, Selections: id.Selections}
}

// Errors of Finish. Their text is for logs; people are told only that the sign-in failed
// and may be asked to try again.
var (
	// ErrStateMismatch: the callback's state is not the one Begin made for this session
	// (a forged or replayed callback, or a second tab).
	ErrStateMismatch = errors.New("oidc: state does not match the sign-in begun in this session")
	// ErrExpired: the sign-in was begun too long ago, or the ID token has expired.
	ErrExpired = errors.New("oidc: sign-in expired")
	// ErrNoRole: the provider vouches for the person, but no claim value maps to a role.
	ErrNoRole = errors.New("oidc: no Seleksi role for this account")
	// ErrNonceMismatch: the ID token was not issued for the sign-in begun in this session.
	ErrNonceMismatch = errors.New("oidc: ID token nonce does not match")
	// ErrInvalidToken: the ID token is missing or fails verification (signature, issuer,
	// audience), or the userinfo answer is about someone else.
	ErrInvalidToken = errors.New("oidc: invalid ID token")
	// ErrMissingCode: the callback carries neither a code nor an error.
	ErrMissingCode = errors.New("oidc: callback without code")
)

// ProviderError is an error the provider answered with (RFC 6749 §4.1.2.1 and §5.2), such
// as access_denied when the person cancelled, or invalid_grant for a used or wrong code.
type ProviderError struct {
	// Endpoint is "authorization" (the callback carried the error) or "token".
	Endpoint    string
	Code        string
	Description string
}

func (e *ProviderError) Error() string {
	s := fmt.Sprintf("oidc: provider refused at its %s endpoint: %s", e.Endpoint, e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Provider is a relying party of one identity provider.
type Provider struct {
	cfg      Config
	client   *http.Client
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	now      func() time.Time
}

// New discovers the provider's endpoints and keys (/.well-known/openid-configuration of
// c.Issuer) and checks the configuration.
func New(ctx context.Context, c Config) (*Provider, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.RoleClaim == "" {
		c.RoleClaim = DefaultRoleClaim
	}
	if len(c.Scopes) == 0 {
		c.Scopes = DefaultScopes()
	} else if !slices.Contains(c.Scopes, oidc.ScopeOpenID) {
		c.Scopes = append([]string{oidc.ScopeOpenID}, c.Scopes...)
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, client), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discover %s: %w", c.Issuer, err)
	}
	return &Provider{
		cfg:      c,
		client:   client,
		provider: p,
		oauth: oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  c.RedirectURL,
			Scopes:       c.Scopes,
		},
		verifier: p.VerifierContext(oidc.ClientContext(context.Background(), client), &oidc.Config{ClientID: c.ClientID}),
		now:      time.Now,
	}, nil
}

func (c Config) check() error {
	var errs []error
	if c.Issuer == "" || c.ClientID == "" || c.RedirectURL == "" {
		errs = append(errs, errors.New("issuer, client ID and redirect URL are required"))
	}
	if u, err := url.Parse(c.RedirectURL); c.RedirectURL != "" && (err != nil || !u.IsAbs() || u.Host == "") {
		errs = append(errs, fmt.Errorf("redirect URL %q is not absolute", c.RedirectURL))
	}
	for v, r := range c.RoleMap {
		if _, err := auth.ParseRole(string(r)); err != nil {
			errs = append(errs, fmt.Errorf("role map %q: %w", v, err))
		}
	}
	if c.DefaultRole != "" {
		if _, err := auth.ParseRole(string(c.DefaultRole)); err != nil {
			errs = append(errs, fmt.Errorf("default role: %w", err))
		}
	}
	if len(c.RoleMap) == 0 && c.DefaultRole == "" {
		errs = append(errs, errors.New("a role map or a default role is required: otherwise nobody can sign in"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("oidc: config: %w", err)
	}
	return nil
}

// Begin starts a sign-in: it returns the provider's authorization URL to redirect the
// browser to, and the secrets the callback must match.
func (p *Provider) Begin() (redirectURL string, st Pending, err error) {
	st = Pending{Verifier: oauth2.GenerateVerifier(), Created: p.now()}
	if st.State, err = random(); err != nil {
		return "", Pending{}, err
	}
	if st.Nonce, err = random(); err != nil {
		return "", Pending{}, err
	}
	u := p.oauth.AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	return u, st, nil
}

// random returns 256 bits from the system's generator, base64url-encoded.
func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oidc: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Finish completes the sign-in from the callback's query: it checks the state against
// pending, exchanges the code with the PKCE verifier, verifies the ID token (signature,
// issuer, audience, expiry, nonce), reads the userinfo endpoint for the claims the token
// leaves out, and maps the claims to an Identity. The caller must forget pending whatever
// the outcome.
func (p *Provider) Finish(ctx context.Context, pending Pending, callback url.Values) (Identity, error) {
	if pending.State == "" || pending.Nonce == "" || pending.Verifier == "" {
		return Identity{}, fmt.Errorf("%w: no sign-in was begun", ErrStateMismatch)
	}
	if age := p.now().Sub(pending.Created); age > p.cfg.MaxPending || age < -time.Minute {
		return Identity{}, fmt.Errorf("%w: begun %s ago, at most %s allowed", ErrExpired, age.Round(time.Second), p.cfg.MaxPending)
	}
	if !equal(callback.Get("state"), pending.State) {
		return Identity{}, ErrStateMismatch
	}
	// RFC 9207: a provider that names itself in the callback must be ours (mix-up attacks
	// between several providers).
	if iss := callback.Get("iss"); iss != "" && iss != p.cfg.Issuer {
		return Identity{}, fmt.Errorf("%w: callback from issuer %q", ErrInvalidToken, iss)
	}
	if code := callback.Get("error"); code != "" {
		return Identity{}, &ProviderError{Endpoint: "authorization", Code: code, Description: callback.Get("error_description")}
	}
	code := callback.Get("code")
	if code == "" {
		return Identity{}, ErrMissingCode
	}

	ctx = oidc.ClientContext(ctx, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.ErrorCode != "" {
			return Identity{}, &ProviderError{Endpoint: "token", Code: re.ErrorCode, Description: re.ErrorDescription}
		}
		return Identity{}, fmt.Errorf("oidc: exchange code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: token response has no id_token", ErrInvalidToken)
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		if _, ok := errors.AsType[*oidc.TokenExpiredError](err); ok {
			return Identity{}, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !equal(idt.Nonce, pending.Nonce) {
		return Identity{}, ErrNonceMismatch
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	// Providers put profile, e-mail and group claims in the ID token, the userinfo answer
	// or both (the spec asks for userinfo when an access token is issued). The ID token is
	// signed and wins; userinfo fills what it lacks.
	if p.provider.UserInfoEndpoint() != "" {
		ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, fmt.Errorf("oidc: userinfo: %w", err)
		}
		if ui.Subject != idt.Subject {
			return Identity{}, fmt.Errorf("%w: userinfo is about another subject", ErrInvalidToken)
		}
		extra := map[string]any{}
		if err := ui.Claims(&extra); err != nil {
			return Identity{}, fmt.Errorf("oidc: userinfo claims: %w", err)
		}
		for k, v := range extra {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	return p.identity(idt.Issuer, idt.Subject, claims)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
