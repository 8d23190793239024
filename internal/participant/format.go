// Package participant owns participant numbers: the format an agency configures for the
// numbers printed on proofs of registration and invitations, and the rendering of one number
// from its parts. It is pure: the store assigns the sequence under the selection's lock and
// calls Number with it.
package participant

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultFormat is the format of a deployment that configures none: the year, the
// selection's own ID and a four-digit sequence, such as 2026-sel-jpt-01-0007.
const DefaultFormat = "{year}-{selection}-{seq:4}"

// maxWidth bounds {seq:N}: more than nine digits would never be filled and only makes the
// number hard to read aloud at a venue's door.
const maxWidth = 9

// Format is a parsed participant number format. Its zero value is not usable; use Parse.
type Format struct {
	src   string
	parts []part
}

// part is a literal text or a placeholder.
type part struct {
	literal string
	kind    string // "", "year", "selection" or "seq"
	width   int    // of seq: the least number of digits, zero-padded
}

// Parse checks a format: literal text with the placeholders {year} (four digits),
// {selection} (the selection's ID) and {seq} or {seq:N} (the sequence within the selection,
// zero-padded to N digits). {seq} must appear exactly once, since it is what makes numbers
// unique within a selection; literal text may hold letters, digits and the separators
// - / . _ and space, so that numbers survive printing, QR codes and file names.
func Parse(s string) (Format, error) {
	f := Format{src: s}
	seqs := 0
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			open = len(rest)
		}
		if lit := rest[:open]; lit != "" {
			if err := checkLiteral(lit); err != nil {
				return Format{}, fmt.Errorf("participant number format %q: %w", s, err)
			}
			f.parts = append(f.parts, part{literal: lit})
		}
		rest = rest[open:]
		if rest == "" {
			break
		}
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return Format{}, fmt.Errorf("participant number format %q: a { without its }", s)
		}
		p, err := placeholder(rest[1:end])
		if err != nil {
			return Format{}, fmt.Errorf("participant number format %q: %w", s, err)
		}
		if p.kind == "seq" {
			seqs++
		}
		f.parts = append(f.parts, p)
		rest = rest[end+1:]
	}
	if seqs != 1 {
		return Format{}, fmt.Errorf("participant number format %q: want {seq} or {seq:N} exactly once, found %d", s, seqs)
	}
	return f, nil
}

func checkLiteral(lit string) error {
	for _, r := range lit {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-/._ ", r):
		default:
			return fmt.Errorf("%q is not allowed outside a placeholder (letters, digits, - / . _ and space are)", r)
		}
	}
	return nil
}

func placeholder(name string) (part, error) {
	switch name {
	case "year", "selection":
		return part{kind: name}, nil
	case "seq":
		return part{kind: "seq"}, nil
	}
	if w, ok := strings.CutPrefix(name, "seq:"); ok {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > maxWidth {
			return part{}, fmt.Errorf("{%s}: want a width from 1 to %d", name, maxWidth)
		}
		return part{kind: "seq", width: n}, nil
	}
	return part{}, fmt.Errorf("{%s} is not a placeholder (want {year}, {selection}, {seq} or {seq:N})", name)
}

// String returns the format as configured.
func (f Format) String() string { return f.src }

// ErrUnset is returned by Number on the zero Format.
var ErrUnset = errors.New("participant: no number format")

// Number renders the number of the seq-th application (from 1) of selection, submitted in
// year (in the agency's time zone, so that a submission on the night of 31 December is
// numbered as the candidate saw the date).
func (f Format) Number(year int, selection string, seq int) (string, error) {
	if len(f.parts) == 0 {
		return "", ErrUnset
	}
	if seq < 1 {
		return "", fmt.Errorf("participant: sequence %d: want 1 or more", seq)
	}
	var b strings.Builder
	for _, p := range f.parts {
		switch p.kind {
		case "":
			b.WriteString(p.literal)
		case "year":
			fmt.Fprintf(&b, "%04d", year)
		case "selection":
			b.WriteString(selection)
		case "seq":
			fmt.Fprintf(&b, "%0*d", p.width, seq)
		}
	}
	return b.String(), nil
}
