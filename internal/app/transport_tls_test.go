package app

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/tlsconfig"
	"github.com/bkpsdm/seleksi/internal/tlsconfig/tlstest"
)

// tlsTransport starts a transport whose servers speak TLS with a certificate of a test CA
// named name, requiring client certificates of a second CA; it returns the transport, the
// two CAs and the directory of the files.
func tlsTransport(t *testing.T, clientAuthHTTP bool) (tr *Transport, serverCA, clientCA *tlstest.CA, dir string) {
	t.Helper()
	dir = t.TempDir()
	serverCA, clientCA = tlstest.NewCA(t, "server CA"), tlstest.NewCA(t, "client CA")
	certFile, keyFile := serverCA.Server("seleksid-1", "127.0.0.1").Write(t, dir, "server")
	s, err := tlsconfig.NewServer(tlsconfig.ServerFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: clientCA.WriteCA(dir, "clients.pem")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, _, _ = startTransport(t, WithTLS(s, clientAuthHTTP))
	return tr, serverCA, clientCA, dir
}

// httpsGet fetches url over a fresh connection with client and returns the status, the
// body and the name on the server's certificate; err is a refused connection.
func httpsGet(url string, client *tls.Config) (code int, body, server string, err error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: client, DisableKeepAlives: true, ForceAttemptHTTP2: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		server = resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	return resp.StatusCode, string(b), server, err
}

// grpcHealth checks health over a new connection with creds and returns the name on the
// server's certificate.
func grpcHealth(addr string, creds grpc.DialOption) (string, error) {
	conn, err := grpc.NewClient(addr, creds)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p peer.Peer
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p)); err != nil {
		return "", err
	}
	if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
		return ti.State.PeerCertificates[0].Subject.CommonName, nil
	}
	return "plain text", nil
}

// TestTransportTLS: with TLS configured, gRPC and HTTPS answer over TLS only; the gRPC port
// refuses a client without a certificate of the client CA while the HTTP port (browsers)
// asks for none; REST calls still reach the gRPC handlers through the gateway, which calls
// the gRPC server with its in-process identity.
func TestTransportTLS(t *testing.T) {
	tr, serverCA, clientCA, _ := tlsTransport(t, false)
	withCert := &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{clientCA.Client("operator").TLS(t)}}
	noCert := &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12}
	otherCA := &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{tlstest.NewCA(t, "someone else's CA").Client("intruder").TLS(t)}}

	grpcTests := []struct {
		name   string
		creds  grpc.DialOption
		wantOK bool
	}{
		{"client certificate of the client CA", grpc.WithTransportCredentials(credentials.NewTLS(withCert)), true},
		{"no client certificate", grpc.WithTransportCredentials(credentials.NewTLS(noCert)), false},
		{"client certificate of another CA", grpc.WithTransportCredentials(credentials.NewTLS(otherCA)), false},
		{"plain text", grpc.WithTransportCredentials(insecure.NewCredentials()), false},
		{"the transport's own loopback identity", tr.loopback, true},
	}
	for _, tt := range grpcTests {
		t.Run("gRPC "+tt.name, func(t *testing.T) {
			name, err := grpcHealth(tr.GRPCAddr(), tt.creds)
			if tt.wantOK != (err == nil) {
				t.Fatalf("health check: %q, %v; want success %v", name, err, tt.wantOK)
			}
			if tt.wantOK && name != "seleksid-1" {
				t.Errorf("server certificate %q", name)
			}
		})
	}

	base := "https://" + tr.HTTPAddr()
	for _, client := range []*tls.Config{noCert, withCert} {
		code, body, _, err := httpsGet(base+"/v1/selections?filter=stage%3DSTAGE_ANNOUNCEMENT", client)
		if err != nil || code != http.StatusOK || !strings.Contains(body, `"nextPageToken":"handled:stage=STAGE_ANNOUNCEMENT"`) {
			t.Errorf("REST call through the gateway (client certificate %v): %d %s %v", client.Certificates != nil, code, body, err)
		}
	}
	if code, _, _, err := httpsGet(base+"/healthz", &tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
		t.Errorf("a client that does not trust the server CA got %d", code)
	}
	if resp, err := http.Get("http://" + tr.HTTPAddr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP was answered 200 on the TLS port")
		}
	}

	// A gRPC call with its token, through TLS, reaches the handler.
	conn, err := grpc.NewClient(tr.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(withCert)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := seleksiv1.NewSelectionServiceClient(conn).ListSelections(context.Background(), &seleksiv1.ListSelectionsRequest{Filter: "stage=STAGE_INTERVIEW"})
	if err != nil || resp.GetNextPageToken() != "handled:stage=STAGE_INTERVIEW" {
		t.Errorf("ListSelections over mutual TLS: %v, %v", resp, err)
	}
}

// TestTransportTLSClientCertificatesOnHTTP: -tls-client-auth-http requires the client CA's
// certificates on the HTTP port too.
func TestTransportTLSClientCertificatesOnHTTP(t *testing.T) {
	tr, serverCA, clientCA, _ := tlsTransport(t, true)
	base := "https://" + tr.HTTPAddr() + "/healthz"
	if code, _, _, err := httpsGet(base, &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12}); err == nil {
		t.Errorf("HTTPS without a client certificate got %d", code)
	}
	withCert := &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{clientCA.Client("proxy").TLS(t)}}
	if code, body, _, err := httpsGet(base, withCert); err != nil || code != http.StatusOK {
		t.Errorf("HTTPS with a client certificate: %d %s %v", code, body, err)
	}
	// The gateway's calls still pass the gRPC port's check.
	if code, body, _, err := httpsGet("https://"+tr.HTTPAddr()+"/v1/selections", withCert); err != nil || code != http.StatusOK {
		t.Errorf("REST call through the gateway: %d %s %v", code, body, err)
	}
}

// TestTransportTLSReloadsCertificate: a certificate replaced on disk is presented to the
// next connection on both ports, without a restart; the gateway keeps working, and a new
// loopback connection accepts the new certificate.
func TestTransportTLSReloadsCertificate(t *testing.T) {
	tr, serverCA, clientCA, dir := tlsTransport(t, false)
	withCert := &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{clientCA.Client("operator").TLS(t)}}
	grpcCreds := grpc.WithTransportCredentials(credentials.NewTLS(withCert))
	check := func(want string) {
		t.Helper()
		if _, _, name, err := httpsGet("https://"+tr.HTTPAddr()+"/healthz", withCert); err != nil || name != want {
			t.Errorf("HTTPS server certificate %q, %v; want %q", name, err, want)
		}
		if name, err := grpcHealth(tr.GRPCAddr(), grpcCreds); err != nil || name != want {
			t.Errorf("gRPC server certificate %q, %v; want %q", name, err, want)
		}
		if name, err := grpcHealth(tr.GRPCAddr(), tr.loopback); err != nil || name != want {
			t.Errorf("loopback: server certificate %q, %v; want %q", name, err, want)
		}
		if code, body, _, err := httpsGet("https://"+tr.HTTPAddr()+"/v1/selections", withCert); err != nil || code != http.StatusOK {
			t.Errorf("REST call through the gateway: %d %s %v", code, body, err)
		}
	}
	check("seleksid-1")
	serverCA.Server("seleksid-2", "127.0.0.1").Write(t, dir, "server")
	check("seleksid-2")
}
