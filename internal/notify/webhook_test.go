package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
)

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("a-secret-of-the-agency-gateway")
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	body := []byte(`{"deliveryId":"d1"}`)
	signed := func(secret []byte, id string, ts time.Time, body []byte) http.Header {
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, fmt.Sprint(ts.Unix()))
		h.Set(HeaderWebhookSignature, SignWebhook(secret, id, ts, body))
		return h
	}
	rotated := signed(secret, "d1", now, body)
	rotated.Set(HeaderWebhookSignature, SignWebhook([]byte("the-previous-secret-value"), "d1", now, body)+" "+rotated.Get(HeaderWebhookSignature))
	for _, tc := range []struct {
		name string
		h    http.Header
		body []byte
		ok   bool
	}{
		{"valid", signed(secret, "d1", now, body), body, true},
		{"valid while the gateway rotates its secret", rotated, body, true},
		{"wrong secret", signed([]byte("another-secret-altogether"), "d1", now, body), body, false},
		{"body changed", signed(secret, "d1", now, body), []byte(`{"deliveryId":"d2"}`), false},
		{"delivery ID changed", func() http.Header { h := signed(secret, "d1", now, body); h.Set(HeaderWebhookID, "d2"); return h }(), body, false},
		{"replayed later", signed(secret, "d1", now.Add(-10*time.Minute), body), body, false},
		{"unsigned", http.Header{}, body, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyWebhook(secret, tc.h, tc.body, now, 5*time.Minute)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrWebhookSignature)) {
				t.Fatalf("VerifyWebhook = %v, want ok %v", err, tc.ok)
			}
		})
	}
	// A Standard Webhooks secret (whsec_ and base64) signs with its decoded bytes.
	raw := []byte("0123456789abcdef0123456789abcdef")
	got, err := WebhookSecret("whsec_" + base64.StdEncoding.EncodeToString(raw) + "\n")
	if err != nil || string(got) != string(raw) {
		t.Fatalf("WebhookSecret(whsec_...) = %q, %v", got, err)
	}
	if _, err := WebhookSecret("short"); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

// gateway is a real HTTP server standing for an agency's WhatsApp gateway: it verifies each
// delivery's signature with its own secret and answers 503 to the first failFirst attempts of
// each delivery, then accepts it.
type gateway struct {
	secret    []byte
	failFirst int

	mu        sync.Mutex
	attempts  map[string]int
	accepted  map[string]int
	payloads  map[string]WebhookPayload
	badSigned int
}

func startGateway(t *testing.T, secret []byte, failFirst int) (*gateway, string) {
	g := &gateway{secret: secret, failFirst: failFirst, attempts: map[string]int{}, accepted: map[string]int{}, payloads: map[string]WebhookPayload{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		if err := VerifyWebhook(g.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			g.badSigned++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil || p.DeliveryID != r.Header.Get(HeaderWebhookID) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		g.attempts[p.DeliveryID]++
		if g.attempts[p.DeliveryID] <= g.failFirst {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		g.accepted[p.DeliveryID]++
		g.payloads[p.DeliveryID] = p
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return g, srv.URL
}

func (g *gateway) snapshot() (accepted map[string]int, payloads map[string]WebhookPayload, bad int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	accepted, payloads = map[string]int{}, map[string]WebhookPayload{}
	for k, v := range g.accepted {
		accepted[k] = v
	}
	for k, v := range g.payloads {
		payloads[k] = v
	}
	return accepted, payloads, g.badSigned
}

// applyWithPreferences opens a selection in the store at url, stores the preferences of
// four candidates and has them apply: act-0 chose nothing (e-mail), act-1 e-mail and
// WhatsApp, act-2 WhatsApp only on a number of their own, act-3 e-mail only. It returns the
// store and the "application received" notifications by channel.
func applyWithPreferences(t *testing.T, url string) (*store.Store, map[string][]store.Notification) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, url)
	now := time.Now().UTC()
	const sel = "kadis-2026"
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create-" + sel, WorkflowID: "selection-" + sel,
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WITA", Config: []byte(`{}`),
		Committee: []store.CommitteeMember{{MemberID: "chair", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
		Actor:     store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + sel, SelectionID: sel, Key: "window-1",
		Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(time.Hour), ClosesWall: now.Add(time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
	for _, p := range []store.NotificationPreferences{
		{Subject: "act-1", Email: true, Webhook: true},
		{Subject: "act-2", Email: false, Webhook: true, Phone: "+6281299990002"},
		{Subject: "act-3", Email: true},
	} {
		if _, err := st.SetNotificationPreferences(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if _, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: fmt.Sprintf("submit-%d", i), Owner: fmt.Sprintf("act-%d", i),
			Candidate: store.Candidate{Subject: fmt.Sprintf("cand-%d", i), FullName: "Calon", NIP: fmt.Sprintf("197505052000%06d", i),
				Email: email(i), Phone: fmt.Sprintf("+62811000%d", i), BirthDate: "1975-05-05"}, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := st.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]store.Notification{}
	for _, n := range pending {
		by[n.Channel] = append(by[n.Channel], n)
	}
	return st, by
}

// TestWebhookChannel: candidates who chose WhatsApp get the "application received" message
// through the agency's gateway, a real HTTP server that checks each signature and refuses
// the first two attempts of every delivery; each is retried and accepted exactly once, each
// e-mail reaches the real SMTP relay exactly once although the webhooks kept failing, and a
// candidate without the webhook gets none.
func TestWebhookChannel(t *testing.T) {
	for _, drv := range storetest.Drivers() {
		t.Run(drv.Name, func(t *testing.T) {
			secret := []byte("secret-shared-with-the-gateway")
			gw, gwURL := startGateway(t, secret, 2)
			r := startRelay(t)
			st, queued := applyWithPreferences(t, drv.URL(t))
			if len(queued[store.ChannelEmail]) != 3 || len(queued[store.ChannelWebhook]) != 2 || len(queued[store.ChannelInApp]) != 1 {
				t.Fatalf("queued e-mail %d, webhook %d, in-app %d; want 3, 2, 1",
					len(queued[store.ChannelEmail]), len(queued[store.ChannelWebhook]), len(queued[store.ChannelInApp]))
			}
			lg := &logs{}
			d := NewDispatcher(st, Channels{
				Email:   NewSMTPSender(r.addr, from, nil, nil),
				Webhook: NewWebhookSender([]WebhookEndpoint{{URL: gwURL, Secret: secret}}, nil, nil),
			}, catalog(t), slog.New(lg), Options{Interval: 10 * time.Millisecond, MaxAttempts: 10,
				BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond, Jitter: func(d time.Duration) time.Duration { return d }})
			stop := runDispatchers(d)
			defer stop()
			waitFor(t, "both webhooks to be accepted", func() bool { a, _, _ := gw.snapshot(); return len(a) == 2 }, lg.String)
			waitFor(t, "the outbox to empty", func() bool {
				p, err := st.PendingNotifications(context.Background(), store.MaxPageSize)
				return err == nil && len(p) == 0
			}, lg.String)
			stop()

			accepted, payloads, bad := gw.snapshot()
			if bad != 0 {
				t.Errorf("%d deliveries failed the gateway's signature check", bad)
			}
			phones := map[string]string{"act-1": "+628110001", "act-2": "+6281299990002"}
			for _, n := range queued[store.ChannelWebhook] {
				if accepted[n.ID] != 1 {
					t.Errorf("webhook %s accepted %d times, want once", n.ID, accepted[n.ID])
				}
				p := payloads[n.ID]
				if p.Address != phones[n.Recipient] || p.Recipient != n.Recipient || p.Event != store.ActionSubmitApplication ||
					p.Code != "status.received" || p.Selection != "kadis-2026" || p.Timestamp == "" {
					t.Errorf("payload %+v for %s", p, n.Recipient)
				}
				// Rendered at the edge from the code, the close in the agency's zone (WITA).
				if !strings.Contains(p.Text.ID, "Lamaran Anda telah diterima") || !strings.Contains(p.Text.ID, "WITA") ||
					!strings.Contains(p.Text.EN, "WITA") {
					t.Errorf("payload texts %+v", p.Text)
				}
				delete(phones, n.Recipient)
			}
			if len(phones) != 0 {
				t.Errorf("no webhook for %v", phones)
			}
			counts, total := r.counts()
			if total != 3 {
				t.Errorf("relay accepted %d mails, want 3 (act-2 turned e-mail off)", total)
			}
			for _, n := range queued[store.ChannelEmail] {
				if counts[messageID(n.ID)] != 1 {
					t.Errorf("mail %s arrived %d times, want once", n.ID, counts[messageID(n.ID)])
				}
			}
			if leaked := lg.matching("+62"); len(leaked) > 0 {
				t.Errorf("log lines carry phone numbers: %v", leaked)
			}
		})
	}
}

// TestWebhookWrongSecret: a gateway configured with another secret refuses every delivery;
// nothing is counted as delivered on the webhook channel, the failures are retried and kept
// for the secretariat, and the e-mails go out all the same.
func TestWebhookWrongSecret(t *testing.T) {
	gw, gwURL := startGateway(t, []byte("the-gateway-knows-this-one"), 0)
	r := startRelay(t)
	st, queued := applyWithPreferences(t, storetest.Drivers()[0].URL(t))
	d := NewDispatcher(st, Channels{
		Email:   NewSMTPSender(r.addr, from, nil, nil),
		Webhook: NewWebhookSender([]WebhookEndpoint{{URL: gwURL, Secret: []byte("seleksi-was-given-this-one")}}, nil, nil),
	}, catalog(t), slog.New(&logs{}), Options{Interval: 10 * time.Millisecond, MaxAttempts: 100,
		BackoffInitial: time.Millisecond, BackoffMax: 5 * time.Millisecond, Jitter: func(d time.Duration) time.Duration { return d }})
	stop := runDispatchers(d)
	defer stop()
	waitFor(t, "the webhooks to fail three times each", func() bool { return minAttempts(t, st) >= 3 })
	waitFor(t, "the mails", func() bool { _, n := r.counts(); return n == 3 })
	stop()
	accepted, _, bad := gw.snapshot()
	if len(accepted) != 0 || bad < 6 {
		t.Fatalf("gateway accepted %d, refused %d badly signed deliveries; want 0 and at least 6", len(accepted), bad)
	}
	pending, err := st.PendingNotifications(context.Background(), store.MaxPageSize)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending = %d, %v; want the 2 webhook deliveries", len(pending), err)
	}
	for _, p := range pending {
		if p.Channel != store.ChannelWebhook || !strings.Contains(p.LastError, "401") {
			t.Errorf("pending %s on %s, last error %q", p.ID, p.Channel, p.LastError)
		}
	}
	if len(queued[store.ChannelWebhook]) != 2 {
		t.Fatalf("queued %d webhooks", len(queued[store.ChannelWebhook]))
	}
}

// TestChannelsWithoutGateway: a webhook row with no gateway configured is a dead letter at
// once (the secretariat sees it), and an in-app row is delivered without sending anything.
func TestChannelsWithoutGateway(t *testing.T) {
	sent := 0
	c := Channels{Email: sendFunc(func(context.Context, store.Notification) error { sent++; return nil })}
	if err := c.Send(context.Background(), store.Notification{Channel: store.ChannelWebhook, Address: "+62811"}); !errors.Is(err, ErrPermanent) {
		t.Errorf("webhook without a gateway: %v, want ErrPermanent", err)
	}
	if err := c.Send(context.Background(), store.Notification{Channel: store.ChannelInApp}); err != nil || sent != 0 {
		t.Errorf("in-app: %v, %d sent", err, sent)
	}
	if err := c.Send(context.Background(), store.Notification{Channel: store.ChannelEmail}); err != nil || sent != 1 {
		t.Errorf("e-mail: %v, %d sent", err, sent)
	}
}

// TestTouchpointsReachTheCandidate: each mandated touchpoint (application received, a stage
// result with the objection deadline in the agency's zone, an invitation, the decision, the
// appointment) reaches a candidate who chose e-mail and WhatsApp, once on each channel, in
// Indonesian and English rendered from its code.
func TestTouchpointsReachTheCandidate(t *testing.T) {
	secret := []byte("secret-shared-with-the-gateway")
	gw, gwURL := startGateway(t, secret, 0)
	r := startRelay(t)
	st, queued := applyWithPreferences(t, storetest.Drivers()[0].URL(t))
	var appID string
	for _, n := range queued[store.ChannelWebhook] {
		if n.Recipient == "act-1" {
			appID = n.ApplicationID
		}
	}
	ctx := context.Background()
	deadline := "2026-12-10T16:00:00Z" // 11 December 00:00 WITA
	steps := []struct {
		kind   string
		change *store.ApplicationChange
		notice *store.Notice
		want   []string // in the mail and in the webhook's texts
	}{
		{kind: "PublishResult", change: &store.ApplicationChange{ApplicationID: appID, State: store.StateInProgress,
			Status: &store.Text{Code: "status.in_progress", Params: map[string]string{"passed": "STAGE_ADMINISTRATIVE_SCREENING", "stage": "STAGE_COMPETENCY_TEST",
				"deadline": deadline, "zone": "WITA"}}},
			want: []string{"sampai 10 Desember 2026 pukul 23.59 WITA", "23:59 WITA on 10 December 2026"}},
		{kind: "invitation", notice: &store.Notice{ApplicationID: appID, Kind: "invitation",
			Text: store.Text{Code: "invitation.session", EN: "You are invited to the competency test.", ID: "Anda diundang mengikuti uji kompetensi."}},
			want: []string{"Anda diundang", "You are invited"}},
		{kind: "Decide", change: &store.ApplicationChange{ApplicationID: appID, State: store.StateShortlisted, Rank: 2,
			Status: &store.Text{Code: "status.shortlisted", Params: map[string]string{"rank": "2"}}},
			want: []string{"peringkat 2", "rank 2"}},
		{kind: "Appoint", change: &store.ApplicationChange{ApplicationID: appID, State: store.StateAppointed,
			Status: &store.Text{Code: "status.appointed"}},
			want: []string{"You were chosen for appointment"}},
	}
	for i, s := range steps {
		c := store.Command{WorkflowID: "selection-kadis-2026", SelectionID: "kadis-2026", Key: fmt.Sprintf("step-%d", i), Seq: int64(i + 1),
			Kind: s.kind, Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: time.Now().UTC(), Stage: "STAGE_COMPETENCY_TEST"}
		if s.change != nil {
			c.Applications = []store.ApplicationChange{*s.change}
		}
		if s.notice != nil {
			c.Notices = []store.Notice{*s.notice}
		}
		if _, err := st.ApplyCommand(ctx, c); err != nil {
			t.Fatalf("%s: %v", s.kind, err)
		}
	}
	d := NewDispatcher(st, Channels{Email: NewSMTPSender(r.addr, from, nil, nil),
		Webhook: NewWebhookSender([]WebhookEndpoint{{URL: gwURL, Secret: secret}}, nil, nil)},
		catalog(t), slog.New(&logs{}), Options{Interval: 10 * time.Millisecond})
	stop := runDispatchers(d)
	defer stop()
	waitFor(t, "the outbox to empty", func() bool {
		p, err := st.PendingNotifications(ctx, store.MaxPageSize)
		return err == nil && len(p) == 0
	})
	stop()

	_, payloads, _ := gw.snapshot()
	all, err := st.ListNotifications(ctx, store.ListOptions{PageSize: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		var mails, hooks int
		for _, n := range all.Items {
			if n.Kind != s.kind || n.ApplicationID != appID {
				continue
			}
			var text string
			switch n.Channel {
			case store.ChannelEmail:
				mails++
				text = r.body(messageID(n.ID))
			case store.ChannelWebhook:
				hooks++
				p := payloads[n.ID]
				text = p.Text.ID + "\n" + p.Text.EN
				if p.Address != "+628110001" {
					t.Errorf("%s: webhook to %q", s.kind, p.Address)
				}
			}
			for _, w := range s.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s on %s lacks %q:\n%s", s.kind, n.Channel, w, text)
				}
			}
		}
		if mails != 1 || hooks != 1 {
			t.Errorf("%s: %d mails and %d webhooks, want one each", s.kind, mails, hooks)
		}
	}
}
