// Command seleksibench measures Seleksi under load. It starts seleksid as a child process (on
// its embedded default, or against an external Temporal and PostgreSQL), runs the scenarios
// of internal/bench against its public API, and prints each figure beside a baseline
// measured in the same run: a table, or one JSON object per figure with -o json. Progress
// goes to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/bkpsdm/seleksi/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "seleksibench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	size              bench.Size
	run               *regexp.Regexp
	output            string
	stack             bench.StackOptions
	verbose           bool
	scenarios         []bench.Scenario
	quick, scaleGiven bool
	// profileDir, when set, receives seleksid's CPU and heap profiles of each scenario.
	profileDir string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	o := options{size: bench.Size{Scale: 1}}
	fs := flag.NewFlagSet("seleksibench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var run string
	fs.BoolVar(&o.quick, "quick", false, "run every scenario at a tenth of its size (-scale 0.1)")
	fs.Float64Var(&o.size.Scale, "scale", 1, "size of the scenarios: 1 is the size issue 15 names")
	fs.StringVar(&run, "run", "", "regular expression: run only the scenarios whose names match")
	fs.StringVar(&o.output, "o", "table", "output: table or json (one object per figure)")
	fs.StringVar(&o.stack.DatabaseURL, "database-url", "",
		"PostgreSQL server (postgres://...) to run seleksid's store on, in a schema the run makes and drops; empty: SQLite in a temporary data directory")
	fs.StringVar(&o.stack.TemporalAddress, "temporal-address", "", "external Temporal frontend host:port; empty: seleksid's embedded server")
	fs.StringVar(&o.stack.TemporalNamespace, "temporal-namespace", "seleksi", "Temporal namespace")
	fs.StringVar(&o.stack.Seleksid, "seleksid", "", "seleksid binary to run; empty builds ./cmd/seleksid of this module")
	fs.Int64Var(&o.stack.SecondsPerDay, "seconds-per-day", 0,
		fmt.Sprintf("seleksid's time scale (-demo-seconds-per-day): wall seconds one selection day lasts; 0: %d, or more where a scenario's size needs it (the full rush: 10)", bench.DefaultSecondsPerDay))
	fs.StringVar(&o.profileDir, "profile", "",
		"directory to write seleksid's profiles of each scenario to: <scenario>-cpu-NNN.pb.gz (one per 10 s, read together with go tool pprof) and <scenario>-heap.pb.gz")
	fs.BoolVar(&o.verbose, "v", false, "log debug progress")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: seleksibench [flags]\n\nStarts seleksid, runs the load scenarios and prints their figures beside same-run baselines.\nScenarios:\n")
		for _, s := range scenarios() {
			fmt.Fprintf(fs.Output(), "  %-14s %s\n", s.Name, s.Title)
		}
		fmt.Fprintf(fs.Output(), "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.scaleGiven = o.scaleGiven || f.Name == "scale" })
	switch {
	case o.quick && o.scaleGiven:
		return o, errors.New("-quick and -scale: give one")
	case o.quick:
		o.size.Scale = 0.1
	case o.size.Scale <= 0 || o.size.Scale > 10:
		return o, fmt.Errorf("-scale %g: want more than 0, at most 10", o.size.Scale)
	}
	if o.output != "table" && o.output != "json" {
		return o, fmt.Errorf("-o %q: want table or json", o.output)
	}
	if o.stack.SecondsPerDay < 0 || o.stack.SecondsPerDay > 86400 {
		return o, fmt.Errorf("-seconds-per-day %d: want 1 to 86400, or 0 for each scenario's own", o.stack.SecondsPerDay)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return o, fmt.Errorf("-profile: %w", err)
		}
		o.stack.Pprof = true
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return o, fmt.Errorf("-run: %w", err)
	}
	for _, s := range scenarios() {
		if re.MatchString(s.Name) {
			o.scenarios = append(o.scenarios, s)
		}
	}
	if len(o.scenarios) == 0 {
		return o, fmt.Errorf("-run %q matches no scenario", run)
	}
	return o, nil
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	o.stack.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	figs, runErr := run(ctx, o)
	var outErr error
	if o.output == "json" {
		outErr = bench.WriteJSON(stdout, figs)
	} else {
		outErr = bench.WriteTable(stdout, figs)
	}
	return errors.Join(runErr, outErr)
}

// run runs the chosen scenarios one after the other, each on a seleksid of its own: one
// scenario's rows and history do not weigh on the next, its CPU and peak memory are its
// own, and it gets the time scale its size needs. A failing scenario does not stop the
// others; its error is returned with the figures of the rest.
func run(ctx context.Context, o options) ([]bench.Figure, error) {
	log := o.stack.Log
	if o.stack.Seleksid == "" {
		// Built once for every scenario's stack.
		dir, err := os.MkdirTemp("", "seleksibench-bin-")
		if err != nil {
			return nil, fmt.Errorf("temp directory: %w", err)
		}
		defer os.RemoveAll(dir)
		o.stack.Seleksid = filepath.Join(dir, "seleksid")
		log.Info("building seleksid", "output", o.stack.Seleksid)
		if err := bench.BuildSeleksid(ctx, o.stack.Seleksid); err != nil {
			return nil, err
		}
	}
	log.Info("run", "scale", o.size.Scale, "scenarios", len(o.scenarios))
	var figs []bench.Figure
	var errs []error
	for _, sc := range o.scenarios {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		got, err := runOne(ctx, o, sc)
		figs = append(figs, got...)
		if err != nil {
			log.Error("scenario failed", "name", sc.Name, "error", err)
			errs = append(errs, fmt.Errorf("scenario %s: %w", sc.Name, err))
		}
	}
	return figs, errors.Join(errs...)
}

// secondsPerDay is the time scale sc runs at: the one -seconds-per-day gives, else the
// default or more where the scenario's size needs it.
func secondsPerDay(o options, sc bench.Scenario) int64 {
	if o.stack.SecondsPerDay > 0 {
		return o.stack.SecondsPerDay
	}
	spd := int64(bench.DefaultSecondsPerDay)
	if sc.SecondsPerDay != nil {
		spd = max(spd, sc.SecondsPerDay(o.size))
	}
	return spd
}

// runOne starts a stack for sc, measures it and stops the stack, also when interrupted.
func runOne(ctx context.Context, o options, sc bench.Scenario) (_ []bench.Figure, err error) {
	log := o.stack.Log
	so := o.stack
	so.SecondsPerDay = secondsPerDay(o, sc)
	began := time.Now()
	st, err := bench.StartStack(ctx, so)
	if err != nil {
		return nil, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		err = errors.Join(err, st.Close(ctx))
	}()
	log.Info("scenario", "name", sc.Name, "title", sc.Title, "secondsPerDay", so.SecondsPerDay,
		"stackUp", time.Since(began).Round(time.Millisecond))
	var prof *bench.Profiler
	if o.profileDir != "" {
		prof = st.Profile(ctx, o.profileDir, sc.Name)
	}
	figs, err := measure(ctx, st.Env, sc, o.size)
	if prof != nil {
		files, perr := prof.Stop(ctx)
		if perr != nil {
			log.Warn("profiles", "scenario", sc.Name, "error", perr)
		}
		if len(files) > 0 {
			log.Info("profiles written", "scenario", sc.Name, "files", len(files), "read", "go tool pprof -top "+files[0]+" ...")
		}
	}
	if err != nil {
		return figs, fmt.Errorf("%w\nseleksid's log:\n%s", err, st.LogTail(20))
	}
	return figs, nil
}

// measure runs one scenario and adds what it cost: seleksid's CPU seconds and peak memory
// (measured apart from the bench), the bench's own CPU seconds (when they approach the wall
// time the load generator, not seleksid, is the limit) and the wall time.
func measure(ctx context.Context, env *bench.Env, sc bench.Scenario, size bench.Size) ([]bench.Figure, error) {
	resetErr := env.Server.ResetPeak()
	serverCPU0, serverErr := env.Server.CPU()
	selfCPU0, selfErr := bench.SelfCPU()
	began := time.Now()
	figs, err := sc.Run(ctx, env, size)
	wall := time.Since(began)
	if err != nil {
		return figs, err
	}
	figs = append(figs, bench.Figure{Scenario: sc.Name, Metric: "wall time", Value: wall.Seconds(), Unit: "s",
		Note: "setup included"})
	if serverErr == nil {
		if cpu, err := env.Server.CPU(); err == nil {
			figs = append(figs, bench.Figure{Scenario: sc.Name, Metric: "seleksid cpu", Value: (cpu - serverCPU0).Seconds(), Unit: "s",
				Note: "user+system, setup included"})
		}
	}
	if resetErr == nil {
		if peak, err := env.Server.PeakRSS(); err == nil {
			figs = append(figs, bench.Figure{Scenario: sc.Name, Metric: "seleksid peak rss", Value: float64(peak) / (1 << 20), Unit: "MiB"})
		}
	}
	if selfErr == nil {
		if cpu, err := bench.SelfCPU(); err == nil {
			figs = append(figs, bench.Figure{Scenario: sc.Name, Metric: "bench cpu", Value: (cpu - selfCPU0).Seconds(), Unit: "s",
				Note: "the load generator's own"})
		}
	}
	return figs, nil
}
