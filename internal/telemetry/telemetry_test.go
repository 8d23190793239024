package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/bkpsdm/seleksi/internal/telemetry/scrapetest"
)

func newTelemetry(t *testing.T, opts Options) *Telemetry {
	t.Helper()
	tel, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func scrape(t *testing.T, tel *Telemetry) scrapetest.Page {
	t.Helper()
	srv := httptest.NewServer(tel.Handler())
	defer srv.Close()
	return scrapetest.Get(t, srv.URL+MetricsPath)
}

// healthService answers Check with the code named by the service it is asked about.
type healthService struct {
	healthpb.UnimplementedHealthServer
	check func(ctx context.Context) error
}

func (h healthService) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if h.check != nil {
		if err := h.check(ctx); err != nil {
			return nil, err
		}
	}
	switch req.GetService() {
	case "missing":
		return nil, status.Error(codes.NotFound, "no such service")
	case "denied":
		return nil, status.Error(codes.PermissionDenied, "denied")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// serve runs a gRPC server instrumented by tel with svc, and returns a client connection to
// it, instrumented too.
func serve(t *testing.T, tel *Telemetry, svc healthpb.HealthServer) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(tel.GRPCServerOptions()...)
	healthpb.RegisterHealthServer(s, svc)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), append(tel.GRPCDialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestRPCMetrics: every finished call is counted and timed by service, method and code.
func TestRPCMetrics(t *testing.T) {
	tel := newTelemetry(t, Options{})
	client := healthpb.NewHealthClient(serve(t, tel, healthService{}))
	ctx := context.Background()
	for _, svc := range []string{"", "", "missing", "denied", "denied", "denied"} {
		_, _ = client.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
	}
	page := scrape(t, tel)
	tests := []struct {
		code string
		want float64
	}{{"OK", 2}, {"NotFound", 1}, {"PermissionDenied", 3}}
	for _, tt := range tests {
		labels := map[string]string{"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check", "grpc_code": tt.code}
		if got, ok := page.Value(MetricRPCHandled, labels); !ok || got != tt.want {
			t.Errorf("%s %v = %v (found %v), want %v; series: %s", MetricRPCHandled, labels, got, ok, tt.want, page.Series(MetricRPCHandled))
		}
		if got, ok := page.Value(MetricRPCDuration, labels); !ok || got != tt.want {
			t.Errorf("%s count %v = %v (found %v), want %v", MetricRPCDuration, labels, got, ok, tt.want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !page.Has(name) {
			t.Errorf("%s missing from the page", name)
		}
	}
}

// TestStoreStats: the store gauges are read at each scrape; when the store cannot be read,
// the scrape still answers, with seleksi_store_stats_up 0 and without the gauges.
func TestStoreStats(t *testing.T) {
	tel := newTelemetry(t, Options{})
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var fail error
	read := func(context.Context) (Stats, error) {
		if fail != nil {
			return Stats{}, fail
		}
		return Stats{
			Selections:           map[string]int64{"STAGE_ANNOUNCEMENT": 3, "STAGE_INTERVIEW": 0},
			Blocked:              map[string]int64{"CalendarNotCovered": 2},
			OutboxPending:        7,
			OutboxOldestPending:  now.Add(-90 * time.Second),
			DeadLetters:          4,
			ArchivePending:       1,
			ArchiveOldestPending: now.Add(-10 * time.Minute),
		}, nil
	}
	if err := tel.RegisterStats(read, time.Second, func() time.Time { return now }); err != nil {
		t.Fatal(err)
	}
	page := scrape(t, tel)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{MetricStatsUp, nil, 1},
		{MetricSelections, map[string]string{"stage": "STAGE_ANNOUNCEMENT"}, 3},
		{MetricSelections, map[string]string{"stage": "STAGE_INTERVIEW"}, 0},
		{MetricSelectionsBlocked, map[string]string{"reason": "CalendarNotCovered"}, 2},
		{MetricOutboxPending, nil, 7},
		{MetricOutboxOldestPending, nil, 90},
		{MetricDeadLetters, nil, 4},
		{MetricArchivePending, nil, 1},
		{MetricArchiveLag, nil, 600},
	}
	for _, tt := range tests {
		if got, ok := page.Value(tt.name, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}

	fail = errors.New("store unreachable")
	page = scrape(t, tel)
	if got, ok := page.Value(MetricStatsUp, nil); !ok || got != 0 {
		t.Errorf("%s = %v (found %v) while the store fails, want 0", MetricStatsUp, got, ok)
	}
	if page.Has(MetricSelections) || page.Has(MetricOutboxPending) {
		t.Errorf("gauges reported while the store fails: %s", page.Series(MetricSelections))
	}
	if !page.Has(MetricRPCHandled) && !page.Has("go_goroutines") {
		t.Errorf("the rest of the page is missing while the store fails")
	}
}

// TestTemporalMetrics: what the Temporal SDK records through the handler is on the page, its
// counters as Prometheus counters and its timers as histograms in seconds.
func TestTemporalMetrics(t *testing.T) {
	tel := newTelemetry(t, Options{})
	h := tel.TemporalMetricsHandler().WithTags(map[string]string{"namespace": "seleksi", "operation": "StartWorkflowExecution"})
	h.Counter("temporal_request").Inc(3)
	h.Timer("temporal_request_latency").Record(250 * time.Millisecond)
	h.Gauge("temporal_worker_task_slots_available").Update(5)
	page := scrape(t, tel)
	labels := map[string]string{"namespace": "seleksi", "operation": "StartWorkflowExecution"}
	tests := []struct {
		name string
		want float64
	}{
		{"temporal_request_total", 3},
		{"temporal_request_latency_seconds", 1},
		{"temporal_worker_task_slots_available", 5},
	}
	for _, tt := range tests {
		if got, ok := page.Value(tt.name, labels); !ok || got != tt.want {
			t.Errorf("%s = %v (found %v), want %v; on the page: %v", tt.name, got, ok, tt.want, names(page))
		}
	}
	// Timers are in seconds, with buckets for seconds: 250 ms is above 0.1 and within 0.25.
	fam := page["temporal_request_latency_seconds"]
	if fam == nil || len(fam.GetMetric()) == 0 {
		t.Fatal("no latency histogram")
	}
	want := map[float64]uint64{0.1: 0, 0.25: 1}
	matched := 0
	for _, b := range fam.GetMetric()[0].GetHistogram().GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok {
			matched++
			if b.GetCumulativeCount() != w {
				t.Errorf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
			}
		}
	}
	if matched != len(want) {
		t.Errorf("the latency histogram lacks the buckets 0.1 and 0.25 s: %v", fam.GetMetric()[0].GetHistogram().GetBucket())
	}
}

func names(p scrapetest.Page) []string {
	var out []string
	for n := range p {
		out = append(out, n)
	}
	return out
}

// TestTracingOff: without a collector nothing is installed: no stats handlers, no Temporal
// interceptors, no store plugin, and the HTTP handler is returned as it is.
func TestTracingOff(t *testing.T) {
	tel := newTelemetry(t, Options{})
	if tel.Tracing() {
		t.Fatal("tracing on without a collector")
	}
	if len(tel.GRPCServerOptions()) != 2 || len(tel.GRPCDialOptions()) != 0 {
		t.Errorf("gRPC options %d server, %d dial; want only the metrics' 2 interceptors", len(tel.GRPCServerOptions()), len(tel.GRPCDialOptions()))
	}
	if i, err := tel.TemporalInterceptors(); err != nil || len(i) != 0 {
		t.Errorf("Temporal interceptors %v, %v; want none", i, err)
	}
	if p := tel.GormPlugin(); p != nil {
		t.Errorf("store plugin %v; want none", p)
	}
	var nilTel *Telemetry
	if nilTel.Tracing() || nilTel.GRPCServerOptions() != nil || nilTel.TemporalMetricsHandler() != nil || nilTel.Shutdown(context.Background()) != nil {
		t.Errorf("a nil Telemetry is not inert")
	}
}
