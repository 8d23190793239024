package bench

import (
	"slices"
	"sync"
	"time"
)

// Recorder collects the latencies of operations run by many clients at once, and their
// failures by kind.
type Recorder struct {
	mu       sync.Mutex
	started  time.Time
	ended    time.Time
	lat      []time.Duration
	failures map[string]int
}

// NewRecorder starts the clock of a run.
func NewRecorder() *Recorder {
	return &Recorder{started: time.Now(), failures: map[string]int{}}
}

// Observe records one successful operation that took d.
func (r *Recorder) Observe(d time.Duration) {
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
}

// Fail records one failed operation; kind groups failures in the report (a gRPC code, an HTTP
// status, "timeout").
func (r *Recorder) Fail(kind string) {
	r.mu.Lock()
	r.failures[kind]++
	r.mu.Unlock()
}

// Stop ends the clock of the run; Summary uses the time until then for throughput.
func (r *Recorder) Stop() {
	r.mu.Lock()
	if r.ended.IsZero() {
		r.ended = time.Now()
	}
	r.mu.Unlock()
}

// Summary is what a Recorder measured.
type Summary struct {
	Count    int
	Failures map[string]int
	Elapsed  time.Duration
	// PerSecond is successful operations per second of the run's wall time.
	PerSecond          float64
	P50, P95, P99, Max time.Duration
}

// Failed is the number of failed operations.
func (s Summary) Failed() int {
	n := 0
	for _, c := range s.Failures {
		n += c
	}
	return n
}

// Summary computes the figures; it stops the clock if Stop was not called.
func (r *Recorder) Summary() Summary {
	r.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	s := Summary{Count: len(lat), Failures: map[string]int{}, Elapsed: r.ended.Sub(r.started)}
	for k, v := range r.failures {
		s.Failures[k] = v
	}
	if s.Elapsed > 0 {
		s.PerSecond = float64(len(lat)) / s.Elapsed.Seconds()
	}
	s.P50, s.P95, s.P99 = Percentile(lat, 50), Percentile(lat, 95), Percentile(lat, 99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	return s
}

// Percentile is the nearest-rank percentile p (0-100) of sorted durations; zero when empty.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// Milliseconds is d in milliseconds, for figures.
func Milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
