package scan

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/validate"
)

// pdfConfig is pdfcpu's configuration for checking uploads, built here rather than by
// model.NewDefaultConfiguration: that function creates pdfcpu's configuration directory (a
// config.yml, fonts and certificates under os.UserConfigDir) unless a package variable says
// otherwise, and this package writes nothing and sets no other package's globals.
//
// Validation is relaxed: pdfcpu's strict mode refuses many PDFs that every reader opens
// (office suites and scanners bend the specification in small ways), and a candidate cannot
// repair their certificate's PDF. Resource limits follow the policy: a file is at most
// MaxBytes, so no stream in it needs more, and a decoded stream (pdfcpu decodes object
// streams while reading; content and images it leaves alone) is capped at four times that,
// far above what the dictionaries in object streams of real documents need and far below
// what a Flate bomb would take.
func pdfConfig(p Policy) *model.Configuration {
	return &model.Configuration{
		Reader15:                  true,
		ValidationMode:            model.ValidationRelaxed,
		UnsupportedResourcePolicy: model.UnsupportedResourceSkip,
		Eol:                       types.EolLF,
		WriteObjectStream:         true,
		WriteXRefStream:           true,
		EncryptUsingAES:           true,
		EncryptKeyLength:          256,
		Permissions:               model.PermissionsPrint,
		TimestampFormat:           "2006-01-02 15:04",
		DateFormat:                "2006-01-02",
		Offline:                   true, // never fetch revocation lists or anything else
		Cmd:                       model.VALIDATE,
		Limits: model.ResourceLimits{
			MaxStreamBytes:       p.MaxBytes,
			MaxDecodeBytes:       max(16<<20, 4*p.MaxBytes),
			MaxImagePixels:       p.MaxPixels,
			MaxImageBytes:        256 << 20,
			MaxObjectCount:       1_000_000,
			MaxObjectStreamCount: 100_000,
			MaxObjectStreamFirst: 1 << 20,
			MaxXRefEntries:       1_000_000,
			MaxRecursionDepth:    100,
		},
	}
}

// inspectPDF checks a PDF's structure and content. Order matters for what the candidate
// is told: a file with data after its end or a second format is refused for that first;
// then encryption (nothing else can be judged in an encrypted file), then scripts and
// embedded files, then pdfcpu's validation, then the page count.
func inspectPDF(ctx context.Context, r io.ReaderAt, size int64, p Policy, pass passResult, res *Result) (err error) {
	if pass.lastEOF < 0 {
		return reject(CodePDFMalformed) // truncated: a PDF ends with %%EOF
	}
	if end := pass.lastEOF + int64(len("%%EOF")); pass.lastData >= end {
		if rej, err := afterEnd(r, end, size, "PDF"); rej != nil || err != nil {
			return errOr(rej, err)
		}
	}
	if !startXRefPointsAtXRef(r, pass.lastEOF) {
		return reject(CodePDFMalformed)
	}
	// pdfcpu has been hardened against hostile input, but a panic in a parser must refuse
	// the file, not take the server down. The panic stays in the error's text, for the
	// server's log; the candidate is told the file is malformed.
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("scan: PDF parser panicked: %v: %w", v, reject(CodePDFMalformed))
		}
	}()
	pctx, err := pdfcpu.ReadWithContext(ctx, io.NewSectionReader(r, 0, size), pdfConfig(p))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("scan: read PDF: %w", ctx.Err())
		}
		// A file pdfcpu cannot open and that names an encryption dictionary is refused
		// for its encryption (a security handler pdfcpu lacks, a damaged dictionary):
		// the remedy, a copy without a password, is the same.
		if errors.Is(err, pdfcpu.ErrWrongPassword) || pass.pdfEncrypt || strings.Contains(strings.ToLower(err.Error()), "encrypt") {
			return reject(CodePDFEncrypted)
		}
		return reject(CodePDFMalformed)
	}
	if pctx.Encrypt != nil || pctx.E != nil {
		// Even a file that opens without a password (an owner password only restricts
		// printing or copying) is refused: the committee must be able to print it, and
		// archives must be readable without anyone's password.
		return reject(CodePDFEncrypted)
	}
	code, err := activeContent(ctx, pctx.XRefTable)
	if err != nil {
		return err
	}
	if code == "" || pass.pdfActive == CodePDFJavaScript {
		// The raw scan finds names in objects the table does not list; a script there
		// outranks an embedded file found by the walk.
		code = cmp.Or(pass.pdfActive, code)
	}
	if code != "" {
		return reject(code)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	// pdfcpu checks each feature against the version the file declares, even in relaxed
	// mode; writers routinely declare an older version than the features they use (a
	// PDF 1.2 header over a 1.3 graphics state), which every reader ignores. Validate the
	// structure as of PDF 1.7 (or 2.0 when declared) instead.
	if root, err := pctx.Catalog(); err == nil {
		delete(root, "Version")
	}
	if pctx.XRefTable.Version() < model.V17 {
		v := model.V17
		pctx.XRefTable.RootVersion = &v
	}
	if err := validate.XRefTable(pctx); err != nil {
		return reject(CodePDFMalformed)
	}
	if pass.pdfMarkers != "" {
		return reject(CodePolyglot, "type", "PDF", "other", pass.pdfMarkers)
	}
	if err := pctx.EnsurePageCount(); err != nil {
		return reject(CodePDFMalformed)
	}
	switch {
	case pctx.PageCount <= 0:
		return reject(CodePDFNoPages)
	case pctx.PageCount > p.MaxPages:
		return reject(CodePDFTooManyPages, "pages", strconv.Itoa(pctx.PageCount), "max", strconv.Itoa(p.MaxPages))
	}
	res.Pages = pctx.PageCount
	return nil
}

// activeContent walks every object the cross-reference table lists (objects in object
// streams included) and returns CodePDFJavaScript when it meets a script, else
// CodePDFEmbedded when it met an embedded file or an action opening one, else "". Walking
// every object rather than following the catalog finds JavaScript wherever a reader may
// start it: the OpenAction, additional actions (AA) of the document, pages, annotations
// and form fields, the JavaScript name tree, link actions and javascript: URIs, XFA forms.
func activeContent(ctx context.Context, xt *model.XRefTable) (string, error) {
	w := walker{}
	nrs := make([]int, 0, len(xt.Table))
	for nr := range xt.Table {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	for _, nr := range nrs {
		e := xt.Table[nr]
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("scan: %w", err)
		}
		o := e.Object
		if l, ok := o.(types.LazyObjectStreamObject); ok {
			d, err := l.DecodedObject(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return "", fmt.Errorf("scan: %w", ctx.Err())
				}
				return "", reject(CodePDFMalformed)
			}
			o = d
		}
		w.object(o, 0)
		if w.script {
			return CodePDFJavaScript, nil
		}
		if w.tooDeep {
			return "", fmt.Errorf("scan: object %d nests deeper than %d: %w", nr, maxDepth, reject(CodePDFMalformed))
		}
	}
	if w.embedded {
		return CodePDFEmbedded, nil
	}
	return "", nil
}

const maxDepth = 200

// walker looks for scripts and embedded files in PDF objects. A script ends the walk; an
// embedded file does not, so that a file with both is refused for its script whichever
// the walk meets first.
type walker struct {
	script, embedded, tooDeep bool
}

func (w *walker) object(o types.Object, depth int) {
	if w.script || w.tooDeep {
		return
	}
	if depth > maxDepth {
		w.tooDeep = true
		return
	}
	switch o := o.(type) {
	case types.Dict:
		w.dict(o, depth)
	case types.StreamDict:
		w.dict(o.Dict, depth)
	case *types.StreamDict:
		w.dict(o.Dict, depth)
	case types.ObjectStreamDict:
		w.dict(o.Dict, depth)
	case *types.ObjectStreamDict:
		w.dict(o.Dict, depth)
	case types.XRefStreamDict:
		w.dict(o.Dict, depth)
	case *types.XRefStreamDict:
		w.dict(o.Dict, depth)
	case types.Array:
		for _, v := range o {
			w.object(v, depth+1)
		}
	}
}

// Action types (the S entry of an action dictionary) that run code or open other files.
var (
	scriptActions   = map[string]bool{"JavaScript": true, "RichMediaExecute": true}
	embeddedActions = map[string]bool{"Launch": true, "GoToE": true, "ImportData": true}
	// Subtypes of annotations and Type of objects that carry files or executable media.
	embeddedTypes = map[string]bool{"FileAttachment": true, "EmbeddedFile": true, "RichMedia": true}
)

func (w *walker) dict(d types.Dict, depth int) {
	for k, v := range d {
		switch k {
		case "JS", "JavaScript", "XFA":
			w.script = true
		case "EmbeddedFiles", "EF":
			w.embedded = true
		case "S":
			if n, ok := v.(types.Name); ok {
				w.script = w.script || scriptActions[string(n)]
				w.embedded = w.embedded || embeddedActions[string(n)]
			}
		case "Type", "Subtype":
			if n, ok := v.(types.Name); ok && embeddedTypes[string(n)] {
				w.embedded = true
			}
		case "URI":
			if s, ok := text(v); ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "javascript:") {
				w.script = true
			}
		}
		if w.script {
			return
		}
		w.object(v, depth+1)
	}
}

// text is the value of a PDF string object.
func text(o types.Object) (string, bool) {
	switch s := o.(type) {
	case types.StringLiteral:
		v, err := types.StringLiteralToString(s)
		return v, err == nil
	case types.HexLiteral:
		b, err := s.Bytes()
		return string(b), err == nil
	}
	return "", false
}

// startXRefPointsAtXRef reports whether the file's last startxref (just before its last
// %%EOF) gives the offset of a cross-reference table ("xref") or stream ("N G obj"). pdfcpu,
// like most readers, rebuilds a broken table by scanning for objects, which is what makes
// a damaged or doctored file open differently in different readers; Seleksi keeps only
// files whose structure is intact.
func startXRefPointsAtXRef(r io.ReaderAt, lastEOF int64) bool {
	from := max(0, lastEOF-64)
	tail := make([]byte, lastEOF-from)
	if _, err := r.ReadAt(tail, from); err != nil {
		return false
	}
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return false
	}
	num := strings.TrimSpace(string(tail[i+len("startxref"):]))
	off, err := strconv.ParseInt(num, 10, 64)
	if err != nil || off <= 0 || off >= lastEOF {
		return false
	}
	at := make([]byte, min(64, lastEOF-off))
	if _, err := r.ReadAt(at, off); err != nil {
		return false
	}
	// Some writers are off by an end of line; readers skip whitespace here too.
	at = bytes.TrimLeft(at, "\x00\t\n\f\r ")
	if bytes.HasPrefix(at, []byte("xref")) {
		return true
	}
	return xrefStreamStart.Match(at)
}

var xrefStreamStart = regexp.MustCompile(`^\d+\s+\d+\s+obj\b`)
