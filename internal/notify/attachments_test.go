package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/bkpsdm/seleksi/internal/invite"
	"github.com/bkpsdm/seleksi/internal/store"
)

type attachmentMap map[string]store.Attachment

func (m attachmentMap) NotificationAttachments(_ context.Context, ids []string) (map[string]store.Attachment, error) {
	out := map[string]store.Attachment{}
	for _, id := range ids {
		if a, ok := m[id]; ok {
			out[id] = a
		}
	}
	return out, nil
}

// TestInvitationMail: a notification with an attachment reaches a real SMTP server as
// multipart/mixed, its text first and the .ics second, which parses back with go-ical to the
// invitation's UID and SEQUENCE; a notification without one stays a plain text message.
func TestInvitationMail(t *testing.T) {
	r := startRelay(t)
	wib := time.FixedZone("WIB", 7*3600)
	start := time.Date(2026, 12, 8, 9, 0, 0, 0, wib)
	ics, err := invite.Build(invite.Request, invite.Event{UID: "asg-1@seleksi.test", Sequence: 1, Summary: "Wawancara akhir",
		Start: start, End: start.Add(time.Hour), Zone: wib, Location: "Ruang Rapat Sekda", Stamp: start.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSMTPSender(r.addr, "seleksi@bkpsdm.example.go.id", nil, nil)
	s.UseAttachments(attachmentMap{"n-ics": {Name: "undangan-stage-interview.ics", MediaType: invite.MediaType(invite.Request), Content: ics}})
	ctx := context.Background()
	text := store.Text{ID: "Anda diundang ke wawancara akhir.", EN: "You are invited to the final interview."}
	for _, id := range []string{"n-ics", "n-plain"} {
		if err := s.Send(ctx, store.Notification{ID: id, SelectionID: "sel-1", ApplicationID: "app-1", Email: "calon@example.go.id",
			Kind: store.NotificationInvite, Text: text, CreateTime: start}); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
	}

	msg, err := mail.ReadMessage(strings.NewReader(r.body(messageID("n-ics"))))
	if err != nil {
		t.Fatalf("read the received message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q, %v; want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	first, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(first)
	if !strings.HasPrefix(first.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), text.ID) || !strings.Contains(string(body), text.EN) {
		t.Errorf("first part %v: %q", first.Header, body)
	}
	second, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if second.FileName() != "undangan-stage-interview.ics" || !strings.HasPrefix(second.Header.Get("Content-Type"), "text/calendar") ||
		!strings.Contains(second.Header.Get("Content-Type"), "method=REQUEST") {
		t.Errorf("second part headers %v", second.Header)
	}
	// multipart.Reader does not undo base64 (only quoted-printable); decode it as a client would.
	raw, _ := io.ReadAll(second)
	got, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	if err != nil || !bytes.Equal(got, ics) {
		t.Fatalf("attachment differs from the .ics sent (%v)", err)
	}
	cal, err := ical.NewDecoder(bytes.NewReader(got)).Decode()
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf("the attachment does not parse: %v", err)
	}
	if uid, _ := cal.Events()[0].Props.Text(ical.PropUID); uid != "asg-1@seleksi.test" {
		t.Errorf("UID %q", uid)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("a third part: %v", err)
	}

	plain, err := mail.ReadMessage(strings.NewReader(r.body(messageID("n-plain"))))
	if err != nil {
		t.Fatal(err)
	}
	if ct := plain.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("a notification without attachment was sent as %q", ct)
	}
}
