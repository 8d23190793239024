package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpchealth "google.golang.org/grpc/health"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/store"
)

func errorInfoReason(st *status.Status) string {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

// TestStoreUnavailableIs503: errors of a database that cannot serve, produced by real
// drivers, are Unavailable with our words and none of the driver's (found: 500 "internal
// error" during a database outage).
func TestStoreUnavailableIs503(t *testing.T) {
	ctx := context.Background()
	_, refused := store.Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	closed, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	_, closedErr := closed.GetSelection(ctx, "kadis-2026")
	tests := []struct {
		name, lang string
		err        error
		want       string
	}{
		{"connection refused", "", refused, "basis data sedang tidak dapat dijangkau"},
		{"connection refused in English", "en", refused, "the database cannot be reached"},
		{"closed store", "", closedErr, "basis data sedang tidak dapat dijangkau"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("setup: no error from the driver")
			}
			ctx := ctx
			if tt.lang != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("accept-language", tt.lang))
			}
			st := status.Convert(storeError(ctx, slog.New(slog.DiscardHandler), tt.err))
			if st.Code() != codes.Unavailable || !strings.HasPrefix(st.Message(), tt.want) {
				t.Fatalf("status %s %q, want Unavailable %q (from %v)", st.Code(), st.Message(), tt.want, tt.err)
			}
			if r := errorInfoReason(st); r != reasonStoreUnavailable {
				t.Errorf("ErrorInfo reason %q", r)
			}
			for _, internal := range []string{"127.0.0.1", "sql", "dial", "connect:"} {
				if strings.Contains(st.Message(), internal) {
					t.Errorf("message %q carries the driver's %q", st.Message(), internal)
				}
			}
		})
	}
}

// TestDeadlines: every call runs under the server's deadline (longer for exports and
// verification), a client's shorter deadline is kept, and a call that ran out of time while
// a dependency is unreachable is answered Unavailable naming it.
func TestDeadlines(t *testing.T) {
	d := Deadlines{Default: 3 * time.Second, Long: time.Minute}
	seen := func(ctx context.Context, method string) time.Duration {
		t.Helper()
		var left time.Duration
		_, _ = deadlineUnary(d, health.NewReadiness(grpchealth.NewServer()))(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
			func(ctx context.Context, _ any) (any, error) {
				dl, ok := ctx.Deadline()
				if !ok {
					t.Fatalf("%s runs without a deadline", method)
				}
				left = time.Until(dl)
				return nil, nil
			})
		return left
	}
	if left := seen(context.Background(), seleksiv1.SelectionService_AdvanceSelection_FullMethodName); left > d.Default {
		t.Errorf("advance has %s left, want at most %s", left, d.Default)
	}
	if left := seen(context.Background(), seleksiv1.AuditService_ExportHistory_FullMethodName); left <= d.Default || left > d.Long {
		t.Errorf("export has %s left, want the long deadline %s", left, d.Long)
	}
	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if left := seen(short, seleksiv1.AuditService_ExportHistory_FullMethodName); left > time.Second {
		t.Errorf("the client's 1s deadline became %s", left)
	}

	// A handler that waits for its store or Temporal until the deadline, as every handler's
	// calls do.
	waits := func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, localizedError(ctx, codes.DeadlineExceeded, msgTimeout)
	}
	quick := Deadlines{Default: 10 * time.Millisecond, Long: time.Minute}
	for _, tt := range []struct {
		name       string
		down       []string
		wantCode   codes.Code
		wantReason string
	}{
		{"dependencies reachable: the request timed out", nil, codes.DeadlineExceeded, ""},
		{"store unreachable", []string{health.Store}, codes.Unavailable, reasonStoreUnavailable},
		{"Temporal unreachable", []string{health.Temporal}, codes.Unavailable, reasonWorkflowsUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ready := health.NewReadiness(grpchealth.NewServer())
			for _, dep := range tt.down {
				ready.Report(dep, context.DeadlineExceeded)
			}
			_, err := deadlineUnary(quick, ready)(context.Background(), nil,
				&grpc.UnaryServerInfo{FullMethod: seleksiv1.SelectionService_AdvanceSelection_FullMethodName}, waits)
			st := status.Convert(err)
			if st.Code() != tt.wantCode || errorInfoReason(st) != tt.wantReason {
				t.Errorf("status %s %q (%s), want %s %s", st.Code(), st.Message(), errorInfoReason(st), tt.wantCode, tt.wantReason)
			}
		})
	}
}

// fakeStream is a server stream whose context the interceptor may replace.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func TestStreamDeadlines(t *testing.T) {
	d := Deadlines{Default: time.Second, Long: time.Hour}
	for _, tt := range []struct {
		method       string
		wantDeadline bool
	}{
		{"/seleksi.v1.AuditService/StreamSomething", true},
		{"/grpc.health.v1.Health/Watch", false},
		{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", false},
	} {
		var has bool
		_ = deadlineStream(d)(nil, fakeStream{ctx: context.Background()}, &grpc.StreamServerInfo{FullMethod: tt.method},
			func(_ any, ss grpc.ServerStream) error {
				_, has = ss.Context().Deadline()
				return nil
			})
		if has != tt.wantDeadline {
			t.Errorf("%s: deadline %v, want %v", tt.method, has, tt.wantDeadline)
		}
	}
}
