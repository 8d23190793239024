package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/faultproxy"
	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/server"
)

// TestStoreOutage stages real PostgreSQL outages (a proxy between the API and the shared
// test server is cut, then made to swallow every byte, then restored; the server itself is
// never touched) with the readiness checker running as seleksid runs it. Found: a database
// outage answered 500 "internal error", health said SERVING throughout, and an advance hung
// for 123 s.
func TestStoreOutage(t *testing.T) {
	direct, err := url.Parse(pgtest.SchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.Start(t, direct.Host)
	proxied := *direct
	proxied.Host = proxy.Addr()
	const deadline = 3 * time.Second
	api := startRealAPI(t, proxied.String(), server.Deadlines{Default: deadline})

	var temporalDown atomic.Bool
	checker := health.NewChecker(api.tr.Readiness(), slog.New(slog.DiscardHandler),
		health.Options{Interval: 100 * time.Millisecond, Timeout: time.Second},
		health.Dependency{Name: health.Store, Ping: api.store.Ping},
		health.Dependency{Name: health.Temporal, Ping: func(context.Context) error {
			if temporalDown.Load() {
				return errors.New("unreachable")
			}
			return nil
		}})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		checker.Run(ctx)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})

	conn, err := grpc.NewClient(api.tr.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	watch := watchHealth(t, conn)
	selection := api.base + "/v1/selections/" + selOpen

	watch.until(healthpb.HealthCheckResponse_SERVING)
	expectReady(t, api, conn, true)
	if code, body := do(t, http.MethodGet, selection, "", ""); code != http.StatusOK {
		t.Fatalf("before the outage: %d %s", code, body)
	}

	// Cut: the database refuses connections and drops the open ones.
	proxy.Cut()
	watch.until(healthpb.HealthCheckResponse_NOT_SERVING)
	expectReady(t, api, conn, false)
	requests := []struct {
		name, method, path, body, token, lang, want string
	}{
		{"public read", http.MethodGet, selection, "", "", "", "basis data sedang tidak dapat dijangkau"},
		{"public read in English", http.MethodGet, selection, "", "", "en", "the database cannot be reached"},
		{"list", http.MethodGet, api.base + "/v1/selections", "", "", "", "basis data"},
		{"command", http.MethodPost, selection + ":cancel", `{"requestId":"req-cancel-01","reason":"uji"}`, api.admin, "", "basis data"},
	}
	for _, r := range requests {
		code, body := doLang(t, r.method, r.path, r.body, r.token, r.lang)
		var st rpcStatus
		_ = json.Unmarshal(body, &st)
		if code != http.StatusServiceUnavailable || st.Code != int(codes.Unavailable) || !strings.HasPrefix(st.Message, r.want) {
			t.Errorf("%s during the outage: HTTP %d %s, want 503 UNAVAILABLE %q", r.name, code, body, r.want)
		}
	}
	gctx := metadata.AppendToOutgoingContext(context.Background(), "accept-language", "en")
	_, err = seleksiv1.NewSelectionServiceClient(conn).GetSelection(gctx, &seleksiv1.GetSelectionRequest{Name: "selections/" + selOpen})
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.HasPrefix(st.Message(), "the database cannot be reached") {
		t.Errorf("gRPC during the outage: %v, want Unavailable", err)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	watch.until(healthpb.HealthCheckResponse_SERVING)
	expectReady(t, api, conn, true)
	if code, body := do(t, http.MethodGet, selection, "", ""); code != http.StatusOK {
		t.Fatalf("after the outage: %d %s", code, body)
	}

	// Stall: the database's link swallows everything, the outage that hung an advance for
	// 123 s. Each call gives up at its deadline and says why.
	proxy.Stall()
	watch.until(healthpb.HealthCheckResponse_NOT_SERVING)
	expectReady(t, api, conn, false)
	client := &http.Client{Timeout: 10 * deadline} // guards the test only; the server's deadline answers first
	for _, r := range []struct{ name, method, path, body, token string }{
		{"read", http.MethodGet, selection, "", ""},
		{"command", http.MethodPost, selection + ":cancel", `{"requestId":"req-cancel-03","reason":"uji"}`, api.admin},
	} {
		req, err := http.NewRequest(r.method, r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if r.token != "" {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
		began := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s during the stall: %v", r.name, err)
		}
		var st rpcStatus
		_ = json.NewDecoder(resp.Body).Decode(&st)
		_ = resp.Body.Close()
		t.Logf("%s during the stall answered %d %q after %s (deadline %s)", r.name, resp.StatusCode, st.Message, time.Since(began).Round(10*time.Millisecond), deadline)
		if resp.StatusCode != http.StatusServiceUnavailable || st.Code != int(codes.Unavailable) {
			t.Errorf("%s during the stall: HTTP %d code %d %q, want 503 UNAVAILABLE", r.name, resp.StatusCode, st.Code, st.Message)
		}
	}
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	watch.until(healthpb.HealthCheckResponse_SERVING)
	expectReady(t, api, conn, true)

	// Temporal's outage counts the same, and shutdown wins over everything.
	temporalDown.Store(true)
	watch.until(healthpb.HealthCheckResponse_NOT_SERVING)
	temporalDown.Store(false)
	watch.until(healthpb.HealthCheckResponse_SERVING)
	api.tr.grpc.SetNotServing()
	watch.until(healthpb.HealthCheckResponse_NOT_SERVING)
	if code, _ := do(t, http.MethodGet, api.base+"/readyz", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, want 503", code)
	}
}

// expectReady checks readiness as each kind of probe sees it: gRPC health for "" and every
// service, and /readyz. Liveness (/healthz) stays 200 whatever the dependencies do. The
// probes are read one after another while the checker keeps running, so they are read again
// (for up to 10 s) until one pass agrees throughout; the last disagreement is reported.
func expectReady(t *testing.T, api *realAPI, conn *grpc.ClientConn, ready bool) {
	t.Helper()
	want, wantHTTP := healthpb.HealthCheckResponse_NOT_SERVING, http.StatusServiceUnavailable
	if ready {
		want, wantHTTP = healthpb.HealthCheckResponse_SERVING, http.StatusOK
	}
	var problems []string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		problems = problems[:0]
		for _, svc := range []string{"", "seleksi.v1.SelectionService", "seleksi.v1.ApplicationService", "seleksi.v1.AuditService"} {
			resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
			if err != nil || resp.GetStatus() != want {
				problems = append(problems, fmt.Sprintf("gRPC health %q = %v %v, want %s", svc, resp.GetStatus(), err, want))
			}
		}
		code, body := do(t, http.MethodGet, api.base+"/readyz", "", "")
		if code != wantHTTP || !strings.Contains(string(body), `"status":"`+want.String()+`"`) {
			problems = append(problems, fmt.Sprintf("/readyz = %d %s, want %d %s", code, body, wantHTTP, want))
		}
		if len(problems) == 0 || time.Now().After(end) {
			break
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	if code, body := do(t, http.MethodGet, api.base+"/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz = %d %s, want 200 whatever the dependencies do", code, body)
	}
}

// healthWatch follows the gRPC health status of "" as a load balancer's watch does.
type healthWatch struct {
	t      *testing.T
	stream grpc.ServerStreamingClient[healthpb.HealthCheckResponse]
}

func watchHealth(t *testing.T, conn *grpc.ClientConn) healthWatch {
	t.Helper()
	// The test's own guard against hanging; the checker notices within about 100 ms.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return healthWatch{t: t, stream: stream}
}

// until waits for the status to become want.
func (w healthWatch) until(want healthpb.HealthCheckResponse_ServingStatus) {
	w.t.Helper()
	for {
		resp, err := w.stream.Recv()
		if err != nil {
			w.t.Fatalf("waiting for %s: %v", want, err)
		}
		if resp.GetStatus() == want {
			return
		}
	}
}
