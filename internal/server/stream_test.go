package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// namedTokens verifies tokens that are role names, so that a test needs no key.
type namedTokens struct{}

func (namedTokens) Verify(_ context.Context, token string) (auth.Principal, error) {
	for _, r := range auth.Roles() {
		if token == string(r) {
			return auth.Principal{Subject: "someone-" + token, Role: r}, nil
		}
	}
	return auth.Principal{}, auth.ErrUnauthenticated
}

// streamingAudit answers ExportHistory with a short stream, and panics for one selection.
type streamingAudit struct {
	seleksiv1.UnimplementedAuditServiceServer
	mu      sync.Mutex
	callers []auth.Principal
}

func (a *streamingAudit) ExportHistory(req *seleksiv1.ExportHistoryRequest, stream grpc.ServerStreamingServer[seleksiv1.ExportHistoryResponse]) error {
	if req.GetName() == "selections/sel-boom" {
		panic("a bug in the export")
	}
	p, _ := auth.FromContext(stream.Context())
	a.mu.Lock()
	a.callers = append(a.callers, p)
	a.mu.Unlock()
	for _, m := range []*seleksiv1.ExportHistoryResponse{
		{Content: &seleksiv1.ExportHistoryResponse_Header{Header: &seleksiv1.BundleHeader{ContentType: "application/zip"}}},
		{Content: &seleksiv1.ExportHistoryResponse_Chunk{Chunk: []byte("PK")}},
		{Content: &seleksiv1.ExportHistoryResponse_Trailer{Trailer: &seleksiv1.BundleTrailer{SizeBytes: 2}}},
	} {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return nil
}

// TestStreamInterceptors calls the streaming export through a real gRPC server: the stream
// passes the same checks as a unary call (authentication, the access table, validation),
// a panic in its handler is recovered, and it is logged. Before streams had interceptors of
// their own, every caller reached the handler.
func TestStreamInterceptors(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	svc := &streamingAudit{}
	g, err := NewGRPC(logger, namedTokens{}, Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  seleksiv1.UnimplementedApplicationServiceServer{},
		Audit:        svc,
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
	}, Deadlines{}, nil, Edge{})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	client := seleksiv1.NewAuditServiceClient(conn)

	// receive reads the whole stream and returns how many messages came before its end.
	receive := func(token, name string) (int, error) {
		ctx := context.Background()
		if token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		}
		stream, err := client.ExportHistory(ctx, &seleksiv1.ExportHistoryRequest{Name: name})
		if err != nil {
			return 0, err
		}
		n := 0
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				return n, err
			}
			n++
		}
	}
	tests := []struct {
		name, token, selection string
		want                   codes.Code
	}{
		{"anonymous", "", "selections/sel-one", codes.Unauthenticated},
		{"bad token", "forged", "selections/sel-one", codes.Unauthenticated},
		{"the secretariat", "admin", "selections/sel-one", codes.PermissionDenied},
		{"a committee member", "committee", "selections/sel-one", codes.PermissionDenied},
		{"an auditor with a malformed name", "auditor", "selections/NOT VALID", codes.InvalidArgument},
		{"an auditor, handler panics", "auditor", "selections/sel-boom", codes.Internal},
		{"an auditor", "auditor", "selections/sel-one", codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := receive(tc.token, tc.selection)
			if status.Code(err) != tc.want {
				t.Fatalf("got %v after %d messages, want %v", err, n, tc.want)
			}
			if tc.want != codes.OK && n != 0 {
				t.Errorf("%d messages reached a refused caller", n)
			}
			if tc.want == codes.OK && n != 3 {
				t.Errorf("%d messages, want 3", n)
			}
			if tc.want == codes.InvalidArgument {
				var br *errdetails.BadRequest
				for _, d := range status.Convert(err).Details() {
					if b, ok := d.(*errdetails.BadRequest); ok {
						br = b
					}
				}
				if br == nil || len(br.GetFieldViolations()) == 0 || br.GetFieldViolations()[0].GetField() != "name" {
					t.Errorf("details %v, want a field violation on name", status.Convert(err).Details())
				}
			}
			if tc.want == codes.Internal && strings.Contains(status.Convert(err).Message(), "a bug") {
				t.Errorf("the panic's text reached the client: %v", err)
			}
		})
	}
	// Only the auditor's well-formed call reached the handler, with the auditor's identity.
	svc.mu.Lock()
	callers := svc.callers
	svc.mu.Unlock()
	if len(callers) != 1 || callers[0].Role != auth.RoleAuditor || callers[0].Subject != "someone-auditor" {
		t.Errorf("the handler saw callers %+v, want the auditor alone", callers)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	for _, want := range []string{"handler panicked", "method=/seleksi.v1.AuditService/ExportHistory code=OK", "code=PermissionDenied"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
