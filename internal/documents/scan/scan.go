// Package scan decides whether an uploaded file is a document Seleksi accepts: a PDF, JPEG or
// PNG that is what its bytes say it is, within a selection's limits, with nothing hidden in it
// (scripts, embedded files, a second format riding along). It trusts nothing the client
// claimed: not the name, not the declared type, not the digest. It reads bytes and returns
// either what it learned from them (Result) or a Rejection that the edges render for the
// candidate in their language. It holds no state, touches no store and writes nothing.
package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Media types a selection may accept.
const (
	PDF  = "application/pdf"
	JPEG = "image/jpeg"
	PNG  = "image/png"
)

// Defaults of a Policy's zero fields.
const (
	DefaultMaxBytes  = 5 << 20
	DefaultMaxPages  = 100
	DefaultMaxPixels = 50_000_000
)

// Policy is what a selection accepts. Zero fields take the defaults above.
type Policy struct {
	MaxBytes   int64    // the largest file, in bytes
	MediaTypes []string // a subset of PDF, JPEG and PNG; all three when empty
	MaxPages   int      // the most pages a PDF may have
	MaxPixels  int64    // the most pixels (width x height) an image may have: a decompression-bomb guard
}

// Result is what the server learned from the bytes.
type Result struct {
	MediaType     string // sniffed: PDF, JPEG or PNG
	Size          int64
	SHA256        string // hex, over the exact bytes
	Pages         int    // PDFs
	Width, Height int    // images
}

// withDefaults is p with its zero fields filled in, or an error when p names a media type
// this package cannot check (a programming or configuration error, not the candidate's).
func (p Policy) withDefaults() (Policy, error) {
	if p.MaxBytes <= 0 {
		p.MaxBytes = DefaultMaxBytes
	}
	if p.MaxPages <= 0 {
		p.MaxPages = DefaultMaxPages
	}
	if p.MaxPixels <= 0 {
		p.MaxPixels = DefaultMaxPixels
	}
	if len(p.MediaTypes) == 0 {
		p.MediaTypes = []string{PDF, JPEG, PNG}
	}
	for _, t := range p.MediaTypes {
		if t != PDF && t != JPEG && t != PNG {
			return p, fmt.Errorf("scan: policy names media type %q; only %s, %s and %s can be checked", t, PDF, JPEG, PNG)
		}
	}
	return p, nil
}

func (p Policy) allows(mediaType string) bool { return slices.Contains(p.MediaTypes, mediaType) }

// allowedNames lists the accepted formats for people, in a fixed order.
func (p Policy) allowedNames() string {
	var names []string
	for _, t := range []string{PDF, JPEG, PNG} {
		if p.allows(t) {
			names = append(names, formatName(t))
		}
	}
	return strings.Join(names, ", ")
}

// headLen is how much of the start of a file is sniffed: PDF readers look for the header in
// the first 1024 bytes, and browsers sniff at most 512.
const headLen = 1024

// chunkLen is the read size of the streaming pass (hash and markers).
const chunkLen = 64 << 10

// Inspect reads the whole file (size bytes from r) and returns what it is, or a *Rejection
// saying why a candidate may not upload it. Any other error (the reader failed, ctx ended)
// is the server's, not the candidate's. Memory stays bounded: the digest is streamed, images
// are decoded only when their header is within MaxPixels, and PDFs are at most MaxBytes.
func Inspect(ctx context.Context, r io.ReaderAt, size int64, p Policy) (Result, error) {
	p, err := p.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if size <= 0 {
		return Result{}, reject(CodeEmpty)
	}
	if size > p.MaxBytes {
		return Result{}, reject(CodeTooLarge, "size", strconv.FormatInt(size, 10), "max", strconv.FormatInt(p.MaxBytes, 10))
	}
	head := make([]byte, min(size, headLen))
	if _, err := r.ReadAt(head, 0); err != nil && !(errors.Is(err, io.EOF) && len(head) == int(size)) {
		return Result{}, fmt.Errorf("scan: read the head: %w", err)
	}
	mediaType, rej := sniff(head, p)
	if rej != nil {
		return Result{}, rej
	}
	pass, err := stream(ctx, r, size, mediaType)
	if err != nil {
		return Result{}, err
	}
	res := Result{MediaType: mediaType, Size: size, SHA256: hex.EncodeToString(pass.sum)}
	if rej := embeddedZIP(r, size, mediaType); rej != nil {
		return Result{}, rej
	}
	switch mediaType {
	case PDF:
		err = inspectPDF(ctx, r, size, p, pass, &res)
	default:
		err = inspectImage(ctx, r, size, p, mediaType, &res)
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// sniff names the file's format from its first bytes, or rejects it. The three accepted
// formats are recognised by their own magic numbers at offset 0 (a PDF whose header is
// later, which readers accept, is refused: whatever comes before it is another format);
// anything else is named by net/http's sniffer so that the candidate learns what they
// actually sent (an HTML page saved as .pdf, a ZIP, a GIF).
func sniff(head []byte, p Policy) (string, *Rejection) {
	var mediaType string
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		mediaType = PDF
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		mediaType = PNG
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		mediaType = JPEG
	}
	if mediaType != "" {
		if !p.allows(mediaType) {
			return "", reject(CodeTypeNotAllowed, "type", formatName(mediaType), "allowed", p.allowedNames())
		}
		if other := markerIn(head[1:], headMarkers); other != "" && other != formatName(mediaType) {
			return "", reject(CodePolyglot, "type", formatName(mediaType), "other", other)
		}
		return mediaType, nil
	}
	if bytes.Contains(head, []byte("%PDF-")) {
		return "", reject(CodePDFHeaderOffset)
	}
	detected, _, _ := strings.Cut(http.DetectContentType(head), ";")
	if detected == "application/octet-stream" {
		return "", reject(CodeUnrecognized, "allowed", p.allowedNames())
	}
	return "", reject(CodeTypeNotAllowed, "type", formatName(detected), "allowed", p.allowedNames())
}

// formatName is a format's name for people: the same in Indonesian and English.
func formatName(mediaType string) string {
	names := map[string]string{
		PDF: "PDF", JPEG: "JPEG", PNG: "PNG",
		"image/gif": "GIF", "image/webp": "WebP", "image/bmp": "BMP", "image/x-icon": "ICO",
		"text/html": "HTML", "text/xml": "XML", "text/plain": "TXT",
		"application/zip": "ZIP", "application/x-gzip": "GZIP", "application/x-rar-compressed": "RAR",
		"application/vnd.ms-fontobject": "EOT", "application/postscript": "PostScript",
		"application/wasm": "WebAssembly", "application/ogg": "OGG",
		"audio/mpeg": "MP3", "audio/wave": "WAV", "video/mp4": "MP4", "video/webm": "WebM", "video/avi": "AVI",
		"font/ttf": "TTF", "font/otf": "OTF", "font/woff": "WOFF", "font/woff2": "WOFF2",
	}
	if n, ok := names[mediaType]; ok {
		return n
	}
	return mediaType
}

// A marker is a byte sequence that betrays another format riding inside a file.
type marker struct {
	text string // lower case; matched case-insensitively
	what string // the other format's name for people
}

// headMarkers are looked for in the first bytes of every accepted file, where browsers and
// PDF readers sniff: HTML or script there makes a file that a browser may render as a page.
var headMarkers = []marker{
	{"<html", "HTML"}, {"<!doctype html", "HTML"}, {"<script", "HTML"}, {"<iframe", "HTML"},
	{"<body", "HTML"}, {"<svg", "SVG"}, {"<?php", "PHP"}, {"%pdf-", "PDF"},
}

// markerIn is the format named by the first marker found in b (case-insensitively), or "".
func markerIn(b []byte, ms []marker) string {
	lower := bytes.ToLower(b)
	for _, m := range ms {
		if bytes.Contains(lower, []byte(m.text)) {
			return m.what
		}
	}
	return ""
}

// passResult is what the streaming pass learned.
type passResult struct {
	sum        []byte
	lastEOF    int64  // offset of the last "%%EOF", or -1
	lastData   int64  // offset of the last byte that is not padding (whitespace or NUL), or -1
	pdfMarkers string // the first strong marker of another format in a PDF, or ""
	pdfActive  string // the first raw name of active or embedded content in a PDF, or ""
	pdfEncrypt bool   // a PDF names an /Encrypt dictionary (in its trailer or xref stream)
}

// pdfMarkers are looked for everywhere in a PDF, case-sensitively and long enough that
// compressed bytes do not match them by chance (a false match in a 5 MiB file is below one
// in a million): what a PDF carrying a web page or a script for another interpreter shows.
var pdfMarkers = []marker{
	{"<script", "HTML"}, {"<SCRIPT", "HTML"}, {"<html", "HTML"}, {"<HTML", "HTML"},
	{"<!DOCTYPE html", "HTML"}, {"<!doctype html", "HTML"}, {"<iframe", "HTML"}, {"<?php", "PHP"},
}

// pdfActiveNames are PDF names of scripts and embedded content, looked for in the raw bytes
// too: an object the cross-reference table does not list is invisible to pdfcpu's object
// model, yet a reader that rebuilds a damaged table finds it.
var pdfActiveNames = []marker{{"/JavaScript", CodePDFJavaScript}, {"/EmbeddedFile", CodePDFEmbeddedFiles}, {"/Launch", CodePDFEmbeddedFiles}}

// stream reads the file once in chunks: the SHA-256 of the exact bytes, and, for PDFs, where
// the last %%EOF is and whether strong markers of other formats or active content occur.
// Matches across chunk boundaries are found by keeping the tail of the previous chunk.
func stream(ctx context.Context, r io.ReaderAt, size int64, mediaType string) (passResult, error) {
	res := passResult{lastEOF: -1, lastData: -1}
	h := sha256.New()
	const overlap = 32 // longer than every marker
	buf := make([]byte, overlap+chunkLen)
	carried := 0
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("scan: %w", err)
		}
		n := int(min(int64(chunkLen), size-off))
		if _, err := r.ReadAt(buf[carried:carried+n], off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == size) {
			return res, fmt.Errorf("scan: read at %d: %w", off, err)
		}
		h.Write(buf[carried : carried+n])
		win := buf[:carried+n]
		base := off - int64(carried) // the offset of win[0]
		for i := len(win) - 1; i >= carried; i-- {
			if c := win[i]; !isPadding(c) {
				res.lastData = base + int64(i)
				break
			}
		}
		if mediaType == PDF {
			if i := bytes.LastIndex(win, []byte("%%EOF")); i >= 0 && base+int64(i) > res.lastEOF {
				res.lastEOF = base + int64(i)
			}
			for _, m := range pdfMarkers {
				if res.pdfMarkers == "" && bytes.Contains(win, []byte(m.text)) {
					res.pdfMarkers = m.what
				}
			}
			res.pdfEncrypt = res.pdfEncrypt || bytes.Contains(win, []byte("/Encrypt"))
			for _, m := range pdfActiveNames {
				if res.pdfActive == "" && bytes.Contains(win, []byte(m.text)) {
					res.pdfActive = m.what
				}
			}
		}
		off += int64(n)
		carried = min(overlap, len(win))
		copy(buf, win[len(win)-carried:])
	}
	res.sum = h.Sum(nil)
	return res, nil
}

// isPadding reports whether c may follow a format's end: whitespace and NULs, which some
// scanners and generators pad files with. Anything else after the end is another payload.
func isPadding(c byte) bool {
	switch c {
	case 0, ' ', '\t', '\n', '\r', '\f':
		return true
	}
	return false
}

// afterEnd judges the bytes from end (where the format says the document ends) to size:
// padding is tolerated; anything else is refused, named when it is recognisable as another
// format (a ZIP, a PDF, an HTML page appended to the document), else as extra data.
func afterEnd(r io.ReaderAt, end, size int64, name string) (*Rejection, error) {
	buf := make([]byte, min(size-end, chunkLen))
	for off := end; off < size; off += int64(len(buf)) {
		n := int(min(int64(len(buf)), size-off))
		if _, err := r.ReadAt(buf[:n], off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == size) {
			return nil, fmt.Errorf("scan: read after the end: %w", err)
		}
		for i, c := range buf[:n] {
			if isPadding(c) {
				continue
			}
			rest := make([]byte, min(size-(off+int64(i)), headLen))
			if _, err := r.ReadAt(rest, off+int64(i)); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("scan: read after the end: %w", err)
			}
			// A second picture after a JPEG (cameras' multi-picture format, MPF) is extra
			// data, not another format: "this JPEG also contains a JPEG" would puzzle.
			if other := otherFormat(rest); other != "" && other != name {
				return reject(CodePolyglot, "type", name, "other", other), nil
			}
			return reject(CodeTrailingData, "type", name), nil
		}
	}
	return nil, nil
}

// otherFormat names the format that b starts with or betrays, or "".
func otherFormat(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "PDF"
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "PNG"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "JPEG"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "ZIP"
	}
	if other := markerIn(b, headMarkers); other != "" {
		return other
	}
	detected, _, _ := strings.Cut(http.DetectContentType(b), ";")
	if detected == "application/octet-stream" || detected == "text/plain" {
		return ""
	}
	return formatName(detected)
}

// errOr is rej as an error when there is one, else err.
func errOr(rej *Rejection, err error) error {
	if rej != nil {
		return rej
	}
	return err
}
