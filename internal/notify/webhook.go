package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

// Webhook deliveries reach the gateway an agency contracts for WhatsApp or SMS. Each is a
// JSON POST signed the way Standard Webhooks (standardwebhooks.com) signs, so a gateway can
// verify it with that project's libraries or in a few lines:
//
//	webhook-id:        the delivery ID (the same on every retry of one message: dedupe on it)
//	webhook-timestamp: seconds since the Unix epoch when this attempt was signed
//	webhook-signature: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))
//
// where key is the secret's bytes, or, for a secret written "whsec_<base64>" as Standard
// Webhooks issues them, the decoded bytes. A receiver recomputes the signature over the raw
// body, compares it in constant time, and refuses a timestamp more than five minutes from its
// clock (a replayed request). See VerifyWebhook, which does exactly that.

// Webhook headers.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookPayload is the JSON body of one delivery. It carries no name, NIP or e-mail: the
// recipient is an opaque subject and the address is the phone number the candidate gave for
// the gateway.
type WebhookPayload struct {
	// DeliveryID is the notification's ID on this channel, also in the webhook-id header.
	DeliveryID string `json:"deliveryId"`
	// Event is the kind of event (the command, "SubmitApplication", "invitation", ...) and
	// Code the message code (status.received...), for gateways that pick a template.
	Event       string `json:"event"`
	Code        string `json:"code,omitempty"`
	Selection   string `json:"selection"`
	Application string `json:"application,omitempty"`
	Recipient   string `json:"recipient"`
	// Address is where the gateway sends the message: the phone number (WhatsApp or SMS).
	Address string `json:"address"`
	// Text is the message, Indonesian and English.
	Text WebhookText `json:"text"`
	// Timestamp is when the event happened (RFC 3339, UTC).
	Timestamp string `json:"timestamp"`
}

// WebhookText is a message in each language.
type WebhookText struct {
	ID string `json:"id"`
	EN string `json:"en"`
}

// WebhookEndpoint is one gateway: where deliveries go, the secret that signs them, and the
// events it takes (empty: every event; otherwise event kinds or message codes).
type WebhookEndpoint struct {
	URL    string
	Secret []byte
	Events []string
}

// accepts reports whether the endpoint takes n's event.
func (e WebhookEndpoint) accepts(n store.Notification) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, n.Kind) || (n.Text.Code != "" && slices.Contains(e.Events, n.Text.Code))
}

// WebhookSecret reads a secret as configured: "whsec_<base64>" (Standard Webhooks) is
// decoded, anything else is used as it is. Surrounding white space (a file's newline) is
// dropped.
func WebhookSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "whsec_"); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("webhook secret: whsec_ is followed by invalid base64: %w", err)
		}
		return b, nil
	}
	if len(s) < 16 {
		return nil, errors.New("webhook secret: at least 16 characters are required")
	}
	return []byte(s), nil
}

// SignWebhook is the webhook-signature header value of body sent as delivery id at ts.
func SignWebhook(secret []byte, id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%s.%d.", id, ts.Unix())
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ErrWebhookSignature: a delivery's signature or timestamp does not verify.
var ErrWebhookSignature = errors.New("webhook signature does not verify")

// VerifyWebhook checks a received delivery as a gateway should: one of the signatures in
// the header (space-separated, for secret rotation) matches, and the timestamp is within
// tolerance of now.
func VerifyWebhook(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp)
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if id == "" || err != nil {
		return fmt.Errorf("missing delivery ID or timestamp: %w", ErrWebhookSignature)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp outside the tolerance: %w", ErrWebhookSignature)
	}
	want := SignWebhook(secret, id, ts, body)
	for _, got := range strings.Fields(h.Get(HeaderWebhookSignature)) {
		if hmac.Equal([]byte(got), []byte(want)) {
			return nil
		}
	}
	return ErrWebhookSignature
}

// WebhookSender posts notifications on the webhook channel to the agency's gateway.
type WebhookSender struct {
	endpoints []WebhookEndpoint
	client    *http.Client
	now       func() time.Time
}

// NewWebhookSender posts to the first of endpoints that accepts each event, with client
// (nil: a client without its own timeout; the dispatcher bounds each send) and clock now
// (nil: time.Now).
func NewWebhookSender(endpoints []WebhookEndpoint, client *http.Client, now func() time.Time) *WebhookSender {
	if client == nil {
		client = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	return &WebhookSender{endpoints: endpoints, client: client, now: now}
}

// Send posts one notification. An event no endpoint takes counts as delivered (the agency
// chose not to send it by WhatsApp or SMS). A 2xx answer is delivery; 408, 425, 429, 5xx, and
// 401/403 (a secret being rotated on the gateway's side) are retried; other 4xx answers say
// the request can never be accepted (ErrPermanent). The delivery ID is the same on every
// attempt, so a gateway that answered too late to be heard drops the second copy.
func (s *WebhookSender) Send(ctx context.Context, n store.Notification) error {
	i := slices.IndexFunc(s.endpoints, func(e WebhookEndpoint) bool { return e.accepts(n) })
	if i < 0 {
		return nil
	}
	ep := s.endpoints[i]
	if n.Address == "" {
		return fmt.Errorf("webhook notification without a phone number: %w", ErrPermanent)
	}
	body, err := json.Marshal(WebhookPayload{DeliveryID: n.ID, Event: n.Kind, Code: n.Text.Code, Selection: n.SelectionID,
		Application: n.ApplicationID, Recipient: n.Recipient, Address: n.Address, Text: WebhookText{ID: n.Text.ID, EN: n.Text.EN},
		Timestamp: n.CreateTime.UTC().Format(time.RFC3339)})
	if err != nil {
		return fmt.Errorf("webhook body: %w: %w", err, ErrPermanent)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w: %w", err, ErrPermanent)
	}
	ts := s.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Seleksi-Webhook/1")
	req.Header.Set(HeaderWebhookID, n.ID)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, SignWebhook(ep.Secret, n.ID, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		// The URL may carry a token in its query; the error names the host, not the query.
		return fmt.Errorf("webhook post to %s: %w", req.URL.Host, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests,
		c == http.StatusUnauthorized, c == http.StatusForbidden, c >= 500:
		return fmt.Errorf("webhook gateway %s answered %d", req.URL.Host, c)
	default:
		return fmt.Errorf("webhook gateway %s refused the delivery (%d): %w", req.URL.Host, c, ErrPermanent)
	}
}

// Channels sends each notification on its own channel (store.Notification.Channel): e-mail
// through Email, webhooks through Webhook; an in-app row has nothing to send, and is
// delivered once it is listed, which it already is.
type Channels struct {
	Email   Sender
	Webhook Sender // nil: no gateway configured
}

// Send delivers n on its channel.
func (c Channels) Send(ctx context.Context, n store.Notification) error {
	switch n.Channel {
	case store.ChannelInApp:
		return nil
	case store.ChannelWebhook:
		if c.Webhook == nil {
			return fmt.Errorf("no webhook gateway is configured (-notify-webhook-url): %w", ErrPermanent)
		}
		return c.Webhook.Send(ctx, n)
	default: // EMAIL, and rows queued before channels
		return c.Email.Send(ctx, n)
	}
}
