package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// mailbox is a real SMTP server (github.com/emersion/go-smtp) that keeps every message by
// recipient.
type mailbox struct {
	mu   sync.Mutex
	mail map[string][]string
}

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	m := &mailbox{mail: map[string][]string{}}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &mailSession{m: m}, nil }))
	srv.Domain = "mail.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m, lis.Addr().String()
}

func (m *mailbox) of(addr string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.mail[addr]...)
}

type mailSession struct {
	m  *mailbox
	to []string
}

func (s *mailSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, to := range s.to {
		s.m.mail[to] = append(s.m.mail[to], string(b))
	}
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

// TestCandidateIsToldByEmail: a candidate applies through the REST API and is mailed that
// the application was received, with the close of the announcement in the agency's zone;
// when the stage result is published they are mailed the result with the last minute they
// may object, in the agency's zone (WIB). The mail goes through the app's own notification
// wiring (startNotifications) to a real SMTP server.
func TestCandidateIsToldByEmail(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/notify.db", server.Deadlines{})
	ctx := context.Background()
	box, addr := startMailbox(t)

	tok, err := api.key.Mint(auth.MintOptions{Subject: "cand-c", Role: auth.RoleCandidate, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"candidate": map[string]any{"fullName": "Calon C", "nip": "197506152000010003",
		"email": "calon.c@example.go.id", "birthDate": "1975-06-15", "educationLevel": "EDUCATION_LEVEL_MASTER",
		"currentPost": "Sekretaris Dinas", "currentAgency": "Pemkab Contoh", "yearsOfExperience": 10, "yearsInAdministratorPost": 3}})
	req, _ := http.NewRequest(http.MethodPost, api.base+"/v1/selections/"+selOpen+"/applications?requestId=submit-cand-c", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var submitted struct{ Application struct{ Name string } }
	if err := json.Unmarshal(raw, &submitted); err != nil || resp.StatusCode != http.StatusOK || submitted.Application.Name == "" {
		t.Fatalf("submit: %d %s", resp.StatusCode, raw)
	}
	appID := submitted.Application.Name[strings.LastIndex(submitted.Application.Name, "/")+1:]

	cfg, err := config.Parse([]string{"-smtp-addr", addr, "-smtp-from", "seleksi@bkpsdm.example.go.id", "-notify-interval", "20ms"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	a := &App{store: api.store, catalog: cat}
	if err := a.startNotifications(cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.stopNotifications)

	waitMail := func(what string, n int) []string {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute) // bounds a hang; measures nothing
		for len(box.of("calon.c@example.go.id")) < n {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s; mail so far: %q", what, box.of("calon.c@example.go.id"))
			}
			time.Sleep(20 * time.Millisecond)
		}
		return box.of("calon.c@example.go.id")
	}
	mail := waitMail("the application-received mail", 1)
	if m := mail[0]; !strings.Contains(m, "Lamaran Anda telah diterima") || !strings.Contains(m, "WIB") || !strings.Contains(m, "Your application was received") {
		t.Fatalf("received mail:\n%s", m)
	}

	// The administrative screening's result, as the workflow records it: a code with the
	// stage and the objection deadline (an instant) in the agency's zone.
	deadline := time.Date(2026, 12, 10, 17, 0, 0, 0, time.UTC) // 11 December 00:00 WIB
	if _, err := api.store.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen, Key: "advance-1", Seq: 1,
		Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: time.Now().UTC(), Stage: "STAGE_COMPETENCY_TEST",
		Applications: []store.ApplicationChange{{ApplicationID: appID, State: store.StateEliminated, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Reason: "documents",
			Status: &store.Text{Code: workflows.CodeStatusEliminated, Params: map[string]string{"stage": "STAGE_ADMINISTRATIVE_SCREENING",
				"reason": "Ijazah tidak dilegalisasi.", "deadline": deadline.Format(time.RFC3339), "zone": "WIB"}}}}}); err != nil {
		t.Fatal(err)
	}
	mail = waitMail("the stage result mail", 2)
	m := mail[1]
	for _, want := range []string{"Anda tidak lulus tahap", "Ijazah tidak dilegalisasi.", "sampai 10 Desember 2026 pukul 23.59 WIB", "23:59 WIB on 10 December 2026"} {
		if !strings.Contains(m, want) {
			t.Errorf("stage result mail lacks %q:\n%s", want, m)
		}
	}
	if len(mail) != 2 {
		t.Errorf("%d mails, want 2", len(mail))
	}
}
