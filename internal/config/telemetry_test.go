package config

import (
	"io"
	"strings"
	"testing"
)

// TestTelemetryFlags: /metrics is on the HTTP address by default, on a listener of its own
// with -metrics-addr, or off; traces go to -otlp-endpoint or to the collector the standard
// OTEL_EXPORTER_OTLP_* variables name, and are off without either. Malformed values are
// refused with the flag's name.
func TestTelemetryFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		want     Telemetry
		onHTTP   bool
		listener bool
		tracing  bool
		err      string
	}{
		{name: "defaults", want: Telemetry{}, onHTTP: true},
		{name: "own listener", args: []string{"-metrics-addr", ":9464"}, want: Telemetry{MetricsAddr: ":9464"}, listener: true},
		{name: "from the environment", env: map[string]string{"SELEKSI_METRICS_ADDR": "127.0.0.1:9464", "SELEKSI_OTLP_ENDPOINT": "http://otel:4317"},
			want: Telemetry{MetricsAddr: "127.0.0.1:9464", OTLPEndpoint: "http://otel:4317"}, listener: true, tracing: true},
		{name: "off", args: []string{"-metrics-addr", "off"}, want: Telemetry{MetricsAddr: MetricsOff}},
		{name: "standard OTLP variable", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example:4317"},
			want: Telemetry{OTLPFromEnvironment: true}, onHTTP: true, tracing: true},
		{name: "standard traces variable", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://otel:4317"},
			want: Telemetry{OTLPFromEnvironment: true}, onHTTP: true, tracing: true},
		{name: "profiles on loopback", args: []string{"-pprof-addr", "127.0.0.1:6060"},
			want: Telemetry{PprofAddr: "127.0.0.1:6060"}, onHTTP: true},
		{name: "profiles on IPv6 loopback from the environment", env: map[string]string{"SELEKSI_PPROF_ADDR": "[::1]:0"},
			want: Telemetry{PprofAddr: "[::1]:0"}, onHTTP: true},
		{name: "profiles on localhost", args: []string{"-pprof-addr", "localhost:6060"},
			want: Telemetry{PprofAddr: "localhost:6060"}, onHTTP: true},
		{name: "profiles on every interface", args: []string{"-pprof-addr", ":6060"}, err: "-pprof-addr"},
		{name: "profiles on a network address", args: []string{"-pprof-addr", "10.0.0.5:6060"}, err: "-pprof-addr"},
		{name: "profiles without a port", args: []string{"-pprof-addr", "127.0.0.1"}, err: "-pprof-addr"},
		{name: "bad metrics address", args: []string{"-metrics-addr", "9464"}, err: "-metrics-addr"},
		{name: "endpoint without a scheme", args: []string{"-otlp-endpoint", "otel:4317"}, err: "-otlp-endpoint"},
		{name: "endpoint of another scheme", args: []string{"-otlp-endpoint", "grpc://otel:4317"}, err: "-otlp-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.Telemetry
			if got != tt.want || got.MetricsOnHTTP() != tt.onHTTP || got.MetricsListener() != tt.listener || got.Tracing() != tt.tracing {
				t.Errorf("%+v (on HTTP %v, listener %v, tracing %v), want %+v (%v, %v, %v)", got, got.MetricsOnHTTP(),
					got.MetricsListener(), got.Tracing(), tt.want, tt.onHTTP, tt.listener, tt.tracing)
			}
		})
	}
}
