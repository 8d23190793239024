// Package gateway owns Seleksi's HTTP face: the REST/JSON routes translated to the gRPC
// services by grpc-gateway, the OpenAPI document, the health endpoint and the web pages.
// It talks to the gRPC server over a client connection only, so it never reaches into the
// store or the workflows and sees exactly what any other gRPC client sees.
package gateway

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// web holds the candidate's status page, served at /.
//
//go:embed web
var web embed.FS

// New returns the HTTP handler for every REST route of the contract, /openapi.json,
// /healthz and the candidate's status page at /, forwarding to the gRPC server behind conn.
func New(ctx context.Context, conn *grpc.ClientConn, logger *slog.Logger) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, oneValueJSON{&runtime.JSONPb{
			MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: false},
			// Unknown fields are rejected so a misspelt field is a 400, not a silently
			// ignored part of a committee's decision.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithErrorHandler(errorHandler(logger)),
		runtime.WithRoutingErrorHandler(routingErrorHandler(errorHandler(logger))),
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(conn)),
	)
	// Order matters: the mux tries the most recently registered pattern first, and
	// GET /v1/selections/{id}:exportHistory also fits GetSelection's /v1/{name=selections/*}
	// (a custom verb is part of the last segment). The audit routes are registered last so
	// that their verbs win; a map here once made the winner random.
	for _, svc := range []struct {
		name     string
		register func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
	}{
		{"selection", seleksiv1.RegisterSelectionServiceHandler},
		{"application", seleksiv1.RegisterApplicationServiceHandler},
		{"audit", seleksiv1.RegisterAuditServiceHandler},
	} {
		if err := svc.register(ctx, mux, conn); err != nil {
			return nil, fmt.Errorf("gateway: register %s service: %w", svc.name, err)
		}
	}
	openapi := seleksiv1.OpenAPIJSON()
	if err := mux.HandlePath(http.MethodGet, "/openapi.json", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi)
	}); err != nil {
		return nil, fmt.Errorf("gateway: openapi route: %w", err)
	}
	page, err := web.ReadFile("web/index.html")
	if err != nil {
		return nil, fmt.Errorf("gateway: status page: %w", err)
	}
	if err := mux.HandlePath(http.MethodGet, "/", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page talks only to this origin and shows data from the API as text.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page)
	}); err != nil {
		return nil, fmt.Errorf("gateway: status page route: %w", err)
	}
	return requireUTF8(mux, errorHandler(logger)), nil
}

// errorHandler writes errors as the JSON form of google.rpc.Status, as the default handler
// does, but makes sure every InvalidArgument carries field-level google.rpc.BadRequest
// details. The gRPC handlers always attach them; errors raised by the gateway itself (a body
// that is not JSON, an unknown field, a malformed query parameter) arrive without, and a
// client must still be able to tell which part of its request was wrong.
func errorHandler(logger *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		err = validUTF8(err)
		st := status.Convert(err)
		if st.Code() == codes.InvalidArgument && !hasBadRequest(st) {
			lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
			msg := i18n.Text{ID: "permintaan tidak valid", EN: "request is invalid"}.In(lang)
			// The parser's own words are English; Indonesian readers get the gist.
			desc := i18n.Text{ID: "permintaan tidak dapat dibaca: isinya bukan JSON yang sah, atau memuat kolom atau parameter yang tidak dikenal",
				EN: "the request could not be read: " + st.Message()}.In(lang)
			withDetails, derr := status.New(codes.InvalidArgument, msg).WithDetails(
				&errdetails.LocalizedMessage{Locale: string(lang), Message: msg},
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
					Field:            "body",
					Description:      desc,
					Reason:           "malformed_request",
					LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: desc},
				}}})
			if derr == nil {
				err = withDetails.Err()
			}
		}
		if st.Code() == codes.InvalidArgument {
			err = withJSONFieldNames(status.Convert(err)).Err()
		}
		if st.Code() == codes.Unavailable && r.URL.Path != "/healthz" {
			logger.WarnContext(ctx, "gateway could not reach the gRPC server", "path", r.URL.Path, "error", st.Message())
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
	}
}

func hasBadRequest(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.BadRequest); ok {
			return true
		}
	}
	return false
}

// withJSONFieldNames rewrites the field paths of a status's google.rpc.BadRequest details
// from proto names (`page_size`, what the gRPC server reports and gRPC clients see in their
// generated code) to JSON names (`pageSize`, what REST clients send), as
// google.rpc.BadRequest prescribes for each representation. Other details pass unchanged.
func withJSONFieldNames(st *status.Status) *status.Status {
	p := st.Proto()
	changed := false
	for i, d := range p.GetDetails() {
		var br errdetails.BadRequest
		if d.MessageIs(&br) && d.UnmarshalTo(&br) == nil {
			for _, v := range br.GetFieldViolations() {
				v.Field = jsonFieldPath(v.GetField())
			}
			a, err := anypb.New(&br)
			if err != nil {
				return st
			}
			p.Details[i], changed = a, true
		}
	}
	if !changed {
		return st
	}
	return status.FromProto(p)
}

// jsonFieldPath turns a field path of proto names into JSON names the way protoc derives
// json_name (an underscore is dropped and the letter after it capitalised); subscripts such
// as [2] or ["key"] are kept as they are.
func jsonFieldPath(path string) string {
	var b strings.Builder
	depth, upper := 0, false
	for _, c := range path {
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0 && c == '_':
			upper = true
			continue
		case depth == 0 && upper && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		upper = false
		b.WriteRune(c)
	}
	return b.String()
}

// oneValueJSON is the gateway's JSON marshaler, which reads a request body as exactly one
// JSON value. grpc-gateway's decoder reads the first value and drops whatever follows, so
// `{"reason":"a"} {"reason":"b"}` was accepted as its first half: a client that sent two
// documents, or a truncated proxy concatenation, got a decision it did not see whole.
// Found by FuzzGateway.
type oneValueJSON struct{ *runtime.JSONPb }

// errTrailingData is the error for a body with more after its JSON value.
var errTrailingData = errors.New("the request body holds more than one JSON value")

// NewDecoder decodes one value, then requires the end of the body (whitespace may follow).
func (m oneValueJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r)
	dw, ok := d.(runtime.DecoderWrapper)
	if !ok {
		return d
	}
	return runtime.DecoderFunc(func(v any) error {
		if err := dw.Decode(v); err != nil {
			// io.EOF here is an empty body, which the generated handlers accept.
			return err
		}
		switch _, err := dw.Token(); {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		default:
			return errTrailingData
		}
	})
}

// routingErrorHandler answers a request that matches no route. grpc-gateway's default
// reports a path served only for other methods as UNIMPLEMENTED, which is HTTP 501 (a
// server error, found by FuzzGateway for DELETE /v1/selections); here it is 405, with the
// status code UNIMPLEMENTED that grpc-gateway itself pairs with 405. Messages are in the
// client's language, as every other error.
func routingErrorHandler(next runtime.ErrorHandlerFunc) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
		var (
			code codes.Code
			text i18n.Text
		)
		switch httpStatus {
		case http.StatusMethodNotAllowed:
			code, text = codes.Unimplemented, i18n.Text{ID: "metode HTTP ini tidak dilayani untuk alamat ini", EN: "this HTTP method is not served for this path"}
		case http.StatusBadRequest:
			code, text = codes.InvalidArgument, i18n.Text{ID: "alamat permintaan tidak sah", EN: "the request path is invalid"}
		default:
			httpStatus, code, text = http.StatusNotFound, codes.NotFound, i18n.Text{ID: "alamat ini tidak ada", EN: "no such path"}
		}
		msg := text.In(lang)
		st := status.New(code, msg)
		details := []protoadapt.MessageV1{&errdetails.LocalizedMessage{Locale: string(lang), Message: msg}}
		if code == codes.InvalidArgument {
			details = append(details, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
				Field: "path", Description: msg, Reason: "malformed_path",
				LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: msg},
			}}})
		}
		if withDetails, err := st.WithDetails(details...); err == nil {
			st = withDetails
		}
		next(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()})
	}
}

// requireUTF8 refuses a request whose path, query or form body is not UTF-8 before the mux
// sees it. grpc-gateway copies them into string fields, which protobuf requires to be
// UTF-8, so the gRPC client refused to marshal the request and the client got HTTP 500
// with gRPC's own text (found by FuzzGateway: GET /v1/selections/%FF).
func requireUTF8(mux *runtime.ServeMux, errh runtime.ErrorHandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		part := nonUTF8(r)
		if part == "" {
			mux.ServeHTTP(w, r)
			return
		}
		lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
		msg := i18n.Text{ID: "permintaan tidak valid", EN: "request is invalid"}.In(lang)
		desc := i18n.Text{ID: "memuat teks yang bukan UTF-8", EN: "holds text that is not UTF-8"}.In(lang)
		st := status.New(codes.InvalidArgument, msg)
		if withDetails, derr := st.WithDetails(
			&errdetails.LocalizedMessage{Locale: string(lang), Message: msg},
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
				Field: part, Description: desc, Reason: "invalid_utf8",
				LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: desc},
			}}}); derr == nil {
			st = withDetails
		}
		_, m := runtime.MarshalerForRequest(mux, r)
		errh(r.Context(), mux, m, w, r, st.Err())
	})
}

// maxFormBody is what net/http's ParseForm reads of a form body at most.
const maxFormBody = 10 << 20

// nonUTF8 names the part of r that is not UTF-8 ("path", "query" or "body"), or "". A
// query or form that does not parse, or a body that cannot be read, is left to the
// gateway, which refuses it. A form body (which the gateway reads for a POST served by a
// GET route) is read here and put back.
func nonUTF8(r *http.Request) string {
	if !utf8.ValidString(r.URL.Path) {
		return "path"
	}
	if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && !utf8Values(q) {
		return "query"
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Body == nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	if err != nil {
		return ""
	}
	if q, err := url.ParseQuery(string(b)); err == nil && !utf8Values(q) {
		return "body"
	}
	return ""
}

func utf8Values(v url.Values) bool {
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return false
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

// validUTF8 replaces invalid UTF-8 in an error's message with U+FFFD. grpc-gateway's own
// errors quote what the client sent (a Grpc-Timeout header, a query parameter), and
// protojson refuses to write a status with such a message, which left the client with
// HTTP 500 "failed to marshal error message" (found by FuzzGateway).
func validUTF8(err error) error {
	var hse *runtime.HTTPStatusError
	if errors.As(err, &hse) {
		return &runtime.HTTPStatusError{HTTPStatus: hse.HTTPStatus, Err: validUTF8(hse.Err)}
	}
	st := status.Convert(err)
	if utf8.ValidString(st.Message()) {
		return err
	}
	p := st.Proto()
	p.Message = strings.ToValidUTF8(p.Message, "\uFFFD")
	return status.FromProto(p).Err()
}
