package ratelimit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/clientaddr"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

// records counts log records at or above Info.
type records struct {
	mu    sync.Mutex
	lines []string
}

func (r *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.lines = append(r.lines, b.String())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }
func (r *records) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{in: "100/10s", want: Rate{100, 10 * time.Second}},
		{in: " 20 / 1m ", want: Rate{20, time.Minute}},
		{in: "off", want: Rate{}},
		{in: "OFF", want: Rate{}},
		{in: "100", wantErr: true},
		{in: "0/1s", wantErr: true},
		{in: "-1/1s", wantErr: true},
		{in: "10/0s", wantErr: true},
		{in: "10/soon", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBucketsBurstThenRefill(t *testing.T) {
	c := newClock()
	l := New(Policy{AddressReads: Rate{Events: 5, Per: 10 * time.Second}}, slog.New(slog.DiscardHandler), c.Now)
	a := netip.MustParseAddr("198.51.100.1")
	for i := range 5 {
		if ref := l.address(a, Read); ref != nil {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ref := l.address(a, Read)
	if ref == nil {
		t.Fatal("request over the burst allowed")
	}
	// One token comes back every 2 s.
	if ref.retryAfter != 2*time.Second || ref.limit != "address_reads" {
		t.Errorf("refusal = %+v, want address_reads retry after 2s", ref)
	}
	if l.address(netip.MustParseAddr("198.51.100.2"), Read) != nil {
		t.Error("another address shares the first one's bucket")
	}
	if l.address(a, Mutation) != nil {
		t.Error("mutations are limited although their rate is off")
	}
	c.Advance(2 * time.Second)
	if l.address(a, Read) != nil {
		t.Error("refused after the retry delay")
	}
	if l.address(a, Read) == nil {
		t.Error("a second request after one refill allowed")
	}
}

func TestIPv6ClientsAreGroupedBy64(t *testing.T) {
	l := New(Policy{AddressReads: Rate{Events: 1, Per: time.Minute}}, slog.New(slog.DiscardHandler), newClock().Now)
	if l.address(netip.MustParseAddr("2001:db8:1:2::1"), Read) != nil {
		t.Fatal("first request refused")
	}
	if l.address(netip.MustParseAddr("2001:db8:1:2:ffff::9"), Read) == nil {
		t.Error("another address in the same /64 got a fresh bucket")
	}
	if l.address(netip.MustParseAddr("2001:db8:1:3::1"), Read) != nil {
		t.Error("another /64 shares the bucket")
	}
}

// TestBucketsStayBounded: idle buckets are dropped once full again, and no number of
// addresses grows a set past its bound.
func TestBucketsStayBounded(t *testing.T) {
	c := newClock()
	l := New(Policy{AddressReads: Rate{Events: 3, Per: 30 * time.Second}}, slog.New(slog.DiscardHandler), c.Now)
	for i := range 1000 {
		l.address(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Read)
	}
	if n := l.addressReads.size(); n != 1000 {
		t.Fatalf("tracked %d buckets, want 1000", n)
	}
	c.Advance(30 * time.Second)
	l.address(netip.MustParseAddr("192.0.2.1"), Read)
	if n := l.addressReads.size(); n != 1 {
		t.Errorf("after a refill period, %d buckets tracked, want only the new one", n)
	}

	small := newBuckets("test", Rate{Events: 3, Per: time.Hour}, 100)
	for i := range 10_000 {
		small.take(l, fmt.Sprint(i))
	}
	if n := small.size(); n > 100 {
		t.Errorf("bounded set holds %d buckets, bound 100", n)
	}
}

// TestRefusalsAreLoggedInAggregate: a flood writes a summary, not a line per request.
func TestRefusalsAreLoggedInAggregate(t *testing.T) {
	c := newClock()
	logs := &records{}
	l := New(Policy{AddressReads: Rate{Events: 10, Per: time.Minute}}, slog.New(logs), c.Now)
	a := netip.MustParseAddr("198.51.100.1")
	refused := 0
	for range 1000 {
		if l.address(a, Read) != nil {
			refused++
		}
	}
	if refused != 990 {
		t.Fatalf("refused %d of 1000, want 990", refused)
	}
	if n := logs.count(); n != 1 {
		t.Errorf("%d log lines for a flood, want 1 (the first refusal's summary): %q", n, logs.lines)
	}
	c.Advance(time.Minute)
	for range 100 {
		l.address(a, Read)
	}
	// 989 more after the first summary, and the first of the new minute's refusals.
	if n := logs.count(); n != 2 || !strings.Contains(logs.lines[1], "refused=990") || !strings.Contains(logs.lines[1], "rate=10/1m") {
		t.Errorf("after a minute want a second summary counting the refusals since the first: %q", logs.lines)
	}
}

func TestClassFollowsTheRESTMapping(t *testing.T) {
	l := New(Policy{}, slog.New(slog.DiscardHandler), time.Now)
	tests := []struct {
		method string
		want   Class
	}{
		{seleksiv1.SelectionService_GetSelection_FullMethodName, Read},
		{seleksiv1.SelectionService_ListSelections_FullMethodName, Read},
		{seleksiv1.AuditService_ExportHistory_FullMethodName, Read},
		{seleksiv1.SelectionService_CreateSelection_FullMethodName, Mutation},
		{seleksiv1.AuditService_VerifySelection_FullMethodName, Mutation},
		{"/no.such.Service/Method", Mutation},
	}
	for _, tt := range tests {
		if got := l.classOf(tt.method); got != tt.want {
			t.Errorf("classOf(%s) = %v, want %v", tt.method, got, tt.want)
		}
	}
}

func TestMiddlewareAnswers429WithRetryAfter(t *testing.T) {
	c := newClock()
	l := New(Policy{AddressReads: Rate{Events: 2, Per: 10 * time.Second}, AddressMutations: Rate{Events: 1, Per: time.Minute}},
		slog.New(slog.DiscardHandler), c.Now)
	h := clientaddr.NewResolver(nil, nil).Middleware(l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), func(r *http.Request) bool { return r.URL.Path == "/healthz" }))
	send := func(method, path, remote, lang string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		req.RemoteAddr = remote
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for range 2 {
		if rec := send(http.MethodGet, "/v1/selections", "198.51.100.1:1000", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("within the burst: %d", rec.Code)
		}
	}
	rec := send(http.MethodGet, "/v1/selections", "198.51.100.1:1001", "en")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "5" {
		t.Fatalf("over the burst: %d Retry-After %q, want 429 and 5", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type       string `json:"@type"`
			RetryDelay string `json:"retryDelay"`
			Reason     string `json:"reason"`
		} `json:"details"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not a google.rpc.Status: %v %s", err, rec.Body)
	}
	if body.Code != int(codes.ResourceExhausted) || body.Message != "too many requests; try again in 5 seconds" {
		t.Errorf("status = %d %q", body.Code, body.Message)
	}
	var delay, reason string
	for _, d := range body.Details {
		delay += d.RetryDelay
		reason += d.Reason
	}
	if delay != "5s" || reason != ReasonRateLimited {
		t.Errorf("details %s: want RetryInfo 5s and ErrorInfo %s", rec.Body, ReasonRateLimited)
	}
	if rec := send(http.MethodGet, "/v1/selections", "198.51.100.1:1002", ""); !strings.Contains(rec.Body.String(), "terlalu banyak permintaan") {
		t.Errorf("Indonesian by default: %s", rec.Body)
	}
	if rec := send(http.MethodPost, "/v1/selections", "198.51.100.1:1003", ""); rec.Code != http.StatusNoContent {
		t.Errorf("a mutation is refused for the reads' sake: %d", rec.Code)
	}
	if rec := send(http.MethodPost, "/v1/selections", "198.51.100.1:1003", ""); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "60" {
		t.Errorf("second mutation: %d Retry-After %q, want 429 and 60", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := send(http.MethodGet, "/healthz", "198.51.100.1:1004", ""); rec.Code != http.StatusNoContent {
		t.Errorf("health probe limited: %d", rec.Code)
	}
	if rec := send(http.MethodGet, "/v1/selections", "198.51.100.2:1000", ""); rec.Code != http.StatusNoContent {
		t.Errorf("another address limited: %d", rec.Code)
	}
}

func TestSubjectAndTokenLimitsOverGRPC(t *testing.T) {
	c := newClock()
	l := New(Policy{SubjectMutations: Rate{Events: 1, Per: time.Minute}, AuthFailures: Rate{Events: 2, Per: time.Minute}},
		slog.New(slog.DiscardHandler), c.Now)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("accept-language", "en"))
	ctx = clientaddr.With(ctx, netip.MustParseAddr("198.51.100.1"))
	cancel := seleksiv1.SelectionService_CancelSelection_FullMethodName
	alice := auth.Principal{Subject: "alice", Role: auth.RoleAdmin}
	if err := l.Admit(ctx, cancel, alice); err != nil {
		t.Fatal(err)
	}
	err := l.Admit(ctx, cancel, alice)
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || st.Message() != "too many requests; try again in 60 seconds" {
		t.Fatalf("second mutation of one subject: %v", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri
		}
	}
	if retry.GetRetryDelay().AsDuration() != time.Minute {
		t.Errorf("RetryInfo = %v, want 60s", retry)
	}
	rec := httptest.NewRecorder()
	SetRetryAfter(rec.Header(), st)
	if rec.Header().Get("Retry-After") != "60" {
		t.Errorf("SetRetryAfter gave %q", rec.Header().Get("Retry-After"))
	}
	if err := l.Admit(ctx, seleksiv1.SelectionService_GetSelection_FullMethodName, alice); err != nil {
		t.Errorf("a read refused for the mutations' sake: %v", err)
	}
	if err := l.Admit(ctx, cancel, auth.Principal{Subject: "bob", Role: auth.RoleAdmin}); err != nil {
		t.Errorf("another subject refused: %v", err)
	}
	for i := range 2 {
		if err := l.RejectedToken(ctx); err != nil {
			t.Fatalf("bad token %d refused as a flood: %v", i+1, err)
		}
	}
	if err := l.RejectedToken(ctx); status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "invalid tokens") {
		t.Errorf("third bad token: %v", err)
	}
}
