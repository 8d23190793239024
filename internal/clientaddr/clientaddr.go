// Package clientaddr owns the answer to "which address is calling": the client's network
// address as seen through the reverse proxies an operator trusts. X-Forwarded-For is believed
// only from a trusted proxy, for HTTP requests and for gRPC calls alike, and a gRPC call the
// gateway makes on behalf of an HTTP client carries that client's address, believed only on
// the gateway's own connections. Rate limits and logs use the result.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// forwardedFor is the header (and, lower-cased, the gRPC metadata key) proxies append the
// address they received a request from to. grpc-gateway sets the metadata from the HTTP
// request's header and remote address.
const forwardedFor = "X-Forwarded-For"

// Resolver finds a request's client address.
type Resolver struct {
	trusted []netip.Prefix
	gateway *Gateway
}

// NewResolver returns a Resolver that believes X-Forwarded-For only from peers within
// trusted, and the client address of gRPC calls that arrive on gateway's connections. Both
// may be empty (nil): then every caller is its TCP peer.
func NewResolver(trusted []netip.Prefix, gateway *Gateway) *Resolver {
	return &Resolver{trusted: slices.Clone(trusted), gateway: gateway}
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or single addresses
// ("10.0.0.0/8, 192.168.1.7"), as operators write trusted proxies.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolve walks X-Forwarded-For from its right end, where the nearest proxy wrote, for as
// long as each hop is a trusted proxy: the first address a trusted proxy vouches for that is
// not itself a trusted proxy is the client. Entries further left were written by the client
// or by proxies nobody vouches for and are ignored, so a client cannot choose its own address.
func (r *Resolver) resolve(peerAddr netip.Addr, forwarded []string) netip.Addr {
	client := peerAddr
	if !r.isTrusted(client) {
		return client
	}
	var hops []string
	for _, v := range forwarded {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// A trusted proxy never writes garbage, so this entry came from further out; the
			// last trusted hop is the best answer there is.
			return client
		}
		client = a
		if !r.isTrusted(a) {
			return a
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port, IPv6 possibly
// in brackets.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// addrOf is the IP of a net.Addr or a "host:port" string.
func addrOf(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

type addrKey struct{}
type viaGatewayKey struct{}

// With returns a context carrying the client address of its request.
func With(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, addrKey{}, a)
}

// From returns the client address of the request ctx belongs to, as resolved by the HTTP
// middleware or the gRPC interceptors of a Resolver.
func From(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(addrKey{}).(netip.Addr)
	return a, ok
}

// ViaGateway reports whether a gRPC call came from this process's own HTTP gateway, whose
// HTTP middleware has already seen (and rate-limited) the client's request.
func ViaGateway(ctx context.Context) bool {
	v, _ := ctx.Value(viaGatewayKey{}).(bool)
	return v
}

// Middleware resolves each HTTP request's client address, puts it in the request's context
// and makes it the request's RemoteAddr, and removes X-Forwarded-For (and any attempt to pass
// it as gRPC metadata), so that what the gateway forwards to the gRPC server as
// x-forwarded-for is exactly the resolved address.
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		peerAddr, ok := addrOf(req.RemoteAddr)
		if !ok {
			// A listener that is not TCP (a Unix socket) has no address to resolve.
			next.ServeHTTP(w, req)
			return
		}
		client := r.resolve(peerAddr, req.Header.Values(forwardedFor))
		req = req.WithContext(With(req.Context(), client))
		_, port, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			port = "0"
		}
		req.RemoteAddr = net.JoinHostPort(client.String(), port)
		req.Header.Del(forwardedFor)
		req.Header.Del("Grpc-Metadata-" + forwardedFor)
		next.ServeHTTP(w, req)
	})
}

// InProcessNetwork is the network of the peer of a call made through an in-process channel
// (github.com/fullstorydev/grpchan/inprocgrpc, which internal/server's GRPC.Local is): no
// socket has it, so only code in this process can make such a call.
const InProcessNetwork = "inproc"

// inProcessPeer stands for this process as the peer of an in-process call that forwards no
// client address, as the loopback address did when the gateway had a connection.
var inProcessPeer = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// fromGRPC resolves a gRPC call's client address: on the gateway's in-process channel or
// its own connection, the address its HTTP middleware resolved (the last x-forwarded-for
// entry, which grpc-gateway appends from the request's RemoteAddr); on any other
// connection, the peer, or what a trusted proxy forwarded.
func (r *Resolver) fromGRPC(ctx context.Context) (addr netip.Addr, viaGateway, ok bool) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return netip.Addr{}, false, false
	}
	md, _ := metadata.FromIncomingContext(ctx)
	forwarded := md.Get(strings.ToLower(forwardedFor))
	inProcess := p.Addr.Network() == InProcessNetwork
	peerAddr, ok := addrOf(p.Addr.String())
	switch {
	case inProcess:
		peerAddr = inProcessPeer
	case !ok:
		return netip.Addr{}, false, false
	}
	if inProcess || r.gateway.has(p.Addr.String()) {
		if n := len(forwarded); n > 0 {
			hops := strings.Split(forwarded[n-1], ",")
			if a, ok := parseHop(hops[len(hops)-1]); ok {
				return a, true, true
			}
		}
		return peerAddr, true, true
	}
	return r.resolve(peerAddr, forwarded), false, true
}

func (r *Resolver) withGRPC(ctx context.Context) context.Context {
	a, viaGateway, ok := r.fromGRPC(ctx)
	if !ok {
		return ctx
	}
	ctx = With(ctx, a)
	if viaGateway {
		ctx = context.WithValue(ctx, viaGatewayKey{}, true)
	}
	return ctx
}

// UnaryInterceptor puts each call's client address in its context (see From and
// ViaGateway); it belongs first in the chain.
func (r *Resolver) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return handler(r.withGRPC(ctx), req)
	}
}

// StreamInterceptor is UnaryInterceptor for streaming calls.
func (r *Resolver) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &stream{ServerStream: ss, ctx: r.withGRPC(ss.Context())})
	}
}

type stream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *stream) Context() context.Context { return s.ctx }

// Gateway knows the connections this process's HTTP gateway opens to its own gRPC server,
// by their local address, so the server can tell them from any other caller on loopback: only
// on them is the forwarded client address believed.
type Gateway struct {
	mu    sync.Mutex
	conns map[string]int
}

// NewGateway returns an empty registry; dial the gateway's connection with its Dial.
func NewGateway() *Gateway { return &Gateway{conns: map[string]int{}} }

// Dial opens a TCP connection for the gateway's gRPC client (grpc.WithContextDialer) and
// records its local address until it is closed.
func (g *Gateway) Dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	local := c.LocalAddr().String()
	g.mu.Lock()
	g.conns[local]++
	g.mu.Unlock()
	return &gatewayConn{Conn: c, forget: sync.OnceFunc(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.conns[local]--; g.conns[local] <= 0 {
			delete(g.conns, local)
		}
	})}, nil
}

func (g *Gateway) has(remote string) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns[remote] > 0
}

type gatewayConn struct {
	net.Conn
	forget func()
}

func (c *gatewayConn) Close() error {
	c.forget()
	return c.Conn.Close()
}
