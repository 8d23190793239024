package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

// AddressBook finds the e-mail address of a notification queued before the outbox recorded
// addresses (store.Notification.Email empty).
type AddressBook interface {
	EmailOf(ctx context.Context, n store.Notification) (string, error)
}

// SMTPSender mails notifications through a relay, Indonesian first and English below.
type SMTPSender struct {
	addr      string // host:port
	from      string
	auth      smtp.Auth // nil for an unauthenticated relay
	addresses AddressBook
	dialer    net.Dialer
	// attachments, when set (UseAttachments), holds the files some notifications carry.
	attachments Attachments
}

// NewSMTPSender mails through the relay at addr (host:port) as from, authenticating with
// auth unless it is nil.
func NewSMTPSender(addr, from string, auth smtp.Auth, addresses AddressBook) *SMTPSender {
	return &SMTPSender{addr: addr, from: from, auth: auth, addresses: addresses}
}

// Send mails one notification. A notification addressed to no application and to no
// address (the store's broadcast recipient "*", such as "the competency test has started")
// is an announcement: it is published on the selection's pages and each affected candidate
// gets their own notification, so there is nobody to mail and it counts as delivered. An
// account's notice (a one-time code, store.AccountKind) concerns no application and
// carries its address.
//
// A recipient the relay refuses for good (a 5xx reply to RCPT) or an address that cannot
// be a single address is a permanent failure (ErrPermanent); everything else (the relay
// unreachable, a 4xx reply, a timeout) may pass and is retried.
func (s *SMTPSender) Send(ctx context.Context, n store.Notification) error {
	if n.ApplicationID == "" && n.Email == "" {
		return nil
	}
	// The address the candidate gave in the application, recorded with the notification.
	to := n.Email
	if to == "" {
		var err error
		if to, err = s.addresses.EmailOf(ctx, n); err != nil {
			return fmt.Errorf("address for application %s: %w", n.ApplicationID, err)
		}
	}
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(s.from, "\r\n") {
		return fmt.Errorf("address contains a line break: %w", ErrPermanent)
	}
	msg := message(s.from, to, n)
	att, err := s.attachmentOf(ctx, n)
	if err != nil {
		return err
	}
	if att != nil {
		if msg, err = withAttachment(msg, *att); err != nil {
			return fmt.Errorf("attach %s: %w", att.Name, err)
		}
	}
	return s.mail(ctx, to, msg)
}

// mail runs one SMTP transaction, as smtp.SendMail does (STARTTLS when the relay offers
// it, then AUTH when configured), but bounded by ctx: SendMail has no deadline, and a relay
// that accepts connections and never answers would hold a delivery forever.
func (s *SMTPSender) mail(ctx context.Context, to string, msg []byte) (err error) {
	conn, err := s.dialer.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("connect to the mail relay: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host, _, _ := net.SplitHostPort(s.addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("mail relay greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("mail relay STARTTLS: %w", err)
		}
	}
	if s.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the mail relay does not offer AUTH, but credentials are configured")
		}
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("mail relay AUTH: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("mail relay MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return fmt.Errorf("mail relay refused the recipient: %w: %w", err, ErrPermanent)
		}
		return fmt.Errorf("mail relay RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail relay DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail relay DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail relay did not accept the message: %w", err)
	}
	// The message is accepted once DATA is answered; a failed QUIT does not undo that.
	_ = c.Quit()
	return nil
}

// message builds the mail. Subject and body carry no markup: they are read in every kind of
// mail client, including on basic phones. The Message-ID derives from the notification, so
// a message sent again after a lost answer is recognisably the same message.
func message(from, to string, n store.Notification) []byte {
	domain := "seleksi.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	date := n.CreateTime
	if date.IsZero() {
		date = time.Now()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, to)
	if n.Kind == store.AccountKind {
		b.WriteString("Subject: Seleksi: kode akun / account code\r\n")
	} else {
		fmt.Fprintf(&b, "Subject: Seleksi %s: pembaruan status / status update\r\n", n.SelectionID)
	}
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s@%s>\r\n", date.Format(time.RFC1123Z), n.ID, domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&b, "%s\r\n\r\n-- \r\n%s\r\n", n.Text.ID, n.Text.EN)
	return []byte(b.String())
}
