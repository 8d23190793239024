package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ed25519PEM is a new Ed25519 private key as `openssl genpkey -algorithm ed25519` writes it.
func ed25519PEM(t *testing.T) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// secretFile is a new secret as `openssl rand -base64 32` writes it.
func secretFile(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte(base64.StdEncoding.EncodeToString(b) + "\n")
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadDirRotation(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		// want is the active kid per purpose; all lists every kid per purpose.
		want map[Purpose]string
		all  map[Purpose][]string
	}{
		{
			name: "one key each",
			files: map[string][]byte{
				"token-signing.2026-12.pem": ed25519PEM(t), "bundle-signing.2026-12.pem": ed25519PEM(t),
				"official-signing.2026-12.pem": ed25519PEM(t), "page-token.2026-12.key": secretFile(t),
			},
			want: map[Purpose]string{PurposeToken: "2026-12", PurposeBundle: "2026-12", PurposeOfficial: "2026-12", PurposePageToken: "2026-12"},
			all:  map[Purpose][]string{PurposeToken: {"2026-12"}, PurposeBundle: {"2026-12"}, PurposeOfficial: {"2026-12"}, PurposePageToken: {"2026-12"}},
		},
		{
			name: "the greatest kid signs",
			files: map[string][]byte{
				"token-signing.2027-06.pem": ed25519PEM(t), "token-signing.2026-12.pem": ed25519PEM(t),
				"page-token.b.key": secretFile(t), "page-token.a.key": secretFile(t),
			},
			want: map[Purpose]string{PurposeToken: "2027-06", PurposePageToken: "b"},
			all:  map[Purpose][]string{PurposeToken: {"2026-12", "2027-06"}, PurposePageToken: {"a", "b"}},
		},
		{
			name: "the active marker wins",
			files: map[string][]byte{
				"token-signing.2027-06.pem": ed25519PEM(t), "token-signing.2026-12.pem": ed25519PEM(t),
				"token-signing.active": []byte("2026-12\n"),
				"page-token.b.key":     secretFile(t), "page-token.a.key": secretFile(t), "page-token.active": []byte("a"),
			},
			want: map[Purpose]string{PurposeToken: "2026-12", PurposePageToken: "a"},
			all:  map[Purpose][]string{PurposeToken: {"2026-12", "2027-06"}, PurposePageToken: {"a", "b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			d, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			rings := map[Purpose]Ring{PurposeToken: d.Token, PurposeBundle: d.Bundle, PurposeOfficial: d.Official}
			for p, r := range rings {
				var ids []string
				for _, k := range r.Keys {
					ids = append(ids, k.ID)
					if !k.Private.Public().(ed25519.PublicKey).Equal(k.Public) {
						t.Errorf("%s %s: public key does not match the private one", p, k.ID)
					}
				}
				if strings.Join(ids, ",") != strings.Join(tt.all[p], ",") {
					t.Errorf("%s keys = %v, want %v", p, ids, tt.all[p])
				}
				if r.Active.ID != tt.want[p] {
					t.Errorf("%s active = %q, want %q", p, r.Active.ID, tt.want[p])
				}
			}
			var ids []string
			for _, s := range d.PageToken.Keys {
				ids = append(ids, s.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.all[PurposePageToken], ",") || d.PageToken.Active.ID != tt.want[PurposePageToken] {
				t.Errorf("page tokens: keys %v active %q, want %v and %q", ids, d.PageToken.Active.ID, tt.all[PurposePageToken], tt.want[PurposePageToken])
			}
			if all := d.PageToken.All(); len(all) > 0 && !bytes.Equal(all[0], d.PageToken.Active.Bytes) {
				t.Error("All does not put the active secret first")
			}
		})
	}
}

// TestLoadDirKubernetesSecret reads a directory laid out as the kubelet mounts a Secret:
// each key a symbolic link into a hidden, timestamped directory.
func TestLoadDirKubernetesSecret(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "..2026_12_01_10_00_00.123")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, data, map[string][]byte{"token-signing.k1.pem": ed25519PEM(t), "page-token.k1.key": secretFile(t)})
	if err := os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"token-signing.k1.pem", "page-token.k1.key"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Token.Active.ID != "k1" || d.PageToken.Active.ID != "k1" {
		t.Fatalf("active keys %q and %q, want k1", d.Token.Active.ID, d.PageToken.Active.ID)
	}
	if err := d.Require(PurposeToken, PurposePageToken); err != nil {
		t.Fatal(err)
	}
	err = d.Require(PurposeToken, PurposeBundle, PurposeOfficial)
	if !errors.Is(err, ErrBadKeyDir) || !strings.Contains(err.Error(), "bundle-signing.<kid>.pem") || !strings.Contains(err.Error(), "official-signing.<kid>.pem") {
		t.Fatalf("missing purposes: %v", err)
	}
}

func TestLoadDirBadFiles(t *testing.T) {
	key := ed25519PEM(t)
	tests := []struct {
		name  string
		files map[string][]byte
		// want are parts of the error, each naming the file at fault.
		want []string
	}{
		{"unknown name", map[string][]byte{"token.pem": ed25519PEM(t)}, []string{"token.pem: not a key file"}},
		{"kid with a dot", map[string][]byte{"token-signing.v1.2.pem": ed25519PEM(t)}, []string{"token-signing.v1.2.pem: not a key file"}},
		{"secret with the PEM extension", map[string][]byte{"page-token.k1.pem": secretFile(t)}, []string{"page-token.k1.pem: not a key file"}},
		{"garbage key", map[string][]byte{"token-signing.k1.pem": []byte("garbage")}, []string{"token-signing.k1.pem does not hold a PEM private key"}},
		{"a secret in a key file", map[string][]byte{"bundle-signing.k1.pem": secretFile(t)}, []string{"bundle-signing.k1.pem does not hold a PEM private key"}},
		{"short secret", map[string][]byte{"page-token.k1.key": []byte(base64.StdEncoding.EncodeToString([]byte("short")))}, []string{"page-token.k1.key does not hold a base64 secret"}},
		{"active names a missing key", map[string][]byte{"token-signing.k1.pem": ed25519PEM(t), "token-signing.active": []byte("k2")},
			[]string{`token-signing.active names "k2", but there is no token-signing.k2.pem`}},
		{"active without keys", map[string][]byte{"page-token.active": []byte("k2")}, []string{`page-token.active names "k2", but there is no page-token key`}},
		{"empty active", map[string][]byte{"token-signing.k1.pem": ed25519PEM(t), "token-signing.active": []byte("\n")}, []string{"token-signing.active: does not hold a key ID"}},
		{"one key under two kids", map[string][]byte{"official-signing.a.pem": key, "official-signing.b.pem": key}, []string{"official-signing.a.pem and official-signing.b.pem hold the same key"}},
		{"every problem at once", map[string][]byte{"notes.txt": []byte("x"), "token-signing.k1.pem": []byte("garbage")},
			[]string{"notes.txt: not a key file", "token-signing.k1.pem does not hold"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := LoadDir(dir)
			if !errors.Is(err, ErrBadKeyDir) {
				t.Fatalf("err = %v, want ErrBadKeyDir", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, err := LoadDir(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("a missing directory was accepted")
	}
	sub := t.TempDir()
	if err := os.Mkdir(filepath.Join(sub, "token-signing.k1.pem"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(sub); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a directory named as a key: %v", err)
	}
}

func TestJWKS(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{"token-signing.a.pem": ed25519PEM(t), "token-signing.b.pem": ed25519PEM(t), "bundle-signing.a.pem": ed25519PEM(t)})
	d, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pubs []PublicKey
	for _, k := range d.Token.Keys {
		pubs = append(pubs, PublicKey{ID: "token-" + k.ID, Purpose: PurposeToken, Key: k.Public})
	}
	pubs = append(pubs, PublicKey{ID: "bundle-a", Purpose: PurposeBundle, Key: d.Bundle.Active.Public})
	set, err := NewJWKS(pubs...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The members a JOSE library needs, by their RFC names.
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 3 {
		t.Fatalf("%d keys, want 3: %s", len(raw.Keys), b)
	}
	for i, k := range raw.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" || k["kid"] != pubs[i].ID || k["seleksi_purpose"] != string(pubs[i].Purpose) {
			t.Errorf("key %d: %v", i, k)
		}
	}
	back, err := ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range back {
		if k.ID != pubs[i].ID || !k.Key.Equal(pubs[i].Key) || k.Purpose != pubs[i].Purpose {
			t.Errorf("key %d read back as %+v", i, k)
		}
	}
	if _, err := NewJWKS(pubs[0], pubs[0]); err == nil {
		t.Fatal("two keys with one ID were accepted")
	}
	if _, err := ParseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"x"}]}`)); err == nil {
		t.Fatal("a short key was accepted")
	}
}
