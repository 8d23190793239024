package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/faultproxy"
	"github.com/bkpsdm/seleksi/internal/pgtest"
)

// proxiedTemporal is the embedded Temporal server reached through a proxy: seleksid's client
// and worker dial the proxy, so the test can take Temporal away from them without stopping it.
type proxiedTemporal struct {
	app.EmbeddedTemporal
	addr string
}

func (p proxiedTemporal) FrontendAddr() string { return p.addr }

// TestOutagesEndToEnd runs the whole seleksid (embedded Temporal, PostgreSQL store) with a
// proxy in front of each dependency and takes each away in turn: the database (connections
// refused), Temporal (connections refused, then a link that swallows everything). Each time,
// gRPC health and /readyz turn NOT_SERVING while /healthz stays live, requests that need the
// missing dependency get 503 UNAVAILABLE naming it within their deadline, and everything
// returns to SERVING when the dependency does; a command refused during an outage is applied
// when sent again with its request_id. Found before: 500 "internal error", health SERVING
// throughout, an advance hanging for 123 s.
func TestOutagesEndToEnd(t *testing.T) {
	direct, err := url.Parse(pgtest.SchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	storeProxy := faultproxy.Start(t, direct.Host)
	proxied := *direct
	proxied.Host = storeProxy.Addr()
	dataDir := t.TempDir()
	cfg := e2eConfig(t, dataDir, proxied.String())
	// The announcement stays open for the whole test: nothing but the test's requests moves.
	cfg.DemoSecondsPerDay = 3600
	cfg.RPCTimeout = 5 * time.Second
	cfg.ReadinessInterval = 200 * time.Millisecond
	cfg.ReadinessTimeout = time.Second

	var temporalProxy *faultproxy.Proxy
	startProxied := func(cfg config.Config, logger *slog.Logger) (app.EmbeddedTemporal, error) {
		e, err := startEmbedded(cfg, logger)
		if err != nil {
			return nil, err
		}
		temporalProxy = faultproxy.Start(t, e.FrontendAddr())
		return proxiedTemporal{EmbeddedTemporal: e, addr: temporalProxy.Addr()}, nil
	}
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("seleksid log:\n%s", logs.String())
		}
	})
	a, err := app.Start(context.Background(), cfg, logger, startProxied)
	if err != nil {
		t.Fatalf("start seleksid: %v", err)
	}
	t.Cleanup(func() { stop(t, a) })

	e := &e2e{api: api{t: t, base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 4 * cfg.RPCTimeout}},
		tok: newTokens(t, dataDir), storeURL: cfg.StoreURL(), id: "out-" + randomHex(3)}
	admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
	e.must(http.MethodPost, "/v1/selections?requestId=req-create-out&selectionId="+e.id, admin, selectionBody([]string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}), nil)

	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	watch := watchReadiness(t, conn)
	ready := func(want healthpb.HealthCheckResponse_ServingStatus, since time.Time, what string) {
		t.Helper()
		watch.until(want)
		t.Logf("%s: gRPC health %s after %s", what, want, time.Since(since).Round(10*time.Millisecond))
		wantHTTP := http.StatusServiceUnavailable
		if want == healthpb.HealthCheckResponse_SERVING {
			wantHTTP = http.StatusOK
		}
		if r := e.do(http.MethodGet, "/readyz", "", nil); r.code != wantHTTP {
			t.Errorf("%s: %s, want %d", what, r, wantHTTP)
		}
		if r := e.do(http.MethodGet, "/healthz", "", nil); r.code != http.StatusOK {
			t.Errorf("%s: liveness %s, want 200", what, r)
		}
	}
	// unavailable sends a request that must be answered 503 UNAVAILABLE with reason, within
	// the server's deadline.
	unavailable := func(what, method, path, token string, body any, reason string) {
		t.Helper()
		began := time.Now()
		r := e.do(method, path, token, body)
		took := time.Since(began)
		t.Logf("%s: %d %s after %s (deadline %s)", what, r.code, r.reason(), took.Round(10*time.Millisecond), cfg.RPCTimeout)
		if r.code != http.StatusServiceUnavailable || r.err().Code != 14 || r.reason() != reason {
			t.Errorf("%s: %s, want 503 UNAVAILABLE %s", what, r, reason)
		}
	}
	cancel := map[string]any{"requestId": "req-cancel-out", "reason": "uji gangguan"}

	ready(healthpb.HealthCheckResponse_SERVING, time.Now(), "start")

	// The database goes away.
	began := time.Now()
	storeProxy.Cut()
	ready(healthpb.HealthCheckResponse_NOT_SERVING, began, "store cut")
	unavailable("store cut: public read", http.MethodGet, e.sel(), "", nil, "STORE_UNAVAILABLE")
	unavailable("store cut: cancel", http.MethodPost, e.sel()+":cancel", admin, cancel, "STORE_UNAVAILABLE")
	began = time.Now()
	if err := storeProxy.Restore(); err != nil {
		t.Fatal(err)
	}
	ready(healthpb.HealthCheckResponse_SERVING, began, "store restored")
	if s := e.getSelection(e.id); s.Stage != "STAGE_ANNOUNCEMENT" {
		t.Fatalf("after the store's outage the selection is in %s; the refused cancel was applied", s.Stage)
	}

	// Temporal goes away: refused, then a link that swallows everything.
	for _, outage := range []struct {
		name string
		down func()
	}{{"Temporal cut", temporalProxy.Cut}, {"Temporal stalled", temporalProxy.Stall}} {
		began := time.Now()
		outage.down()
		ready(healthpb.HealthCheckResponse_NOT_SERVING, began, outage.name)
		// Reads come from the store and still work; commands need Temporal.
		e.getSelection(e.id)
		unavailable(outage.name+": cancel", http.MethodPost, e.sel()+":cancel", admin, cancel, "WORKFLOWS_UNAVAILABLE")
		began = time.Now()
		if err := temporalProxy.Restore(); err != nil {
			t.Fatal(err)
		}
		ready(healthpb.HealthCheckResponse_SERVING, began, outage.name+" restored")
	}

	// The refused command, sent again with its request_id once everything is back, is applied.
	e.must(http.MethodPost, e.sel()+":cancel", admin, cancel, nil)
	if s := e.getSelection(e.id); s.Stage != "STAGE_CANCELLED" {
		t.Errorf("after the retried cancel: %s", s.Stage)
	}
}

// readinessWatch follows gRPC health for "" as a load balancer's watch does.
type readinessWatch struct {
	t      *testing.T
	stream grpc.ServerStreamingClient[healthpb.HealthCheckResponse]
}

func watchReadiness(t *testing.T, conn *grpc.ClientConn) readinessWatch {
	t.Helper()
	// Guards the test against hanging; the checker notices within a second.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	stream, err := healthpb.NewHealthClient(conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return readinessWatch{t: t, stream: stream}
}

func (w readinessWatch) until(want healthpb.HealthCheckResponse_ServingStatus) {
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
