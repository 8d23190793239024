package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/bkpsdm/seleksi/internal/config"
)

// stuck stands for a part of seleksid whose stop takes far longer than the shutdown may:
// its Stop blocks until the test ends.
type stuck struct {
	called  chan struct{}
	release chan struct{}
}

func newStuck(t *testing.T) *stuck {
	s := &stuck{called: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *stuck) Stop() {
	close(s.called)
	<-s.release
}

type stuckWorker struct {
	worker.Worker
	*stuck
}

func (w stuckWorker) Stop() { w.stuck.Stop() }

type stuckEmbedded struct{ *stuck }

func (stuckEmbedded) FrontendAddr() string { return "" }
func (stuckEmbedded) UIAddr() string       { return "" }

func shutdownConfig(t *testing.T, mode string, timeout string) config.Config {
	t.Helper()
	args := []string{"-shutdown-timeout", timeout, "-mode", mode}
	if mode != "all" {
		args = append(args, "-temporal-address", "temporal.invalid:7233")
	}
	cfg, err := config.Parse(args, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestShutdownStaysWithinItsBound: with a request in flight that would never end, a worker
// and an embedded Temporal server that would take minutes to stop, the shutdown still ends
// within -shutdown-timeout (it once took 45 s for 30), each part is still asked to stop, and
// the client of the cut-off request gets a clean 503 telling it to send again (it once got
// 503 "EOF").
func TestShutdownStaysWithinItsBound(t *testing.T) {
	tr, fake, _ := startTransport(t)
	cfg := shutdownConfig(t, "all", "3s")
	w, e := newStuck(t), newStuck(t)
	a := &App{cfg: cfg, logger: slog.New(slog.DiscardHandler), transport: tr, worker: stuckWorker{stuck: w}, embedded: stuckEmbedded{e}}

	answered := make(chan reply, 1)
	go func() {
		answered <- send(t, httpFrom("127.0.0.1"), http.MethodGet, "http://"+tr.HTTPAddr()+"/v1/selections/kadis-pupr-2026", "", "Accept-Language", "en")
	}()
	<-fake.entered

	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- a.Shutdown(ctx) }()
	var err error
	select {
	case err = <-returned:
	case <-time.After(cfg.ShutdownTimeout + 10*time.Second):
		t.Fatalf("Shutdown still running %s after it began, bound %s", time.Since(began).Round(time.Millisecond), cfg.ShutdownTimeout)
	}
	took := time.Since(began)
	t.Logf("shutdown took %s with a -shutdown-timeout of %s", took.Round(time.Millisecond), cfg.ShutdownTimeout)
	// The bound is what the test asserts; the slack covers scheduling only.
	if took > cfg.ShutdownTimeout+250*time.Millisecond {
		t.Errorf("shutdown took %s, bound %s", took, cfg.ShutdownTimeout)
	}
	for name, s := range map[string]*stuck{"worker": w, "embedded Temporal": e} {
		select {
		case <-s.called:
		default:
			t.Errorf("the %s was never asked to stop", name)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "worker did not stop") || !strings.Contains(err.Error(), "embedded Temporal did not stop") {
		t.Errorf("Shutdown error %v does not report the parts that overran", err)
	}

	r := <-answered
	var st rpcStatus
	if jerr := json.Unmarshal([]byte(r.body), &st); jerr != nil || r.code != http.StatusServiceUnavailable || st.Code != 14 ||
		st.Message != msgRestarting.EN {
		t.Errorf("cut-off request answered %d %s, want 503 UNAVAILABLE %q", r.code, r.body, msgRestarting.EN)
	}
}

type recordingClient struct {
	client.Client
	record func(string)
}

func (c recordingClient) Close() { c.record("temporal client") }

type recordingWorker struct {
	worker.Worker
	record func(string)
}

func (w recordingWorker) Stop() { w.record("worker") }

type recordingEmbedded struct{ record func(string) }

func (recordingEmbedded) FrontendAddr() string { return "" }
func (recordingEmbedded) UIAddr() string       { return "" }
func (e recordingEmbedded) Stop()              { e.record("embedded Temporal") }

// TestShutdownOrder: the transport first (no new requests once loops and worker stop), then
// the loops, the worker, the client and the embedded server.
func TestShutdownOrder(t *testing.T) {
	tr, _, _ := startTransport(t)
	var mu sync.Mutex
	var order []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	loop := func(name string) func() {
		return func() {
			if c, err := net.Dial("tcp", tr.HTTPAddr()); err == nil {
				c.Close()
				t.Errorf("%s stopped while the gateway still accepted connections", name)
			}
			record("loops")
		}
	}
	a := &App{cfg: shutdownConfig(t, "all", "10s"), logger: slog.New(slog.DiscardHandler), transport: tr,
		stopReconciler: loop("reconciler"), stopArchiver: loop("archiver"), stopNotifications: loop("notifications"),
		worker: recordingWorker{record: record}, temporal: recordingClient{record: record}, embedded: recordingEmbedded{record}}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "loops loops loops worker temporal client embedded Temporal"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order %q, want %q", got, want)
	}
}

// TestShutdownPlanFits: in every mode the shares grow and end within the budget, and the
// worker's stop timeout fits in its phase even after the transport used its whole share.
func TestShutdownPlanFits(t *testing.T) {
	for _, mode := range []string{"all", "api", "worker"} {
		cfg := shutdownConfig(t, mode, "30s")
		p := planShutdown(cfg)
		if !(p.transport <= p.loops && p.loops <= p.worker && p.worker <= p.backends && p.backends <= 1) {
			t.Errorf("mode %s: shares %+v do not grow within the budget", mode, p)
		}
		if p.workerStop > p.worker-p.loops {
			t.Errorf("mode %s: worker stop timeout %.2f does not fit its phase %.2f-%.2f", mode, p.workerStop, p.loops, p.worker)
		}
		if cfg.RunsWorker() && workerStopTimeout(cfg) <= 0 {
			t.Errorf("mode %s: no time for running activities", mode)
		}
	}
}
