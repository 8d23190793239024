package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bkpsdm/seleksi/internal/keys"
)

// addTokenKey writes a new token-signing key named kid into the key directory, as
// `openssl genpkey -algorithm ed25519` would.
func addTokenKey(t *testing.T, dir, kid string) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, keys.PurposeToken.FileName(kid)), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv
}

// loadTokenKeys is what a process does at start: read the key directory, take its ring.
func loadTokenKeys(t *testing.T, dir string) *LocalKey {
	t.Helper()
	d, err := keys.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewLocalKey(d.Token)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mintAt(t *testing.T, k *LocalKey, subject string) string {
	t.Helper()
	tok, err := k.Mint(MintOptions{Subject: subject, Role: RoleAuditor, TTL: time.Hour, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

// TestTokenKeyRotation walks a rotation of the key directory: a token minted with the old key
// verifies while that key is in the directory, new tokens carry the new kid, and once the old
// key is removed its tokens are refused.
func TestTokenKeyRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	addTokenKey(t, dir, "2026-12")
	before := loadTokenKeys(t, dir)
	old := mintAt(t, before, "old")
	if kid := kidOf(t, old); kid != "2026-12" {
		t.Fatalf("old token kid %q, want 2026-12", kid)
	}

	addTokenKey(t, dir, "2027-06")
	after := loadTokenKeys(t, dir)
	fresh := mintAt(t, after, "new")
	if kid := kidOf(t, fresh); kid != "2027-06" {
		t.Fatalf("new token kid %q, want 2027-06: the greatest kid signs", kid)
	}
	v := after.Verifier(fixedNow, 0)
	for _, tok := range []string{old, fresh} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("after the rotation, token with kid %s: %v", kidOf(t, tok), err)
		}
	}
	// A replica not yet restarted does not know the new key: the reason for .active (README).
	if _, err := before.Verifier(fixedNow, 0).Verify(ctx, fresh); err == nil {
		t.Fatal("a replica without the new key accepted its token")
	}

	// Two-step rotation: the marker keeps the old key signing while the new one spreads.
	if err := os.WriteFile(filepath.Join(dir, keys.PurposeToken.ActiveFileName()), []byte("2026-12\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, mintAt(t, loadTokenKeys(t, dir), "pinned")); kid != "2026-12" {
		t.Fatalf("with the marker naming 2026-12, the token kid is %q", kid)
	}
	if err := os.Remove(filepath.Join(dir, keys.PurposeToken.ActiveFileName())); err != nil {
		t.Fatal(err)
	}

	if err := os.Remove(filepath.Join(dir, keys.PurposeToken.FileName("2026-12"))); err != nil {
		t.Fatal(err)
	}
	retired := loadTokenKeys(t, dir).Verifier(fixedNow, 0)
	if _, err := retired.Verify(ctx, old); err == nil || !strings.Contains(err.Error(), `no token-signing key "2026-12"`) {
		t.Fatalf("a token of a removed key: %v", err)
	}
	if _, err := retired.Verify(ctx, fresh); err != nil {
		t.Fatalf("the new key's token after the old key was removed: %v", err)
	}
}

// TestTokenKeysShared is two replicas loading one key directory: each accepts the other's
// tokens, and neither accepts a token whose kid names a key that did not sign it.
func TestTokenKeysShared(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	addTokenKey(t, dir, "a")
	bPriv := addTokenKey(t, dir, "b")
	one, two := loadTokenKeys(t, dir), loadTokenKeys(t, dir)
	for _, c := range []struct {
		name           string
		minter, verify *LocalKey
	}{{"one to two", one, two}, {"two to one", two, one}} {
		p, err := c.verify.Verifier(fixedNow, 0).Verify(ctx, mintAt(t, c.minter, c.name))
		if err != nil || p.Subject != c.name {
			t.Fatalf("%s: %+v, %v", c.name, p, err)
		}
	}
	claims := jwt.MapClaims{"iss": LocalIssuer, "aud": LocalAudience, "sub": "x", "role": "auditor", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	sign := func(kid any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
		if kid != nil {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(bPriv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	v := one.Verifier(fixedNow, 0)
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"kid of the signing key", sign("b"), true},
		{"kid of another key", sign("a"), false},
		{"unknown kid", sign("c"), false},
		{"kid not a string", sign(7), false},
		// Tokens minted before they carried a kid are checked against the active key (b).
		{"no kid, active key", sign(nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(ctx, tt.token)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if _, err := NewLocalKey(keys.Ring{}); err == nil {
		t.Fatal("an empty ring was accepted")
	}
}
