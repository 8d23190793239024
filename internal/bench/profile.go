package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profileWindow is the length of one CPU profile: the profile endpoint needs its length in
// advance and a scenario's is not known, so a scenario is profiled in windows of this length,
// which go tool pprof reads together.
const profileWindow = 10 * time.Second

// Profiler takes seleksid's CPU profiles while a scenario runs (Stack.Profile) and its heap
// profile when the scenario ends (Stop).
type Profiler struct {
	// base is seleksid's profiles listener, empty when it serves none.
	base, dir, name string
	client          *http.Client
	stop            chan struct{}
	done            chan struct{}
	mu              sync.Mutex
	files           []string
	errs            []error
}

// Profile starts taking CPU profiles of seleksid into dir, named after the scenario, until
// Stop. The stack must have been started with StackOptions.Pprof; without it, Stop reports
// that no profile could be taken.
func (s *Stack) Profile(ctx context.Context, dir, scenario string) *Profiler {
	p := &Profiler{dir: dir, name: scenario,
		client: &http.Client{Timeout: profileWindow + 30*time.Second}, stop: make(chan struct{}), done: make(chan struct{})}
	if s.pprof == "" {
		p.errs = append(p.errs, errors.New("bench: seleksid serves no profiles (start the stack with Pprof)"))
		close(p.done)
		return p
	}
	p.base = "http://" + s.pprof
	go p.loop(ctx)
	return p
}

// maxProfileFailures is how many windows in a row may fail before the profiler gives up:
// a seleksid that died or refuses profiles is not asked again in a tight loop.
const maxProfileFailures = 3

// loop takes one window's CPU profile after the other. Stop lets the running window end,
// so the scenario's last seconds are in it.
func (p *Profiler) loop(ctx context.Context) {
	defer close(p.done)
	failures := 0
	for i := 1; ; i++ {
		path := filepath.Join(p.dir, fmt.Sprintf("%s-cpu-%03d.pb.gz", p.name, i))
		err := p.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(profileWindow.Seconds())), path)
		p.record(err, path)
		pause := time.Duration(0)
		if err != nil {
			if failures++; failures >= maxProfileFailures {
				return
			}
			pause = time.Second
		} else {
			failures = 0
		}
		select {
		case <-p.stop:
			return
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

func (p *Profiler) record(err error, path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs = append(p.errs, err)
		return
	}
	p.files = append(p.files, path)
}

// fetch saves one profile from seleksid's profiles listener to path.
func (p *Profiler) fetch(ctx context.Context, query, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+query, nil)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench: profile %s: %w", query, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("bench: profile %s: %s: %s", query, resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("bench: profile %s: %w", query, err)
	}
	return f.Close()
}

// Stop waits for the running CPU window to end, takes the heap profile and returns the
// files written, CPU windows first.
func (p *Profiler) Stop(ctx context.Context) ([]string, error) {
	select {
	case <-p.done:
	default:
		close(p.stop)
		<-p.done
	}
	if p.base != "" && ctx.Err() == nil {
		path := filepath.Join(p.dir, p.name+"-heap.pb.gz")
		p.record(p.fetch(ctx, "/debug/pprof/heap", path), path)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.files, errors.Join(p.errs...)
}
