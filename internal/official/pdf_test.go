package official

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/bkpsdm/seleksi/internal/keys"
)

// pdfText extracts a PDF's text with poppler's pdftotext, as a reader's tools would.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// pdfPages renders a PDF's pages (the first only, unless all) to PNG with poppler's pdftoppm
// and returns them decoded. When SELEKSI_ARTIFACTS is set the PNGs are kept there, named
// after sample.
func pdfPages(t *testing.T, pdf []byte, sample string, all bool) []image.Image {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-r", "150", "-png"}
	if !all {
		args = append(args, "-f", "1", "-l", "1")
	}
	if out, err := exec.Command("pdftoppm", append(args, in, filepath.Join(dir, "page"))...).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if err != nil || len(files) == 0 {
		t.Fatalf("pdftoppm made no pages (%v)", err)
	}
	keep := os.Getenv("SELEKSI_ARTIFACTS")
	var pages []image.Image
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, img)
		if keep != "" && sample != "" {
			if err := os.MkdirAll(keep, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(keep, fmt.Sprintf("official-%s-page%d.png", sample, i+1)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return pages
}

// decodeQR finds and decodes the QR code on a page image.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code decoded: %v", err)
	}
	return res.GetText()
}

func sampleContent(rows int) Content {
	c := Content{Title: T("Pengumuman Uji Coba", "Test Announcement"), Blocks: []Block{
		H("Ketentuan", "Terms"),
		P("Panitia seleksi mengumumkan hasil berikut.", "The selection committee announces the following result."),
		F(KV("Jabatan", "Position", "Kepala Dinas Pendidikan"), KV("Instansi", "Agency", "Pemerintah Kabupaten Contoh")),
	}}
	tbl := &Table{Columns: []Text{T("No.", "No."), T("Nama", "Name"), T("Hasil", "Result")}, Widths: []float64{1, 5, 2}}
	for i := range rows {
		tbl.Rows = append(tbl.Rows, []string{fmt.Sprint(i + 1), fmt.Sprintf("Ni Made Ayu Swastika Dewi %d", i+1), "Lulus / Pass"})
	}
	c.Blocks = append(c.Blocks, Block{Table: tbl})
	return c
}

func sampleMeta() Meta {
	return Meta{Issuer: "Pemerintah Kabupaten Contoh", IssuerUnit: "Panitia Seleksi", Number: "PKC/UJI/sel-1/0001",
		Issued: time.Date(2026, 12, 1, 3, 4, 5, 0, time.UTC), Location: ZoneLocation("TIME_ZONE_WITA"),
		VerifyURL: "https://seleksi.example.go.id/verify/pkc-uji-sel-1-0001"}
}

// TestRender checks what a reader gets from a rendered document: its text in Indonesian and
// English with the letters of Indonesian names, a table that breaks across pages with a
// footer on each (number, page N of M), a QR code on each page that decodes to the
// verification page, and the same bytes every time it is rendered.
func TestRender(t *testing.T) {
	m, c := sampleMeta(), sampleContent(70)
	pdf, err := Render(m, c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Render(m, c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again) {
		t.Fatal("rendering the same document twice gave different bytes")
	}
	text := pdfText(t, pdf)
	for _, want := range []string{
		"PEMERINTAH KABUPATEN CONTOH", "Pengumuman Uji Coba", "Test Announcement", "Nomor / Number: PKC/UJI/sel-1/0001",
		"1 Desember 2026 / 1 December 2026, 11.04 WITA", "Panitia seleksi mengumumkan", "The selection committee announces",
		"Kepala Dinas Pendidikan", "Ni Made Ayu Swastika Dewi 70", "Halaman / Page 1 / 3", "Halaman / Page 3 / 3",
		"https://seleksi.example.go.id/verify/pkc-uji-sel-1-0001",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "Nama"); n != 3 {
		t.Errorf("the table header is printed %d times, want once per page (3)", n)
	}
	pages := pdfPages(t, pdf, "layout", true)
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	for i, p := range pages {
		if got := decodeQR(t, p); got != m.VerifyURL {
			t.Errorf("page %d: QR code reads %q, want %q", i+1, got, m.VerifyURL)
		}
	}
	// Another issue time is another document.
	m.Issued = m.Issued.Add(time.Second)
	other, err := Render(m, c)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(pdf, other) {
		t.Fatal("the issue time does not reach the PDF")
	}
}

func TestSigner(t *testing.T) {
	ctx := context.Background()
	key, err := keys.LoadOrCreateEd25519(t.TempDir(), "official.pem")
	if err != nil {
		t.Fatal(err)
	}
	old, err := keys.LoadOrCreateEd25519(t.TempDir(), "old.pem")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewEd25519Signer(key, old.Public)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Render(sampleMeta(), sampleContent(3))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(ctx, pdf)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx, s.KeyID(), pdf, sig); err != nil {
		t.Fatalf("a fresh signature does not verify: %v", err)
	}
	// The scheme is what the key listing says: Ed25519 over the SHA-256 of the file, so a
	// verifier with nothing but the public key checks it.
	if got := s.PublicKeys(); len(got) != 2 || got[0].ID != key.ID || got[0].Algorithm != AlgorithmEd25519SHA256 || got[1].ID != old.ID {
		t.Fatalf("public keys %+v", got)
	}
	sum := sha256Sum(pdf)
	if !ed25519.Verify(key.Public, sum, sig) {
		t.Fatal("the signature is not Ed25519 over the SHA-256 of the file")
	}
	for _, at := range []int{0, len(pdf) / 2, len(pdf) - 1} {
		changed := bytes.Clone(pdf)
		changed[at] ^= 0x01
		if err := s.Verify(ctx, s.KeyID(), changed, sig); err == nil {
			t.Fatalf("a change of byte %d went undetected", at)
		}
	}
	if err := s.Verify(ctx, old.ID, pdf, sig); err == nil {
		t.Fatal("a signature verified against another key")
	}
	if err := s.Verify(ctx, "ed25519-unknown", pdf, sig); err == nil {
		t.Fatal("an unknown key verified")
	}
}

func TestDocumentID(t *testing.T) {
	for in, want := range map[string]string{
		"BKPSDM/PENG/sel-2026-01/0003": "bkpsdm-peng-sel-2026-01-0003",
		"Kab. Contoh//X/1":             "kab-contoh-x-1",
	} {
		if got := DocumentID(in); got != want {
			t.Errorf("DocumentID(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkRender is one official document of a page and a half: the cost the issuer's loop
// pays per document, beside the store's writes.
func BenchmarkRender(b *testing.B) {
	m, c := sampleMeta(), sampleContent(40)
	for b.Loop() {
		if _, err := Render(m, c); err != nil {
			b.Fatal(err)
		}
	}
}
