// Package doctest makes documents that pass the service's content checks, for tests that
// upload files: a one-page PDF of about the size asked for, its bytes varied by a seed so
// that every candidate's file has its own digest.
package doctest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
)

// PDF is a well-formed one-page PDF of at least size bytes (a few hundred bytes of structure
// and the rest a page content stream of comments), unique per seed. The content is limited
// to hexadecimal digits so that no byte sequence in it can look like script, markup or an
// embedded file to a content check.
func PDF(size int, seed uint64) []byte {
	const hexDigits = "0123456789abcdef"
	payloadLen := max(size-420, 64)
	payload := make([]byte, 0, payloadLen+payloadLen/64+2)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for len(payload) < payloadLen {
		payload = append(payload, '%')
		for range 63 {
			payload = append(payload, hexDigits[rng.IntN(16)])
		}
		payload = append(payload, '\n')
	}

	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
	}
	offsets := make([]int, 0, 4)
	for i, o := range objects {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	offsets = append(offsets, b.Len())
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d >>\nstream\n", len(payload))
	b.Write(payload)
	b.WriteString("\nendstream\nendobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
