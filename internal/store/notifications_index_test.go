package store

import (
	"context"
	"strings"
	"testing"
)

// testNotificationsRecipientIndex: migration 00020 indexes the outbox by recipient, so that
// a candidate's notification list does not scan the whole outbox (on SQLite the plan of the
// owner's list query uses the index), and makes NIPs unique among claimed accounts only; it
// can be rolled back (with unconfirmed candidates sharing a NIP) and applied again.
func testNotificationsRecipientIndex(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	hasIndex := func() bool {
		t.Helper()
		if s.dialect == Postgres {
			return count(t, s, "pg_indexes", "schemaname = current_schema() AND tablename = ? AND indexname = ?",
				"notifications", "notifications_recipient") == 1
		}
		return count(t, s, "sqlite_master", "type = 'index' AND tbl_name = ? AND name = ?",
			"notifications", "notifications_recipient") == 1
	}
	if !hasIndex() {
		t.Fatal("no index notifications_recipient after migrating")
	}
	if s.dialect != Postgres {
		var plan []struct {
			ID, Parent, Notused int
			Detail              string
		}
		if err := s.db.WithContext(ctx).Raw("EXPLAIN QUERY PLAN SELECT * FROM notifications WHERE recipient = ? "+
			"ORDER BY created_at, id LIMIT 20", "act-1").Scan(&plan).Error; err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, p := range plan {
			details = append(details, p.Detail)
		}
		d := strings.Join(details, "; ")
		if !strings.Contains(d, "notifications_recipient") || strings.Contains(d, "TEMP B-TREE") {
			t.Fatalf("plan of a recipient's notifications: %s", d)
		}
	}
	// Two unconfirmed candidates with one NIP (allowed since 00020) do not stop the way down,
	// which clears their NIPs.
	for _, id := range []string{"acc_a", "acc_b"} {
		if _, err := s.CreateAccount(ctx, AccountRecord{ID: id, Issuer: "seleksi-local", Subject: "akun-" + id, Role: "candidate",
			NIP: "198001012005011001", Email: id + "@example.go.id", CreatedAt: t0}, nil); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.migrationProvider(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 19); err != nil {
		t.Fatalf("down: %v", err)
	}
	if hasIndex() {
		t.Fatal("index notifications_recipient still there after migrating down")
	}
	if n := count(t, s, "accounts", "nip <> ''"); n != 0 {
		t.Fatalf("%d accounts kept a shared unconfirmed NIP after migrating down", n)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if !hasIndex() {
		t.Fatal("no index notifications_recipient after migrating up again")
	}
}
