// Package gateway owns Seleksi's HTTP face: the REST/JSON routes translated to the gRPC
// services by grpc-gateway, the OpenAPI document and the liveness and readiness probes.
// The web pages are internal/web's.
// It talks to the gRPC server over a client connection only, so it never reaches into the
// store or the workflows and sees exactly what any other gRPC client sees.
package gateway

import (
	"bytes"
	"context"
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
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/ratelimit"
)

// New returns the HTTP handler for every REST route of the contract, /openapi.json, the
// probes /healthz and /readyz (see probes.go), forwarding to the gRPC services behind conn
// (a connection, or the server's in-process channel).
func New(ctx context.Context, conn grpc.ClientConnInterface, logger *slog.Logger) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, oneValueJSON{&runtime.JSONPb{
			MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: false, UseProtoNames: false},
			// Unknown fields are rejected so a misspelt field is a 400, not a silently
			// ignored part of a committee's decision.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithErrorHandler(errorHandler(logger)),
		runtime.WithRoutingErrorHandler(routingErrorHandler(errorHandler(logger))),
	)
	if err := registerProbes(mux, conn); err != nil {
		return nil, err
	}
	// Order matters: the mux tries the most recently registered pattern first, and
	// GET /v1/selections/{id}:exportHistory also fits GetSelection's /v1/{name=selections/*}
	// (a custom verb is part of the last segment). The audit routes are registered last so
	// that their verbs win; a map here once made the winner random.
	for _, svc := range []struct {
		name     string
		register func(context.Context, *runtime.ServeMux) error
	}{
		{"selection", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterSelectionServiceHandlerClient(ctx, mux, seleksiv1.NewSelectionServiceClient(conn))
		}},
		{"application", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterApplicationServiceHandlerClient(ctx, mux, seleksiv1.NewApplicationServiceClient(conn))
		}},
		{"audit", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterAuditServiceHandlerClient(ctx, mux, seleksiv1.NewAuditServiceClient(conn))
		}},
		{"notification", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterNotificationServiceHandlerClient(ctx, mux, seleksiv1.NewNotificationServiceClient(conn))
		}},
		{"schedule", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterScheduleServiceHandlerClient(ctx, mux, seleksiv1.NewScheduleServiceClient(conn))
		}},
		{"attendance", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterAttendanceServiceHandlerClient(ctx, mux, seleksiv1.NewAttendanceServiceClient(conn))
		}},
		{"document", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterDocumentServiceHandlerClient(ctx, mux, seleksiv1.NewDocumentServiceClient(conn))
		}},
		{"official", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterOfficialDocumentServiceHandlerClient(ctx, mux, seleksiv1.NewOfficialDocumentServiceClient(conn))
		}},
		{"report", func(ctx context.Context, mux *runtime.ServeMux) error {
			return seleksiv1.RegisterReportServiceHandlerClient(ctx, mux, seleksiv1.NewReportServiceClient(conn))
		}},
	} {
		if err := svc.register(ctx, mux); err != nil {
			return nil, fmt.Errorf("gateway: register %s service: %w", svc.name, err)
		}
	}
	// The export is a download (export.go), not the generated JSON stream: registered last,
	// it takes the route from the generated handler.
	if err := mux.HandlePath(http.MethodGet, exportPattern, exportHandler(mux, seleksiv1.NewAuditServiceClient(conn), logger)); err != nil {
		return nil, fmt.Errorf("gateway: export route: %w", err)
	}
	// After DocumentService's generated routes, so that the download's verb wins over
	// GetDocument's /v1/{name=documents/*}.
	if err := mux.HandlePath(http.MethodGet, downloadPattern, downloadHandler(mux, seleksiv1.NewDocumentServiceClient(conn), logger)); err != nil {
		return nil, fmt.Errorf("gateway: download route: %w", err)
	}
	// After OfficialDocumentService's generated routes, so that the files' verbs win over
	// GetOfficialDocument's /v1/{name=officialDocuments/*}.
	official := seleksiv1.NewOfficialDocumentServiceClient(conn)
	for _, f := range []struct {
		pattern   string
		signature bool
	}{{officialDownloadPattern, false}, {officialSignaturePattern, true}} {
		if err := mux.HandlePath(http.MethodGet, f.pattern, officialFileHandler(mux, official, f.pattern, f.signature, logger)); err != nil {
			return nil, fmt.Errorf("gateway: official document route %s: %w", f.pattern, err)
		}
	}
	openapi := seleksiv1.OpenAPIJSON()
	if err := mux.HandlePath(http.MethodGet, "/openapi.json", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi)
	}); err != nil {
		return nil, fmt.Errorf("gateway: openapi route: %w", err)
	}
	return requireUTF8(mux, errorHandler(logger)), nil
}

// connectionSpecific reports the HTTP/1.1 connection headers that HTTP/2 forbids (RFC 9113,
// section 8.2.2). A client could ask the gateway to forward one as gRPC metadata
// (Grpc-Metadata-Connection: ...), and the gRPC server would then refuse the stream as
// malformed: an internal error for a request that is only odd. They are not forwarded.
func connectionSpecific(key string) bool {
	switch strings.ToLower(key) {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return true
	}
	return false
}

// incomingHeader forwards what runtime.DefaultHeaderMatcher forwards, except the
// connection-specific headers and an empty name ("Grpc-Metadata-" alone), which gRPC refuses
// as a malformed header.
func incomingHeader(key string) (string, bool) {
	md, ok := runtime.DefaultHeaderMatcher(key)
	if !ok || md == "" || connectionSpecific(md) {
		return "", false
	}
	return md, true
}

// errorHandler writes errors as the JSON form of google.rpc.Status, as the default handler
// does, after rewriting in our own words every error that the Seleksi gRPC server did not
// raise (see ours): clients never see the internal text of the parsers and transports in
// between. Invalid-argument errors always carry field-level google.rpc.BadRequest details
// with the fields named as REST clients send them.
func errorHandler(logger *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		// A routing error may carry the HTTP status to answer with (405, see
		// routingErrorHandler); the status inside is what the client reads.
		var withHTTPStatus *runtime.HTTPStatusError
		if errors.As(err, &withHTTPStatus) {
			err = withHTTPStatus.Err
		}
		st := status.Convert(err)
		if !ours(st) {
			st = inOurWords(ctx, logger, r, st)
		}
		if st.Code() == codes.InvalidArgument {
			st = withJSONFieldNames(st)
		}
		// Rate limits (issue 10): a caller the gRPC server refused (by subject, or for bad
		// tokens) learns when to come back, as one refused at the HTTP edge does.
		if st.Code() == codes.ResourceExhausted {
			ratelimit.SetRetryAfter(w.Header(), st)
		}
		err = st.Err()
		switch {
		case withHTTPStatus != nil:
			err = &runtime.HTTPStatusError{HTTPStatus: withHTTPStatus.HTTPStatus, Err: err}
		case hasReason(st, reasonDocumentErased):
			// A document erased after its retention is gone for good: REST says so.
			err = &runtime.HTTPStatusError{HTTPStatus: http.StatusGone, Err: err}
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
	}
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
// status code UNIMPLEMENTED that grpc-gateway itself pairs with 405. next (errorHandler)
// words it, as every other error.
func routingErrorHandler(next runtime.ErrorHandlerFunc) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		if httpStatus != http.StatusMethodNotAllowed {
			runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
			return
		}
		next(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: status.Error(codes.Unimplemented, http.StatusText(httpStatus))})
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
		desc := i18n.Text{ID: "memuat teks yang bukan UTF-8", EN: "holds text that is not UTF-8"}.In(lang)
		st := build(codes.InvalidArgument, msgInvalidRequest, lang, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field: part, Description: desc, Reason: "invalid_utf8",
			LocalizedMessage: &errdetails.LocalizedMessage{Locale: string(lang), Message: desc},
		}}})
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

// reasonDocumentErased is the ErrorInfo reason the server gives a download of a document
// erased after its retention.
const reasonDocumentErased = "DOCUMENT_ERASED"

// hasReason reports whether st carries an ErrorInfo of Seleksi's domain with the reason.
func hasReason(st *status.Status, reason string) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == "seleksi" && info.GetReason() == reason {
			return true
		}
	}
	return false
}
