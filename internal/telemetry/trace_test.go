package telemetry

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	_ "modernc.org/sqlite"
)

// tracerHeader is the Temporal header the SDK's tracing interceptor carries spans in.
const tracerHeader = "_tracer-data"

// TestTraceChain: one trace runs from a gRPC call (client and server spans) through the
// Temporal tracing interceptor into the workflow, its activity and the store statements the
// activity makes. The workflow runs in the SDK's test environment, with the interceptor as a
// worker interceptor; the header the client interceptor would write when the RPC starts the
// workflow is written from the RPC's context, as the interceptor writes it.
func TestTraceChain(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tel := newTelemetry(t, Options{SpanExporter: spans})
	if !tel.Tracing() {
		t.Fatal("tracing off with an exporter")
	}

	db, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db")}),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Use(tel.GormPlugin()); err != nil {
		t.Fatal(err)
	}
	// Before any traced call: no span, since there is no parent.
	if err := db.Exec("CREATE TABLE notes (id TEXT PRIMARY KEY)").Error; err != nil {
		t.Fatal(err)
	}
	record := func(ctx context.Context, id string) error {
		if err := db.WithContext(ctx).Table("notes").Create(map[string]any{"id": id}).Error; err != nil {
			return err
		}
		var n int64
		return db.WithContext(ctx).Table("notes").Count(&n).Error
	}
	recordNote := func(ctx context.Context, id string) error { return record(ctx, id) }
	selectionWorkflow := func(ctx workflow.Context, id string) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
		return workflow.ExecuteActivity(ctx, "RecordNote", id).Get(ctx, nil)
	}
	ints, err := tel.TemporalInterceptors()
	if err != nil || len(ints) != 1 {
		t.Fatalf("Temporal interceptors %v, %v", ints, err)
	}
	workerInterceptor, ok := ints[0].(interceptor.WorkerInterceptor)
	if !ok {
		t.Fatal("the tracing interceptor does not intercept workers")
	}

	startWorkflow := func(ctx context.Context) error {
		carrier := propagation.MapCarrier{}
		tel.Propagator().Inject(ctx, carrier)
		payload, err := converter.GetDefaultDataConverter().ToPayload(map[string]string(carrier))
		if err != nil {
			return err
		}
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{workerInterceptor}})
		env.RegisterWorkflowWithOptions(selectionWorkflow, workflow.RegisterOptions{Name: "SelectionWorkflow"})
		env.RegisterActivityWithOptions(recordNote, activity.RegisterOptions{Name: "RecordNote"})
		env.SetHeader(&commonpb.Header{Fields: map[string]*commonpb.Payload{tracerHeader: payload}})
		env.ExecuteWorkflow("SelectionWorkflow", "note-1")
		if !env.IsWorkflowCompleted() {
			return fmt.Errorf("workflow not completed")
		}
		return env.GetWorkflowError()
	}
	client := healthpb.NewHealthClient(serve(t, tel, healthService{check: startWorkflow}))
	if _, err := client.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	// The client has its answer before the server's span ends: gRPC ends it once the handler's
	// status is written, on the server's goroutine. Wait for it, or a loaded machine finds
	// only the client's span of the call.
	var got tracetest.SpanStubs
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := tel.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		got = spans.GetSpans()
		if s := findServerSpan(got, "grpc.health.v1.Health/Check"); (s != nil && s.SpanKind == trace.SpanKindServer) || time.Now().After(deadline) {
			break
		}
	}
	byName := map[string]tracetest.SpanStub{}
	for _, s := range got {
		byName[s.Name] = s
	}
	// Each span's parent, walking from the store back to the RPC's client.
	chain := []struct{ name, parent string }{
		{"store SELECT notes", "RunActivity:RecordNote"},
		{"store INSERT notes", "RunActivity:RecordNote"},
		{"RunActivity:RecordNote", "StartActivity:RecordNote"},
		{"StartActivity:RecordNote", "RunWorkflow:SelectionWorkflow"},
		{"RunWorkflow:SelectionWorkflow", "grpc.health.v1.Health/Check"},
	}
	for _, c := range chain {
		s, ok := byName[c.name]
		if !ok {
			t.Fatalf("no span %q among %v", c.name, spanNames(got))
		}
		p := findServerSpan(got, c.parent)
		if p == nil {
			t.Fatalf("no span %q among %v", c.parent, spanNames(got))
		}
		if s.Parent.SpanID() != p.SpanContext.SpanID() {
			t.Errorf("span %q has parent %s, want %q (%s); spans:\n%s", c.name, s.Parent.SpanID(), c.parent, p.SpanContext.SpanID(), spanTree(got))
		}
	}
	traceID := byName["store INSERT notes"].SpanContext.TraceID()
	for _, s := range got {
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("span %q in trace %s, want every span in %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
	}
	for _, s := range got {
		if strings.HasPrefix(s.Name, "store") {
			for _, a := range s.Attributes {
				if strings.Contains(string(a.Key), "statement") {
					t.Errorf("span %q records the statement (%s): it may carry personal data", s.Name, a.Key)
				}
			}
		}
	}
}

// findServerSpan finds the span of name; for the RPC, the server's (its client's has the same
// name and is the server span's parent).
func findServerSpan(spans tracetest.SpanStubs, name string) *tracetest.SpanStub {
	var found *tracetest.SpanStub
	for i, s := range spans {
		if s.Name != name {
			continue
		}
		if found == nil || s.SpanKind.String() == "server" {
			found = &spans[i]
		}
	}
	return found
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name+"("+s.SpanKind.String()+")")
	}
	return out
}

// spanTree lists each span with its ID and its parent's, for a failure message.
func spanTree(spans tracetest.SpanStubs) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %s(%s) parent %s\n", s.SpanContext.SpanID(), s.Name, s.SpanKind, s.Parent.SpanID())
	}
	return b.String()
}
