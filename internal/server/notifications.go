package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// NotificationStore is the outbox as the secretariat sees it.
type NotificationStore interface {
	Actors
	ListNotifications(ctx context.Context, opts store.ListOptions) (store.Page[store.Notification], error)
	RetryNotification(ctx context.Context, id string) (store.Notification, error)
	GetNotificationPreferences(ctx context.Context, subject string) (store.NotificationPreferences, error)
	SetNotificationPreferences(ctx context.Context, p store.NotificationPreferences) (store.NotificationPreferences, error)
}

// NotificationServer implements NotificationService: listing the outbox (the dead letters
// above all) and retrying what could not be delivered.
type NotificationServer struct {
	seleksiv1.UnimplementedNotificationServiceServer
	store  NotificationStore
	cat    *i18n.Catalog
	logger *slog.Logger
}

var _ seleksiv1.NotificationServiceServer = (*NotificationServer)(nil)

// NewNotificationServer serves the outbox in st; cat renders the notifications' texts.
func NewNotificationServer(st NotificationStore, cat *i18n.Catalog, logger *slog.Logger) *NotificationServer {
	return &NotificationServer{store: st, cat: cat, logger: logger}
}

var (
	msgNotificationNotFound = i18n.Text{ID: "notifikasi tidak ditemukan", EN: "notification not found"}
	msgPreferencesMask      = i18n.Text{
		ID: "update_mask hanya boleh berisi email, webhook dan phone",
		EN: "update_mask may name only email, webhook and phone"}
	msgNotificationSent = i18n.Text{
		ID: "notifikasi ini sudah terkirim dan tidak dikirim dua kali",
		EN: "this notification was delivered and is never sent twice"}
)

// ListNotifications lists one page of the outbox; a candidate lists the notifications sent
// to them and nothing else.
func (s *NotificationServer) ListNotifications(ctx context.Context, req *seleksiv1.ListNotificationsRequest) (*seleksiv1.ListNotificationsResponse, error) {
	opts := store.ListOptions{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Filter: req.GetFilter(), OrderBy: req.GetOrderBy()}
	if principal(ctx).Role == auth.RoleCandidate {
		me, err := callerActor(ctx, s.store)
		if err != nil {
			return nil, storeError(ctx, s.logger, err)
		}
		opts.Owner = me.Subject
	}
	page, err := s.store.ListNotifications(ctx, opts)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListNotificationsResponse{NextPageToken: page.NextPageToken, TotalSize: int32(min(page.TotalSize, 1<<31-1))}
	for _, n := range page.Items {
		v := s.view(n)
		if opts.Owner != "" {
			// The relay's answer is for the secretariat, who can act on it.
			v.LastError = ""
		}
		out.Notifications = append(out.Notifications, v)
	}
	return out, nil
}

// RetryNotification makes a notification due now with a fresh set of attempts.
func (s *NotificationServer) RetryNotification(ctx context.Context, req *seleksiv1.RetryNotificationRequest) (*seleksiv1.RetryNotificationResponse, error) {
	id := strings.TrimPrefix(req.GetName(), "notifications/")
	n, err := s.store.RetryNotification(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, localizedError(ctx, codes.NotFound, msgNotificationNotFound)
	case errors.Is(err, store.ErrFailedPrecondition):
		return nil, localizedError(ctx, codes.FailedPrecondition, msgNotificationSent)
	case err != nil:
		return nil, storeError(ctx, s.logger, err)
	}
	s.logger.InfoContext(ctx, "notification retried by the secretariat", "notification", id, "selection", n.SelectionID)
	return &seleksiv1.RetryNotificationResponse{Notification: s.view(n)}, nil
}

// view is a notification as the API shows it: the application it concerns, never the
// candidate's address or token subject.
func (s *NotificationServer) view(n store.Notification) *seleksiv1.Notification {
	v := &seleksiv1.Notification{
		Name:            "notifications/" + n.ID,
		Kind:            n.Kind,
		State:           seleksiv1.NotificationState(seleksiv1.NotificationState_value[n.State]),
		Text:            localized(s.cat, storeMsg(n.Text)),
		Attempts:        uint32(max(n.Attempts, 0)),
		LastError:       n.LastError,
		CreateTime:      ts(n.CreateTime),
		LastAttemptTime: ts(n.LastAttemptTime),
		NextAttemptTime: ts(n.NextAttemptTime),
		SendTime:        ts(n.SendTime),
		DeadTime:        ts(n.DeadTime),
		Channel:         channelOf(n.Channel),
	}
	// An account's notice (a one-time code) belongs to no selection.
	if n.SelectionID != "" {
		v.Selection = selectionName(n.SelectionID)
	}
	if n.ApplicationID != "" {
		v.Application = applicationName(n.SelectionID, n.ApplicationID)
	}
	return v
}

func channelOf(c string) seleksiv1.NotificationChannel {
	switch c {
	case store.ChannelInApp:
		return seleksiv1.NotificationChannel_NOTIFICATION_CHANNEL_IN_APP
	case store.ChannelWebhook:
		return seleksiv1.NotificationChannel_NOTIFICATION_CHANNEL_WEBHOOK
	}
	return seleksiv1.NotificationChannel_NOTIFICATION_CHANNEL_EMAIL
}

// preferencesName is the one name of the caller's preferences.
const preferencesName = "accounts/me/notificationPreferences"

// recipientOf is the caller as the outbox names recipients: a candidate by actor ID, as
// their applications' notifications are addressed; staff as account:<token subject>, as the
// reminders and escalations to them are.
func (s *NotificationServer) recipientOf(ctx context.Context) (string, error) {
	p := principal(ctx)
	if p.Role == auth.RoleCandidate {
		me, err := callerActor(ctx, s.store)
		if err != nil {
			return "", err
		}
		return me.Subject, nil
	}
	if p.Subject == "" {
		return "", errors.New("server: no authenticated caller")
	}
	return store.RecipientAccountPrefix + p.Subject, nil
}

// GetNotificationPreferences returns the caller's channels.
func (s *NotificationServer) GetNotificationPreferences(ctx context.Context, _ *seleksiv1.GetNotificationPreferencesRequest) (*seleksiv1.GetNotificationPreferencesResponse, error) {
	who, err := s.recipientOf(ctx)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	p, err := s.store.GetNotificationPreferences(ctx, who)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.GetNotificationPreferencesResponse{NotificationPreferences: preferencesView(p)}, nil
}

// UpdateNotificationPreferences changes the fields of the caller's channels that the mask
// names (all of them when it names none).
func (s *NotificationServer) UpdateNotificationPreferences(ctx context.Context, req *seleksiv1.UpdateNotificationPreferencesRequest) (*seleksiv1.UpdateNotificationPreferencesResponse, error) {
	who, err := s.recipientOf(ctx)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	cur, err := s.store.GetNotificationPreferences(ctx, who)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	in := req.GetNotificationPreferences()
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		paths = []string{"email", "webhook", "phone"}
	}
	for _, f := range paths {
		switch f {
		case "email":
			cur.Email = in.GetEmail()
		case "webhook":
			cur.Webhook = in.GetWebhook()
		case "phone":
			cur.Phone = in.GetPhone()
		default:
			return nil, localizedError(ctx, codes.InvalidArgument, msgPreferencesMask)
		}
	}
	cur.Subject, cur.UpdateTime = who, time.Now()
	saved, err := s.store.SetNotificationPreferences(ctx, cur)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.UpdateNotificationPreferencesResponse{NotificationPreferences: preferencesView(saved)}, nil
}

func preferencesView(p store.NotificationPreferences) *seleksiv1.NotificationPreferences {
	return &seleksiv1.NotificationPreferences{Name: preferencesName, Email: p.Email, Webhook: p.Webhook, Phone: p.Phone,
		UpdateTime: ts(p.UpdateTime)}
}
