package scan

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// noisyJPEG is a JPEG of at least n bytes: a noisy picture (like a phone photo of a
// document) compresses badly, so its size grows with its dimensions.
func noisyJPEG(b testing.TB, n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	for w := 512; ; w += 128 {
		img := image.NewRGBA(image.Rect(0, 0, w, w*3/4))
		for y := range img.Rect.Dy() {
			for x := range w {
				v := uint8(128 + (x+y)%64 + int(rng.IntN(48)))
				img.Set(x, y, color.RGBA{v, v - uint8(rng.IntN(16)), v, 255})
			}
		}
		if j := jpegBytes(b, img, 92); len(j) >= n {
			return j
		}
	}
}

// scanPDF is a PDF of about n bytes: one page per scanned image, each an image XObject
// holding a JPEG (DCTDecode), which is what a scanner's PDF is.
func scanPDF(b testing.TB, n int) []byte {
	j := noisyJPEG(b, n/4)
	cfg, _, err := image.DecodeConfig(bytes.NewReader(j))
	if err != nil {
		b.Fatal(err)
	}
	var extras []string
	pages := (n + len(j) - 1) / len(j)
	for range pages {
		extras = append(extras, fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream",
			cfg.Width, cfg.Height, len(j), j))
	}
	// Every page draws the first image; the others are there for their bytes, as in a
	// multi-page scan whose pages share one resource dictionary.
	return pdfDoc{pages: pages, content: "q 595 0 0 842 0 0 cm /Im0 Do Q", page: "/Resources << /XObject << /Im0 4 0 R >> >>", extras: extras}.bytes()
}

func benchmarkInspect(b *testing.B, data []byte, mediaType string) {
	res, err := inspect(b, data, Policy{})
	if err != nil || res.MediaType != mediaType {
		b.Fatalf("%+v %v", res, err)
	}
	b.Logf("%d bytes: %+v", len(data), res)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inspect(context.Background(), bytes.NewReader(data), int64(len(data)), Policy{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspectPDF: a scanner-like PDF of about 1 MiB.
func BenchmarkInspectPDF(b *testing.B) { benchmarkInspect(b, scanPDF(b, 1<<20), PDF) }

// BenchmarkInspectJPEG: a photo-like JPEG of about 1 MiB.
func BenchmarkInspectJPEG(b *testing.B) { benchmarkInspect(b, noisyJPEG(b, 1<<20), JPEG) }
