package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The notification outbox. Commands queue notifications in the transaction that makes the
// change (enqueueNotifications); dispatchers (internal/notify) claim the rows that are due,
// send them and record each attempt here. A row is PENDING until it is SENT, or DEAD when its
// attempts have run out; the secretariat lists dead rows and retries them.
//
// Claims are leases: a claimed row carries its dispatcher's owner ID and a lease end, and
// no other dispatcher takes it before the lease ends. On PostgreSQL the claiming query locks
// the rows it picks with FOR UPDATE SKIP LOCKED, so concurrent claimers pass over each
// other's rows instead of waiting for them or taking them twice; SQLite has one writer and
// its transactions begin IMMEDIATE (see sqliteDSN), so a claim runs alone. A dispatcher that
// dies leaves leases that simply run out, and its rows are claimed again.

// Notification states, the API's enum names.
const (
	NotificationPending = "NOTIFICATION_STATE_PENDING"
	NotificationSent    = "NOTIFICATION_STATE_SENT"
	NotificationDead    = "NOTIFICATION_STATE_DEAD"
)

// maxErrorLen bounds the stored delivery error.
const maxErrorLen = 500

// Claim asks for the notifications that are due.
type Claim struct {
	// Owner identifies the claiming dispatcher; it must be unique among running dispatchers.
	Owner string
	// Limit is the most rows to claim (capped at MaxPageSize).
	Limit int
	// MaxAttempts: a row with this many failed attempts is not sent again.
	MaxAttempts int
	// Now is the claimer's clock; Lease is how long the rows are reserved from then.
	Now   time.Time
	Lease time.Duration
}

// Claimed is what one claim found.
type Claimed struct {
	// Due are the rows now leased to the claimer, oldest first.
	Due []Notification
	// Exhausted are pending rows found with MaxAttempts or more failed attempts (the maximum
	// was lowered since they failed); the claim moved them to the dead letters, and the
	// claimer reports each once.
	Exhausted []Notification
}

// dueOrder takes due rows in the order they fell due: a new row at its creation, a failed
// one at its next attempt time. Ordering by creation alone let rows that kept failing, and
// came due again before a round ended, take every batch ahead of rows never tried. The
// expression is the one the notifications_due index holds.
const dueOrder = "state, COALESCE(next_attempt_at, created_at), id"

// dueRows restricts q to pending rows whose attempts are below max, whose next attempt time
// has passed and that no live lease holds.
func dueRows(q *gorm.DB, maxAttempts int, now time.Time) *gorm.DB {
	return q.Where("state = ? AND attempts < ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?) AND (lease_until IS NULL OR lease_until <= ?)",
		NotificationPending, maxAttempts, now, now)
}

// ClaimNotifications leases up to c.Limit due notifications to c.Owner until c.Now+c.Lease
// and returns them. Only rows that are pending, below the maximum of attempts, due (their
// next attempt time has passed) and not leased by a live claim are taken, so rows that keep
// failing wait their turn and never hold up the rest.
func (s *Store) ClaimNotifications(ctx context.Context, c Claim) (Claimed, error) {
	const op = "store: claim notifications"
	if c.Owner == "" || c.MaxAttempts <= 0 || c.Lease <= 0 || c.Now.IsZero() {
		return Claimed{}, fmt.Errorf("%s: owner, maximum of attempts, lease and time are required: %w", op, ErrInvalidArgument)
	}
	limit := c.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	now := instant(c.Now)
	until := now.Add(c.Lease)
	// Most rounds find nothing to do. A plain read says so without the transaction below,
	// which on SQLite holds the database's one write lock from its start and would keep the
	// dispatchers' own writes waiting while they poll.
	var found []string
	if err := s.db.WithContext(ctx).Model(&notificationRow{}).
		Where("state = ? AND (lease_until IS NULL OR lease_until <= ?) AND (attempts >= ? OR next_attempt_at IS NULL OR next_attempt_at <= ?)",
			NotificationPending, now, c.MaxAttempts, now).
		Limit(1).Pluck("id", &found).Error; err != nil {
		return Claimed{}, fmt.Errorf("%s: %w", op, err)
	}
	if len(found) == 0 {
		return Claimed{}, nil
	}
	var out Claimed
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		out = Claimed{}
		lock := func(q *gorm.DB) *gorm.DB {
			if s.dialect == Postgres {
				return q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
			}
			return q
		}
		var exhausted []notificationRow
		if err := lock(tx.Model(&notificationRow{})).
			Where("state = ? AND attempts >= ? AND (lease_until IS NULL OR lease_until <= ?)", NotificationPending, c.MaxAttempts, now).
			Order("created_at, id").Limit(limit).Find(&exhausted).Error; err != nil {
			return fmt.Errorf("find exhausted: %w", err)
		}
		if len(exhausted) > 0 {
			if err := tx.Model(&notificationRow{}).Where("id IN ?", rowIDs(exhausted)).
				UpdateColumns(map[string]any{"state": NotificationDead, "dead_at": now, "lease_owner": "", "lease_until": nil}).Error; err != nil {
				return fmt.Errorf("move exhausted to dead letters: %w", err)
			}
		}
		var due []notificationRow
		if err := lock(dueRows(tx.Model(&notificationRow{}), c.MaxAttempts, now)).
			Order(dueOrder).Limit(limit).Find(&due).Error; err != nil {
			return fmt.Errorf("find due: %w", err)
		}
		if len(due) > 0 {
			if err := tx.Model(&notificationRow{}).Where("id IN ?", rowIDs(due)).
				UpdateColumns(map[string]any{"lease_owner": c.Owner, "lease_until": until}).Error; err != nil {
				return fmt.Errorf("lease: %w", err)
			}
		}
		for i := range exhausted {
			exhausted[i].State, exhausted[i].DeadAt = NotificationDead, &now
			n, err := exhausted[i].notification()
			if err != nil {
				return err
			}
			out.Exhausted = append(out.Exhausted, n)
		}
		for i := range due {
			n, err := due[i].notification()
			if err != nil {
				return err
			}
			out.Due = append(out.Due, n)
		}
		return nil
	})
	if err != nil {
		return Claimed{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

func rowIDs(rows []notificationRow) []string {
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	return ids
}

// Delivery is the outcome of one attempt to send a claimed notification.
type Delivery struct {
	ID    string
	Owner string
	At    time.Time
	// Error is empty when the notification was sent; otherwise what went wrong, for
	// operators (the caller keeps personal data out of it).
	Error string
	// Retry is when to try again after a failure; ignored when Dead.
	Retry time.Time
	// Dead moves a failed notification to the dead letters: no attempts are left, or the
	// failure is one that no retry can mend.
	Dead bool
}

// ErrLeaseLost: the claim on a notification ended (its lease ran out and another dispatcher
// took it) before its outcome was recorded; the other dispatcher's outcome counts.
var ErrLeaseLost = fmt.Errorf("lease lost: %w", ErrConflict)

// RecordDelivery records one attempt. A sent notification is recorded as sent even when its
// claim has run out: it was delivered, and the record keeps it from being sent yet again. A
// failure is recorded only under the claim that made the attempt (ErrLeaseLost otherwise).
func (s *Store) RecordDelivery(ctx context.Context, d Delivery) error {
	op := fmt.Sprintf("store: record delivery of notification %q", d.ID)
	at := instant(d.At)
	set := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_attempt_at": at, "lease_owner": "", "lease_until": nil}
	q := s.db.WithContext(ctx).Model(&notificationRow{}).Where("id = ? AND state = ?", d.ID, NotificationPending)
	switch {
	case d.Error == "":
		set["state"], set["sent_at"], set["last_error"], set["next_attempt_at"] = NotificationSent, at, "", nil
	default:
		msg := d.Error
		if len(msg) > maxErrorLen {
			msg = strings.ToValidUTF8(msg[:maxErrorLen], "")
		}
		set["last_error"] = msg
		if d.Dead {
			set["state"], set["dead_at"], set["next_attempt_at"] = NotificationDead, at, nil
		} else {
			set["next_attempt_at"] = instant(d.Retry)
		}
		q = q.Where("lease_owner = ?", d.Owner)
	}
	// Each of these single statements is retried when SQLite reports contention (busy or a
	// stale snapshot, which its busy timeout does not cover); an update that failed so did
	// not apply.
	var res *gorm.DB
	if err := retry(ctx, func() error { res = q.Session(&gorm.Session{}).UpdateColumns(set); return res.Error }); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if res.RowsAffected == 0 {
		var row notificationRow
		if err := s.db.WithContext(ctx).Select("id").Take(&row, "id = ?", d.ID).Error; err != nil {
			return fmt.Errorf("%s: %w", op, notFound(err))
		}
		return fmt.Errorf("%s: %w", op, ErrLeaseLost)
	}
	return nil
}

// RenewNotificationLeases extends owner's claim on the given notifications (those it has
// not recorded yet) to until, and reports how many it still held.
func (s *Store) RenewNotificationLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := retry(ctx, func() error {
		res := s.db.WithContext(ctx).Model(&notificationRow{}).
			Where("id IN ? AND lease_owner = ? AND state = ?", ids, owner, NotificationPending).
			UpdateColumn("lease_until", instant(until))
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: renew notification leases: %w", err)
	}
	return int(n), nil
}

// ReleaseNotifications gives up owner's claim on notifications it did not attempt (it is
// stopping), so that any dispatcher may take them at once; no attempt is counted.
func (s *Store) ReleaseNotifications(ctx context.Context, owner string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := retry(ctx, func() error {
		return s.db.WithContext(ctx).Model(&notificationRow{}).
			Where("id IN ? AND lease_owner = ? AND state = ?", ids, owner, NotificationPending).
			UpdateColumns(map[string]any{"lease_owner": "", "lease_until": nil}).Error
	})
	if err != nil {
		return fmt.Errorf("store: release notifications: %w", err)
	}
	return nil
}

// ExpediteNotifications makes every pending notification that waits for its next attempt
// due at once, and reports how many there were: when delivery works again after an outage,
// the notifications that failed during it need not each wait out its backoff (up to the
// maximum pause) before going out.
func (s *Store) ExpediteNotifications(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := retry(ctx, func() error {
		res := s.db.WithContext(ctx).Model(&notificationRow{}).
			Where("state = ? AND next_attempt_at > ?", NotificationPending, instant(now)).
			UpdateColumn("next_attempt_at", nil)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: expedite notifications: %w", err)
	}
	return int(n), nil
}

// PendingNotifications returns up to limit notifications still to be delivered (pending,
// due or not), oldest first.
func (s *Store) PendingNotifications(ctx context.Context, limit int) ([]Notification, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	var rows []notificationRow
	if err := s.db.WithContext(ctx).Where("state = ?", NotificationPending).Order("created_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: pending notifications: %w", err)
	}
	return notifications(rows)
}

func notifications(rows []notificationRow) ([]Notification, error) {
	out := make([]Notification, len(rows))
	for i := range rows {
		n, err := rows[i].notification()
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func (r *notificationRow) notification() (Notification, error) {
	n := Notification{ID: r.ID, SelectionID: r.SelectionID, Recipient: r.Recipient, ApplicationID: r.ApplicationID,
		Email: r.Email, Channel: r.Channel, Address: r.Address, Kind: r.Kind, Text: Text{Code: r.Code, EN: r.TextEN, ID: r.TextID}, CreateTime: r.CreatedAt.UTC(),
		State: r.State, Attempts: r.Attempts, LastError: r.LastError, LastAttemptTime: fromNull(r.LastAttemptAt),
		NextAttemptTime: fromNull(r.NextAttemptAt), SendTime: fromNull(r.SentAt), DeadTime: fromNull(r.DeadAt)}
	m, err := decodeText(r.Message)
	if err != nil {
		return Notification{}, fmt.Errorf("notification %s: %w", r.ID, err)
	}
	if m != nil {
		n.Text = *m
	}
	return n, nil
}

// hideCode masks the one-time code in an account's notice. The code is a secret of the
// account's owner: the dispatcher reads it (claims) to send it, but the notifications that
// the API lists and retries show the secretariat that a code was sent, never the code.
func hideCode(n Notification) Notification {
	if n.Kind != AccountKind || n.Text.Params["code"] == "" {
		return n
	}
	params := make(map[string]string, len(n.Text.Params))
	for k, v := range n.Text.Params {
		params[k] = v
	}
	params["code"] = "******"
	n.Text.Params = params
	return n
}

// GetNotification returns one notification (an account's code masked, see hideCode).
func (s *Store) GetNotification(ctx context.Context, id string) (Notification, error) {
	var row notificationRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return Notification{}, fmt.Errorf("store: get notification %q: %w", id, notFound(err))
	}
	n, err := row.notification()
	if err != nil {
		return Notification{}, fmt.Errorf("store: get notification %q: %w", id, err)
	}
	return hideCode(n), nil
}

// ListNotifications lists notifications (accounts' codes masked, see hideCode), oldest
// first unless ordered otherwise. Filters:
// `state` (PENDING, SENT, DEAD, with or without the NOTIFICATION_STATE_ prefix) and
// `selection` (an ID or `selections/{id}`). opts.Owner keeps the notifications sent to one
// actor ID: a candidate's own.
func (s *Store) ListNotifications(ctx context.Context, opts ListOptions) (Page[Notification], error) {
	const op = "store: list notifications"
	q, err := s.newListQuery("notifications/"+opts.Owner, opts, notificationFields, notificationOrders, "create_time")
	if err != nil {
		return Page[Notification]{}, fmt.Errorf("%s: %w", op, err)
	}
	base := s.db.WithContext(ctx).Model(&notificationRow{})
	if opts.Owner != "" {
		// A person's own list is the in-app channel: their e-mail and in-app rows, not the
		// webhook copies of the same messages.
		base = base.Where("recipient = ? AND channel <> ?", opts.Owner, ChannelWebhook)
	}
	rows, next, total, err := runList(s, q, base, func(r *notificationRow) []any {
		return []any{r.CreatedAt, r.ID}
	})
	if err != nil {
		return Page[Notification]{}, fmt.Errorf("%s: %w", op, err)
	}
	items, err := notifications(rows)
	if err != nil {
		return Page[Notification]{}, fmt.Errorf("%s: %w", op, err)
	}
	for i := range items {
		items[i] = hideCode(items[i])
	}
	return Page[Notification]{Items: items, NextPageToken: next, TotalSize: total}, nil
}

func notificationFields(name string) (fieldSpec, bool) {
	switch name {
	case "state":
		return fieldSpec{"state", enumValue("NOTIFICATION_STATE_", func(v string) bool {
			return v == NotificationPending || v == NotificationSent || v == NotificationDead
		})}, true
	case "selection":
		return fieldSpec{"selection_id", func(v string) (string, bool) {
			v = strings.TrimPrefix(v, "selections/")
			return v, v != "" && !strings.Contains(v, "/")
		}}, true
	}
	return fieldSpec{}, false
}

func notificationOrders(name string) (orderSpec, bool) {
	field, desc := orderField(name)
	if field == "create_time" {
		return orderSpec{columns: []string{"created_at", "id"}, kinds: []keyKind{keyTime, keyString}, desc: desc}, true
	}
	return orderSpec{}, false
}

// RetryNotification makes a dead or pending notification due at once with a fresh set of
// attempts: the secretariat's answer once the cause of its failures is fixed. Its last error
// stays for reference. A notification already sent is ErrFailedPrecondition: sending it
// again would tell the candidate twice.
func (s *Store) RetryNotification(ctx context.Context, id string) (Notification, error) {
	op := fmt.Sprintf("store: retry notification %q", id)
	var out Notification
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var row notificationRow
		if err := tx.Take(&row, "id = ?", id).Error; err != nil {
			return notFound(err)
		}
		if row.State == NotificationSent {
			return fmt.Errorf("already sent: %w", ErrFailedPrecondition)
		}
		set := map[string]any{"state": NotificationPending, "attempts": 0, "next_attempt_at": nil, "dead_at": nil}
		if err := tx.Model(&notificationRow{}).Where("id = ? AND state <> ?", id, NotificationSent).UpdateColumns(set).Error; err != nil {
			return err
		}
		row.State, row.Attempts, row.NextAttemptAt, row.DeadAt = NotificationPending, 0, nil, nil
		var err error
		out, err = row.notification()
		out = hideCode(out)
		return err
	})
	if err != nil {
		return Notification{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
