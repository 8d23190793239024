package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0.Add(time.Minute) }

func TestLocalKeyPersists(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Public().Equal(k2.Public()) {
		t.Fatal("second start made a new key: every issued token would be invalidated")
	}
	fi, err := os.Stat(filepath.Join(dir, "keys", keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", keyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateLocalKey(dir); err == nil {
		t.Fatal("a corrupt key file was accepted or silently replaced")
	}
}

// tamperPayload promotes the token's role to admin without re-signing it.
func tamperPayload(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	var c map[string]any
	b, _ := jwt.NewParser().DecodeSegment(parts[1])
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["role"] = "admin"
	nb, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(nb)
	return strings.Join(parts, ".")
}

func TestLocalVerifier(t *testing.T) {
	key, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mint := func(k *LocalKey, o MintOptions) string {
		t.Helper()
		if o.Now.IsZero() {
			o.Now = t0
		}
		if o.TTL == 0 {
			o.TTL = time.Hour
		}
		s, err := k.Mint(o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signWith := func(method jwt.SigningMethod, signKey any, c jwt.MapClaims) string {
		t.Helper()
		s, err := jwt.NewWithClaims(method, c).SignedString(signKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{"iss": LocalIssuer, "aud": LocalAudience, "sub": "x", "role": "auditor", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	candidate := mint(key, MintOptions{Subject: "199001012020011001", Role: RoleCandidate})

	tests := []struct {
		name  string
		token string
		want  *Principal
	}{
		{"valid candidate token", candidate, &Principal{Subject: "199001012020011001", Role: RoleCandidate}},
		{"valid committee token keeps its selections", mint(key, MintOptions{Subject: "m1", Role: RoleCommittee, Selections: []string{"sel-a"}}),
			&Principal{Subject: "m1", Role: RoleCommittee, Selections: []string{"sel-a"}}},
		{"valid EdDSA token signed by hand", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, good), &Principal{Subject: "x", Role: RoleAuditor}},
		{"empty", "", nil},
		{"garbage", "not.a.token", nil},
		{"expired", mint(key, MintOptions{Subject: "c", Role: RoleCandidate, Now: t0.Add(-2 * time.Hour)}), nil},
		{"payload changed after signing", tamperPayload(t, candidate), nil},
		{"signed by another key", mint(other, MintOptions{Subject: "c", Role: RoleAdmin}), nil},
		{"alg none", signWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), nil},
		{"HS256 keyed with the public key", signWith(jwt.SigningMethodHS256, []byte(key.Public()), good), nil},
		{"wrong issuer", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("iss", "someone-else")), nil},
		{"wrong audience", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("aud", "other-app")), nil},
		{"no expiry", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("exp", nil)), nil},
		{"valid for 100 years", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("exp", t0.AddDate(100, 0, 0).Unix())), nil},
		{"valid for 24h and a minute", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("exp", t0.Add(24*time.Hour+time.Minute).Unix())), nil},
		{"valid for exactly 24h", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("exp", t0.Add(24*time.Hour).Unix())), &Principal{Subject: "x", Role: RoleAuditor}},
		{"no iat, expiring in a year", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, func() jwt.MapClaims {
			c := with("iat", nil)
			c["exp"] = fixedNow().AddDate(1, 0, 0).Unix()
			return c
		}()), nil},
		{"no iat, expiring within the day", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("iat", nil)), &Principal{Subject: "x", Role: RoleAuditor}},
		{"iat back-dated to hide a long life", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, func() jwt.MapClaims {
			c := with("iat", t0.AddDate(0, 0, -30).Unix())
			c["exp"] = t0.AddDate(0, 0, 30).Unix()
			return c
		}()), nil},
		{"no subject", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("sub", nil)), nil},
		{"unknown role", signWith(jwt.SigningMethodEdDSA, key.ring.Active.Private, with("role", "superuser")), nil},
	}
	v := key.Verifier(fixedNow, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tt.token)
			if tt.want == nil {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("Verify = %+v, %v; want ErrUnauthenticated", p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.Subject != tt.want.Subject || p.Role != tt.want.Role || strings.Join(p.Selections, ",") != strings.Join(tt.want.Selections, ",") {
				t.Fatalf("principal = %+v, want %+v", p, *tt.want)
			}
		})
	}
}

func TestMintRefusesIncompleteTokens(t *testing.T) {
	key, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []MintOptions{
		{Role: RoleAdmin, TTL: time.Hour},
		{Subject: "a", Role: "root", TTL: time.Hour},
		{Subject: "a", Role: RoleAdmin},
		{Subject: "a", Role: RoleAdmin, TTL: 100 * 365 * 24 * time.Hour},
		{Subject: "a", Role: RoleAdmin, TTL: 25 * time.Hour},
		{Subject: "a", Role: RoleAdmin, TTL: 3 * time.Hour, MaxLifetime: 2 * time.Hour},
	} {
		if _, err := key.Mint(o); err == nil {
			t.Errorf("Mint(%+v) succeeded", o)
		}
	}
}

func TestPrincipalSitsOn(t *testing.T) {
	m := Principal{Subject: "m", Role: RoleCommittee, Selections: []string{"a", "b"}}
	if !m.SitsOn("b") || m.SitsOn("c") {
		t.Error("committee membership misread")
	}
	if (Principal{Subject: "x", Role: RoleAuditor, Selections: []string{"a"}}).SitsOn("a") {
		t.Error("an auditor is never a committee member")
	}
}

func TestOIDCVerifierWithRotation(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	published := []jose.JSONWebKey{{Key: rsaKey.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: published})
	}))
	defer srv.Close()

	now := fixedNow()
	v, err := NewOIDCVerifier(OIDCOptions{
		Issuer: "https://idp.example.go.id", Audience: "seleksi", JWKSURL: srv.URL,
		MinRefresh: time.Minute, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"iss": "https://idp.example.go.id", "aud": "seleksi", "sub": "admin-1", "role": "admin", "exp": t0.Add(time.Hour).Unix()}
	sign := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The provider's token cannot name another issuer for its subject: only the local key's
	// tokens carry the web application's idp claim.
	claims["idp"] = "https://other.example/"
	if p, err := v.Verify(context.Background(), sign(jwt.SigningMethodRS256, "k1", rsaKey)); err != nil || p.Issuer != "https://idp.example.go.id" {
		t.Fatalf("a provider's token with an idp claim: %+v, %v", p, err)
	}
	delete(claims, "idp")
	if p, err := v.Verify(context.Background(), sign(jwt.SigningMethodRS256, "k1", rsaKey)); err != nil || p.Role != RoleAdmin {
		t.Fatalf("RS256 token from the provider: %+v, %v", p, err)
	}
	// A token under a key the provider has not published is refused, and within MinRefresh
	// it does not make us fetch again.
	if _, err := v.Verify(context.Background(), sign(jwt.SigningMethodES256, "k2", ecKey)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unpublished key accepted: %v", err)
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("key set fetched %d times, want 1", n)
	}
	// The provider rotates in k2; after MinRefresh the new key is fetched and accepted.
	published = append(published, jose.JSONWebKey{Key: ecKey.Public(), KeyID: "k2", Algorithm: "ES256", Use: "sig"})
	now = now.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), sign(jwt.SigningMethodES256, "k2", ecKey)); err != nil {
		t.Fatalf("rotated key refused: %v", err)
	}
	// A key published for RS256 must not verify a token that claims another algorithm.
	if _, err := v.Verify(context.Background(), sign(jwt.SigningMethodRS512, "k1", rsaKey)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("RS512 token accepted: %v", err)
	}
	if _, err := NewOIDCVerifier(OIDCOptions{Issuer: "i", Audience: "a", JWKSURL: "u", Algorithms: []string{"HS256"}}); err == nil {
		t.Fatal("HS256 allowed for OIDC")
	}
}

// TestMaximumLifetime checks the configurable maximum on both verifiers: the local key's and
// the identity provider's. A token valid longer than the maximum is refused even though
// its signature, issuer and expiry are all good.
func TestMaximumLifetime(t *testing.T) {
	key, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: rsaKey.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	defer srv.Close()
	oidc := func(max time.Duration) Verifier {
		v, err := NewOIDCVerifier(OIDCOptions{Issuer: "https://idp.example.go.id", Audience: "seleksi", JWKSURL: srv.URL,
			MaxLifetime: max, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	signOIDC := func(c jwt.MapClaims) string {
		c["iss"], c["aud"], c["sub"], c["role"] = "https://idp.example.go.id", "seleksi", "199001012020011001", "candidate"
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(rsaKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signLocal := func(c jwt.MapClaims) string {
		c["iss"], c["aud"], c["sub"], c["role"] = LocalIssuer, LocalAudience, "199001012020011001", "candidate"
		s, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c).SignedString(key.ring.Active.Private)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := fixedNow()
	tests := []struct {
		name   string
		max    time.Duration
		claims jwt.MapClaims
		ok     bool
	}{
		{"an hour under the default", 0, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}, true},
		{"a hundred years", 0, jwt.MapClaims{"iat": now.Unix(), "exp": now.AddDate(100, 0, 0).Unix()}, false},
		{"25 hours under the default", 0, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(25 * time.Hour).Unix()}, false},
		{"no expiry", 0, jwt.MapClaims{"iat": now.Unix()}, false},
		{"no iat, a week from now", 0, jwt.MapClaims{"exp": now.Add(7 * 24 * time.Hour).Unix()}, false},
		{"no iat, an hour from now", 0, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}, true},
		{"48 hours under a maximum of 72", 72 * time.Hour, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(48 * time.Hour).Unix()}, true},
		{"2 hours under a maximum of 1", time.Hour, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(2 * time.Hour).Unix()}, false},
	}
	for _, tt := range tests {
		for _, v := range []struct {
			name   string
			verify Verifier
			sign   func(jwt.MapClaims) string
			issuer string
		}{
			{"local", key.Verifier(fixedNow, tt.max), signLocal, LocalIssuer},
			{"oidc", oidc(tt.max), signOIDC, "https://idp.example.go.id"},
		} {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				c := jwt.MapClaims{}
				for k, x := range tt.claims {
					c[k] = x
				}
				p, err := v.verify.Verify(context.Background(), v.sign(c))
				switch {
				case tt.ok && err != nil:
					t.Fatalf("refused: %v", err)
				case tt.ok && p.Issuer != v.issuer:
					t.Fatalf("principal issuer %q, want %q", p.Issuer, v.issuer)
				case !tt.ok && !errors.Is(err, ErrUnauthenticated):
					t.Fatalf("accepted (%+v, %v), want ErrUnauthenticated", p, err)
				}
			})
		}
	}
	// Minting respects the maximum it is given, so seleksictl cannot mint what seleksid
	// would refuse.
	if _, err := key.Mint(MintOptions{Subject: "a", Role: RoleAdmin, TTL: 48 * time.Hour, MaxLifetime: 72 * time.Hour}); err != nil {
		t.Errorf("48h under a maximum of 72h: %v", err)
	}
}

// TestIdentityIssuer: a token the web application mints with the local key for a person who
// signed in through the identity provider names them as the provider does; a local
// account's token stays under the local issuer.
func TestIdentityIssuer(t *testing.T) {
	k, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := k.Verifier(time.Now, 0)
	for _, tt := range []struct{ idp, want string }{
		{"", LocalIssuer},
		{LocalIssuer, LocalIssuer},
		{"https://sso.example.go.id/", "https://sso.example.go.id/"},
	} {
		tok, err := k.Mint(MintOptions{Subject: "u-1", Role: RoleCandidate, TTL: time.Minute, IdentityIssuer: tt.idp})
		if err != nil {
			t.Fatal(err)
		}
		p, err := v.Verify(context.Background(), tok)
		if err != nil || p.Issuer != tt.want || p.Subject != "u-1" {
			t.Errorf("minted for %q: %+v %v, want issuer %q", tt.idp, p, err, tt.want)
		}
	}
}
