package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The write paths of a deadline rush and of bulk results, on SQLite and, when
// SELEKSI_TEST_POSTGRES_URL is set, on PostgreSQL. They report throughput and latency
// percentiles; they assert only that every write succeeded.

// benchDatabase is one database the write benchmarks run on.
type benchDatabase struct {
	name string
	open factory
}

func benchDatabases(b *testing.B) []benchDatabase {
	dbs := []benchDatabase{{"sqlite", sqliteFactory}}
	if os.Getenv("SELEKSI_TEST_POSTGRES_URL") != "" {
		dbs = append(dbs, benchDatabase{"postgres", postgresFactory(b)})
	}
	return dbs
}

// runClients runs op(i) for i in [0, b.N) on the given number of goroutines and reports
// operations per second and the p50 and p99 latency of one operation.
func runClients(b *testing.B, clients int, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				start := time.Now()
				if err := op(i); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := first.Load(); err != nil {
		b.Fatal(*err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSubmitRush is the store's share of a deadline rush: each operation is what the API
// does for a candidate it has not seen before (their actor ID, then the submission), from one
// client and from 64 at once, into one selection that fills up as the benchmark runs.
func BenchmarkSubmitRush(b *testing.B) {
	ctx := context.Background()
	for _, db := range benchDatabases(b) {
		for _, clients := range []int{1, 64} {
			b.Run(fmt.Sprintf("db=%s/clients=%d", db.name, clients), func(b *testing.B) {
				s := db.open(b, true)
				openWindow(b, s, "sel-rush")
				runClients(b, clients, func(i int) error {
					in := newSubmission("sel-rush", i, t0.Add(time.Minute))
					actor, err := s.ActorID(ctx, "https://idp.example.go.id", in.Candidate.Subject)
					if err != nil {
						return err
					}
					in.Owner = actor
					_, err = s.SubmitApplication(ctx, in)
					return err
				})
			})
		}
	}
}

// BenchmarkRecordResults is the store's share of bulk results: each operation applies one
// recordResults command of 1,000 competency-test scores to a selection of 10,000
// applications (the audit event keeps the whole sheet), and, in the screening variant, the
// 1,000 requirement checklists the verdicts changed.
func BenchmarkRecordResults(b *testing.B) {
	const (
		apps  = 10_000
		batch = 1_000
	)
	ctx := context.Background()
	type result struct {
		ApplicationID string  `json:"applicationId"`
		Outcome       string  `json:"outcome,omitempty"`
		Managerial    float64 `json:"managerial,omitempty"`
		SocioCultural float64 `json:"socioCultural,omitempty"`
		Category      string  `json:"category,omitempty"`
	}
	items := []byte(`[{"item":"age","proposed":"REQUIREMENT_STATUS_MET","status":"REQUIREMENT_STATUS_MET"},` +
		`{"item":"document:lhkpn","proposed":"REQUIREMENT_STATUS_MET","status":"REQUIREMENT_STATUS_MET"}]`)
	for _, db := range benchDatabases(b) {
		for _, checklists := range []bool{false, true} {
			b.Run(fmt.Sprintf("db=%s/checklists=%t", db.name, checklists), func(b *testing.B) {
				s := db.open(b, true)
				openWindow(b, s, "sel-bulk")
				seed(b, s, "sel-bulk", apps)
				runClients(b, 1, func(i int) error {
					var (
						rs  []result
						cls []Checklist
					)
					for j := range batch {
						id := fmt.Sprintf("app-%07d", (i*batch+j)%apps)
						rs = append(rs, result{ApplicationID: id, Outcome: "OUTCOME_PASS", Managerial: 3.25, SocioCultural: 3.5,
							Category: "COMPETENCY_CATEGORY_OPTIMAL"})
						if checklists {
							cls = append(cls, Checklist{ApplicationID: id, Items: items})
						}
					}
					payload, err := json.Marshal(map[string]any{"actor": map[string]string{"subject": "act-chair", "role": "ROLE_COMMITTEE"},
						"stage": "STAGE_COMPETENCY_TEST", "results": rs})
					if err != nil {
						return err
					}
					_, err = s.ApplyCommand(ctx, Command{WorkflowID: workflowPrefix + "sel-bulk", SelectionID: "sel-bulk",
						Key: fmt.Sprintf("req-%d", i), Seq: int64(i + 1), Kind: "RecordResults", Actor: Actor{Subject: "act-chair", Role: "ROLE_COMMITTEE"},
						At: t0.Add(time.Duration(i) * time.Second), Stage: "STAGE_COMPETENCY_TEST", Phase: "OPEN",
						Payload: payload, Checklists: cls, Answer: json.RawMessage(`{}`)})
					return err
				})
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "verdicts/s")
			})
		}
	}
}
