package app

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/telemetry"
)

// TestRESTTraceChain: with tracing on, a REST call is one trace of three spans, each the
// parent of the next: the HTTP request's, the gateway's client span of its call to the
// services, and the server span of that call, as when the gateway had a connection to the
// gRPC server; the in-process channel runs the same stats handlers.
func TestRESTTraceChain(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Options{SpanExporter: spans})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	api := startRealAPI(t, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"), server.Deadlines{}, withTelemetry(tel))
	req, err := http.NewRequest(http.MethodGet, api.base+"/v1/selections/"+selOpen+"/applications/"+appOpen, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+api.candidate)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET application: %s", resp.Status)
	}

	const method = "seleksi.v1.ApplicationService/GetApplication"
	find := func(got tracetest.SpanStubs, name string, kind trace.SpanKind) *tracetest.SpanStub {
		for i := range got {
			if got[i].Name == name && got[i].SpanKind == kind {
				return &got[i]
			}
		}
		return nil
	}
	// The HTTP span ends after the response is written: wait for all three.
	var got tracetest.SpanStubs
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := tel.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got = spans.GetSpans()
		if (find(got, "HTTP GET", trace.SpanKindServer) != nil && find(got, method, trace.SpanKindClient) != nil &&
			find(got, method, trace.SpanKindServer) != nil) || time.Now().After(deadline) {
			break
		}
	}
	httpSpan, client, srv := find(got, "HTTP GET", trace.SpanKindServer), find(got, method, trace.SpanKindClient), find(got, method, trace.SpanKindServer)
	if httpSpan == nil || client == nil || srv == nil {
		t.Fatalf("spans HTTP %v, client %v, server %v; want all three among %d spans", httpSpan != nil, client != nil, srv != nil, len(got))
	}
	if client.Parent.SpanID() != httpSpan.SpanContext.SpanID() {
		t.Errorf("the client span's parent is %s, want the HTTP span %s", client.Parent.SpanID(), httpSpan.SpanContext.SpanID())
	}
	if srv.Parent.SpanID() != client.SpanContext.SpanID() {
		t.Errorf("the server span's parent is %s, want the client span %s", srv.Parent.SpanID(), client.SpanContext.SpanID())
	}
	if srv.SpanContext.TraceID() != httpSpan.SpanContext.TraceID() {
		t.Errorf("the server span is in trace %s, want the HTTP request's %s", srv.SpanContext.TraceID(), httpSpan.SpanContext.TraceID())
	}
	n := 0
	for _, s := range got {
		if s.Name == method && s.SpanKind == trace.SpanKindServer {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d server spans for one call, want 1", n)
	}
}
