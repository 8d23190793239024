package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// recoverUnary turns a handler panic into Internal, so one bad request cannot take the
// process down; the stack goes to the log, never to the client.
func recoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.ErrorContext(ctx, "handler panicked", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				err = localizedError(ctx, codes.Internal, msgInternal)
			}
		}()
		return handler(ctx, req)
	}
}

// logUnary logs each call with its outcome. Request bodies are not logged: they carry
// candidates' personal data.
func logUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		code := status.Code(err)
		level := slog.LevelInfo
		switch code {
		case codes.ResourceExhausted:
			// Rate-limit refusals are summed up by the limiter; a line each would let a flood
			// fill the log.
			level = slog.LevelDebug
		case codes.Internal, codes.Unknown, codes.DataLoss:
			level = slog.LevelError
		}
		// Every call passes here: at a level the handler drops, no attribute is built, and
		// otherwise they are typed attributes, which are not boxed into interfaces.
		if logger.Enabled(ctx, level) {
			logger.LogAttrs(ctx, level, "rpc", slog.String("method", info.FullMethod), slog.String("code", code.String()),
				slog.Duration("duration", time.Since(start)))
		}
		return resp, err
	}
}

// validateUnary enforces the protovalidate rules declared in the protos before a handler
// runs, answering InvalidArgument with one google.rpc.BadRequest field violation per broken
// rule so that clients (and the gateway's JSON) can point at the offending field.
func validateUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if err := v.Validate(msg); err != nil {
			return nil, validationStatus(ctx, err)
		}
		if err := storableText(ctx, msg); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func validationStatus(ctx context.Context, err error) error {
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		// A rule that fails to compile or evaluate is our bug, not the caller's.
		return localizedError(ctx, codes.Internal, msgInternal)
	}
	br := &errdetails.BadRequest{}
	lang := language(ctx)
	for _, violation := range verr.Violations {
		br.FieldViolations = append(br.FieldViolations, fieldViolation(lang, violation))
	}
	return localizedError(ctx, codes.InvalidArgument, msgInvalid, br)
}
