package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// testNotificationChannels: each notification is queued once per channel its recipient
// chose, the in-app list shows each message once, a webhook row is delivered and fails on its
// own, and staff recipients are resolved from the accounts.
func testNotificationChannels(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-c")
	// cand-1 never chose: e-mail only. cand-2 turned e-mail off and chose WhatsApp on a
	// number of their own. cand-3 chose both, with the phone number of the application.
	if p, err := s.GetNotificationPreferences(ctx, "cand-1"); err != nil || !p.Email || p.Webhook {
		t.Fatalf("default preferences = %+v, %v", p, err)
	}
	for _, p := range []NotificationPreferences{
		{Subject: "cand-2", Email: false, Webhook: true, Phone: "+6281299990002", UpdateTime: t0},
		{Subject: "cand-3", Email: true, Webhook: true, UpdateTime: t0},
	} {
		if _, err := s.SetNotificationPreferences(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.GetNotificationPreferences(ctx, "cand-2"); err != nil || got.Email || !got.Webhook || got.Phone != "+6281299990002" {
		t.Fatalf("stored preferences = %+v, %v", got, err)
	}
	if _, err := s.SetNotificationPreferences(ctx, NotificationPreferences{Subject: "cand-9", Phone: "+62\r\n1"}); err == nil {
		t.Fatal("a phone number with a line break was stored")
	}
	apps := map[string]Application{}
	for i := 1; i <= 3; i++ {
		a := submit(t, s, newSubmission("sel-c", i, t0.Add(time.Duration(i)*time.Minute)))
		apps[a.Candidate.Subject] = a
	}
	type key struct{ recipient, channel, address, email string }
	channels := func(kind string) []key {
		t.Helper()
		pending, err := s.PendingNotifications(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []key
		for _, n := range pending {
			if n.Kind == kind {
				out = append(out, key{n.Recipient, n.Channel, n.Address, n.Email})
			}
		}
		slices.SortFunc(out, func(a, b key) int {
			if a.recipient != b.recipient {
				return strings.Compare(a.recipient, b.recipient)
			}
			return strings.Compare(a.channel, b.channel)
		})
		return out
	}
	want := []key{
		{"cand-1", ChannelEmail, "", "calon1@example.go.id"},
		{"cand-2", ChannelInApp, "", "calon2@example.go.id"},
		{"cand-2", ChannelWebhook, "+6281299990002", ""},
		{"cand-3", ChannelEmail, "", "calon3@example.go.id"},
		{"cand-3", ChannelWebhook, "+628110003", ""},
	}
	if got := channels(ActionSubmitApplication); !slices.Equal(got, want) {
		t.Fatalf("application received queued as\n%v\nwant\n%v", got, want)
	}
	// The received notice carries the close of the window in the agency's zone, as a code.
	pending, _ := s.PendingNotifications(ctx, 100)
	if n := pending[0]; n.Text.Code != "status.received" || n.Text.Params["closes"] != t0.Add(240*time.Hour).UTC().Format(time.RFC3339) || n.Text.Params["zone"] == "" {
		t.Fatalf("received notice text = %+v", n.Text)
	}

	// The in-app list of cand-2 shows the message once, not its webhook copy.
	list, err := s.ListNotifications(ctx, ListOptions{Owner: "cand-2"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Channel != ChannelInApp {
		t.Fatalf("cand-2's list = %+v, %v", list.Items, err)
	}

	// Each channel is delivered on its own: the webhook fails and is retried later, the
	// e-mail of the same message is sent and stays sent.
	got, err := s.ClaimNotifications(ctx, Claim{Owner: "d", Limit: 100, MaxAttempts: 5, Now: t0.Add(time.Hour), Lease: time.Minute})
	if err != nil || len(got.Due) != 5 {
		t.Fatalf("claim = %d, %v", len(got.Due), err)
	}
	for _, n := range got.Due {
		d := Delivery{ID: n.ID, Owner: "d", At: t0.Add(time.Hour)}
		if n.Channel == ChannelWebhook {
			d.Error, d.Retry = "gateway down", t0.Add(2*time.Hour)
		}
		if err := s.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if got := channels(ActionSubmitApplication); len(got) != 2 || got[0].channel != ChannelWebhook || got[1].channel != ChannelWebhook {
		t.Fatalf("pending after the webhook outage = %v, want only the two webhook rows", got)
	}
	again, err := s.ClaimNotifications(ctx, Claim{Owner: "d", Limit: 100, MaxAttempts: 5, Now: t0.Add(2 * time.Hour), Lease: time.Minute})
	if err != nil || len(again.Due) != 2 || again.Due[0].Channel != ChannelWebhook || again.Due[1].Channel != ChannelWebhook {
		t.Fatalf("retry claims %+v, %v; want the webhook rows only", again.Due, err)
	}
	for _, n := range again.Due {
		if err := s.RecordDelivery(ctx, Delivery{ID: n.ID, Owner: "d", At: t0.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	// Staff: the secretariat (every enabled admin) and one committee member by subject.
	for i, a := range []AccountRecord{
		{ID: "acc-a1", Issuer: "local", Subject: "admin-1", Role: "admin", Email: "admin1@example.go.id", CreatedAt: t0},
		{ID: "acc-a2", Issuer: "local", Subject: "admin-2", Role: "admin", Email: "admin2@example.go.id", CreatedAt: t0},
		{ID: "acc-a3", Issuer: "local", Subject: "admin-3", Role: "admin", Email: "admin3@example.go.id", Disabled: true, CreatedAt: t0},
		{ID: "acc-c1", Issuer: "local", Subject: "member-1", Role: "committee", Email: "member1@example.go.id", CreatedAt: t0},
		// The same subject at another issuer is another person.
		{ID: "acc-c0", Issuer: "https://sso.example.go.id", Subject: "member-2", Role: "committee", Email: "other@example.go.id", CreatedAt: t0},
		{ID: "acc-c2", Issuer: "local", Subject: "member-2", Role: "committee", Email: "member2@example.go.id", CreatedAt: t0},
	} {
		if _, err := s.CreateAccount(ctx, a, nil); err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
	}
	// A selection created since actor IDs knows its committee by actor ID.
	member2, err := s.ActorID(ctx, "local", "member-2")
	if err != nil {
		t.Fatal(err)
	}
	remind := Text{Code: "reminder.objection_due", Params: map[string]string{"due": "2026-03-20T10:00:00Z"}}
	cmd := Command{WorkflowID: workflowPrefix + "sel-c", SelectionID: "sel-c", Key: "remind-1", Seq: 1, Kind: "Reminder",
		Actor: Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: t0.Add(3 * time.Hour), Stage: StageAnnouncement,
		Notices: []Notice{
			{Recipient: RecipientSecretariat, Text: remind},
			{Recipient: RecipientAccountPrefix + "member-1", Text: remind},
			{Recipient: RecipientAccountPrefix + member2, Text: remind},
			{ApplicationID: apps["cand-1"].ID, Kind: "invitation", Text: Text{Code: "invitation.sent"}},
		}}
	for range 2 { // a retried command queues nothing more
		if _, err := s.ApplyCommand(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	wantStaff := []key{
		{"account:admin-1", ChannelEmail, "", "admin1@example.go.id"},
		{"account:admin-2", ChannelEmail, "", "admin2@example.go.id"},
		{"account:member-1", ChannelEmail, "", "member1@example.go.id"},
		{"account:member-2", ChannelEmail, "", "member2@example.go.id"},
	}
	if got := channels("Reminder"); !slices.Equal(got, wantStaff) {
		t.Fatalf("staff notices queued as\n%v\nwant\n%v", got, wantStaff)
	}
	if got := channels("invitation"); !slices.Equal(got, []key{{"cand-1", ChannelEmail, "", "calon1@example.go.id"}}) {
		t.Fatalf("invitation queued as %v", got)
	}
}

// testUnfinishedApplicants: a reminder to the candidates who have not finished applying
// reaches each candidate who uploaded a document to the selection and submitted no
// application, once (at their account's address, or in the app when they have none), and
// nobody who applied.
func testUnfinishedApplicants(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	docSelection(t, s, "sel-u")
	docSelection(t, s, "sel-other")
	// cand-1 applied; cand-2 (an account with an address) and cand-4 (no account) uploaded
	// and stopped; cand-5 uploaded to another selection only.
	submit(t, s, withDocs("sel-u", 1, upload(t, s, "sel-u", "cand-1", "ijazah", "up-1a"), upload(t, s, "sel-u", "cand-1", "lhkpn", "up-1b")))
	upload(t, s, "sel-u", "cand-2", "ijazah", "up-2a")
	upload(t, s, "sel-u", "cand-2", "lhkpn", "up-2b")
	upload(t, s, "sel-u", "cand-4", "ijazah", "up-4a")
	upload(t, s, "sel-other", "cand-5", "ijazah", "up-5a")
	if _, err := s.CreateAccount(ctx, AccountRecord{ID: "acc-2", Issuer: "local", Subject: "cand-2", Role: "candidate",
		Email: "calon2@example.go.id", CreatedAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
	remind := Text{Code: "event.announcement_closing_reminder", Params: map[string]string{"deadline": "2026-06-25T17:00:00Z", "zone": "WIB"}}
	cmd := Command{WorkflowID: workflowPrefix + "sel-u", SelectionID: "sel-u", Key: "event-2", Seq: 2, Kind: "AnnouncementCloseReminder",
		Actor: Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: t0.Add(3 * time.Hour), Stage: StageAnnouncement,
		Message: &remind, Recipients: []string{RecipientUnfinishedApplicants}}
	for range 2 { // a retried command queues nothing more
		if _, err := s.ApplyCommand(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := s.PendingNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range pending {
		if n.Kind == cmd.Kind {
			got = append(got, n.Recipient+" "+n.Channel+" "+n.Email+" "+n.Text.Code)
		}
	}
	slices.Sort(got)
	want := []string{
		"cand-2 " + ChannelEmail + " calon2@example.go.id event.announcement_closing_reminder",
		"cand-4 " + ChannelInApp + "  event.announcement_closing_reminder",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("reminders queued as\n%q\nwant\n%q", got, want)
	}
}
