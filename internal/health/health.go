// Package health owns seleksid's readiness: whether this process should be sent requests
// now. It is ready when its servers are up, it is not shutting down, and its dependencies
// (the store's database and Temporal) answered their last ping. Readiness is published
// through the standard gRPC health service (for "" and every Seleksi service), which the
// gateway's /readyz reads and load balancers probe. Liveness is not decided here: a process
// whose database is away is alive and must not be restarted for it.
package health

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Names of the dependencies seleksid checks.
const (
	Store    = "store"
	Temporal = "temporal"
)

// Reporter receives serving statuses per service name; grpc-go's health.Server is one.
type Reporter interface {
	SetServingStatus(service string, status healthpb.HealthCheckResponse_ServingStatus)
}

// Readiness combines what decides whether the process is ready and reports every change to
// the health service. It starts NOT_SERVING.
type Readiness struct {
	reporter Reporter
	services []string

	mu       sync.Mutex
	up       bool
	draining bool
	// down holds each unreachable dependency's last error.
	down    map[string]error
	serving bool
}

// NewReadiness reports NOT_SERVING for "" and each service until Up is called.
func NewReadiness(r Reporter, services ...string) *Readiness {
	rd := &Readiness{reporter: r, services: append([]string{""}, services...), down: map[string]error{}}
	rd.publish(false)
	return rd
}

// Up says the servers accept requests: the process is SERVING unless a dependency is down.
func (r *Readiness) Up() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up = true
	r.updateLocked()
}

// Drain is the first step of a graceful shutdown: NOT_SERVING from now on, whatever the
// dependencies do, so load balancers route new requests elsewhere while in-flight ones end.
func (r *Readiness) Drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.draining = true
	r.updateLocked()
}

// Report records the result of checking a dependency (nil: it answered) and reports whether
// the dependency's state changed.
func (r *Readiness) Report(dependency string, err error) (changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, wasDown := r.down[dependency]
	if err != nil {
		r.down[dependency] = err
	} else {
		delete(r.down, dependency)
	}
	r.updateLocked()
	return wasDown != (err != nil)
}

// Serving reports whether the process is ready.
func (r *Readiness) Serving() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.serving
}

func (r *Readiness) isDown(dependency string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, down := r.down[dependency]
	return down
}

// Unreachable names the dependencies that failed their last check, in order.
func (r *Readiness) Unreachable() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.down))
	for name := range r.down {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (r *Readiness) updateLocked() {
	serving := r.up && !r.draining && len(r.down) == 0
	if serving != r.serving {
		r.publish(serving)
	}
}

func (r *Readiness) publish(serving bool) {
	r.serving = serving
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, svc := range r.services {
		r.reporter.SetServingStatus(svc, st)
	}
}

func (c *Checker) ping(ctx context.Context, d Dependency) error {
	pctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	return d.Ping(pctx)
}

// Dependency is something the process cannot serve without, with a cheap check that it
// answers.
type Dependency struct {
	Name string
	Ping func(ctx context.Context) error
}

// Options tune a Checker.
type Options struct {
	// Interval between checks; a dependency's outage or return shows within about one.
	Interval time.Duration
	// Timeout of each ping: a dependency that cannot answer a trivial request this fast is
	// not fit to serve requests either.
	Timeout time.Duration
}

// Checker pings the dependencies periodically and reports the results to a Readiness.
type Checker struct {
	readiness *Readiness
	deps      []Dependency
	opts      Options
	logger    *slog.Logger
}

// NewChecker checks deps for r. Zero options are 5 s between checks and 2 s per ping.
func NewChecker(r *Readiness, logger *slog.Logger, opts Options, deps ...Dependency) *Checker {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	return &Checker{readiness: r, deps: deps, opts: opts, logger: logger}
}

// Run checks at once and then every interval until ctx ends.
func (c *Checker) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		c.CheckNow(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckNow pings every dependency, side by side so that one that hangs does not delay the
// verdict on the others, and reports the results. A dependency that was reachable is
// declared down only when a second ping confirms the first failure: one ping lost to a
// busy moment or a connection that died while idle would otherwise take the process out of
// rotation and back, which load balancers see as flapping. Changes are logged: an outage at
// WARN with its cause, a return at INFO.
func (c *Checker) CheckNow(ctx context.Context) {
	errs := make([]error, len(c.deps))
	var wg sync.WaitGroup
	for i, d := range c.deps {
		wg.Go(func() {
			errs[i] = c.ping(ctx, d)
			if errs[i] != nil && !c.readiness.isDown(d.Name) && ctx.Err() == nil {
				errs[i] = c.ping(ctx, d)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		// Stopping: a ping cut short by the end of the process says nothing about the
		// dependency.
		return
	}
	for i, d := range c.deps {
		if !c.readiness.Report(d.Name, errs[i]) {
			continue
		}
		if errs[i] != nil {
			c.logger.WarnContext(ctx, "dependency unreachable; not ready", "dependency", d.Name, "error", errs[i])
		} else {
			c.logger.InfoContext(ctx, "dependency reachable again", "dependency", d.Name, "ready", c.readiness.Serving())
		}
	}
}
