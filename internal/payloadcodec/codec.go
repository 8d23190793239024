// Package payloadcodec owns the encryption of Temporal payloads: an AES-256-GCM
// converter.PayloadCodec whose keys carry IDs, so that keys rotate (the newest key
// encrypts, every configured key decrypts), and the loading of those keys from a key file
// or directory (a mounted Kubernetes Secret) or, in the embedded default, from a key file
// created in the data directory on first start.
//
// Workflow inputs, update arguments, activity inputs and results, memos and query answers
// name candidates (through the store's records they refer to, and sometimes directly), and
// Temporal keeps them in its persistence and in every exported history. With the codec in
// the client's data converter they reach Temporal only as ciphertext. Payloads without the
// codec's encoding (histories recorded before encryption was on, or written by clients
// without it) are passed through unchanged when decoding, so old histories still replay.
//
// Large payloads are compressed (zlib) before they are encrypted. A selection's state and
// its stage commands grow with its applicants, and Temporal refuses a payload over 2 MB: a
// 5,000-application selection's state passes 6 MB of JSON in screening, which compresses
// about twentyfold. Compression happens inside the encryption and is marked with an encoding
// of this codec's own (EncodingCompressed), so only payloads that authenticate and that this
// codec compressed are ever decompressed, and never beyond MaxDecompressed. A binary from
// before compression cannot read compressed payloads: once a release that compresses is
// rolled out, rolling back past it is not possible (deploy/README.md).
package payloadcodec

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload. The names are those of Temporal's encryption samples,
// so tools that know them (and people reading a raw history) recognise the payloads.
const (
	// Encoding is the "encoding" metadata of an encrypted payload.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key the payload was encrypted with.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher, so that a later format can be told apart.
	MetadataCipher = "encryption-cipher"
	// Cipher is this codec's MetadataCipher.
	Cipher = "AES256-GCM"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// ErrUnknownKey is returned when a payload names a key the ring does not hold.
var ErrUnknownKey = errors.New("payloadcodec: the payload's key is not configured")

// ErrAuthentication is returned when a payload does not decrypt: it was altered, or the
// key with its ID is not the key it was encrypted with.
var ErrAuthentication = errors.New("payloadcodec: the payload failed authentication (altered, or encrypted with another key of that ID)")

// Key is one AES-256 key with its ID.
type Key struct {
	ID     string
	Secret []byte
}

// Codec encrypts payloads with its active key and decrypts them with any of its keys.
type Codec struct {
	active string
	aeads  map[string]cipher.AEAD
}

// compressAbove is the size of payload data from which compression is tried: below it the
// saving is a few bytes and the cost a compressor per payload.
const compressAbove = 1 << 10

// compressLevel is zlib's fastest level. The large payloads are a selection's state and its
// stage commands (a screening batch's record of a thousand checklists is about 1.4 MB of
// JSON): at the default level compressing one took about 15 times as long as at this one,
// on the path every committee command waits for, for output (about 1.5% of the JSON instead
// of 1%) that stays far below Temporal's 2 MB limit. zlib streams say nothing of the level
// they were written at, so payloads compressed at the default level still decode.
const compressLevel = zlib.BestSpeed

// EncodingCompressed marks, inside the encryption, a payload this codec compressed: its data
// is the zlib-compressed wire form of the original payload.
const EncodingCompressed = "binary/seleksi-zlib"

// MaxDecompressed bounds what one compressed payload may inflate to. Temporal keeps a whole
// history under 50 MB, so a real payload stays far below it.
const MaxDecompressed = 128 << 20

// compress returns p compressed when that makes it smaller, p otherwise.
func compress(p *commonpb.Payload) (*commonpb.Payload, error) {
	plain, err := proto.Marshal(p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, compressLevel)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(plain) {
		return p, nil
	}
	return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingCompressed)}, Data: buf.Bytes()}, nil
}

// decompress undoes compress; payloads without its encoding are returned unchanged.
func decompress(p *commonpb.Payload) (*commonpb.Payload, error) {
	if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingCompressed {
		return p, nil
	}
	r, err := zlib.NewReader(bytes.NewReader(p.GetData()))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	plain, err := io.ReadAll(io.LimitReader(r, MaxDecompressed+1))
	if err != nil {
		return nil, err
	}
	if len(plain) > MaxDecompressed {
		return nil, fmt.Errorf("payloadcodec: a compressed payload inflates beyond %d bytes", MaxDecompressed)
	}
	var out commonpb.Payload
	if err := proto.Unmarshal(plain, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New builds a codec over keys. active is the ID of the key that encrypts; empty chooses the
// greatest ID in lexical order, so IDs that start with the date they were made (as the
// generated ones do) make the newest key encrypt.
func New(keys []Key, active string) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("payloadcodec: no keys")
	}
	c := &Codec{aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if !ValidKeyID(k.ID) {
			return nil, fmt.Errorf("payloadcodec: invalid key ID %q: want 1 to 64 of A-Z a-z 0-9 . _ - not starting with a dot", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("payloadcodec: key %s has %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("payloadcodec: key ID %s given twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: key %s: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: key %s: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	if active == "" {
		for id := range c.aeads {
			active = max(active, id)
		}
	}
	if _, ok := c.aeads[active]; !ok {
		return nil, fmt.Errorf("payloadcodec: the active key %q is not among the configured keys %v", active, c.KeyIDs())
	}
	c.active = active
	return c, nil
}

// ActiveKeyID is the ID of the key new payloads are encrypted with.
func (c *Codec) ActiveKeyID() string { return c.active }

// KeyIDs lists the IDs of every key the codec decrypts with, sorted.
func (c *Codec) KeyIDs() []string {
	ids := make([]string, 0, len(c.aeads))
	for id := range c.aeads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// DataConverter is the SDK's default data converter with this codec under it: what every
// Temporal client, worker and replayer of Seleksi uses when encryption is on.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// additionalData binds the ciphertext to the format and the key ID: a payload whose key ID
// was edited fails authentication even if the named key existed.
func additionalData(keyID string) []byte { return []byte("seleksi-payload-v1\x00" + keyID) }

// Encode encrypts each payload whole (its metadata and its data) with the active key: the
// result's data is the random 96-bit nonce followed by the sealed payload.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if len(p.GetData()) >= compressAbove {
			z, err := compress(p)
			if err != nil {
				return nil, fmt.Errorf("payloadcodec: compress payload %d: %w", i, err)
			}
			p = z
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: encode payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("payloadcodec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.active),
				MetadataCipher:             []byte(Cipher),
			},
			Data: aead.Seal(nonce, nonce, plain, additionalData(c.active)),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec encrypted, with the key each names, and returns
// every other payload unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !Encrypted(p) {
			out[i] = p
			continue
		}
		d, err := c.decodeOne(p)
		if err != nil {
			return nil, fmt.Errorf("payload %d: %w", i, err)
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) decodeOne(p *commonpb.Payload) (*commonpb.Payload, error) {
	if cph := string(p.GetMetadata()[MetadataCipher]); cph != "" && cph != Cipher {
		return nil, fmt.Errorf("payloadcodec: unknown cipher %q", cph)
	}
	id := string(p.GetMetadata()[MetadataKeyID])
	aead, ok := c.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: key ID %q (configured: %v)", ErrUnknownKey, id, c.KeyIDs())
	}
	data := p.GetData()
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrAuthentication
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], additionalData(id))
	if err != nil {
		return nil, ErrAuthentication
	}
	var d commonpb.Payload
	if err := proto.Unmarshal(plain, &d); err != nil {
		return nil, fmt.Errorf("payloadcodec: decrypted payload: %w", err)
	}
	// Payloads encrypted before compression was on, and small ones, are not compressed.
	z, err := decompress(&d)
	if err != nil {
		return nil, fmt.Errorf("payloadcodec: decompress payload: %w", err)
	}
	return z, nil
}

// Encrypted reports whether p carries this codec's encoding.
func Encrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == Encoding
}

// ValidKeyID reports whether id can name a key: 1 to 64 letters, digits, '.', '_' or '-',
// not starting with a dot (a mounted Secret's directory holds "..data" and the like, which
// are not keys).
func ValidKeyID(id string) bool {
	if id == "" || len(id) > 64 || id[0] == '.' {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
