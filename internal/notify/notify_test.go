package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
)

const from = "seleksi@bkpsdm.example.go.id"

func email(i int) string { return fmt.Sprintf("calon-%d@example.id", i) }

// queue opens the store at url and queues n notifications the way the service does: n
// candidates apply, and one command changes every application, which tells each candidate
// at the address they gave. It returns the store and the notifications' IDs, the i-th
// going to email(i).
func queue(t *testing.T, url string, n int) (*store.Store, []string) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, url)
	now := time.Now().UTC()
	const sel = "kadis-2026"
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create-" + sel, WorkflowID: "selection-" + sel,
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
		Committee: []store.CommitteeMember{{MemberID: "chair", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
		Actor:     store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + sel, SelectionID: sel, Key: "window-1",
		Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(time.Hour), ClosesWall: now.Add(time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
	var changes []store.ApplicationChange
	index := map[string]int{}
	for i := range n {
		a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: fmt.Sprintf("submit-%06d", i), Owner: fmt.Sprintf("act-%06d", i),
			Candidate: store.Candidate{Subject: fmt.Sprintf("cand-%d", i), FullName: "Calon", NIP: fmt.Sprintf("197505052000%06d", i),
				Email: email(i), BirthDate: "1975-05-05"}, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		index[a.ID] = i
		changes = append(changes, store.ApplicationChange{ApplicationID: a.ID, State: store.StateInProgress,
			Status: &store.Text{EN: "You are in the administrative screening.", ID: "Anda mengikuti seleksi administrasi."}})
	}
	// Each application was received; those notices are not what these tests count.
	markSent(t, st, now)
	if _, err := st.ApplyCommand(ctx, store.Command{WorkflowID: "selection-" + sel, SelectionID: sel, Key: "advance-1", Seq: 1,
		Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: now,
		Stage: "STAGE_ADMINISTRATIVE_SCREENING", Applications: changes}); err != nil {
		t.Fatal(err)
	}
	pending, err := st.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil || len(pending) != n {
		t.Fatalf("%d notifications queued, want %d: %v", len(pending), n, err)
	}
	ids := make([]string, n)
	for _, p := range pending {
		ids[index[p.ApplicationID]] = p.ID
	}
	return st, ids
}

// markSent records every pending notification as sent at now, as a dispatcher would.
func markSent(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	for {
		got, err := st.ClaimNotifications(ctx, store.Claim{Owner: "setup", Limit: store.MaxPageSize, MaxAttempts: 1000, Now: now, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Due) == 0 {
			return
		}
		for _, n := range got.Due {
			if err := st.RecordDelivery(ctx, store.Delivery{ID: n.ID, Owner: "setup", At: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func messageID(id string) string { return "<" + id + "@bkpsdm.example.go.id>" }

// logs collects log records, so tests can see what operators are told.
type logs struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logs) WithGroup(string) slog.Handler      { return l }

// String shows the warnings, for failure messages.
func (l *logs) String() string { return strings.Join(l.matching("WARN"), "\n") }

// lines renders every record as "LEVEL message k=v...".
func (l *logs) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		var b strings.Builder
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// matching returns the lines containing every one of subs.
func (l *logs) matching(subs ...string) []string {
	var out []string
	for _, line := range l.lines() {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// waitFor polls cond until it holds, failing the test after a generous minute: it bounds a
// hang, it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			var more []string
			for _, e := range explain {
				more = append(more, e())
			}
			t.Fatalf("gave up waiting for %s %s", what, strings.Join(more, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// runDispatchers runs each dispatcher until the returned stop is called.
func runDispatchers(ds ...*Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { d.Run(ctx) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

func minAttempts(t *testing.T, st *store.Store) int {
	t.Helper()
	pending, err := st.PendingNotifications(context.Background(), store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	least := -1
	for _, p := range pending {
		if least < 0 || p.Attempts < least {
			least = p.Attempts
		}
	}
	return least
}

// TestOutageThenRecovery: two dispatchers (two workers, each with its own connection pool)
// face a mail relay that is down, then up but answering "try again later", then healthy.
// Every notification is tried more than the ten times after which the old dispatcher gave
// up on the oldest rows and never sent anything again. Their clock stands still, so once the
// relay is healthy each of them waits up to an hour for its next attempt; the first
// notification to go out (a new one) shows that delivery works again, and every waiting one
// is delivered at once, each exactly once, counted by Message-ID at the relay.
func TestOutageThenRecovery(t *testing.T) {
	const n = 200
	for _, drv := range storetest.Drivers() {
		t.Run(drv.Name, func(t *testing.T) {
			url := drv.URL(t)
			r := startRelay(t)
			r.stop()
			st1, ids := queue(t, url, n)
			st2 := storetest.Open(t, url)
			lg := &logs{}
			logger := slog.New(lg)
			cat := catalog(t)
			clk := &clock{now: time.Now().UTC()}
			opts := Options{Interval: 20 * time.Millisecond, BatchSize: 100, Concurrency: 4, MaxAttempts: 1000,
				BackoffInitial: time.Minute, BackoffMax: time.Hour, SendTimeout: 10 * time.Second, Now: clk.Now}
			o1, o2 := opts, opts
			o1.Owner, o2.Owner = "worker-1", "worker-2"
			stop := runDispatchers(
				NewDispatcher(st1, NewSMTPSender(r.addr, from, nil, nil), cat, logger, o1),
				NewDispatcher(st2, NewSMTPSender(r.addr, from, nil, nil), cat, logger, o2))
			defer stop()

			// Each step of the clock makes every notification due again, and each is tried
			// once per step.
			attempts := 0
			failAgain := func(what string) {
				t.Helper()
				if attempts > 0 {
					clk.advance(opts.BackoffMax)
				}
				attempts++
				waitFor(t, fmt.Sprintf("every notification to fail %d times (%s)", attempts, what), func() bool { return minAttempts(t, st1) >= attempts }, lg.String)
			}
			for range 10 {
				failAgain("connections refused")
			}
			r.setBusy(-1)
			r.start()
			failAgain("451 try again later")
			failAgain("451 try again later")
			if _, accepted := r.counts(); accepted != 0 {
				t.Fatalf("%d messages accepted while the relay refused them", accepted)
			}
			// Healthy again; the notifications wait for their next attempt, up to an hour on
			// a clock that stands still. A new notification is due at once.
			r.setBusy(0)
			back := time.Now()
			probe := queueOne(t, st1, clk.Now())
			waitFor(t, "every notification to arrive", func() bool { _, got := r.counts(); return got >= n+1 })
			stop()

			counts, accepted := r.counts()
			if accepted != n+1 || len(counts) != n+1 {
				t.Errorf("relay accepted %d messages with %d Message-IDs, want %d each", accepted, len(counts), n+1)
			}
			for _, id := range append(ids, probe) {
				if c := counts[messageID(id)]; c != 1 {
					t.Errorf("notification %s arrived %d times, want once", id, c)
				}
			}
			if pending, _ := st1.PendingNotifications(context.Background(), store.MaxPageSize); len(pending) != 0 {
				t.Errorf("%d notifications still pending", len(pending))
			}
			first, last := r.span()
			t.Logf("%s: relay back after %d failed attempts each: all %d delivered within %v (first after %v), %.0f messages/s, each exactly once",
				drv.Name, attempts, n+1, last.Sub(back).Round(time.Millisecond), first.Sub(back).Round(time.Millisecond),
				float64(n+1)/last.Sub(first).Seconds())

			// Operators were told, once per dispatcher rather than once per failure, and
			// told again when it recovered; no line names a candidate's address.
			if warned := lg.matching("WARN", "not being delivered"); len(warned) == 0 || len(warned) > 2 {
				t.Errorf("outage warnings: %d lines, want one per dispatcher: %v", len(warned), warned)
			}
			if len(lg.matching("INFO", "delivery recovered")) == 0 {
				t.Error("the recovery was not logged")
			}
			if leaked := lg.matching("@"); len(leaked) > 0 {
				t.Errorf("log lines carry e-mail addresses: %v", leaked[:min(3, len(leaked))])
			}
		})
	}
}

// queueOne queues one more notification, to the first application, and returns its ID.
func queueOne(t *testing.T, st *store.Store, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	apps, err := st.ListApplications(ctx, "kadis-2026", store.ListOptions{PageSize: 1})
	if err != nil || len(apps.Items) != 1 {
		t.Fatalf("applications: %+v, %v", apps, err)
	}
	before, err := st.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyCommand(ctx, store.Command{WorkflowID: "selection-kadis-2026", SelectionID: "kadis-2026", Key: "probe-1", Seq: 2,
		Kind: "RecordResults", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: at, Stage: "STAGE_ADMINISTRATIVE_SCREENING",
		Applications: []store.ApplicationChange{{ApplicationID: apps.Items[0].ID, State: store.StateInProgress,
			Status: &store.Text{EN: "Your result was recorded.", ID: "Hasil Anda telah dicatat."}}}}); err != nil {
		t.Fatal(err)
	}
	after, err := st.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]bool{}
	for _, p := range before {
		old[p.ID] = true
	}
	for _, p := range after {
		if !old[p.ID] {
			return p.ID
		}
	}
	t.Fatal("no notification was queued")
	return ""
}

// TestFullBatchesGoOnAtOnce: a dispatcher that finds a full batch goes on at once instead of
// waiting for its interval (found: 100 per two seconds at most). With an interval of an hour
// every batch still goes out.
func TestFullBatchesGoOnAtOnce(t *testing.T) {
	const n = 250
	for _, drv := range storetest.Drivers() {
		t.Run(drv.Name, func(t *testing.T) {
			r := startRelay(t)
			st, _ := queue(t, drv.URL(t), n)
			d := NewDispatcher(st, NewSMTPSender(r.addr, from, nil, nil), catalog(t), slog.New(slog.DiscardHandler),
				Options{Interval: time.Hour, BatchSize: 50, Concurrency: 4})
			start := time.Now()
			stop := runDispatchers(d)
			defer stop()
			waitFor(t, "every notification to arrive", func() bool { _, got := r.counts(); return got >= n })
			_, last := r.span()
			t.Logf("%s: %d notifications delivered in %v: %.0f messages/s (batches of 50, 4 at a time)",
				drv.Name, n, last.Sub(start).Round(time.Millisecond), float64(n)/last.Sub(start).Seconds())
		})
	}
}

// clock is a settable clock for tests that step through backoff without waiting.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestDeadLettersAndRetry: a notification is tried only when due; one the relay refuses for
// good is a dead letter at once, one it keeps refusing for now becomes one when its attempts
// run out; each is logged once, without the address; retried, both are delivered.
func TestDeadLettersAndRetry(t *testing.T) {
	for _, drv := range storetest.Drivers() {
		t.Run(drv.Name, func(t *testing.T) {
			ctx := context.Background()
			r := startRelay(t)
			st, ids := queue(t, drv.URL(t), 3)
			r.setRefused(email(0), true)
			temp := &tempFailSender{SMTPSender: NewSMTPSender(r.addr, from, nil, nil), fail: map[string]bool{email(1): true}}
			lg := &logs{}
			clk := &clock{now: time.Now().UTC()}
			start := clk.Now()
			d := NewDispatcher(st, temp, catalog(t), slog.New(lg), Options{MaxAttempts: 3, BackoffInitial: time.Minute,
				BackoffMax: 10 * time.Minute, Now: clk.Now, Jitter: func(d time.Duration) time.Duration { return d }})
			rounds := []struct {
				at   time.Duration
				want Round
			}{
				{0, Round{Claimed: 3, Sent: 1, Failed: 1, Dead: 1}},
				{59 * time.Second, Round{}},                   // not due before its backoff
				{time.Minute, Round{Claimed: 1, Failed: 1}},   // second attempt
				{3*time.Minute - time.Second, Round{}},        // backoff doubled
				{3 * time.Minute, Round{Claimed: 1, Dead: 1}}, // third and last
				{24 * time.Hour, Round{}},                     // dead letters are not tried again
			}
			for _, rd := range rounds {
				clk.set(start.Add(rd.at))
				got, err := d.DeliverOnce(ctx)
				if err != nil || got != rd.want {
					t.Fatalf("round at +%v = %+v, %v; want %+v", rd.at, got, err, rd.want)
				}
			}
			page, err := st.ListNotifications(ctx, store.ListOptions{Filter: "state = DEAD"})
			if err != nil || len(page.Items) != 2 {
				t.Fatalf("dead letters = %+v, %v", page.Items, err)
			}
			// Both were queued at the same instant: the list orders them by ID.
			if page.Items[0].ID != ids[0] {
				page.Items[0], page.Items[1] = page.Items[1], page.Items[0]
			}
			if page.Items[0].ID != ids[0] || page.Items[1].ID != ids[1] {
				t.Fatalf("dead letters = %+v, want %v", page.Items, ids[:2])
			}
			for i, n := range page.Items {
				if strings.Contains(n.LastError, "@") || n.LastError == "" {
					t.Errorf("dead letter %d: last error %q must say what failed without the address", i, n.LastError)
				}
			}
			if !strings.Contains(page.Items[0].LastError, "550") || page.Items[0].Attempts != 1 || page.Items[1].Attempts != 3 {
				t.Errorf("dead letters = %+v", page.Items)
			}
			for _, id := range ids[:2] {
				if got := lg.matching("WARN", "dead letters", id); len(got) != 1 {
					t.Errorf("%s: %d dead-letter warnings, want exactly one: %v", id, len(got), got)
				}
			}
			if leaked := lg.matching("@"); len(leaked) > 0 {
				t.Errorf("log lines carry e-mail addresses: %v", leaked)
			}

			// The secretariat fixes the causes and retries both.
			r.setRefused(email(0), false)
			temp.heal()
			for _, id := range ids[:2] {
				if _, err := st.RetryNotification(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			clk.set(start.Add(25 * time.Hour))
			if got, err := d.DeliverOnce(ctx); err != nil || got != (Round{Claimed: 2, Sent: 2}) {
				t.Fatalf("after the retry: %+v, %v", got, err)
			}
			counts, accepted := r.counts()
			if accepted != 3 || counts[messageID(ids[0])] != 1 || counts[messageID(ids[1])] != 1 || counts[messageID(ids[2])] != 1 {
				t.Errorf("relay got %v", counts)
			}
		})
	}
}

// tempFailSender fails the addresses in fail as a relay answering 451 would, and mails the
// others through the real relay.
type tempFailSender struct {
	*SMTPSender
	mu   sync.Mutex
	fail map[string]bool
}

func (s *tempFailSender) Send(ctx context.Context, n store.Notification) error {
	s.mu.Lock()
	failing := s.fail[n.Email]
	s.mu.Unlock()
	if failing {
		return fmt.Errorf("mail relay RCPT TO: 451 4.2.2 <%s>: mailbox full, try again later", n.Email)
	}
	return s.SMTPSender.Send(ctx, n)
}

func (s *tempFailSender) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = nil
}

// TestStopReleasesUnsent: a dispatcher stopped while its relay hangs gives its claims back
// untried, without counting an attempt, so another dispatcher takes them at once.
func TestStopReleasesUnsent(t *testing.T) {
	st, ids := queue(t, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"), 5)
	started := make(chan struct{}, len(ids))
	hanging := NewSMTPSender(silentRelay(t), from, nil, nil)
	sender := sendFunc(func(ctx context.Context, n store.Notification) error {
		started <- struct{}{}
		return hanging.Send(ctx, n)
	})
	d := NewDispatcher(st, sender, nil, slog.New(slog.DiscardHandler), Options{Concurrency: 2, SendTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Round)
	go func() {
		r, _ := d.DeliverOnce(ctx)
		done <- r
	}()
	<-started
	<-started
	cancel()
	r := <-done
	if r != (Round{Claimed: 5, Released: 5}) {
		t.Errorf("round = %+v, want every claim released", r)
	}
	other, err := st.ClaimNotifications(context.Background(), store.Claim{Owner: "other", Limit: 10, MaxAttempts: 5, Now: time.Now(), Lease: time.Minute})
	if err != nil || len(other.Due) != 5 {
		t.Fatalf("another dispatcher claimed %d, %v; want all 5 at once", len(other.Due), err)
	}
	for _, n := range other.Due {
		if n.Attempts != 0 {
			t.Errorf("%s: %d attempts counted for a send cut off by the stop", n.ID, n.Attempts)
		}
	}
}

type sendFunc func(ctx context.Context, n store.Notification) error

func (f sendFunc) Send(ctx context.Context, n store.Notification) error { return f(ctx, n) }

func TestBackoff(t *testing.T) {
	d := NewDispatcher(nil, nil, nil, slog.New(slog.DiscardHandler), Options{BackoffInitial: 10 * time.Second, BackoffMax: time.Minute})
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {4, time.Minute}, {30, time.Minute}, {1000, time.Minute},
	}
	for _, tt := range tests {
		if got := d.Backoff(tt.attempts); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.attempts, got, tt.want)
		}
	}
	// The default jitter draws between half the pause and all of it, and does not always
	// draw the same.
	seen := map[time.Duration]bool{}
	for range 200 {
		j := d.opts.Jitter(time.Minute)
		if j < 30*time.Second || j > time.Minute {
			t.Fatalf("jitter of 1m = %v, want within [30s, 1m]", j)
		}
		seen[j] = true
	}
	if len(seen) < 10 {
		t.Errorf("jitter drew only %d distinct pauses in 200 draws", len(seen))
	}
}

type book map[string]string

func (b book) EmailOf(_ context.Context, n store.Notification) (string, error) {
	if a, ok := b[n.Recipient]; ok {
		return a, nil
	}
	return "", errors.New("no address")
}

// TestSMTPSender mails through a real SMTP server: Indonesian first then English, with a
// Message-ID derived from the notification; addresses that would inject headers are refused
// without a connection; refusals for good are permanent, "try later" and a dead relay are not;
// a relay that never answers cannot hold a delivery past its deadline.
func TestSMTPSender(t *testing.T) {
	ctx := context.Background()
	r := startRelay(t)
	s := NewSMTPSender(r.addr, from, nil, book{"c1": "calon@example.id", "bad": "x@y\r\nBcc: z@w"})
	n := store.Notification{ID: "n1", SelectionID: "kadis-2026", Recipient: "c1", ApplicationID: "app-1",
		Text: store.Text{ID: "Lamaran Anda lolos seleksi administrasi.", EN: "Your application passed the administrative screening."}}
	if err := s.Send(ctx, n); err != nil {
		t.Fatal(err)
	}
	body := r.body(messageID("n1"))
	id := strings.Index(body, "Lamaran Anda lolos")
	en := strings.Index(body, "Your application passed")
	if id < 0 || en < 0 || id > en || !strings.Contains(body, "charset=UTF-8") || !strings.Contains(body, "To: calon@example.id") {
		t.Errorf("message must go to the address book's address, Indonesian first, then English:\n%s", body)
	}

	tests := []struct {
		name      string
		n         store.Notification
		sender    *SMTPSender
		refuse    string
		busy      int
		wantErr   bool
		permanent bool
	}{
		{name: "the address the application gave", n: withEmail(n, "n2", "alamat-lamaran@example.id")},
		{name: "a header injection in the address book", n: withRecipient(n, "n3", "bad"), wantErr: true, permanent: true},
		{name: "a header injection in the recorded address", n: withEmail(n, "n4", "x@y\r\nBcc: z@w"), wantErr: true, permanent: true},
		{name: "no address", n: withRecipient(n, "n5", "unknown"), wantErr: true},
		{name: "a recipient refused for good", n: withEmail(n, "n6", "gone@example.id"), refuse: "gone@example.id", wantErr: true, permanent: true},
		{name: "a busy relay", n: withEmail(n, "n7", "calon@example.id"), busy: 1, wantErr: true},
		{name: "a relay that is down", n: withEmail(n, "n8", "calon@example.id"), sender: NewSMTPSender(deadAddr(t), from, nil, nil), wantErr: true},
		{name: "a broadcast is published, not mailed", n: store.Notification{ID: "n9", SelectionID: "kadis-2026", Recipient: "*", Text: n.Text}},
		{name: "an account's code, for no application", n: store.Notification{ID: "n11", Recipient: "acc_1", Email: "akun@example.id",
			Kind: store.AccountKind, Text: store.Text{ID: "Kode: 123456", EN: "Code: 123456"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, before := r.counts()
			if tt.refuse != "" {
				r.setRefused(tt.refuse, true)
			}
			r.setBusy(tt.busy)
			sender := s
			if tt.sender != nil {
				sender = tt.sender
			}
			err := sender.Send(ctx, tt.n)
			if (err != nil) != tt.wantErr || errors.Is(err, ErrPermanent) != tt.permanent {
				t.Fatalf("Send = %v; want error %v, permanent %v", err, tt.wantErr, tt.permanent)
			}
			counts, after := r.counts()
			wantSent := !tt.wantErr && (tt.n.ApplicationID != "" || tt.n.Email != "")
			if (after > before) != wantSent || (wantSent && counts[messageID(tt.n.ID)] != 1) {
				t.Errorf("relay accepted %d messages, want sent %v", after-before, wantSent)
			}
			if tt.n.Kind == store.AccountKind {
				body := r.body(messageID(tt.n.ID))
				if !strings.Contains(body, "To: akun@example.id") || !strings.Contains(body, "Subject: Seleksi: kode akun / account code") ||
					!strings.Contains(body, "Kode: 123456") {
					t.Errorf("account notice:\n%s", body)
				}
			}
		})
	}
	t.Run("a relay that never answers", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if err := NewSMTPSender(silentRelay(t), from, nil, nil).Send(ctx, withEmail(n, "n10", "calon@example.id")); err == nil {
			t.Fatal("a relay that never greeted took the message")
		}
	})
}

func withEmail(n store.Notification, id, addr string) store.Notification {
	n.ID, n.Email = id, addr
	return n
}

func withRecipient(n store.Notification, id, recipient string) store.Notification {
	n.ID, n.Recipient, n.Email = id, recipient, ""
	return n
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	r := startRelay(t)
	r.stop()
	return r.addr
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"550 5.1.1 <calon@example.id>: mailbox unavailable", "550 5.1.1 <<address>>: mailbox unavailable"},
		{"rcpt calon.satu+x@sub.example.go.id refused", "rcpt <address> refused"},
		{"dial tcp 127.0.0.1:25: connect: connection refused", "dial tcp 127.0.0.1:25: connect: connection refused"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLogSenderKeepsPersonalDataOut: the log sender shows what a candidate is told, but not
// to whom: neither the token subject (often the NIP) nor the address.
func TestLogSenderKeepsPersonalDataOut(t *testing.T) {
	lg := &logs{}
	n := store.Notification{ID: "n1", SelectionID: "kadis-2026", Recipient: "197505052000011001", ApplicationID: "app-1",
		Email: "calon@example.id", Text: store.Text{ID: "Status berubah.", EN: "Status changed."}}
	if err := (LogSender{Logger: slog.New(lg)}).Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	lines := lg.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], "Status berubah.") || !strings.Contains(lines[0], "app-1") {
		t.Fatalf("log = %v", lines)
	}
	if strings.Contains(lines[0], "197505052000011001") || strings.Contains(lines[0], "calon@example.id") {
		t.Errorf("the log names the candidate: %s", lines[0])
	}
}

// memOutbox is an outbox in memory for tests of what is sent, not of how it is claimed.
type memOutbox struct {
	mu      sync.Mutex
	pending []store.Notification
}

func (o *memOutbox) ClaimNotifications(_ context.Context, c store.Claim) (store.Claimed, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return store.Claimed{Due: append([]store.Notification(nil), o.pending...)}, nil
}

func (o *memOutbox) RecordDelivery(_ context.Context, d store.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.pending {
		if o.pending[i].ID == d.ID && d.Error == "" {
			o.pending = append(o.pending[:i], o.pending[i+1:]...)
			break
		}
	}
	return nil
}

func (o *memOutbox) RenewNotificationLeases(context.Context, string, []string, time.Time) (int, error) {
	return 0, nil
}
func (o *memOutbox) ReleaseNotifications(context.Context, string, []string) error  { return nil }
func (o *memOutbox) ExpediteNotifications(context.Context, time.Time) (int, error) { return 0, nil }

type recordingSender struct {
	mu   sync.Mutex
	sent map[string]store.Notification
}

func (s *recordingSender) Send(_ context.Context, n store.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[n.ID] = n
	return nil
}

// TestDispatcherRendersCodes: the outbox holds codes; what is sent is rendered then, in
// Indonesian and English. A notification queued before codes is sent with its texts.
func TestDispatcherRendersCodes(t *testing.T) {
	ob := &memOutbox{pending: []store.Notification{
		{ID: "n1", Recipient: "c1", Text: store.Text{Code: "status.not_appointed", Params: map[string]string{"rank": "1"}}},
		{ID: "n2", Recipient: "c2", Text: store.Text{Code: "APPLICATION_STATE_WITHDRAWN", EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."}},
	}}
	s := &recordingSender{sent: map[string]store.Notification{}}
	if _, err := NewDispatcher(ob, s, catalog(t), slog.New(slog.DiscardHandler), Options{}).DeliverOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Text{
		"n1": {Code: "status.not_appointed", ID: "Anda diusulkan pada peringkat 1, tetapi Pejabat Pembina Kepegawaian memilih calon lain untuk diangkat. Seleksi telah selesai.",
			EN: "You were proposed at rank 1, but the appointing official chose another candidate. The selection is closed."},
		"n2": {Code: "APPLICATION_STATE_WITHDRAWN", EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."},
	}
	if len(s.sent) != 2 || !reflect.DeepEqual(s.sent["n1"].Text, want["n1"]) || !reflect.DeepEqual(s.sent["n2"].Text, want["n2"]) {
		t.Errorf("sent %+v", s.sent)
	}
}
