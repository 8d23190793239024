package main

import (
	"context"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/telemetry"
	"github.com/bkpsdm/seleksi/internal/telemetry/scrapetest"
)

// collector is an OTLP/gRPC trace collector that keeps what it receives.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *collector) received() []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.spans...)
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	s := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(s, c)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return c, lis.Addr().String()
}

// TestTelemetryEndToEnd: seleksid with -otlp-endpoint exports one trace from the REST request
// creating a selection through the gRPC server, the workflow's start, the workflow, its
// activities and their store statements; /metrics counts the call and shows the Temporal
// SDK's metrics and the new selection's stage.
func TestTelemetryEndToEnd(t *testing.T) {
	col, colAddr := startCollector(t)
	dataDir := t.TempDir()
	cfg := e2eConfig(t, dataDir, "")
	cfg.Telemetry.OTLPEndpoint = "http://" + colAddr
	a := startLogged(t, cfg)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stop(t, a)
		}
	})
	e := &e2e{api: api{t: t, base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 90 * time.Second}},
		tok: newTokens(t, dataDir), id: "trace-" + randomHex(3)}
	admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	e.must(http.MethodPost, "/v1/selections?requestId="+e.reqID("create")+"&selectionId="+e.id, admin,
		selectionBody(plainPeople().committee), nil)
	// The workflow's first activity projects the announcement window into the store.
	for deadline := time.Now().Add(30 * time.Second); e.getSelection(e.id).StageCloseTime == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("the announcement window never opened: %+v", e.getSelection(e.id))
		}
		time.Sleep(100 * time.Millisecond)
	}

	page := scrapetest.Get(t, e.base+telemetry.MetricsPath)
	checks := []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{telemetry.MetricRPCHandled, map[string]string{"grpc_service": "seleksi.v1.SelectionService", "grpc_method": "CreateSelection", "grpc_code": "OK"}, 1},
		{telemetry.MetricSelections, map[string]string{"stage": "STAGE_ANNOUNCEMENT"}, 1},
		{"temporal_request_total", map[string]string{"operation": "StartWorkflowExecution"}, 1},
		{"temporal_workflow_task_execution_latency_seconds", map[string]string{"workflow_type": "SelectionWorkflow"}, 1},
	}
	for _, c := range checks {
		if got, ok := page.Value(c.name, c.labels); !ok || got < c.min {
			t.Errorf("%s%v = %v (found %v), want at least %v; series: %s", c.name, c.labels, got, ok, c.min, page.Series(c.name))
		}
	}

	// Shutting down exports the spans still buffered.
	stop(t, a)
	stopped = true
	spans := col.received()
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.GetSpanId())] = s
	}
	var create *tracepb.Span
	for _, s := range spans {
		if s.GetName() == "seleksi.v1.SelectionService/CreateSelection" && s.GetKind() == tracepb.Span_SPAN_KIND_SERVER {
			create = s
		}
	}
	if create == nil {
		t.Fatalf("no server span of CreateSelection among %d spans: %v", len(spans), names(spans))
	}
	// ancestors lists the names from s up to the root of its trace.
	ancestors := func(s *tracepb.Span) []string {
		var out []string
		for s != nil && len(out) < 50 {
			out = append(out, s.GetName())
			s = byID[hex.EncodeToString(s.GetParentSpanId())]
		}
		return out
	}
	// The workflow's own span (RunWorkflow) ends only with the workflow, which outlives this
	// test: the chain is followed up to it from the store, and down to it from the RPC, and
	// both halves are one trace.
	traceID := hex.EncodeToString(create.GetTraceId())
	var startWF *tracepb.Span
	for _, s := range spans {
		if s.GetName() == "StartWorkflow:SelectionWorkflow" && hex.EncodeToString(s.GetParentSpanId()) == hex.EncodeToString(create.GetSpanId()) {
			startWF = s
		}
	}
	if startWF == nil {
		t.Errorf("no StartWorkflow:SelectionWorkflow span under the CreateSelection server span; spans: %v", names(spans))
	}
	if chain := ancestors(create); !containsInOrder(chain, []string{"seleksi.v1.SelectionService/CreateSelection", "HTTP POST"}) {
		t.Errorf("the CreateSelection server span's ancestors are %v, want the gateway's call and the HTTP request", chain)
	}
	found := false
	for _, s := range spans {
		if hex.EncodeToString(s.GetTraceId()) != traceID || !strings.HasPrefix(s.GetName(), "store ") {
			continue
		}
		if chain := ancestors(s); containsInOrder(chain, []string{"store ", "RunActivity:", "StartActivity:"}) {
			found = true
			t.Logf("in the create's trace: %s", strings.Join(chain, " <- "))
			break
		}
	}
	if !found {
		t.Errorf("no store span under an activity in the create's trace; spans: %v", names(spans))
	}
}

// containsInOrder reports whether chain has an element starting with each of prefixes, in
// that order.
func containsInOrder(chain, prefixes []string) bool {
	i := 0
	for _, c := range chain {
		if i < len(prefixes) && strings.HasPrefix(c, prefixes[i]) {
			i++
		}
	}
	return i == len(prefixes)
}

func names(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.GetName())
	}
	return out
}
