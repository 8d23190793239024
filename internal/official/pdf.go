package official

import (
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/yeqown/go-qrcode/v2"
)

// The fonts are vendored from npm (fonts/README.md) and embedded, so documents render the same
// on a closed network and carry every letter of the names they print.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

const fontFamily = "DejaVu"

// Text is one text in both languages: Indonesian, the language of record, printed first;
// English below it.
type Text struct {
	ID string `json:"id"`
	EN string `json:"en,omitempty"`
}

// Content is everything a document shows, in the order it shows it. It is what the registry
// keeps as the document's facts: rendering the same Content with the same Meta gives the same
// bytes, so anyone can re-render a document and compare its digest.
type Content struct {
	Title  Text    `json:"title"`
	Blocks []Block `json:"blocks"`
}

// Block is one part of the body: exactly one of its fields is set.
type Block struct {
	// Heading is a section heading.
	Heading *Text `json:"heading,omitempty"`
	// Paragraph is running text in both languages.
	Paragraph *Text `json:"paragraph,omitempty"`
	// Fields is a list of labelled values.
	Fields []Field `json:"fields,omitempty"`
	// Table is a table whose rows break across pages, its header repeated on each.
	Table *Table `json:"table,omitempty"`
}

// Field is one labelled value.
type Field struct {
	Label Text   `json:"label"`
	Value string `json:"value"`
}

// Table is a table: column headings, relative widths (equal when empty) and rows of cells.
type Table struct {
	Columns []Text     `json:"columns"`
	Widths  []float64  `json:"widths,omitempty"`
	Rows    [][]string `json:"rows"`
	// Empty is printed instead of the table when it has no rows.
	Empty *Text `json:"empty,omitempty"`
}

// Meta is what frames every document: who issued it, its number, when, and where to verify it.
type Meta struct {
	// Issuer is the agency that issues the document; IssuerUnit its unit (the secretariat).
	Issuer     string
	IssuerUnit string
	Number     string
	Issued     time.Time
	// Location is the issue time's zone (the agency's); UTC when nil.
	Location *time.Location
	// VerifyURL is the public verification page the QR code and the footer point to.
	VerifyURL string
}

// Helpers that read well in builders.

// T makes a Text.
func T(id, en string) Text { return Text{ID: id, EN: en} }

// H is a heading block.
func H(id, en string) Block { t := T(id, en); return Block{Heading: &t} }

// P is a paragraph block.
func P(id, en string) Block { t := T(id, en); return Block{Paragraph: &t} }

// F is a block of fields.
func F(fields ...Field) Block { return Block{Fields: fields} }

// KV is one field.
func KV(id, en, value string) Field { return Field{Label: T(id, en), Value: value} }

// Page geometry in millimetres (A4 portrait).
const (
	marginLeft   = 18.0
	marginRight  = 18.0
	marginTop    = 16.0
	footerHeight = 30.0
	qrSize       = 22.0
	lineHeight   = 5.0
)

// Render lays out a document as PDF. The output depends only on its arguments: the creation
// date is the issue time, and the catalogue is written in sorted order, so a re-render of
// stored facts reproduces the stored bytes.
func Render(m Meta, c Content) ([]byte, error) {
	loc := m.Location
	if loc == nil {
		loc = time.UTC
	}
	// A document without a verification page (an on-demand recap) has no QR code.
	var qr [][]bool
	if m.VerifyURL != "" {
		var err error
		if qr, err = qrMatrix(m.VerifyURL); err != nil {
			return nil, err
		}
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(m.Issued.In(loc))
	pdf.SetModificationDate(m.Issued.In(loc))
	pdf.SetProducer("Seleksi", true)
	pdf.SetCreator("Seleksi", true)
	pdf.SetTitle(c.Title.ID+" / "+c.Title.EN, true)
	pdf.SetAuthor(m.Issuer, true)
	pdf.SetSubject(m.Number, true)
	pdf.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	pdf.AddUTF8FontFromBytes(fontFamily, "B", fontBold)
	pdf.SetMargins(marginLeft, marginTop, marginRight)
	pdf.SetAutoPageBreak(true, footerHeight+4)
	pdf.AliasNbPages("{nb}")
	r := &renderer{pdf: pdf, meta: m, loc: loc, qr: qr}
	pdf.SetFooterFunc(r.footer)
	pdf.AddPage()
	r.header(c.Title)
	for _, b := range c.Blocks {
		r.block(b)
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("official: render %s: %w", m.Number, err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("official: render %s: %w", m.Number, err)
	}
	return buf.Bytes(), nil
}

type renderer struct {
	pdf  *fpdf.Fpdf
	meta Meta
	loc  *time.Location
	qr   [][]bool
}

func (r *renderer) width() float64 {
	w, _ := r.pdf.GetPageSize()
	return w - marginLeft - marginRight
}

func (r *renderer) header(title Text) {
	p := r.pdf
	p.SetFont(fontFamily, "B", 11)
	p.MultiCell(0, lineHeight, strings.ToUpper(r.meta.Issuer), "", "C", false)
	if r.meta.IssuerUnit != "" {
		p.SetFont(fontFamily, "", 9)
		p.MultiCell(0, lineHeight-0.5, r.meta.IssuerUnit, "", "C", false)
	}
	y := p.GetY() + 1.5
	p.SetLineWidth(0.5)
	p.Line(marginLeft, y, marginLeft+r.width(), y)
	p.SetLineWidth(0.2)
	p.SetY(y + 4)
	p.SetFont(fontFamily, "B", 14)
	p.MultiCell(0, 6.5, title.ID, "", "C", false)
	if title.EN != "" {
		p.SetFont(fontFamily, "", 10.5)
		p.SetTextColor(70, 70, 70)
		p.MultiCell(0, 5.5, title.EN, "", "C", false)
		p.SetTextColor(0, 0, 0)
	}
	p.Ln(2)
	p.SetFont(fontFamily, "", 9.5)
	p.MultiCell(0, lineHeight, "Nomor / Number: "+r.meta.Number, "", "C", false)
	p.MultiCell(0, lineHeight, "Tanggal / Date: "+FormatDate(r.meta.Issued.In(r.loc)), "", "C", false)
	p.Ln(4)
}

func (r *renderer) block(b Block) {
	p := r.pdf
	switch {
	case b.Heading != nil:
		p.Ln(2)
		p.SetFont(fontFamily, "B", 11)
		p.MultiCell(0, 5.5, b.Heading.ID, "", "L", false)
		if b.Heading.EN != "" {
			p.SetFont(fontFamily, "", 9)
			p.SetTextColor(70, 70, 70)
			p.MultiCell(0, 4.5, b.Heading.EN, "", "L", false)
			p.SetTextColor(0, 0, 0)
		}
		p.Ln(1)
	case b.Paragraph != nil:
		p.SetFont(fontFamily, "", 10)
		p.MultiCell(0, lineHeight, b.Paragraph.ID, "", "J", false)
		if b.Paragraph.EN != "" {
			p.SetFont(fontFamily, "", 9)
			p.SetTextColor(70, 70, 70)
			p.MultiCell(0, 4.5, b.Paragraph.EN, "", "J", false)
			p.SetTextColor(0, 0, 0)
		}
		p.Ln(2)
	case len(b.Fields) > 0:
		r.fields(b.Fields)
	case b.Table != nil:
		r.table(b.Table)
	}
}

func (r *renderer) fields(fs []Field) {
	p := r.pdf
	labelW := r.width() * 0.38
	valueW := r.width() - labelW
	for _, f := range fs {
		label := f.Label.ID
		if f.Label.EN != "" {
			label += " / " + f.Label.EN
		}
		value := f.Value
		if value == "" {
			value = "-"
		}
		p.SetFont(fontFamily, "", 8.5)
		ll := p.SplitText(label, labelW-1)
		p.SetFont(fontFamily, "", 10)
		vl := p.SplitText(value, valueW-1)
		h := float64(max(len(ll), len(vl))) * lineHeight
		r.ensure(h)
		x, y := p.GetXY()
		p.SetFont(fontFamily, "", 8.5)
		p.SetTextColor(70, 70, 70)
		p.MultiCell(labelW, lineHeight, label, "", "L", false)
		p.SetTextColor(0, 0, 0)
		p.SetXY(x+labelW, y)
		p.SetFont(fontFamily, "", 10)
		p.MultiCell(valueW, lineHeight, value, "", "L", false)
		p.SetXY(x, y+h)
	}
	p.Ln(2)
}

// ensure starts a new page when h millimetres do not fit on this one.
func (r *renderer) ensure(h float64) {
	_, ph := r.pdf.GetPageSize()
	if r.pdf.GetY()+h > ph-footerHeight-4 {
		r.pdf.AddPage()
	}
}

func (r *renderer) table(t *Table) {
	p := r.pdf
	if len(t.Rows) == 0 {
		if t.Empty != nil {
			r.block(Block{Paragraph: t.Empty})
		}
		return
	}
	widths := make([]float64, len(t.Columns))
	total := 0.0
	for i := range widths {
		widths[i] = 1
		if i < len(t.Widths) && t.Widths[i] > 0 {
			widths[i] = t.Widths[i]
		}
		total += widths[i]
	}
	for i := range widths {
		widths[i] = widths[i] / total * r.width()
	}
	head := func() {
		p.SetFont(fontFamily, "B", 8.5)
		p.SetFillColor(230, 230, 230)
		cells := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cells[i] = c.ID
			if c.EN != "" {
				cells[i] += "\n" + c.EN
			}
		}
		r.row(widths, cells, true)
	}
	r.ensure(18)
	head()
	for _, row := range t.Rows {
		p.SetFont(fontFamily, "", 9)
		if r.rowHeight(widths, row) > 0 {
			_, ph := p.GetPageSize()
			if p.GetY()+r.rowHeight(widths, row) > ph-footerHeight-4 {
				p.AddPage()
				head()
				p.SetFont(fontFamily, "", 9)
			}
		}
		r.row(widths, row, false)
	}
	p.Ln(3)
}

const cellLine = 4.5

func (r *renderer) rowHeight(widths []float64, cells []string) float64 {
	n := 1
	for i, w := range widths {
		if i < len(cells) {
			n = max(n, len(r.pdf.SplitText(cells[i], w-2)))
		}
	}
	return float64(n)*cellLine + 1.5
}

func (r *renderer) row(widths []float64, cells []string, fill bool) {
	p := r.pdf
	h := r.rowHeight(widths, cells)
	x, y := p.GetXY()
	cx := x
	for i, w := range widths {
		text := ""
		if i < len(cells) {
			text = cells[i]
		}
		p.Rect(cx, y, w, h, map[bool]string{true: "FD", false: "D"}[fill])
		p.SetXY(cx+1, y+0.75)
		p.MultiCell(w-2, cellLine, text, "", "L", false)
		cx += w
	}
	p.SetXY(x, y+h)
}

func (r *renderer) footer() {
	p := r.pdf
	w, h := p.GetPageSize()
	top := h - footerHeight
	p.SetLineWidth(0.2)
	p.Line(marginLeft, top, w-marginRight, top)
	p.SetTextColor(60, 60, 60)
	textW := w - marginLeft - marginRight - qrSize - 4
	p.SetXY(marginLeft, top+2)
	p.SetFont(fontFamily, "", 7.5)
	p.MultiCell(textW, 3.6, r.meta.Number+"   ·   Halaman / Page "+strconv.Itoa(p.PageNo())+" / {nb}", "", "L", false)
	p.SetX(marginLeft)
	if r.meta.VerifyURL == "" {
		// Unregistered documents must not claim a signature they lack.
		p.MultiCell(textW, 3.6, "Dokumen ini dibuat atas permintaan dari data sistem saat itu; bukan dokumen resmi yang terdaftar dan tidak ditandatangani.", "", "L", false)
		p.SetX(marginLeft)
		p.MultiCell(textW, 3.6, "This document was generated on request from the system's data at that moment; it is not a registered official document and is not signed.", "", "L", false)
	} else {
		p.MultiCell(textW, 3.6, "Dokumen ini ditandatangani secara elektronik. Periksa keasliannya, sidik SHA-256 berkas ini dan tanda tangannya di "+r.meta.VerifyURL, "", "L", false)
		p.SetX(marginLeft)
		p.MultiCell(textW, 3.6, "This document is signed electronically. Check its authenticity, this file's SHA-256 digest and its signature at the address above or by the QR code.", "", "L", false)
	}
	p.SetTextColor(0, 0, 0)
	r.drawQR(w-marginRight-qrSize, top+2)
}

// drawQR draws the verification QR code as vector squares: sharp at any zoom and in print,
// and nothing to decode from an image library.
func (r *renderer) drawQR(x, y float64) {
	p := r.pdf
	n := len(r.qr)
	if n == 0 {
		return
	}
	// A quiet zone of four modules around the code, as the standard asks.
	module := qrSize / float64(n+8)
	p.SetFillColor(255, 255, 255)
	p.Rect(x, y, qrSize, qrSize, "F")
	p.SetFillColor(0, 0, 0)
	for row, cells := range r.qr {
		for col := 0; col < len(cells); {
			if !cells[col] {
				col++
				continue
			}
			start := col
			for col < len(cells) && cells[col] {
				col++
			}
			p.Rect(x+float64(start+4)*module, y+float64(row+4)*module, float64(col-start)*module, module, "F")
		}
	}
}

func qrMatrix(url string) ([][]bool, error) {
	q, err := qrcode.NewWith(url, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("official: QR code of %q: %w", url, err)
	}
	var w matrixWriter
	if err := q.Save(&w); err != nil {
		return nil, fmt.Errorf("official: QR code of %q: %w", url, err)
	}
	return w.bitmap, nil
}

type matrixWriter struct{ bitmap [][]bool }

func (w *matrixWriter) Write(m qrcode.Matrix) error { w.bitmap = m.Bitmap(); return nil }
func (w *matrixWriter) Close() error                { return nil }

var monthsID = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}

// FormatDate prints a time as documents do: the Indonesian date, the English one, and the
// clock with the zone's abbreviation (WIB, WITA, WIT where the zone names them).
func FormatDate(t time.Time) string {
	zone, _ := t.Zone()
	return fmt.Sprintf("%d %s %d / %s, %s %s", t.Day(), monthsID[t.Month()-1], t.Year(), t.Format("2 January 2006"), t.Format("15.04"), zone)
}
