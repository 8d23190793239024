package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

type rejectingRelay struct{}

func (rejectingRelay) Send(_ context.Context, n store.Notification) error {
	return errors.New("550 5.1.1 <" + n.Email + ">: Recipient address rejected; also tried " + strings.ToUpper(n.Email))
}

// TestFailedDeliveryLogsNoAddress: a relay that quotes the recipient in its error does not
// put the candidate's address into the log.
func TestFailedDeliveryLogsNoAddress(t *testing.T) {
	ob := &fakeOutbox{marks: map[string]error{}, pending: []store.Notification{
		{ID: "n1", Recipient: "act-1", ApplicationID: "app-1", Email: "siti.rahma+seleksi@contoh.go.id"},
	}}
	var log bytes.Buffer
	d := NewDispatcher(ob, rejectingRelay{}, nil, slog.New(slog.NewTextHandler(&log, nil)), time.Second)
	if _, err := d.DeliverOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(log.String()), "siti.rahma") || !strings.Contains(log.String(), "<address>") {
		t.Fatalf("the log shows the address or hides the reason:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "Recipient address rejected") {
		t.Fatalf("the relay's reason is gone from the log:\n%s", log.String())
	}
}
