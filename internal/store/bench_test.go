package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// BenchmarkListApplications100k pages through all 100,000 applications of one selection on
// SQLite, in the default order and filtered by state, to show that keyset pages cost the same
// at the end of the list as at its start. The rows are seeded once, directly.
func BenchmarkListApplications100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s := sqliteFactory(b, true)
	openWindow(b, s, "sel-bench")
	seed(b, s, "sel-bench", n)
	for _, tc := range []struct {
		name  string
		opts  ListOptions
		count int
	}{
		{"size=50", ListOptions{PageSize: 50}, n},
		{"size=1000", ListOptions{PageSize: 1000}, n},
		{"size=1000/desc", ListOptions{PageSize: 1000, OrderBy: "submit_time desc"}, n},
		{"size=100/state=ELIMINATED", ListOptions{PageSize: 100, Filter: "state = ELIMINATED"}, n / 10},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pages := 0
			for b.Loop() {
				pages = 0
				got := 0
				opts := tc.opts
				for {
					page, err := s.ListApplications(ctx, "sel-bench", opts)
					if err != nil {
						b.Fatal(err)
					}
					pages++
					got += len(page.Items)
					if page.NextPageToken == "" {
						break
					}
					opts.PageToken = page.NextPageToken
				}
				if got != tc.count {
					b.Fatalf("listed %d, want %d", got, tc.count)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*pages), "µs/page")
		})
	}
}

// seed inserts n applications (every tenth eliminated) with their candidates in batches.
func seed(b testing.TB, s *Store, selectionID string, n int) {
	b.Helper()
	start := time.Now()
	facts, _ := json.Marshal(Facts{Education: "EDUCATION_LEVEL_BACHELOR", ExperienceMonths: intp(100)})
	const batch = 500
	for lo := 0; lo < n; lo += batch {
		var (
			cands []candidateRow
			apps  []applicationRow
		)
		for i := lo; i < min(lo+batch, n); i++ {
			cid, aid := fmt.Sprintf("cand-%07d", i), fmt.Sprintf("app-%07d", i)
			// Submission times repeat so that ties on time are broken by ID.
			at := t0.Add(time.Duration(i/3) * time.Second)
			cands = append(cands, candidateRow{ID: cid, SelectionID: selectionID, Subject: "subj-" + cid, FullName: "Calon " + cid,
				NIP: nip(i), Email: cid + "@example.go.id", BirthDate: "1980-01-01", CreatedAt: at})
			state := StateSubmitted
			if i%10 == 0 {
				state = StateEliminated
			}
			apps = append(apps, applicationRow{ID: aid, SelectionID: selectionID, CandidateID: cid, Owner: "subj-" + cid,
				RequestID: "req-" + aid, RequestSHA256: "x", Profile: "{}", Documents: "[]", Facts: string(facts),
				State: state, CurrentStage: StageAnnouncement, SubmittedAt: at, UpdatedAt: at,
				ParticipantSeq: i + 1, ParticipantNumber: itoa(i + 1)})
		}
		if err := s.db.Create(&cands).Error; err != nil {
			b.Fatal(err)
		}
		if err := s.db.Create(&apps).Error; err != nil {
			b.Fatal(err)
		}
	}
	if err := s.db.Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d applications in %v", n, time.Since(start))
}

// BenchmarkSubmitApplication is one submission on SQLite, one after another into a selection
// that fills up as the benchmark runs: the store's share of a deadline rush.
func BenchmarkSubmitApplication(b *testing.B) {
	ctx := context.Background()
	s := sqliteFactory(b, true)
	openWindow(b, s, "sel-bench")
	i := 0
	for b.Loop() {
		if _, err := s.SubmitApplication(ctx, newSubmission("sel-bench", i, t0.Add(time.Minute))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
