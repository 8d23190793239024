package app

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/keys"
)

// JWKSPath is where the API publishes its verification keys: token and bundle keys.
const JWKSPath = "/.well-known/jwks.json"

// keySource is where this process's keys come from: the key directory every replica mounts
// (-keys-dir), or, without one, the embedded default's files in the data directory, created
// on first use.
type keySource struct {
	dataDir string
	// dir is nil without -keys-dir.
	dir *keys.Directory
}

// newKeySource reads the key directory, when one is configured, and checks that it holds a
// key of every purpose this process's mode needs: the API signs tokens, bundles and page
// tokens; the worker signs official documents.
func newKeySource(cfg config.Config, logger *slog.Logger) (*keySource, error) {
	s := &keySource{dataDir: cfg.DataDir}
	if cfg.KeysDir == "" {
		if !cfg.Embedded() {
			logger.Warn("no -keys-dir: this process uses the keys of its own data directory, so tokens, page tokens and "+
				"bundle keys are not shared with other replicas / tanpa -keys-dir: kunci diambil dari direktori data proses ini sendiri",
				"data_dir", cfg.DataDir)
		}
		return s, nil
	}
	d, err := keys.LoadDir(cfg.KeysDir)
	if err != nil {
		return nil, err
	}
	var need []keys.Purpose
	if cfg.RunsAPI() {
		need = append(need, keys.PurposeToken, keys.PurposeBundle, keys.PurposePageToken)
	}
	if cfg.RunsWorker() {
		need = append(need, keys.PurposeOfficial)
	}
	if err := d.Require(need...); err != nil {
		return nil, err
	}
	s.dir = d
	logger.Info("keys read from the key directory", "keys_dir", cfg.KeysDir,
		"token_kid", d.Token.Active.ID, "bundle_kid", d.Bundle.Active.ID,
		"official_kid", d.Official.Active.ID, "page_token_kid", d.PageToken.Active.ID)
	return s, nil
}

// pageTokenKeys are the key new page tokens are signed with and the older ones that still
// verify.
func (s *keySource) pageTokenKeys() (active []byte, older [][]byte, err error) {
	if s.dir == nil {
		key, err := keys.LoadOrCreateSecret(s.dataDir, PageTokenKeyFile)
		return key, nil, err
	}
	all := s.dir.PageToken.All()
	return all[0], all[1:], nil
}

// officialKeys are the key official documents are signed with and the retired public keys
// whose signatures still verify.
func (s *keySource) officialKeys() (keys.SigningKey, []ed25519.PublicKey, error) {
	if s.dir == nil {
		k, err := keys.LoadOrCreateEd25519(s.dataDir, OfficialKeyFile)
		return k, nil, err
	}
	r := s.dir.Official
	var retired []ed25519.PublicKey
	for _, k := range r.Keys {
		if k.ID != r.Active.ID {
			retired = append(retired, k.Public)
		}
	}
	return r.Active, retired, nil
}

// tokenKeys mint and verify Seleksi's own bearer tokens.
func (s *keySource) tokenKeys() (*auth.LocalKey, error) {
	if s.dir == nil {
		return auth.LoadOrCreateLocalKey(s.dataDir)
	}
	return auth.NewLocalKey(s.dir.Token)
}

// bundleKeys sign export bundles (the active key) and verify them (all). The embedded
// default signs them with its token key, as it always has, so that bundles exported before
// key directories existed still verify against the key it publishes.
func (s *keySource) bundleKeys(token *auth.LocalKey) keys.Ring {
	if s.dir == nil {
		return keys.SingleRing(token.Active())
	}
	return s.dir.Bundle
}

// jwks is the handler of JWKSPath: every key that verifies tokens, under the kid tokens name,
// and every key that verifies bundles, under the fingerprint bundles record
// (audit.KeyFingerprint). The set is built once: keys change with a restart.
func jwks(token *auth.LocalKey, bundle keys.Ring) (http.Handler, error) {
	pubs := token.PublicKeys()
	for _, k := range bundle.Keys {
		pubs = append(pubs, keys.PublicKey{ID: audit.KeyFingerprint(k.Public), Purpose: keys.PurposeBundle, Key: k.Public})
	}
	set, err := keys.NewJWKS(pubs...)
	if err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	body, err := set.Marshal()
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		// Short enough that a consumer sees a new key soon after the replicas restart with it.
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	}), nil
}
