package baseline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/bench"
)

// StatusRead is a candidate reading their own application's status through the REST
// gateway (token verification, the gateway, gRPC, the store), at 1, 16 and 64 clients,
// beside the same row read with the store's own Go call (store.Store.GetApplication, which
// the server's handler calls) at the same concurrency.
func StatusRead() bench.Scenario {
	return bench.Scenario{Name: "status-read", Title: "GET one application through the gateway vs the store's read", Run: runStatusRead}
}

// readClients are the concurrencies measured.
func readClients() []int { return []int{1, 16, 64} }

func runStatusRead(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	perLevel := size.N(10000, 50)
	// The application is read while its announcement is open: the read is the same in any
	// stage, and the window need not close.
	sels, err := setup(ctx, env, "read", []int{1}, false)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	name, owner := sels[0].Apps[0], sels[0].Owners[0]
	selID, appID, ok := splitApplication(name)
	if !ok {
		return nil, fmt.Errorf("application name %q: want selections/S/applications/A", name)
	}
	tok, err := env.Mint(auth.MintOptions{Subject: owner, Role: auth.RoleCandidate})
	if err != nil {
		return nil, err
	}
	httpc := &http.Client{Timeout: callTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer httpc.CloseIdleConnections()
	url := env.HTTPBase + "/v1/" + name
	want := []byte(`"` + name + `"`)
	gateway := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return httpError{resp.StatusCode}
		}
		if !bytes.Contains(body, want) {
			return fmt.Errorf("200 without the application: %.200s", body)
		}
		return nil
	}
	direct := func(ctx context.Context) error {
		a, err := env.Store.GetApplication(ctx, selID, appID)
		if err == nil && a.Owner != owner {
			return fmt.Errorf("the store read %s owned by %q, want %q", name, a.Owner, owner)
		}
		return err
	}
	// Warm both paths (connections, caches, the SQLite pool) before the first level.
	if _, err := load(ctx, 4, 200, gateway).result(); err != nil {
		return nil, fmt.Errorf("warm-up through the gateway: %w", err)
	}
	if _, err := load(ctx, 4, 200, direct).result(); err != nil {
		return nil, fmt.Errorf("warm-up of the store read: %w", err)
	}
	var figs []bench.Figure
	failures := 0
	var firstErr error
	for _, clients := range readClients() {
		env.Log.Info("status-read", "clients", clients, "reads", perLevel)
		gw := load(ctx, clients, perLevel, gateway)
		st := load(ctx, clients, perLevel, direct)
		g, s := gw.rec.Summary(), st.rec.Summary()
		note := fmt.Sprintf("%d clients, %d reads; baseline store.GetApplication", clients, perLevel)
		figs = append(figs, bench.Figure{Scenario: "status-read", Metric: fmt.Sprintf("reads/s @%d", clients), Value: g.PerSecond,
			Unit: "ops/s", Note: note}.WithBaseline(s.PerSecond))
		for _, p := range []struct {
			name    string
			v, base time.Duration
		}{{"p50", g.P50, s.P50}, {"p99", g.P99, s.P99}} {
			figs = append(figs, bench.Figure{Scenario: "status-read", Metric: fmt.Sprintf("read %s @%d", p.name, clients),
				Value: bench.Milliseconds(p.v), Unit: "ms", Note: note}.WithBaseline(bench.Milliseconds(p.base)))
		}
		for _, l := range []*loadRun{gw, st} {
			n, err := l.result()
			failures += n
			firstErr = cmp(firstErr, err)
		}
		figs = append(figs, bench.Figure{Scenario: "status-read", Metric: fmt.Sprintf("reads @%d", clients), Value: float64(g.Count + s.Count),
			Unit: "ops", Note: "gateway and store"})
	}
	figs = append(figs, bench.Figure{Scenario: "status-read", Metric: "errors", Value: float64(failures), Unit: "count"})
	if failures > 0 {
		return figs, fmt.Errorf("%d reads failed; the first: %w", failures, firstErr)
	}
	return figs, nil
}

// httpError is an answer other than 200.
type httpError struct{ code int }

func (e httpError) Error() string { return fmt.Sprintf("HTTP %d", e.code) }

// loadRun is a finished closed-loop run: its latencies and failures.
type loadRun struct {
	rec      *bench.Recorder
	mu       sync.Mutex
	failures int
	first    error
}

// result is the number of failed operations and the first failure.
func (l *loadRun) result() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures, l.first
}

// load runs op count times from clients goroutines, each starting the next as soon as its
// last one returned (a closed loop), and records every latency.
func load(ctx context.Context, clients, count int, op func(context.Context) error) *loadRun {
	l := &loadRun{rec: bench.NewRecorder()}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(count) && ctx.Err() == nil {
				octx, cancel := context.WithTimeout(ctx, callTimeout)
				began := time.Now()
				err := op(octx)
				took := time.Since(began)
				cancel()
				if err != nil {
					l.rec.Fail(loadErrorKind(err))
					l.mu.Lock()
					l.failures++
					if l.first == nil {
						l.first = err
					}
					l.mu.Unlock()
					continue
				}
				l.rec.Observe(took)
			}
		})
	}
	wg.Wait()
	l.rec.Stop()
	return l
}

func loadErrorKind(err error) string {
	if h, ok := err.(httpError); ok {
		return h.Error()
	}
	return errorKind(err)
}

// splitApplication splits selections/S/applications/A.
func splitApplication(name string) (sel, app string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "selections" || parts[2] != "applications" {
		return "", "", false
	}
	return parts[1], parts[3], true
}
