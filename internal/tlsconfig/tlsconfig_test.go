package tlsconfig

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/tlsconfig/tlstest"
)

// listen serves cfg on loopback: each connection that completes its handshake gets "ok" and
// the name of the client certificate it presented, if any.
func listen(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				if tc.Handshake() != nil {
					return
				}
				name := "-"
				if p := tc.ConnectionState().PeerCertificates; len(p) > 0 {
					name = p[0].Subject.CommonName
				}
				_, _ = io.WriteString(tc, "ok "+name+"\n")
			}()
		}
	}()
	return l.Addr().String()
}

// call connects with cfg and returns the server certificate's name and what the server said;
// a refused handshake is an error (with TLS 1.3, the client learns that its certificate was
// refused only when it reads).
func call(addr string, cfg *tls.Config) (server, answer string, err error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return "", "", err
	}
	if len(b) == 0 {
		return "", "", errors.New("closed without an answer")
	}
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, string(b), nil
}

func TestServerReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	first, second := ca.Server("first", "127.0.0.1"), ca.Server("second", "127.0.0.1")
	certFile, keyFile := first.Write(t, dir, "server")
	s, err := NewServer(ServerFiles{CertFile: certFile, KeyFile: keyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, s.Config(tls.NoClientCert))
	client := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	want := func(name string) {
		t.Helper()
		got, _, err := call(addr, client)
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		if got != name {
			t.Fatalf("server certificate %q, want %q", got, name)
		}
	}
	want("first")

	// A renewal writes the certificate first: until the key follows, the pair does not
	// match, and the old certificate stays in use.
	if err := os.WriteFile(certFile, second.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	want("first")
	second.Write(t, dir, "server")
	want("second")

	// A file removed in the middle of a replacement leaves the last certificate in use.
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	want("second")
	first.Write(t, dir, "server")
	want("first")
}

func TestNewServerRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "test CA")
	certFile, keyFile := ca.Server("s", "127.0.0.1").Write(t, dir, "server")
	_, otherKey := ca.Server("o", "127.0.0.1").Write(t, dir, "other")
	notPEM := dir + "/not.pem"
	if err := os.WriteFile(notPEM, []byte("no certificate here"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string]ServerFiles{
		"missing key":       {CertFile: certFile},
		"mismatched key":    {CertFile: certFile, KeyFile: otherKey},
		"missing cert file": {CertFile: dir + "/none.crt", KeyFile: keyFile},
		"CA file not PEM":   {CertFile: certFile, KeyFile: keyFile, ClientCAFile: notPEM},
		"CA file missing":   {CertFile: certFile, KeyFile: keyFile, ClientCAFile: dir + "/none.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewServer(files, nil); err == nil {
				t.Fatal("NewServer accepted the files")
			}
		})
	}
}

func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, stranger := tlstest.NewCA(t, "client CA"), tlstest.NewCA(t, "someone else's CA")
	serverCA := tlstest.NewCA(t, "server CA")
	certFile, keyFile := serverCA.Server("seleksid", "seleksi.example.go.id").Write(t, dir, "server")
	s, err := NewServer(ServerFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: ca.WriteCA(dir, "clients.pem")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, s.Config(tls.RequireAndVerifyClientCert))
	loopback, err := LoopbackClient(s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Another server's loopback client does not accept this server, whose certificate it
	// never presented.
	other, err := NewServer(ServerFiles{CertFile: certFile, KeyFile: keyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherLoopback, err := LoopbackClient(other, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	with := func(c tlstest.Cert) *tls.Config {
		return &tls.Config{RootCAs: serverCA.Pool(), ServerName: "seleksi.example.go.id", MinVersion: tls.VersionTLS12,
			Certificates: []tls.Certificate{c.TLS(t)}}
	}
	tests := []struct {
		name   string
		client *tls.Config
		want   string // the answer; empty: refused
	}{
		{"no certificate", &tls.Config{RootCAs: serverCA.Pool(), ServerName: "seleksi.example.go.id", MinVersion: tls.VersionTLS12}, ""},
		{"certificate of the client CA", with(ca.Client("operator")), "ok operator\n"},
		{"certificate of another CA", with(stranger.Client("intruder")), ""},
		{"server certificate as client certificate", with(ca.Server("a server", "x")), ""},
		{"loopback client of this server", loopback, "ok seleksid loopback gateway\n"},
		{"loopback client of another server", otherLoopback, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := call(addr, tt.client)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("accepted: %q", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestServerReloadsClientCAs(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA := tlstest.NewCA(t, "old client CA"), tlstest.NewCA(t, "new client CA")
	serverCA := tlstest.NewCA(t, "server CA")
	certFile, keyFile := serverCA.Server("seleksid", "127.0.0.1").Write(t, dir, "server")
	caFile := oldCA.WriteCA(dir, "clients.pem")
	s, err := NewServer(ServerFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, s.Config(tls.RequireAndVerifyClientCert))
	loopback, err := LoopbackClient(s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := func(ca *tlstest.CA) *tls.Config {
		return &tls.Config{RootCAs: serverCA.Pool(), MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{ca.Client("c").TLS(t)}}
	}
	if _, _, err := call(addr, client(oldCA)); err != nil {
		t.Fatalf("old CA's client before the change: %v", err)
	}
	if err := os.WriteFile(caFile+".new", newCA.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(caFile+".new", caFile); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(addr, client(newCA)); err != nil {
		t.Errorf("new CA's client after the change: %v", err)
	}
	if _, got, err := call(addr, client(oldCA)); err == nil {
		t.Errorf("old CA's client after the change accepted: %q", got)
	}
	if _, _, err := call(addr, loopback); err != nil {
		t.Errorf("loopback client after the change: %v", err)
	}
}

func TestClientReloadsItsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "CA")
	s, err := NewServer(func() ServerFiles {
		c, k := ca.Server("seleksid", "localhost").Write(t, dir, "server")
		return ServerFiles{CertFile: c, KeyFile: k, ClientCAFile: ca.WriteCA(dir, "ca.pem")}
	}(), nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := listen(t, s.Config(tls.RequireAndVerifyClientCert))
	certFile, keyFile := ca.Client("worker-1").Write(t, dir, "client")
	cfg, err := Client(ClientFiles{CAFile: dir + "/ca.pem", CertFile: certFile, KeyFile: keyFile, ServerName: "localhost"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := call(addr, cfg); err != nil || got != "ok worker-1\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	ca.Client("worker-1-renewed").Write(t, dir, "client")
	if _, got, err := call(addr, cfg); err != nil || got != "ok worker-1-renewed\n" {
		t.Fatalf("after renewal: got %q, %v", got, err)
	}
	// Without the CA file the system's roots do not know the test CA.
	sys, err := Client(ClientFiles{CertFile: certFile, KeyFile: keyFile, ServerName: "localhost"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := call(addr, sys); err == nil {
		t.Fatalf("a server of an unknown CA was accepted: %q", got)
	}
	// The name must match.
	wrong, err := Client(ClientFiles{CAFile: dir + "/ca.pem", CertFile: certFile, KeyFile: keyFile, ServerName: "elsewhere"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := call(addr, wrong); err == nil {
		t.Fatalf("a server of another name was accepted: %q", got)
	}
	if _, err := Client(ClientFiles{CertFile: certFile}, nil); err == nil {
		t.Error("Client accepted a certificate without its key")
	}
}
