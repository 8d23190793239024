package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestLeasesSQLite(t *testing.T) {
	t.Parallel()
	testLeases(t, sqliteFactory)
}

func TestLeasesPostgres(t *testing.T) {
	t.Parallel()
	testLeases(t, postgresFactory(t))
}

func testLeases(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	const name = "history-archiver"
	ttl := time.Minute

	if _, err := s.GetLease(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a lease never taken: %v, want ErrNotFound", err)
	}
	// The first holder creates it with token 1.
	a, held, err := s.AcquireLease(ctx, name, "a", t0, ttl)
	if err != nil || !held || a.Holder != "a" || a.Token != 1 || !a.ExpiresAt.Equal(t0.Add(ttl)) || !a.AcquiredAt.Equal(t0) {
		t.Fatalf("first acquire: %+v, %v, %v", a, held, err)
	}
	steps := []struct {
		name       string
		holder     string
		at         time.Time
		wantHeld   bool
		wantHolder string
		wantToken  int64
		wantUntil  time.Time
	}{
		{"another holder while a holds it", "b", t0.Add(30 * time.Second), false, "a", 1, t0.Add(ttl)},
		{"a renews: same token, later expiry", "a", t0.Add(40 * time.Second), true, "a", 1, t0.Add(40*time.Second + ttl)},
		{"b just before a's expiry", "b", t0.Add(40*time.Second + ttl - time.Microsecond), false, "a", 1, t0.Add(40*time.Second + ttl)},
		{"b once it has expired: a new token", "b", t0.Add(40*time.Second + ttl), true, "b", 2, t0.Add(40*time.Second + 2*ttl)},
		{"a, whose lease b took, cannot renew", "a", t0.Add(50*time.Second + ttl), false, "b", 2, t0.Add(40*time.Second + 2*ttl)},
	}
	for _, st := range steps {
		l, held, err := s.AcquireLease(ctx, name, st.holder, st.at, ttl)
		if err != nil || held != st.wantHeld || l.Holder != st.wantHolder || l.Token != st.wantToken || !l.ExpiresAt.Equal(st.wantUntil) {
			t.Fatalf("%s: %+v held %v (%v); want holder %s token %d until %s held %v", st.name, l, held, err,
				st.wantHolder, st.wantToken, st.wantUntil, st.wantHeld)
		}
	}
	// Releasing another's lease changes nothing; the holder's own frees it at once.
	now := t0.Add(2 * ttl)
	if err := s.ReleaseLease(ctx, name, "a", now); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.GetLease(ctx, name); l.Holder != "b" {
		t.Fatalf("released by a non-holder: %+v", l)
	}
	if err := s.ReleaseLease(ctx, name, "b", now); err != nil {
		t.Fatal(err)
	}
	if l, err := s.GetLease(ctx, name); err != nil || l.Holder != "" || !l.ExpiresAt.IsZero() {
		t.Fatalf("after release: %+v, %v", l, err)
	}
	c, held, err := s.AcquireLease(ctx, name, "c", now, ttl)
	if err != nil || !held || c.Token != 3 {
		t.Fatalf("acquire after release: %+v, %v, %v; want token 3", c, held, err)
	}
	if _, _, err := s.AcquireLease(ctx, "", "c", now, ttl); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no name: %v", err)
	}

	// The watermark moves only forward, and only under the lease.
	const wmName = "SelectionWorkflow"
	if w, err := s.GetArchiveWatermark(ctx, wmName); err != nil || !w.CloseTime.IsZero() || !w.PassAt.IsZero() {
		t.Fatalf("watermark before any pass: %+v, %v", w, err)
	}
	close1 := t0.Add(time.Hour + 123456789*time.Nanosecond)
	if err := s.AdvanceArchiveWatermark(ctx, wmName, c, ArchiveWatermark{CloseTime: close1, FullScanAt: now, PassAt: now}, now); err != nil {
		t.Fatal(err)
	}
	w, err := s.GetArchiveWatermark(ctx, wmName)
	if err != nil || !w.CloseTime.Equal(close1.Truncate(time.Microsecond)) || !w.FullScanAt.Equal(now) || !w.PassAt.Equal(now) {
		t.Fatalf("watermark after a full pass: %+v, %v", w, err)
	}
	later := now.Add(time.Second)
	if err := s.AdvanceArchiveWatermark(ctx, wmName, c, ArchiveWatermark{CloseTime: t0, PassAt: later}, later); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.GetArchiveWatermark(ctx, wmName); !w.CloseTime.Equal(close1.Truncate(time.Microsecond)) || !w.FullScanAt.Equal(now) || !w.PassAt.Equal(later) {
		t.Fatalf("an earlier close time moved the watermark back: %+v", w)
	}
	for _, tc := range []struct {
		name  string
		lease Lease
		at    time.Time
	}{
		{"an earlier token", Lease{Name: name, Holder: "c", Token: 2}, later},
		{"another holder", Lease{Name: name, Holder: "b", Token: 3}, later},
		{"an expired lease", c, c.ExpiresAt},
		{"a lease never taken", Lease{Name: "other", Holder: "c", Token: 1}, later},
	} {
		err := s.AdvanceArchiveWatermark(ctx, wmName, tc.lease, ArchiveWatermark{CloseTime: later, PassAt: later}, tc.at)
		if !errors.Is(err, ErrLeaseLost) {
			t.Errorf("%s: %v, want ErrLeaseLost", tc.name, err)
		}
	}
	if w, _ := s.GetArchiveWatermark(ctx, wmName); !w.CloseTime.Equal(close1.Truncate(time.Microsecond)) {
		t.Fatalf("a lost lease moved the watermark: %+v", w)
	}
}

// TestLeaseContention lets many holders contend for a free lease at once: exactly one wins.
func TestLeaseContention(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t testing.TB) factory{
		"sqlite":   func(testing.TB) factory { return sqliteFactory },
		"postgres": postgresFactory,
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)(t, true)
			for round := range 3 {
				at := t0.Add(time.Duration(round) * time.Hour)
				var (
					wg   sync.WaitGroup
					mu   sync.Mutex
					wins []string
				)
				for i := range 8 {
					wg.Go(func() {
						holder := string(rune('a'+round)) + string(rune('0'+i))
						_, held, err := s.AcquireLease(context.Background(), "contended", holder, at, time.Minute)
						if err != nil {
							t.Error(err)
						}
						if held {
							mu.Lock()
							wins = append(wins, holder)
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				if len(wins) != 1 {
					t.Fatalf("round %d: %d holders won the lease: %v", round, len(wins), wins)
				}
				if l, err := s.GetLease(context.Background(), "contended"); err != nil || l.Holder != wins[0] || l.Token != int64(round+1) {
					t.Fatalf("round %d: lease %+v (%v), winner %s", round, l, err, wins[0])
				}
			}
		})
	}
}
