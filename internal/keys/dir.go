package keys

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// A key directory holds the keys of a deployment of several processes (API replicas,
// workers), mounted into each from one Kubernetes Secret so that they all sign and verify
// with the same keys. Its layout, one file per key (documented in README.md):
//
//	token-signing.<kid>.pem     Ed25519 private key, PKCS #8 PEM: bearer tokens (JWT)
//	bundle-signing.<kid>.pem    Ed25519 private key, PKCS #8 PEM: audit export bundles
//	official-signing.<kid>.pem  Ed25519 private key, PKCS #8 PEM: official documents
//	page-token.<kid>.key        at least 32 random bytes in base64: list page tokens
//	<purpose>.active            optional: the kid of the purpose's key that signs
//
// A kid is 1 to 64 letters, digits, '-' or '_' (a Kubernetes Secret's key allows these; the
// dot separates the parts of the name). Several keys of one purpose are a rotation: every one
// verifies, and one signs: the one the purpose's .active file names, or else the one with the
// greatest kid in byte order (so kids that are dates, 2026-12-01, make the newest sign).
// Names starting with a dot are skipped (Kubernetes keeps its ..data links there); any other
// file is an error, so that a misnamed key is not silently ignored.

// Purpose is what the keys of a key directory are for.
type Purpose string

// Purposes.
const (
	PurposeToken     Purpose = "token-signing"
	PurposeBundle    Purpose = "bundle-signing"
	PurposeOfficial  Purpose = "official-signing"
	PurposePageToken Purpose = "page-token"
)

// Purposes lists every purpose, in a stable order.
func Purposes() []Purpose {
	return []Purpose{PurposeToken, PurposeBundle, PurposeOfficial, PurposePageToken}
}

// ext is the file name extension of a purpose's keys: PEM for signing keys, .key for secrets.
func (p Purpose) ext() string {
	if p == PurposePageToken {
		return ".key"
	}
	return ".pem"
}

// FileName is the name of the purpose's key kid in a key directory.
func (p Purpose) FileName(kid string) string { return string(p) + "." + kid + p.ext() }

// ActiveFileName is the name of the purpose's optional marker naming the key that signs.
func (p Purpose) ActiveFileName() string { return string(p) + ".active" }

// kidPattern is what a key ID may look like.
var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidKeyID reports whether kid may name a key in a key directory.
func ValidKeyID(kid string) bool { return kidPattern.MatchString(kid) }

// Ring is the Ed25519 keys of one purpose: every one verifies, Active signs.
type Ring struct {
	// Keys are sorted by ID.
	Keys   []SigningKey
	Active SigningKey
}

// Empty reports a ring without keys.
func (r Ring) Empty() bool { return len(r.Keys) == 0 }

// Lookup returns the key with the ID.
func (r Ring) Lookup(kid string) (SigningKey, bool) {
	i := slices.IndexFunc(r.Keys, func(k SigningKey) bool { return k.ID == kid })
	if i < 0 {
		return SigningKey{}, false
	}
	return r.Keys[i], true
}

// Secret is a symmetric key with its ID.
type Secret struct {
	ID    string
	Bytes []byte
}

// SecretRing is the secrets of one purpose: every one verifies, Active signs.
type SecretRing struct {
	// Keys are sorted by ID.
	Keys   []Secret
	Active Secret
}

// Empty reports a ring without keys.
func (r SecretRing) Empty() bool { return len(r.Keys) == 0 }

// All returns the secrets' bytes, the active one first (the order a verifier tries them in).
func (r SecretRing) All() [][]byte {
	out := [][]byte{r.Active.Bytes}
	for _, s := range r.Keys {
		if s.ID != r.Active.ID {
			out = append(out, s.Bytes)
		}
	}
	return out
}

// Directory is the keys read from a key directory. A purpose without files has an empty ring;
// which purposes a process needs is for it to check (Require).
type Directory struct {
	Path                    string
	Token, Bundle, Official Ring
	PageToken               SecretRing
}

// ErrBadKeyDir wraps every problem found in a key directory.
var ErrBadKeyDir = errors.New("keys: bad key directory")

// LoadDir reads the key directory at path (see the layout above). Every problem is reported,
// each naming its file, wrapped in ErrBadKeyDir.
func LoadDir(path string) (*Directory, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read key directory: %w", err)
	}
	signing := map[Purpose][]SigningKey{}
	secrets := []Secret{}
	active := map[Purpose]string{}
	var errs []error
	bad := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...)))
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		file := filepath.Join(path, name)
		// Stat follows the symbolic links a mounted Secret is made of.
		fi, err := os.Stat(file)
		if err != nil {
			bad(name, "%v", err)
			continue
		}
		if !fi.Mode().IsRegular() {
			bad(name, "not a regular file")
			continue
		}
		purpose, kid, isActive, ok := parseName(name)
		if !ok {
			bad(name, "not a key file: want <purpose>.<kid>.pem (token-signing, bundle-signing, official-signing), page-token.<kid>.key or <purpose>.active, a kid being 1 to 64 letters, digits, '-' or '_'")
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			bad(name, "%v", err)
			continue
		}
		switch {
		case isActive:
			kid := strings.TrimSpace(string(b))
			if !ValidKeyID(kid) {
				bad(name, "does not hold a key ID (1 to 64 letters, digits, '-' or '_')")
				continue
			}
			active[purpose] = kid
		case purpose == PurposePageToken:
			s, err := parseSecret(name, b)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			secrets = append(secrets, Secret{ID: kid, Bytes: s})
		default:
			k, err := parseEd25519(name, b)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			k.ID = kid
			signing[purpose] = append(signing[purpose], k)
		}
	}
	d := &Directory{Path: path}
	for _, p := range []struct {
		purpose Purpose
		ring    *Ring
	}{{PurposeToken, &d.Token}, {PurposeBundle, &d.Bundle}, {PurposeOfficial, &d.Official}} {
		r, err := newRing(p.purpose, signing[p.purpose], active[p.purpose])
		if err != nil {
			errs = append(errs, err)
		}
		*p.ring = r
	}
	r, err := newSecretRing(secrets, active[PurposePageToken])
	if err != nil {
		errs = append(errs, err)
	}
	d.PageToken = r
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w %s: %w", ErrBadKeyDir, path, errors.Join(errs...))
	}
	return d, nil
}

// Require reports, as one error, every purpose of ps that has no key in the directory.
func (d *Directory) Require(ps ...Purpose) error {
	var missing []string
	for _, p := range ps {
		empty := false
		switch p {
		case PurposeToken:
			empty = d.Token.Empty()
		case PurposeBundle:
			empty = d.Bundle.Empty()
		case PurposeOfficial:
			empty = d.Official.Empty()
		case PurposePageToken:
			empty = d.PageToken.Empty()
		}
		if empty {
			missing = append(missing, p.FileName("<kid>"))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w %s: no %s", ErrBadKeyDir, d.Path, strings.Join(missing, ", no "))
	}
	return nil
}

// parseName splits a key directory's file name into purpose and kid, or recognizes a
// purpose's .active marker.
func parseName(name string) (p Purpose, kid string, active, ok bool) {
	for _, p := range Purposes() {
		rest, found := strings.CutPrefix(name, string(p)+".")
		if !found {
			continue
		}
		if rest == "active" {
			return p, "", true, true
		}
		kid, found := strings.CutSuffix(rest, p.ext())
		if !found || !ValidKeyID(kid) {
			return "", "", false, false
		}
		return p, kid, false, true
	}
	return "", "", false, false
}

func newRing(p Purpose, ks []SigningKey, active string) (Ring, error) {
	slices.SortFunc(ks, func(a, b SigningKey) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ks {
		for _, o := range ks[:i] {
			if o.Public.Equal(ks[i].Public) {
				return Ring{}, fmt.Errorf("%s and %s hold the same key", p.FileName(o.ID), p.FileName(ks[i].ID))
			}
		}
	}
	r := Ring{Keys: ks}
	if len(ks) == 0 {
		if active != "" {
			return Ring{}, fmt.Errorf("%s names %q, but there is no %s key", p.ActiveFileName(), active, p)
		}
		return r, nil
	}
	r.Active = ks[len(ks)-1]
	if active != "" {
		k, ok := r.Lookup(active)
		if !ok {
			return Ring{}, fmt.Errorf("%s names %q, but there is no %s", p.ActiveFileName(), active, p.FileName(active))
		}
		r.Active = k
	}
	return r, nil
}

func newSecretRing(ss []Secret, active string) (SecretRing, error) {
	p := PurposePageToken
	slices.SortFunc(ss, func(a, b Secret) int { return cmp.Compare(a.ID, b.ID) })
	for i := range ss {
		for _, o := range ss[:i] {
			if bytes.Equal(o.Bytes, ss[i].Bytes) {
				return SecretRing{}, fmt.Errorf("%s and %s hold the same key", p.FileName(o.ID), p.FileName(ss[i].ID))
			}
		}
	}
	r := SecretRing{Keys: ss}
	if len(ss) == 0 {
		if active != "" {
			return SecretRing{}, fmt.Errorf("%s names %q, but there is no %s key", p.ActiveFileName(), active, p)
		}
		return r, nil
	}
	r.Active = ss[len(ss)-1]
	if active != "" {
		i := slices.IndexFunc(ss, func(s Secret) bool { return s.ID == active })
		if i < 0 {
			return SecretRing{}, fmt.Errorf("%s names %q, but there is no %s", p.ActiveFileName(), active, p.FileName(active))
		}
		r.Active = ss[i]
	}
	return r, nil
}

// SingleRing is a ring of one key: the embedded default's keys of the data directory.
func SingleRing(k SigningKey) Ring { return Ring{Keys: []SigningKey{k}, Active: k} }
