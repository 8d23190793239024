package store

import (
	"context"
	"testing"
	"time"
)

// TestSessions: a committed session is found with its data until its expiry, replaced by a
// later commit, gone after delete, and swept once expired; the row is keyed by a digest, so
// the cookie's token never sits in the table.
func testSessions(t *testing.T, open factory) {
	st := open(t, true)
	{
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		ss := st.Sessions(func() time.Time { return now })
		if err := ss.CommitCtx(ctx, "tok-a", []byte("one"), now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := ss.CommitCtx(ctx, "tok-a", []byte("two"), now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := ss.CommitCtx(ctx, "tok-b", []byte("b"), now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if b, ok, err := ss.FindCtx(ctx, "tok-a"); err != nil || !ok || string(b) != "two" {
			t.Fatalf("find tok-a = %q %v %v, want two", b, ok, err)
		}
		if _, ok, err := ss.FindCtx(ctx, "tok-unknown"); err != nil || ok {
			t.Fatalf("find unknown = %v %v", ok, err)
		}
		var n int64
		if err := st.db.Table("web_sessions").Where("token = ?", "tok-a").Count(&n).Error; err != nil || n != 0 {
			t.Errorf("the token itself is stored (%d rows, %v)", n, err)
		}
		now = now.Add(30 * time.Minute)
		if _, ok, _ := ss.FindCtx(ctx, "tok-b"); ok {
			t.Error("an expired session was found")
		}
		if n, err := ss.DeleteExpired(ctx); err != nil || n != 1 {
			t.Errorf("swept %d %v, want 1", n, err)
		}
		if err := ss.DeleteCtx(ctx, "tok-a"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := ss.FindCtx(ctx, "tok-a"); ok {
			t.Error("a deleted session was found")
		}
	}
}
