package server

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// recordingApplications answers GetApplication with the application it was asked for, and
// records who asked and in which language.
type recordingApplications struct {
	seleksiv1.UnimplementedApplicationServiceServer
	mu     sync.Mutex
	caller auth.Principal
	lang   []string
}

func (r *recordingApplications) GetApplication(ctx context.Context, req *seleksiv1.GetApplicationRequest) (*seleksiv1.GetApplicationResponse, error) {
	p, _ := auth.FromContext(ctx)
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	r.caller, r.lang = p, md.Get("accept-language")
	r.mu.Unlock()
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-seen", "yes")); err != nil {
		return nil, err
	}
	return &seleksiv1.GetApplicationResponse{Application: &seleksiv1.Application{Name: req.GetName()}}, nil
}

// TestInProcessChannel: a call through GRPC.Local runs the transport's interceptors and the
// server's own exactly once, as a call over a connection does; its metadata arrives as
// incoming metadata and the handler's headers come back; and nothing in the caller's context
// reaches the handler but what travels as metadata, so a principal cannot be slipped past the
// authentication.
func TestInProcessChannel(t *testing.T) {
	var edgeCalls atomic.Int64
	counting := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		edgeCalls.Add(1)
		return handler(ctx, req)
	}
	apps := &recordingApplications{}
	g, err := NewGRPC(slog.New(slog.DiscardHandler), namedTokens{}, Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  apps,
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
	}, Deadlines{}, nil, Edge{Unary: []grpc.UnaryServerInterceptor{nil, counting}})
	if err != nil {
		t.Fatal(err)
	}
	g.SetServing()
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

	const name = "selections/sel-1/applications/app-1"
	for _, path := range []struct {
		name string
		conn grpc.ClientConnInterface
	}{{"network", conn}, {"in process", g.Local}} {
		t.Run(path.name, func(t *testing.T) {
			client := seleksiv1.NewApplicationServiceClient(path.conn)
			tests := []struct {
				name string
				ctx  context.Context
				want codes.Code
			}{
				{"token", metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer candidate", "accept-language", "en"), codes.OK},
				{"no token", context.Background(), codes.Unauthenticated},
				{"principal in the caller's context only", auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin-1", Role: auth.RoleAdmin}), codes.Unauthenticated},
				{"invalid request", metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer candidate"), codes.InvalidArgument},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					before := edgeCalls.Load()
					req := &seleksiv1.GetApplicationRequest{Name: name}
					if tc.want == codes.InvalidArgument {
						req.Name = "not a name"
					}
					var header metadata.MD
					resp, err := client.GetApplication(tc.ctx, req, grpc.Header(&header))
					if status.Code(err) != tc.want {
						t.Fatalf("GetApplication: %v, want %s", err, tc.want)
					}
					if n := edgeCalls.Load() - before; n != 1 {
						t.Errorf("the edge's interceptor ran %d times for one call, want once", n)
					}
					if tc.want != codes.OK {
						return
					}
					if resp.GetApplication().GetName() != name {
						t.Errorf("answer %v, want application %s", resp, name)
					}
					if got := header.Get("x-seen"); len(got) != 1 || got[0] != "yes" {
						t.Errorf("header x-seen = %v, want the handler's [yes]", got)
					}
					apps.mu.Lock()
					caller, lang := apps.caller, apps.lang
					apps.mu.Unlock()
					if caller.Subject != "someone-candidate" || caller.Role != auth.RoleCandidate {
						t.Errorf("handler saw caller %+v, want the token's candidate", caller)
					}
					if len(lang) != 1 || lang[0] != "en" {
						t.Errorf("handler saw accept-language %v, want [en]", lang)
					}
				})
			}
		})
	}

	t.Run("health in process", func(t *testing.T) {
		resp, err := healthpb.NewHealthClient(g.Local).Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health through the in-process channel: %v %v, want SERVING", resp, err)
		}
	})
}

// TestInProcessStreamRefused: a streaming call the server refuses before reading its
// request (the authentication interceptor, for a caller without a token) reaches the caller
// with its status, through the in-process channel as over a connection. inprocgrpc answered
// such a call's SendMsg with io.EOF about half the time, which the generated client returned
// as the call's error (seen as HTTP 500 on a refused export).
func TestInProcessStreamRefused(t *testing.T) {
	g, err := NewGRPC(slog.New(slog.DiscardHandler), namedTokens{}, Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  seleksiv1.UnimplementedApplicationServiceServer{},
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
	}, Deadlines{}, nil, Edge{})
	if err != nil {
		t.Fatal(err)
	}
	g.SetServing()
	client := seleksiv1.NewAuditServiceClient(g.Local)
	for i := range 200 {
		stream, err := client.ExportHistory(context.Background(), &seleksiv1.ExportHistoryRequest{Name: "selections/sel-1"})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("call %d: %v (%T), want Unauthenticated", i, err, err)
		}
	}
}
