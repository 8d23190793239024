package notify

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// relay is a real SMTP server (github.com/emersion/go-smtp) on a loopback port, which a
// test can stop (connections refused), make answer "try again later" (451), make refuse
// some recipients for good (550), and bring back. It counts what it accepted by Message-ID.
type relay struct {
	t    *testing.T
	addr string

	mu sync.Mutex
	// srv and lis are nil while the relay is stopped.
	srv *gosmtp.Server
	lis net.Listener
	// busy answers this many more MAIL commands with 451 before accepting again; -1 forever.
	busy int
	// refuse lists recipients answered 550.
	refuse map[string]bool
	// byID counts accepted messages by Message-ID; first and last are when the first and the
	// last of them arrived.
	byID        map[string]int
	bodies      map[string]string
	accepted    int
	first, last time.Time
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{t: t, refuse: map[string]bool{}, byID: map[string]int{}, bodies: map[string]string{}}
	lis := listenOutsideEphemeral(t)
	r.addr = lis.Addr().String()
	r.serve(lis)
	t.Cleanup(r.stop)
	return r
}

// listenOutsideEphemeral listens on a loopback port below Linux's ephemeral range
// (32768-60999). A stopped relay's port must stay free so that connections to it are
// refused; a port from the ephemeral range can be handed to any other process's listener
// meanwhile (this machine runs many tests at once), whose full backlog then makes
// connections hang instead.
func listenOutsideEphemeral(t *testing.T) net.Listener {
	t.Helper()
	for range 100 {
		if lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.N(12000))); err == nil {
			return lis
		}
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return nil
}

func (r *relay) serve(lis net.Listener) {
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(*gosmtp.Conn) (gosmtp.Session, error) { return &session{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = discardLog{}
	r.mu.Lock()
	r.srv, r.lis = srv, lis
	r.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// stop closes the listener and every connection: from now on connections are refused.
func (r *relay) stop() {
	r.mu.Lock()
	srv, lis := r.srv, r.lis
	r.srv, r.lis = nil, nil
	r.mu.Unlock()
	if srv != nil {
		// Serve may not have registered the listener yet; closing it here refuses
		// connections either way.
		_ = lis.Close()
		_ = srv.Close()
	}
}

// start listens again on the same address.
func (r *relay) start() {
	r.t.Helper()
	var lis net.Listener
	var err error
	// The port was ours a moment ago; give the kernel a few tries to hand it back.
	for range 50 {
		if lis, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("relay cannot listen on %s again: %v", r.addr, err)
	}
	r.serve(lis)
}

func (r *relay) setBusy(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy = n
}

func (r *relay) setRefused(addr string, refused bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse[addr] = refused
}

// counts returns a copy of the per-Message-ID counts and the total accepted.
func (r *relay) counts() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.byID))
	for k, v := range r.byID {
		out[k] = v
	}
	return out, r.accepted
}

func (r *relay) body(messageID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[messageID]
}

func (r *relay) span() (first, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first, r.last
}

type session struct {
	r  *relay
	to []string
}

var errBusy = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "relay busy, try again later"}

func (s *session) Mail(string, *gosmtp.MailOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.busy != 0 {
		if s.r.busy > 0 {
			s.r.busy--
		}
		return errBusy
	}
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.refuse[to] {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(b)))
	if err != nil {
		return &gosmtp.SMTPError{Code: 554, Message: "not a message"}
	}
	id := msg.Header.Get("Message-ID")
	if id == "" {
		return errors.New("no Message-ID")
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	now := time.Now()
	if s.r.accepted == 0 {
		s.r.first = now
	}
	s.r.last = now
	s.r.accepted++
	s.r.byID[id]++
	s.r.bodies[id] = string(b)
	return nil
}

func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }

type discardLog struct{}

func (discardLog) Printf(string, ...any) {}
func (discardLog) Println(...any)        {}

// silentRelay accepts TCP connections and never says a word: a relay that hangs.
func silentRelay(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return lis.Addr().String()
}
