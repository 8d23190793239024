package server

import (
	"testing"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
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
}
