package payloadcodec

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

func newKey(t *testing.T, id string) Key {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return Key{ID: id, Secret: b}
}

func mustCodec(t *testing.T, active string, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys, active)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clear is what the SDK's default converter makes of a value naming a candidate.
func clear(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const secretName = "Wibisono Zulkarnaen Prasetyokusumo"

func TestRoundTrip(t *testing.T) {
	c := mustCodec(t, "", newKey(t, "20261201-aaaa0001"))
	in := []*commonpb.Payload{clear(t, map[string]string{"name": secretName}), clear(t, nil), clear(t, []byte{0, 1, 2})}
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range enc {
		if !Encrypted(p) || string(p.GetMetadata()[MetadataKeyID]) != "20261201-aaaa0001" || string(p.GetMetadata()[MetadataCipher]) != Cipher {
			t.Errorf("payload %d: metadata %v", i, p.GetMetadata())
		}
		if bytes.Contains(p.GetData(), []byte(secretName)) || bytes.Contains(p.GetData(), []byte("json/plain")) {
			t.Errorf("payload %d carries its content or its encoding in clear", i)
		}
	}
	// Each payload gets its own nonce: the same value twice encrypts differently.
	again, err := c.Encode(in[:1])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again[0].GetData(), enc[0].GetData()) {
		t.Error("the same payload encrypted twice gave the same bytes")
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Errorf("payload %d: decoded %v, want %v", i, dec[i], in[i])
		}
	}
	// Through the data converter, as clients and workers use it.
	dc := c.DataConverter()
	p, err := dc.ToPayload(map[string]string{"name": secretName})
	if err != nil {
		t.Fatal(err)
	}
	if !Encrypted(p) {
		t.Fatalf("the data converter wrote %v", p.GetMetadata())
	}
	var got map[string]string
	if err := dc.FromPayload(p, &got); err != nil || got["name"] != secretName {
		t.Fatalf("the data converter read %v, %v", got, err)
	}
}

func TestRotation(t *testing.T) {
	old, newer := newKey(t, "20250101-00000001"), newKey(t, "20261201-00000002")
	before := mustCodec(t, "", old)
	sealedOld, err := before.Encode([]*commonpb.Payload{clear(t, "lama")})
	if err != nil {
		t.Fatal(err)
	}
	after := mustCodec(t, "", newer, old)
	if after.ActiveKeyID() != newer.ID {
		t.Fatalf("active key %s, want the greatest ID %s", after.ActiveKeyID(), newer.ID)
	}
	sealedNew, err := after.Encode([]*commonpb.Payload{clear(t, "baru")})
	if err != nil {
		t.Fatal(err)
	}
	if id := string(sealedNew[0].GetMetadata()[MetadataKeyID]); id != newer.ID {
		t.Errorf("new payloads are encrypted with %s, want %s", id, newer.ID)
	}
	// Every configured key decrypts: the old payloads still read after rotation.
	for name, p := range map[string]*commonpb.Payload{"old": sealedOld[0], "new": sealedNew[0]} {
		if _, err := after.Decode([]*commonpb.Payload{p}); err != nil {
			t.Errorf("%s payload after rotation: %v", name, err)
		}
	}
	// A process that does not have the new key yet says which key it lacks.
	if _, err := before.Decode(sealedNew); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), newer.ID) {
		t.Errorf("decode with the old ring only: %v, want ErrUnknownKey naming %s", err, newer.ID)
	}
	// The first step of a rotation: the new key is everywhere, the old one still encrypts.
	staged := mustCodec(t, old.ID, newer, old)
	if staged.ActiveKeyID() != old.ID {
		t.Errorf("active %s, want the chosen %s", staged.ActiveKeyID(), old.ID)
	}
	if _, err := New([]Key{old}, "missing"); err == nil {
		t.Error("an active key that is not configured was accepted")
	}
}

func TestTamperDetected(t *testing.T) {
	k := newKey(t, "k1")
	c := mustCodec(t, "", k, newKey(t, "k0"))
	sealed := func() *commonpb.Payload {
		p, err := c.Encode([]*commonpb.Payload{clear(t, map[string]string{"reason": "tidak memenuhi syarat"})})
		if err != nil {
			t.Fatal(err)
		}
		return p[0]
	}
	// Another key under the same ID: a mismatched key file.
	wrong := mustCodec(t, "", Key{ID: k.ID, Secret: bytes.Repeat([]byte{7}, KeySize)})
	tests := []struct {
		name   string
		codec  *Codec
		change func(p *commonpb.Payload)
		want   error
	}{
		{"a flipped ciphertext bit", c, func(p *commonpb.Payload) { p.Data[len(p.Data)-20] ^= 1 }, ErrAuthentication},
		{"a flipped nonce bit", c, func(p *commonpb.Payload) { p.Data[0] ^= 0x80 }, ErrAuthentication},
		{"a truncated payload", c, func(p *commonpb.Payload) { p.Data = p.Data[:10] }, ErrAuthentication},
		{"the key ID changed to another configured key", c, func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k0") }, ErrAuthentication},
		{"an unknown key ID", c, func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k9") }, ErrUnknownKey},
		{"another key under the same ID", wrong, func(*commonpb.Payload) {}, ErrAuthentication},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sealed()
			tc.change(p)
			if _, err := tc.codec.Decode([]*commonpb.Payload{p}); !errors.Is(err, tc.want) {
				t.Fatalf("decode: %v, want %v", err, tc.want)
			}
		})
	}
	p := sealed()
	p.Metadata[MetadataCipher] = []byte("ROT13")
	if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
		t.Error("a payload of an unknown cipher decoded")
	}
}

func TestClearPayloadsPassThrough(t *testing.T) {
	c := mustCodec(t, "", newKey(t, "k1"))
	zlib, err := converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true}).Encode([]*commonpb.Payload{clear(t, "x")})
	if err != nil {
		t.Fatal(err)
	}
	in := []*commonpb.Payload{clear(t, map[string]int{"a": 1}), clear(t, nil), zlib[0], {}}
	out, err := c.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("payload %d was changed: %v", i, out[i])
		}
	}
	// A history recorded before encryption reads through the data converter as before.
	var v map[string]int
	if err := c.DataConverter().FromPayload(in[0], &v); err != nil || v["a"] != 1 {
		t.Errorf("clear payload through the data converter: %v %v", v, err)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []Key
	}{
		{"none", nil},
		{"short", []Key{{ID: "k", Secret: make([]byte, 16)}}},
		{"duplicate", []Key{newKey(t, "k"), newKey(t, "k")}},
		{"bad ID", []Key{newKey(t, "a/b")}},
		{"dot ID", []Key{newKey(t, "..data")}},
		{"long ID", []Key{newKey(t, strings.Repeat("k", 65))}},
	}
	for _, tc := range tests {
		if _, err := New(tc.keys, ""); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestLoad(t *testing.T) {
	k1, k2 := newKey(t, "20250101-a"), newKey(t, "20261201-b")
	b64 := func(k Key) string { return base64.StdEncoding.EncodeToString(k.Secret) }
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("keys.txt", "# comment\n\n"+k1.ID+" "+b64(k1)+"\n  "+k2.ID+"\t"+b64(k2)+"  \n")
	// A Kubernetes Secret mounted as a volume: items are links into a hidden folder.
	write("secret/..2026_12_01/"+k1.ID, b64(k1)+"\n")
	write("secret/..2026_12_01/"+k2.ID, strings.TrimRight(base64.RawStdEncoding.EncodeToString(k2.Secret), "="))
	for _, id := range []string{k1.ID, k2.ID} {
		if err := os.Symlink(filepath.Join("..2026_12_01", id), filepath.Join(dir, "secret", id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("..2026_12_01", filepath.Join(dir, "secret", "..data")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{file, filepath.Join(dir, "secret")} {
		keys, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c, err := New(keys, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.KeyIDs(), ","); got != k1.ID+","+k2.ID || c.ActiveKeyID() != k2.ID {
			t.Errorf("%s: keys %s active %s", path, got, c.ActiveKeyID())
		}
	}
	secret := b64(k1)
	bad := []struct{ name, content string }{
		{"no key", "# nothing\n"},
		{"short key", "k " + base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n"},
		{"three fields", "k " + secret + " extra\n"},
		{"bad ID", "k/1 " + secret + "\n"},
	}
	for _, tc := range bad {
		p := write("bad-"+strings.ReplaceAll(tc.name, " ", "-"), tc.content)
		_, err := Load(p)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error repeats the key: %v", tc.name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path was accepted")
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }
	a, err := LoadOrCreate(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || !strings.HasPrefix(a[0].ID, "20261201-") {
		t.Fatalf("created %v", a)
	}
	b, err := LoadOrCreate(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1 || b[0].ID != a[0].ID || !bytes.Equal(a[0].Secret, b[0].Secret) {
		t.Fatal("the second start read another key")
	}
	for path, want := range map[string]os.FileMode{filepath.Join(dir, KeysDir): 0o700, DefaultPath(dir): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// Rotation in the embedded default: a line appended with a later ID encrypts from the
	// next start; the first key still decrypts.
	line, err := NewKeyLine(now().AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(DefaultPath(dir), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(Options{}, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.ActiveKeyID() != strings.Fields(line)[0] || len(c.KeyIDs()) != 2 {
		t.Errorf("after appending a key: active %s of %v", c.ActiveKeyID(), c.KeyIDs())
	}
	// A damaged key file is an error, never replaced by a new key.
	if err := os.WriteFile(DefaultPath(dir), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, now); err == nil {
		t.Fatal("a damaged key file was accepted or replaced")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, KeysDir)); len(entries) != 1 {
		t.Errorf("the keys folder holds %d files, want the key file alone", len(entries))
	}
}

// TestLargePayloadsCompressed: a selection's state grows with its applicants; past Temporal's
// 2 MB payload limit the workflow could not continue. Large payloads are compressed before
// encryption and come back identical; small ones, and payloads encrypted before compression
// was on, decode as before.
func TestLargePayloadsCompressed(t *testing.T) {
	c := mustCodec(t, "", newKey(t, "20261201-aaaa0001"))
	// A state shaped like a mass selection's: 20,000 applications with their codes.
	type app struct {
		ID, Stage, Outcome string
		Scores             []int
		Checklist          map[string]string
	}
	apps := make([]app, 20000)
	for i := range apps {
		apps[i] = app{ID: fmt.Sprintf("app-%06d", i), Stage: "STAGE_SCREENING", Outcome: "OUTCOME_PENDING",
			Scores: []int{i % 100, (i * 7) % 100}, Checklist: map[string]string{"education": "MET", "age": "MET", "ijazah": "PENDING"}}
	}
	big := clear(t, apps)
	if len(big.GetData()) < 2<<20 {
		t.Fatalf("test state only %d bytes", len(big.GetData()))
	}
	small := clear(t, map[string]string{"name": secretName})
	enc, err := c.Encode([]*commonpb.Payload{big, small})
	if err != nil {
		t.Fatal(err)
	}
	if n := proto.Size(enc[0]); n > 2<<20/4 {
		t.Errorf("a %d-byte state encodes to %d bytes, want compressed well under Temporal's 2 MB", len(big.GetData()), n)
	}
	for i, wantZlib := range []bool{true, false} {
		if got := string(sealed(t, c, enc[i]).GetMetadata()[converter.MetadataEncoding]) == EncodingCompressed; got != wantZlib {
			t.Errorf("payload %d compressed %v, want %v", i, got, wantZlib)
		}
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []*commonpb.Payload{big, small} {
		if !proto.Equal(dec[i], want) {
			t.Errorf("payload %d does not come back identical", i)
		}
	}

	// Encrypted whole, as before compression: decodes unchanged.
	aead := c.aeads[c.active]
	plain, err := proto.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	old := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(c.active), MetadataCipher: []byte(Cipher)},
		Data:     aead.Seal(nonce, nonce, plain, additionalData(c.active)),
	}
	got, err := c.Decode([]*commonpb.Payload{old})
	if err != nil || !proto.Equal(got[0], big) {
		t.Errorf("payload encrypted before compression: %v, identical %v", err, err == nil && proto.Equal(got[0], big))
	}
}

// TestDefaultLevelPayloadsDecode: payloads were compressed at zlib's default level before
// the codec moved to its fastest; histories hold such payloads and must still replay. A
// payload sealed as the codec sealed them then decodes to the same payload.
func TestDefaultLevelPayloadsDecode(t *testing.T) {
	c := mustCodec(t, "", newKey(t, "20261201-aaaa0001"))
	big := clear(t, strings.Repeat(`{"item":"education","status":"REQUIREMENT_STATUS_MET"}`, 20000))
	plain, err := proto.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	inner, err := proto.Marshal(&commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingCompressed)}, Data: buf.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	aead := c.aeads[c.active]
	nonce := make([]byte, aead.NonceSize())
	old := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(c.active), MetadataCipher: []byte(Cipher)},
		Data:     aead.Seal(nonce, nonce, inner, additionalData(c.active)),
	}
	got, err := c.Decode([]*commonpb.Payload{old})
	if err != nil || !proto.Equal(got[0], big) {
		t.Errorf("payload compressed at the default level: %v, identical %v", err, err == nil && proto.Equal(got[0], big))
	}
}

// sealed is the payload inside an encrypted one, before decompression.
func sealed(t *testing.T, c *Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	aead := c.aeads[string(p.GetMetadata()[MetadataKeyID])]
	data := p.GetData()
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], additionalData(string(p.GetMetadata()[MetadataKeyID])))
	if err != nil {
		t.Fatal(err)
	}
	var in commonpb.Payload
	if err := proto.Unmarshal(plain, &in); err != nil {
		t.Fatal(err)
	}
	return &in
}

// TestCompressedPayloadsBounded: only this codec's own compression is undone, and never
// beyond MaxDecompressed. A payload encrypted through the codec endpoint with another
// encoding (the SDK's "binary/zlib") comes back as it was given, not inflated.
func TestCompressedPayloadsBounded(t *testing.T) {
	c := mustCodec(t, "", newKey(t, "20261201-aaaa0001"))
	seal := func(p *commonpb.Payload) *commonpb.Payload {
		t.Helper()
		aead := c.aeads[c.active]
		plain, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		nonce := make([]byte, aead.NonceSize())
		return &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), MetadataKeyID: []byte(c.active), MetadataCipher: []byte(Cipher)},
			Data:     aead.Seal(nonce, nonce, plain, additionalData(c.active)),
		}
	}
	// A bomb: zeros that inflate past the bound.
	var bomb bytes.Buffer
	w := zlib.NewWriter(&bomb)
	inner, err := proto.Marshal(&commonpb.Payload{Data: make([]byte, MaxDecompressed+1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(inner); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decode([]*commonpb.Payload{seal(&commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(EncodingCompressed)}, Data: bomb.Bytes()})}); err == nil ||
		!strings.Contains(err.Error(), "inflates beyond") {
		t.Errorf("a payload inflating past the bound decoded: %v", err)
	}
	foreign := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/zlib")}, Data: bomb.Bytes()}
	got, err := c.Decode([]*commonpb.Payload{seal(foreign)})
	if err != nil || !proto.Equal(got[0], foreign) {
		t.Errorf("a foreign zlib payload: %v, unchanged %v", err, err == nil && proto.Equal(got[0], foreign))
	}
}
