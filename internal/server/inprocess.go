package server

import (
	"context"
	"errors"
	"io"

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

// inProcessConn is the in-process channel with grpc-go's client semantics where inprocgrpc
// differs from them. grpc-go's SendMsg answers nil instead of io.EOF on a call whose client
// does not stream, because the generated client code returns SendMsg's error as the call's:
// the server's status comes from RecvMsg. inprocgrpc answers io.EOF when the server has
// already ended the call, as the authorization interceptor does when it refuses one
// without reading the request, so a refused export reached the gateway as io.EOF (HTTP 500)
// instead of its status.
type inProcessConn struct {
	*inprocgrpc.Channel
}

func (c inProcessConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := c.Channel.NewStream(ctx, desc, method, opts...)
	if err != nil || desc.ClientStreams {
		return cs, err
	}
	return serverStreamingClient{cs}, nil
}

type serverStreamingClient struct {
	grpc.ClientStream
}

func (s serverStreamingClient) SendMsg(m any) error {
	if err := s.ClientStream.SendMsg(m); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
