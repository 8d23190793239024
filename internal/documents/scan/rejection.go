package scan

import (
	"archive/zip"
	"errors"
	"io"
	"sort"
	"strings"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Rejection codes: why a candidate may not upload a file. Each is a message code of the
// catalog (internal/i18n/messages), rendered for the candidate by Text; the server maps a
// Rejection to a 4xx (invalid argument) and never shows the candidate internal error text.
const (
	CodeEmpty            = "document.empty"             // zero bytes
	CodeTooLarge         = "document.too_large"         // size, max (bytes)
	CodeTypeNotAllowed   = "document.type_not_allowed"  // type (sniffed), allowed
	CodeUnrecognized     = "document.unrecognized"      // allowed: no known magic number
	CodePolyglot         = "document.polyglot"          // type, other: a second format inside
	CodeTrailingData     = "document.trailing_data"     // type: bytes after the format's end
	CodePDFHeaderOffset  = "document.pdf_header_offset" // "%PDF-" not at offset 0
	CodePDFMalformed     = "document.pdf_malformed"
	CodePDFEncrypted     = "document.pdf_encrypted"
	CodePDFJavaScript    = "document.pdf_javascript"
	CodePDFEmbedded      = "document.pdf_embedded_files"
	CodePDFNoPages       = "document.pdf_no_pages"
	CodePDFTooManyPages  = "document.pdf_too_many_pages" // pages, max
	CodeImageMalformed   = "document.image_malformed"    // type
	CodeImageUnsupported = "document.image_unsupported"  // type
	CodeImageTooLarge    = "document.image_too_large"    // width, height, max (megapixels)
)

// CodePDFEmbeddedFiles is CodePDFEmbedded under the name the raw scan uses.
const CodePDFEmbeddedFiles = CodePDFEmbedded

// Rejection is the candidate's problem with a file: a message code and its parameters.
type Rejection struct {
	Code   string
	Params map[string]string
}

func reject(code string, kv ...string) *Rejection {
	r := &Rejection{Code: code}
	if len(kv) > 0 {
		r.Params = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			r.Params[kv[i]] = kv[i+1]
		}
	}
	return r
}

// Error is for logs: the code and its parameters in a stable order.
func (r *Rejection) Error() string {
	keys := make([]string, 0, len(r.Params))
	for k := range r.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("document rejected: ")
	b.WriteString(r.Code)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + r.Params[k])
	}
	return b.String()
}

// Msg is the rejection as a catalog message.
func (r *Rejection) Msg() i18n.Msg {
	m := i18n.Msg{Code: r.Code}
	if len(r.Params) > 0 {
		m.Params = make(map[string]string, len(r.Params))
		for k, v := range r.Params {
			m.Params[k] = v
		}
	}
	return m
}

// Text renders the rejection in every language, for the server's error details.
func (r *Rejection) Text(c *i18n.Catalog) i18n.Text { return c.Text(r.Msg()) }

// AsRejection returns the Rejection in err's chain, if any: the server's test of whether an
// upload failed through the candidate's file (4xx) or through the server (5xx).
func AsRejection(err error) (*Rejection, bool) {
	var r *Rejection
	ok := errors.As(err, &r)
	return r, ok
}

// Codes lists every rejection with an example of its parameters, so that the catalog tests
// check that each renders in Indonesian and English.
func Codes() []i18n.Msg {
	rs := []*Rejection{
		reject(CodeEmpty),
		reject(CodeTooLarge, "size", "7340032", "max", "5242880"),
		reject(CodeTypeNotAllowed, "type", "HTML", "allowed", "PDF, JPEG, PNG"),
		reject(CodeUnrecognized, "allowed", "PDF"),
		reject(CodePolyglot, "type", "PDF", "other", "ZIP"),
		reject(CodeTrailingData, "type", "PNG"),
		reject(CodePDFHeaderOffset),
		reject(CodePDFMalformed),
		reject(CodePDFEncrypted),
		reject(CodePDFJavaScript),
		reject(CodePDFEmbedded),
		reject(CodePDFNoPages),
		reject(CodePDFTooManyPages, "pages", "250", "max", "100"),
		reject(CodeImageMalformed, "type", "JPEG"),
		reject(CodeImageUnsupported, "type", "JPEG"),
		reject(CodeImageTooLarge, "width", "100000", "height", "100000", "max", "50"),
	}
	out := make([]i18n.Msg, len(rs))
	for i, r := range rs {
		out[i] = r.Msg()
	}
	return out
}

// embeddedZIP rejects a file that a ZIP reader opens: ZIP readers find the archive's
// directory from the end of the file, so a ZIP appended to (or woven into) a document is a
// working archive whatever comes first.
func embeddedZIP(r io.ReaderAt, size int64, mediaType string) *Rejection {
	if _, err := zip.NewReader(r, size); err == nil {
		return reject(CodePolyglot, "type", formatName(mediaType), "other", "ZIP")
	}
	return nil
}
