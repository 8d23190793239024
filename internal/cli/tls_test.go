package cli

import (
	"crypto/tls"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/bkpsdm/seleksi/internal/tlsconfig"
	"github.com/bkpsdm/seleksi/internal/tlsconfig/tlstest"
)

// TestTLS: seleksictl reaches a seleksid that serves TLS and requires client certificates,
// given the CA and its certificate by flags or the environment; without them it is refused.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "agency CA")
	certFile, keyFile := ca.Server("seleksid", "localhost").Write(t, dir, "server")
	s, err := tlsconfig.NewServer(tlsconfig.ServerFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: ca.WriteCA(dir, "ca.pem")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, addr := fakeServer(t, grpc.Creds(credentials.NewTLS(s.Config(tls.RequireAndVerifyClientCert))))
	// The certificate names localhost, not 127.0.0.1.
	addr = strings.Replace(addr, "127.0.0.1", "localhost", 1)
	clientCert, clientKey := ca.Client("operator").Write(t, dir, "operator")
	caFile := dir + "/ca.pem"

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "flags", args: []string{"--tls-ca", caFile, "--tls-cert", clientCert, "--tls-key", clientKey}, wantCode: ExitOK},
		{name: "environment", env: map[string]string{"SELEKSI_TLS_CA": caFile, "SELEKSI_TLS_CERT": clientCert, "SELEKSI_TLS_KEY": clientKey}, wantCode: ExitOK},
		{name: "server name given", args: []string{"--server", strings.Replace(addr, "localhost", "127.0.0.1", 1), "--tls-server-name", "localhost",
			"--tls-ca", caFile, "--tls-cert", clientCert, "--tls-key", clientKey}, wantCode: ExitOK},
		{name: "no client certificate", args: []string{"--tls-ca", caFile}, wantCode: ExitFailure},
		{name: "system roots", args: []string{"--tls-cert", clientCert, "--tls-key", clientKey}, wantCode: ExitFailure},
		{name: "plain text", wantCode: ExitFailure},
		{name: "certificate without key", args: []string{"--tls-ca", caFile, "--tls-cert", clientCert}, wantCode: ExitUsage, wantErr: "--tls-cert and --tls-key"},
		{name: "missing CA file", args: []string{"--tls-ca", dir + "/none.pem"}, wantCode: ExitUsage, wantErr: "TLS:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--timeout", "5s"}, tt.args...)
			res := runCLI(t, addr, tt.env, append(args, "selection", "get", "kadis-pupr-2026")...)
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}
