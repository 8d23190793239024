package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/telemetry"
	"github.com/bkpsdm/seleksi/internal/telemetry/scrapetest"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestMetricsEndpoint: /metrics on the HTTP address counts the calls made before it, REST
// calls included, by method and code (refusals by authentication too), and its gauges follow
// the store.
func TestMetricsEndpoint(t *testing.T) {
	ctx := context.Background()
	tel, err := telemetry.New(ctx, telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	api := startRealAPI(t, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"), server.Deadlines{}, withTelemetry(tel))
	if err := tel.RegisterStats(storeStats(api.store), 5*time.Second, time.Now); err != nil {
		t.Fatal(err)
	}
	get := func(path, token string, want int) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, api.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %s, want %d", path, resp.Status, want)
		}
	}
	get("/v1/selections/"+selOpen, "", http.StatusOK)
	get("/v1/selections/"+selOpen, api.admin, http.StatusOK)
	get("/v1/selections/sel-none", "", http.StatusNotFound)
	// Go's profiles are never on the public address, even for an administrator: the
	// handler must not fall through to http.DefaultServeMux, where net/http/pprof
	// registers itself.
	get("/debug/pprof/", api.admin, http.StatusNotFound)
	get("/v1/selections/"+selOpen+"/applications", "", http.StatusUnauthorized)
	get("/v1/selections/"+selOpen+"/applications", api.candidate, http.StatusOK)
	get("/v1/selections/"+selOpen+"/auditEvents", api.candidate, http.StatusForbidden)
	get("/v1/selections/"+selOpen+"/applications", api.committee, http.StatusOK)

	page := scrapetest.Get(t, api.base+telemetry.MetricsPath)
	calls := []struct {
		service, method, code string
		want                  float64
	}{
		{"seleksi.v1.SelectionService", "GetSelection", "OK", 2},
		{"seleksi.v1.SelectionService", "GetSelection", "NotFound", 1},
		{"seleksi.v1.ApplicationService", "ListApplications", "Unauthenticated", 1},
		{"seleksi.v1.ApplicationService", "ListApplications", "OK", 2},
		{"seleksi.v1.AuditService", "ListAuditEvents", "PermissionDenied", 1},
	}
	for _, c := range calls {
		labels := map[string]string{"grpc_service": c.service, "grpc_method": c.method, "grpc_code": c.code}
		if got, ok := page.Value(telemetry.MetricRPCHandled, labels); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v; series: %s", telemetry.MetricRPCHandled, labels, got, ok, c.want, page.Series(telemetry.MetricRPCHandled))
		}
		if got, ok := page.Value(telemetry.MetricRPCDuration, labels); !ok || got != c.want {
			t.Errorf("%s%v count = %v (found %v), want %v", telemetry.MetricRPCDuration, labels, got, ok, c.want)
		}
	}

	want, err := api.store.OperationalStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := api.store.GetSelection(ctx, selOpen)
	if err != nil {
		t.Fatal(err)
	}
	gauges := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{telemetry.MetricStatsUp, nil, 1},
		{telemetry.MetricSelections, map[string]string{"stage": sel.Stage}, 1},
		// Stages without selections are reported as zero.
		{telemetry.MetricSelections, map[string]string{"stage": string(workflows.StageInterview)}, 0},
		{telemetry.MetricOutboxPending, nil, float64(want.OutboxPending)},
		{telemetry.MetricDeadLetters, nil, 0},
		{telemetry.MetricArchivePending, nil, 0},
	}
	for _, g := range gauges {
		if got, ok := page.Value(g.name, g.labels); !ok || got != g.want {
			t.Errorf("%s%v = %v (found %v), want %v", g.name, g.labels, got, ok, g.want)
		}
	}
	if page.Has(telemetry.MetricSelectionsBlocked) {
		t.Errorf("blocked selections reported before any: %s", page.Series(telemetry.MetricSelectionsBlocked))
	}

	// Blocked, then closed without its final run archived: the next scrape says so.
	if err := api.store.ProjectBlocked(ctx, workflows.WorkflowID(selOpen), selOpen,
		&store.Blocked{Reason: "CalendarNotCovered", Step: "OpenAnnouncement", Year: 2027, Since: time.Now(), Attempts: 1}, time.Now()); err != nil {
		t.Fatal(err)
	}
	page = scrapetest.Get(t, api.base+telemetry.MetricsPath)
	if got, ok := page.Value(telemetry.MetricSelectionsBlocked, map[string]string{"reason": "CalendarNotCovered"}); !ok || got != 1 {
		t.Errorf("%s{reason=CalendarNotCovered} = %v (found %v), want 1", telemetry.MetricSelectionsBlocked, got, ok)
	}
}

// TestMetricsListener: with -metrics-addr, /metrics has a listener of its own (a worker's
// only way to be scraped), which serves nothing else.
func TestMetricsListener(t *testing.T) {
	tel, err := telemetry.New(context.Background(), telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &App{telemetry: tel}
	cfg := config.Config{Telemetry: config.Telemetry{MetricsAddr: "127.0.0.1:0"}}
	if err := a.startMetricsServer(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer a.stopMetrics()
	base := "http://" + a.MetricsAddr()
	page := scrapetest.Get(t, base+telemetry.MetricsPath)
	if !page.Has("go_goroutines") {
		t.Errorf("the metrics listener serves no Go runtime metrics")
	}
	resp, err := http.Get(base + "/v1/selections")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /v1/selections on the metrics listener: %s, want 404", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); strings.Contains(ct, "json") {
		t.Errorf("the metrics listener answered the API: %s", ct)
	}
}

// TestPprofListener: with -pprof-addr a listener of its own serves Go's profiles, but not the
// command line (it can carry a database URL's password); the metrics listener serves none.
func TestPprofListener(t *testing.T) {
	tel, err := telemetry.New(context.Background(), telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &App{telemetry: tel}
	cfg := config.Config{Telemetry: config.Telemetry{MetricsAddr: "127.0.0.1:0", PprofAddr: "127.0.0.1:0"}}
	if err := a.startPprofServer(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer a.stopPprof()
	if err := a.startMetricsServer(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer a.stopMetrics()
	get := func(url string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	prof := "http://" + a.PprofAddr()
	if code, body := get(prof + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("GET /debug/pprof/: %d, %.200s; want 200 listing the profiles", code, body)
	}
	for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		// Profiles are gzipped protocol buffers.
		if code, body := get(prof + path); code != http.StatusOK || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
			t.Errorf("GET %s: %d, %.20q; want 200 with a gzipped profile", path, code, body)
		}
	}
	if code, body := get(prof + "/debug/pprof/cmdline"); strings.Contains(string(body), os.Args[0]) {
		t.Errorf("GET /debug/pprof/cmdline: %d, the command line served: %.200s", code, body)
	}
	metrics := "http://" + a.MetricsAddr()
	if code, _ := get(metrics + "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ on the metrics listener: %d, want 404", code)
	}
	if page := scrapetest.Get(t, metrics+telemetry.MetricsPath); !page.Has("go_goroutines") {
		t.Errorf("/metrics lost beside the profiles")
	}
}
