package cli

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/keys"
)

// writeKeyDir writes private keys into a new key directory as its files name them.
func writeKeyDir(t *testing.T, files map[string]ed25519.PrivateKey) string {
	t.Helper()
	dir := t.TempDir()
	for name, k := range files {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeJWKS(t *testing.T, pubs ...keys.PublicKey) string {
	t.Helper()
	set, err := keys.NewJWKS(pubs...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBundleVerifiesAfterRotation verifies a bundle signed with a key that has since been
// rotated out of signing: with the key directory, or the key set the API publishes, that
// still holds the old key, it verifies; with a key set of the new key alone, it does not.
func TestBundleVerifiesAfterRotation(t *testing.T) {
	old, fresh := auditTestKey("server"), auditTestKey("rotated in")
	bundle := filepath.Join(t.TempDir(), "cancelled.bundle.zip")
	if err := os.WriteFile(bundle, goldenBundle(t, "cancelled-at-competency"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := writeKeyDir(t, map[string]ed25519.PrivateKey{
		keys.PurposeBundle.FileName("2026-12"): old,
		keys.PurposeBundle.FileName("2027-06"): fresh,
		// Token keys are not bundle keys: one is here to show they are not taken.
		keys.PurposeToken.FileName("2027-06"): auditTestKey("token"),
	})
	pub := func(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }
	both := writeJWKS(t,
		keys.PublicKey{ID: "2027-06", Purpose: keys.PurposeToken, Key: pub(auditTestKey("token"))},
		keys.PublicKey{ID: audit.KeyFingerprint(pub(fresh)), Purpose: keys.PurposeBundle, Key: pub(fresh)},
		keys.PublicKey{ID: audit.KeyFingerprint(pub(old)), Purpose: keys.PurposeBundle, Key: pub(old)})
	newOnly := writeJWKS(t, keys.PublicKey{ID: audit.KeyFingerprint(pub(fresh)), Purpose: keys.PurposeBundle, Key: pub(fresh)})
	tokenOnly := writeJWKS(t, keys.PublicKey{ID: "2027-06", Purpose: keys.PurposeToken, Key: pub(auditTestKey("token"))})
	tests := []struct {
		name string
		key  string
		code int
		want string
	}{
		{"key directory holding the old key", dir, ExitOK, "verified with --key"},
		{"published key set holding the old key", both, ExitOK, "verified with --key"},
		{"key set of the new key only", newOnly, ExitVerification, "does NOT verify with --key"},
		{"key set without bundle keys", tokenOnly, ExitUsage, "no bundle-signing key"},
		{"key directory without bundle keys", writeKeyDir(t, map[string]ed25519.PrivateKey{keys.PurposeToken.FileName("a"): old}), ExitUsage, "no bundle-signing.<kid>.pem"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, "", nil, "audit", "replay", bundle, "--key", tc.key)
			if res.code != tc.code || !strings.Contains(res.stdout+res.stderr, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s\n%s", res.code, tc.code, tc.want, res.stdout, res.stderr)
			}
		})
	}
}

// TestTokenWithKeyDirectory mints with the key directory's active token key, which an API
// replica loading the same directory accepts.
func TestTokenWithKeyDirectory(t *testing.T) {
	dir := writeKeyDir(t, map[string]ed25519.PrivateKey{
		keys.PurposeToken.FileName("2026-12"): auditTestKey("token old"),
		keys.PurposeToken.FileName("2027-06"): auditTestKey("token new"),
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag", []string{"token", "--keys-dir", dir, "--role", "auditor", "--subject", "a1"}, nil},
		{"environment", []string{"token", "--role", "auditor", "--subject", "a1"}, map[string]string{"SELEKSI_KEYS_DIR": dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, "", tc.env, tc.args...)
			if res.code != ExitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			tok := strings.TrimSpace(res.stdout)
			parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			if kid := parsed.Header["kid"]; kid != "2027-06" {
				t.Fatalf("kid %v, want the newest, 2027-06", kid)
			}
			d, err := keys.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			replica, err := auth.NewLocalKey(d.Token)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := replica.Verifier(time.Now, 0).Verify(t.Context(), tok); err != nil || p.Subject != "a1" {
				t.Fatalf("the replica refused the token: %+v, %v", p, err)
			}
		})
	}
	empty := t.TempDir()
	if res := runCLI(t, "", nil, "token", "--keys-dir", empty, "--role", "auditor", "--subject", "a1"); res.code == ExitOK ||
		!strings.Contains(res.stderr, "token-signing.<kid>.pem") {
		t.Fatalf("an empty key directory: exit %d, %s", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatal("seleksictl token created keys in a key directory")
	}
}
