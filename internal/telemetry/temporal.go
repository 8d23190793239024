package telemetry

import (
	"fmt"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// TemporalMetricsHandler is the Temporal client's metrics handler: the SDK's metrics
// (requests, workflow and activity task latencies, slots, failures) become Prometheus metrics
// named temporal_* in the registry. Nil without telemetry (the SDK then records nothing).
func (t *Telemetry) TemporalMetricsHandler() client.MetricsHandler {
	if t == nil {
		return nil
	}
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: t.meters.Meter("go.temporal.io/sdk"),
		// The SDK's counters only go up; as monotonic counters they get Prometheus's _total.
		UseMonotonicCounters: true,
		// The default panics; a metric that cannot be recorded is not worth a process.
		OnError: func(err error) { t.logger.Warn("telemetry: Temporal SDK metric", "error", err) },
	})
}

// TemporalInterceptors trace the Temporal client and, through it, the worker: starting a
// workflow or sending an update continues the caller's span (an RPC's), and the span context
// travels in the workflow's headers to the workflow, its activities, and the store calls the
// activities make. Empty when tracing is off: nothing is added to any header.
func (t *Telemetry) TemporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	if !t.Tracing() {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.tracer.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: t.propagator,
		// Status reads by query are frequent and say nothing about the process.
		DisableQueryTracing: true,
		// Headers are not encrypted (see New): no caller-supplied baggage goes into them.
		DisableBaggage: true,
	})
	if err != nil {
		return nil, fmt.Errorf("telemetry: Temporal tracing interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// noopMeters keeps OpenTelemetry instrumentations from recording metrics of their own: the
// metrics come from Prometheus collectors instead.
func noopMeters() metric.MeterProvider { return metricnoop.NewMeterProvider() }
