package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/clientaddr"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// ReasonRateLimited is the google.rpc.ErrorInfo reason of a refusal; its metadata names the
// limit ("address_reads", "subject_mutations", "auth_failures", ...).
const ReasonRateLimited = "RATE_LIMITED"

// Middleware limits HTTP requests by client address (clientaddr.Middleware must run first)
// before anything reads their bodies: GET and HEAD count as reads, every other method as a
// mutation. Requests exempt reports true for (health probes) pass untouched. A refused
// request gets 429 with Retry-After and a google.rpc.Status. The gRPC server does not count
// the gateway's calls against the address again (see UnaryInterceptor).
func (l *Limiter) Middleware(next http.Handler, exempt func(*http.Request) bool) http.Handler {
	return l.ClassifiedMiddleware(next, func(r *http.Request) (Class, bool) {
		if exempt != nil && exempt(r) {
			return 0, false
		}
		return MethodClass(r), true
	})
}

// MethodClass is an HTTP request's class by its method: GET and HEAD read, every other
// method mutates.
func MethodClass(r *http.Request) Class {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return Read
	}
	return Mutation
}

// ClassifiedMiddleware is Middleware with the class of each request decided by classify,
// which reports false for a request that passes untouched. Routes whose requests are not
// one action each (the chunks of a resumable upload) count as the class that fits them.
func (l *Limiter) ClassifiedMiddleware(next http.Handler, classify func(*http.Request) (Class, bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		class, limited := classify(r)
		if !limited {
			next.ServeHTTP(w, r)
			return
		}
		a, ok := clientaddr.From(r.Context())
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if ref := l.address(a, class); ref != nil {
			writeHTTP(w, r, ref)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// UnaryInterceptor limits gRPC calls by client address (clientaddr's interceptor must run
// first), except the gateway's calls, already limited by Middleware, and health checks. It
// belongs before everything that does work, logging included: a flood is reported in
// aggregate, not call by call.
func (l *Limiter) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := l.admitAddress(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor is UnaryInterceptor for streaming calls: each call counts once.
func (l *Limiter) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := l.admitAddress(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

func (l *Limiter) admitAddress(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.") || clientaddr.ViaGateway(ctx) {
		return nil
	}
	a, ok := clientaddr.From(ctx)
	if !ok {
		return nil
	}
	if ref := l.address(a, l.classOf(method)); ref != nil {
		return grpcError(ctx, ref)
	}
	return nil
}

// RejectedToken is told of a call whose bearer token failed verification. Within the
// address's allowance it returns nil and the caller is told UNAUTHENTICATED (and the refusal
// logged); past it, the error to answer instead (and nothing is logged per call).
func (l *Limiter) RejectedToken(ctx context.Context) error {
	a, ok := clientaddr.From(ctx)
	if !ok {
		return nil
	}
	if ref := l.authFailures.take(l, addressKey(a)); ref != nil {
		return grpcError(ctx, ref)
	}
	return nil
}

// Admit limits an authenticated caller by subject, whatever address it calls from.
func (l *Limiter) Admit(ctx context.Context, method string, p auth.Principal) error {
	if p.Subject == "" {
		return nil
	}
	// Subjects of different roles may come from different issuers; keep them apart.
	if ref := l.subject(string(p.Role)+"\x00"+p.Subject, l.classOf(method)); ref != nil {
		return grpcError(ctx, ref)
	}
	return nil
}

// classOf is a gRPC method's class, from its REST mapping (google.api.http): a method REST
// serves with GET is a read, so REST and gRPC callers of one method count alike.
func (l *Limiter) classOf(method string) Class {
	if c, ok := l.methods.Load(method); ok {
		return c.(Class)
	}
	c := Mutation
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(method, "/"), "/", "."))
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(name); err == nil {
		if md, ok := d.(protoreflect.MethodDescriptor); ok {
			if rule, ok := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule); ok && rule.GetGet() != "" {
				c = Read
			}
		}
	}
	l.methods.Store(method, c)
	return c
}

// Messages of a refusal.
func refusalText(ref *refusal) i18n.Text {
	secs := retrySeconds(ref.retryAfter)
	if ref.limit == "auth_failures" {
		return i18n.Text{
			ID: fmt.Sprintf("terlalu banyak token tidak valid dari alamat Anda; coba lagi dalam %d detik", secs),
			EN: fmt.Sprintf("too many invalid tokens from your address; try again in %d seconds", secs),
		}
	}
	return i18n.Text{
		ID: fmt.Sprintf("terlalu banyak permintaan; coba lagi dalam %d detik", secs),
		EN: fmt.Sprintf("too many requests; try again in %d seconds", secs),
	}
}

// retrySeconds rounds a wait up to whole seconds (Retry-After has no fractions), at least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

func refusalStatus(lang i18n.Lang, ref *refusal) *status.Status {
	msg := refusalText(ref).In(lang)
	st := status.New(codes.ResourceExhausted, msg)
	withDetails, err := st.WithDetails(
		&errdetails.LocalizedMessage{Locale: string(lang), Message: msg},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(retrySeconds(ref.retryAfter)) * time.Second)},
		&errdetails.ErrorInfo{Reason: ReasonRateLimited, Domain: "seleksi", Metadata: map[string]string{"limit": ref.limit}},
	)
	if err != nil {
		return st
	}
	return withDetails
}

func grpcError(ctx context.Context, ref *refusal) error {
	return refusalStatus(grpcLanguage(ctx), ref).Err()
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

// writeHTTP answers a refused HTTP request as the gateway answers errors: the JSON form of
// google.rpc.Status, here with status 429 and Retry-After.
func writeHTTP(w http.ResponseWriter, r *http.Request, ref *refusal) {
	st := refusalStatus(i18n.FromAcceptLanguage(r.Header.Get("Accept-Language")), ref)
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		body = []byte(`{"code":8}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(ref.retryAfter)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}

// SetRetryAfter sets an HTTP response's Retry-After from a status's google.rpc.RetryInfo, so
// that REST callers refused by the gRPC server (by subject, or for bad tokens) learn when to
// come back as those refused at the HTTP edge do.
func SetRetryAfter(h http.Header, st *status.Status) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			h.Set("Retry-After", strconv.Itoa(retrySeconds(ri.GetRetryDelay().AsDuration())))
			return
		}
	}
}
