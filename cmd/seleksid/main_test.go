package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/config"
)

// testConfig is the embedded default on random loopback ports in a temporary data dir.
func testConfig(t *testing.T, dataDir string) config.Config {
	t.Helper()
	cfg, err := config.Parse([]string{
		"-data-dir", dataDir,
		"-grpc-addr", "127.0.0.1:0",
		"-http-addr", "127.0.0.1:0",
		"-embedded-temporal-addr", "127.0.0.1:0",
		"-embedded-temporal-ui-addr", "127.0.0.1:0",
		"-shutdown-timeout", "20s",
	}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func start(t *testing.T, cfg config.Config) *app.App {
	t.Helper()
	began := time.Now()
	a, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), startEmbedded)
	if err != nil {
		t.Fatalf("start seleksid: %v", err)
	}
	t.Logf("seleksid with embedded Temporal came up in %s", time.Since(began).Round(time.Millisecond))
	return a
}

func stop(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEmbeddedServer boots the whole seleksid on its embedded default, checks every face of
// it, restarts it on the same data directory and checks that Temporal's state survived.
func TestEmbeddedServer(t *testing.T) {
	dataDir := t.TempDir()
	cfg := testConfig(t, dataDir)
	a := start(t, cfg)

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health = %v, %v; want SERVING", h, err)
	}

	base := "http://" + a.HTTPAddr()
	if code, body := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d %s", code, body)
	}
	code, body := get(t, base+"/openapi.json")
	if code != http.StatusOK {
		t.Fatalf("/openapi.json = %d", code)
	}
	for _, route := range []string{`"/v1/selections"`, `"/v1/selections/{selection}:recordResults"`, `"/v1/selections/{selection}/applications"`, `"/v1/selections/{selection}:verify"`} {
		if !strings.Contains(body, route) {
			t.Errorf("OpenAPI document lacks %s", route)
		}
	}
	// Public reads travel through the gateway and the gRPC interceptors to the store.
	if code, body := get(t, base+"/v1/selections/kadis-pupr-2026"); code != http.StatusNotFound || !strings.Contains(body, "tidak ditemukan") {
		t.Errorf("GET unknown selection = %d %s, want 404 from the handler", code, body)
	}
	if code, body := get(t, base+"/v1/selections"); code != http.StatusOK {
		t.Errorf("GET selections = %d %s", code, body)
	}
	if code, _ := get(t, base+"/v1/unknown"); code != http.StatusNotFound {
		t.Errorf("unknown route = %d, want 404", code)
	}

	// The Temporal Web UI serves operators; it starts in the background, so allow it a moment.
	uiURL := "http://" + a.EmbeddedUIAddr() + "/"
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(uiURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Temporal Web UI at %s never answered 200 (last error %v)", uiURL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The namespace carries the configured retention and search attributes.
	tc := a.TemporalClient()
	ns, err := tc.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: cfg.TemporalNamespace})
	if err != nil {
		t.Fatalf("describe namespace: %v", err)
	}
	if got := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != cfg.TemporalRetention {
		t.Errorf("retention = %s, want %s", got, cfg.TemporalRetention)
	}
	sas, err := tc.OperatorService().ListSearchAttributes(context.Background(), &operatorservice.ListSearchAttributesRequest{Namespace: cfg.TemporalNamespace})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range app.SearchAttributes() {
		if sas.GetCustomAttributes()[name] != typ {
			t.Errorf("search attribute %s = %s, want %s", name, sas.GetCustomAttributes()[name], typ)
		}
	}

	// A workflow started now must still exist after a restart on the same data directory.
	// It runs on a task queue no worker polls, so it stays open.
	run, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "restart-probe", TaskQueue: "restart-probe"}, "Probe")
	if err != nil {
		t.Fatalf("start probe workflow: %v", err)
	}
	stop(t, a)

	cfg = testConfig(t, dataDir)
	a = start(t, cfg)
	defer stop(t, a)
	desc, err := a.TemporalClient().DescribeWorkflowExecution(context.Background(), "restart-probe", run.GetRunID())
	if err != nil {
		t.Fatalf("probe workflow lost across restart: %v", err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("probe workflow status after restart = %s, want RUNNING", st)
	}
}
