package scan

import (
	"bytes"
	"cmp"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// pdfDoc describes a PDF built by hand with a correct cross-reference table: object 1 is
// the catalog, 2 the page tree, 3 the content stream shared by the pages, 4.. the extras
// (so that the catalog, the pages and other extras can refer to them by number), then one
// object per page.
type pdfDoc struct {
	pages     int
	catalog   string   // more entries of the catalog
	page      string   // more entries of each page
	extras    []string // objects 4, 5, ... (their bodies)
	content   string   // the content stream; a line of text when empty
	tail      string   // appended after %%EOF
	noEOF     bool
	xrefShift int    // added to the startxref offset (a broken pointer when not zero)
	version   string // of the header; 1.7 when empty
}

func (d pdfDoc) bytes() []byte {
	if d.pages == 0 {
		d.pages = 1
	}
	if d.content == "" {
		d.content = "BT /F1 12 Tf 72 720 Td (Ijazah S2) Tj ET"
	}
	first := 4 + len(d.extras) // the first page's object number
	var kids []string
	for i := range d.pages {
		kids = append(kids, fmt.Sprintf("%d 0 R", first+i))
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R " + d.catalog + " >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), d.pages),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(d.content), d.content),
	}
	objs = append(objs, d.extras...)
	for range d.pages {
		objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "+
			"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> "+d.page+" >>")
	}
	var b bytes.Buffer
	b.WriteString("%PDF-" + cmp.Or(d.version, "1.7") + "\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n", len(objs)+1, xref+d.xrefShift)
	if !d.noEOF {
		b.WriteString("%%EOF\n")
	}
	b.WriteString(d.tail)
	return b.Bytes()
}

func minimalPDF() []byte { return pdfDoc{}.bytes() }

// pdfcpuRewrite reads a PDF with pdfcpu and writes it again (object streams and an xref
// stream, as many generators write them).
func pdfcpuRewrite(t testing.TB, in []byte) []byte {
	t.Helper()
	conf := pdfConfig(Policy{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels})
	var out bytes.Buffer
	if err := api.Optimize(bytes.NewReader(in), &out, conf); err != nil {
		t.Fatalf("pdfcpu optimize: %v", err)
	}
	return out.Bytes()
}

func encryptedPDF(t testing.TB, userPW, ownerPW string) []byte {
	t.Helper()
	conf := pdfConfig(Policy{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels})
	conf.UserPW, conf.OwnerPW = userPW, ownerPW
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(minimalPDF()), &out, conf); err != nil {
		t.Fatalf("pdfcpu encrypt: %v", err)
	}
	return out.Bytes()
}

func attachmentPDF(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payload.exe")
	if err := os.WriteFile(path, []byte("MZ not really a program"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := pdfConfig(Policy{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels})
	var out bytes.Buffer
	if err := api.AddAttachments(bytes.NewReader(minimalPDF()), &out, []string{path}, false, conf); err != nil {
		t.Fatalf("pdfcpu add attachment: %v", err)
	}
	return out.Bytes()
}

func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, picture(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// pngBomb is a valid PNG header declaring w x h pixels, then a few compressed bytes: a
// decoder that trusted the header would allocate w*h*4 bytes.
func pngBomb(w, h uint32) []byte { return pngBombDepth(w, h, 8) }

// pngBombDepth is pngBomb with the bit depth of its RGBA samples (8 or 16).
func pngBombDepth(w, h uint32, depth byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, 6 // RGBA
	b.Write(pngChunk("IHDR", ihdr))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 4096))
	zw.Close()
	b.Write(pngChunk("IDAT", z.Bytes()))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

// withPNGChunk inserts a chunk just before IEND.
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	end := len(p) - 12
	return append(append(append([]byte{}, p[:end]...), pngChunk(typ, data)...), p[end:]...)
}

// withJPEGComment inserts a COM segment right after SOI.
func withJPEGComment(j []byte, comment string) []byte {
	seg := []byte{0xFF, 0xFE, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(comment)+2))
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, comment...)
	return append(out, j[2:]...)
}

func zipBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := newZip(&b)
	w, err := zw.Create("evil.html")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "<script>alert(1)</script>")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gifBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, picture(8, 8), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func inspect(t testing.TB, data []byte, p Policy) (Result, error) {
	t.Helper()
	return Inspect(context.Background(), bytes.NewReader(data), int64(len(data)), p)
}

// TestInspectAccepts: genuine documents pass, with what the server learned from them.
func TestInspectAccepts(t *testing.T) {
	small := pngBytes(t, 64, 48)
	photo := jpegBytes(t, picture(120, 90), 85)
	tests := []struct {
		name          string
		data          []byte
		policy        Policy
		mediaType     string
		pages         int
		width, height int
	}{
		{"minimal PDF", minimalPDF(), Policy{}, PDF, 1, 0, 0},
		{"PDF of 7 pages", pdfDoc{pages: 7}.bytes(), Policy{}, PDF, 7, 0, 0},
		{"PDF at the page limit", pdfDoc{pages: 5}.bytes(), Policy{MaxPages: 5}, PDF, 5, 0, 0},
		{"PDF with object streams (written by pdfcpu)", pdfcpuRewrite(t, pdfDoc{pages: 3}.bytes()), Policy{}, PDF, 3, 0, 0},
		{"PDF with a link to a web page", pdfDoc{page: "/Annots [4 0 R]",
			extras: []string{"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://bkn.go.id/) >> >>"}}.bytes(), Policy{}, PDF, 1, 0, 0},
		{"PDF with CRLF and padding after %%EOF", pdfDoc{tail: "\r\n\x00\x00  \n"}.bytes(), Policy{}, PDF, 1, 0, 0},
		{"PDF 1.2 using a PDF 1.3 feature, as writers do", pdfDoc{version: "1.2", catalog: "/Version /1.2",
			page: "/Resources << /ExtGState << /G1 << /Type /ExtGState /LW 2 >> >> >>"}.bytes(), Policy{}, PDF, 1, 0, 0},
		{"PNG", small, Policy{}, PNG, 0, 64, 48},
		{"PNG with a text chunk", withPNGChunk(small, "tEXt", []byte("Software\x00GIMP 2.10")), Policy{}, PNG, 0, 64, 48},
		{"JPEG", photo, Policy{}, JPEG, 0, 120, 90},
		{"JPEG with a comment", withJPEGComment(photo, "scanned at 300 dpi"), Policy{}, JPEG, 0, 120, 90},
		{"grey JPEG", jpegBytes(t, image.NewGray(image.Rect(0, 0, 31, 17)), 75), Policy{}, JPEG, 0, 31, 17},
		{"JPEG only policy", photo, Policy{MediaTypes: []string{JPEG}}, JPEG, 0, 120, 90},
		{"image at the pixel limit", small, Policy{MaxPixels: 64 * 48}, PNG, 0, 64, 48},
		{"file at the size limit", small, Policy{MaxBytes: int64(len(small))}, PNG, 0, 64, 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := inspect(t, tt.data, tt.policy)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			sum := sha256.Sum256(tt.data)
			want := Result{MediaType: tt.mediaType, Size: int64(len(tt.data)), SHA256: hex.EncodeToString(sum[:]),
				Pages: tt.pages, Width: tt.width, Height: tt.height}
			if res != want {
				t.Errorf("got %+v\nwant %+v", res, want)
			}
		})
	}
}

// TestInspectRejects runs the hostile corpus: every class of file the issue names.
func TestInspectRejects(t *testing.T) {
	pdf := minimalPDF()
	pngFile := pngBytes(t, 64, 48)
	jpegFile := jpegBytes(t, picture(120, 90), 85)
	html := []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
	pdfOnly := Policy{MediaTypes: []string{PDF}}
	imagesOnly := Policy{MediaTypes: []string{JPEG, PNG}}
	jsAction := "<< /Type /Action /S /JavaScript /JS (app.alert\\('x'\\)) >>"
	tests := []struct {
		name   string
		data   []byte
		policy Policy
		code   string
		params map[string]string
	}{
		{"zero bytes", nil, Policy{}, CodeEmpty, nil},
		{"oversize", make([]byte, DefaultMaxBytes+1), Policy{}, CodeTooLarge, map[string]string{"size": "5242881", "max": "5242880"}},
		{"over a selection's own limit", pdf, Policy{MaxBytes: 100}, CodeTooLarge, map[string]string{"size": fmt.Sprint(len(pdf)), "max": "100"}},

		{"a PNG named .pdf where only PDF is allowed", pngFile, pdfOnly, CodeTypeNotAllowed, map[string]string{"type": "PNG", "allowed": "PDF"}},
		{"a PDF where only images are allowed", pdf, imagesOnly, CodeTypeNotAllowed, map[string]string{"type": "PDF", "allowed": "JPEG, PNG"}},
		{"an HTML page", html, Policy{}, CodeTypeNotAllowed, map[string]string{"type": "HTML", "allowed": "PDF, JPEG, PNG"}},
		{"a ZIP", zipBytes(t), Policy{}, CodeTypeNotAllowed, map[string]string{"type": "ZIP", "allowed": "PDF, JPEG, PNG"}},
		{"a GIF", gifBytes(t), Policy{}, CodeTypeNotAllowed, map[string]string{"type": "GIF", "allowed": "PDF, JPEG, PNG"}},
		{"a Word document (OLE)", append([]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), make([]byte, 600)...), Policy{}, CodeUnrecognized, map[string]string{"allowed": "PDF, JPEG, PNG"}},
		{"random bytes", randomBytes(4096, 1), Policy{}, CodeUnrecognized, map[string]string{"allowed": "PDF, JPEG, PNG"}},
		{"a PE executable", append([]byte("MZ\x90\x00"), make([]byte, 300)...), pdfOnly, CodeUnrecognized, map[string]string{"allowed": "PDF"}},

		{"truncated PDF", pdf[:len(pdf)/2], Policy{}, CodePDFMalformed, nil},
		{"PDF cut just before %%EOF", pdf[:bytes.LastIndex(pdf, []byte("%%EOF"))], Policy{}, CodePDFMalformed, nil},
		{"PDF whose startxref points nowhere", pdfDoc{xrefShift: 7}.bytes(), Policy{}, CodePDFMalformed, nil},
		{"PDF whose startxref is past the end", pdfDoc{xrefShift: 1 << 20}.bytes(), Policy{}, CodePDFMalformed, nil},
		{"PDF with a garbled xref table", garbledXRef(pdf), Policy{}, CodePDFMalformed, nil},
		{"PDF without a trailer", bytes.Replace(pdf, []byte("trailer"), []byte("traiXer"), 1), Policy{}, CodePDFMalformed, nil},
		{"PDF whose catalog has no pages", pdfDoc{catalog: "/Pages 99 0 R"}.bytes(), Policy{}, CodePDFMalformed, nil},
		{"PDF header and nothing else", []byte("%PDF-1.7\n%%EOF\n"), Policy{}, CodePDFMalformed, nil},

		{"encrypted PDF (user password)", encryptedPDF(t, "rahasia", "pemilik"), Policy{}, CodePDFEncrypted, nil},
		{"encrypted PDF (owner password only)", encryptedPDF(t, "", "pemilik"), Policy{}, CodePDFEncrypted, nil},
		{"PDF encrypted by an unknown security handler", bytes.Replace(pdfDoc{extras: []string{"<< /Filter /AcmeDRM /V 9 /R 9 /Length 128 >>"}}.bytes(),
			[]byte("/Root 1 0 R >>"), []byte("/Root 1 0 R /Encrypt 4 0 R /ID [<00> <00>] >>"), 1), Policy{}, CodePDFEncrypted, nil},

		{"JavaScript in OpenAction", pdfDoc{catalog: "/OpenAction 4 0 R", extras: []string{jsAction}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in OpenAction, direct", pdfDoc{catalog: "/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in Names", pdfDoc{catalog: "/Names << /JavaScript 4 0 R >>",
			extras: []string{"<< /Names [(init) 5 0 R] >>", jsAction}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in the catalog's AA", pdfDoc{catalog: "/AA << /WC 4 0 R >>", extras: []string{jsAction}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in a page's AA", pdfDoc{page: "/AA << /O 4 0 R >>", extras: []string{jsAction}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in a link annotation", pdfDoc{page: "/Annots [4 0 R]",
			extras: []string{"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A 5 0 R >>", jsAction}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"javascript: URI in a link", pdfDoc{page: "/Annots [4 0 R]",
			extras: []string{"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (  JavaScript:alert\\(1\\)) >> >>"}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in a form field", pdfDoc{catalog: "/AcroForm << /Fields [4 0 R] >>", page: "/Annots [4 0 R]",
			extras: []string{"<< /FT /Tx /T (nama) /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /AA << /K 5 0 R >> >>", jsAction}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"XFA form", pdfDoc{catalog: "/AcroForm << /Fields [] /XFA 4 0 R >>",
			extras: []string{"<< /Length 9 >>\nstream\n<xdp:xdp>\nendstream"}}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript under an escaped name (/J#61vaScript)", pdfDoc{catalog: "/OpenAction << /S /J#61vaScript /J#53 (x) >>"}.bytes(), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript inside a compressed object stream", compressedJS(t), Policy{}, CodePDFJavaScript, nil},
		{"JavaScript in an object the xref does not list", orphanObject(pdf, jsAction), Policy{}, CodePDFJavaScript, nil},

		{"EmbeddedFiles (pdfcpu attachment)", attachmentPDF(t), Policy{}, CodePDFEmbedded, nil},
		{"FileAttachment annotation", pdfDoc{page: "/Annots [4 0 R]",
			extras: []string{"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS 5 0 R >>",
				"<< /Type /Filespec /F (a.exe) /EF << /F 6 0 R >> >>", "<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"}}.bytes(), Policy{}, CodePDFEmbedded, nil},
		{"Launch action", pdfDoc{catalog: "/OpenAction << /S /Launch /F (cmd.exe) >>"}.bytes(), Policy{}, CodePDFEmbedded, nil},
		{"GoToE action", pdfDoc{catalog: "/OpenAction << /S /GoToE /T << /R /C /N (x) >> >>"}.bytes(), Policy{}, CodePDFEmbedded, nil},

		{"JavaScript and an embedded file", pdfDoc{catalog: "/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >> /OpenAction 6 0 R",
			extras: []string{"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>", "<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream", jsAction}}.bytes(),
			Policy{}, CodePDFJavaScript, nil},

		{"too many pages", pdfDoc{pages: 101}.bytes(), Policy{}, CodePDFTooManyPages, map[string]string{"pages": "101", "max": "100"}},
		{"more pages than the selection allows", pdfDoc{pages: 4}.bytes(), Policy{MaxPages: 3}, CodePDFTooManyPages, map[string]string{"pages": "4", "max": "3"}},

		{"truncated PNG", pngFile[:len(pngFile)/2], Policy{}, CodeImageMalformed, map[string]string{"type": "PNG"}},
		{"PNG without IEND", pngFile[:len(pngFile)-12], Policy{}, CodeImageMalformed, map[string]string{"type": "PNG"}},
		{"PNG with a corrupt IDAT", corruptPNG(pngFile), Policy{}, CodeImageMalformed, map[string]string{"type": "PNG"}},
		{"truncated JPEG", jpegFile[:len(jpegFile)/2], Policy{}, CodeImageMalformed, map[string]string{"type": "JPEG"}},
		{"JPEG without EOI", jpegFile[:len(jpegFile)-2], Policy{}, CodeImageMalformed, map[string]string{"type": "JPEG"}},
		{"JPEG magic and nothing else", []byte{0xFF, 0xD8, 0xFF, 0xE0}, Policy{}, CodeImageMalformed, map[string]string{"type": "JPEG"}},

		{"arithmetic-coded JPEG", bytes.Replace(jpegFile, []byte{0xFF, 0xC0}, []byte{0xFF, 0xC9}, 1), Policy{}, CodeImageUnsupported, map[string]string{"type": "JPEG"}},

		{"PNG decompression bomb", pngBomb(100000, 100000), Policy{}, CodeImageTooLarge, map[string]string{"width": "100000", "height": "100000", "max": "50"}},
		// 49 megapixels pass the pixel limit, but at 8 bytes a pixel would take 392 MB.
		{"16-bit PNG over the decoding budget", pngBombDepth(7000, 7000, 16), Policy{}, CodeImageTooLarge, map[string]string{"width": "7000", "height": "7000", "max": "34"}},
		{"PNG over the selection's pixel limit", pngFile, Policy{MaxPixels: 1000}, CodeImageTooLarge, map[string]string{"width": "64", "height": "48", "max": "1"}},

		{"PDF with a ZIP appended", cat(pdf, zipBytes(t)), Policy{}, CodePolyglot, map[string]string{"type": "PDF", "other": "ZIP"}},
		{"PDF with HTML appended", cat(pdf, html), Policy{}, CodePolyglot, map[string]string{"type": "PDF", "other": "HTML"}},
		{"PDF with bytes after %%EOF", cat(pdf, []byte("garbage\n")), Policy{}, CodeTrailingData, map[string]string{"type": "PDF"}},
		{"PDF with an HTML script inside", pdfDoc{extras: []string{"<< /Length 33 >>\nstream\n<script>alert(1)</script>AAAAAAAA\nendstream"}}.bytes(),
			Policy{}, CodePolyglot, map[string]string{"type": "PDF", "other": "HTML"}},
		{"PNG with HTML after IEND", cat(pngFile, html), Policy{}, CodePolyglot, map[string]string{"type": "PNG", "other": "HTML"}},
		{"PNG with bytes after IEND", cat(pngFile, []byte{1, 2, 3}), Policy{}, CodeTrailingData, map[string]string{"type": "PNG"}},
		{"PNG with a PDF in a text chunk", withPNGChunk(pngFile, "tEXt", cat([]byte("Comment\x00"), pdf)), Policy{}, CodePolyglot, map[string]string{"type": "PNG", "other": "PDF"}},
		{"PNG with a script in a text chunk", withPNGChunk(pngFile, "iTXt", []byte("x\x00\x00\x00\x00\x00<SCRIPT>alert(1)</SCRIPT>")), Policy{}, CodePolyglot, map[string]string{"type": "PNG", "other": "HTML"}},
		{"JPEG with a PDF after EOI", cat(jpegFile, pdf), Policy{}, CodePolyglot, map[string]string{"type": "JPEG", "other": "PDF"}},
		{"JPEG with a second JPEG after EOI (MPF)", cat(jpegFile, jpegFile), Policy{}, CodeTrailingData, map[string]string{"type": "JPEG"}},
		{"JPEG with a ZIP after EOI", cat(jpegFile, zipBytes(t)), Policy{}, CodePolyglot, map[string]string{"type": "JPEG", "other": "ZIP"}},
		{"JPEG with HTML in a comment", withJPEGComment(jpegFile, "<html><script>alert(1)</script></html>"), Policy{}, CodePolyglot, map[string]string{"type": "JPEG", "other": "HTML"}},
		{"HTML that contains a PDF", cat([]byte("<html><body>hello</body></html>\n"), pdf), Policy{}, CodePDFHeaderOffset, nil},
		{"PDF header after a few bytes", cat([]byte("\n\n  "), pdf), Policy{}, CodePDFHeaderOffset, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := inspect(t, tt.data, tt.policy)
			r, ok := AsRejection(err)
			if !ok {
				t.Fatalf("got %+v, %v; want rejection %s", res, err, tt.code)
			}
			if r.Code != tt.code || fmt.Sprint(r.Params) != fmt.Sprint(tt.params) {
				t.Errorf("got %s %v, want %s %v", r.Code, r.Params, tt.code, tt.params)
			}
			if res != (Result{}) {
				t.Errorf("a rejection came with a result: %+v", res)
			}
			// The object model alone finds what the raw scan of names would find too,
			// except in objects the cross-reference table does not list.
			if (tt.code == CodePDFJavaScript || tt.code == CodePDFEmbedded) && !strings.Contains(tt.name, "does not list") {
				if got := walkOnly(t, tt.data); got != tt.code {
					t.Errorf("the object walk alone finds %q, want %s", got, tt.code)
				}
			}
		})
	}
}

// walkOnly reads a PDF with pdfcpu and walks its objects, without the raw scan.
func walkOnly(t *testing.T, data []byte) string {
	t.Helper()
	pctx, err := pdfcpu.ReadWithContext(context.Background(), bytes.NewReader(data), pdfConfig(Policy{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels}))
	if err != nil {
		t.Fatalf("pdfcpu read: %v", err)
	}
	code, err := activeContent(context.Background(), pctx.XRefTable)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// compressedJS is a PDF whose page, with a JavaScript action in its AA, is in a
// Flate-compressed object stream: no raw scan sees the action, only the object model.
func compressedJS(t *testing.T) []byte {
	t.Helper()
	b := pdfcpuRewrite(t, pdfDoc{page: "/AA << /O << /S /JavaScript /JS (app.alert\\(1\\)) >> >>"}.bytes())
	if bytes.Contains(b, []byte("JavaScript")) || !bytes.Contains(b, []byte("/ObjStm")) {
		t.Fatal("the action is not hidden in a compressed object stream")
	}
	return b
}

// garbledXRef overwrites the first in-use xref entry with nonsense of the same length.
func garbledXRef(pdf []byte) []byte {
	out := bytes.Clone(pdf)
	i := bytes.Index(out, []byte("65535 f \n")) + len("65535 f \n")
	copy(out[i:], "zz#@!x==== ?????\r\n")
	return out
}

// orphanObject inserts an object before the xref table without listing it (the xref
// offsets of the listed objects stay right, since they come before it; startxref moves).
func orphanObject(pdf []byte, body string) []byte {
	xref := bytes.LastIndex(pdf, []byte("xref\n0 "))
	obj := fmt.Sprintf("99 0 obj\n%s\nendobj\n", body)
	out := cat(pdf[:xref], []byte(obj), pdf[xref:])
	sx := bytes.LastIndex(out, []byte("startxref\n"))
	return cat(out[:sx], []byte(fmt.Sprintf("startxref\n%d\n%%%%EOF\n", xref+len(obj))))
}

// corruptPNG flips bytes inside the first IDAT chunk's data (its CRC no longer matches).
func corruptPNG(p []byte) []byte {
	out := bytes.Clone(p)
	i := bytes.Index(out, []byte("IDAT")) + 4
	for j := i + 2; j < i+12; j++ {
		out[j] ^= 0x5A
	}
	return out
}

// TestInspectDoesNotReadOversize: a file over the limit is refused by its size alone.
func TestInspectDoesNotReadOversize(t *testing.T) {
	_, err := Inspect(context.Background(), failingReader{}, 1<<40, Policy{})
	if r, ok := AsRejection(err); !ok || r.Code != CodeTooLarge {
		t.Fatalf("got %v, want %s", err, CodeTooLarge)
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("read") }

// TestInspectServerErrors: a failing reader or an ended context is the server's error, not
// a rejection of the candidate's file.
func TestInspectServerErrors(t *testing.T) {
	if _, err := Inspect(context.Background(), failingReader{}, 100, Policy{}); err == nil {
		t.Fatal("a failing reader was not reported")
	} else if _, ok := AsRejection(err); ok {
		t.Fatalf("a failing reader became a rejection: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pdf := minimalPDF()
	_, err := Inspect(ctx, bytes.NewReader(pdf), int64(len(pdf)), Policy{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := Inspect(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), Policy{MediaTypes: []string{"image/gif"}}); err == nil {
		t.Fatal("a policy naming an uncheckable type was accepted")
	} else if _, ok := AsRejection(err); ok {
		t.Fatalf("a bad policy became a rejection: %v", err)
	}
}

// TestNoConfigDir: pdfcpu writes nothing on the machine, in particular not its
// configuration directory under the user's configuration directory (os.UserConfigDir,
// which follows XDG_CONFIG_HOME and HOME), whatever Inspect is given.
func TestNoConfigDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	files := [][]byte{minimalPDF(), pdfDoc{pages: 3, catalog: "/OpenAction << /S /JavaScript /JS (x) >>"}.bytes(),
		pdfcpuRewrite(t, minimalPDF()), encryptedPDF(t, "a", "b"), pngBytes(t, 8, 8)}
	for _, f := range files {
		inspect(t, f, Policy{})
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s was created in HOME", e.Name())
	}
}

// TestInspectConcurrent runs Inspect on many files at once (with -race: pdfcpu's package
// state must not be shared between concurrent reads).
func TestInspectConcurrent(t *testing.T) {
	files := [][]byte{minimalPDF(), pdfcpuRewrite(t, pdfDoc{pages: 2}.bytes()), encryptedPDF(t, "a", "b"),
		pdfDoc{catalog: "/OpenAction << /S /JavaScript /JS (x) >>"}.bytes(), pngBytes(t, 20, 20), jpegBytes(t, picture(20, 20), 80)}
	want := make([]string, len(files))
	for i, f := range files {
		_, err := inspect(t, f, Policy{})
		want[i] = fmt.Sprint(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		for i, f := range files {
			wg.Go(func() {
				if _, err := inspect(t, f, Policy{}); fmt.Sprint(err) != want[i] {
					t.Errorf("file %d: %v, alone %s", i, err, want[i])
				}
			})
		}
	}
	wg.Wait()
}

// TestRejectionsRender: every rejection the corpus produces renders in both languages from
// the catalog, and the helper for the server gives the candidate's language.
func TestRejectionsRender(t *testing.T) {
	c, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Codes() {
		for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
			if _, err := c.RenderStrict(m, l); err != nil {
				t.Errorf("%s: %v", m.Code, err)
			}
		}
	}
	_, err = inspect(t, pngBomb(100000, 100000), Policy{})
	r, ok := AsRejection(fmt.Errorf("upload: %w", err))
	if !ok {
		t.Fatalf("no rejection in %v", err)
	}
	txt := r.Text(c)
	if want := "gambar ini berukuran 100000 × 100000 piksel, melebihi batas 50 megapiksel; perkecil resolusinya, lalu unggah ulang"; txt.ID != want {
		t.Errorf("ID: %q", txt.ID)
	}
	if want := "this image is 100000 × 100000 pixels, more than the limit of 50 megapixels; reduce its resolution and upload it again"; txt.EN != want {
		t.Errorf("EN: %q", txt.EN)
	}
}

// spacesZlib is a zlib stream inflating to prefix and then 1+258*k spaces, written by hand
// (literals, then k back-references of length 258 at distance 1, in one fixed-Huffman
// block) so that a bomb costs nothing to build, even under the race detector.
func spacesZlib(prefix string, k int) []byte {
	var out []byte
	var acc uint64
	var nbits uint
	put := func(v uint64, n uint) { // LSB-first
		acc |= v << nbits
		nbits += n
		for nbits >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	code := func(c uint64, n uint) { // Huffman codes go most significant bit first
		var r uint64
		for i := range n {
			r |= (c >> i & 1) << (n - 1 - i)
		}
		put(r, n)
	}
	put(1, 1) // BFINAL
	put(1, 2) // BTYPE: fixed Huffman
	lit := prefix + " "
	for _, c := range []byte(lit) { // ASCII: literal codes 0x30+c, 8 bits
		code(0x30+uint64(c), 8)
	}
	for range k {
		code(0xC0+5, 8) // length symbol 285: 258
		code(0, 5)      // distance code 0: 1
	}
	code(0, 7) // end of block
	put(0, 7)  // pad to a byte
	// Adler-32 of lit, then of 258*k more spaces.
	const mod = 65521
	sum := adler32.Checksum([]byte(lit))
	a, b := uint64(sum&0xFFFF), uint64(sum>>16)
	m := uint64(258 * k)
	b = (b + m%mod*a + 32*(m*(m+1)/2%mod)) % mod
	a = (a + 32*m) % mod
	z := append([]byte{0x78, 0x01}, out...)
	return binary.BigEndian.AppendUint32(z, uint32(b<<16|a))
}

// objStmBomb is a PDF whose cross-reference stream puts object 7 in object stream 5, a
// Flate stream that inflates to about n bytes: pdfcpu decodes object streams while reading.
func objStmBomb(n int) []byte {
	var z bytes.Buffer
	z.Write(spacesZlib("7 0 <</A 1>>", n/258))
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
		"<< /Length 0 >>\nstream\n\nendstream",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>",
		fmt.Sprintf("<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", z.Len(), z.Bytes()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs)+1)
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	offsets[len(objs)] = b.Len() // the xref stream, object 6
	var rows bytes.Buffer
	row := func(typ byte, f2 uint32, f3 uint16) {
		rows.WriteByte(typ)
		binary.Write(&rows, binary.BigEndian, f2)
		binary.Write(&rows, binary.BigEndian, f3)
	}
	row(0, 0, 65535)
	for _, off := range offsets {
		row(1, uint32(off), 0)
	}
	row(2, 5, 0) // object 7: index 0 of object stream 5
	fmt.Fprintf(&b, "6 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n", rows.Len())
	b.Write(rows.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", offsets[len(objs)])
	return b.Bytes()
}

// TestObjectStreamBomb: an object stream inflating far beyond the limit is refused, and
// Inspect does not allocate what it inflates to; a modest one is read.
func TestObjectStreamBomb(t *testing.T) {
	if _, err := inspect(t, objStmBomb(1<<20), Policy{}); err != nil {
		t.Fatalf("a 1 MiB object stream was refused: %v", err)
	}
	t0 := time.Now()
	bomb := objStmBomb(512 << 20)
	t.Logf("built in %v", time.Since(t0))
	t0 = time.Now()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := inspect(t, bomb, Policy{})
	runtime.ReadMemStats(&after)
	if r, ok := AsRejection(err); !ok || r.Code != CodePDFMalformed {
		t.Fatalf("got %v, want %s", err, CodePDFMalformed)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte PDF whose object stream inflates to 512 MiB: refused in %v, %d MiB allocated", len(bomb), time.Since(t0), alloc>>20)
	if alloc > 256<<20 { // half of what it inflates to; about 64 MiB (130 under -race) here
		t.Errorf("allocated %d MiB", alloc>>20)
	}
}
