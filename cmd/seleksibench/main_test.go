package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/bench"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantScale float64
		wantRun   []string
		wantErr   string
	}{
		{"defaults", nil, 1, []string{"command", "status-read", "bulk-results", "rush", "national-round", "mass-selection", "year"}, ""},
		{"quick", []string{"-quick"}, 0.1, nil, ""},
		{"scale", []string{"-scale", "0.01", "-run", "^command$"}, 0.01, []string{"command"}, ""},
		{"quick and scale", []string{"-quick", "-scale", "0.5"}, 0, nil, "give one"},
		{"zero scale", []string{"-scale", "0"}, 0, nil, "-scale 0"},
		{"output", []string{"-o", "csv"}, 0, nil, "want table or json"},
		{"no match", []string{"-run", "nothing-like-this"}, 0, nil, "matches no scenario"},
		{"bad regexp", []string{"-run", "("}, 0, nil, "-run"},
		{"time scale", []string{"-seconds-per-day", "-1"}, 0, nil, "-seconds-per-day -1"},
		{"time scale too long", []string{"-seconds-per-day", "86401"}, 0, nil, "-seconds-per-day 86401"},
		{"arguments", []string{"extra"}, 0, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if o.size.Scale != tt.wantScale {
				t.Errorf("scale %g, want %g", o.size.Scale, tt.wantScale)
			}
			if tt.wantRun != nil {
				var names []string
				for _, s := range o.scenarios {
					names = append(names, s.Name)
				}
				if strings.Join(names, ",") != strings.Join(tt.wantRun, ",") {
					t.Errorf("scenarios %v, want %v", names, tt.wantRun)
				}
			}
		})
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

// TestSecondsPerDay: each scenario runs at the default time scale, or slower where its size
// needs it (the full rush's announcement must hold 20,000 candidates' uploads), unless
// -seconds-per-day says otherwise for all.
func TestSecondsPerDay(t *testing.T) {
	byName := map[string]bench.Scenario{}
	for _, s := range scenarios() {
		byName[s.Name] = s
	}
	tests := []struct {
		args     []string
		scenario string
		want     int64
	}{
		{nil, "rush", 10},
		{[]string{"-quick"}, "rush", bench.DefaultSecondsPerDay},
		{[]string{"-scale", "0.5"}, "rush", 6},
		{nil, "national-round", bench.DefaultSecondsPerDay},
		{nil, "year", bench.DefaultSecondsPerDay},
		{[]string{"-seconds-per-day", "3"}, "rush", 3},
		{[]string{"-seconds-per-day", "30", "-quick"}, "year", 30},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := secondsPerDay(o, byName[tt.scenario]); got != tt.want {
			t.Errorf("%v: %s at %d s a day, want %d", tt.args, tt.scenario, got, tt.want)
		}
	}
}

// TestScenarioNames keeps the names usable as -run keys and JSON keys: unique, short, plain.
func TestScenarioNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios() {
		if s.Name == "" || strings.ContainsAny(s.Name, " \t|") || seen[s.Name] || s.Title == "" || s.Run == nil {
			t.Errorf("scenario %q (%q): want a unique name without spaces, a title and a Run", s.Name, s.Title)
		}
		seen[s.Name] = true
	}
}

// tinyScale is the size TestEveryScenarioTiny runs every scenario at.
const tinyScale = 0.01

// wantCounts are, per scenario, figures that count what the scenario sent and what must have
// been done at tinyScale: a scenario that loses work shows here.
func wantCounts() map[string]map[string]float64 {
	size := bench.Size{Scale: tinyScale}
	return map[string]map[string]float64{
		"command":      {"verdicts": float64(size.N(200, 5))},
		"bulk-results": {"verdicts": float64(size.N(10000, 20))},
		"status-read": {
			"reads @1": float64(2 * size.N(10000, 50)), "reads @16": float64(2 * size.N(10000, 50)),
			"reads @64": float64(2 * size.N(10000, 50)),
		},
		"rush":           {"applications stored": float64(size.N(20000, 20))},
		"national-round": {"selections closed": float64(size.N(550, 2))},
		"mass-selection": {"applications": float64(size.N(5000, 10))},
		"year":           {"selections closed": float64(size.N(4000, 8))},
	}
}

// TestEveryScenarioTiny runs every registered scenario at a tiny scale against a real
// seleksid (embedded Temporal, SQLite) and checks that each reported its figures, with no
// error, every value a finite non-negative number, and the counts it must have. It never
// looks at a timing. SELEKSIBENCH_SELEKSID names a seleksid binary to use instead of
// building one.
func TestEveryScenarioTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts seleksid and runs every scenario")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin := os.Getenv("SELEKSIBENCH_SELEKSID")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "seleksid")
		began := time.Now()
		if err := bench.BuildSeleksid(ctx, bin); err != nil {
			t.Fatal(err)
		}
		t.Logf("built seleksid in %s", time.Since(began).Round(time.Second))
	}
	var stdout, stderr bytes.Buffer
	began := time.Now()
	err := realMain(ctx, []string{"-seleksid", bin, "-scale", "0.01", "-o", "json"}, &stdout, &stderr)
	t.Logf("every scenario at scale %g took %s", tinyScale, time.Since(began).Round(time.Second))
	if err != nil {
		t.Fatalf("seleksibench: %v\nprogress:\n%s", err, stderr.String())
	}
	figs := map[string]map[string]bench.Figure{}
	dec := json.NewDecoder(&stdout)
	for {
		var f bench.Figure
		if err := dec.Decode(&f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode a figure: %v", err)
		}
		if figs[f.Scenario] == nil {
			figs[f.Scenario] = map[string]bench.Figure{}
		}
		figs[f.Scenario][f.Metric] = f
		for _, v := range []*float64{&f.Value, f.Baseline, f.Ratio} {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) {
				t.Errorf("%s/%s: value, baseline or ratio %v: want a finite number, not negative", f.Scenario, f.Metric, *v)
			}
		}
	}
	counts := wantCounts()
	for _, s := range scenarios() {
		got := figs[s.Name]
		if len(got) == 0 {
			t.Errorf("scenario %s reported no figures", s.Name)
			continue
		}
		if e, ok := got["errors"]; !ok || e.Value != 0 {
			t.Errorf("scenario %s: errors figure %+v, want one of 0", s.Name, e)
		}
		for _, m := range []string{"seleksid cpu", "seleksid peak rss", "bench cpu"} {
			if _, ok := got[m]; !ok {
				t.Errorf("scenario %s: no %q figure", s.Name, m)
			}
		}
		if f := got["seleksid peak rss"]; f.Value <= 0 {
			t.Errorf("scenario %s: seleksid peak rss %v MiB, want more than 0", s.Name, f.Value)
		}
		for metric, want := range counts[s.Name] {
			if f, ok := got[metric]; !ok || f.Value != want {
				t.Errorf("scenario %s: %s = %v, want %v", s.Name, metric, f.Value, want)
			}
		}
	}
}
