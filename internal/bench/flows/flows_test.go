package flows

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/bench"
)

// TestSelectionThroughEveryStage starts a real seleksid (embedded Temporal, SQLite, two
// seconds a day) and runs one selection of twelve candidates, who upload their required
// documents before applying, through every stage with the driver the scenarios share. Then
// it reads, as the public and the committee would, what the selection ended with: closed
// with the first-ranked candidate appointed, twelve applications of which the one screened
// out is eliminated and the eleven others decided, and a decision result that ranks the
// three best, in the order of the scores given, above everyone else who reached it. It never
// looks at a timing. SELEKSIBENCH_SELEKSID names a seleksid binary to use instead of
// building one.
func TestSelectionThroughEveryStage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts seleksid and runs a selection through every stage")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := os.Getenv("SELEKSIBENCH_SELEKSID")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "seleksid")
		if err := bench.BuildSeleksid(ctx, bin); err != nil {
			t.Fatal(err)
		}
	}
	st, err := bench.StartStack(ctx, bench.StackOptions{Seleksid: bin, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			t.Logf("seleksid's log:\n%s", st.LogTail(40))
		}
		if err := st.Close(ctx); err != nil {
			t.Errorf("stopping seleksid: %v", err)
		}
	})
	env := st.Env
	c := NewClient(env, 8)
	const applicants = 12
	p := plan{id: "flow-" + runID(), applicants: applicants, documents: true, intake: 20 * time.Second,
		secondsPerDay: env.SecondsPerDay, stageWait: 2 * time.Minute, check: true}
	r, err := newRun(c, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.whole(ctx, 4, nil); err != nil {
		t.Fatalf("the selection did not go through: %v", err)
	}

	sel, err := c.getSelection(ctx, p.id)
	if err != nil {
		t.Fatal(err)
	}
	// Candidate 9 is screened out; 0, 1 and 2 have the best scores, in that order.
	want := []string{r.apps[0], r.apps[1], r.apps[2]}
	cnt := sel.ApplicationCounts
	if sel.Stage != "STAGE_CLOSED" || sel.AppointedApp != want[0] || cnt.Total != applicants || cnt.Eliminated != 1 || cnt.Decided != applicants-1 {
		t.Errorf("at the end: stage %s, appointed %q (want %q), counts %+v; want closed, %d in all, 1 eliminated, %d decided",
			sel.Stage, sel.AppointedApp, want[0], cnt, applicants, applicants-1)
	}
	var res struct {
		Result stageResultJSON `json:"result"`
	}
	if err := c.call(ctx, opRead, http.MethodGet, "/v1/selections/"+p.id+"/results/committee-decision", "", nil, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Result.Entries) != applicants-1 {
		t.Errorf("the decision's result has %d entries, want the %d who reached it", len(res.Result.Entries), applicants-1)
	}
	for i, name := range want {
		if i >= len(res.Result.Entries) {
			break
		}
		if e := res.Result.Entries[i]; e.Application != name || e.Rank != i+1 {
			t.Errorf("decision entry %d: %s ranked %d, want %s ranked %d", i, e.Application, e.Rank, name, i+1)
		}
	}
	for _, e := range res.Result.Entries[min(3, len(res.Result.Entries)):] {
		if e.Rank != 0 {
			t.Errorf("%s is ranked %d beyond the shortlist of three", e.Application, e.Rank)
		}
	}
	if got := c.summary(opUpload).Count; got != 2*applicants {
		t.Errorf("%d documents uploaded, want %d", got, 2*applicants)
	}
	h, err := historyOf(ctx, env, r.workflow)
	if err != nil {
		t.Fatal(err)
	}
	if h.runs < 1 || h.longest <= 0 || h.total < h.longest {
		t.Errorf("history of the workflow: %+v, want at least one run with events", h)
	}
}
