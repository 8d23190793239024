// Package server owns Seleksi's gRPC edge: the service handlers, request validation, and
// the mapping of domain errors to gRPC status codes. Nothing below this layer knows about
// gRPC codes, and nothing above it (the gateway) knows about the domain.
package server

import (
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// Services are the implementations registered on the gRPC server. They are interfaces so
// the transport can be tested with fakes and the handlers without a network.
type Services struct {
	Selection   seleksiv1.SelectionServiceServer
	Application seleksiv1.ApplicationServiceServer
	Audit       seleksiv1.AuditServiceServer
}

// serviceNames are reported by the health service, so load balancers can probe each one.
var serviceNames = []string{
	seleksiv1.SelectionService_ServiceDesc.ServiceName,
	seleksiv1.ApplicationService_ServiceDesc.ServiceName,
	seleksiv1.AuditService_ServiceDesc.ServiceName,
}

// GRPC is a configured gRPC server with its health service.
type GRPC struct {
	*grpc.Server
	Health *health.Server
}

// NewGRPC builds the gRPC server: panic recovery, request logging, authentication and role
// checks, protovalidate rules and committee scoping as interceptors, the three Seleksi services, the standard health service and reflection.
// Health starts NOT_SERVING; call SetServing once every dependency is up.
func NewGRPC(logger *slog.Logger, verifier auth.Verifier, svcs Services, opts ...grpc.ServerOption) (*GRPC, error) {
	if verifier == nil {
		return nil, fmt.Errorf("server: a token verifier is required")
	}
	if svcs.Selection == nil || svcs.Application == nil || svcs.Audit == nil {
		return nil, fmt.Errorf("server: every service implementation is required")
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("server: build validator: %w", err)
	}
	rules := accessRules()
	opts = append(opts, grpc.ChainUnaryInterceptor(
		recoverUnary(logger),
		logUnary(logger),
		authenticateUnary(logger, verifier, rules),
		validateUnary(validator),
		committeeScopeUnary(rules),
	))
	// Streams (the history export) get the same interceptors, in the same order; an
	// interceptor added above must be added here too (see stream.go).
	opts = append(opts, grpc.ChainStreamInterceptor(
		aroundStream(recoverUnary(logger)),
		aroundStream(logUnary(logger)),
		aroundStream(authenticateUnary(logger, verifier, rules)),
		onStreamRequest(validateUnary(validator)),
		onStreamRequest(committeeScopeUnary(rules)),
	))
	s := grpc.NewServer(opts...)
	seleksiv1.RegisterSelectionServiceServer(s, svcs.Selection)
	seleksiv1.RegisterApplicationServiceServer(s, svcs.Application)
	seleksiv1.RegisterAuditServiceServer(s, svcs.Audit)

	h := health.NewServer()
	healthpb.RegisterHealthServer(s, h)
	reflection.Register(s)

	g := &GRPC{Server: s, Health: h}
	g.setAll(healthpb.HealthCheckResponse_NOT_SERVING)
	return g, nil
}

// SetServing marks the server and every service SERVING.
func (g *GRPC) SetServing() { g.setAll(healthpb.HealthCheckResponse_SERVING) }

// SetNotServing marks everything NOT_SERVING, the first step of a graceful shutdown: load
// balancers stop routing new requests while in-flight ones finish.
func (g *GRPC) SetNotServing() { g.setAll(healthpb.HealthCheckResponse_NOT_SERVING) }

func (g *GRPC) setAll(st healthpb.HealthCheckResponse_ServingStatus) {
	g.Health.SetServingStatus("", st)
	for _, name := range serviceNames {
		g.Health.SetServingStatus(name, st)
	}
}
