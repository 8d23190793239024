package app

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/bkpsdm/seleksi/internal/bodylimit"
	"github.com/bkpsdm/seleksi/internal/clientaddr"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/ratelimit"
	"github.com/bkpsdm/seleksi/internal/telemetry"
)

// Limits are what the transport holds callers to before the services see their requests
// (issue 10, items 1 and 2). The zero value has the default sizes and timeouts and no rate
// limits.
type Limits struct {
	// MaxRequestBytes is the largest REST/JSON body and gRPC message (default 1 MiB).
	MaxRequestBytes int64
	// ReadTimeout bounds reading a whole HTTP request, headers and body (default 30 s), so a
	// body trickled a byte at a time cannot hold a connection.
	ReadTimeout time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Rates are the rate limits; the zero Policy limits nothing.
	Rates ratelimit.Policy
}

// HTTP and gRPC connection timeouts that need no tuning per deployment.
const (
	// readHeaderTimeout bounds a request's headers, which are small.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection with no request for this long.
	idleTimeout = 2 * time.Minute
	// grpcHandshakeTimeout bounds a new gRPC connection's setup (gRPC's default is 2 min).
	grpcHandshakeTimeout = 10 * time.Second
)

func (l Limits) withDefaults() Limits {
	if l.MaxRequestBytes <= 0 {
		l.MaxRequestBytes = bodylimit.DefaultMaxBytes
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 30 * time.Second
	}
	return l
}

// edge is the transport's protection: who the client is, how often and how much it may send.
type edge struct {
	limits   Limits
	resolver *clientaddr.Resolver
	limiter  *ratelimit.Limiter
}

func newEdge(l Limits, logger *slog.Logger) *edge {
	l = l.withDefaults()
	return &edge{
		limits: l,
		// No connection of the gateway's needs recognising: it calls the services in
		// process, which the resolver recognises by itself.
		resolver: clientaddr.NewResolver(l.TrustedProxies, nil),
		limiter:  ratelimit.New(l.Rates, logger, time.Now),
	}
}

// probe reports requests from health probes and metrics scrapes, which are never rate
// limited: a kubelet probing every few seconds must not make a pod look dead, nor a scrape
// leave a gap in the metrics.
func probe(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/livez", telemetry.MetricsPath:
		return true
	}
	return false
}

// apiPath reports a path of the API (the REST gateway, its OpenAPI document and the probes);
// every other path belongs to the web application.
func apiPath(p string) bool {
	return strings.HasPrefix(p, "/v1/") || p == "/v1" || p == "/openapi.json" || p == "/healthz" || p == "/readyz"
}

// staticAsset reports a request for one of the web application's assets (stylesheet,
// scripts): cached by browsers, cheap, and not an action of anyone's.
func staticAsset(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/static/")
}

// UploadsPath is where the resumable document uploads (tus) are served.
const UploadsPath = "/v1/uploads/"

// WebUploadsPath is the prefix of the web application's upload routes (internal/web): forms
// carrying a file, and the browser's resumable uploads relayed to UploadsPath.
const WebUploadsPath = "/unggah/"

// webFormOverhead is what a multipart form may carry beside its largest file: the other
// fields and the part headers.
const webFormOverhead = 1 << 20

// uploadChunk reports a request to an existing upload (its chunks, its offset, its
// cancellation), as opposed to the creation of one.
func uploadChunk(r *http.Request) bool {
	for _, prefix := range []string{UploadsPath, WebUploadsPath + "tus/"} {
		if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok && strings.Trim(rest, "/") != "" {
			return true
		}
	}
	return false
}

// classify is the rate-limit class of an HTTP request. Uploads get their own treatment: the
// creation of an upload is a mutation like any other (and the upload handler counts it
// against the subject's mutations too), but the chunks of one are not actions of their own:
// a 5 MiB file in 1 MiB chunks would spend six mutations, and a rush of candidates behind one
// NAT would be refused halfway through their files. Chunks count as reads instead, bounded
// in number by the read allowance and in bytes by the upload they belong to, which the
// candidate declared within the selection's size limit when creating it.
func classify(r *http.Request) (ratelimit.Class, bool) {
	switch {
	case probe(r), staticAsset(r):
		return 0, false
	case uploadChunk(r):
		return ratelimit.Read, true
	case strings.HasPrefix(r.URL.Path, CodecPath):
		// The Web UI decodes a history's payloads in many small POSTs, none of them a change.
		return ratelimit.Read, true
	}
	return ratelimit.MethodClass(r), true
}

// httpHandler wraps the gateway: the client address is resolved first, then its rate is
// checked, then the body is read within its limit; only then does the gateway authenticate
// and parse anything. Upload bodies are not read here but streamed to the upload handler,
// bounded by the largest document any selection may accept.
func (e *edge) httpHandler(gateway http.Handler) http.Handler {
	h := bodylimit.Middleware(gateway, bodylimit.Policy{Default: e.limits.MaxRequestBytes, Routes: []bodylimit.Route{
		{Prefix: UploadsPath, MaxBytes: documents.MaxBytesLimit, Stream: true},
		// The web application's uploads (a document, a score sheet) are multipart forms or
		// tus requests relayed to the upload handler: streamed, never read whole here.
		{Prefix: WebUploadsPath, MaxBytes: documents.MaxBytesLimit + webFormOverhead, Stream: true},
	}})
	h = e.limiter.ClassifiedMiddleware(h, classify)
	return e.resolver.Middleware(h)
}

// httpServer sets the HTTP server's timeouts. There is no WriteTimeout: it would cut off
// long downloads (exports), and a response is only written once the request has been read.
func (e *edge) httpServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       e.limits.ReadTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// grpcOptions bound the network server's messages to the request limit, and bound its
// connections: handshakes, idle connections and dead peers.
func (e *edge) grpcOptions() []grpc.ServerOption {
	return append(bodylimit.ServerOptions(e.limits.MaxRequestBytes),
		grpc.ConnectionTimeout(grpcHandshakeTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			// Idle connections are closed (the gateway's own reconnects by itself), and a
			// silent peer is pinged and dropped if it does not answer.
			MaxConnectionIdle: 5 * time.Minute,
			Time:              time.Minute,
			Timeout:           20 * time.Second,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 20 * time.Second, PermitWithoutStream: true}),
	)
}

// grpcInterceptors resolve the client address and limit it before any interceptor of the
// services runs, on the network server and on the in-process channel alike.
func (e *edge) grpcInterceptors() ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	return []grpc.UnaryServerInterceptor{e.resolver.UnaryInterceptor(), e.limiter.UnaryInterceptor()},
		[]grpc.StreamServerInterceptor{e.resolver.StreamInterceptor(), e.limiter.StreamInterceptor()}
}
