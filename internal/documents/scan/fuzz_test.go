package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// FuzzInspect: Inspect never panics, refuses only with the rejection codes the catalog
// renders, and never accepts a file whose bytes are not of an allowed type (by its magic
// number) or that breaks the policy's limits; what it accepts carries the true digest.
// Seeds: the generated corpus (valid and hostile files) plus testdata/fuzz/FuzzInspect.
func FuzzInspect(f *testing.F) {
	pdf := minimalPDF()
	pngFile := pngBytes(f, 16, 12)
	jpegFile := jpegBytes(f, picture(16, 12), 80)
	for _, seed := range [][]byte{
		pdf, pdfDoc{pages: 3}.bytes(), pdfcpuRewrite(f, pdfDoc{pages: 2}.bytes()),
		encryptedPDF(f, "u", "o"), attachmentPDF(f),
		pdfDoc{catalog: "/OpenAction << /S /JavaScript /JS (x) >>"}.bytes(),
		pdfDoc{catalog: "/Names << /JavaScript 4 0 R >>", extras: []string{"<< /Names [(a) << /S /JavaScript /JS (x) >>] >>"}}.bytes(),
		pdf[:len(pdf)/2], garbledXRef(pdf), cat(pdf, zipBytes(f)),
		pngFile, jpegFile, pngFile[:len(pngFile)-20], jpegFile[:len(jpegFile)-30], pngBomb(100000, 100000),
		cat(pngFile, []byte("<html>")), cat(jpegFile, pdf), withJPEGComment(jpegFile, "<script>"),
		gifBytes(f), zipBytes(f), []byte("<html>%PDF-1.4"), nil,
	} {
		f.Add(seed)
	}
	known := map[string]bool{}
	for _, m := range Codes() {
		known[m.Code] = true
	}
	magic := map[string][]byte{PDF: []byte("%PDF-"), PNG: []byte("\x89PNG\r\n\x1a\n"), JPEG: {0xFF, 0xD8, 0xFF}}
	policies := []Policy{
		{MaxPixels: 1 << 20, MaxPages: 20},
		{MediaTypes: []string{PDF}, MaxPages: 20},
		{MediaTypes: []string{JPEG, PNG}, MaxPixels: 1 << 20},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range policies {
			res, err := Inspect(context.Background(), bytes.NewReader(data), int64(len(data)), p)
			if err != nil {
				r, ok := AsRejection(err)
				if !ok {
					t.Fatalf("not a rejection: %v", err)
				}
				if !known[r.Code] {
					t.Fatalf("rejection code %q is not listed in Codes()", r.Code)
				}
				continue
			}
			full, _ := p.withDefaults()
			if !full.allows(res.MediaType) || !bytes.HasPrefix(data, magic[res.MediaType]) {
				t.Fatalf("accepted as %q under %v", res.MediaType, full.MediaTypes)
			}
			sum := sha256.Sum256(data)
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(data)) {
				t.Fatalf("wrong digest or size: %+v", res)
			}
			switch res.MediaType {
			case PDF:
				if res.Pages < 1 || res.Pages > full.MaxPages {
					t.Fatalf("accepted a PDF of %d pages", res.Pages)
				}
			default:
				if res.Width <= 0 || res.Height <= 0 || int64(res.Width)*int64(res.Height) > full.MaxPixels {
					t.Fatalf("accepted an image of %dx%d", res.Width, res.Height)
				}
			}
		}
	})
}
