package store

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/bkpsdm/seleksi/internal/auditchain"
)

// CanonicalJSON encodes v as canonical JSON (see auditchain.CanonicalJSON), the encoding
// payload digests and definition digests are computed over.
func CanonicalJSON(v any) ([]byte, error) { return auditchain.CanonicalJSON(v) }

// sha256Hex is the lower-case hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// digestJSON is the SHA-256 of the canonical JSON of v.
func digestJSON(v any) (string, []byte, error) {
	b, err := CanonicalJSON(v)
	if err != nil {
		return "", nil, err
	}
	return sha256Hex(b), b, nil
}

// instant normalizes a time to what both databases store: UTC with microsecond precision
// (PostgreSQL's resolution). Every instant passes through it before it is written or hashed,
// so that a value read back compares and hashes equal to the one written.
func instant(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// nullTime maps the zero time to SQL NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := instant(t)
	return &u
}

// fromNull reads a nullable time column.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// sortedCopy returns a sorted copy of ss.
func sortedCopy(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}
