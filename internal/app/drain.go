package app

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// errShuttingDown is the cause of a call's context when the shutdown cuts it off.
var errShuttingDown = errors.New("the server is shutting down")

// msgRestarting tells a client whose call was cut off by a shutdown what to do.
var msgRestarting = i18n.Text{
	ID: "layanan sedang dimulai ulang; kirim ulang permintaan sebentar lagi (perintah dengan request_id yang sama)",
	EN: "the service is restarting; send the request again shortly (commands with the same request_id)",
}

// drain ends the gRPC calls still running when the transport's share of the shutdown runs
// out: their contexts are cancelled, and each is answered UNAVAILABLE in its caller's
// language once its handler returns (503 over REST), instead of having its connection cut
// under it (once seen by REST clients as 503 "EOF"). A command cut off this way may or may
// not have been applied; sent again with its request_id it is applied once.
type drain struct {
	mu    sync.Mutex
	next  uint64
	calls map[uint64]context.CancelCauseFunc
	cut   bool
	// idlers are closed when the last call in flight ends (see idle).
	idlers []chan struct{}
}

func newDrain() *drain { return &drain{calls: map[uint64]context.CancelCauseFunc{}} }

func (d *drain) track(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		cancel(errShuttingDown)
		return ctx, func() {}
	}
	id := d.next
	d.next++
	d.calls[id] = cancel
	return ctx, func() {
		d.mu.Lock()
		delete(d.calls, id)
		if len(d.calls) == 0 {
			for _, c := range d.idlers {
				close(c)
			}
			d.idlers = nil
		}
		d.mu.Unlock()
		cancel(nil)
	}
}

// idle is closed once no call is in flight: at once if none is.
func (d *drain) idle() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := make(chan struct{})
	if len(d.calls) == 0 {
		close(c)
		return c
	}
	d.idlers = append(d.idlers, c)
	return c
}

// cutOff cancels every call in flight, and every later one.
func (d *drain) cutOff() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, cancel := range d.calls {
		cancel(errShuttingDown)
	}
}

func (d *drain) answer(ctx context.Context, err error) error {
	if !errors.Is(context.Cause(ctx), errShuttingDown) {
		return err
	}
	lang := i18n.ID
	md, _ := metadata.FromIncomingContext(ctx)
	for _, key := range []string{"accept-language", "grpcgateway-accept-language"} {
		if v := md.Get(key); len(v) > 0 {
			lang = i18n.FromAcceptLanguage(v[0])
			break
		}
	}
	st := status.New(codes.Unavailable, msgRestarting.In(lang))
	if withDetails, derr := st.WithDetails(&errdetails.LocalizedMessage{Locale: string(lang), Message: msgRestarting.In(lang)}); derr == nil {
		st = withDetails
	}
	return st.Err()
}

func (d *drain) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, done := d.track(ctx)
		defer done()
		resp, err := handler(ctx, req)
		if err != nil {
			return nil, d.answer(ctx, err)
		}
		return resp, nil
	}
}

func (d *drain) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, done := d.track(ss.Context())
		defer done()
		if err := handler(srv, &drainStream{ServerStream: ss, ctx: ctx}); err != nil {
			return d.answer(ctx, err)
		}
		return nil
	}
}

type drainStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *drainStream) Context() context.Context { return s.ctx }
