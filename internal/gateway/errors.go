package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Errors the Seleksi gRPC server raises always carry a google.rpc.LocalizedMessage: its
// handlers chose the words. Every other error that reaches the gateway comes from the
// machinery in between (the gateway's own parsing of the path, query and body, its routing,
// the gRPC transport) and speaks that machinery's language: English, and internal
// ("strconv.ParseInt: parsing "abc": invalid syntax", "grpc: received message larger than
// max", "connection error: desc = ..."). Such errors are answered here in our own words, in
// the caller's language, keeping their code; the machinery's text goes to the log when it
// says something an operator should see.

// ours reports whether st was raised by the Seleksi gRPC server.
func ours(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.LocalizedMessage); ok {
			return true
		}
	}
	return false
}

// inOurWords rewrites an error raised between the client and the Seleksi gRPC server.
func inOurWords(ctx context.Context, logger *slog.Logger, r *http.Request, st *status.Status) *status.Status {
	lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
	if st.Code() == codes.InvalidArgument {
		p := describeParseError(st.Message())
		return build(st.Code(), msgInvalidRequest, lang, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field:            p.field,
			Description:      p.text.In(lang),
			Reason:           "malformed_request",
			LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: p.text.In(lang)},
		}}})
	}
	text, ok := byCode[st.Code()]
	switch {
	case st.Code() == codes.Unavailable:
		logger.WarnContext(ctx, "gateway could not reach the gRPC server", "path", r.URL.Path, "error", st.Message())
	case !ok:
		text = msgInternalError
		logger.ErrorContext(ctx, "gateway error without a message of ours", "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
	case st.Code() == codes.ResourceExhausted:
		logger.WarnContext(ctx, "gateway error without a message of ours", "path", r.URL.Path, "code", st.Code().String(), "error", st.Message())
	}
	return build(st.Code(), text, lang)
}

func build(code codes.Code, t i18n.Text, lang i18n.Lang, details ...*errdetails.BadRequest) *status.Status {
	st := status.New(code, t.In(lang))
	withDetails, err := st.WithDetails(&errdetails.LocalizedMessage{Locale: string(lang), Message: t.In(lang)})
	if err != nil {
		return st
	}
	for _, d := range details {
		if wd, err := withDetails.WithDetails(d); err == nil {
			withDetails = wd
		}
	}
	return withDetails
}

var (
	msgInvalidRequest = i18n.Text{ID: "permintaan tidak valid", EN: "request is invalid"}
	msgInternalError  = i18n.Text{ID: "terjadi kesalahan internal", EN: "internal error"}
	// byCode are the words for the codes the machinery raises by itself.
	byCode = map[codes.Code]i18n.Text{
		codes.NotFound:          {ID: "alamat ini tidak ada", EN: "there is no such address"},
		codes.Unimplemented:     {ID: "tidak didukung pada alamat ini", EN: "not supported at this address"},
		codes.Unavailable:       {ID: "layanan sedang tidak tersedia; coba lagi sebentar lagi", EN: "the service is unavailable at the moment; try again shortly"},
		codes.DeadlineExceeded:  {ID: "permintaan melewati batas waktu", EN: "the request timed out"},
		codes.Canceled:          {ID: "permintaan dibatalkan", EN: "the request was cancelled"},
		codes.ResourceExhausted: {ID: "permintaan atau jawabannya melebihi batas ukuran", EN: "the request or its answer is larger than allowed"},
	}
)

// parseProblem is what the gateway's parsing of a request found wrong, in our words.
type parseProblem struct {
	// field is the proto path of the query or path parameter at fault, or "body".
	field string
	text  i18n.Text
}

var (
	// Query parameters (grpc-gateway's query parser) and path parameters (generated code).
	reQueryParam = regexp.MustCompile(`^(parsing field|parsing list|parsing map key|parsing map value|too many values for field|field already set for oneof|invalid path:) "([^"]+)"`)
	rePathParam  = regexp.MustCompile(`^type mismatch, parameter: ([\w.]+),`)
	reMissing    = regexp.MustCompile(`^missing parameter ([\w.]+)`)
	// The JSON body (protojson).
	reUnknownField   = regexp.MustCompile(`unknown field "([^"]+)"`)
	reDuplicateField = regexp.MustCompile(`duplicate field "([^"]+)"`)
	reInvalidValue   = regexp.MustCompile(`invalid value for [\w ]+ field (\w+):`)
	// net/url's parsing of the query string.
	reQueryString = regexp.MustCompile(`^invalid URL escape|^invalid semicolon separator`)
	// The gateway's reading of the Grpc-Timeout header.
	reTimeoutHeader = regexp.MustCompile(`^invalid grpc-timeout:`)
)

// describeParseError names the part of the request the parser's message points at and says
// what is wrong with it, without repeating the parser's words.
func describeParseError(msg string) parseProblem {
	if m := reQueryParam.FindStringSubmatch(msg); m != nil {
		if m[1] == "too many values for field" {
			return parseProblem{m[2], i18n.Text{ID: "parameter ini diberikan lebih dari sekali", EN: "this parameter is given more than once"}}
		}
		return parseProblem{m[2], badValue(msg)}
	}
	if m := rePathParam.FindStringSubmatch(msg); m != nil {
		return parseProblem{m[1], badValue(msg)}
	}
	if m := reMissing.FindStringSubmatch(msg); m != nil {
		return parseProblem{m[1], i18n.Text{ID: "bagian alamat ini harus diisi", EN: "this part of the address is required"}}
	}
	if reTimeoutHeader.MatchString(msg) {
		// Found by FuzzGateway: this was described as a body that is not JSON.
		return parseProblem{"Grpc-Timeout", i18n.Text{ID: "header Grpc-Timeout tidak sah: tulis bilangan bulat dan satuannya, misalnya 5S",
			EN: "the Grpc-Timeout header is invalid: write a whole number and its unit, such as 5S"}}
	}
	if reQueryString.MatchString(msg) {
		return parseProblem{"query", i18n.Text{ID: "parameter alamat (query string) tidak dapat dibaca", EN: "the query string cannot be read"}}
	}
	if m := reUnknownField.FindStringSubmatch(msg); m != nil {
		return parseProblem{"body", i18n.Text{
			ID: fmt.Sprintf("kolom %q tidak dikenal; periksa ejaannya dan dokumentasi permintaan ini", m[1]),
			EN: fmt.Sprintf("%q is not a field of this request; check its spelling and this request's documentation", m[1])}}
	}
	if m := reDuplicateField.FindStringSubmatch(msg); m != nil {
		return parseProblem{"body", i18n.Text{ID: fmt.Sprintf("kolom %q muncul lebih dari sekali", m[1]), EN: fmt.Sprintf("%q appears more than once", m[1])}}
	}
	if m := reInvalidValue.FindStringSubmatch(msg); m != nil {
		return parseProblem{"body", i18n.Text{
			ID: fmt.Sprintf("nilai kolom %q tidak sesuai dengan jenisnya (teks, angka, true/false, nama nilai, atau objek)", m[1]),
			EN: fmt.Sprintf("the value of %q does not fit its type (text, number, true/false, a value's name, or an object)", m[1])}}
	}
	return parseProblem{"body", i18n.Text{ID: "isi permintaan bukan JSON yang sah", EN: "the request body is not valid JSON"}}
}

// badValue says what a parameter's value must look like, from the kind of parse that failed.
func badValue(msg string) i18n.Text {
	switch {
	case strings.Contains(msg, "ParseInt"), strings.Contains(msg, "ParseUint"):
		return i18n.Text{ID: "nilainya harus bilangan bulat", EN: "the value must be a whole number"}
	case strings.Contains(msg, "ParseFloat"):
		return i18n.Text{ID: "nilainya harus angka", EN: "the value must be a number"}
	case strings.Contains(msg, "ParseBool"):
		return i18n.Text{ID: "nilainya harus true atau false", EN: "the value must be true or false"}
	case strings.Contains(msg, "is not a valid value"):
		return i18n.Text{ID: "nilainya bukan salah satu nilai yang dikenal untuk parameter ini", EN: "the value is not one of this parameter's known values"}
	}
	return i18n.Text{ID: "nilainya tidak sah untuk parameter ini", EN: "the value is not valid for this parameter"}
}
