// Package auditchain owns the tamper-evident encoding of Seleksi's audit log: the canonical
// JSON that command payloads are digested in, and the hash that links each audit event to
// the one before it. The store writes the chain with it and internal/audit verifies chains
// with it, so the two can never disagree; it is small and dependency-free so that the
// command-line client can verify bundles without linking the store's database drivers.
package auditchain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Domain is the first field of every hashed encoding: it keeps chain hashes apart from any
// other SHA-256 in the system and names the version of the encoding, so that events hashed
// under this one stay verifiable if a later version changes it.
const Domain = "seleksi-audit-chain/v1"

// TimeLayout writes instants in the hashed encoding: UTC, always six fractional digits.
// Instants are first truncated to the microsecond, because PostgreSQL keeps no more, and a
// value read back from the store must hash the same as the value written.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Link is what one audit event's hash covers.
type Link struct {
	PrevHash      string
	SelectionID   string
	Seq           int64
	WorkflowID    string
	UpdateID      string
	CommandSeq    int64
	ActorSubject  string
	Role          string
	Action        string
	Target        string
	Reason        string
	WorkflowTime  time.Time
	PayloadSHA256 string
}

// Hash is the lower-case hex SHA-256 of the concatenation, in this order, of these fields,
// each written as its length in bytes (8-byte big-endian unsigned integer) followed by its
// UTF-8 bytes:
//
//	Domain, PrevHash, SelectionID, Seq, WorkflowID, UpdateID, CommandSeq,
//	ActorSubject, Role, Action, Target, Reason, WorkflowTime, PayloadSHA256
//
// Seq and CommandSeq are decimal without leading zeros ("0" for zero); WorkflowTime is
// FormatInstant's encoding. The length prefixes make the encoding unambiguous: no two
// different field lists encode to the same bytes, whatever the fields contain.
func Hash(l Link) string {
	// The encoding is built in one buffer (on the stack for events of ordinary size) and
	// hashed at once: the field list, the decimal strings, the time string and the writes
	// through the hash.Hash interface each cost an allocation per event, and verifying a
	// mass selection's chain hashes hundreds of thousands of events.
	var stack [512]byte
	enc := appendField(stack[:0], Domain)
	enc = appendField(enc, l.PrevHash)
	enc = appendField(enc, l.SelectionID)
	enc = appendInt(enc, l.Seq)
	enc = appendField(enc, l.WorkflowID)
	enc = appendField(enc, l.UpdateID)
	enc = appendInt(enc, l.CommandSeq)
	enc = appendField(enc, l.ActorSubject)
	enc = appendField(enc, l.Role)
	enc = appendField(enc, l.Action)
	enc = appendField(enc, l.Target)
	enc = appendField(enc, l.Reason)
	enc = appendInstant(enc, l.WorkflowTime)
	enc = appendField(enc, l.PayloadSHA256)
	sum := sha256.Sum256(enc)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// appendField appends one field of Hash's encoding: its length, then its bytes.
func appendField(enc []byte, f string) []byte {
	enc = binary.BigEndian.AppendUint64(enc, uint64(len(f)))
	return append(enc, f...)
}

// appendInt appends an integer field as decimal text.
func appendInt(enc []byte, v int64) []byte {
	enc = binary.BigEndian.AppendUint64(enc, 0)
	at := len(enc)
	enc = strconv.AppendInt(enc, v, 10)
	binary.BigEndian.PutUint64(enc[at-8:at], uint64(len(enc)-at))
	return enc
}

// appendInstant appends an instant field as FormatInstant writes it.
func appendInstant(enc []byte, t time.Time) []byte {
	enc = binary.BigEndian.AppendUint64(enc, 0)
	if t.IsZero() {
		return enc
	}
	at := len(enc)
	enc = t.UTC().Truncate(time.Microsecond).AppendFormat(enc, TimeLayout)
	binary.BigEndian.PutUint64(enc[at-8:at], uint64(len(enc)-at))
	return enc
}

// FormatInstant writes t as the hashed encoding does: UTC truncated to the microsecond with
// six fractional digits, or "" for the zero time.
func FormatInstant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format(TimeLayout)
}

// CanonicalJSON encodes v as canonical JSON: object keys sorted by their UTF-8 bytes, no
// insignificant white space, numbers exactly as written, strings escaped as encoding/json
// does without HTML escaping. A json.RawMessage or []byte is taken as a document and
// re-encoded. Two values that encode to the same JSON content always give the same bytes,
// whatever their key order, spacing or Go type, which is what makes payload digests
// reproducible by an auditor.
func CanonicalJSON(v any) ([]byte, error) {
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
	if json.Valid(raw) {
		c := canonicalizer{in: raw, out: make([]byte, 0, len(raw))}
		if c.value(); !c.failed {
			return c.out, nil
		}
	}
	// What json.Valid refuses goes through the decoder, which words the error (and takes
	// the few documents it accepts with something after them, such as "{} ]").
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
	if err := writeCanonical(&buf, tree); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeCanonical(buf *bytes.Buffer, v any) error {
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
			writeString(buf, k)
			buf.WriteByte(':')
			if err := writeCanonical(buf, x[k]); err != nil {
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
			if err := writeCanonical(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, x)
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

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	// Encode never fails for a string; it appends a newline, which is trimmed.
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1)
}

// canonicalizer writes the canonical form of a document that json.Valid accepted, reading
// its bytes once instead of decoding it into maps and re-encoding every string through an
// encoder of its own. The output is the same as decoding with json.Decoder (UseNumber) and
// writing the tree with writeCanonical: numbers and literals are copied as written; a string
// whose bytes encoding/json would leave alone (no escape, valid UTF-8, no U+2028 or U+2029)
// is copied too, and any other is decoded and re-encoded by encoding/json itself; an
// object's members are sorted by their decoded keys' bytes, and of duplicate keys the last
// is kept, as a map would keep it. TestCanonicalJSONPinnedToReference holds it to that.
type canonicalizer struct {
	in  []byte
	pos int
	out []byte
	// members is a stack of the members of the objects being written; each object sorts
	// its own, above those of the objects that contain it.
	members []member
	scratch []byte
	// strBuf and enc escape the strings that need it, as encoding/json does.
	strBuf bytes.Buffer
	enc    *json.Encoder
	// failed sends the document to the decoder's path (see str).
	failed bool
}

// member is one object member: its decoded key and where its "key":value lies in out.
type member struct {
	key        []byte
	start, end int
}

func (c *canonicalizer) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canonicalizer) value() {
	c.skipSpace()
	switch c.in[c.pos] {
	case '{':
		c.object()
	case '[':
		c.array()
	case '"':
		c.str()
	default:
		// A number, true, false or null: copied as written.
		start := c.pos
		for c.pos < len(c.in) {
			switch c.in[c.pos] {
			case ' ', '\t', '\n', '\r', ',', ']', '}':
			default:
				c.pos++
				continue
			}
			break
		}
		c.out = append(c.out, c.in[start:c.pos]...)
	}
	c.skipSpace()
}

func (c *canonicalizer) array() {
	c.pos++
	c.out = append(c.out, '[')
	c.skipSpace()
	if c.in[c.pos] == ']' {
		c.pos++
		c.out = append(c.out, ']')
		return
	}
	for {
		c.value()
		if c.in[c.pos] == ']' {
			c.pos++
			c.out = append(c.out, ']')
			return
		}
		c.pos++ // ','
		c.out = append(c.out, ',')
	}
}

func (c *canonicalizer) object() {
	c.pos++
	c.out = append(c.out, '{')
	c.skipSpace()
	if c.in[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		return
	}
	base, start := len(c.members), len(c.out)
	for {
		c.skipSpace()
		if len(c.members) > base {
			c.out = append(c.out, ',')
		}
		m := member{start: len(c.out)}
		m.key = c.str()
		c.skipSpace()
		c.pos++ // ':'
		c.out = append(c.out, ':')
		c.value()
		m.end = len(c.out)
		c.members = append(c.members, m)
		if c.in[c.pos] == '}' {
			c.pos++
			break
		}
		c.pos++ // ','
	}
	ms := c.members[base:]
	if !slices.IsSortedFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) }) || hasDuplicateKey(ms) {
		// Stable, so that of equal keys the one written last stays last and is kept.
		slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		c.scratch = append(c.scratch[:0], c.out[start:]...)
		c.out = c.out[:start]
		first := true
		for i, m := range ms {
			if i+1 < len(ms) && bytes.Equal(m.key, ms[i+1].key) {
				continue
			}
			if !first {
				c.out = append(c.out, ',')
			}
			first = false
			c.out = append(c.out, c.scratch[m.start-start:m.end-start]...)
		}
	}
	c.members = c.members[:base]
	c.out = append(c.out, '}')
}

// hasDuplicateKey reports whether sorted members repeat a key.
func hasDuplicateKey(ms []member) bool {
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(ms[i-1].key, ms[i].key) {
			return true
		}
	}
	return false
}

// str writes the string at c.pos canonically and returns its decoded bytes.
func (c *canonicalizer) str() []byte {
	start := c.pos
	c.pos++
	plain, ascii := true, true
	for {
		b := c.in[c.pos]
		if b == '"' {
			break
		}
		if b == '\\' {
			plain = false
			c.pos++
		} else if b >= utf8.RuneSelf {
			ascii = false
		}
		c.pos++
	}
	c.pos++
	lit := c.in[start:c.pos]
	content := lit[1 : len(lit)-1]
	if plain && !ascii {
		// encoding/json rewrites invalid UTF-8 and escapes U+2028 and U+2029.
		plain = utf8.Valid(content) && !bytes.Contains(content, []byte("\u2028")) && !bytes.Contains(content, []byte("\u2029"))
	}
	if plain {
		c.out = append(c.out, lit...)
		return content
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		// Not expected once json.Valid has accepted the document; should it happen, the
		// decoder's path decides.
		c.failed = true
		return nil
	}
	if c.enc == nil {
		c.enc = json.NewEncoder(&c.strBuf)
		c.enc.SetEscapeHTML(false)
	}
	c.strBuf.Reset()
	_ = c.enc.Encode(s) // never fails for a string; it appends a newline, dropped below
	c.out = append(c.out, c.strBuf.Bytes()[:c.strBuf.Len()-1]...)
	return []byte(s)
}
