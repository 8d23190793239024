package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/bench"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/server"
)

// BenchmarkStatusRead is issue 15's status read: a candidate GETs their own application
// through the whole HTTP edge seleksid serves (client address, rate limits, body limit, the
// REST gateway, the gRPC server's interceptors: auth, deadlines, validation, logging; the
// handler and the store), at 1, 16 and 64 clients, beside the store's own read of the same
// row, which is the baseline the issue measures the gateway against. It runs on SQLite, and
// on PostgreSQL too when SELEKSI_TEST_POSTGRES_URL is set.
//
// Besides ns/op (the wall time per read at that many clients), each sub-benchmark reports
// reads/s and the p99 latency of one read.
func BenchmarkStatusRead(b *testing.B) {
	stores := []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "seleksi.db") }},
	}
	if os.Getenv("SELEKSI_TEST_POSTGRES_URL") != "" {
		stores = append(stores, struct {
			name string
			url  func(b *testing.B) string
		}{"postgres", func(b *testing.B) string { return pgtest.SchemaURL(b) }})
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			api := startRealAPI(b, st.url(b), server.Deadlines{})
			url := api.base + "/v1/selections/" + selOpen + "/applications/" + appOpen
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}
			b.Cleanup(client.CloseIdleConnections)
			get := func(ctx context.Context) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+api.candidate)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
				}
				return nil
			}
			storeRead := func(ctx context.Context) error {
				_, err := api.store.GetApplication(ctx, selOpen, appOpen)
				return err
			}
			for _, clients := range []int{1, 16, 64} {
				b.Run(fmt.Sprintf("store/clients=%d", clients), func(b *testing.B) { runClients(b, clients, storeRead) })
				b.Run(fmt.Sprintf("gateway/clients=%d", clients), func(b *testing.B) { runClients(b, clients, get) })
			}
		})
	}
}

// runClients runs op b.N times from the given number of concurrent clients and reports the
// throughput and the p99 latency. RunParallel starts a multiple of GOMAXPROCS goroutines, so
// the client count is rounded up to one; a single client is a plain loop.
func runClients(b *testing.B, clients int, op func(context.Context) error) {
	ctx := context.Background()
	rec := bench.NewRecorder()
	one := func() {
		start := time.Now()
		if err := op(ctx); err != nil {
			b.Error(err)
			rec.Fail("error")
			return
		}
		rec.Observe(time.Since(start))
	}
	cpu0 := processCPU(b)
	b.ResetTimer()
	if clients == 1 {
		for range b.N {
			one()
		}
	} else {
		b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one()
			}
		})
	}
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	s := rec.Summary()
	b.ReportMetric(float64(s.Count)/b.Elapsed().Seconds(), "reads/s")
	b.ReportMetric(bench.Milliseconds(s.P99), "p99-ms")
	// The process's CPU time per read (the clients' share included) does not depend on what
	// else the machine runs, as the figures above do.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
