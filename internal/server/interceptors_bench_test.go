package server

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/grpc"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// BenchmarkLogUnary is the logging interceptor's cost per call, with its line written (JSON,
// as seleksid logs in production, to nowhere) and with the level set above it.
func BenchmarkLogUnary(b *testing.B) {
	info := &grpc.UnaryServerInfo{FullMethod: seleksiv1.ApplicationService_GetApplication_FullMethodName}
	handler := func(context.Context, any) (any, error) { return nil, nil }
	for _, tc := range []struct {
		name  string
		level slog.Level
	}{{"written", slog.LevelInfo}, {"suppressed", slog.LevelWarn}} {
		b.Run(tc.name, func(b *testing.B) {
			intercept := logUnary(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: tc.level})))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := intercept(ctx, nil, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
