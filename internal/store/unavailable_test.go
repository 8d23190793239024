package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/faultproxy"
)

// A database that cannot serve is a different failure from one that refuses the request: the
// API answers the first with 503 "try again later". Found: a database outage answered 500
// "internal error". These tests stage real outages (a proxy in front of PostgreSQL that is
// cut and restored, a closed store, a SQLite write lock held elsewhere) and never touch the
// shared PostgreSQL server itself.

func TestUnavailablePostgresOutage(t *testing.T) {
	t.Parallel()
	admin, raw := postgresAdmin(t)
	direct := freshSchema(t, admin, raw)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.Start(t, u.Host)
	u.Host = proxy.Addr()
	ctx := context.Background()
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	newSelection(t, s, "sel-outage")

	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"ping", s.Ping},
		{"get", func(ctx context.Context) error { _, err := s.GetSelection(ctx, "sel-outage"); return err }},
		{"list", func(ctx context.Context) error { _, err := s.ListSelections(ctx, ListOptions{}); return err }},
		{"transaction", func(ctx context.Context) error {
			_, err := s.CreateSelection(ctx, NewSelection{ID: "sel-second", RequestID: "req-second", WorkflowID: workflowPrefix + "sel-second",
				PositionTitle: "Kepala Dinas", Agency: "Pemkot", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
				Actor: Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0})
			return err
		}},
	}
	deadlineOrUnavailable := func(err error) bool { return IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded) }
	outages := []struct {
		name string
		down func()
		want func(error) bool
	}{
		// Refused and reset connections end the call at once, as unavailable.
		{"cut", proxy.Cut, IsUnavailable},
		// A link that swallows everything ends the call at the caller's deadline: a new
		// connection times out connecting (unavailable), a pooled one waits for its answer
		// until the deadline (the API tells that apart with its readiness checker).
		{"stall", proxy.Stall, deadlineOrUnavailable},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			o.down()
			for _, c := range calls {
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := c.call(cctx)
				cancel()
				if !o.want(err) {
					t.Errorf("%s during the outage: %v, want an unavailable error", c.name, err)
				}
				if IsInvalidData(err) || errors.Is(err, ErrNotFound) {
					t.Errorf("%s during the outage is classed as the caller's fault: %v", c.name, err)
				}
			}
			if err := proxy.Restore(); err != nil {
				t.Fatal(err)
			}
			// Back up: the pool replaces its broken connections and the same calls work.
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("ping after restore: %v", err)
			}
			if _, err := s.GetSelection(ctx, "sel-outage"); err != nil {
				t.Fatalf("get after restore: %v", err)
			}
		})
	}
}

func TestUnavailableClosedStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, s := range map[string]*Store{"sqlite": sqliteFactory(t, true), "postgres": postgresFactory(t)(t, true)} {
		newSelection(t, s, "sel-closed")
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSelection(ctx, "sel-closed"); !IsUnavailable(err) {
			t.Errorf("%s: get from a closed store: %v, want unavailable", name, err)
		}
		if err := s.Ping(ctx); !IsUnavailable(err) {
			t.Errorf("%s: ping a closed store: %v, want unavailable", name, err)
		}
	}
}

// TestUnavailableSQLiteLocked: a write that cannot get SQLite's lock (held by another
// process) is unavailable, not internal.
func TestUnavailableSQLiteLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "locked.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE x (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = holder.ExecContext(ctx, `ROLLBACK`) }()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `INSERT INTO x VALUES (1)`); !IsUnavailable(err) {
		t.Errorf("write while another holds the lock: %v, want unavailable", err)
	}
}

// TestUnavailableIsNotEveryError: the caller's own deadline, a missing row and refused data
// are not outages.
func TestUnavailableIsNotEveryError(t *testing.T) {
	t.Parallel()
	s := sqliteFactory(t, true)
	ctx := context.Background()
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, notFound := s.GetSelection(ctx, "none")
	_, deadline := s.GetSelection(expired, "none")
	_, option := s.ListSelections(ctx, ListOptions{PageToken: "%%%"})
	for name, err := range map[string]error{"not found": notFound, "deadline": deadline, "page token": option,
		"invalid data": ErrInvalidData, "nil": nil} {
		if IsUnavailable(err) {
			t.Errorf("%s (%v) is classed unavailable", name, err)
		}
	}
	if deadline == nil || notFound == nil || option == nil {
		t.Fatalf("setup: errors %v, %v, %v", notFound, deadline, option)
	}
}
