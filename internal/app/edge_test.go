package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/clientaddr"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/ratelimit"
)

// httpFrom is an HTTP client whose connections come from a given loopback address, so that
// tests can play several clients (127.0.0.2, 127.0.0.3, ...) on one machine.
func httpFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
}

// grpcFrom is a gRPC connection from a given loopback address.
func grpcFrom(t *testing.T, ip, target string) *grpc.ClientConn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

type reply struct {
	code       int
	retryAfter string
	body       string
}

func send(t *testing.T, c *http.Client, method, url, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
}

// TestOversizedRequestIs413 sends bodies over the JSON limit to a route that needs a token,
// without one: the answer is a clean 413 google.rpc.Status in the caller's language, before
// any authentication (not 401) and without gRPC's internal text (it once was 429 with
// "grpc: received message larger than max").
func TestOversizedRequestIs413(t *testing.T) {
	tr, _, _ := startTransport(t)
	url := "http://" + tr.HTTPAddr() + "/v1/selections?requestId=req-00000001"
	big := `{"positionTitle":"` + strings.Repeat("a", 2<<20) + `"}`
	c := httpFrom("127.0.0.1")
	for _, tt := range []struct {
		name, lang, want string
		chunked          bool
	}{
		{"declared length, Indonesian", "", "permintaan terlalu besar: paling banyak 1048576 bita", false},
		{"chunked, English", "en", "the request is too large: at most 1048576 bytes", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			if tt.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(strings.NewReader(big))
			}
			req.Header.Set("Accept-Language", tt.lang)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", resp.StatusCode, b)
			}
			var st rpcStatus
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatalf("not a google.rpc.Status: %v %s", err, b)
			}
			if st.Code != int(codes.ResourceExhausted) || st.Message != tt.want || strings.Contains(string(b), "grpc:") {
				t.Errorf("body %s, want code 8 and %q", b, tt.want)
			}
		})
	}
	// Just under the limit the request goes on, to authentication.
	under := `{"positionTitle":"` + strings.Repeat("a", 1<<20-100) + `"}`
	if r := send(t, c, http.MethodPost, url, under, "Content-Type", "application/json"); r.code != http.StatusUnauthorized {
		t.Errorf("a body under the limit: %d, want 401 %s", r.code, r.body)
	}
}

// TestOversizedGRPCMessage: the gRPC server's message limit is the configured one (not
// gRPC's 4 MiB default); gRPC refuses a larger message while receiving it.
func TestOversizedGRPCMessage(t *testing.T) {
	tr, _, _ := startTransport(t, WithLimits(Limits{MaxRequestBytes: 64 << 10}))
	client := seleksiv1.NewSelectionServiceClient(grpcFrom(t, "127.0.0.1", tr.GRPCAddr()))
	_, err := client.ListSelections(context.Background(), &seleksiv1.ListSelectionsRequest{Filter: strings.Repeat("a", 100<<10)})
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "65536") {
		t.Errorf("100 KiB message: %v, want RESOURCE_EXHAUSTED at 65536 bytes", err)
	}
	if _, err := client.ListSelections(context.Background(), &seleksiv1.ListSelectionsRequest{Filter: strings.Repeat("a", 60<<10)}); status.Code(err) == codes.ResourceExhausted {
		t.Errorf("60 KiB message: %v", err)
	}
}

// vmRSS is this process's resident set size, from /proc/self/status.
func vmRSS(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// flood sends one anonymous 100 MB JSON body, declared or chunked, reading the answer while
// it sends (the server answers before the body ends) and stopping once it has come.
func flood(addr string, chunked bool) (int, error) {
	const size = 100 << 20
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Only so a broken server cannot hang the test; nothing is timed.
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	answered := make(chan struct{})
	var code int
	var readErr error
	go func() {
		defer close(answered)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			readErr = err
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
	}()
	head := "POST /v1/selections?requestId=flood-0001 HTTP/1.1\r\nHost: seleksi\r\nContent-Type: application/json\r\n"
	if chunked {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	} else {
		head += "Content-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	}
	w := bufio.NewWriterSize(conn, 64<<10)
	_, _ = w.WriteString(head)
	piece := []byte(`{"positionTitle":"` + strings.Repeat("a", 64<<10-18))
	sendPiece := func(p []byte) error {
		if chunked {
			if _, err := fmt.Fprintf(w, "%x\r\n", len(p)); err != nil {
				return err
			}
		}
		if _, err := w.Write(p); err != nil {
			return err
		}
		if chunked {
			_, err := w.WriteString("\r\n")
			return err
		}
		return nil
	}
	rest := []byte(strings.Repeat("a", 64<<10))
	for sent := 0; sent < size; {
		select {
		case <-answered:
			sent = size
			continue
		default:
		}
		p := rest
		if sent == 0 {
			p = piece
		}
		if err := sendPiece(p[:min(len(p), size-sent)]); err != nil {
			break // the server closed the connection after answering
		}
		sent += len(p)
	}
	_ = w.Flush()
	<-answered
	return code, readErr
}

// goMemory is the memory the Go runtime holds from the OS (mapped and not released): the
// process's RSS without the race detector's shadow memory.
func goMemory() int64 {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(samples)
	return int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
}

// TestBodyFloodKeepsMemoryFlat: 20 concurrent anonymous 100 MB bodies, chunked and then
// declared, raise the process's resident memory by less than 100 MB (four such requests once
// pushed seleksid past 1.4 GB: the gateway held each body whole before gRPC refused it).
// The rise is measured as VmRSS and as the Go runtime's own memory; the race detector
// multiplies RSS, so under it only the runtime's figure is held to the bound.
func TestBodyFloodKeepsMemoryFlat(t *testing.T) {
	tr, _, _ := startTransport(t)
	if code, err := flood(tr.HTTPAddr(), true); err != nil || code != http.StatusRequestEntityTooLarge {
		t.Fatalf("warm-up flood: %d %v", code, err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	baseRSS, baseGo := vmRSS(t, "VmRSS"), goMemory()
	var peakRSS, peakGo atomic.Int64
	peakRSS.Store(baseRSS)
	peakGo.Store(baseGo)
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if rss := vmRSS(t, "VmRSS"); rss > peakRSS.Load() {
				peakRSS.Store(rss)
			}
			if m := goMemory(); m > peakGo.Load() {
				peakGo.Store(m)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	for _, chunked := range []bool{true, false} {
		var wg sync.WaitGroup
		codes := make([]int, 20)
		errs := make([]error, 20)
		for i := range 20 {
			wg.Go(func() { codes[i], errs[i] = flood(tr.HTTPAddr(), chunked) })
		}
		wg.Wait()
		for i := range 20 {
			if errs[i] != nil || codes[i] != http.StatusRequestEntityTooLarge {
				t.Errorf("chunked=%v body %d: %d %v, want 413", chunked, i, codes[i], errs[i])
			}
		}
	}
	close(stop)
	<-sampled
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	riseRSS, riseGo := peakRSS.Load()-baseRSS, peakGo.Load()-baseGo
	t.Logf("20 concurrent 100 MB bodies, chunked then declared (race detector: %v): VmRSS %.1f -> peak %.1f MiB (+%.1f); Go runtime memory %.1f -> peak %.1f MiB (+%.1f)",
		raceDetector, mib(baseRSS), mib(peakRSS.Load()), mib(riseRSS), mib(baseGo), mib(peakGo.Load()), mib(riseGo))
	if riseGo >= 100<<20 {
		t.Errorf("Go runtime memory rose by %.1f MiB, want under 100 MiB", mib(riseGo))
	}
	if !raceDetector && riseRSS >= 100<<20 {
		t.Errorf("RSS rose by %.1f MiB, want under 100 MiB", mib(riseRSS))
	}
}

// TestTrickledBodyIsCutOff: a body sent a byte at a time cannot hold its connection past the
// read timeout (it once held one for over a minute).
func TestTrickledBodyIsCutOff(t *testing.T) {
	tr, _, _ := startTransport(t, WithLimits(Limits{ReadTimeout: time.Second}))
	conn, err := net.Dial("tcp", tr.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	const length = 60
	if _, err := fmt.Fprintf(conn, "POST /v1/selections?requestId=req-00000001 HTTP/1.1\r\nHost: seleksi\r\nContent-Length: %d\r\n\r\n", length); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	go func() {
		for sent.Load() < length {
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
			sent.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if n := sent.Load(); n >= length {
		t.Fatalf("the server waited for the whole trickled body (%d bytes)", n)
	}
	if err == nil {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("answer %d %s, want 408 or a closed connection", resp.StatusCode, b)
		}
	}
}

// TestServerTimeoutsAreSet: by default the HTTP server bounds a request's headers, its whole
// reading and idle connections, and none by more than a minute.
func TestServerTimeoutsAreSet(t *testing.T) {
	cfg, err := config.Parse(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	srv := newEdge(Limits{ReadTimeout: cfg.HTTPReadTimeout, MaxRequestBytes: cfg.MaxRequestBytes}, logger).httpServer(http.NotFoundHandler(), logger)
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout} {
		if d <= 0 || d > time.Minute {
			t.Errorf("%s = %s, want up to a minute", name, d)
		}
	}
	if srv.IdleTimeout <= 0 {
		t.Error("no IdleTimeout")
	}
	if cfg.MaxRequestBytes != 1<<20 {
		t.Errorf("default body limit %d, want 1 MiB", cfg.MaxRequestBytes)
	}
}

func hasRetryInfo(err error) bool {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > 0 {
			return true
		}
	}
	return false
}

// TestRateLimitByAddress: reads over the burst get 429 with Retry-After over REST and
// RESOURCE_EXHAUSTED with RetryInfo over gRPC; each address has its own bucket.
func TestRateLimitByAddress(t *testing.T) {
	tr, _, _ := startTransport(t, WithLimits(Limits{Rates: ratelimit.Policy{AddressReads: ratelimit.Rate{Events: 5, Per: time.Minute}}}))
	url := "http://" + tr.HTTPAddr() + "/v1/selections"
	one := httpFrom("127.0.0.2")
	for i := range 5 {
		if r := send(t, one, http.MethodGet, url, ""); r.code != http.StatusOK {
			t.Fatalf("read %d within the burst: %d %s", i+1, r.code, r.body)
		}
	}
	r := send(t, one, http.MethodGet, url, "", "Accept-Language", "en")
	if r.code != http.StatusTooManyRequests || r.retryAfter != "12" || !strings.Contains(r.body, `"message":"too many requests; try again in 12 seconds"`) {
		t.Errorf("read over the burst: %d Retry-After %q %s, want 429 after 12 s", r.code, r.retryAfter, r.body)
	}
	if r := send(t, httpFrom("127.0.0.3"), http.MethodGet, url, ""); r.code != http.StatusOK {
		t.Errorf("another address: %d, want its own bucket", r.code)
	}
	if r := send(t, one, http.MethodGet, "http://"+tr.HTTPAddr()+"/healthz", ""); r.code != http.StatusOK {
		t.Errorf("health probe of a limited address: %d", r.code)
	}

	// Direct gRPC callers are limited alike, and an x-forwarded-for of their own choosing
	// changes nothing.
	client := seleksiv1.NewSelectionServiceClient(grpcFrom(t, "127.0.0.4", tr.GRPCAddr()))
	for i := range 6 {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "x-forwarded-for", fmt.Sprintf("198.51.100.%d", i))
		_, err := client.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{})
		if i < 5 && err != nil {
			t.Fatalf("gRPC read %d within the burst: %v", i+1, err)
		}
		if i == 5 && (status.Code(err) != codes.ResourceExhausted || !hasRetryInfo(err)) {
			t.Errorf("gRPC read over the burst: %v, want RESOURCE_EXHAUSTED with RetryInfo", err)
		}
	}
}

// TestForwardedForOnlyFromTrustedProxies: behind a trusted proxy each forwarded client has
// its own bucket; X-Forwarded-For from anyone else is ignored.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	proxies, err := clientaddr.ParsePrefixes("127.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	tr, _, _ := startTransport(t, WithLimits(Limits{TrustedProxies: proxies,
		Rates: ratelimit.Policy{AddressReads: ratelimit.Rate{Events: 2, Per: time.Minute}}}))
	url := "http://" + tr.HTTPAddr() + "/v1/selections"

	proxy := httpFrom("127.0.0.5")
	for i := range 6 {
		client := fmt.Sprintf("198.51.100.%d", i%3)
		if r := send(t, proxy, http.MethodGet, url, "", "X-Forwarded-For", client); r.code != http.StatusOK {
			t.Errorf("request %d for client %s through the trusted proxy: %d", i+1, client, r.code)
		}
	}
	if r := send(t, proxy, http.MethodGet, url, "", "X-Forwarded-For", "198.51.100.0"); r.code != http.StatusTooManyRequests {
		t.Errorf("third request for one client through the proxy: %d, want 429", r.code)
	}
	// A client-written entry left of the proxy's own does not make a new client.
	if r := send(t, proxy, http.MethodGet, url, "", "X-Forwarded-For", "203.0.113.9, 198.51.100.0"); r.code != http.StatusTooManyRequests {
		t.Errorf("spoofed entry through the proxy: %d, want 429", r.code)
	}

	direct := httpFrom("127.0.0.6")
	codes := []int{}
	for i := range 4 {
		codes = append(codes, send(t, direct, http.MethodGet, url, "", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)).code)
	}
	if fmt.Sprint(codes) != "[200 200 429 429]" {
		t.Errorf("untrusted peer with a fresh X-Forwarded-For each time: %v, want [200 200 429 429]", codes)
	}
}

// TestRateLimitBySubject: a signed-in subject is limited wherever it calls from, and another
// subject at the same address is not; the REST answer carries Retry-After.
func TestRateLimitBySubject(t *testing.T) {
	tr, _, tok := startTransport(t, WithLimits(Limits{Rates: ratelimit.Policy{SubjectReads: ratelimit.Rate{Events: 3, Per: 30 * time.Second}}}))
	url := "http://" + tr.HTTPAddr() + "/v1/selections"
	for i, ip := range []string{"127.0.0.7", "127.0.0.8", "127.0.0.9"} {
		if r := send(t, httpFrom(ip), http.MethodGet, url, "", "Authorization", "Bearer "+tok.admin); r.code != http.StatusOK {
			t.Fatalf("read %d of the subject: %d %s", i+1, r.code, r.body)
		}
	}
	r := send(t, httpFrom("127.0.0.10"), http.MethodGet, url, "", "Authorization", "Bearer "+tok.admin)
	if r.code != http.StatusTooManyRequests || r.retryAfter != "10" || !strings.Contains(r.body, "RetryInfo") {
		t.Errorf("fourth read of the subject from a fresh address: %d Retry-After %q %s, want 429 after 10 s", r.code, r.retryAfter, r.body)
	}
	if r := send(t, httpFrom("127.0.0.7"), http.MethodGet, url, "", "Authorization", "Bearer "+tok.candidate); r.code != http.StatusOK {
		t.Errorf("another subject: %d", r.code)
	}
	if r := send(t, httpFrom("127.0.0.7"), http.MethodGet, url, ""); r.code != http.StatusOK {
		t.Errorf("anonymous read from the same address: %d", r.code)
	}
	_, err := seleksiv1.NewSelectionServiceClient(grpcFrom(t, "127.0.0.11", tr.GRPCAddr())).ListSelections(
		metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok.admin), &seleksiv1.ListSelectionsRequest{})
	if status.Code(err) != codes.ResourceExhausted || !hasRetryInfo(err) {
		t.Errorf("the subject over gRPC: %v, want RESOURCE_EXHAUSTED with RetryInfo", err)
	}
}

// countingHandler counts log records at Info and above.
type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// TestBadTokenFlood: an address sending bad tokens gets 401 a few times, then 429 with
// Retry-After, and the flood is not logged line by line. The limit is counted by the gRPC
// server, which sees each REST client's own address, not the gateway's loopback.
func TestBadTokenFlood(t *testing.T) {
	logs := &countingHandler{}
	tr, _, tok := startTransportLogged(t, slog.New(logs), WithLimits(Limits{Rates: ratelimit.Policy{AuthFailures: ratelimit.Rate{Events: 3, Per: time.Minute}}}))
	url := "http://" + tr.HTTPAddr() + "/v1/selections"
	flooder := httpFrom("127.0.0.12")
	var got []int
	for range 200 {
		got = append(got, send(t, flooder, http.MethodGet, url, "", "Authorization", "Bearer "+tok.expired).code)
	}
	if fmt.Sprint(got[:4]) != "[401 401 401 429]" {
		t.Errorf("answers %v..., want three 401 then 429", got[:4])
	}
	for i, c := range got[3:] {
		if c != http.StatusTooManyRequests {
			t.Fatalf("answer %d: %d, want 429", i+4, c)
		}
	}
	if r := send(t, flooder, http.MethodGet, url, "", "Authorization", "Bearer "+tok.expired); r.retryAfter == "" {
		t.Error("no Retry-After on a refused bad token")
	}
	if r := send(t, httpFrom("127.0.0.13"), http.MethodGet, url, "", "Authorization", "Bearer "+tok.expired); r.code != http.StatusUnauthorized {
		t.Errorf("bad token from another address: %d, want 401 (its own allowance)", r.code)
	}
	if r := send(t, flooder, http.MethodGet, url, "", "Authorization", "Bearer "+tok.admin); r.code != http.StatusOK {
		t.Errorf("a valid token from the flooding address: %d, want 200", r.code)
	}
	// Per 401: a "rejected token" and an "rpc" line; then one summary of the refusals.
	if n := logs.n.Load(); n > 20 {
		t.Errorf("%d log lines at Info or above for 200 bad tokens", n)
	}
	t.Logf("202 bad tokens from two addresses and one good one: %d log lines at Info or above", logs.n.Load())
}

// TestDefaultLimitsUnderFlood replays the probes that found no limits at all (400 public
// GETs in 1.7 s; 400 bad tokens in 0.8 s, each logged) against the default configuration and
// reports what now happens.
func TestDefaultLimitsUnderFlood(t *testing.T) {
	cfg, err := config.Parse(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &countingHandler{}
	tr, _, tok := startTransportLogged(t, slog.New(logs), WithLimits(Limits{Rates: cfg.RateLimits}))
	url := "http://" + tr.HTTPAddr() + "/v1/selections"
	burst := cfg.RateLimits.AddressReads.Events
	perSecond := float64(burst) / cfg.RateLimits.AddressReads.Per.Seconds()

	flood := func(c *http.Client, header ...string) (map[int]int, time.Duration) {
		counts := map[int]int{}
		began := time.Now()
		for range 400 {
			r := send(t, c, http.MethodGet, url, "", header...)
			counts[r.code]++
			if r.code == http.StatusTooManyRequests && r.retryAfter == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		return counts, time.Since(began)
	}
	reads, took := flood(httpFrom("127.0.0.20"))
	t.Logf("400 anonymous GETs from one address in %s: %d answered 200, %d refused 429 (limit %s)",
		took.Round(time.Millisecond), reads[200], reads[429], cfg.RateLimits.AddressReads)
	if reads[429] == 0 || float64(reads[200]) > float64(burst)+perSecond*took.Seconds()+1 {
		t.Errorf("reads allowed %d in %s, more than the burst %d and %.0f/s", reads[200], took, burst, perSecond)
	}

	before := logs.n.Load()
	bad, took := flood(httpFrom("127.0.0.21"), "Authorization", "Bearer "+tok.expired)
	lines := logs.n.Load() - before
	t.Logf("400 bad tokens from one address in %s: %d answered 401, %d refused 429; %d log lines at Info or above (limits %s, %s)",
		took.Round(time.Millisecond), bad[401], bad[429], lines, cfg.RateLimits.AuthFailures, cfg.RateLimits.AddressReads)
	if bad[401] > cfg.RateLimits.AuthFailures.Events+1 || lines > int64(2*cfg.RateLimits.AuthFailures.Events+4) {
		t.Errorf("bad tokens: %d answered 401 and %d log lines", bad[401], lines)
	}
}
