package config

import (
	"flag"
	"fmt"
	"net"
	"net/url"
)

// --- Metrics and traces (issue 14 §6) ---

// Telemetry says where metrics are served and where traces go.
type Telemetry struct {
	// MetricsAddr is the listen address of a server of /metrics alone. Empty serves /metrics
	// on the HTTP address instead (modes all and api; a worker then serves none); MetricsOff
	// serves no metrics.
	MetricsAddr string
	// OTLPEndpoint is the URL of the OTLP/gRPC collector spans are exported to
	// (http://collector:4317 in plaintext, https:// over TLS).
	OTLPEndpoint string
	// OTLPFromEnvironment: no -otlp-endpoint, but the standard OTEL_EXPORTER_OTLP_ENDPOINT or
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; the exporter reads those itself.
	OTLPFromEnvironment bool
	// PprofAddr is the listen address of a server of Go's runtime profiles (/debug/pprof/)
	// alone; empty serves none. It must be a loopback address: the profiles are not
	// authenticated, show the service's internals and cost the server while they run, so
	// they are reached from the host itself (ssh, kubectl port-forward), never from the
	// network a scraper or the public reaches.
	PprofAddr string
}

// MetricsOff is the -metrics-addr that serves no metrics.
const MetricsOff = "off"

// MetricsOnHTTP reports whether /metrics is served on the HTTP address.
func (t Telemetry) MetricsOnHTTP() bool { return t.MetricsAddr == "" }

// MetricsListener reports whether /metrics has a listener of its own.
func (t Telemetry) MetricsListener() bool { return t.MetricsAddr != "" && t.MetricsAddr != MetricsOff }

// Tracing reports whether spans are exported.
func (t Telemetry) Tracing() bool { return t.OTLPEndpoint != "" || t.OTLPFromEnvironment }

// loopback reports whether addr is host:port with a loopback host (localhost, 127.0.0.0/8,
// ::1).
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// telemetryFlags registers the flags of metrics and traces on fs and returns the function
// that checks them after parsing.
func telemetryFlags(fs *flag.FlagSet, env func(name, def string) string, getenv func(string) string) func() (Telemetry, error) {
	var t Telemetry
	// -metrics-addr: a port of its own keeps /metrics off the public HTTP address.
	fs.StringVar(&t.MetricsAddr, "metrics-addr", env("SELEKSI_METRICS_ADDR", ""),
		"listen address of /metrics (Prometheus) alone, e.g. :9464; empty serves /metrics on -http-addr (a worker then serves none); off serves none [SELEKSI_METRICS_ADDR]")
	// -otlp-endpoint: where traces go.
	fs.StringVar(&t.OTLPEndpoint, "otlp-endpoint", env("SELEKSI_OTLP_ENDPOINT", ""),
		"URL of an OTLP/gRPC collector to export traces to (http://host:4317 plaintext, https://host:4317 TLS); empty uses OTEL_EXPORTER_OTLP_ENDPOINT if set, else traces are off [SELEKSI_OTLP_ENDPOINT]")
	fs.StringVar(&t.PprofAddr, "pprof-addr", env("SELEKSI_PPROF_ADDR", ""),
		"loopback listen address of Go's runtime profiles (/debug/pprof/) alone, e.g. 127.0.0.1:6060; empty serves none [SELEKSI_PPROF_ADDR]")
	return func() (Telemetry, error) {
		if a := t.PprofAddr; a != "" && !loopback(a) {
			return Telemetry{}, fmt.Errorf("-pprof-addr %q: want a loopback address such as 127.0.0.1:6060 (profiles are not authenticated; reach them with ssh or kubectl port-forward)", a)
		}
		if a := t.MetricsAddr; a != "" && a != MetricsOff {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return Telemetry{}, fmt.Errorf("-metrics-addr %q: want host:port, :port or off", a)
			}
		}
		if e := t.OTLPEndpoint; e != "" {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return Telemetry{}, fmt.Errorf("-otlp-endpoint %q: want http://host:port or https://host:port", e)
			}
		} else {
			t.OTLPFromEnvironment = getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
		}
		return t, nil
	}
}
