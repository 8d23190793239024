package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// TestNotificationStatesAreTheAPIEnum ties the store's state names to the proto enum, the one
// source of the names: a state the API cannot name would be shown as UNSPECIFIED.
func TestNotificationStatesAreTheAPIEnum(t *testing.T) {
	tests := []struct {
		store string
		api   seleksiv1.NotificationState
	}{
		{store.NotificationPending, seleksiv1.NotificationState_NOTIFICATION_STATE_PENDING},
		{store.NotificationSent, seleksiv1.NotificationState_NOTIFICATION_STATE_SENT},
		{store.NotificationDead, seleksiv1.NotificationState_NOTIFICATION_STATE_DEAD},
	}
	for _, tt := range tests {
		if got := seleksiv1.NotificationState(seleksiv1.NotificationState_value[tt.store]); got != tt.api {
			t.Errorf("store state %q is %v in the API, want %v", tt.store, got, tt.api)
		}
	}
	if n := len(seleksiv1.NotificationState_name); n != len(tests)+1 {
		t.Errorf("the API has %d notification states, the store %d (plus UNSPECIFIED)", n, len(tests))
	}
	// Channels too: each of the store's is its own in the API.
	for c, want := range map[string]seleksiv1.NotificationChannel{
		store.ChannelEmail:   seleksiv1.NotificationChannel_NOTIFICATION_CHANNEL_EMAIL,
		store.ChannelInApp:   seleksiv1.NotificationChannel_NOTIFICATION_CHANNEL_IN_APP,
		store.ChannelWebhook: seleksiv1.NotificationChannel_NOTIFICATION_CHANNEL_WEBHOOK,
	} {
		if got := channelOf(c); got != want || seleksiv1.NotificationChannel_name[int32(got)] != "NOTIFICATION_CHANNEL_"+c {
			t.Errorf("channel %s is %v in the API", c, got)
		}
	}
}

// TestNotificationPreferences: each caller reads and changes only their own channels, keyed
// as the outbox addresses them (a candidate by actor ID, staff as account:<subject>); the
// mask changes only the fields it names, and an unknown field is refused.
func TestNotificationPreferences(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := NewNotificationServer(st, nil, slog.New(slog.DiscardHandler))
	cand := auth.WithPrincipal(ctx, auth.Principal{Issuer: "local", Subject: "calon-1", Role: auth.RoleCandidate})
	chair := auth.WithPrincipal(ctx, auth.Principal{Issuer: "local", Subject: "ketua", Role: auth.RoleCommittee})

	got, err := srv.GetNotificationPreferences(cand, &seleksiv1.GetNotificationPreferencesRequest{Name: preferencesName})
	if p := got.GetNotificationPreferences(); err != nil || !p.GetEmail() || p.GetWebhook() || p.GetName() != preferencesName || p.GetUpdateTime() != nil {
		t.Fatalf("defaults = %v, %v", p, err)
	}
	_, err = srv.UpdateNotificationPreferences(cand, &seleksiv1.UpdateNotificationPreferencesRequest{
		NotificationPreferences: &seleksiv1.NotificationPreferences{Email: false, Webhook: true, Phone: "+6281234567890"}})
	if err != nil {
		t.Fatal(err)
	}
	// Only the phone changes under a mask naming it.
	upd, err := srv.UpdateNotificationPreferences(cand, &seleksiv1.UpdateNotificationPreferencesRequest{
		NotificationPreferences: &seleksiv1.NotificationPreferences{Email: true, Phone: "+6281200000000"},
		UpdateMask:              &fieldmaskpb.FieldMask{Paths: []string{"phone"}}})
	if p := upd.GetNotificationPreferences(); err != nil || p.GetEmail() || !p.GetWebhook() || p.GetPhone() != "+6281200000000" {
		t.Fatalf("after a masked update = %v, %v", p, err)
	}
	// Stored under the candidate's actor ID, which their notifications are addressed to.
	actor, err := st.ActorID(ctx, "local", "calon-1")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := st.GetNotificationPreferences(ctx, actor); err != nil || p.Email || !p.Webhook {
		t.Fatalf("stored for %s: %+v, %v", actor, p, err)
	}
	// The chair's own preferences are untouched and kept as staff are addressed.
	if got, err := srv.GetNotificationPreferences(chair, &seleksiv1.GetNotificationPreferencesRequest{Name: preferencesName}); err != nil || !got.GetNotificationPreferences().GetEmail() {
		t.Fatalf("chair's = %v, %v", got, err)
	}
	if _, err := srv.UpdateNotificationPreferences(chair, &seleksiv1.UpdateNotificationPreferencesRequest{
		NotificationPreferences: &seleksiv1.NotificationPreferences{Email: false}}); err != nil {
		t.Fatal(err)
	}
	if p, err := st.GetNotificationPreferences(ctx, store.RecipientAccountPrefix+"ketua"); err != nil || p.Email {
		t.Fatalf("chair's stored = %+v, %v", p, err)
	}
	_, err = srv.UpdateNotificationPreferences(cand, &seleksiv1.UpdateNotificationPreferencesRequest{
		NotificationPreferences: &seleksiv1.NotificationPreferences{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("mask naming name: %v, want InvalidArgument", err)
	}
}
