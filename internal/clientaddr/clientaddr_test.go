package clientaddr

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

func mustPrefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolve(t *testing.T) {
	trusted := "10.0.0.0/8, 192.168.1.7, 2001:db8::/32"
	tests := []struct {
		name      string
		peer      string
		forwarded []string
		want      string
	}{
		{"untrusted peer: X-Forwarded-For ignored", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted peer on loopback: ignored too", "127.0.0.1", []string{"198.51.100.1"}, "127.0.0.1"},
		{"trusted peer: the address it received from", "10.1.2.3", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted single address", "192.168.1.7", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-written entries left of the proxy's are ignored", "10.1.2.3", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"a chain of trusted proxies is walked", "10.1.2.3", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several header lines are one list", "10.1.2.3", []string{"1.1.1.1", "198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"entries with ports", "10.1.2.3", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv6 in brackets with a port", "2001:db8::1", []string{"[2a00:1450::5]:443, 2001:db8::2"}, "2a00:1450::5"},
		{"IPv6 client behind an IPv6 proxy", "2001:db8::1", []string{"2a00:1450::1"}, "2a00:1450::1"},
		{"garbage from the client is not believed", "10.1.2.3", []string{"not-an-ip, 10.9.9.9"}, "10.9.9.9"},
		{"trusted peer without header", "10.1.2.3", nil, "10.1.2.3"},
		{"every hop trusted: the leftmost", "10.1.2.3", []string{"10.4.4.4, 10.5.5.5"}, "10.4.4.4"},
	}
	r := NewResolver(mustPrefixes(t, trusted), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.resolve(netip.MustParseAddr(tt.peer), tt.forwarded)
			if got != netip.MustParseAddr(tt.want) {
				t.Errorf("resolve(%s, %q) = %s, want %s", tt.peer, tt.forwarded, got, tt.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8 ,::ffff:192.0.2.1,, 2001:db8::1/64")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.1/32", "2001:db8::/64"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := ParsePrefixes("10.0.0.0/8, proxy.internal"); err == nil {
		t.Error("a host name was accepted")
	}
}

// TestMiddlewareRewritesRequest: the gateway forwards RemoteAddr as x-forwarded-for, so the
// middleware must leave exactly the resolved address there and nothing a client could set.
func TestMiddlewareRewritesRequest(t *testing.T) {
	r := NewResolver(mustPrefixes(t, "10.0.0.0/8"), nil)
	var seen *http.Request
	h := r.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) { seen = req }))
	req := httptest.NewRequest(http.MethodGet, "/v1/selections", nil)
	req.RemoteAddr = "10.0.0.5:3456"
	req.Header.Add("X-Forwarded-For", "6.6.6.6, 198.51.100.1")
	req.Header.Set("Grpc-Metadata-X-Forwarded-For", "7.7.7.7")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if a, ok := From(seen.Context()); !ok || a.String() != "198.51.100.1" {
		t.Errorf("context address = %v %v, want 198.51.100.1", a, ok)
	}
	if seen.RemoteAddr != "198.51.100.1:3456" {
		t.Errorf("RemoteAddr = %q", seen.RemoteAddr)
	}
	if v := seen.Header.Values("X-Forwarded-For"); len(v) != 0 {
		t.Errorf("X-Forwarded-For left: %q", v)
	}
	if v := seen.Header.Values("Grpc-Metadata-X-Forwarded-For"); len(v) != 0 {
		t.Errorf("Grpc-Metadata-X-Forwarded-For left: %q", v)
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// TestGRPCAddress: only on the gateway's own connections is the forwarded address believed;
// another local process sending x-forwarded-for gets its own address.
func TestGRPCAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	gw := NewGateway()
	conn, err := gw.Dial(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	gatewayLocal := conn.LocalAddr().String()
	r := NewResolver(nil, gw)
	call := func(peerAddr string, forwarded ...string) (string, bool) {
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: fakeAddr(peerAddr)})
		md := metadata.MD{}
		for _, f := range forwarded {
			md.Append("x-forwarded-for", f)
		}
		ctx = r.withGRPC(metadata.NewIncomingContext(ctx, md))
		a, _ := From(ctx)
		return a.String(), ViaGateway(ctx)
	}
	if a, via := call(gatewayLocal, "6.6.6.6", "198.51.100.1"); a != "198.51.100.1" || !via {
		t.Errorf("gateway call: %s via=%v, want the last forwarded entry via the gateway", a, via)
	}
	if a, via := call("127.0.0.1:40000", "198.51.100.1"); a != "127.0.0.1" || via {
		t.Errorf("other loopback caller: %s via=%v, want its own address", a, via)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if a, via := call(gatewayLocal, "198.51.100.1"); a != "127.0.0.1" || via {
		t.Errorf("after the gateway's connection closed: %s via=%v, want its own address", a, via)
	}
}

// inProcessAddr is the peer address inprocgrpc gives the server side of its calls.
type inProcessAddr struct{}

func (inProcessAddr) Network() string { return InProcessNetwork }
func (inProcessAddr) String() string  { return "0" }

// TestGRPCAddressInProcess: a call through the in-process channel comes from the gateway (or
// the web pages) of this process, so what it forwards is believed and it counts as via the
// gateway; without a forwarded address it is the process itself.
func TestGRPCAddressInProcess(t *testing.T) {
	r := NewResolver(nil, nil)
	for _, tc := range []struct {
		name      string
		forwarded []string
		want      string
	}{
		{"forwarded", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},
		{"forwarded list", []string{"6.6.6.6, 198.51.100.2"}, "198.51.100.2"},
		{"nothing forwarded", nil, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: inProcessAddr{}})
			md := metadata.MD{}
			for _, f := range tc.forwarded {
				md.Append("x-forwarded-for", f)
			}
			ctx = r.withGRPC(metadata.NewIncomingContext(ctx, md))
			a, ok := From(ctx)
			if !ok || a.String() != tc.want || !ViaGateway(ctx) {
				t.Errorf("in-process call: %s (%v) via=%v, want %s via the gateway", a, ok, ViaGateway(ctx), tc.want)
			}
		})
	}
	// A TCP peer whose address happens to read like the in-process one is not believed.
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: fakeAddr("0")})
	ctx = r.withGRPC(metadata.NewIncomingContext(ctx, metadata.Pairs("x-forwarded-for", "198.51.100.1")))
	if _, ok := From(ctx); ok || ViaGateway(ctx) {
		t.Errorf("a TCP peer named %q resolved as in-process", "0")
	}
}
