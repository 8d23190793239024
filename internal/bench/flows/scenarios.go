package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bkpsdm/seleksi/internal/bench"
)

// Scenarios are the whole-selection scenarios, in the order they run.
func Scenarios() []bench.Scenario {
	return []bench.Scenario{
		{Name: "rush", Title: "deadline rush: applications with their documents from 64 clients", Run: Rush,
			SecondsPerDay: RushSecondsPerDay},
		{Name: "national-round", Title: "national round: selections of 25 applicants run concurrently through every stage", Run: NationalRound},
		{Name: "mass-selection", Title: "mass selection: one selection of 5,000 applications through every stage", Run: MassSelection},
		{Name: "year", Title: "a year of selections: created, run and closed a few at a time", Run: Year},
	}
}

// rushClients are the candidates' clients of the rush and the mass selection's intake.
const rushClients = 64

// runID tells apart the selections of different runs on the same stack.
func runID() string { return bench.RandomHex(3) }

func logger(env *bench.Env) *slog.Logger {
	if env.Log != nil {
		return env.Log
	}
	return slog.New(slog.DiscardHandler)
}

// meter reads seleksid's CPU time during a scenario, for the cost of one phase or one part of
// the work (the command adds the whole scenario's CPU and peak memory).
type meter struct {
	env *bench.Env
	cpu time.Duration
}

func startMeter(env *bench.Env) *meter {
	m := &meter{env: env}
	if env.Server != nil {
		m.cpu, _ = env.Server.CPU()
	}
	return m
}

// cpuNow is the server's CPU time used since the meter started.
func (m *meter) cpuNow() time.Duration {
	if m.env.Server == nil {
		return 0
	}
	c, err := m.env.Server.CPU()
	if err != nil {
		return 0
	}
	return c - m.cpu
}

// latencyFigures are a request kind's throughput, percentiles and failures.
func latencyFigures(scenario, what string, s bench.Summary, note string) []bench.Figure {
	return []bench.Figure{
		{Scenario: scenario, Metric: what + " throughput", Value: s.PerSecond, Unit: "/s", Note: note},
		{Scenario: scenario, Metric: what + " p50", Value: bench.Milliseconds(s.P50), Unit: "ms"},
		{Scenario: scenario, Metric: what + " p95", Value: bench.Milliseconds(s.P95), Unit: "ms"},
		{Scenario: scenario, Metric: what + " p99", Value: bench.Milliseconds(s.P99), Unit: "ms"},
		{Scenario: scenario, Metric: what + " errors", Value: float64(s.Failed()), Unit: "", Note: failureNote(s)},
	}
}

func failureNote(s bench.Summary) string {
	if s.Failed() == 0 {
		return fmt.Sprintf("of %d", s.Count)
	}
	kinds := make([]string, 0, len(s.Failures))
	for k, n := range s.Failures {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(kinds)
	return fmt.Sprintf("of %d; %v", s.Count+s.Failed(), kinds)
}

// forEach runs do(i) for i in [0, n) on workers goroutines, stopping early when ctx ends.
func forEach(ctx context.Context, n, workers int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}

// errorList keeps the first few errors of many and counts the rest.
type errorList struct {
	mu    sync.Mutex
	first []error
	n     int
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.first) < 5 {
		l.first = append(l.first, err)
	}
}

func (l *errorList) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return nil
	}
	return fmt.Errorf("%d failed; the first: %w", l.n, errors.Join(l.first...))
}

// Rush is the last announcement day: candidates of one selection upload their required
// documents, then all apply at once from 64 clients through the REST gateway, each with a
// token and a request ID of their own, retrying with backoff on anything but a refusal.
// Uploads and submissions are timed as separate phases; the target is the submissions': no
// errors, at least 1,000/s, p99 under 250 ms. The selection is left open: the rush measures
// intake, and the window closing is the other scenarios' business.
func Rush(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	const name = "rush"
	n := rushSize(size)
	c := NewClient(env, rushClients)
	intake := rushIntake(n)
	p := plan{id: "rush-" + runID(), applicants: n, documents: true, intake: intake, secondsPerDay: env.SecondsPerDay}
	// The announcement lasts at most 60 working days, at least 59 whole days after the first.
	if open := announcementDays * time.Duration(env.SecondsPerDay) * time.Second; env.SecondsPerDay > 0 && open < intake {
		if open < intake/2 {
			return nil, fmt.Errorf("rush: at %d s a day the announcement stays open for as little as %s, and %d candidates need about %s to upload and apply; run seleksid with at least %d s a day",
				env.SecondsPerDay, open, n, intake.Round(time.Second), RushSecondsPerDay(size))
		}
		logger(env).Warn("rush: the announcement may close before every candidate has applied; late ones will be refused",
			"secondsPerDay", env.SecondsPerDay, "open", open, "want", intake)
	}
	r, err := newRun(c, p)
	if err != nil {
		return nil, err
	}
	if err := r.create(ctx); err != nil {
		return nil, err
	}
	logger(env).Info("rush: selection open", "selection", p.id, "applications", n, "closes", r.final.StageCloseWallTime)
	cands, err := r.candidates()
	if err != nil {
		return nil, err
	}
	m := startMeter(env)
	var failed errorList
	bodies := make([]map[string]any, n)
	c.restart(opUpload)
	forEach(ctx, n, rushClients, func(k int) {
		var err error
		if bodies[k], err = r.prepare(ctx, k, cands[k]); err != nil {
			failed.add(err)
		}
	})
	uploads := c.summary(opUpload)
	logger(env).Info("rush: documents uploaded", "documents", uploads.Count, "perSecond", uploads.PerSecond)
	cpuUploads := m.cpuNow()
	c.restart(opSubmit)
	forEach(ctx, n, rushClients, func(k int) {
		if bodies[k] == nil {
			return // its upload failed, counted above
		}
		if err := r.submit(ctx, k, cands[k], bodies[k]); err != nil {
			failed.add(err)
		}
	})
	submits := c.summary(opSubmit)
	cpuSubmits := m.cpuNow() - cpuUploads
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rush: %w", err)
	}
	if err := failed.err(); err != nil {
		logger(env).Warn("rush: candidates were not accepted", "err", err)
	}
	sel, err := c.getSelection(ctx, p.id)
	if err != nil {
		return nil, fmt.Errorf("rush: reading the selection after the rush: %w", err)
	}
	distinct := map[string]bool{}
	for _, a := range r.apps {
		if a != "" {
			distinct[a] = true
		}
	}
	figs := latencyFigures(name, "submit", submits, fmt.Sprintf("%d applications, %d clients; target >= 1000/s, p99 < 250 ms, 0 errors", n, rushClients))
	figs = append(figs, latencyFigures(name, "upload", uploads, fmt.Sprintf("%d documents (2 a candidate, 2 KiB PDF, tus create+patch)", 2*n))...)
	figs = append(figs,
		bench.Figure{Scenario: name, Metric: "errors", Value: float64(failed.n), Note: fmt.Sprintf("candidates not accepted, of %d", n)},
		bench.Figure{Scenario: name, Metric: "retried requests", Value: float64(c.retries.Load()), Note: "same request ID, after a 5xx, 429 or broken connection"},
		bench.Figure{Scenario: name, Metric: "applications stored", Value: float64(sel.ApplicationCounts.Total),
			Note: fmt.Sprintf("want %d; %d distinct accepted", n, len(distinct))},
	)
	if env.Server != nil {
		figs = append(figs, bench.Figure{Scenario: name, Metric: "seleksid cpu per submit",
			Value: cpuSubmits.Seconds() * 1000 / float64(max(1, submits.Count)), Unit: "ms", Note: "the submit phase alone"})
	}
	return figs, nil
}

func rushSize(size bench.Size) int { return size.N(20000, 20) }

// rushIntake is how long the rush's announcement must stay open for n candidates to upload
// and apply: budget 100 documents and 150 applications a second, with half a minute to
// spare.
func rushIntake(n int) time.Duration {
	return time.Duration(float64(n)*(2.0/100+1.0/150)*float64(time.Second)) + 30*time.Second
}

// announcementDays is how many whole days an announcement surely lasts after the day it
// opens: at most 60 working days, and the plan asks for the fewest that hold the intake.
const announcementDays = 59

// RushSecondsPerDay is the least time scale at which the rush's announcement holds its
// intake at size: 2 s a day up to about 4,000 candidates, 10 s a day at 20,000.
func RushSecondsPerDay(size bench.Size) int64 {
	need := int64(math.Ceil(rushIntake(rushSize(size)).Seconds() / announcementDays))
	return max(bench.DefaultSecondsPerDay, need)
}

// NationalRound is 550 regional governments each running a selection of 25 applicants at
// the same time, every one through every stage on the compressed clock: the candidates of a
// selection apply together as soon as it is announced, then the committee records each
// stage's results, closes it, waits out the objection window, decides and the official
// appoints. Target: no errors, seleksid's peak RSS under 1 GiB.
func NationalRound(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	const name = "national-round"
	if env.SecondsPerDay <= 0 {
		return nil, errors.New("national-round: needs seleksid on a compressed clock (-demo-seconds-per-day)")
	}
	n := size.N(550, 2)
	c := NewClient(env, rushClients)
	id := runID()
	m := startMeter(env)
	began := time.Now()
	var failed errorList
	var commands, done atomic.Int64
	var openMu sync.Mutex
	var opened []time.Duration
	var wg sync.WaitGroup
	gate := make(chan struct{}, intakeLanes)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := plan{id: fmt.Sprintf("nr-%s-%04d", id, i), applicants: 25, intake: 6 * time.Second,
				secondsPerDay: env.SecondsPerDay, stageWait: 3 * time.Minute}
			r, err := wholeSelection(ctx, c, p, gate)
			if r != nil {
				commands.Add(r.commands.Load())
				if r.openDelay > 0 {
					openMu.Lock()
					opened = append(opened, r.openDelay)
					openMu.Unlock()
				}
			}
			if err != nil {
				failed.add(err)
				return
			}
			if d := done.Add(1); d%50 == 0 {
				logger(env).Info("national-round: selections closed", "done", d, "of", n)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(began)
	if done.Load() == 0 {
		return nil, fmt.Errorf("national-round: no selection closed: %w", failed.err())
	}
	if err := failed.err(); err != nil {
		logger(env).Warn("national-round: selections failed", "err", err)
	}
	submits, cmds := c.summary(opSubmit), c.summary(opCommand)
	requestErrors := submits.Failed() + cmds.Failed() + c.summary(opRead).Failed() + c.summary(opCreate).Failed() + c.summary(opUpload).Failed()
	figs := []bench.Figure{
		{Scenario: name, Metric: "round wall time", Value: wall.Seconds(), Unit: "s",
			Note: fmt.Sprintf("%d selections x 25 applicants, %d announced at a time, %d s a day", n, intakeLanes, env.SecondsPerDay)},
		{Scenario: name, Metric: "selections closed", Value: float64(done.Load()), Note: fmt.Sprintf("of %d", n)},
		{Scenario: name, Metric: "errors", Value: float64(failed.n),
			Note: fmt.Sprintf("selections that failed; target 0; %d requests failed after retries; %d commands sent again after a WrongStage refusal",
				requestErrors, c.notYet.Load())},
		{Scenario: name, Metric: "commands/s", Value: float64(commands.Load()) / wall.Seconds(), Unit: "/s",
			Note: fmt.Sprintf("%d committee and secretariat commands over the wall time (they wait on the windows)", commands.Load())},
		{Scenario: name, Metric: "command p50", Value: bench.Milliseconds(cmds.P50), Unit: "ms"},
		{Scenario: name, Metric: "command p99", Value: bench.Milliseconds(cmds.P99), Unit: "ms"},
		{Scenario: name, Metric: "submit p50", Value: bench.Milliseconds(submits.P50), Unit: "ms"},
		{Scenario: name, Metric: "submit p99", Value: bench.Milliseconds(submits.P99), Unit: "ms"},
		{Scenario: name, Metric: "retried requests", Value: float64(c.retries.Load())},
	}
	slices.Sort(opened)
	figs = append(figs,
		bench.Figure{Scenario: name, Metric: "window open after create p50", Value: bench.Milliseconds(bench.Percentile(opened, 50)), Unit: "ms",
			Note: "the workflow's first task projects the announcement window: its wait on the task queue"},
		bench.Figure{Scenario: name, Metric: "window open after create max", Value: bench.Milliseconds(bench.Percentile(opened, 100)), Unit: "ms"})
	if env.Server != nil {
		figs = append(figs, bench.Figure{Scenario: name, Metric: "seleksid cpu per selection",
			Value: m.cpuNow().Seconds() * 1000 / float64(n), Unit: "ms"})
	}
	return figs, nil
}

// wholeSelection runs one selection through every stage with its candidates applying all
// at once, as a selection of a few dozen does.
func wholeSelection(ctx context.Context, c *Client, p plan, gate chan struct{}) (*run, error) {
	r, err := newRun(c, p)
	if err != nil {
		return nil, err
	}
	return r, r.whole(ctx, p.applicants, gate)
}

// intakeLanes is how many selections of the national round and of the year are announced
// and take their applications at a time.
const intakeLanes = 16

// intake lets the selection's candidates apply on up to workers goroutines; the first
// failure is returned once all are done.
func (r *run) intake(ctx context.Context, workers int) error {
	cands, err := r.candidates()
	if err != nil {
		return err
	}
	var failed errorList
	forEach(ctx, len(cands), workers, func(k int) {
		body, err := r.prepare(ctx, k, cands[k])
		if err == nil {
			err = r.submit(ctx, k, cands[k], body)
		}
		if err != nil {
			failed.add(err)
		}
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("selection %s: intake: %w", r.p.id, err)
	}
	if err := failed.err(); err != nil {
		return fmt.Errorf("selection %s: intake: %w", r.p.id, err)
	}
	r.mark("intake")
	return nil
}

// MassSelection is one selection of 5,000 applications through every stage: the intake from
// 64 clients, each stage's results in batches of 1,000, and the ranking of everyone who
// reaches the decision. It reports the wall time of each stage, the workflow's history (runs
// and events: continue-as-new keeps it bounded), and checks that every application ended
// where its scores put it.
func MassSelection(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	const name = "mass-selection"
	if env.SecondsPerDay <= 0 {
		return nil, errors.New("mass-selection: needs seleksid on a compressed clock (-demo-seconds-per-day)")
	}
	n := size.N(5000, 10)
	c := NewClient(env, rushClients)
	// Budget 150 applications a second for the intake, and 8 s to spare.
	intake := time.Duration(float64(n)/150*float64(time.Second)) + 8*time.Second
	p := plan{id: "mass-" + runID(), applicants: n, intake: intake, secondsPerDay: env.SecondsPerDay,
		stageWait: 5 * time.Minute, check: true}
	r, err := newRun(c, p)
	if err != nil {
		return nil, err
	}
	logger(env).Info("mass-selection: announcing", "selection", p.id, "applications", n, "announcementDays", p.announcementDays())
	began := time.Now()
	// The selection's failure is the scenario's, but the stages it went through are still
	// reported, to show where it stuck.
	flowErr := r.whole(ctx, rushClients, nil)
	wall := time.Since(began)
	errs := 0
	if flowErr != nil {
		errs = 1
		flowErr = fmt.Errorf("mass-selection: %w", flowErr)
	}
	figs := []bench.Figure{
		{Scenario: name, Metric: "errors", Value: float64(errs), Note: "the selection failed, or an application ended elsewhere than its scores put it"},
		{Scenario: name, Metric: "applications", Value: float64(len(r.index)),
			Note: fmt.Sprintf("of %d; each checked ranked, not selected or eliminated as scored", n)},
		{Scenario: name, Metric: "selection wall time", Value: wall.Seconds(), Unit: "s",
			Note: fmt.Sprintf("announcement to appointment, %d s a day", env.SecondsPerDay)},
	}
	prev := began
	for _, s := range r.stages {
		note := "committee work"
		switch s.step {
		case "create":
			note = "announce"
		case "intake":
			note = fmt.Sprintf("%d applications from %d clients", n, rushClients)
		case "announcement closed":
			note = "waiting for the window to close (timer), then the close's snapshot"
		case "screening objections", "competency objections", "interview objections":
			note = "the objection window (timer) and opening the next stage"
		case "appointment":
			note = "the decision's objection window (timer), then the appointment"
		}
		figs = append(figs, bench.Figure{Scenario: name, Metric: "stage " + s.step, Value: s.at.Sub(prev).Seconds(), Unit: "s", Note: note})
		prev = s.at
	}
	cmds := c.summary(opCommand)
	submits := c.summary(opSubmit)
	// The intake is the time from the announcement to the last candidate accepted.
	var intakeRate float64
	for i, s := range r.stages {
		if s.step == "intake" && i > 0 {
			intakeRate = float64(submits.Count) / s.at.Sub(r.stages[i-1].at).Seconds()
		}
	}
	figs = append(figs,
		bench.Figure{Scenario: name, Metric: "submit throughput", Value: intakeRate, Unit: "/s",
			Note: fmt.Sprintf("p50 %.0f ms, p99 %.0f ms", bench.Milliseconds(submits.P50), bench.Milliseconds(submits.P99))},
		bench.Figure{Scenario: name, Metric: "commands", Value: float64(r.commands.Load()),
			Note: fmt.Sprintf("p50 %.0f ms, p99 %.0f ms; batches of 1,000", bench.Milliseconds(cmds.P50), bench.Milliseconds(cmds.P99))},
		bench.Figure{Scenario: name, Metric: "request errors", Value: float64(cmds.Failed() + submits.Failed() + c.summary(opRead).Failed()),
			Note: fmt.Sprintf("after retries; %d commands sent again after a WrongStage refusal", c.notYet.Load())},
	)
	if r.workflow == "" {
		return figs, flowErr
	}
	if h, err := historyOf(ctx, env, r.workflow); err != nil {
		logger(env).Warn("mass-selection: no history figures", "err", err)
	} else {
		figs = append(figs,
			bench.Figure{Scenario: name, Metric: "history events, longest run", Value: float64(h.longest), Note: "Temporal warns at 10,240 and stops at 51,200"},
			bench.Figure{Scenario: name, Metric: "history events, all runs", Value: float64(h.total)},
			bench.Figure{Scenario: name, Metric: "continue-as-new", Value: float64(h.continuedAsNew), Note: fmt.Sprintf("%d runs", h.runs)},
		)
	}
	return figs, flowErr
}

// yearLanes is how many of the year's selections run at a time. A selection spends most of
// its wall time waiting out windows on the compressed clock, so this many keep the server
// about as busy as a secretariat's year compressed into minutes does.
const yearLanes = 200

// quarterCost is what one quarter of the year cost.
type quarterCost struct {
	count, failed int
	wall, cpu     time.Duration
	// commands are the accepted commands' latencies.
	commands []time.Duration
}

// perSelection is the quarter's wall time per selection closed: the lanes run many at once,
// so this is the cost of one in a steady stream, not one selection's duration.
func (q quarterCost) perSelection() time.Duration {
	return q.wall / time.Duration(max(1, q.count-q.failed))
}

// Year is a year of a busy agency's selections, 4,000 created, run through every stage with
// six applicants each and closed: a quarter of them at a time, yearLanes of those at once,
// each quarter after the one before has closed, so that each quarter's cost is its own. It
// compares the last quarter (a thousand at full size) with the first as the store and
// Temporal's history grow: wall time per selection, the commands' latency, and seleksid's
// CPU per selection. Target: the last no more than 20% slower.
func Year(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	const name = "year"
	if env.SecondsPerDay <= 0 {
		return nil, errors.New("year: needs seleksid on a compressed clock (-demo-seconds-per-day)")
	}
	n := size.N(4000, 8)
	c := NewClient(env, rushClients)
	id := runID()
	m := startMeter(env)
	gate := make(chan struct{}, intakeLanes)
	var failed errorList
	var quarters [4]quarterCost
	closed := 0
	var stopped error
	for q := range quarters {
		from, to := q*n/4, (q+1)*n/4
		cpu0, began := m.cpuNow(), time.Now()
		var mu sync.Mutex
		cost := &quarters[q]
		cost.count = to - from
		forEach(ctx, to-from, yearLanes, func(j int) {
			p := plan{id: fmt.Sprintf("yr-%s-%05d", id, from+j), applicants: 6, intake: 2 * time.Second,
				secondsPerDay: env.SecondsPerDay, stageWait: 3 * time.Minute}
			r, err := wholeSelection(ctx, c, p, gate)
			mu.Lock()
			defer mu.Unlock()
			if r != nil {
				cost.commands = append(cost.commands, r.commandLatency...)
			}
			if err != nil {
				cost.failed++
				failed.add(err)
			}
		})
		cost.wall, cost.cpu = time.Since(began), m.cpuNow()-cpu0
		if err := ctx.Err(); err != nil {
			// The quarters that closed are still reported, so that an interrupted year
			// shows how far it came and at what cost.
			stopped = fmt.Errorf("year: stopped in quarter %d: %w", q+1, err)
			break
		}
		closed++
		logger(env).Info("year: quarter closed", "quarter", q+1, "selections", cost.count, "failed", cost.failed,
			"wallPerSelection", cost.perSelection())
	}
	if err := failed.err(); err != nil {
		logger(env).Warn("year: selections failed", "err", err)
	}
	if closed == 0 {
		return nil, stopped
	}
	first, last := quarters[0], quarters[closed-1]
	pct := func(q quarterCost, p float64) float64 {
		slices.Sort(q.commands)
		return bench.Milliseconds(bench.Percentile(q.commands, p))
	}
	note := fmt.Sprintf("%d selections a quarter, %d at a time; baseline: the first quarter", last.count, yearLanes)
	ran := 0
	for _, q := range quarters[:closed] {
		ran += q.count
	}
	figs := []bench.Figure{
		{Scenario: name, Metric: "selections closed", Value: float64(ran - failed.n), Note: fmt.Sprintf("of %d, 6 applicants each, %d s a day", n, env.SecondsPerDay)},
		{Scenario: name, Metric: "errors", Value: float64(failed.n), Note: fmt.Sprintf("selections that failed; %d commands sent again after a WrongStage refusal", c.notYet.Load())},
		bench.Figure{Scenario: name, Metric: "wall per selection, last quarter", Value: last.perSelection().Seconds() * 1000, Unit: "ms",
			Note: note + "; target ratio <= 1.2"}.WithBaseline(first.perSelection().Seconds() * 1000),
		bench.Figure{Scenario: name, Metric: "command p50, last quarter", Value: pct(last, 50), Unit: "ms", Note: note}.WithBaseline(pct(first, 50)),
		bench.Figure{Scenario: name, Metric: "command p99, last quarter", Value: pct(last, 99), Unit: "ms", Note: note}.WithBaseline(pct(first, 99)),
	}
	for q := 1; q < closed-1; q++ {
		figs = append(figs, bench.Figure{Scenario: name, Metric: fmt.Sprintf("wall per selection, quarter %d", q+1),
			Value: quarters[q].perSelection().Seconds() * 1000, Unit: "ms"}.WithBaseline(first.perSelection().Seconds()*1000))
	}
	if env.Server != nil {
		per := func(q quarterCost) float64 { return q.cpu.Seconds() * 1000 / float64(max(1, q.count)) }
		figs = append(figs, bench.Figure{Scenario: name, Metric: "seleksid cpu per selection, last quarter", Value: per(last), Unit: "ms",
			Note: note}.WithBaseline(per(first)))
	}
	return figs, stopped
}
