// Package notify owns telling people that something changed: it drains the store's
// notification outbox and hands each message to a sender (the log by default, SMTP when
// configured). The outbox is written in the same transaction as the change itself, so a
// notification is never lost to a crash between the two; delivery is at least once.
//
// The outbox never jams: a dispatcher claims only the notifications that are due, each
// failure puts its notification back by a growing, jittered pause, and one whose attempts
// run out becomes a dead letter, logged once, that the secretariat lists and retries through
// the API. Claims are leases in the store, so any number of dispatchers (one per worker) run
// side by side without sending a notification twice, and the claims of one that dies run
// out and are taken up by the others.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Outbox is the part of the store the dispatcher claims from and records into.
type Outbox interface {
	ClaimNotifications(ctx context.Context, c store.Claim) (store.Claimed, error)
	RecordDelivery(ctx context.Context, d store.Delivery) error
	RenewNotificationLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error)
	ReleaseNotifications(ctx context.Context, owner string, ids []string) error
	ExpediteNotifications(ctx context.Context, now time.Time) (int, error)
}

// Sender delivers one notification. An error wrapping ErrPermanent says that no retry can
// deliver it (the recipient does not exist), so it goes to the dead letters at once.
type Sender interface {
	Send(ctx context.Context, n store.Notification) error
}

// ErrPermanent marks a delivery failure that retrying cannot mend.
var ErrPermanent = errors.New("permanent failure")

// Options tune a dispatcher; zero fields take the defaults below.
type Options struct {
	// Interval is the pause between rounds when the last round found less than a full batch.
	Interval time.Duration
	// BatchSize is the most notifications claimed per round.
	BatchSize int
	// Concurrency is how many notifications of a batch are sent at once.
	Concurrency int
	// MaxAttempts: a notification that failed this many times becomes a dead letter.
	MaxAttempts int
	// BackoffInitial is the pause after the first failure; each further failure doubles
	// it, up to BackoffMax. The pause actually taken is drawn between half of it and all of
	// it, so that notifications that failed together do not all come back together.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// SendTimeout bounds one delivery.
	SendTimeout time.Duration
	// Lease is how long a claim reserves its notifications; the dispatcher renews it while it
	// works through a batch, so it only bounds how soon another dispatcher takes over the
	// claims of one that died. Default: three send timeouts, at least a minute.
	Lease time.Duration
	// Owner names this dispatcher in its claims; default a random ID.
	Owner string
	// Now and Jitter are the clock and the random draw (a duration in [d/2, d]); tests fix them.
	Now    func() time.Time
	Jitter func(d time.Duration) time.Duration
}

// Defaults of Options.
const (
	DefaultInterval       = 2 * time.Second
	DefaultBatchSize      = 100
	DefaultConcurrency    = 4
	DefaultMaxAttempts    = 20
	DefaultBackoffInitial = 10 * time.Second
	DefaultBackoffMax     = 30 * time.Minute
	DefaultSendTimeout    = 30 * time.Second
)

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = DefaultBackoffInitial
	}
	if o.BackoffMax < o.BackoffInitial {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffInitial)
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.Lease <= 0 {
		o.Lease = max(3*o.SendTimeout, time.Minute)
	}
	if o.Owner == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Owner = "dispatcher-" + hex.EncodeToString(b[:])
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = func(d time.Duration) time.Duration {
			if d <= 1 {
				return d
			}
			return d/2 + mrand.N(d-d/2+1)
		}
	}
	return o
}

// Dispatcher claims due notifications from the outbox and delivers them.
type Dispatcher struct {
	outbox  Outbox
	sender  Sender
	catalog *i18n.Catalog
	logger  *slog.Logger
	opts    Options
	// failing is set while rounds fail without sending anything, so that the recovery is
	// logged once when the first notification goes out again.
	failing atomic.Bool
}

// NewDispatcher delivers from outbox through sender. The outbox holds message codes; cat
// renders them, in Indonesian and English, when they are sent.
func NewDispatcher(outbox Outbox, sender Sender, cat *i18n.Catalog, logger *slog.Logger, opts Options) *Dispatcher {
	return &Dispatcher{outbox: outbox, sender: sender, catalog: cat, logger: logger, opts: opts.withDefaults()}
}

// Owner is the name this dispatcher claims notifications under.
func (d *Dispatcher) Owner() string { return d.opts.Owner }

// Backoff is the pause before the next attempt after the attempts-th failure, before
// jitter: BackoffInitial doubled per earlier failure, at most BackoffMax.
func (d *Dispatcher) Backoff(attempts int) time.Duration {
	b := d.opts.BackoffInitial
	for i := 1; i < attempts && b < d.opts.BackoffMax; i++ {
		b *= 2
	}
	return min(b, d.opts.BackoffMax)
}

// Render gives a notification its texts: a code the catalog knows is rendered now, in the
// wording of the day; a notification queued before codes keeps the texts it was queued with.
func Render(cat *i18n.Catalog, n store.Notification) store.Notification {
	t := n.Text
	if cat.Knows(t.Code, i18n.ID) {
		r := cat.Text(catalogMsg(t))
		n.Text = store.Text{Code: t.Code, ID: r.ID, EN: r.EN}
	}
	return n
}

func catalogMsg(t store.Text) i18n.Msg {
	m := i18n.Msg{Code: t.Code, Params: t.Params, EN: t.EN, ID: t.ID}
	if t.Detail != nil {
		d := catalogMsg(*t.Detail)
		m.Detail = &d
	}
	return m
}

// Run delivers until ctx ends. After a full batch with something sent it goes on at once,
// since more are likely waiting; otherwise it waits for the interval.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		r, err := d.DeliverOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger.WarnContext(ctx, "notification delivery round failed", "error", err)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil && r.Claimed == d.opts.BatchSize && r.Sent > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round is what one DeliverOnce did.
type Round struct {
	// Claimed notifications were due and taken; each was Sent, Failed (and will be tried
	// again), Dead (no attempts left), or Released untried (the dispatcher is stopping).
	Claimed, Sent, Failed, Dead, Released int
	// Exhausted counts notifications found past the maximum of attempts (it was lowered)
	// and moved to the dead letters without a try.
	Exhausted int
}

// DeliverOnce claims one batch of due notifications and delivers it, Concurrency at a time.
func (d *Dispatcher) DeliverOnce(ctx context.Context) (Round, error) {
	var r Round
	start := d.opts.Now()
	claimed, err := d.outbox.ClaimNotifications(ctx, store.Claim{Owner: d.opts.Owner, Limit: d.opts.BatchSize,
		MaxAttempts: d.opts.MaxAttempts, Now: start, Lease: d.opts.Lease})
	if err != nil {
		return r, fmt.Errorf("notify: claim: %w", err)
	}
	// Rows failed by older versions kept the relay's words as they came, addresses and all.
	for _, n := range claimed.Exhausted {
		d.logger.WarnContext(ctx, "notification moved to the dead letters: its attempts ran out",
			"notification", n.ID, "selection", n.SelectionID, "application", n.ApplicationID, "attempts", n.Attempts,
			"max_attempts", d.opts.MaxAttempts, "last_error", Redact(n.LastError))
	}
	r.Exhausted = len(claimed.Exhausted)
	r.Claimed = len(claimed.Due)
	if r.Claimed == 0 {
		return r, nil
	}

	b := newBatch(claimed.Due, start.Add(d.opts.Lease))
	renewed := d.keepLeases(ctx, b)
	var (
		mu       sync.Mutex
		errs     []error
		firstErr string
	)
	work := make(chan store.Notification)
	var wg sync.WaitGroup
	for range min(d.opts.Concurrency, r.Claimed) {
		wg.Go(func() {
			for n := range work {
				out, recErr := d.deliver(ctx, b, n)
				mu.Lock()
				switch out.kind {
				case outcomeSent:
					r.Sent++
				case outcomeFailed:
					r.Failed++
				case outcomeDead:
					r.Dead++
				case outcomeReleased:
					r.Released++
				}
				if out.err != "" && firstErr == "" {
					firstErr = out.err
				}
				if recErr != nil {
					errs = append(errs, recErr)
				}
				mu.Unlock()
			}
		})
	}
	for _, n := range claimed.Due {
		work <- n
	}
	close(work)
	wg.Wait()
	renewed()
	// Whatever was left untried is given up now, so another dispatcher need not wait for the
	// lease to run out.
	if left := b.unfinished(); len(left) > 0 {
		if err := d.outbox.ReleaseNotifications(context.WithoutCancel(ctx), d.opts.Owner, left); err != nil {
			errs = append(errs, fmt.Errorf("notify: release: %w", err))
		}
	}

	switch {
	case r.Failed > 0 && r.Sent == 0:
		if !d.failing.Swap(true) {
			d.logger.WarnContext(ctx, "notifications are not being delivered; each is retried with growing pauses",
				"failed", r.Failed, "error", firstErr)
		}
	case r.Sent > 0 && d.failing.Swap(false):
		// The relay is back: what failed during the outage goes out now rather than after
		// each notification's pause, which may have grown to the maximum.
		n, err := d.outbox.ExpediteNotifications(context.WithoutCancel(ctx), d.opts.Now())
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: expedite: %w", err))
		}
		d.logger.InfoContext(ctx, "notification delivery recovered; notifications waiting for a retry are due now",
			"sent", r.Sent, "failed", r.Failed, "expedited", n)
	case r.Failed > 0:
		d.logger.WarnContext(ctx, "some notifications were not delivered; each is retried with growing pauses",
			"sent", r.Sent, "failed", r.Failed, "error", firstErr)
	}
	return r, errors.Join(errs...)
}

type outcomeKind int

const (
	outcomeSent outcomeKind = iota
	outcomeFailed
	outcomeDead
	outcomeReleased
)

type outcome struct {
	kind outcomeKind
	err  string // the delivery error, for operators
}

// deliver sends one claimed notification and records the outcome. A notification whose
// lease could run out before its send would end is not started (another dispatcher may
// take it then), and neither is one once the dispatcher is stopping.
func (d *Dispatcher) deliver(ctx context.Context, b *batch, n store.Notification) (outcome, error) {
	if ctx.Err() != nil || !d.opts.Now().Add(d.opts.SendTimeout).Before(b.leaseEnd()) {
		return outcome{kind: outcomeReleased}, nil
	}
	sendCtx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	sendErr := d.sender.Send(sendCtx, Render(d.catalog, n))
	cancel()
	at := d.opts.Now()
	// Recording must happen even while the dispatcher stops, or a sent notification would
	// be sent again; it may take as long as the claim still holds (a busy SQLite queues its
	// writers), after which another dispatcher may take the notification anyway.
	recCtx, cancelRec := context.WithTimeout(context.WithoutCancel(ctx), max(d.opts.Lease/2, 10*time.Second))
	defer cancelRec()
	if sendErr != nil && ctx.Err() != nil {
		// Cut off by the stop, not failed: it is released untried and counts no attempt.
		return outcome{kind: outcomeReleased}, nil
	}
	rec := store.Delivery{ID: n.ID, Owner: d.opts.Owner, At: at}
	out := outcome{kind: outcomeSent}
	if sendErr != nil {
		attempts := n.Attempts + 1
		rec.Error = Redact(sendErr.Error())
		out = outcome{kind: outcomeFailed, err: rec.Error}
		if attempts >= d.opts.MaxAttempts || errors.Is(sendErr, ErrPermanent) {
			rec.Dead, out.kind = true, outcomeDead
		} else {
			rec.Retry = at.Add(d.opts.Jitter(d.Backoff(attempts)))
		}
		d.logger.DebugContext(ctx, "notification not delivered", "notification", n.ID, "attempt", attempts, "error", rec.Error)
	}
	err := d.outbox.RecordDelivery(recCtx, rec)
	b.finish(n.ID)
	if err != nil {
		if errors.Is(err, store.ErrLeaseLost) {
			d.logger.WarnContext(ctx, "a notification's claim ran out before its outcome was recorded; another dispatcher has it",
				"notification", n.ID)
			return out, nil
		}
		return out, fmt.Errorf("notify: record %s: %w", n.ID, err)
	}
	if out.kind == outcomeDead {
		d.logger.WarnContext(ctx, "notification moved to the dead letters; the secretariat can retry it (seleksictl notification retry)",
			"notification", n.ID, "selection", n.SelectionID, "application", n.ApplicationID, "attempts", n.Attempts+1,
			"permanent", errors.Is(sendErr, ErrPermanent), "last_error", rec.Error)
	}
	return out, nil
}

// keepLeases renews the batch's claims every third of the lease until the returned stop is
// called. If renewing fails, the claims run out as they were and deliver starts no send
// that could outlast them.
func (d *Dispatcher) keepLeases(ctx context.Context, b *batch) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ids := b.unfinished()
			if len(ids) == 0 {
				continue
			}
			until := d.opts.Now().Add(d.opts.Lease)
			if _, err := d.outbox.RenewNotificationLeases(ctx, d.opts.Owner, ids, until); err != nil {
				d.logger.WarnContext(ctx, "could not renew the claim on notifications being sent", "error", err)
				continue
			}
			b.extend(until)
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// batch tracks the claimed notifications not yet recorded and how long their lease lasts.
type batch struct {
	mu    sync.Mutex
	open  map[string]bool
	order []string
	until time.Time
}

func newBatch(ns []store.Notification, until time.Time) *batch {
	b := &batch{open: make(map[string]bool, len(ns)), until: until}
	for _, n := range ns {
		b.open[n.ID] = true
		b.order = append(b.order, n.ID)
	}
	return b
}

func (b *batch) finish(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.open, id)
}

func (b *batch) unfinished() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for _, id := range b.order {
		if b.open[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

func (b *batch) extend(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until = until
}

func (b *batch) leaseEnd() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.until
}

// addressPattern finds e-mail addresses in error texts: mail relays quote the recipient in
// their replies ("550 <someone@example.id>: mailbox unavailable"), and an address is
// personal data that stays out of logs and of what operators are shown.
var addressPattern = regexp.MustCompile(`[^\s<>()\[\]"',;:]+@[^\s<>()\[\]"',;:]+`)

// Redact replaces every e-mail address in s with "<address>".
func Redact(s string) string { return addressPattern.ReplaceAllString(s, "<address>") }

// LogSender writes notifications to the log: the embedded default, where no mail server is
// configured but an operator can still see what candidates would be told.
type LogSender struct{ Logger *slog.Logger }

// Send logs the notification in both languages. The recipient's subject and address are
// personal data (a subject is often the NIP) and stay out of the log; the application ID
// says whom it is for.
func (s LogSender) Send(ctx context.Context, n store.Notification) error {
	s.Logger.InfoContext(ctx, "notification", "id", n.ID, "selection", n.SelectionID, "application", n.ApplicationID,
		"kind", n.Kind, "text_id", n.Text.ID, "text_en", n.Text.EN)
	return nil
}
