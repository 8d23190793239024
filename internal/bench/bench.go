// Package bench measures Seleksi under load: scenarios that drive a running seleksid through
// its public API (gRPC and the REST gateway) and report figures, each beside a baseline
// measured in the same run on the same machine, so that a figure reads as a ratio to what the
// platform underneath can do rather than as an absolute that depends on the machine.
//
// The package reports; it never asserts a timing. cmd/seleksibench runs the scenarios and
// prints the table.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Figure is one measured value, with the baseline it is compared to when it has one.
type Figure struct {
	Scenario string  `json:"scenario"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Baseline is the same quantity measured on the platform underneath in the same run
	// (a bare Temporal Update, the store's own SQL, a raw batched insert); nil when the
	// figure has none.
	Baseline *float64 `json:"baseline,omitempty"`
	// Ratio is Value / Baseline; nil without a baseline.
	Ratio *float64 `json:"ratio,omitempty"`
	// Note says what the figure counts when its name does not (sizes, clients, store).
	Note string `json:"note,omitempty"`
}

// WithBaseline returns f compared to baseline.
func (f Figure) WithBaseline(baseline float64) Figure {
	b := baseline
	f.Baseline = &b
	if baseline != 0 {
		r := f.Value / baseline
		f.Ratio = &r
	}
	return f
}

// Size scales a scenario: Scale 1 is the size the issue names, 0.1 the quick run.
type Size struct {
	Scale float64
}

// N scales a count, never below min.
func (s Size) N(full, min int) int {
	n := int(math.Round(float64(full) * s.Scale))
	if n < min {
		return min
	}
	return n
}

// Scenario is one measured situation. Its Run reports, besides its measurements, a figure
// "errors" (unit "count": operations that failed, 0 when all went through) and the counts of
// what it did (unit "ops"), and returns an error when anything failed, so that the tiny run
// of every scenario in cmd/seleksibench's tests catches a scenario that loses work.
// seleksibench adds the cost of each run itself (seleksid's CPU and peak memory, the bench's
// own CPU, the wall time).
type Scenario struct {
	// Name is short and stable: it is the key of the figures in JSON output and of -run.
	Name string
	// Title says in a few words what is measured, for the table.
	Title string
	Run   func(ctx context.Context, env *Env, size Size) ([]Figure, error)
	// SecondsPerDay, when set, is the least time scale (seleksid's -demo-seconds-per-day)
	// the scenario needs at size: a window that must hold its work lasts a bounded number
	// of days. Nil: DefaultSecondsPerDay serves every size.
	SecondsPerDay func(size Size) int64
}

// WriteTable prints figures as an aligned table.
func WriteTable(w io.Writer, figs []Figure) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmetric\tvalue\tunit\tbaseline\tratio\tnote")
	for _, f := range figs {
		base, ratio := "-", "-"
		if f.Baseline != nil {
			base = formatValue(*f.Baseline)
		}
		if f.Ratio != nil {
			ratio = strconv.FormatFloat(*f.Ratio, 'f', 2, 64) + "x"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Scenario, f.Metric, formatValue(f.Value), f.Unit, base, ratio, f.Note)
	}
	return tw.Flush()
}

// WriteJSON prints one JSON object per figure, one per line.
func WriteJSON(w io.Writer, figs []Figure) error {
	enc := json.NewEncoder(w)
	for _, f := range figs {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("bench: write figure %s/%s: %w", f.Scenario, f.Metric, err)
		}
	}
	return nil
}

func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// RandomHex is n random bytes in hex: names that tell apart what different runs create on the
// same stack (selections, scratch tables, task queues) and fresh idempotency keys.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
