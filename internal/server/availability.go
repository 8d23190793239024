package server

import (
	"context"
	"slices"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Deadlines bound how long the server works on one call, whatever the client asked for: a
// call that waits on a database or a Temporal cluster that does not answer gives up and
// says so, instead of holding its connection for minutes (found: an advance hung 123 s
// during a database outage). A client's shorter deadline still applies.
type Deadlines struct {
	// Default bounds every call not listed in longMethods.
	Default time.Duration
	// Long bounds the calls that read and replay a whole selection, and server streams.
	Long time.Duration
}

// DefaultDeadlines are 30 s per call and 5 min for exports and verification. A committee
// command waits for its store write, which the workflow gives up after 20 s.
func DefaultDeadlines() Deadlines { return Deadlines{Default: 30 * time.Second, Long: 5 * time.Minute} }

func (d Deadlines) withDefaults() Deadlines {
	def := DefaultDeadlines()
	if d.Default <= 0 {
		d.Default = def.Default
	}
	if d.Long <= 0 {
		d.Long = max(def.Long, d.Default)
	}
	return d
}

// longMethods read every run's history, the audit chain and the projection of a selection,
// and replay the histories: minutes for a large selection are legitimate.
var longMethods = []string{
	seleksiv1.AuditService_ExportHistory_FullMethodName,
	seleksiv1.AuditService_VerifySelection_FullMethodName,
}

// For is the deadline of one method.
func (d Deadlines) For(method string) time.Duration {
	if slices.Contains(longMethods, method) {
		return d.Long
	}
	return d.Default
}

// deadlineUnary gives every call its deadline, so that the handler's store and Temporal
// calls, which all take the request's context, end with it. A call that ran out of time
// while the readiness checker finds a dependency unreachable is answered Unavailable
// naming it: the outage, not the request, is why it failed, and the client should try again
// later rather than with a longer deadline.
func deadlineUnary(d Deadlines, ready *health.Readiness) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, d.For(info.FullMethod))
		defer cancel()
		resp, err := handler(ctx, req)
		if err != nil && status.Code(err) == codes.DeadlineExceeded {
			if down := ready.Unreachable(); len(down) > 0 {
				return nil, unavailable(ctx, down[0])
			}
		}
		return resp, err
	}
}

// deadlineStream bounds server streams by the long deadline. Health watches and reflection
// are streams that live as long as their client wants and are left alone.
func deadlineStream(d Deadlines) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if infrastructure(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx, cancel := context.WithTimeout(ss.Context(), d.Long)
		defer cancel()
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}

// Messages and ErrorInfo reasons of a dependency that cannot be reached. Commands can be sent
// again with the same request_id: they are applied once.
var (
	msgStoreUnavailable = i18n.Text{
		ID: "basis data sedang tidak dapat dijangkau; coba lagi sebentar lagi (perintah dikirim ulang dengan request_id yang sama)",
		EN: "the database cannot be reached at the moment; try again shortly (send commands again with the same request_id)"}
	msgWorkflowsUnavailable = i18n.Text{
		ID: "mesin alur kerja (Temporal) sedang tidak dapat dijangkau; coba lagi sebentar lagi (perintah dikirim ulang dengan request_id yang sama)",
		EN: "the workflow engine (Temporal) cannot be reached at the moment; try again shortly (send commands again with the same request_id)"}
)

const (
	reasonStoreUnavailable     = "STORE_UNAVAILABLE"
	reasonWorkflowsUnavailable = "WORKFLOWS_UNAVAILABLE"
)

// unavailable is Unavailable (HTTP 503) naming the dependency that cannot be reached.
func unavailable(ctx context.Context, dependency string) error {
	text, reason := msgStoreUnavailable, reasonStoreUnavailable
	if dependency == health.Temporal {
		text, reason = msgWorkflowsUnavailable, reasonWorkflowsUnavailable
	}
	return localizedError(ctx, codes.Unavailable, text, &errdetails.ErrorInfo{Reason: reason, Domain: "seleksi"})
}
