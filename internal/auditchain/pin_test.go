package auditchain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The chain hashes and the canonical JSON are persisted and signed: a byte that changes
// breaks every chain and bundle already written. These tests pin both against the
// straightforward implementations they had before they were optimised (kept below,
// verbatim, as the reference), over many random inputs, and against digests of those
// inputs' outputs computed with the reference code, so that a later change to the reference
// itself is caught too.

// referenceHash is Hash as first written.
func referenceHash(l Link) string {
	fields := []string{
		Domain, l.PrevHash, l.SelectionID, strconv.FormatInt(l.Seq, 10), l.WorkflowID, l.UpdateID,
		strconv.FormatInt(l.CommandSeq, 10), l.ActorSubject, l.Role, l.Action, l.Target, l.Reason,
		FormatInstant(l.WorkflowTime), l.PayloadSHA256,
	}
	h := sha256.New()
	var n [8]byte
	for _, f := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// referenceCanonicalJSON is CanonicalJSON as first written.
func referenceCanonicalJSON(v any) ([]byte, error) {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("canonical json: %w", err)
		}
		raw = b
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("null")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("canonical json: data after the document")
	}
	var buf bytes.Buffer
	if err := referenceWrite(&buf, tree); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func referenceWrite(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			referenceString(buf, k)
			buf.WriteByte(':')
			if err := referenceWrite(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := referenceWrite(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		referenceString(buf, x)
	case json.Number:
		buf.WriteString(x.String())
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case nil:
		buf.WriteString("null")
	default:
		return fmt.Errorf("canonical json: unexpected %T", v)
	}
	return nil
}

func referenceString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1)
}

// docGen writes random JSON documents that reach every branch of the encoding: nested
// objects with keys in any order (duplicates too), every kind of number literal, strings
// with control characters, HTML characters, quotes, backslashes, U+2028/U+2029, multi-byte
// and invalid UTF-8, and \u escapes (surrogate pairs and lone surrogates included), with
// random white space between tokens.
type docGen struct{ r *rand.Rand }

var (
	pinNumbers = []string{"0", "-0", "1", "-1", "2.50", "1e10", "1E+2", "-2.5e-3", "12345678901234567890123",
		"0.1", "3.14159265358979323846264338327950288", "100000000000000000000e-20"}
	pinRunes = []rune{'a', 'Z', '0', ' ', '~', '"', '\\', '/', '<', '>', '&', '\'', 0, 1, '\b', '\f', '\n', '\r',
		'\t', 0x1f, 0x7f, 0x80, 0xa0, 'ü', 'é', '漢', '字', 0x2028, 0x2029, 0xfeff, 0xfffd, 0x1f600, 0x10ffff}
)

func (g docGen) ws(b *strings.Builder) {
	for range g.r.IntN(3) {
		b.WriteByte(" \t\n\r"[g.r.IntN(4)])
	}
}

func (g docGen) str(b *strings.Builder) {
	b.WriteByte('"')
	for range g.r.IntN(12) {
		switch k := g.r.IntN(10); {
		case k < 4:
			b.WriteByte(byte('a' + g.r.IntN(26)))
		case k == 4:
			// A raw byte that is not valid UTF-8 on its own.
			b.WriteByte(byte(0x80 + g.r.IntN(0x80)))
		case k == 5:
			fmt.Fprintf(b, `\u%04x`, g.r.IntN(0x10000))
		case k == 6:
			b.WriteString([]string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\ud83d\ude00`, `\ud800`}[g.r.IntN(10)])
		default:
			r := pinRunes[g.r.IntN(len(pinRunes))]
			switch {
			case r < 0x20:
				fmt.Fprintf(b, `\u%04x`, r)
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

func (g docGen) value(b *strings.Builder, depth int) {
	g.ws(b)
	k := g.r.IntN(8)
	if depth > 4 && k < 2 {
		k += 2
	}
	switch k {
	case 0:
		b.WriteByte('{')
		n := g.r.IntN(6)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			g.ws(b)
			if g.r.IntN(8) == 0 {
				b.WriteString(`"dup"`) // duplicate keys: the last one wins
			} else {
				g.str(b)
			}
			g.ws(b)
			b.WriteByte(':')
			g.value(b, depth+1)
		}
		g.ws(b)
		b.WriteByte('}')
	case 1:
		b.WriteByte('[')
		n := g.r.IntN(6)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			g.value(b, depth+1)
		}
		g.ws(b)
		b.WriteByte(']')
	case 2, 3:
		g.str(b)
	case 4, 5:
		b.WriteString(pinNumbers[g.r.IntN(len(pinNumbers))])
	case 6:
		b.WriteString([]string{"true", "false"}[g.r.IntN(2)])
	default:
		b.WriteString("null")
	}
	g.ws(b)
}

func (g docGen) doc() []byte {
	var b strings.Builder
	g.value(&b, 0)
	return []byte(b.String())
}

// pinDigest folds outputs into one digest, hard-coded below from the reference code.
type pinDigest struct{ h []byte }

func (p *pinDigest) add(b []byte) {
	sum := sha256.Sum256(append(p.h, b...))
	p.h = sum[:]
}

func (p *pinDigest) String() string { return hex.EncodeToString(p.h) }

func TestCanonicalJSONPinnedToReference(t *testing.T) {
	g := docGen{rand.New(rand.NewPCG(15, 2026))}
	var got, ref pinDigest
	valid := 0
	for i := range 20000 {
		doc := g.doc()
		if i%7 == 0 {
			doc = append(doc, " {}"...) // data after the document
		}
		if i%11 == 0 && len(doc) > 2 {
			doc = doc[:len(doc)/2] // a truncated document
		}
		want, wantErr := referenceCanonicalJSON(json.RawMessage(doc))
		have, haveErr := CanonicalJSON(json.RawMessage(doc))
		if (wantErr == nil) != (haveErr == nil) || !bytes.Equal(want, have) {
			t.Fatalf("document %d %q:\nreference %q, %v\ncurrent   %q, %v", i, doc, want, wantErr, have, haveErr)
		}
		if wantErr == nil {
			valid++
			if !utf8.Valid(want) {
				t.Fatalf("document %d: canonical form %q is not valid UTF-8", i, want)
			}
		}
		ref.add(want)
		got.add(have)
	}
	if valid < 10000 {
		t.Fatalf("only %d of the random documents were valid JSON: the generator is broken", valid)
	}
	// Computed with referenceCanonicalJSON; if the reference code is edited, this catches it.
	if want := "c8c07b7c23affd3d7f686337fa0440b28650515a56b2fa238eb02132b92530f9"; ref.String() != want {
		t.Errorf("digest of the reference outputs = %s, want %s", ref.String(), want)
	}
}

// Go values take the json.Marshal path first; their canonical form must not change either.
func TestCanonicalJSONOfGoValuesPinnedToReference(t *testing.T) {
	type inner struct {
		Z    string            `json:"z"`
		A    []int             `json:"a,omitempty"`
		M    map[string]string `json:"m"`
		When time.Time         `json:"when"`
	}
	type outer struct {
		ID     string          `json:"id"`
		Score  float64         `json:"score"`
		Raw    json.RawMessage `json:"raw,omitempty"`
		Inner  inner           `json:"inner"`
		Ptr    *inner          `json:"ptr"`
		Labels []string        `json:"labels"`
	}
	r := rand.New(rand.NewPCG(7, 15))
	g := docGen{r}
	for i := range 3000 {
		var sb strings.Builder
		g.str(&sb)
		var s string
		_ = json.Unmarshal([]byte(sb.String()), &s)
		v := outer{ID: s, Score: r.NormFloat64() * 1e3, Inner: inner{Z: s + "<&>", M: map[string]string{s: "x", "b": s}},
			Labels: []string{s, strings.ToUpper(s)}}
		if i%2 == 0 {
			v.Raw = json.RawMessage(g.doc())
			if !json.Valid(v.Raw) {
				v.Raw = nil
			}
			v.Ptr = &inner{A: []int{i, -i}, When: time.Unix(int64(i)*7919, int64(i)).UTC()}
		}
		want, wantErr := referenceCanonicalJSON(v)
		have, haveErr := CanonicalJSON(v)
		if (wantErr == nil) != (haveErr == nil) || !bytes.Equal(want, have) {
			t.Fatalf("value %d %+v:\nreference %q, %v\ncurrent   %q, %v", i, v, want, wantErr, have, haveErr)
		}
	}
}

func TestHashPinnedToReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 15))
	g := docGen{r}
	text := func() string {
		var sb strings.Builder
		g.str(&sb)
		s := sb.String()
		return s[1 : len(s)-1] // the raw bytes between the quotes, valid UTF-8 or not
	}
	var got, ref pinDigest
	zones := []*time.Location{time.UTC, time.FixedZone("WIB", 7*3600), time.FixedZone("WIT", 9*3600)}
	for i := range 20000 {
		l := Link{PrevHash: text(), SelectionID: text(), Seq: r.Int64() >> r.IntN(64), WorkflowID: text(), UpdateID: text(),
			CommandSeq: r.Int64N(1 << 20), ActorSubject: text(), Role: text(), Action: text(), Target: text(),
			Reason: strings.Repeat(text(), r.IntN(40)), PayloadSHA256: text()}
		if i%3 == 0 {
			l.Seq = -l.Seq
		}
		if i%5 != 0 {
			l.WorkflowTime = time.Unix(r.Int64N(1<<34)-1<<30, r.Int64N(1e9)).In(zones[i%3])
		}
		want, have := referenceHash(l), Hash(l)
		if want != have {
			t.Fatalf("link %d %+v: reference %s, current %s", i, l, want, have)
		}
		ref.add([]byte(want))
		got.add([]byte(have))
	}
	if want := "5080852221976357be69f6aa1165f5bc7f4bdd4d8d7403ea30cddddbdee8b578"; ref.String() != want {
		t.Errorf("digest of the reference hashes = %s, want %s", ref.String(), want)
	}
}

// The documents the decoder treats in its own way: trailing closers it accepts, white space
// that only bytes.TrimSpace counts, depths at and over the decoder's limit.
func TestCanonicalJSONEdgesPinnedToReference(t *testing.T) {
	docs := []string{`{} ]`, `[1] }`, `"x" ]]`, "\u00a0", "\u0085 ", " \t\n\r", ``, `{"a":1}}`, `nul`, `01`, `1.`, `-`, `"\ud800\udc00"`,
		`{"é":1,"e":2,"\u00e9":3}`, `{"a":{"b":1,"a":2},"a":[{"z":0,"y":1}]}`, "\"\u2028\u2029\"", `"\u2028"`, "\ufeff{}",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 2000) + "1" + strings.Repeat("}", 2000)}
	for _, d := range docs {
		want, wantErr := referenceCanonicalJSON([]byte(d))
		have, haveErr := CanonicalJSON([]byte(d))
		if (wantErr == nil) != (haveErr == nil) || !bytes.Equal(want, have) {
			t.Errorf("%.40q:\nreference %.80q, %v\ncurrent   %.80q, %v", d, want, wantErr, have, haveErr)
		}
		if wantErr != nil && haveErr != nil && wantErr.Error() != haveErr.Error() {
			t.Errorf("%.40q: error %q, reference %q", d, haveErr, wantErr)
		}
	}
}
