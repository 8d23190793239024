package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Channels a notification is delivered on; each outbox row is one delivery on one channel.
const (
	// ChannelEmail rows are mailed and shown in the recipient's in-app list.
	ChannelEmail = "EMAIL"
	// ChannelInApp rows are only shown in the in-app list: the recipient turned e-mail off,
	// or has no address. They count as delivered when claimed.
	ChannelInApp = "IN_APP"
	// ChannelWebhook rows are posted to the agency's gateway (WhatsApp, SMS) for the phone
	// number in Address. They are copies of an EMAIL or IN_APP row and never listed in-app,
	// so the candidate sees each message once.
	ChannelWebhook = "WEBHOOK"
)

// Recipient forms beside a candidate's token subject and the public feed "*".
const (
	// RecipientAccountPrefix addresses one staff account by its token subject:
	// "account:<subject>". Its e-mail address is the account's, resolved when queued.
	RecipientAccountPrefix = "account:"
	// RecipientSecretariat addresses the secretariat: every enabled admin account, one row
	// each, expanded when queued.
	RecipientSecretariat = "role:admin"
	// RecipientUnfinishedApplicants stands for the candidates who uploaded documents to the
	// row's selection and have not submitted an application to it: named when queued.
	RecipientUnfinishedApplicants = "selection:unfinished-applicants"
)

// Notice is one notification a command queues for a named recipient (a candidate's subject,
// "account:<subject>" or "role:admin"), beside the ones enqueueNotifications derives from the
// command's changes: staff reminders and escalations, invitations.
type Notice struct {
	Recipient     string
	ApplicationID string
	// Kind overrides the command's kind as the notification's kind (e.g. "invitation").
	Kind string
	Text Text
}

// NotificationPreferences are a person's channels. In-app is always on.
type NotificationPreferences struct {
	// Subject is the person as the outbox's recipient names them: a candidate's actor ID
	// (ActorID of their token's issuer and subject), or "account:<subject>" for staff.
	Subject string
	Email   bool
	Webhook bool
	// Phone is where webhook messages go (WhatsApp or SMS); empty means the phone number
	// given in the application.
	Phone      string
	UpdateTime time.Time
}

// DefaultNotificationPreferences apply to a person who never chose: e-mail, no webhook.
func DefaultNotificationPreferences(subject string) NotificationPreferences {
	return NotificationPreferences{Subject: subject, Email: true}
}

type preferenceRow struct {
	Subject   string `gorm:"primaryKey"`
	Email     bool
	Webhook   bool
	Phone     string
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (preferenceRow) TableName() string { return "notification_preferences" }

func (r preferenceRow) prefs() NotificationPreferences {
	return NotificationPreferences{Subject: r.Subject, Email: r.Email, Webhook: r.Webhook, Phone: r.Phone, UpdateTime: r.UpdatedAt.UTC()}
}

// GetNotificationPreferences returns subject's preferences, the defaults if none are stored.
func (s *Store) GetNotificationPreferences(ctx context.Context, subject string) (NotificationPreferences, error) {
	var row preferenceRow
	err := s.db.WithContext(ctx).Take(&row, "subject = ?", subject).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return DefaultNotificationPreferences(subject), nil
	case err != nil:
		return NotificationPreferences{}, fmt.Errorf("store: get notification preferences: %w", err)
	}
	return row.prefs(), nil
}

// SetNotificationPreferences stores p; later notifications follow it (queued ones keep the
// channels they were queued for).
func (s *Store) SetNotificationPreferences(ctx context.Context, p NotificationPreferences) (NotificationPreferences, error) {
	const op = "store: set notification preferences"
	if p.Subject == "" || strings.ContainsAny(p.Phone, "\r\n") || len(p.Phone) > 32 {
		return NotificationPreferences{}, fmt.Errorf("%s: subject required, phone at most 32 characters: %w", op, ErrInvalidArgument)
	}
	row := preferenceRow{Subject: p.Subject, Email: p.Email, Webhook: p.Webhook, Phone: p.Phone, UpdatedAt: instant(p.UpdateTime)}
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = instant(time.Now())
	}
	err := retry(ctx, func() error {
		return s.db.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "subject"}},
			DoUpdates: clause.AssignmentColumns([]string{"email", "webhook", "phone", "updated_at"}),
		}).Create(&row).Error
	})
	if err != nil {
		return NotificationPreferences{}, fmt.Errorf("%s: %w", op, err)
	}
	return row.prefs(), nil
}

// expandStaff turns staff recipients into rows with an address: "role:admin" into one row
// per enabled admin account with an e-mail address, "account:<subject>" into the row of that
// account with its address. A staff account no longer there gets an in-app row only, so the
// event is not lost from its list if it comes back.
func expandStaff(tx *gorm.DB, rows []notificationRow) ([]notificationRow, error) {
	out := make([]notificationRow, 0, len(rows))
	for _, r := range rows {
		switch {
		case r.Recipient == RecipientSecretariat:
			var admins []accountRow
			if err := tx.Where("role = ? AND NOT disabled", "admin").Order("subject").Find(&admins).Error; err != nil {
				return nil, fmt.Errorf("find the secretariat's accounts: %w", err)
			}
			for _, a := range admins {
				c := r
				c.Recipient = RecipientAccountPrefix + a.Subject
				c.ID = sha256Hex([]byte(r.ID + "\x00" + c.Recipient))[:32]
				c.Email = a.Email
				out = append(out, c)
			}
		case r.Recipient == RecipientUnfinishedApplicants:
			rows, err := unfinishedApplicants(tx, r)
			if err != nil {
				return nil, err
			}
			out = append(out, rows...)
		case strings.HasPrefix(r.Recipient, RecipientAccountPrefix):
			// The workflow knows the committee of a selection created since actor IDs by
			// actor ID: it stands for (issuer, subject), and the account is the one with
			// both, which is also how the member reads their list (account:<token subject>).
			subject, email, err := accountOf(tx, strings.TrimPrefix(r.Recipient, RecipientAccountPrefix))
			if err != nil {
				return nil, fmt.Errorf("find a staff account: %w", err)
			}
			r.Recipient, r.Email = RecipientAccountPrefix+subject, email
			out = append(out, r)
		default:
			out = append(out, r)
		}
	}
	return out, nil
}

// unfinishedApplicants turns r into one row per candidate who uploaded a document to r's
// selection (not erased) and has not submitted an application there, addressed as their
// applications are (by their actor ID, the documents' owner), with the e-mail address of
// their account when there is one.
func unfinishedApplicants(tx *gorm.DB, r notificationRow) ([]notificationRow, error) {
	var owners []string
	err := tx.Model(&documentRow{}).Distinct("owner").
		Where("selection_id = ? AND state <> ? AND owner NOT IN (?)", r.SelectionID, DocumentStateErased,
			tx.Model(&applicationRow{}).Select("owner").Where("selection_id = ?", r.SelectionID)).
		Order("owner").Pluck("owner", &owners).Error
	if err != nil {
		return nil, fmt.Errorf("find candidates who have not finished applying: %w", err)
	}
	out := make([]notificationRow, 0, len(owners))
	for _, owner := range owners {
		c := r
		c.Recipient = owner
		c.ID = sha256Hex([]byte(r.ID + "\x00" + owner))[:32]
		// Applications of candidates recorded before actor IDs have subjects as owners.
		_, email, err := accountOf(tx, owner)
		if err != nil {
			return nil, fmt.Errorf("find a candidate's account: %w", err)
		}
		c.Email = email
		out = append(out, c)
	}
	return out, nil
}

// accountOf resolves id, an actor ID or (for people recorded before actor IDs) a token
// subject, to the token subject and the e-mail address of its enabled account; the address
// is empty when there is no such account.
func accountOf(tx *gorm.DB, id string) (subject, email string, err error) {
	subject = id
	q := tx.Where("subject = ? AND NOT disabled", id)
	var actor []actorRow
	if err := tx.Where("id = ?", id).Limit(1).Find(&actor).Error; err != nil {
		return "", "", err
	}
	if len(actor) == 1 {
		subject = actor[0].Subject
		q = tx.Where("issuer = ? AND subject = ? AND NOT disabled", actor[0].Issuer, actor[0].Subject)
	}
	var a []accountRow
	if err := q.Order("id").Limit(1).Find(&a).Error; err != nil {
		return "", "", err
	}
	if len(a) == 1 {
		email = a[0].Email
	}
	return subject, email, nil
}

// fanOut applies each recipient's preferences to rows queued on the e-mail channel: a
// recipient who turned e-mail off (or has no address) gets an in-app row instead, and one who
// chose the webhook with a phone number (their own or the application's, phones) gets a
// second row on that channel. The public feed and accounts' codes are not fanned out.
func fanOut(tx *gorm.DB, rows []notificationRow, phones map[string]string) ([]notificationRow, error) {
	subjects := map[string]bool{}
	for _, r := range rows {
		if r.Recipient != "*" && r.Kind != AccountKind {
			subjects[r.Recipient] = true
		}
	}
	if len(subjects) == 0 {
		return rows, nil
	}
	list := make([]string, 0, len(subjects))
	for s := range subjects {
		list = append(list, s)
	}
	prefs := map[string]NotificationPreferences{}
	for start := 0; start < len(list); start += 500 {
		var found []preferenceRow
		if err := tx.Where("subject IN ?", list[start:min(start+500, len(list))]).Find(&found).Error; err != nil {
			return nil, fmt.Errorf("read notification preferences: %w", err)
		}
		for _, p := range found {
			prefs[p.Subject] = p.prefs()
		}
	}
	out := make([]notificationRow, 0, len(rows))
	for _, r := range rows {
		if r.Recipient == "*" || r.Kind == AccountKind {
			out = append(out, r)
			continue
		}
		p, ok := prefs[r.Recipient]
		if !ok {
			p = DefaultNotificationPreferences(r.Recipient)
		}
		if !p.Email || (r.Email == "" && r.ApplicationID == "") {
			r.Channel = ChannelInApp
		}
		out = append(out, r)
		phone := p.Phone
		if phone == "" {
			phone = phones[r.ApplicationID]
		}
		if p.Webhook && phone != "" {
			w := r
			w.ID = sha256Hex([]byte(r.ID + "\x00" + ChannelWebhook))[:32]
			w.Channel, w.Address, w.Email = ChannelWebhook, phone, ""
			out = append(out, w)
		}
	}
	return out, nil
}
