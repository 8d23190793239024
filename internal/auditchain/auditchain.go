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
