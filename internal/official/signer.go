package official

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/bkpsdm/seleksi/internal/keys"
)

// Signing scheme of the default signer, stated in the public key listing so that anyone can
// check a document offline: the signature is Ed25519 (RFC 8032) over the 32-byte SHA-256 of the
// PDF file, stored and served detached, as its 64 raw bytes.
const AlgorithmEd25519SHA256 = "Ed25519-SHA256"

// ErrBadSignature is a signature that does not match the document, or an unknown key.
var ErrBadSignature = errors.New("official: signature does not verify")

// Signer signs documents. The signature is detached, not embedded (PAdES): a PAdES signature
// is a CMS SignedData that names the signer's X.509 certificate, and the service's key has
// none. A self-signed certificate would carry no legal weight (PP 71/2019 recognises
// certificates of a certified authority such as BSrE) and PDF readers would show it as an
// unknown signer; the one Go library (github.com/digitorus/pdfsign) has no release. An agency
// that plugs in BSrE gets its certificate, and PAdES belongs with that signer.
//
// Signer signs documents. The default signs with a key in the data directory; an agency plugs
// in its certified signature service (BSrE) by implementing this interface.
type Signer interface {
	// KeyID names the key the next signature is made with.
	KeyID() string
	// Algorithm names the signature scheme (see AlgorithmEd25519SHA256).
	Algorithm() string
	// Sign returns a detached signature of the document's bytes.
	Sign(ctx context.Context, document []byte) ([]byte, error)
	// Verify checks a detached signature made with keyID; ErrBadSignature when it does not
	// match or the key is unknown.
	Verify(ctx context.Context, keyID string, document, signature []byte) error
	// PublicKeys lists the keys that signatures can be checked against, current and retired.
	PublicKeys() []PublicKey
}

// PublicKey is a published verification key.
type PublicKey struct {
	ID        string `json:"keyId"`
	Algorithm string `json:"algorithm"`
	// PEM is the SubjectPublicKeyInfo in PEM; Raw the key's bytes in base64 (standard).
	PEM string `json:"pem"`
	Raw string `json:"raw"`
}

// Ed25519Signer signs with one Ed25519 key and verifies against it and any retired keys.
type Ed25519Signer struct {
	current keys.SigningKey
	known   map[string]ed25519.PublicKey
	public  []PublicKey
}

var _ Signer = (*Ed25519Signer)(nil)

// NewEd25519Signer signs with current; retired are older public keys whose signatures still
// verify after a rotation.
func NewEd25519Signer(current keys.SigningKey, retired ...ed25519.PublicKey) (*Ed25519Signer, error) {
	s := &Ed25519Signer{current: current, known: map[string]ed25519.PublicKey{}}
	for _, pub := range append([]ed25519.PublicKey{current.Public}, retired...) {
		id := keys.KeyID(pub)
		if _, dup := s.known[id]; dup {
			continue
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("official: encode public key %s: %w", id, err)
		}
		s.known[id] = pub
		s.public = append(s.public, PublicKey{
			ID: id, Algorithm: AlgorithmEd25519SHA256,
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
			Raw: base64.StdEncoding.EncodeToString(pub),
		})
	}
	return s, nil
}

// KeyID implements Signer. Documents name their key by the ID derived from its public half
// (keys.KeyID), whatever a key directory calls the file: that is the ID the store registers
// and documents issued before key directories carry.
func (s *Ed25519Signer) KeyID() string { return keys.KeyID(s.current.Public) }

// Algorithm implements Signer.
func (s *Ed25519Signer) Algorithm() string { return AlgorithmEd25519SHA256 }

// Sign implements Signer.
func (s *Ed25519Signer) Sign(_ context.Context, document []byte) ([]byte, error) {
	sum := sha256.Sum256(document)
	return ed25519.Sign(s.current.Private, sum[:]), nil
}

// Verify implements Signer.
func (s *Ed25519Signer) Verify(_ context.Context, keyID string, document, signature []byte) error {
	pub, ok := s.known[keyID]
	if !ok {
		return fmt.Errorf("%w: unknown key %q", ErrBadSignature, keyID)
	}
	sum := sha256.Sum256(document)
	if !ed25519.Verify(pub, sum[:], signature) {
		return ErrBadSignature
	}
	return nil
}

// PublicKeys implements Signer.
func (s *Ed25519Signer) PublicKeys() []PublicKey { return append([]PublicKey(nil), s.public...) }
