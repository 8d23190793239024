package documents

import (
	"context"
	"io"
	"net/http"

	"github.com/bkpsdm/seleksi/internal/documents/scan"
)

// ScanInspector is the content check of finished uploads: internal/documents/scan parses
// each file (PDFs with pdfcpu, images with the standard library) and refuses hostile ones.
type ScanInspector struct{}

var _ Inspector = ScanInspector{}

// Inspect implements Inspector.
func (ScanInspector) Inspect(ctx context.Context, r io.ReaderAt, size int64, p Policy) (Result, error) {
	res, err := scan.Inspect(ctx, r, size, scan.Policy{MaxBytes: p.MaxBytes, MediaTypes: p.MediaTypes, MaxPages: p.MaxPages, MaxPixels: p.MaxPixels})
	if rej, ok := scan.AsRejection(err); ok {
		return Result{}, &Rejection{Code: rej.Code, Params: rej.Params, Status: scanStatus(rej.Code)}
	}
	if err != nil {
		return Result{}, err
	}
	return Result{MediaType: res.MediaType, Size: res.Size, SHA256: res.SHA256, Pages: res.Pages, Width: res.Width, Height: res.Height}, nil
}

// scanStatus is the HTTP status of a refused file: 413 for its size, 415 for its type,
// 422 for what its content holds.
func scanStatus(code string) int {
	switch code {
	case scan.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case scan.CodeTypeNotAllowed, scan.CodeUnrecognized:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusUnprocessableEntity
}
