package official

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/bkpsdm/seleksi/internal/store"
)

// RegisteredKeys are the signing keys the workers registered in the store: what API replicas
// publish and check signatures with, holding no private key. It verifies AlgorithmEd25519SHA256
// signatures; a plugged-in signer with another scheme verifies its own.
type RegisteredKeys struct {
	store *store.Store
}

// NewRegisteredKeys reads the keys registered in st.
func NewRegisteredKeys(st *store.Store) *RegisteredKeys { return &RegisteredKeys{store: st} }

// PublicKeys lists the registered keys, the newest (the current) first.
func (k *RegisteredKeys) PublicKeys(ctx context.Context) ([]PublicKey, error) {
	rows, err := k.store.ListOfficialKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PublicKey, len(rows))
	for i, r := range rows {
		out[i] = PublicKey{ID: r.ID, Algorithm: r.Algorithm, PEM: r.PEM, Raw: r.PublicKey}
	}
	return out, nil
}

// Verify checks a detached signature with a registered key; ErrBadSignature when it does not
// match, the key is unknown or of another scheme.
func (k *RegisteredKeys) Verify(ctx context.Context, keyID string, document, signature []byte) error {
	keys, err := k.PublicKeys(ctx)
	if err != nil {
		return err
	}
	for _, p := range keys {
		if p.ID != keyID {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(p.Raw)
		if p.Algorithm != AlgorithmEd25519SHA256 || err != nil || len(raw) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: key %q is not an Ed25519 key", ErrBadSignature, keyID)
		}
		sum := sha256.Sum256(document)
		if !ed25519.Verify(ed25519.PublicKey(raw), sum[:], signature) {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: unknown key %q", ErrBadSignature, keyID)
}

// registerKeys records the signer's public keys in the store, once per issuer.
func (i *Issuer) registerKeys(ctx context.Context) error {
	if i.registered.Load() {
		return nil
	}
	for _, p := range i.signer.PublicKeys() {
		if err := i.store.RegisterOfficialKey(ctx, store.OfficialKey{ID: p.ID, Algorithm: p.Algorithm, PublicKey: p.Raw, PEM: p.PEM,
			CreateTime: i.opts.Now()}); err != nil {
			return err
		}
	}
	i.registered.Store(true)
	return nil
}
