package server

import (
	"context"

	"github.com/fullstorydev/grpchan/inprocgrpc"
	"google.golang.org/grpc"
)

// newInProcess is a channel to the services that needs no connection (GRPC.Local). A call
// through the loopback connection the gateway used to have cost two HTTP/2 framings, two
// protobuf encodings and decodings, and a trip through the kernel each way, several times
// what a status read costs the store. inprocgrpc copies requests and responses (so
// neither side sees the other's later changes), turns outgoing metadata into incoming, runs
// the handler in a goroutine of its own so that deadlines and cancellation behave as over a
// connection, and gives the server context none of the client context's values: a caller
// cannot slip a principal past the authentication interceptor.
//
// The interceptors are the network server's, chained here in the same order, so each runs
// once per call on either path.
func newInProcess(unary []grpc.UnaryServerInterceptor, stream []grpc.StreamServerInterceptor, edge Edge) *inprocgrpc.Channel {
	ch := (&inprocgrpc.Channel{}).
		WithServerUnaryInterceptor(chainUnary(unary)).
		WithServerStreamInterceptor(chainStream(stream))
	if edge.ServerStats != nil {
		ch = ch.WithServerStatsHandler(edge.ServerStats)
	}
	if edge.ClientStats != nil {
		ch = ch.WithClientStatsHandler(edge.ClientStats)
	}
	return ch
}

// chainUnary runs interceptors outermost first, as grpc.ChainUnaryInterceptor does; nil
// entries are skipped.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	var chain []grpc.UnaryServerInterceptor
	for _, i := range interceptors {
		if i != nil {
			chain = append(chain, i)
		}
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return nextUnary(chain, info, handler)(ctx, req)
	}
}

func nextUnary(chain []grpc.UnaryServerInterceptor, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) grpc.UnaryHandler {
	if len(chain) == 0 {
		return handler
	}
	return func(ctx context.Context, req any) (any, error) {
		return chain[0](ctx, req, info, nextUnary(chain[1:], info, handler))
	}
}

// chainStream is chainUnary for streaming calls.
func chainStream(interceptors []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	var chain []grpc.StreamServerInterceptor
	for _, i := range interceptors {
		if i != nil {
			chain = append(chain, i)
		}
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return nextStream(chain, info, handler)(srv, ss)
	}
}

func nextStream(chain []grpc.StreamServerInterceptor, info *grpc.StreamServerInfo, handler grpc.StreamHandler) grpc.StreamHandler {
	if len(chain) == 0 {
		return handler
	}
	return func(srv any, ss grpc.ServerStream) error {
		return chain[0](srv, ss, info, nextStream(chain[1:], info, handler))
	}
}
