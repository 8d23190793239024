package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/smtp"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

type fakeOutbox struct {
	mu      sync.Mutex
	pending []store.Notification
	marks   map[string]error
}

func (o *fakeOutbox) PendingNotifications(context.Context, int) ([]store.Notification, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]store.Notification(nil), o.pending...), nil
}

func (o *fakeOutbox) MarkNotification(_ context.Context, id string, _ time.Time, err error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.marks[id] = err
	for i := range o.pending {
		if o.pending[i].ID == id {
			if err == nil {
				o.pending = append(o.pending[:i], o.pending[i+1:]...)
			} else {
				o.pending[i].Attempts++
			}
			break
		}
	}
	return nil
}

type flakySender struct{ fail map[string]bool }

func (s flakySender) Send(_ context.Context, n store.Notification) error {
	if s.fail[n.ID] {
		return errors.New("mailbox unavailable")
	}
	return nil
}

func TestDispatcherDeliversAndRetries(t *testing.T) {
	ob := &fakeOutbox{marks: map[string]error{}, pending: []store.Notification{
		{ID: "n1", Recipient: "c1"}, {ID: "n2", Recipient: "c2"}, {ID: "n3", Recipient: "c3", Attempts: 10},
	}}
	d := NewDispatcher(ob, flakySender{fail: map[string]bool{"n2": true}}, nil, slog.New(slog.DiscardHandler), time.Second)
	sent, err := d.DeliverOnce(context.Background())
	if err != nil || sent != 1 {
		t.Fatalf("DeliverOnce = %d, %v; want 1 sent", sent, err)
	}
	if ob.marks["n1"] != nil || ob.marks["n2"] == nil {
		t.Errorf("marks = %v: n1 sent, n2 failed expected", ob.marks)
	}
	if _, tried := ob.marks["n3"]; tried {
		t.Error("a notification past its attempts was tried again")
	}
	if len(ob.pending) != 2 || ob.pending[0].ID != "n2" || ob.pending[0].Attempts != 1 {
		t.Errorf("pending after round = %+v", ob.pending)
	}
}

type book map[string]string

func (b book) EmailOf(_ context.Context, n store.Notification) (string, error) {
	if a, ok := b[n.Recipient]; ok {
		return a, nil
	}
	return "", errors.New("no address")
}

func TestSMTPSender(t *testing.T) {
	var gotTo []string
	var gotMsg string
	s := NewSMTPSender("mail.local:25", "seleksi@bkpsdm.example.go.id", nil, book{"c1": "calon@example.id", "bad": "x@y\r\nBcc: z@w"})
	s.send = func(_ string, _ smtp.Auth, _ string, to []string, msg []byte) error {
		gotTo, gotMsg = to, string(msg)
		return nil
	}
	n := store.Notification{ID: "n1", SelectionID: "kadis-2026", Recipient: "c1", ApplicationID: "app-1",
		Text: store.Text{ID: "Lamaran Anda lolos seleksi administrasi.", EN: "Your application passed the administrative screening."}}
	if err := s.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if len(gotTo) != 1 || gotTo[0] != "calon@example.id" {
		t.Errorf("to = %v", gotTo)
	}
	id := strings.Index(gotMsg, "Lamaran Anda lolos")
	en := strings.Index(gotMsg, "Your application passed")
	if id < 0 || en < 0 || id > en || !strings.Contains(gotMsg, "charset=UTF-8") {
		t.Errorf("message must carry Indonesian first, then English:\n%s", gotMsg)
	}
	n.Recipient = "bad"
	if err := s.Send(context.Background(), n); err == nil {
		t.Error("an address with a line break (header injection) was sent to")
	}
	n.Recipient = "unknown"
	if err := s.Send(context.Background(), n); err == nil {
		t.Error("a recipient without an address was reported sent")
	}
	// A notification that records the address the candidate gave goes there, whatever the
	// recipient's subject might resolve to.
	n.Recipient, n.Email = "c1", "alamat-lamaran@example.id"
	if err := s.Send(context.Background(), n); err != nil || len(gotTo) != 1 || gotTo[0] != "alamat-lamaran@example.id" {
		t.Errorf("sent to %v (%v), want the application's address", gotTo, err)
	}
	n.Email = "x@y\r\nBcc: z@w"
	if err := s.Send(context.Background(), n); err == nil {
		t.Error("a recorded address with a line break was sent to")
	}
	gotTo = nil
	broadcast := store.Notification{ID: "n2", SelectionID: "kadis-2026", Recipient: "*", Text: n.Text}
	if err := s.Send(context.Background(), broadcast); err != nil || gotTo != nil {
		t.Errorf("a broadcast announcement was mailed (%v) or failed: %v", gotTo, err)
	}
}

type recordingSender struct{ sent []store.Notification }

func (s *recordingSender) Send(_ context.Context, n store.Notification) error {
	s.sent = append(s.sent, n)
	return nil
}

// TestDispatcherRendersCodes: the outbox holds codes; what is sent is rendered then, in
// Indonesian and English. A notification queued before codes is sent with its texts.
func TestDispatcherRendersCodes(t *testing.T) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	ob := &fakeOutbox{marks: map[string]error{}, pending: []store.Notification{
		{ID: "n1", Recipient: "c1", Text: store.Text{Code: "status.not_appointed", Params: map[string]string{"rank": "1"}}},
		{ID: "n2", Recipient: "c2", Text: store.Text{Code: "APPLICATION_STATE_WITHDRAWN", EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."}},
	}}
	s := &recordingSender{}
	if _, err := NewDispatcher(ob, s, cat, slog.New(slog.DiscardHandler), time.Second).DeliverOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []store.Text{
		{Code: "status.not_appointed", ID: "Anda diusulkan pada peringkat 1, tetapi Pejabat Pembina Kepegawaian memilih calon lain untuk diangkat. Seleksi telah selesai.",
			EN: "You were proposed at rank 1, but the appointing official chose another candidate. The selection is closed."},
		{Code: "APPLICATION_STATE_WITHDRAWN", EN: "You withdrew your application.", ID: "Anda telah menarik lamaran."},
	}
	if len(s.sent) != 2 || !reflect.DeepEqual(s.sent[0].Text, want[0]) || !reflect.DeepEqual(s.sent[1].Text, want[1]) {
		t.Errorf("sent %+v", s.sent)
	}
}
