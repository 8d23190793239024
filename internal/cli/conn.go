package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"time"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/tlsconfig"
)

// maxReceiveBytes bounds one answer from the server. Export bundles stream in small chunks;
// the limit stays above gRPC's default of 4 MiB for the other answers, such as a verification
// report that lists a finding for every event of a long selection.
const maxReceiveBytes = 64 << 20

// invocation is what one command run works with: the parsed global flags, the request ID
// and the clients.
type invocation struct {
	app       *App
	cmd       *command
	fs        *flag.FlagSet
	g         globals
	requestID string
	announced bool

	conn *grpc.ClientConn
	// tlsConfig is the TLS of the connections (gRPC and --http), nil in plain text.
	tlsConfig   *tls.Config
	selections  seleksiv1.SelectionServiceClient
	application seleksiv1.ApplicationServiceClient
	audit       seleksiv1.AuditServiceClient
	// notifications is the outbox (dead letters and their retry).
	notifications seleksiv1.NotificationServiceClient
	documents     seleksiv1.DocumentServiceClient
}

// prepareRequestID checks --request-id or makes a fresh one.
func (inv *invocation) prepareRequestID() error {
	if !inv.cmd.mutating {
		return nil
	}
	if inv.requestID == "" {
		inv.requestID = newRequestID()
	} else if !validRequestID(inv.requestID) {
		return usageErrorf("--request-id must be 8 to 64 of A-Z a-z 0-9 _ -, not %q", inv.requestID)
	}
	return nil
}

// announceRequestID prints the request ID on stderr just before the first call goes out, so
// a user whose command was cut off can retry it without applying it twice. Commands that
// stop on their input print nothing, as nothing was sent.
func (inv *invocation) announceRequestID(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if inv.requestID != "" && !inv.announced {
		inv.announced = true
		fmt.Fprintf(inv.app.Stderr, "request id: %s\n", inv.requestID)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// newRequestID returns 128 random bits in URL-safe base64: 22 characters that match the
// API's request_id pattern and leave room for a batch suffix.
func newRequestID() string {
	b := make([]byte, 16)
	// crypto/rand.Read never fails on supported platforms; it crashes the program instead.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validRequestID mirrors the API's `^[A-Za-z0-9_-]{8,64}$`.
func validRequestID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// connect builds the clients. grpc.NewClient does not dial yet, so commands that fail on
// their input never touch the network.
func (inv *invocation) connect() error {
	creds := insecure.NewCredentials()
	if inv.g.tls {
		cfg, err := tlsconfig.Client(inv.g.tlsFiles, nil)
		if err != nil {
			return usageErrorf("TLS: %v", err)
		}
		inv.tlsConfig = cfg
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent("seleksictl"),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxReceiveBytes)),
		grpc.WithChainUnaryInterceptor(validateRequest, inv.announceRequestID, callMetadata(inv.g.token, inv.g.lang, inv.g.timeout)),
		grpc.WithChainStreamInterceptor(streamMetadata(inv.g.token, inv.g.lang, inv.g.timeout)),
	}
	conn, err := grpc.NewClient(inv.g.server, append(opts, inv.app.DialOptions...)...)
	if err != nil {
		return usageErrorf("--server %q: %v", inv.g.server, err)
	}
	inv.conn = conn
	inv.selections = seleksiv1.NewSelectionServiceClient(conn)
	inv.application = seleksiv1.NewApplicationServiceClient(conn)
	inv.audit = seleksiv1.NewAuditServiceClient(conn)
	inv.notifications = seleksiv1.NewNotificationServiceClient(conn)
	inv.documents = seleksiv1.NewDocumentServiceClient(conn)
	return nil
}

// httpClient is the client of --http (document uploads), with the connection's TLS.
func (inv *invocation) httpClient() *http.Client {
	if inv.tlsConfig == nil {
		return &http.Client{}
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: inv.tlsConfig.Clone(), ForceAttemptHTTP2: true}}
}

func (inv *invocation) close() {
	if inv.conn != nil {
		_ = inv.conn.Close()
	}
}

// callMetadata adds what every call carries: the bearer token, the preferred language and a
// deadline. Each call gets its own deadline, so a long score-sheet import is not cut off by
// the time its earlier batches took.
func callMetadata(token, lang string, timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		kv := []string{"accept-language", lang}
		if token != "" {
			kv = append(kv, "authorization", "Bearer "+token)
		}
		return invoker(metadata.AppendToOutgoingContext(ctx, kv...), method, req, reply, cc, opts...)
	}
}

// streamMetadata is callMetadata for streams (the export): the same token and language, and
// validateRequest's check of the request. A download of any size can take longer than one
// call's deadline, so for a stream the timeout bounds the wait for each message instead: a
// server that stops sending is given up on, one that keeps sending is not.
func streamMetadata(token, lang string, timeout time.Duration) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		kv := []string{"accept-language", lang}
		if token != "" {
			kv = append(kv, "authorization", "Bearer "+token)
		}
		ctx, cancel := context.WithCancelCause(metadata.AppendToOutgoingContext(ctx, kv...))
		s := &idleStream{cancel: cancel, timeout: timeout}
		s.timer = time.AfterFunc(timeout, s.expire)
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			s.stop()
			return nil, err
		}
		s.ClientStream = cs
		return s, nil
	}
}

// idleStream is a client stream that ends when no message has come for its timeout.
type idleStream struct {
	grpc.ClientStream
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
}

func (s *idleStream) expire() {
	s.cancel(status.Errorf(codes.DeadlineExceeded, "the server sent nothing for %s (--timeout)", s.timeout))
}

func (s *idleStream) stop() {
	s.timer.Stop()
	s.cancel(nil)
}

// SendMsg checks the request against the API's rules before it leaves, as validateRequest
// does for unary calls.
func (s *idleStream) SendMsg(m any) error {
	if msg, ok := m.(proto.Message); ok {
		if err := protovalidate.Validate(msg); err != nil {
			s.stop()
			return validationError("the request", err)
		}
	}
	return s.ClientStream.SendMsg(m)
}

func (s *idleStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.stop()
		if cause := context.Cause(s.Context()); cause != nil && status.Code(err) == codes.Canceled {
			return cause
		}
		return err
	}
	s.timer.Reset(s.timeout)
	return nil
}

// validateRequest checks every request against the same protovalidate rules the server
// enforces before it is sent. A request the server would refuse is then a usage error that
// names the broken rules, found without a round trip and without a token.
func validateRequest(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if m, ok := req.(proto.Message); ok {
		if err := protovalidate.Validate(m); err != nil {
			return validationError("the request", err)
		}
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}
