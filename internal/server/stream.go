package server

import (
	"context"

	"google.golang.org/grpc"
)

// Streaming RPCs (the history export) must pass the same checks as unary ones: gRPC runs
// only stream interceptors on them, and a stream without any would reach its handler with
// no token checked. Rather than a second copy of each check, the unary interceptors are
// adapted, in two ways according to what they look at.

// aroundStream runs a unary interceptor around a whole stream, for interceptors that look at
// the method and the context only and wrap the call: recovery, logging, authentication. The
// context the interceptor passes on (with the caller's principal) becomes the stream's.
func aroundStream(u grpc.UnaryServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		_, err := u(ss.Context(), nil, &grpc.UnaryServerInfo{Server: srv, FullMethod: info.FullMethod},
			func(ctx context.Context, _ any) (any, error) {
				return nil, handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
			})
		return err
	}
}

// onStreamRequest runs a unary interceptor on every request message the stream receives, for
// interceptors that check the request: validation and committee scope. A message it refuses
// never reaches the handler, which gets the refusal from its RecvMsg and returns it.
func onStreamRequest(u grpc.UnaryServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &checkedStream{ServerStream: ss, check: func(m any) error {
			_, err := u(ss.Context(), m, &grpc.UnaryServerInfo{Server: srv, FullMethod: info.FullMethod},
				func(context.Context, any) (any, error) { return nil, nil })
			return err
		}})
	}
}

// contextStream is a stream with the context an interceptor derived.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// checkedStream checks each message received before the handler sees it.
type checkedStream struct {
	grpc.ServerStream
	check func(m any) error
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.check(m)
}
