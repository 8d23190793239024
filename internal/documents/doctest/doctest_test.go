package doctest

import (
	"bytes"
	"context"
	"testing"

	"github.com/bkpsdm/seleksi/internal/documents/scan"
)

// TestPDFPassesTheContentCheck: the files tests upload are accepted by the real check, at
// the sizes tests use, and differ by seed.
func TestPDFPassesTheContentCheck(t *testing.T) {
	for _, size := range []int{100, 4 << 10, 1 << 20, 5 << 20} {
		b := PDF(size, uint64(size))
		if len(b) < size {
			t.Errorf("PDF(%d) is %d bytes", size, len(b))
		}
		res, err := scan.Inspect(context.Background(), bytes.NewReader(b), int64(len(b)), scan.Policy{MaxBytes: int64(len(b))})
		if err != nil {
			t.Fatalf("PDF(%d) refused: %v", size, err)
		}
		if res.MediaType != "application/pdf" || res.Pages != 1 {
			t.Errorf("PDF(%d): %+v", size, res)
		}
	}
	if bytes.Equal(PDF(1000, 1), PDF(1000, 2)) {
		t.Error("two seeds gave the same file")
	}
}
