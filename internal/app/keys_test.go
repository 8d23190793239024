package app

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/keys"
)

// newKeyDir writes a key directory: an Ed25519 key for each of signing (file names), and a
// page-token secret for each of secrets.
func newKeyDir(t *testing.T, signing, secrets []string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range signing {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range secrets {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func keysConfig(mode config.Mode, keysDir, dataDir string) config.Config {
	return config.Config{Mode: mode, KeysDir: keysDir, DataDir: dataDir, TemporalAddress: "temporal.example:7233"}
}

// TestKeysSharedByReplicas is two API replicas mounting one key directory: each accepts the
// other's tokens, both sign bundles and page tokens with the same keys, and the key set
// they publish lists every token key by its kid and every bundle key by its fingerprint.
func TestKeysSharedByReplicas(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dir := newKeyDir(t, []string{"token-signing.2026-12.pem", "token-signing.2027-06.pem", "bundle-signing.2026-12.pem",
		"bundle-signing.2027-06.pem"}, []string{"page-token.2026-12.key", "page-token.2027-06.key"})
	var replicas []*auth.LocalKey
	var bundles []keys.Ring
	var pages [][]byte
	for range 2 {
		ks, err := newKeySource(keysConfig(config.ModeAPI, dir, t.TempDir()), logger)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := ks.tokenKeys()
		if err != nil {
			t.Fatal(err)
		}
		page, older, err := ks.pageTokenKeys()
		if err != nil || len(older) != 1 {
			t.Fatalf("page-token keys: %d older, %v", len(older), err)
		}
		replicas, bundles, pages = append(replicas, tk), append(bundles, ks.bundleKeys(tk)), append(pages, page)
	}
	for i, minter := range replicas {
		tok, err := minter.Mint(auth.MintOptions{Subject: "auditor-1", Role: auth.RoleAuditor, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := replicas[1-i].Verifier(time.Now, 0).Verify(t.Context(), tok); err != nil || p.Subject != "auditor-1" {
			t.Fatalf("replica %d refused replica %d's token: %+v, %v", 1-i, i, p, err)
		}
	}
	if bundles[0].Active.ID != "2027-06" || !bundles[0].Active.Public.Equal(bundles[1].Active.Public) || !bytes.Equal(pages[0], pages[1]) {
		t.Fatal("the replicas do not sign bundles or page tokens with the same, newest keys")
	}

	h, err := jwks(replicas[0], bundles[0])
	if err != nil {
		t.Fatal(err)
	}
	tr, _, _ := startTransport(t, WithJWKS(h))
	resp, err := http.Get("http://" + tr.HTTPAddr() + JWKSPath)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("GET %s: %s %q, %v", JWKSPath, resp.Status, resp.Header.Get("Content-Type"), err)
	}
	set, err := keys.ParseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range set {
		got = append(got, string(k.Purpose)+" "+k.ID)
	}
	var want []string
	d, err := keys.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range d.Token.Keys {
		want = append(want, "token-signing "+k.ID)
	}
	for _, k := range d.Bundle.Keys {
		want = append(want, "bundle-signing "+audit.KeyFingerprint(k.Public))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("key set %v, want %v", got, want)
	}
	// The key set verifies what the replicas signed: a token by its kid.
	tok, err := replicas[1].Mint(auth.MintOptions{Subject: "s", Role: auth.RoleAuditor, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(set, func(k keys.PublicKey) bool { return k.ID == "2027-06" && k.Key.Equal(replicas[1].Public()) }) {
		t.Fatalf("the key set lacks the token key that signed %s", tok[:20])
	}
	post, err := http.Post("http://"+tr.HTTPAddr()+JWKSPath, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	_ = post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST %s: %s", JWKSPath, post.Status)
	}
}

// TestKeySourceNeeds checks that each mode is refused a key directory lacking its keys,
// naming the files to add.
func TestKeySourceNeeds(t *testing.T) {
	apiOnly := newKeyDir(t, []string{"token-signing.a.pem", "bundle-signing.a.pem"}, []string{"page-token.a.key"})
	tests := []struct {
		name string
		mode config.Mode
		dir  string
		want string // empty: accepted
	}{
		{"api with its keys", config.ModeAPI, apiOnly, ""},
		{"worker without an official key", config.ModeWorker, apiOnly, "official-signing.<kid>.pem"},
		{"worker with its key only", config.ModeWorker, newKeyDir(t, []string{"official-signing.a.pem"}, nil), ""},
		{"api without page-token keys", config.ModeAPI, newKeyDir(t, []string{"token-signing.a.pem", "bundle-signing.a.pem"}, nil), "page-token.<kid>.key"},
		{"all without bundle keys", config.ModeAll, newKeyDir(t, []string{"token-signing.a.pem", "official-signing.a.pem"}, []string{"page-token.a.key"}), "bundle-signing.<kid>.pem"},
		{"a bad file", config.ModeAPI, newKeyDir(t, []string{"token-signing.a.pem", "bundle-signing.a.pem", "bundle-signing.b"}, []string{"page-token.a.key"}), "bundle-signing.b: not a key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newKeySource(keysConfig(tt.mode, tt.dir, t.TempDir()), slog.New(slog.DiscardHandler))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
		})
	}
}

// TestKeySourceEmbedded is the embedded default: keys made in the data directory on first
// start and the same on the next, bundles signed with the token key as before key
// directories, both published.
func TestKeySourceEmbedded(t *testing.T) {
	data := t.TempDir()
	cfg := config.Config{Mode: config.ModeAll, DataDir: data}
	var tokens []*auth.LocalKey
	var pages [][]byte
	for range 2 {
		ks, err := newKeySource(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		tk, err := ks.tokenKeys()
		if err != nil {
			t.Fatal(err)
		}
		page, older, err := ks.pageTokenKeys()
		if err != nil || len(older) != 0 {
			t.Fatalf("page-token keys: %d older, %v", len(older), err)
		}
		if _, _, err := ks.officialKeys(); err != nil {
			t.Fatal(err)
		}
		if b := ks.bundleKeys(tk); !b.Active.Public.Equal(tk.Public()) {
			t.Fatal("the embedded default does not sign bundles with its token key")
		}
		tokens, pages = append(tokens, tk), append(pages, page)
	}
	if !tokens[0].Public().Equal(tokens[1].Public()) || tokens[0].KeyID() != keys.KeyID(tokens[0].Public()) || !bytes.Equal(pages[0], pages[1]) {
		t.Fatal("a second start read other keys")
	}
	for _, f := range []string{"token-signing-ed25519.pem", PageTokenKeyFile, OfficialKeyFile} {
		if _, err := os.Stat(filepath.Join(data, keys.Dir, f)); err != nil {
			t.Errorf("the data directory lacks %s: %v", f, err)
		}
	}
	h, err := jwks(tokens[0], keys.SingleRing(tokens[0].Active()))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, JWKSPath, nil))
	set, err := keys.ParseJWKS(rec.Body.Bytes())
	if err != nil || len(set) != 2 || set[0].ID != tokens[0].KeyID() || set[1].ID != audit.KeyFingerprint(tokens[0].Public()) {
		t.Fatalf("key set %+v, %v", set, err)
	}
}
