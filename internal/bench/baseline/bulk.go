package baseline

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/bench"
	"github.com/bkpsdm/seleksi/internal/store"
)

// BulkResults is an assessment center's worth of screening verdicts recorded through the
// API in batches of bulkBatch (RecordResults, one Workflow Update and one store write per
// batch), beside a raw batched insert of as many rows, one transaction per batch, into a
// scratch table of the bench's own in the same database.
func BulkResults() bench.Scenario {
	return bench.Scenario{Name: "bulk-results", Title: "verdicts in batches of 1,000 through gRPC vs a raw batched insert", Run: runBulk}
}

const (
	// bulkBatch is the largest score sheet one RecordResults call carries.
	bulkBatch = 1000
	// bulkPerSelection caps the applications of one selection: the close's snapshot of
	// a selection's applications is one history event, and Temporal refuses payloads over
	// 2 MB (5,000 applications make over 1 MB).
	bulkPerSelection = 4000
)

func runBulk(ctx context.Context, env *bench.Env, size bench.Size) ([]bench.Figure, error) {
	n := size.N(10000, 20)
	parts := (n + bulkPerSelection - 1) / bulkPerSelection
	counts := make([]int, parts)
	for i := range counts {
		counts[i] = n / parts
		if i < n%parts {
			counts[i]++
		}
	}
	sels, err := setup(ctx, env, "bulk", counts, true)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	tok, err := committeeToken(env, screener, sels...)
	if err != nil {
		return nil, err
	}
	type batch struct {
		sel     *prepared
		results []*seleksiv1.ApplicationResult
	}
	var batches []batch
	for _, p := range sels {
		for off := 0; off < len(p.Apps); off += bulkBatch {
			var rs []*seleksiv1.ApplicationResult
			for i, app := range p.Apps[off:min(off+bulkBatch, len(p.Apps))] {
				rs = append(rs, verdict(off+i, app))
			}
			batches = append(batches, batch{p, rs})
		}
	}

	env.Log.Info("bulk-results: recording verdicts", "verdicts", n, "batches", len(batches), "selections", len(sels))
	sc := seleksiv1.NewSelectionServiceClient(env.GRPC)
	rec := bench.NewRecorder()
	recorded, failures := 0, 0
	var firstErr error
	for _, b := range batches {
		cctx, cancel := context.WithTimeout(bench.Bearer(ctx, tok), callTimeout)
		began := time.Now()
		resp, err := sc.RecordResults(cctx, &seleksiv1.RecordResultsRequest{Name: b.sel.Name, RequestId: requestID("sheet"),
			Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Results: b.results})
		took := time.Since(began)
		cancel()
		if err == nil && int(resp.GetRecordedCount()) != len(b.results) {
			err = fmt.Errorf("recorded %d of a sheet of %d", resp.GetRecordedCount(), len(b.results))
		}
		if err != nil {
			failures++
			firstErr = cmp(firstErr, err)
			rec.Fail(errorKind(err))
			continue
		}
		recorded += len(b.results)
		rec.Observe(took)
	}
	api := rec.Summary()

	env.Log.Info("bulk-results: raw batched insert", "rows", n)
	rawRate, err := rawInsert(ctx, env, batches2rows(sels), bulkBatch)
	if err != nil {
		return nil, fmt.Errorf("raw batched insert: %w", err)
	}
	note := fmt.Sprintf("%d verdicts in %d batches over %d selection(s); baseline raw INSERT, one transaction per batch", n, len(batches), len(sels))
	figs := []bench.Figure{
		bench.Figure{Scenario: "bulk-results", Metric: "verdicts/s", Value: float64(recorded) / api.Elapsed.Seconds(), Unit: "ops/s",
			Note: note}.WithBaseline(rawRate),
		{Scenario: "bulk-results", Metric: "batch p50", Value: bench.Milliseconds(api.P50), Unit: "ms", Note: "one RecordResults of up to 1,000"},
		{Scenario: "bulk-results", Metric: "batch max", Value: bench.Milliseconds(api.Max), Unit: "ms"},
		{Scenario: "bulk-results", Metric: "verdicts", Value: float64(recorded), Unit: "ops"},
		{Scenario: "bulk-results", Metric: "errors", Value: float64(failures), Unit: "count"},
	}
	if failures > 0 {
		return figs, fmt.Errorf("%d batches failed; the first: %w", failures, firstErr)
	}
	return figs, nil
}

// verdict is the screening verdict of the i-th application: one in five fails, with the
// reason a candidate reads.
func verdict(i int, app string) *seleksiv1.ApplicationResult {
	if i%5 == 4 {
		return &seleksiv1.ApplicationResult{Application: app, Outcome: seleksiv1.Outcome_OUTCOME_FAIL,
			Reason: "Pengalaman jabatan administrator kurang dari dua tahun."}
	}
	return &seleksiv1.ApplicationResult{Application: app, Outcome: seleksiv1.Outcome_OUTCOME_PASS}
}

// rawRow is one verdict as the raw baseline stores it.
type rawRow struct {
	selection, application string
	outcome                int
	reason                 string
}

func batches2rows(sels []*prepared) []rawRow {
	var rows []rawRow
	for _, p := range sels {
		for i, app := range p.Apps {
			v := verdict(i, app)
			rows = append(rows, rawRow{p.ID, app, int(v.GetOutcome()), v.GetReason()})
		}
	}
	return rows
}

// rawInsert writes rows into a scratch table of its own in batches of batch rows, one
// multi-row INSERT and one transaction per batch, and drops the table again. It returns
// rows per second.
func rawInsert(ctx context.Context, env *bench.Env, rows []rawRow, batch int) (float64, error) {
	table := "seleksibench_scratch_" + bench.RandomHex(4)
	if _, err := env.SQL.ExecContext(ctx, "CREATE TABLE "+table+
		" (id TEXT PRIMARY KEY, selection_id TEXT NOT NULL, application_id TEXT NOT NULL, stage INTEGER NOT NULL,"+
		" outcome INTEGER NOT NULL, reason TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL)"); err != nil {
		return 0, fmt.Errorf("create %s: %w", table, err)
	}
	defer func() {
		// The table is dropped even when the run was interrupted.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := env.SQL.ExecContext(ctx, "DROP TABLE "+table); err != nil {
			env.Log.Warn("raw baseline: scratch table left behind", "table", table, "error", err)
		}
	}()
	const cols = 8
	placeholder := func(i int) string { return "?" }
	if env.Store.Dialect() == store.Postgres {
		placeholder = func(i int) string { return "$" + strconv.Itoa(i) }
	}
	began := time.Now()
	for off := 0; off < len(rows); off += batch {
		part := rows[off:min(off+batch, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " VALUES ")
		args := make([]any, 0, len(part)*cols)
		now := time.Now().UTC().Format(time.RFC3339Nano)
		for i, r := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('(')
			for c := range cols {
				if c > 0 {
					q.WriteByte(',')
				}
				q.WriteString(placeholder(len(args) + c + 1))
			}
			q.WriteByte(')')
			args = append(args, r.application+"/administrative-screening", r.selection, r.application,
				int(seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING), r.outcome, r.reason, screener, now)
		}
		if err := inTx(ctx, env.SQL, q.String(), args); err != nil {
			return 0, err
		}
	}
	elapsed := time.Since(began)
	var got int
	if err := env.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&got); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	if got != len(rows) {
		return 0, fmt.Errorf("%s holds %d rows, want %d", table, got, len(rows))
	}
	return float64(len(rows)) / elapsed.Seconds(), nil
}

// inTx runs one statement in a transaction of its own.
func inTx(ctx context.Context, db *sql.DB, query string, args []any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("insert: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
