package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
)

// SniffInspector is the least content check: the type from the file's magic number (PDF,
// JPEG or PNG; never the client's word), the size and the SHA-256. It does not parse the
// file: a PDF with JavaScript or a truncated image passes it. The thorough check
// (internal/documents/scan: PDF structure, encryption, embedded files, image dimensions) takes
// its place where it is available.
type SniffInspector struct{}

var _ Inspector = SniffInspector{}

// Codes of SniffInspector's refusals.
const CodeBadContent = "document.bad_content"

// Inspect implements Inspector.
func (SniffInspector) Inspect(ctx context.Context, r io.ReaderAt, size int64, p Policy) (Result, error) {
	if size <= 0 {
		return Result{}, &Rejection{Code: CodeEmpty, Status: http.StatusUnprocessableEntity}
	}
	if p.MaxBytes > 0 && size > p.MaxBytes {
		return Result{}, tooLarge(p.MaxBytes)
	}
	head := make([]byte, min(size, 512))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return Result{}, fmt.Errorf("read file head: %w", err)
	}
	var typ string
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		typ = "application/pdf"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		typ = "image/jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		typ = "image/png"
	default:
		return Result{}, &Rejection{Code: CodeTypeNotAllowed, Params: map[string]string{
			"type": http.DetectContentType(head), "allowed": joinTypes(p.MediaTypes)}, Status: http.StatusUnsupportedMediaType}
	}
	// A PDF ends with its %%EOF marker (a truncated upload does not).
	if typ == "application/pdf" {
		tail := make([]byte, min(size, 1024))
		if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil && err != io.EOF {
			return Result{}, fmt.Errorf("read file tail: %w", err)
		}
		if !bytes.Contains(tail, []byte("%%EOF")) {
			return Result{}, &Rejection{Code: CodeBadContent, Params: map[string]string{"type": "PDF"}, Status: http.StatusUnprocessableEntity}
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return Result{}, fmt.Errorf("hash file: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	return Result{MediaType: typ, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func joinTypes(ts []string) string {
	var b bytes.Buffer
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t)
	}
	return b.String()
}
