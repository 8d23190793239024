package telemetry

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// Names of the RPC metrics. The labels are those of go-grpc-prometheus, so that existing
// dashboards and alerts adapt with a prefix.
const (
	MetricRPCHandled  = "seleksi_grpc_server_handled_total"
	MetricRPCDuration = "seleksi_grpc_server_handling_seconds"
)

// rpcBuckets span quick reads to the exports and verifications that may take minutes.
func rpcBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
}

// rpcMetrics count every gRPC call the server finishes, with its code and duration.
type rpcMetrics struct {
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRPCMetrics(reg prometheus.Registerer) *rpcMetrics {
	labels := []string{"grpc_service", "grpc_method", "grpc_code"}
	m := &rpcMetrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRPCHandled,
			Help: "gRPC calls finished by the server (REST calls included: the gateway calls gRPC), by method and status code."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricRPCDuration,
			Help: "Time the server took to answer gRPC calls, by method and status code.", Buckets: rpcBuckets()}, labels),
	}
	reg.MustRegister(m.handled, m.duration)
	return m
}

func (m *rpcMetrics) observe(fullMethod string, err error, took time.Duration) {
	service, method := splitMethod(fullMethod)
	code := status.Code(err).String()
	m.handled.WithLabelValues(service, method, code).Inc()
	m.duration.WithLabelValues(service, method, code).Observe(took.Seconds())
}

// splitMethod splits "/seleksi.v1.SelectionService/GetSelection" into the service and the
// method. Only registered methods reach interceptors, so the label values are bounded.
func splitMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

func (m *rpcMetrics) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observe(info.FullMethod, err, time.Since(start))
		return resp, err
	}
}

func (m *rpcMetrics) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		m.observe(info.FullMethod, err, time.Since(start))
		return err
	}
}

// GRPCServerOptions instrument a gRPC server: the RPC metrics as its outermost interceptors
// (so calls refused by the rate limits or the authentication count too), and, when tracing
// is on, a server span per call continuing the caller's trace. Pass them before any other
// interceptor.
func (t *Telemetry) GRPCServerOptions() []grpc.ServerOption {
	if t == nil {
		return nil
	}
	unary, stream := t.GRPCInterceptors()
	opts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream)}
	if server, _ := t.GRPCStatsHandlers(); server != nil {
		opts = append(opts, grpc.StatsHandler(server))
	}
	return opts
}

// GRPCInterceptors are the RPC metrics' interceptors that GRPCServerOptions installs, for
// a caller that runs a server's interceptor chain itself (the in-process channel of
// internal/server); they belong first in the chain. Nil when t is nil.
func (t *Telemetry) GRPCInterceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	if t == nil {
		return nil, nil
	}
	return t.rpc.unary(), t.rpc.stream()
}

// GRPCStatsHandlers are the tracing's stats handlers of a gRPC server (a server span per
// call, continuing the caller's trace) and of its client (a client span whose context
// travels to the server), which GRPCServerOptions and GRPCDialOptions install. Both are nil
// when tracing is off.
func (t *Telemetry) GRPCStatsHandlers() (server, client stats.Handler) {
	if !t.Tracing() {
		return nil, nil
	}
	// Metrics come from the interceptors, in Prometheus's own names.
	return otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.tracer), otelgrpc.WithPropagators(t.propagator),
			otelgrpc.WithMeterProvider(noopMeters())),
		otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(t.tracer), otelgrpc.WithPropagators(t.propagator),
			otelgrpc.WithMeterProvider(noopMeters()))
}

// GRPCDialOptions instrument a gRPC client (the gateway's connection to the server): a
// client span per call, whose context travels to the server. Empty when tracing is off.
func (t *Telemetry) GRPCDialOptions() []grpc.DialOption {
	if _, client := t.GRPCStatsHandlers(); client != nil {
		return []grpc.DialOption{grpc.WithStatsHandler(client)}
	}
	return nil
}

// HTTPHandler wraps the HTTP server's handler with a span per request when tracing is on
// (the REST gateway's and the web pages' calls to the gRPC server become its children); it
// returns h itself otherwise. Spans are named by method only: paths carry IDs.
func (t *Telemetry) HTTPHandler(h http.Handler) http.Handler {
	if !t.Tracing() {
		return h
	}
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(t.tracer), otelhttp.WithPropagators(t.propagator),
		otelhttp.WithMeterProvider(noopMeters()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method }),
		// Probes and scrapes are not worth a trace each.
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/livez", MetricsPath:
				return false
			}
			return true
		}))
}
