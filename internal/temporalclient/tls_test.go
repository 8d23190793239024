package temporalclient

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/bkpsdm/seleksi/internal/tlsconfig"
	"github.com/bkpsdm/seleksi/internal/tlsconfig/tlstest"
)

// frontend stands in for a Temporal frontend behind mutual TLS: it answers the two calls
// Dial makes (GetSystemInfo, DescribeNamespace) and notes who called with which API key.
// It checks how the client's TLS and API key are plumbed, not Temporal's own TLS settings.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	retention time.Duration
	mu        sync.Mutex
	callers   []string // "<client certificate name> <authorization header>"
}

func (f *frontend) note(ctx context.Context) {
	name := "-"
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
			name = ti.State.PeerCertificates[0].Subject.CommonName
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callers = append(f.callers, name+" "+strings.Join(md.Get("authorization"), ","))
}

func (f *frontend) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.callers) == 0 {
		return ""
	}
	return f.callers[len(f.callers)-1]
}

func (f *frontend) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	f.note(ctx)
	return &workflowservice.GetSystemInfoResponse{Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{}}, nil
}

func (f *frontend) DescribeNamespace(ctx context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	f.note(ctx)
	return &workflowservice.DescribeNamespaceResponse{
		NamespaceInfo: &namespacepb.NamespaceInfo{Name: req.GetNamespace()},
		Config:        &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(f.retention)},
	}, nil
}

// TestDialWithMutualTLSAndAPIKey: Dial reaches a frontend that requires client certificates,
// checks its certificate against the configured CA and name, sends the API key read from a
// file, and sends a rotated key from the next call on; without a client certificate, or
// against a certificate of another name, it does not connect.
func TestDialWithMutualTLSAndAPIKey(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "cluster CA")
	certFile, keyFile := ca.Server("frontend", "frontend.temporal.internal").Write(t, dir, "frontend")
	srvTLS, err := tlsconfig.NewServer(tlsconfig.ServerFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: ca.WriteCA(dir, "ca.pem")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fe := &frontend{retention: 72 * time.Hour}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(srvTLS.Config(tls.RequireAndVerifyClientCert))))
	workflowservice.RegisterWorkflowServiceServer(gs, fe)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	clientCert, clientKey := ca.Client("seleksi-worker").Write(t, dir, "client")
	keyPath := filepath.Join(dir, "api-key")
	if err := os.WriteFile(keyPath, []byte("key-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apiKey, err := APIKeyFromFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	clientTLS := func(files tlsconfig.ClientFiles) *tls.Config {
		t.Helper()
		c, err := tlsconfig.Client(files, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	dial := func(opts Options) (interface{ Close() }, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		opts.HostPort, opts.Namespace, opts.Retention = lis.Addr().String(), "seleksi", 72*time.Hour
		c, err := Dial(ctx, opts)
		if err != nil {
			return nil, err
		}
		return c, nil
	}

	ok := clientTLS(tlsconfig.ClientFiles{CAFile: dir + "/ca.pem", CertFile: clientCert, KeyFile: clientKey, ServerName: "frontend.temporal.internal"})
	c, err := dial(Options{TLS: ok, APIKey: apiKey})
	if err != nil {
		t.Fatalf("Dial with mutual TLS: %v", err)
	}
	defer c.Close()
	if got, want := fe.last(), "seleksi-worker Bearer key-1"; got != want {
		t.Errorf("frontend saw %q, want %q", got, want)
	}
	if err := os.WriteFile(keyPath+".new", []byte("key-2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(keyPath+".new", keyPath); err != nil {
		t.Fatal(err)
	}
	if _, err := c.(interface {
		WorkflowService() workflowservice.WorkflowServiceClient
	}).WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: "seleksi"}); err != nil {
		t.Fatal(err)
	}
	if got, want := fe.last(), "seleksi-worker Bearer key-2"; got != want {
		t.Errorf("after the key's rotation the frontend saw %q, want %q", got, want)
	}

	for name, opts := range map[string]Options{
		"no client certificate": {TLS: clientTLS(tlsconfig.ClientFiles{CAFile: dir + "/ca.pem", ServerName: "frontend.temporal.internal"})},
		"another server name":   {TLS: clientTLS(tlsconfig.ClientFiles{CAFile: dir + "/ca.pem", CertFile: clientCert, KeyFile: clientKey, ServerName: "elsewhere"})},
		"system roots":          {TLS: clientTLS(tlsconfig.ClientFiles{CertFile: clientCert, KeyFile: clientKey, ServerName: "frontend.temporal.internal"})},
		"plain text":            {},
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := dial(opts); err == nil {
				c.Close()
				t.Fatal("Dial connected")
			}
		})
	}
}

func TestAPIKeyFromFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	if _, err := APIKeyFromFile(p); err == nil {
		t.Error("a missing file was accepted")
	}
	if err := os.WriteFile(p, []byte("  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := APIKeyFromFile(p); err == nil {
		t.Error("an empty file was accepted")
	}
	if err := os.WriteFile(p, []byte("k1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	get, err := APIKeyFromFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		write *string // nil removes the file
		want  string
	}{
		{nil, "k1"},          // removed in the middle of a replacement: the last key
		{ptr(""), "k1"},      // written empty first: the last key
		{ptr("k2 \n"), "k2"}, // the new key
		{ptr("k3-longer"), "k3-longer"},
	} {
		if step.write == nil {
			_ = os.Remove(p)
		} else if err := os.WriteFile(p, []byte(*step.write), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := get(context.Background()); err != nil || got != step.want {
			t.Fatalf("after writing %v: %q, %v; want %q", step.write, got, err, step.want)
		}
	}
}

func ptr(s string) *string { return &s }
