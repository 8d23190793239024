package health

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// status asks the gRPC health server, as a load balancer would, for one service.
func status(t *testing.T, h *grpchealth.Server, svc string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	resp, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
	if err != nil {
		t.Fatalf("check %q: %v", svc, err)
	}
	return resp.GetStatus()
}

func TestReadiness(t *testing.T) {
	down := errors.New("connection refused")
	type step struct {
		do   func(r *Readiness)
		want bool
	}
	up := func(r *Readiness) { r.Up() }
	drain := func(r *Readiness) { r.Drain() }
	report := func(dep string, err error) func(r *Readiness) { return func(r *Readiness) { r.Report(dep, err) } }
	tests := []struct {
		name  string
		steps []step
	}{
		{"not serving before the servers are up", []step{{report(Store, nil), false}, {up, true}}},
		{"a store outage and its end", []step{{up, true}, {report(Store, down), false}, {report(Temporal, nil), false}, {report(Store, nil), true}}},
		{"both down, one back", []step{{up, true}, {report(Store, down), false}, {report(Temporal, down), false},
			{report(Store, nil), false}, {report(Temporal, nil), true}}},
		{"down before start", []step{{report(Temporal, down), false}, {up, false}, {report(Temporal, nil), true}}},
		// Shutdown wins: dependencies coming back must not put a draining process back into
		// the load balancer.
		{"draining stays not serving", []step{{up, true}, {drain, false}, {report(Store, nil), false}, {up, false}}},
	}
	services := []string{"seleksi.v1.SelectionService", "seleksi.v1.ApplicationService"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := grpchealth.NewServer()
			r := NewReadiness(h, services...)
			for i, s := range tc.steps {
				s.do(r)
				want := healthpb.HealthCheckResponse_NOT_SERVING
				if s.want {
					want = healthpb.HealthCheckResponse_SERVING
				}
				for _, svc := range append([]string{""}, services...) {
					if got := status(t, h, svc); got != want {
						t.Fatalf("after step %d: %q is %s, want %s", i, svc, got, want)
					}
				}
				if r.Serving() != s.want {
					t.Fatalf("after step %d: Serving() = %v", i, r.Serving())
				}
			}
		})
	}
}

// TestCheckerFollowsOutages: a check after a dependency stops answering makes the process
// not ready and names the dependency; a check after it answers again makes it ready.
func TestCheckerFollowsOutages(t *testing.T) {
	h := grpchealth.NewServer()
	r := NewReadiness(h)
	var storeDown, temporalDown atomic.Bool
	ping := func(down *atomic.Bool) func(context.Context) error {
		return func(context.Context) error {
			if down.Load() {
				return errors.New("unreachable")
			}
			return nil
		}
	}
	c := NewChecker(r, slog.New(slog.DiscardHandler), Options{},
		Dependency{Name: Store, Ping: ping(&storeDown)}, Dependency{Name: Temporal, Ping: ping(&temporalDown)})
	ctx := context.Background()
	c.CheckNow(ctx)
	r.Up()
	steps := []struct {
		store, temporal bool
		want            []string
	}{
		{false, false, nil},
		{true, false, []string{Store}},
		{true, true, []string{Store, Temporal}},
		{false, true, []string{Temporal}},
		{false, false, nil},
	}
	for i, s := range steps {
		storeDown.Store(s.store)
		temporalDown.Store(s.temporal)
		c.CheckNow(ctx)
		if got := r.Unreachable(); !slices.Equal(got, s.want) {
			t.Errorf("step %d: unreachable %q, want %q", i, got, s.want)
		}
		want := healthpb.HealthCheckResponse_SERVING
		if len(s.want) > 0 {
			want = healthpb.HealthCheckResponse_NOT_SERVING
		}
		if got := status(t, h, ""); got != want {
			t.Errorf("step %d: health %s, want %s", i, got, want)
		}
	}
}

// TestCheckerPingTimeout: a dependency that hangs is down after the ping's timeout, and does
// not hold up the verdict on the other one.
func TestCheckerPingTimeout(t *testing.T) {
	r := NewReadiness(grpchealth.NewServer())
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	c := NewChecker(r, slog.New(slog.DiscardHandler), Options{Timeout: 1},
		Dependency{Name: Store, Ping: hang}, Dependency{Name: Temporal, Ping: func(context.Context) error { return nil }})
	c.CheckNow(context.Background())
	if got := r.Unreachable(); !slices.Equal(got, []string{Store}) {
		t.Fatalf("unreachable %q, want the hanging store", got)
	}
}

// TestCheckerConfirmsAnOutage: one failed ping of a reachable dependency (a connection that
// died while idle, a busy moment) does not take the process out of rotation; a second failure
// in a row does, and once down, one failure keeps it down without a second ping.
func TestCheckerConfirmsAnOutage(t *testing.T) {
	r := NewReadiness(grpchealth.NewServer())
	r.Up()
	var failures, calls atomic.Int32
	c := NewChecker(r, slog.New(slog.DiscardHandler), Options{}, Dependency{Name: Store, Ping: func(context.Context) error {
		calls.Add(1)
		if failures.Load() > 0 {
			failures.Add(-1)
			return errors.New("connection reset")
		}
		return nil
	}})
	steps := []struct {
		failures  int32
		wantDown  bool
		wantCalls int32
	}{
		{0, false, 1},
		{1, false, 2}, // one failure, confirmed reachable by the second ping
		{2, true, 2},  // two in a row: down
		{1, true, 1},  // already down: no second ping
		{0, false, 1},
	}
	for i, s := range steps {
		failures.Store(s.failures)
		calls.Store(0)
		c.CheckNow(context.Background())
		if got := len(r.Unreachable()) > 0; got != s.wantDown || r.Serving() == s.wantDown {
			t.Errorf("step %d: down %v serving %v, want down %v", i, got, r.Serving(), s.wantDown)
		}
		if got := calls.Load(); got != s.wantCalls {
			t.Errorf("step %d: %d pings, want %d", i, got, s.wantCalls)
		}
	}
}
