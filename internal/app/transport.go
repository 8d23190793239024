package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/gateway"
	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/telemetry"
	"github.com/bkpsdm/seleksi/internal/tlsconfig"
)

// Transport is the network edge of seleksid: the gRPC server and the HTTP gateway in front
// of it. It owns their listeners so that ":0" addresses (tests) resolve before serving, and
// it stops them in the order that loses no request.
type Transport struct {
	logger  *slog.Logger
	grpc    *server.GRPC
	http    *http.Server
	grpcLis net.Listener
	httpLis net.Listener
	// loopback are the credentials of this process's own connections to its gRPC server
	// (the demonstration's): plain text, or TLS that trusts exactly the server's
	// certificate (tlsconfig.LoopbackClient).
	loopback grpc.DialOption
	// tls reports whether both servers speak TLS.
	tls  bool
	errs chan error
	// drain cuts off calls still running when the shutdown's time for them is up.
	drain    *drain
	stopOnce sync.Once
	stopErr  error
}

// TransportOption configures a Transport.
type TransportOption func(*transportOptions)

type transportOptions struct {
	limits    Limits
	deadlines server.Deadlines
	uploads   func(documents.Limiter) http.Handler
	web       func(conn grpc.ClientConnInterface) (http.Handler, error)
	jwks      http.Handler
	codec     http.Handler
	tls       *tlsconfig.Server
	// clientAuthHTTP requires client certificates on the HTTP server too.
	clientAuthHTTP bool
	telemetry      *telemetry.Telemetry
	metrics        bool
}

// WithJWKS serves the key set of the API's verification keys at JWKSPath.
func WithJWKS(h http.Handler) TransportOption {
	return func(o *transportOptions) { o.jwks = h }
}

// WithCodec serves the payload codec endpoint (codecHandler) at CodecPath.
func WithCodec(h http.Handler) TransportOption {
	return func(o *transportOptions) { o.codec = h }
}

// WithTLS makes both servers speak TLS only, with the certificate of s (read again when its
// files change). When s has a client CA, the gRPC server requires client certificates of
// it; the HTTP server, which browsers call, only when clientAuthHTTP is set. The gateway
// and the web pages reach the gRPC server with an identity of their own that lives in this
// process only.
func WithTLS(s *tlsconfig.Server, clientAuthHTTP bool) TransportOption {
	return func(o *transportOptions) { o.tls, o.clientAuthHTTP = s, clientAuthHTTP }
}

// WithTelemetry counts and traces the calls (internal/telemetry) and, when serveMetrics,
// serves the metrics at telemetry.MetricsPath on the HTTP address.
func WithTelemetry(tel *telemetry.Telemetry, serveMetrics bool) TransportOption {
	return func(o *transportOptions) { o.telemetry, o.metrics = tel, serveMetrics }
}

// WithWeb serves the web application (internal/web) at every path that is not the API's;
// build makes its handler, given the in-process channel to the gRPC services the gateway
// uses.
func WithWeb(build func(conn grpc.ClientConnInterface) (http.Handler, error)) TransportOption {
	return func(o *transportOptions) { o.web = build }
}

// WithUploads serves the resumable document uploads (internal/documents) at UploadsPath;
// build makes their handler, given the transport's rate limiter.
func WithUploads(build func(documents.Limiter) http.Handler) TransportOption {
	return func(o *transportOptions) { o.uploads = build }
}

// WithLimits sets the request limits (sizes, timeouts, rate limits); without it the
// defaults of Limits apply.
func WithLimits(l Limits) TransportOption {
	return func(o *transportOptions) { o.limits = l }
}

// WithDeadlines sets the server-side deadline of every RPC; without it (or with zero
// durations) server.DefaultDeadlines apply.
func WithDeadlines(d server.Deadlines) TransportOption {
	return func(o *transportOptions) { o.deadlines = d }
}

// NewTransport listens on both addresses and builds the servers; nothing is served until
// Start.
func NewTransport(ctx context.Context, logger *slog.Logger, grpcAddr, httpAddr string, verifier auth.Verifier, svcs server.Services, opts ...TransportOption) (_ *Transport, err error) {
	t := &Transport{logger: logger, errs: make(chan error, 2), drain: newDrain()}
	var o transportOptions
	for _, opt := range opts {
		opt(&o)
	}
	edge := newEdge(o.limits, logger)
	defer func() {
		if err != nil {
			t.closeListeners()
		}
	}()
	if t.grpcLis, err = net.Listen("tcp", grpcAddr); err != nil {
		return nil, fmt.Errorf("listen gRPC on %s: %w", grpcAddr, err)
	}
	if t.httpLis, err = net.Listen("tcp", httpAddr); err != nil {
		return nil, fmt.Errorf("listen HTTP on %s: %w", httpAddr, err)
	}
	// The metrics' interceptors come first, so calls the edge refuses are counted too.
	metricsUnary, metricsStream := o.telemetry.GRPCInterceptors()
	edgeUnary, edgeStream := edge.grpcInterceptors()
	serverStats, clientStats := o.telemetry.GRPCStatsHandlers()
	grpcEdge := server.Edge{
		Unary:       append(append([]grpc.UnaryServerInterceptor{metricsUnary}, edgeUnary...), t.drain.unary()),
		Stream:      append(append([]grpc.StreamServerInterceptor{metricsStream}, edgeStream...), t.drain.stream()),
		ServerStats: serverStats,
		ClientStats: clientStats,
	}
	grpcOpts := edge.grpcOptions()
	t.loopback = grpc.WithTransportCredentials(insecure.NewCredentials())
	var httpTLS *tls.Config
	if o.tls != nil {
		t.tls = true
		grpcAuth, httpAuth := tls.NoClientCert, tls.NoClientCert
		if o.tls.ClientCertificates() {
			grpcAuth = tls.RequireAndVerifyClientCert
			if o.clientAuthHTTP {
				httpAuth = tls.RequireAndVerifyClientCert
			}
		}
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(o.tls.Config(grpcAuth))))
		httpTLS = o.tls.Config(httpAuth, "h2", "http/1.1")
		loop, err := tlsconfig.LoopbackClient(o.tls, time.Now())
		if err != nil {
			return nil, fmt.Errorf("gateway TLS: %w", err)
		}
		t.loopback = grpc.WithTransportCredentials(credentials.NewTLS(loop))
	}
	if t.grpc, err = server.NewGRPC(logger, verifier, svcs, o.deadlines, edge.limiter, grpcEdge, grpcOpts...); err != nil {
		return nil, err
	}
	// The gateway and the web pages call the services in process, through exactly the same
	// interceptors (validation, auth, limits, metrics) as gRPC callers, but without a
	// connection: over loopback each call cost more than the read it asked for.
	handler, err := gateway.New(ctx, t.grpc.Local, logger)
	if err != nil {
		return nil, err
	}
	var up, pages http.Handler
	if o.uploads != nil {
		up = o.uploads(edge.limiter)
	}
	if o.web != nil {
		if pages, err = o.web(t.grpc.Local); err != nil {
			return nil, fmt.Errorf("web application: %w", err)
		}
	}
	gw := handler
	metrics := o.telemetry.Handler()
	handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case o.metrics && r.URL.Path == telemetry.MetricsPath:
			metrics.ServeHTTP(w, r)
		case up != nil && strings.HasPrefix(r.URL.Path, UploadsPath):
			up.ServeHTTP(w, r)
		case o.jwks != nil && r.URL.Path == JWKSPath:
			o.jwks.ServeHTTP(w, r)
		case o.codec != nil && strings.HasPrefix(r.URL.Path, CodecPath):
			o.codec.ServeHTTP(w, r)
		case pages != nil && !apiPath(r.URL.Path):
			pages.ServeHTTP(w, r)
		default:
			gw.ServeHTTP(w, r)
		}
	})
	t.http = edge.httpServer(o.telemetry.HTTPHandler(edge.httpHandler(handler)), logger)
	t.http.TLSConfig = httpTLS
	return t, nil
}

// GRPCAddr is the address the gRPC server listens on.
func (t *Transport) GRPCAddr() string { return t.grpcLis.Addr().String() }

// HTTPAddr is the address the gateway listens on.
func (t *Transport) HTTPAddr() string { return t.httpLis.Addr().String() }

// Readiness is what the gRPC health service and /readyz report; the readiness checker
// reports the dependencies to it.
func (t *Transport) Readiness() *health.Readiness { return t.grpc.Readiness }

// Errors reports a server that stopped serving on its own (not through Shutdown).
func (t *Transport) Errors() <-chan error { return t.errs }

// Start serves both listeners in the background and reports health SERVING while the
// dependencies are reachable.
func (t *Transport) Start() {
	go func() {
		if err := t.grpc.Serve(t.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.errs <- fmt.Errorf("gRPC server: %w", err)
		}
	}()
	go func() {
		serve := t.http.Serve
		if t.tls {
			// The certificate comes from TLSConfig (read again when its files change).
			serve = func(l net.Listener) error { return t.http.ServeTLS(l, "", "") }
		}
		if err := serve(t.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.errs <- fmt.Errorf("HTTP server: %w", err)
		}
	}()
	t.grpc.SetServing()
	t.logger.Info("serving", "grpc", t.GRPCAddr(), "http", t.HTTPAddr(), "tls", t.tls)
}

// Shutdown stops in the order that loses no request: health goes NOT_SERVING so balancers
// route elsewhere; the HTTP server stops accepting and waits for its in-flight requests
// (which are themselves gRPC calls); then the gRPC server drains. All of that has most of
// ctx's time; in the rest, calls still running are cut off with an answer that tells their
// clients to send again (see drain), and whatever connection is left is closed, so
// Shutdown returns by ctx's deadline. It reports what had to be cut off.
func (t *Transport) Shutdown(ctx context.Context) error {
	t.stopOnce.Do(func() { t.stopErr = t.shutdown(ctx) })
	return t.stopErr
}

// cutOffReserve is the part of the transport's time kept for cutting off what is left.
func cutOffReserve(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return min(2*time.Second, time.Until(deadline)/5)
}

func (t *Transport) shutdown(ctx context.Context) error {
	t.grpc.SetNotServing()
	drainCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		drainCtx, cancel = context.WithDeadline(ctx, deadline.Add(-cutOffReserve(ctx)))
		defer cancel()
	}
	var errs []error
	httpErr := t.http.Shutdown(drainCtx)
	stopped := make(chan struct{})
	go func() {
		t.grpc.GracefulStop()
		close(stopped)
	}()
	// GracefulStop waits for the calls that came over the network only. The gateway's and
	// the pages' calls come in process, and one whose HTTP client went away keeps running
	// after its request has ended: wait for those too, before the store and the Temporal
	// client they use are closed.
	drained := make(chan struct{})
	go func() {
		<-stopped
		<-t.drain.idle()
		close(drained)
	}()
	select {
	case <-drained:
	case <-drainCtx.Done():
		t.drain.cutOff()
		select {
		case <-drained:
		case <-ctx.Done():
			// A handler ignored its cancelled context: close its connection under it.
			// An in-process call that does the same is left to end with the process.
			t.grpc.Stop()
			<-stopped
		}
		errs = append(errs, fmt.Errorf("gRPC drain: calls still running were cut off: %w", drainCtx.Err()))
	}
	if httpErr != nil {
		// The HTTP requests still in flight were waiting for gRPC calls that have just
		// ended: let them write their answers, then close whatever is left.
		if err := t.http.Shutdown(ctx); err != nil {
			_ = t.http.Close()
		}
		errs = append(errs, fmt.Errorf("HTTP drain: %w", httpErr))
	}
	// The servers close only the listeners their Serve goroutines have started on: a
	// shutdown that comes before a goroutine has run would leave its port accepting
	// connections into the backlog, which nobody answers.
	t.closeListeners()
	return errors.Join(errs...)
}

func (t *Transport) closeListeners() {
	for _, l := range []net.Listener{t.grpcLis, t.httpLis} {
		if l != nil {
			_ = l.Close()
		}
	}
}

// loopback turns a wildcard listen address (":9090", "[::]:9090") into one a client can
// dial on this host.
func loopback(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(addr.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr.String()
}
