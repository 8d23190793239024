// Package blob keeps document files: immutable objects under keys that the caller derives from
// their content, on the local filesystem (the embedded default) or in S3-compatible object
// storage (production). Backends know nothing of documents, owners or access; they store bytes.
package blob

import (
	"context"
	"errors"
	"io"
	"regexp"
	"time"
)

// ErrNotFound is returned when no object has the key.
var ErrNotFound = errors.New("blob: not found")

// ErrInvalidKey is returned for a key outside the alphabet below.
var ErrInvalidKey = errors.New("blob: invalid key")

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is one place documents are kept. Objects are immutable: Put of an existing key
// replaces it with what must be the same bytes, since keys are content digests.
type Store interface {
	// Put stores the reader's bytes under key; size is the exact length, or -1 when unknown.
	// The object appears whole or not at all.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open reads an object; the caller closes it. ErrNotFound when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes an object. ErrNotFound when there is none.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes an object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Check reports whether the store is reachable, for readiness.
	Check(ctx context.Context) error
}

// keyPattern is what keys may contain: lowercase path segments, never "." or "..", so that a
// key maps to the same object on every backend and never escapes the filesystem root. A
// segment becomes a file name on the filesystem (and on posix-backed S3 servers), hence at
// most 255 bytes.
var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,254}(/[a-z0-9][a-z0-9._-]{0,254})*$`)

// ValidKey reports whether key may name an object.
func ValidKey(key string) bool { return len(key) <= 512 && keyPattern.MatchString(key) }
