// Package bodylimit owns how much a caller may send: the largest request body of each HTTP
// route, enforced while the body is read and before anything authenticates its sender or
// parses it; the largest gRPC message; and the answer an oversized request gets, a
// google.rpc.Status in the caller's language (HTTP 413, or RESOURCE_EXHAUSTED over gRPC)
// instead of a transport library's internal text.
package bodylimit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// DefaultMaxBytes is the largest JSON request body (and gRPC message) by default: a score
// sheet for a few thousand candidates fits many times over.
const DefaultMaxBytes = 1 << 20

// ReasonTooLarge is the google.rpc.ErrorInfo reason of an oversized request; its metadata
// gives the limit in bytes (limitBytes).
const ReasonTooLarge = "REQUEST_TOO_LARGE"

// Route is a group of HTTP routes with a body limit of their own.
type Route struct {
	// Prefix is the URL path its requests start with, as in "/v1/documents/".
	Prefix string
	// MaxBytes is the largest body the route accepts.
	MaxBytes int64
	// Stream hands the body to the handler unread, wrapped so that reading past MaxBytes
	// fails with *http.MaxBytesError (uploads, which must not be held in memory whole); the
	// handler answers that with WriteTooLarge. Otherwise the body is read in full first.
	Stream bool
}

// Policy is the body limit of every HTTP route: the longest matching Route's, or Default.
type Policy struct {
	Default int64
	Routes  []Route
}

func (p Policy) route(path string) Route {
	best := Route{MaxBytes: p.Default}
	bestLen := -1
	for _, r := range p.Routes {
		if strings.HasPrefix(path, r.Prefix) && len(r.Prefix) > bestLen {
			best, bestLen = r, len(r.Prefix)
		}
	}
	if best.MaxBytes <= 0 {
		best.MaxBytes = DefaultMaxBytes
	}
	return best
}

// Middleware enforces the policy. A body declared larger than the limit (Content-Length) is
// refused before a byte of it is read; any other is read through http.MaxBytesReader, which
// stops at the limit, so a client streaming gigabytes costs at most the limit in memory. The
// body is read in full here, before the handler (the gateway) authenticates or parses
// anything, and handed on as a buffer; routes marked Stream get the limited reader instead.
// A body that does not arrive within the server's ReadTimeout ends the request with 408.
func Middleware(next http.Handler, p Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := p.route(r.URL.Path)
		if r.ContentLength > route.MaxBytes {
			WriteTooLarge(w, r, route.MaxBytes)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		limited := http.MaxBytesReader(w, r.Body, route.MaxBytes)
		if route.Stream {
			r.Body = limited
			next.ServeHTTP(w, r)
			return
		}
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength))
		}
		_, err := buf.ReadFrom(limited)
		if err != nil {
			writeReadError(w, r, route.MaxBytes, err)
			return
		}
		r.Body = io.NopCloser(&buf)
		r.ContentLength = int64(buf.Len())
		next.ServeHTTP(w, r)
	})
}

func writeReadError(w http.ResponseWriter, r *http.Request, limit int64, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		WriteTooLarge(w, r, limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection is closed after this answer: its read deadline has passed.
		writeStatus(w, r, http.StatusRequestTimeout, codes.DeadlineExceeded, msgTooSlow, nil)
	default:
		// The client went away or sent a malformed chunked body; this answer is for a
		// client that is still listening.
		writeStatus(w, r, http.StatusBadRequest, codes.InvalidArgument, msgUnreadable, nil)
	}
}

// Messages of this package, in Indonesian and English.
var (
	msgTooSlow    = i18n.Text{ID: "isi permintaan datang terlalu lambat", EN: "the request body arrived too slowly"}
	msgUnreadable = i18n.Text{ID: "isi permintaan tidak dapat dibaca", EN: "the request body could not be read"}
)

func tooLargeText(limit int64) i18n.Text {
	return i18n.Text{
		ID: fmt.Sprintf("permintaan terlalu besar: paling banyak %d bita", limit),
		EN: fmt.Sprintf("the request is too large: at most %d bytes", limit),
	}
}

func tooLargeInfo(limit int64) *errdetails.ErrorInfo {
	return &errdetails.ErrorInfo{Reason: ReasonTooLarge, Domain: "seleksi",
		Metadata: map[string]string{"limitBytes": strconv.FormatInt(limit, 10)}}
}

// WriteTooLarge answers 413 with a google.rpc.Status (RESOURCE_EXHAUSTED, the code gRPC gives
// an oversized message, with an ErrorInfo naming the limit), in the caller's language.
func WriteTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	writeStatus(w, r, http.StatusRequestEntityTooLarge, codes.ResourceExhausted, tooLargeText(limit), tooLargeInfo(limit))
}

func writeStatus(w http.ResponseWriter, r *http.Request, httpCode int, code codes.Code, text i18n.Text, info *errdetails.ErrorInfo) {
	lang := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
	st := localized(lang, code, text, info)
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		body = []byte(fmt.Sprintf(`{"code":%d}`, code))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCode)
	_, _ = w.Write(body)
}

func localized(lang i18n.Lang, code codes.Code, text i18n.Text, info *errdetails.ErrorInfo) *status.Status {
	msg := text.In(lang)
	st := status.New(code, msg)
	var withDetails *status.Status
	var err error
	if info != nil {
		withDetails, err = st.WithDetails(&errdetails.LocalizedMessage{Locale: string(lang), Message: msg}, info)
	} else {
		withDetails, err = st.WithDetails(&errdetails.LocalizedMessage{Locale: string(lang), Message: msg})
	}
	if err != nil {
		return st
	}
	return withDetails
}

// TooLarge reports whether a status is this package's refusal of an oversized request, so
// the gateway can answer it 413 (rather than the 429 RESOURCE_EXHAUSTED maps to) should the
// gRPC server ever refuse a message the HTTP limit let through.
func TooLarge(st *status.Status) bool {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.GetReason() == ReasonTooLarge && ei.GetDomain() == "seleksi" {
			return true
		}
	}
	return false
}

// ServerOptions set the gRPC server's largest incoming message explicitly.
func ServerOptions(limit int64) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(int(limit))}
}

// Localize returns a copy of a service description whose unary methods answer a message
// over the server's limit with this package's localized RESOURCE_EXHAUSTED instead of
// gRPC's "grpc: received message larger than max (N vs. M)". gRPC checks the size while
// decoding the request, before any interceptor runs, so this is the one place that sees it.
func Localize(desc *grpc.ServiceDesc, limit int64) *grpc.ServiceDesc {
	out := *desc
	out.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		handler := m.Handler
		m.Handler = func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			return handler(srv, ctx, func(in any) error {
				err := dec(in)
				if err != nil && status.Code(err) == codes.ResourceExhausted {
					return localized(grpcLanguage(ctx), codes.ResourceExhausted, tooLargeText(limit), tooLargeInfo(limit)).Err()
				}
				return err
			}, interceptor)
		}
		out.Methods[i] = m
	}
	return &out
}

// grpcLanguage is the caller's language from accept-language metadata (gRPC clients) or the
// gateway's forwarded Accept-Language header.
func grpcLanguage(ctx context.Context) i18n.Lang {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, key := range []string{"accept-language", "grpcgateway-accept-language"} {
		if v := md.Get(key); len(v) > 0 {
			return i18n.FromAcceptLanguage(v[0])
		}
	}
	return i18n.ID
}
