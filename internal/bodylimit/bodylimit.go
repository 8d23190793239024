// Package bodylimit owns how much a caller may send: the largest request body of each HTTP
// route, enforced while the body is read and before anything authenticates its sender or
// parses it, and the answer an oversized request gets: 413 with a google.rpc.Status in the
// caller's language, instead of a transport library's internal text; and the largest gRPC
// message.
package bodylimit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
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
		chunks, n, err := readChunks(limited)
		defer release(chunks)
		if err != nil {
			writeReadError(w, r, route.MaxBytes, err)
			return
		}
		readers := make([]io.Reader, len(chunks))
		for i, c := range chunks {
			readers[i] = bytes.NewReader(c)
		}
		r.Body = io.NopCloser(io.MultiReader(readers...))
		r.ContentLength = n
		next.ServeHTTP(w, r)
	})
}

// chunkSize is the unit bodies are read in; chunks are pooled, so a flood of bodies reuses
// the same memory instead of leaving garbage for the collector.
const chunkSize = 32 << 10

var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// readChunks reads a whole (limited) body into pooled chunks: memory grows with what
// arrives, at most the limit and one chunk, and is never copied into a larger buffer.
func readChunks(body io.Reader) (chunks [][]byte, n int64, err error) {
	for {
		c := chunkPool.Get().(*[chunkSize]byte)
		k, err := io.ReadFull(body, c[:])
		if k > 0 {
			chunks = append(chunks, c[:k])
			n += int64(k)
		} else {
			chunkPool.Put(c)
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return chunks, n, nil
		case err != nil:
			return chunks, n, err
		}
	}
}

// release returns a request's chunks to the pool once its handler has finished with them.
func release(chunks [][]byte) {
	for _, c := range chunks {
		chunkPool.Put((*[chunkSize]byte)(c[:chunkSize]))
	}
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

// ServerOptions set the gRPC server's largest incoming message explicitly (gRPC's default is
// 4 MiB). gRPC refuses a larger one while receiving it, before any handler or interceptor
// runs, with RESOURCE_EXHAUSTED and its own standard message; REST requests never meet that
// refusal, because their JSON body, which is never smaller than its protobuf form for
// Seleksi's requests, was held to the same limit first.
func ServerOptions(limit int64) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(int(limit))}
}
