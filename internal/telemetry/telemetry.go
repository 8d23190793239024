// Package telemetry owns seleksid's metrics and traces: the Prometheus registry served at
// /metrics (RPC counts and latency, the Temporal SDK's metrics, gauges of the store's state,
// the Go runtime), and the OpenTelemetry tracer provider that exports spans by OTLP when a
// collector is configured. Without one, no tracer is installed anywhere and tracing costs
// nothing.
//
// It imports nothing of Seleksi's: the store's state reaches it as a Stats function (see
// stats.go), and the wiring (internal/app) hands its options to the gRPC server, the gateway,
// the Temporal client and the store.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// MetricsPath is where the metrics are served.
const MetricsPath = "/metrics"

// temporalBuckets span the Temporal SDK's latencies: requests and task executions of
// milliseconds, long polls of a minute, tasks waiting for a worker.
func temporalBuckets() []float64 {
	return []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
}

// Options configure the telemetry of one process.
type Options struct {
	// ServiceName names the process in traces (service.name); default "seleksid".
	ServiceName string
	// Mode is seleksid's mode (all, api, worker), recorded on every span's resource.
	Mode string
	// OTLPEndpoint is the URL of an OTLP/gRPC collector: http://host:4317 in plaintext,
	// https://host:4317 over TLS.
	OTLPEndpoint string
	// OTLPFromEnvironment exports to the collector the standard OTEL_EXPORTER_OTLP_*
	// variables name, when OTLPEndpoint is empty. With neither, spans are not recorded.
	OTLPFromEnvironment bool
	// SpanExporter, when set, receives the spans instead of an OTLP collector (tests).
	SpanExporter sdktrace.SpanExporter
	Logger       *slog.Logger
}

// Telemetry is one process's metrics registry and tracer provider. A nil *Telemetry is
// valid: it records nothing and its options are empty.
type Telemetry struct {
	logger   *slog.Logger
	registry *prometheus.Registry
	rpc      *rpcMetrics
	meters   *sdkmetric.MeterProvider
	// tracer is nil when tracing is off.
	tracer     *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// New builds the registry (with the Go runtime and process collectors, the RPC metrics and
// the bridge the Temporal SDK's metrics go through) and, when a collector is configured, the
// tracer provider. Spans are sampled by the standard OTEL_TRACES_SAMPLER variables (default:
// every trace, or as the caller's trace was sampled).
func New(ctx context.Context, opts Options) (*Telemetry, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ServiceName == "" {
		opts.ServiceName = "seleksid"
	}
	t := &Telemetry{
		logger:   opts.Logger,
		registry: prometheus.NewRegistry(),
		// Trace context only: W3C baggage is text any anonymous caller sends, and the
		// tracing interceptor would carry it in workflow headers, which the payload codec
		// does not encrypt, into Temporal's database.
		propagator: propagation.TraceContext{},
	}
	t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t.rpc = newRPCMetrics(t.registry)

	// The Temporal SDK reports through an OpenTelemetry meter; this exporter turns the meter's
	// instruments into Prometheus metrics of the same registry when it is scraped.
	exporter, err := otelprom.New(otelprom.WithRegisterer(t.registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: metrics exporter: %w", err)
	}
	t.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter),
		// The SDK's timers are histograms in seconds; OpenTelemetry's default buckets (0 to
		// 10,000) are meant for milliseconds and would put every latency in the first one.
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: temporalBuckets()}})))

	exp := opts.SpanExporter
	if exp == nil {
		if exp, err = otlpExporter(ctx, opts); err != nil {
			return nil, errors.Join(err, t.meters.Shutdown(ctx))
		}
	}
	if exp != nil {
		res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
			resource.WithAttributes(attribute.String("service.name", opts.ServiceName), attribute.String("seleksi.mode", opts.Mode)))
		if err != nil {
			// A malformed OTEL_RESOURCE_ATTRIBUTES leaves the resource partial, not unusable.
			opts.Logger.Warn("telemetry: trace resource", "error", err)
		}
		t.tracer = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	}
	return t, nil
}

// otlpExporter is the OTLP/gRPC span exporter when a collector is configured, or nil.
func otlpExporter(ctx context.Context, opts Options) (sdktrace.SpanExporter, error) {
	var eo []otlptracegrpc.Option
	switch {
	case opts.OTLPEndpoint != "":
		eo = append(eo, otlptracegrpc.WithEndpointURL(opts.OTLPEndpoint))
	case opts.OTLPFromEnvironment:
		// The exporter reads the standard variables (endpoint, headers, TLS) itself.
	default:
		return nil, nil
	}
	// The exporter connects lazily: a collector that is down at start loses spans, not the
	// process.
	exp, err := otlptracegrpc.New(ctx, eo...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP trace exporter: %w", err)
	}
	return exp, nil
}

// Handler serves the metrics in Prometheus's text format. A collector that fails (the store
// is unreachable) leaves its metrics out of that scrape instead of failing it.
func (t *Telemetry) Handler() http.Handler {
	if t == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(t.logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		// A scrape that overlaps the previous one (a slow store) waits rather than doubling
		// the store's work.
		MaxRequestsInFlight: 2,
	})
}

// Tracing reports whether spans are recorded and exported.
func (t *Telemetry) Tracing() bool { return t != nil && t.tracer != nil }

// TracerProvider is the provider spans are started from: a no-op one when tracing is off.
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if !t.Tracing() {
		return noop.NewTracerProvider()
	}
	return t.tracer
}

// Propagator carries trace context across process boundaries (W3C traceparent and baggage).
func (t *Telemetry) Propagator() propagation.TextMapPropagator {
	if t == nil {
		return propagation.NewCompositeTextMapPropagator()
	}
	return t.propagator
}

// ForceFlush exports the spans ended so far (tests, and before a planned exit).
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if !t.Tracing() {
		return nil
	}
	return t.tracer.ForceFlush(ctx)
}

// Shutdown exports the spans still buffered and stops the exporters. Call it last, after
// the servers and the worker stopped, so their final spans are exported.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.tracer != nil {
		if err := t.tracer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("telemetry: tracer shutdown: %w", err))
		}
	}
	if err := t.meters.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("telemetry: meter shutdown: %w", err))
	}
	return errors.Join(errs...)
}
