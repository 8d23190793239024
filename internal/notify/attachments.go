package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/bkpsdm/seleksi/internal/store"
)

// Attachments finds the files notifications carry (an invitation's .ics, issue 13), by
// notification ID; the store implements it. Most notifications have none.
type Attachments interface {
	NotificationAttachments(ctx context.Context, ids []string) (map[string]store.Attachment, error)
}

// UseAttachments makes the sender look up each notification's attachment and, when it has
// one, mail a multipart/mixed message: the text as before, then the file.
func (s *SMTPSender) UseAttachments(a Attachments) { s.attachments = a }

// attachmentOf returns the notification's attachment, or nil.
func (s *SMTPSender) attachmentOf(ctx context.Context, n store.Notification) (*store.Attachment, error) {
	if s.attachments == nil {
		return nil, nil
	}
	m, err := s.attachments.NotificationAttachments(ctx, []string{n.ID})
	if err != nil {
		return nil, fmt.Errorf("attachment of notification %s: %w", n.ID, err)
	}
	if a, ok := m[n.ID]; ok {
		return &a, nil
	}
	return nil, nil
}

// withAttachment turns the plain message (headers, blank line, text body) into a
// multipart/mixed one whose first part is the text and whose second is the file, in
// base64 so that no relay rewraps its lines (an .ics folds its own lines at 75 octets).
func withAttachment(plain []byte, a store.Attachment) ([]byte, error) {
	head, body, ok := bytes.Cut(plain, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("message without a body")
	}
	var out bytes.Buffer
	mw := multipart.NewWriter(&out)
	var hdr bytes.Buffer
	for _, line := range strings.Split(string(head), "\r\n") {
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(name) {
		case "content-type", "content-transfer-encoding":
			continue // replaced below
		}
		hdr.WriteString(line + "\r\n")
	}
	fmt.Fprintf(&hdr, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", mw.Boundary())
	text, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=UTF-8"},
		"Content-Transfer-Encoding": {"8bit"},
	})
	if err != nil {
		return nil, err
	}
	if _, err := text.Write(body); err != nil {
		return nil, err
	}
	name := mime.QEncoding.Encode("utf-8", a.Name)
	file, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {a.MediaType},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString(a.Content)
	for len(enc) > 76 {
		if _, err := file.Write([]byte(enc[:76] + "\r\n")); err != nil {
			return nil, err
		}
		enc = enc[76:]
	}
	if _, err := file.Write([]byte(enc + "\r\n")); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(hdr.Bytes(), out.Bytes()...), nil
}
