// Package notify owns telling people that something changed: it drains the store's
// notification outbox and hands each message to a sender (the log by default, SMTP when
// configured). The outbox is written in the same transaction as the change itself, so a
// notification is never lost to a crash between the two; delivery is at least once.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/smtp"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Outbox is the part of the store the dispatcher reads and marks.
type Outbox interface {
	PendingNotifications(ctx context.Context, limit int) ([]store.Notification, error)
	MarkNotification(ctx context.Context, id string, at time.Time, deliveryErr error) error
}

// Sender delivers one notification.
type Sender interface {
	Send(ctx context.Context, n store.Notification) error
}

// Dispatcher polls the outbox and delivers what it finds.
type Dispatcher struct {
	outbox   Outbox
	sender   Sender
	catalog  *i18n.Catalog
	logger   *slog.Logger
	interval time.Duration
	batch    int
	// maxAttempts stops retrying a message that keeps failing (a bad address), so it does
	// not hold up the rest of the outbox forever; it stays in the store with its last error.
	maxAttempts int
	now         func() time.Time
}

// NewDispatcher delivers from outbox through sender every interval. The outbox holds
// message codes; cat renders them, in Indonesian and English, when they are sent.
func NewDispatcher(outbox Outbox, sender Sender, cat *i18n.Catalog, logger *slog.Logger, interval time.Duration) *Dispatcher {
	return &Dispatcher{outbox: outbox, sender: sender, catalog: cat, logger: logger, interval: interval, batch: 100, maxAttempts: 10, now: time.Now}
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

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		if _, err := d.DeliverOnce(ctx); err != nil && ctx.Err() == nil {
			d.logger.WarnContext(ctx, "notification delivery round failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverOnce sends one batch of pending notifications and reports how many were sent.
func (d *Dispatcher) DeliverOnce(ctx context.Context) (int, error) {
	pending, err := d.outbox.PendingNotifications(ctx, d.batch)
	if err != nil {
		return 0, fmt.Errorf("notify: read outbox: %w", err)
	}
	sent := 0
	var errs []error
	for _, n := range pending {
		if n.Attempts >= d.maxAttempts {
			continue
		}
		sendErr := d.sender.Send(ctx, Render(d.catalog, n))
		if sendErr != nil {
			d.logger.WarnContext(ctx, "notification not delivered", "id", n.ID, "attempt", n.Attempts+1, "error", redacted(sendErr))
		} else {
			sent++
		}
		if err := d.outbox.MarkNotification(ctx, n.ID, d.now(), sendErr); err != nil {
			errs = append(errs, fmt.Errorf("notify: mark %s: %w", n.ID, err))
		}
	}
	return sent, errors.Join(errs...)
}

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

// AddressBook finds the e-mail address of a notification queued before the outbox recorded
// addresses (store.Notification.Email empty).
type AddressBook interface {
	EmailOf(ctx context.Context, n store.Notification) (string, error)
}

// SMTPSender mails notifications, Indonesian first and English below.
type SMTPSender struct {
	Addr      string // host:port
	From      string
	Auth      smtp.Auth // nil for an unauthenticated relay
	Addresses AddressBook
	// send is smtp.SendMail; tests replace it.
	send func(addr string, a smtp.Auth, from string, to []string, msg []byte) error
}

// NewSMTPSender mails through the server at addr.
func NewSMTPSender(addr, from string, auth smtp.Auth, addresses AddressBook) *SMTPSender {
	return &SMTPSender{Addr: addr, From: from, Auth: auth, Addresses: addresses, send: smtp.SendMail}
}

// Send mails one notification. A notification addressed to no application (the store's
// broadcast recipient "*", such as "the competency test has started") is an announcement:
// it is published on the selection's pages and each affected candidate gets their own
// notification, so there is nobody to mail and it counts as delivered.
func (s *SMTPSender) Send(ctx context.Context, n store.Notification) error {
	if n.ApplicationID == "" {
		return nil
	}
	// The address the candidate gave in the application, recorded with the notification.
	to := n.Email
	if to == "" {
		var err error
		if to, err = s.Addresses.EmailOf(ctx, n); err != nil {
			return fmt.Errorf("address for application %s: %w", n.ApplicationID, err)
		}
	}
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(s.From, "\r\n") {
		return errors.New("address contains a line break")
	}
	return s.send(s.Addr, s.Auth, s.From, []string{to}, message(s.From, to, n))
}

// message builds the mail. Subject and body carry no markup: they are read in every kind of
// mail client, including on basic phones.
func message(from, to string, n store.Notification) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, to)
	fmt.Fprintf(&b, "Subject: Seleksi %s: pembaruan status / status update\r\n", n.SelectionID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&b, "%s\r\n\r\n-- \r\n%s\r\n", n.Text.ID, n.Text.EN)
	return []byte(b.String())
}
