package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// queueNotifications writes n pending notifications for selection sel, created a second
// apart from at, with IDs prefix-000, prefix-001...
func queueNotifications(t testing.TB, s *Store, sel, prefix string, n int, at time.Time) []string {
	t.Helper()
	rows := make([]notificationRow, n)
	ids := make([]string, n)
	for i := range rows {
		ids[i] = fmt.Sprintf("%s-%03d", prefix, i)
		rows[i] = notificationRow{ID: ids[i], SelectionID: sel, Recipient: "cand-" + itoa(i), ApplicationID: "app-" + itoa(i),
			Kind: "AdvanceSelection", TextEN: "Your status changed.", TextID: "Status Anda berubah.", CreatedAt: at.Add(time.Duration(i) * time.Second)}
	}
	if err := s.db.CreateInBatches(&rows, 200).Error; err != nil {
		t.Fatalf("queue notifications: %v", err)
	}
	return ids
}

func dueIDs(c Claimed) []string {
	var ids []string
	for _, n := range c.Due {
		ids = append(ids, n.ID)
	}
	return ids
}

// testOutboxDueSelection: a claim takes only rows that are pending, below the maximum of
// attempts, due and not leased; rows that keep failing go to the back and never hide the
// rows behind them (found: the oldest 100 rows, at their maximum of attempts, were selected
// and skipped forever, and nothing after them was ever sent).
func testOutboxDueSelection(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-due")
	ids := queueNotifications(t, s, "sel-due", "n", 8, t0)
	set := func(id string, cols map[string]any) {
		t.Helper()
		if err := s.db.Model(&notificationRow{}).Where("id = ?", id).UpdateColumns(cols).Error; err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(time.Hour)
	set(ids[0], map[string]any{"state": NotificationSent, "sent_at": t0})
	set(ids[1], map[string]any{"state": NotificationDead, "dead_at": t0, "attempts": 3})
	set(ids[2], map[string]any{"next_attempt_at": now.Add(time.Second), "attempts": 1})                   // not due yet
	set(ids[3], map[string]any{"next_attempt_at": now, "attempts": 2})                                    // due now
	set(ids[4], map[string]any{"lease_owner": "other", "lease_until": now.Add(time.Minute)})              // leased
	set(ids[5], map[string]any{"lease_owner": "crashed", "lease_until": now.Add(-time.Second)})           // lease ran out
	set(ids[6], map[string]any{"attempts": 4, "next_attempt_at": now.Add(-time.Hour), "last_error": "x"}) // exhausted (max 4)
	got, err := s.ClaimNotifications(ctx, Claim{Owner: "me", Limit: 10, MaxAttempts: 4, Now: now, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// In the order they fell due: 5 and 7 when queued, 3 at its retry time, an hour later.
	if want := []string{ids[5], ids[7], ids[3]}; !slices.Equal(dueIDs(got), want) {
		t.Errorf("claimed %v, want %v (in the order they fell due)", dueIDs(got), want)
	}
	if len(got.Exhausted) != 1 || got.Exhausted[0].ID != ids[6] || got.Exhausted[0].State != NotificationDead {
		t.Errorf("exhausted = %+v, want %s moved to the dead letters", got.Exhausted, ids[6])
	}
	if n, _ := s.GetNotification(ctx, ids[6]); n.State != NotificationDead || !n.DeadTime.Equal(now) || n.LastError != "x" {
		t.Errorf("exhausted row = %+v", n)
	}
	// The same claim again finds nothing: what it took is leased.
	if again, err := s.ClaimNotifications(ctx, Claim{Owner: "me-too", Limit: 10, MaxAttempts: 4, Now: now, Lease: time.Minute}); err != nil || len(again.Due)+len(again.Exhausted) != 0 {
		t.Errorf("second claim = %+v, %v; want nothing", again, err)
	}

	// The jam: 150 rows, the oldest 100 failing at every attempt. Each failure puts its row
	// back by its backoff, so the next batch holds the 50 others; and when the failed rows
	// are due again before those 50 were tried, the 50 still go first.
	s2 := open(t, true)
	newSelection(t, s2, "sel-jam")
	ids = queueNotifications(t, s2, "sel-jam", "j", 150, t0)
	claim := Claim{Owner: "d", Limit: 100, MaxAttempts: 10, Now: now, Lease: time.Minute}
	first, err := s2.ClaimNotifications(ctx, claim)
	if err != nil || !slices.Equal(dueIDs(first), ids[:100]) {
		t.Fatalf("first batch = %d rows, %v", len(first.Due), err)
	}
	for _, id := range ids[:100] {
		if err := s2.RecordDelivery(ctx, Delivery{ID: id, Owner: "d", At: now, Error: "421 relay down", Retry: now.Add(10 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	claim.Now = now.Add(time.Minute)
	second, err := s2.ClaimNotifications(ctx, claim)
	if want := append(slices.Clone(ids[100:]), ids[:50]...); err != nil || !slices.Equal(dueIDs(second), want) {
		t.Fatalf("second batch = %v, %v; want the 50 rows behind the failing ones first", dueIDs(second), err)
	}
	// Delivery works again: the 50 failing rows not claimed yet are due at once, not after
	// their backoff.
	for _, id := range ids[:50] {
		if err := s2.RecordDelivery(ctx, Delivery{ID: id, Owner: "d", At: claim.Now, Error: "421", Retry: claim.Now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s2.ExpediteNotifications(ctx, claim.Now); err != nil || n != 50 {
		t.Fatalf("expedite = %d, %v; want the 50 rows waiting for their retry", n, err)
	}
	claim.Owner = "d2"
	// The 50 expedited come first (due since they were queued), then the 50 others failing
	// since the first batch, due since their ten-second pause.
	if third, err := s2.ClaimNotifications(ctx, claim); err != nil || !slices.Equal(dueIDs(third), ids[:100]) {
		t.Fatalf("after expediting: %v, %v; want %v", dueIDs(third), err, ids[:100])
	}
}

// testOutboxConcurrentClaims: dispatchers claiming at the same time (each on its own
// connections) never get the same row, and together they get every row.
func testOutboxConcurrentClaims(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-cc")
	const rows, dispatchers = 400, 4
	queueNotifications(t, s, "sel-cc", "c", rows, t0)
	now := t0.Add(time.Hour)
	var mu sync.Mutex
	claims := map[string][]string{}
	errs := parallel(dispatchers, func(i int) error {
		owner := fmt.Sprintf("dispatcher-%d", i)
		for {
			got, err := s.ClaimNotifications(ctx, Claim{Owner: owner, Limit: 7, MaxAttempts: 5, Now: now, Lease: time.Hour})
			if err != nil {
				return err
			}
			if len(got.Due) == 0 {
				return nil
			}
			for _, n := range got.Due {
				mu.Lock()
				claims[n.ID] = append(claims[n.ID], owner)
				mu.Unlock()
				if err := s.RecordDelivery(ctx, Delivery{ID: n.ID, Owner: owner, At: now}); err != nil {
					return err
				}
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(claims) != rows {
		t.Errorf("%d rows claimed, want %d", len(claims), rows)
	}
	for id, owners := range claims {
		if len(owners) != 1 {
			t.Errorf("%s claimed by %v", id, owners)
		}
	}
	if n := count(t, s, "notifications", "state = ?", NotificationSent); n != rows {
		t.Errorf("%d sent, want %d", n, rows)
	}
}

// testOutboxLeases: a claim holds its rows until its lease runs out, renewals extend it, a
// release gives the rows up at once, and an outcome recorded after the lease passed to
// another dispatcher does not overwrite theirs, except that a delivery is always recorded.
func testOutboxLeases(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-lease")
	ids := queueNotifications(t, s, "sel-lease", "l", 3, t0)
	now := t0.Add(time.Hour)
	claim := func(owner string, at time.Time) []string {
		t.Helper()
		got, err := s.ClaimNotifications(ctx, Claim{Owner: owner, Limit: 10, MaxAttempts: 5, Now: at, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return dueIDs(got)
	}
	if got := claim("a", now); !slices.Equal(got, ids) {
		t.Fatalf("a claimed %v", got)
	}
	if got := claim("b", now.Add(59*time.Second)); len(got) != 0 {
		t.Fatalf("b claimed %v while a's lease holds", got)
	}
	// a renews two of them; the third's lease runs out and b takes it.
	if n, err := s.RenewNotificationLeases(ctx, "a", ids[:2], now.Add(2*time.Minute)); err != nil || n != 2 {
		t.Fatalf("renew = %d, %v", n, err)
	}
	if got := claim("b", now.Add(61*time.Second)); !slices.Equal(got, ids[2:]) {
		t.Fatalf("b claimed %v after a's lease ran out, want %v", got, ids[2:])
	}
	if n, _ := s.RenewNotificationLeases(ctx, "a", ids[2:], now.Add(3*time.Minute)); n != 0 {
		t.Errorf("a renewed a lease b holds")
	}
	// a's failure on the row b holds is not recorded; b's is.
	err := s.RecordDelivery(ctx, Delivery{ID: ids[2], Owner: "a", At: now.Add(62 * time.Second), Error: "timeout", Retry: now.Add(time.Hour)})
	if !errors.Is(err, ErrLeaseLost) || !errors.Is(err, ErrConflict) {
		t.Errorf("a's late failure: %v, want ErrLeaseLost", err)
	}
	if n, _ := s.GetNotification(ctx, ids[2]); n.Attempts != 0 {
		t.Errorf("a's late failure counted: %+v", n)
	}
	// A delivery is recorded whoever holds the lease: the message went out.
	if err := s.RecordDelivery(ctx, Delivery{ID: ids[2], Owner: "a", At: now.Add(63 * time.Second)}); err != nil {
		t.Errorf("a's late delivery: %v", err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: ids[2], Owner: "b", At: now.Add(64 * time.Second), Error: "x"}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("b's failure after the delivery: %v", err)
	}
	// a releases what it holds: anyone may take it at once.
	if err := s.ReleaseNotifications(ctx, "a", ids[:2]); err != nil {
		t.Fatal(err)
	}
	if got := claim("c", now.Add(65*time.Second)); !slices.Equal(got, ids[:2]) {
		t.Errorf("c claimed %v after a released, want %v", got, ids[:2])
	}
	if n, _ := s.GetNotification(ctx, ids[0]); n.Attempts != 0 {
		t.Errorf("a release counted an attempt: %+v", n)
	}
}

// testOutboxDeadLetters: a notification whose attempts ran out is dead: it is not claimed
// again, it is listed, and a retry makes it due at once with fresh attempts.
func testOutboxDeadLetters(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	newSelection(t, s, "sel-dead")
	newSelection(t, s, "sel-other")
	ids := queueNotifications(t, s, "sel-dead", "d", 3, t0)
	other := queueNotifications(t, s, "sel-other", "o", 1, t0.Add(time.Hour))
	now := t0.Add(2 * time.Hour)
	claim := Claim{Owner: "a", Limit: 10, MaxAttempts: 2, Now: now, Lease: time.Minute}
	if got, err := s.ClaimNotifications(ctx, claim); err != nil || len(got.Due) != 4 {
		t.Fatalf("claim = %+v, %v", got, err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: ids[0], Owner: "a", At: now, Error: "550 mailbox unavailable", Dead: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDelivery(ctx, Delivery{ID: ids[1], Owner: "a", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseNotifications(ctx, "a", []string{ids[2], other[0]}); err != nil {
		t.Fatal(err)
	}
	claim.Now = now.Add(time.Hour)
	if got, _ := s.ClaimNotifications(ctx, claim); slices.Contains(dueIDs(got), ids[0]) {
		t.Errorf("a dead notification was claimed")
	}

	list := func(filter string) []string {
		t.Helper()
		page, err := s.ListNotifications(ctx, ListOptions{Filter: filter})
		if err != nil {
			t.Fatalf("list %q: %v", filter, err)
		}
		var got []string
		for _, n := range page.Items {
			got = append(got, n.ID)
		}
		if page.TotalSize != int64(len(got)) {
			t.Errorf("list %q: total %d for %d items", filter, page.TotalSize, len(got))
		}
		return got
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{"state = DEAD", []string{ids[0]}},
		{"state = NOTIFICATION_STATE_SENT", []string{ids[1]}},
		{"state = PENDING", []string{ids[2], other[0]}},
		{`selection = "selections/sel-other"`, other},
		{"selection = sel-dead AND state = PENDING", []string{ids[2]}},
		{"", append(slices.Clone(ids), other...)},
	}
	for _, tt := range tests {
		if got := list(tt.filter); !slices.Equal(got, tt.want) {
			t.Errorf("list %q = %v, want %v", tt.filter, got, tt.want)
		}
	}
	var opt *OptionError
	if _, err := s.ListNotifications(ctx, ListOptions{Filter: "state = LOST"}); !errors.As(err, &opt) || opt.Field != FieldFilter {
		t.Errorf("unknown state: %v, want a filter OptionError", err)
	}
	dead, err := s.GetNotification(ctx, ids[0])
	if err != nil || dead.State != NotificationDead || dead.Attempts != 1 || !dead.DeadTime.Equal(now) || dead.LastError != "550 mailbox unavailable" {
		t.Fatalf("dead = %+v, %v", dead, err)
	}

	retried, err := s.RetryNotification(ctx, ids[0])
	if err != nil || retried.State != NotificationPending || retried.Attempts != 0 || !retried.DeadTime.IsZero() || retried.LastError == "" {
		t.Fatalf("retry = %+v, %v", retried, err)
	}
	claim.Owner, claim.Now = "b", now.Add(2*time.Hour)
	if got, _ := s.ClaimNotifications(ctx, claim); !slices.Contains(dueIDs(got), ids[0]) {
		t.Errorf("a retried notification is not due at once: %v", dueIDs(got))
	}
	if _, err := s.RetryNotification(ctx, ids[1]); !errors.Is(err, ErrFailedPrecondition) {
		t.Errorf("retry of a sent notification: %v, want ErrFailedPrecondition", err)
	}
	if _, err := s.RetryNotification(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("retry of a missing notification: %v, want ErrNotFound", err)
	}
}
