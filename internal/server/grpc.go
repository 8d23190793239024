// Package server owns Seleksi's gRPC edge: the service handlers, request validation, and
// the mapping of domain errors to gRPC status codes. Nothing below this layer knows about
// gRPC codes, and nothing above it (the gateway) knows about the domain.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/stats"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/health"
)

// Services are the implementations registered on the gRPC server. They are interfaces so
// the transport can be tested with fakes and the handlers without a network.
type Services struct {
	Selection   seleksiv1.SelectionServiceServer
	Application seleksiv1.ApplicationServiceServer
	Audit       seleksiv1.AuditServiceServer
	// Notification serves the outbox and its dead letters to the secretariat.
	Notification seleksiv1.NotificationServiceServer
	// Document serves uploaded documents; nil answers UNIMPLEMENTED (a server without
	// document storage).
	Document seleksiv1.DocumentServiceServer
	// Official serves the signed official documents; nil answers UNIMPLEMENTED.
	Official seleksiv1.OfficialDocumentServiceServer
	// Schedule serves the sessions of the competency test and the interview (issue 13); nil
	// answers UNIMPLEMENTED.
	Schedule seleksiv1.ScheduleServiceServer
	// Attendance records who came to the sessions and what absence does; nil answers
	// UNIMPLEMENTED.
	Attendance seleksiv1.AttendanceServiceServer
	// Report serves score recaps, the dashboard and the merit-compliance report; nil answers
	// UNIMPLEMENTED.
	Report seleksiv1.ReportServiceServer
}

// serviceNames are reported by the health service, so load balancers can probe each one.
var serviceNames = []string{
	seleksiv1.SelectionService_ServiceDesc.ServiceName,
	seleksiv1.ApplicationService_ServiceDesc.ServiceName,
	seleksiv1.AuditService_ServiceDesc.ServiceName,
	seleksiv1.NotificationService_ServiceDesc.ServiceName,
	seleksiv1.DocumentService_ServiceDesc.ServiceName,
	seleksiv1.OfficialDocumentService_ServiceDesc.ServiceName,
	seleksiv1.ScheduleService_ServiceDesc.ServiceName,
	seleksiv1.AttendanceService_ServiceDesc.ServiceName,
	seleksiv1.ReportService_ServiceDesc.ServiceName,
}

// Limiter holds authenticated callers to their rate limits (internal/ratelimit implements
// it); a nil Limiter limits nothing. Limits by client address, which need no identity, are
// interceptors the transport puts in front of everything else.
type Limiter interface {
	// RejectedToken is told of a call whose bearer token failed verification; an error
	// (RESOURCE_EXHAUSTED) answers it instead of UNAUTHENTICATED once the caller's address has
	// failed too often, and the call is then not logged one by one.
	RejectedToken(ctx context.Context) error
	// Admit is asked before an authenticated caller's call is validated and handled; an
	// error refuses it.
	Admit(ctx context.Context, fullMethod string, p auth.Principal) error
}

// GRPC is a configured gRPC server with its health service.
type GRPC struct {
	*grpc.Server
	Health *grpchealth.Server
	// Readiness decides what Health reports: a readiness checker reports the dependencies
	// to it.
	Readiness *health.Readiness
	// Local reaches the same services (and the health service) in this process, without a
	// connection: through the same interceptors and stats handlers as a network call, each
	// run once per call, with requests and responses copied as if they had been sent. The
	// REST gateway and the web pages call the services through it.
	Local grpc.ClientConnInterface
}

// Edge is what the transport runs before the services' own interceptors (metrics, client
// address, rate limits, draining), outermost first, and the stats handlers that trace each
// call (nil: none). NewGRPC installs them on the network server and on the in-process
// channel alike, which is why they are not passed as server options.
type Edge struct {
	Unary  []grpc.UnaryServerInterceptor
	Stream []grpc.StreamServerInterceptor
	// ServerStats observes each call on the server's side, ClientStats each in-process
	// call on its client's side (the network's clients bring their own).
	ServerStats, ClientStats stats.Handler
}

// NewGRPC builds the gRPC server: panic recovery, request logging, a deadline on every call,
// authentication and role checks, protovalidate rules and committee scoping as
// interceptors, the Seleksi services, the standard health service and reflection.
// Zero deadlines take DefaultDeadlines. Authenticated calls are held to limiter's limits
// (nil: none). edge's interceptors run before all of these; opts configure the network
// server only (credentials, message sizes, keepalives). Health starts NOT_SERVING; call
// SetServing once the servers accept requests.
func NewGRPC(logger *slog.Logger, verifier auth.Verifier, svcs Services, deadlines Deadlines, limiter Limiter, edge Edge, opts ...grpc.ServerOption) (*GRPC, error) {
	if verifier == nil {
		return nil, fmt.Errorf("server: a token verifier is required")
	}
	if svcs.Selection == nil || svcs.Application == nil || svcs.Audit == nil || svcs.Notification == nil {
		return nil, fmt.Errorf("server: every service implementation is required")
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("server: build validator: %w", err)
	}
	h := grpchealth.NewServer()
	ready := health.NewReadiness(h, serviceNames...)
	rules := accessRules()
	deadlines = deadlines.withDefaults()
	unary := append(slices.DeleteFunc(slices.Clone(edge.Unary), func(i grpc.UnaryServerInterceptor) bool { return i == nil }),
		recoverUnary(logger),
		logUnary(logger),
		deadlineUnary(deadlines, ready),
		authenticateUnary(logger, verifier, rules, limiter),
		admitUnary(limiter),
		validateUnary(validator),
		committeeScopeUnary(rules),
	)
	// Streams (the history export) get the same interceptors, in the same order; an
	// interceptor added above must be added here too (see stream.go).
	stream := append(slices.DeleteFunc(slices.Clone(edge.Stream), func(i grpc.StreamServerInterceptor) bool { return i == nil }),
		aroundStream(recoverUnary(logger)),
		aroundStream(logUnary(logger)),
		deadlineStream(deadlines),
		aroundStream(authenticateUnary(logger, verifier, rules, limiter)),
		aroundStream(admitUnary(limiter)),
		onStreamRequest(validateUnary(validator)),
		onStreamRequest(committeeScopeUnary(rules)),
	)
	opts = append(opts, grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...))
	if edge.ServerStats != nil {
		opts = append(opts, grpc.StatsHandler(edge.ServerStats))
	}
	local := newInProcess(unary, stream, edge)
	s := grpc.NewServer(opts...)
	for _, r := range []grpc.ServiceRegistrar{s, local} {
		register(r, svcs, h)
	}
	reflection.Register(s)

	return &GRPC{Server: s, Health: h, Readiness: ready, Local: inProcessConn{local}}, nil
}

// register registers the services, svcs' defaults filled in, and the health service h.
func register(s grpc.ServiceRegistrar, svcs Services, h healthpb.HealthServer) {
	seleksiv1.RegisterSelectionServiceServer(s, svcs.Selection)
	seleksiv1.RegisterApplicationServiceServer(s, svcs.Application)
	seleksiv1.RegisterAuditServiceServer(s, svcs.Audit)
	seleksiv1.RegisterNotificationServiceServer(s, svcs.Notification)
	if svcs.Document == nil {
		svcs.Document = seleksiv1.UnimplementedDocumentServiceServer{}
	}
	seleksiv1.RegisterDocumentServiceServer(s, svcs.Document)
	if svcs.Official == nil {
		svcs.Official = seleksiv1.UnimplementedOfficialDocumentServiceServer{}
	}
	seleksiv1.RegisterOfficialDocumentServiceServer(s, svcs.Official)
	if svcs.Schedule == nil {
		svcs.Schedule = seleksiv1.UnimplementedScheduleServiceServer{}
	}
	seleksiv1.RegisterScheduleServiceServer(s, svcs.Schedule)
	if svcs.Attendance == nil {
		svcs.Attendance = seleksiv1.UnimplementedAttendanceServiceServer{}
	}
	seleksiv1.RegisterAttendanceServiceServer(s, svcs.Attendance)
	if svcs.Report == nil {
		svcs.Report = seleksiv1.UnimplementedReportServiceServer{}
	}
	seleksiv1.RegisterReportServiceServer(s, svcs.Report)

	healthpb.RegisterHealthServer(s, h)
}

// SetServing says the server accepts requests: health reports SERVING for "" and every
// service while the readiness checker finds the dependencies reachable.
func (g *GRPC) SetServing() { g.Readiness.Up() }

// SetNotServing marks everything NOT_SERVING for good, the first step of a graceful
// shutdown: load balancers stop routing new requests while in-flight ones finish, and
// dependencies that answer again do not undo it.
func (g *GRPC) SetNotServing() { g.Readiness.Drain() }
