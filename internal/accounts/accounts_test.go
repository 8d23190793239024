package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
)

// The tests run every case on SQLite and on PostgreSQL, through the real store and its
// outbox: codes are read from the notifications the service queued, as a mail would carry
// them.

var drivers = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seleksi.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.SchemaURL(t) }},
}

// cheap are hashing parameters fit for tests under the race detector; production uses
// accounts.DefaultArgon2.
var cheap = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	st    *store.Store
	svc   *accounts.Service
	clock *clock
	logs  *syncBuffer
	// secrets must never appear in the service's log: addresses, NIPs, names, codes.
	mu      sync.Mutex
	secrets []string
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, clock: &clock{t: t0}, logs: &syncBuffer{}}
	e.svc = accounts.New(st, accounts.Options{Now: e.clock.Now, Argon2: cheap},
		slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		logs := e.logs.String()
		if strings.Contains(logs, "@") {
			t.Errorf("the service's log holds an e-mail address:\n%s", logs)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, s := range e.secrets {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("the service's log holds %q:\n%s", s, logs)
			}
		}
	})
	return e
}

func (e *env) secret(s ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets = append(e.secrets, s...)
}

const password = "kata-sandi-rahasia"

// register registers a candidate and returns the account; the name, address and NIP are
// secrets of the log.
func (e *env) register(t *testing.T, name, nip, email string) accounts.Account {
	t.Helper()
	e.secret(name, nip, email, accounts.NormalizeEmail(email))
	a, err := e.svc.Register(context.Background(), accounts.Registration{FullName: name, NIP: nip, Email: email, Password: password})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return a
}

// notices returns the account notices queued for an address, oldest first.
func (e *env) notices(t *testing.T, email string) []store.Notification {
	t.Helper()
	pending, err := e.st.PendingNotifications(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Notification
	for _, n := range pending {
		if n.Email == accounts.NormalizeEmail(email) && n.Kind == store.AccountKind {
			out = append(out, n)
		}
	}
	return out
}

// code is the code of the newest notice with the message code msg sent to email.
func (e *env) code(t *testing.T, email, msg string) string {
	t.Helper()
	ns := e.notices(t, email)
	for i := len(ns) - 1; i >= 0; i-- {
		if ns[i].Text.Code == msg {
			c := ns[i].Text.Params["code"]
			e.secret(c)
			return c
		}
	}
	t.Fatalf("no %s notice to %s", msg, email)
	return ""
}

// confirmed registers and confirms a candidate.
func (e *env) confirmed(t *testing.T, name, nip, email string) accounts.Account {
	t.Helper()
	e.register(t, name, nip, email)
	a, err := e.svc.Confirm(context.Background(), email, e.code(t, email, accounts.MsgConfirmCode))
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return a
}

func wrongCode(c string) string {
	if c == "000000" {
		return "000001"
	}
	return "000000"
}

func TestAccounts(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"RegisterConfirmSignIn", testRegisterConfirmSignIn},
		{"RegistrationValidation", testRegistrationValidation},
		{"Duplicates", testDuplicates},
		{"UnconfirmedNIP", testUnconfirmedNIP},
		{"WrongCodesExhaustCode", testWrongCodesExhaustCode},
		{"ExpiredCode", testExpiredCode},
		{"Lockout", testLockout},
		{"LockoutConcurrent", testLockoutConcurrent},
		{"ResetPassword", testResetPassword},
		{"ResetDoesNotConfirmNIP", testResetDoesNotConfirmNIP},
		{"CodesPerHour", testCodesPerHour},
		{"CodesPerDay", testCodesPerDay},
		{"CreateStaffAccount", testCreateStaffAccount},
		{"DisableAndList", testDisableAndList},
		{"SetupOnce", testSetupOnce},
		{"Seats", testSeats},
		{"External", testExternal},
		{"Seed", testSeed},
		{"LogSenderPrintsCode", testLogSenderPrintsCode},
	}
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, newEnv(t, d.url(t)))
				})
			}
		})
	}
}

func testRegisterConfirmSignIn(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197506152000031001"
	a := e.register(t, "Calon Satu", nip, "  Calon.Satu@Example.go.id ")
	if a.Role != auth.RoleCandidate || a.Issuer != auth.LocalIssuer || !strings.HasPrefix(a.Subject, "akun-") || a.NIP != nip ||
		a.Email != "calon.satu@example.go.id" || a.EmailConfirmed || a.Lang != "id" || !strings.HasPrefix(a.ID, "acc_") || !a.CreatedAt.Equal(t0) {
		t.Fatalf("registered %+v", a)
	}
	ns := e.notices(t, a.Email)
	if len(ns) != 1 || ns[0].Recipient != a.ID || ns[0].SelectionID != "" || ns[0].Text.Code != accounts.MsgConfirmCode ||
		ns[0].Text.Params["minutes"] != "30" || len(ns[0].Text.Params["code"]) != 6 {
		t.Fatalf("notices %+v", ns)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); !errors.Is(err, accounts.ErrNotConfirmed) {
		t.Fatalf("sign-in before confirming: %v, want ErrNotConfirmed", err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, "salah-kata-sandi"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("wrong password before confirming: %v, want ErrInvalidCredentials (no hint that the address is unconfirmed)", err)
	}
	got, err := e.svc.Confirm(ctx, "CALON.SATU@example.go.id", " "+e.code(t, a.Email, accounts.MsgConfirmCode)+" ")
	if err != nil || !got.EmailConfirmed || got.ID != a.ID {
		t.Fatalf("confirm: %+v, %v", got, err)
	}
	in, err := e.svc.SignIn(ctx, "Calon.Satu@example.go.id", password)
	if err != nil || in.ID != a.ID || !in.EmailConfirmed {
		t.Fatalf("sign-in: %+v, %v", in, err)
	}
	if _, err := e.svc.SignIn(ctx, "nobody@example.go.id", password); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("unknown address: %v", err)
	}
	// Without a NIP the subject is opaque.
	b := e.register(t, "Calon Dua", "", "dua@example.go.id")
	if !strings.HasPrefix(b.Subject, "akun-") || b.NIP != "" {
		t.Fatalf("subject without NIP = %q", b.Subject)
	}
	// Resending to a confirmed address sends nothing.
	if err := e.svc.ResendConfirmation(ctx, a.Email); err != nil || len(e.notices(t, a.Email)) != 1 {
		t.Fatalf("resend to a confirmed address: %v, %d notices", err, len(e.notices(t, a.Email)))
	}
	if got, err := e.svc.Get(ctx, a.ID); err != nil || !got.EmailConfirmed {
		t.Fatalf("get: %+v, %v", got, err)
	}
}

func testRegistrationValidation(t *testing.T, e *env) {
	ctx := context.Background()
	_, err := e.svc.Register(ctx, accounts.Registration{FullName: " ", NIP: "12345", Email: "bukan alamat", Password: "pendek", Lang: "fr"})
	if !errors.Is(err, accounts.ErrInvalidInput) {
		t.Fatalf("bad registration: %v", err)
	}
	got := map[string]string{}
	for _, fe := range accounts.FieldErrors(err) {
		got[fe.Field] = fe.Code
	}
	want := map[string]string{"full_name": "required", "nip": "invalid", "email": "invalid", "password": "too_short", "lang": "invalid"}
	if len(got) != len(want) {
		t.Fatalf("field errors %v, want %v", got, want)
	}
	for f, c := range want {
		if got[f] != c {
			t.Errorf("field %s: %q, want %q", f, got[f], c)
		}
	}
	const email, nip = "calon@example.go.id", "197506152000031001"
	tests := []struct {
		name, password string
		code           string
	}{
		{"nine characters", "123456789", accounts.CodeTooShort},
		{"ten characters", "1234567890", ""},
		{"ten characters of Javanese script", strings.Repeat("ꦲ", 10), ""},
		{"256 characters", strings.Repeat("a", 256), ""},
		{"257 characters", strings.Repeat("a", 257), accounts.CodeTooLong},
		{"the e-mail address", " CALON@example.go.id", accounts.CodeSameAsEmail},
		{"the NIP", nip, accounts.CodeSameAsNIP},
		{"a NUL byte", "kata-sandi\x00x", accounts.CodeInvalid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := strings.Replace(email, "@", "+"+string(rune('a'+i))+"@", 1)
			r := accounts.Registration{FullName: "Calon", Email: addr, Password: tt.password}
			if tt.code == accounts.CodeSameAsEmail {
				r.Email = email
			}
			if tt.code == accounts.CodeSameAsNIP {
				r.NIP = nip
			}
			_, err := e.svc.Register(ctx, r)
			var fe *accounts.FieldError
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.code != "" && (!errors.As(err, &fe) || fe.Field != accounts.FieldPassword || fe.Code != tt.code ||
				!errors.Is(err, accounts.ErrWeakPassword) || !errors.Is(err, accounts.ErrInvalidInput)):
				t.Fatalf("got %v, want password %s", err, tt.code)
			}
		})
	}
	if _, err := e.svc.Register(ctx, accounts.Registration{FullName: "Calon", Email: "Calon <calon@example.go.id>", Password: password}); !errors.Is(err, accounts.ErrInvalidInput) {
		t.Fatalf("an address with a display name: %v", err)
	}
}

func testDuplicates(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197506152000031001"
	e.confirmed(t, "Calon Satu", nip, "satu@example.go.id")
	_, err := e.svc.Register(ctx, accounts.Registration{FullName: "Lain", Email: "SATU@example.go.id", Password: password})
	var fe *accounts.FieldError
	if !errors.Is(err, accounts.ErrEmailTaken) || !errors.As(err, &fe) || fe.Field != "email" || fe.Code != "taken" {
		t.Fatalf("same address: %v", err)
	}
	_, err = e.svc.Register(ctx, accounts.Registration{FullName: "Lain", NIP: nip, Email: "lain@example.go.id", Password: password})
	if !errors.Is(err, accounts.ErrNIPTaken) || !errors.As(err, &fe) || fe.Field != "nip" {
		t.Fatalf("same NIP: %v", err)
	}
	_, err = e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleAuditor, FullName: "Lain", NIP: nip, Email: "auditor@example.go.id"})
	if !errors.Is(err, accounts.ErrNIPTaken) {
		t.Fatalf("same NIP for a staff account: %v", err)
	}
	// Concurrent registrations of one address: exactly one account.
	errs := make([]error, 6)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.svc.Register(ctx, accounts.Registration{FullName: "Balapan", Email: "balap@example.go.id", Password: password})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, accounts.ErrEmailTaken):
			t.Errorf("concurrent registration: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent registrations of one address succeeded, want 1", ok)
	}
}

// testUnconfirmedNIP: a NIP typed at registration is not proven. It used to become the
// account's subject, the identity its tokens carry, for whoever registered it first even
// unconfirmed: the NIP's owner then got "NIP taken". Now a candidate's subject is random, and
// a NIP is unique only among confirmed (or staff) accounts: the first to confirm keeps it,
// the unconfirmed others lose it.
func testUnconfirmedNIP(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197506152000031001"
	squatter := e.register(t, "Penyerobot", nip, "serobot@example.go.id")
	if squatter.Subject == nip || !strings.HasPrefix(squatter.Subject, "akun-") || squatter.NIP != nip {
		t.Fatalf("unconfirmed registration: subject %q, NIP %q", squatter.Subject, squatter.NIP)
	}
	owner := e.register(t, "Pemilik NIP", nip, "pemilik@example.go.id")
	if owner.Subject == nip || owner.Subject == squatter.Subject {
		t.Fatalf("owner's subject %q", owner.Subject)
	}
	got, err := e.svc.Confirm(ctx, owner.Email, e.code(t, owner.Email, accounts.MsgConfirmCode))
	if err != nil || got.NIP != nip || got.Subject != owner.Subject {
		t.Fatalf("owner confirms: %+v, %v", got, err)
	}
	if s, err := e.svc.Get(ctx, squatter.ID); err != nil || s.NIP != "" {
		t.Fatalf("the unconfirmed squatter after the owner confirmed: NIP %q, %v", s.NIP, err)
	}
	if s, err := e.svc.Confirm(ctx, squatter.Email, e.code(t, squatter.Email, accounts.MsgConfirmCode)); err != nil || s.NIP != "" {
		t.Fatalf("the squatter confirms later: NIP %q, %v", s.NIP, err)
	}
	// Once confirmed, the NIP is taken, for candidates and staff alike.
	if _, err := e.svc.Register(ctx, accounts.Registration{FullName: "Lain", NIP: nip, Email: "lain@example.go.id", Password: password}); !errors.Is(err, accounts.ErrNIPTaken) {
		t.Fatalf("registering a confirmed NIP: %v", err)
	}
	if _, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleAuditor, FullName: "Lain", NIP: nip, Email: "aud@example.go.id"}); !errors.Is(err, accounts.ErrNIPTaken) {
		t.Fatalf("a staff account with a confirmed NIP: %v", err)
	}
	// The secretariat's accounts keep the NIP as subject, and claim it at once.
	const staffNIP = "196801011990032001"
	early := e.register(t, "Calon Awal", staffNIP, "awal@example.go.id")
	e.secret("Staf", "staf@example.go.id")
	staff, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Staf", NIP: staffNIP, Email: "staf@example.go.id"})
	if err != nil || staff.Subject != staffNIP {
		t.Fatalf("staff account: %+v, %v", staff, err)
	}
	if s, err := e.svc.Get(ctx, early.ID); err != nil || s.NIP != "" {
		t.Fatalf("unconfirmed candidate after a staff account claimed the NIP: NIP %q, %v", s.NIP, err)
	}
}

func testWrongCodesExhaustCode(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.register(t, "Calon", "", "calon@example.go.id")
	code := e.code(t, a.Email, accounts.MsgConfirmCode)
	// A malformed code costs no attempt.
	if _, err := e.svc.Confirm(ctx, a.Email, "12ab"); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("malformed code: %v", err)
	}
	for i := range 4 {
		if _, err := e.svc.Confirm(ctx, a.Email, wrongCode(code)); !errors.Is(err, accounts.ErrInvalidCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	// The fifth attempt may still be right...
	b := e.register(t, "Calon B", "", "b@example.go.id")
	codeB := e.code(t, b.Email, accounts.MsgConfirmCode)
	for range 4 {
		_, _ = e.svc.Confirm(ctx, b.Email, wrongCode(codeB))
	}
	if _, err := e.svc.Confirm(ctx, b.Email, codeB); err != nil {
		t.Fatalf("right code at the fifth attempt: %v", err)
	}
	// ...but after five wrong ones the code is void.
	if _, err := e.svc.Confirm(ctx, a.Email, wrongCode(code)); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatal(err)
	}
	if _, err := e.svc.Confirm(ctx, a.Email, code); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("right code after five wrong ones: %v, want ErrInvalidCode", err)
	}
	// A new code works, and replaces any older one. (The clock moves so that the newest
	// notice is the last in the outbox's order.)
	e.clock.Advance(time.Second)
	if err := e.svc.ResendConfirmation(ctx, a.Email); err != nil {
		t.Fatal(err)
	}
	first := e.code(t, a.Email, accounts.MsgConfirmCode)
	e.clock.Advance(time.Second)
	if err := e.svc.ResendConfirmation(ctx, a.Email); err != nil {
		t.Fatal(err)
	}
	second := e.code(t, a.Email, accounts.MsgConfirmCode)
	if first != second {
		if _, err := e.svc.Confirm(ctx, a.Email, first); !errors.Is(err, accounts.ErrInvalidCode) {
			t.Fatalf("replaced code: %v, want ErrInvalidCode", err)
		}
	}
	if _, err := e.svc.Confirm(ctx, a.Email, second); err != nil {
		t.Fatalf("newest code: %v", err)
	}
	if _, err := e.svc.Confirm(ctx, a.Email, second); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("code used twice: %v", err)
	}
	if _, err := e.svc.Confirm(ctx, "nobody@example.go.id", second); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("unknown address: %v", err)
	}
}

func testExpiredCode(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.register(t, "Calon", "", "calon@example.go.id")
	code := e.code(t, a.Email, accounts.MsgConfirmCode)
	e.clock.Advance(30*time.Minute + time.Second)
	if _, err := e.svc.Confirm(ctx, a.Email, code); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("expired code: %v, want ErrInvalidCode", err)
	}
	if err := e.svc.ResendConfirmation(ctx, a.Email); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(29 * time.Minute)
	if _, err := e.svc.Confirm(ctx, a.Email, e.code(t, a.Email, accounts.MsgConfirmCode)); err != nil {
		t.Fatalf("code within its time: %v", err)
	}
}

func testLockout(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	fail := func(n int) error {
		var err error
		for range n {
			_, err = e.svc.SignIn(ctx, a.Email, "salah-kata-sandi")
		}
		return err
	}
	if err := fail(4); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("four failures: %v", err)
	}
	// A success resets the count.
	if _, err := e.svc.SignIn(ctx, a.Email, password); err != nil {
		t.Fatal(err)
	}
	if err := fail(4); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("four failures after a success: %v", err)
	}
	var locked *accounts.LockedError
	if err := fail(1); !errors.As(err, &locked) || !locked.Until.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("fifth failure: %v, want locked for 15 minutes", err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); !errors.As(err, &locked) {
		t.Fatalf("right password while locked: %v, want locked", err)
	}
	e.clock.Advance(15 * time.Minute)
	// The lock is over; five more failures lock again, twice as long.
	if err := fail(5); !errors.As(err, &locked) || !locked.Until.Equal(t0.Add(45*time.Minute)) {
		t.Fatalf("second lock: %v, want until %v", err, t0.Add(45*time.Minute))
	}
	e.clock.Advance(30 * time.Minute)
	if _, err := e.svc.SignIn(ctx, a.Email, password); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// The success forgot the locks: the next lock lasts 15 minutes again.
	if err := fail(5); !errors.As(err, &locked) || !locked.Until.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("lock after a success: %v", err)
	}
	// Concurrent failures never lock for longer than one lock.
	b := e.confirmed(t, "Calon B", "", "b@example.go.id")
	var wg sync.WaitGroup
	for range 9 {
		wg.Go(func() { _, _ = e.svc.SignIn(ctx, b.Email, "salah-kata-sandi") })
	}
	wg.Wait()
	if _, err := e.svc.SignIn(ctx, b.Email, password); !errors.As(err, &locked) || !locked.Until.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("nine concurrent failures: %v, want one 15-minute lock", err)
	}
	// Unknown addresses never lock anything, and answer as a wrong password does.
	for range 7 {
		if _, err := e.svc.SignIn(ctx, "nobody@example.go.id", password); !errors.Is(err, accounts.ErrInvalidCredentials) {
			t.Fatalf("unknown address: %v", err)
		}
	}
}

// testLockoutConcurrent: 40 sign-ins at once, 39 wrong and the right one. The lock used to
// be checked once, before the (slow) password check, and a success cleared it whatever
// happened meanwhile, so every guess was checked and the right one signed in although the
// account had locked. Now at most MaxFailures passwords are checked before the lock, the
// others are refused unchecked, and the right one is refused once the lock is in place.
func testLockoutConcurrent(t *testing.T, e *env) {
	ctx := context.Background()
	// Slower hashes, one at a time: every attempt looks the account up before the first
	// check ends.
	slow := &argon2id.Params{Memory: 8 * 1024, Iterations: 3, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	svc := accounts.New(e.st, accounts.Options{Now: e.clock.Now, Argon2: slow, MaxConcurrentHashes: 1},
		slog.New(slog.NewTextHandler(e.logs, nil)))
	const email = "calon@example.go.id"
	e.secret("Calon", email)
	if _, err := svc.Register(ctx, accounts.Registration{FullName: "Calon", Email: email, Password: password}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Confirm(ctx, email, e.code(t, email, accounts.MsgConfirmCode)); err != nil {
		t.Fatal(err)
	}
	// 39 wrong guesses at once; the right password comes as soon as the first of them has
	// an answer, which takes a password check (old code: no lock yet, 1 failure) or, now,
	// a lock already in place.
	const n = 40
	start, first := make(chan struct{}), make(chan struct{})
	var once sync.Once
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Go(func() {
			<-start
			_, errs[i] = svc.SignIn(ctx, email, "salah-kata-sandi")
			once.Do(func() { close(first) })
		})
	}
	wg.Go(func() {
		<-first
		_, errs[n-1] = svc.SignIn(ctx, email, password)
	})
	close(start)
	wg.Wait()
	var locked *accounts.LockedError
	if !errors.As(errs[n-1], &locked) {
		t.Fatalf("the right password during the storm: %v, want locked", errs[n-1])
	}
	checked := 0
	for i, err := range errs[:n-1] {
		switch {
		case errors.Is(err, accounts.ErrInvalidCredentials):
			checked++
		case errors.As(err, &locked):
		default:
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if checked >= accounts.DefaultMaxFailures {
		t.Fatalf("%d wrong passwords answered as wrong (checked, no lock), want fewer than %d", checked, accounts.DefaultMaxFailures)
	}
	if _, err := svc.SignIn(ctx, email, password); !errors.As(err, &locked) {
		t.Fatalf("right password after the storm: %v, want locked", err)
	}
	// Sequential attempts behave as before once the lock is over.
	e.clock.Advance(24 * time.Hour)
	if _, err := svc.SignIn(ctx, email, password); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func testResetPassword(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197506152000031001"
	a := e.confirmed(t, "Calon", nip, "calon@example.go.id")
	if err := e.svc.RequestPasswordReset(ctx, "nobody@example.go.id"); err != nil {
		t.Fatalf("unknown address: %v, want no error", err)
	}
	if len(e.notices(t, "nobody@example.go.id")) != 0 {
		t.Fatal("a notice to an unknown address")
	}
	// Lock the account first: the reset ends the lock.
	for range 5 {
		_, _ = e.svc.SignIn(ctx, a.Email, "salah-kata-sandi")
	}
	if err := e.svc.RequestPasswordReset(ctx, " CALON@example.go.id"); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, a.Email, accounts.MsgResetCode)
	// A token made before the reset stops working after it.
	secret, _, err := e.svc.CreateToken(ctx, a.ID, "skrip", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.secret(secret)
	if _, err := e.svc.TokenVerifier().Verify(ctx, secret); err != nil {
		t.Fatalf("token before the reset: %v", err)
	}
	const newPassword = "kata-sandi-yang-baru"
	if err := e.svc.ResetPassword(ctx, a.Email, code, "pendek"); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
	if err := e.svc.ResetPassword(ctx, a.Email, code, nip); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("the NIP as password: %v", err)
	}
	if err := e.svc.ResetPassword(ctx, a.Email, wrongCode(code), newPassword); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	if err := e.svc.ResetPassword(ctx, a.Email, code, newPassword); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if err := e.svc.ResetPassword(ctx, a.Email, code, "lagi-kata-sandi-lain"); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("code used twice: %v", err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, newPassword); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := e.svc.TokenVerifier().Verify(ctx, secret); err == nil {
		t.Error("a personal access token made before the reset still works")
	}
	// A reset confirms an address never confirmed.
	b := e.register(t, "Calon B", "", "b@example.go.id")
	if err := e.svc.RequestPasswordReset(ctx, b.Email); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ResetPassword(ctx, b.Email, e.code(t, b.Email, accounts.MsgResetCode), newPassword); err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.SignIn(ctx, b.Email, newPassword); err != nil || !got.EmailConfirmed {
		t.Fatalf("sign-in after a reset of an unconfirmed account: %+v, %v", got, err)
	}
}

// testResetDoesNotConfirmNIP: without the code, the reset page must not tell whether a
// guessed NIP is the account's (it used to answer "password equals the NIP" before checking
// the code). A wrong code is ErrInvalidCode whatever the password, and spends an attempt;
// with the right code the rule applies, and the code stays usable.
func testResetDoesNotConfirmNIP(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197506152000031001"
	a := e.confirmed(t, "Calon", nip, "calon@example.go.id")
	if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, a.Email, accounts.MsgResetCode)
	for _, guess := range []string{nip, "197506152000031002"} {
		err := e.svc.ResetPassword(ctx, a.Email, wrongCode(code), guess)
		if !errors.Is(err, accounts.ErrInvalidCode) || errors.Is(err, accounts.ErrWeakPassword) {
			t.Fatalf("wrong code, password %s: %v, want ErrInvalidCode only", guess, err)
		}
	}
	if err := e.svc.ResetPassword(ctx, a.Email, code, nip); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("right code, the NIP as password: %v, want ErrWeakPassword", err)
	}
	// Two wrong attempts and one refused: the code still works (5 attempts).
	if err := e.svc.ResetPassword(ctx, a.Email, code, "kata-sandi-yang-baru"); err != nil {
		t.Fatalf("reset after a refused password: %v", err)
	}
	// The wrong guesses spent attempts: a fresh code dies after MaxCodeAttempts wrong ones,
	// NIP-shaped or not.
	if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil {
		t.Fatal(err)
	}
	code = e.code(t, a.Email, accounts.MsgResetCode)
	for range accounts.DefaultMaxCodeAttempts {
		_ = e.svc.ResetPassword(ctx, a.Email, wrongCode(code), nip)
	}
	if err := e.svc.ResetPassword(ctx, a.Email, code, "kata-sandi-lain-lagi"); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("code after %d wrong attempts with the NIP as password: %v, want ErrInvalidCode", accounts.DefaultMaxCodeAttempts, err)
	}
}

func testCodesPerHour(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	for range 7 {
		if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		for _, x := range e.notices(t, a.Email) {
			if x.Text.Code == accounts.MsgResetCode {
				n++
			}
		}
		return n
	}
	if n := count(); n != accounts.DefaultMaxCodesPerHour {
		t.Fatalf("%d reset codes sent in an hour, want %d", n, accounts.DefaultMaxCodesPerHour)
	}
	e.clock.Advance(time.Hour)
	if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil || count() != accounts.DefaultMaxCodesPerHour+1 {
		t.Fatalf("an hour later: %v, %d codes", err, count())
	}
}

// testCodesPerDay: the hourly bound alone let a guesser ask for 5 codes an hour, 5 attempts
// each, forever; at most DefaultMaxCodesPerDay codes of a purpose reach an account in any
// 24 hours, beyond which a request sends nothing and says nothing.
func testCodesPerDay(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	count := func() (n int) {
		for _, x := range e.notices(t, a.Email) {
			if x.Text.Code == accounts.MsgResetCode {
				n++
			}
		}
		return n
	}
	// Five an hour, for five hours: only the daily cap's worth go out.
	for range 5 {
		for range accounts.DefaultMaxCodesPerHour {
			if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(time.Hour)
	}
	if n := count(); n != accounts.DefaultMaxCodesPerDay {
		t.Fatalf("%d reset codes sent in five hours, want the daily cap %d", n, accounts.DefaultMaxCodesPerDay)
	}
	// A day after the first codes, the first hour's fall out of the window.
	e.clock.Advance(19*time.Hour + time.Minute)
	if err := e.svc.RequestPasswordReset(ctx, a.Email); err != nil || count() != accounts.DefaultMaxCodesPerDay+1 {
		t.Fatalf("a day later: %v, %d codes", err, count())
	}
}

func testCreateStaffAccount(t *testing.T, e *env) {
	ctx := context.Background()
	e.secret("Anggota Panitia", "panitia@example.go.id")
	a, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Anggota Panitia", Email: "Panitia@example.go.id", Lang: "en"})
	if err != nil || a.Role != auth.RoleCommittee || a.EmailConfirmed || a.Lang != "en" || !strings.HasPrefix(a.Subject, "akun-") {
		t.Fatalf("create: %+v, %v", a, err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("sign-in before a password is set: %v", err)
	}
	if err := e.svc.ResetPassword(ctx, a.Email, e.code(t, a.Email, accounts.MsgSetPasswordCode), password); err != nil {
		t.Fatalf("set password: %v", err)
	}
	if got, err := e.svc.SignIn(ctx, a.Email, password); err != nil || got.ID != a.ID {
		t.Fatalf("sign-in: %+v, %v", got, err)
	}
	for _, role := range []auth.Role{auth.RoleCandidate, "", "owner"} {
		_, err := e.svc.Create(ctx, accounts.NewAccount{Role: role, FullName: "X", Email: "x@example.go.id"})
		var fe *accounts.FieldError
		if !errors.As(err, &fe) || fe.Field != accounts.FieldRole {
			t.Errorf("role %q: %v", role, err)
		}
	}
}

func testDisableAndList(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	if err := e.svc.SetDisabled(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); !errors.Is(err, accounts.ErrDisabled) {
		t.Fatalf("disabled, right password: %v", err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, "salah-kata-sandi"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("disabled, wrong password: %v (the state is told only to who knows the password)", err)
	}
	if err := e.svc.SetDisabled(ctx, a.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetDisabled(ctx, "acc_missing", true); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("disable a missing account: %v", err)
	}
	if _, err := e.svc.Get(ctx, "acc_missing"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("get a missing account: %v", err)
	}
	e.clock.Advance(time.Second)
	e.secret("auditor@example.go.id")
	if _, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleAuditor, FullName: "Auditor", Email: "auditor@example.go.id"}); err != nil {
		t.Fatal(err)
	}
	all, err := e.svc.List(ctx, "")
	if err != nil || len(all) != 2 || all[0].ID != a.ID {
		t.Fatalf("list all: %+v, %v", all, err)
	}
	auditors, err := e.svc.List(ctx, auth.RoleAuditor)
	if err != nil || len(auditors) != 1 || auditors[0].Role != auth.RoleAuditor {
		t.Fatalf("list auditors: %+v, %v", auditors, err)
	}
	if _, err := e.svc.List(ctx, "owner"); !errors.Is(err, accounts.ErrInvalidInput) {
		t.Fatalf("unknown role: %v", err)
	}
}

func testSetupOnce(t *testing.T, e *env) {
	ctx := context.Background()
	old, err := e.svc.Bootstrap(ctx)
	if err != nil || len(old) < 26 {
		t.Fatalf("bootstrap: %q, %v", old, err)
	}
	code, err := e.svc.Bootstrap(ctx)
	if err != nil || code == old {
		t.Fatalf("second bootstrap: %q, %v", code, err)
	}
	e.secret(old, code, "sekretariat@example.go.id")
	admin := accounts.NewAccount{FullName: "Sekretariat", Email: "sekretariat@example.go.id"}
	if _, err := e.svc.CompleteSetup(ctx, old, admin, password); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("replaced setup code: %v", err)
	}
	if _, err := e.svc.CompleteSetup(ctx, code, admin, "pendek"); !errors.Is(err, accounts.ErrWeakPassword) {
		t.Fatalf("weak password: %v", err)
	}
	// Two at once with the right code: one administrator.
	results := make([]error, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			n := admin
			n.Email = strings.Replace(n.Email, "@", "+"+string(rune('a'+i))+"@", 1)
			e.secret(n.Email)
			_, results[i] = e.svc.CompleteSetup(ctx, strings.ToLower(code), n, password)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, accounts.ErrInvalidCode):
			t.Errorf("concurrent setup: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d setups succeeded, want 1", ok)
	}
	admins, err := e.svc.List(ctx, auth.RoleAdmin)
	if err != nil || len(admins) != 1 || !admins[0].EmailConfirmed {
		t.Fatalf("administrators: %+v, %v", admins, err)
	}
	if _, err := e.svc.SignIn(ctx, admins[0].Email, password); err != nil {
		t.Fatalf("administrator signs in: %v", err)
	}
	if again, err := e.svc.Bootstrap(ctx); err != nil || again != "" {
		t.Fatalf("bootstrap with an administrator: %q, %v", again, err)
	}
	if _, err := e.svc.CompleteSetup(ctx, code, admin, password); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("setup again: %v", err)
	}
	// Wrong setup codes void the code after five attempts.
	f := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "other.db"))
	code, _ = f.svc.Bootstrap(ctx)
	f.secret(code, admin.Email)
	for range 5 {
		_, _ = f.svc.CompleteSetup(ctx, strings.Repeat("A", 26), admin, password)
	}
	if _, err := f.svc.CompleteSetup(ctx, code, admin, password); !errors.Is(err, accounts.ErrInvalidCode) {
		t.Fatalf("setup code after five wrong attempts: %v", err)
	}
}

func testSeats(t *testing.T, e *env) {
	ctx := context.Background()
	for _, id := range []string{"kadis-2026", "sekda-2026"} {
		if _, err := e.st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: "selection-" + id,
			PositionTitle: "Kepala Dinas", Agency: "Pemerintah Kota Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
			Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0}); err != nil {
			t.Fatal(err)
		}
	}
	e.secret("panitia@example.go.id", "auditor@example.go.id", "198001012005011001")
	member, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Panitia", NIP: "198001012005011001", Email: "panitia@example.go.id"})
	if err != nil {
		t.Fatal(err)
	}
	auditor, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleAuditor, FullName: "Auditor", Email: "auditor@example.go.id"})
	if err != nil {
		t.Fatal(err)
	}
	seat, err := e.svc.LinkSeat(ctx, "kadis-2026", member.ID)
	if err != nil || seat.MemberSubject != member.Subject || seat.MemberSubject != "198001012005011001" || !seat.LinkedAt.Equal(t0) {
		t.Fatalf("link: %+v, %v", seat, err)
	}
	e.clock.Advance(time.Minute)
	if again, err := e.svc.LinkSeat(ctx, "kadis-2026", member.ID); err != nil || !again.LinkedAt.Equal(t0) {
		t.Fatalf("link again: %+v, %v", again, err)
	}
	if _, err := e.svc.LinkSeat(ctx, "sekda-2026", member.ID); err != nil {
		t.Fatal(err)
	}
	var fe *accounts.FieldError
	if _, err := e.svc.LinkSeat(ctx, "kadis-2026", auditor.ID); !errors.As(err, &fe) || fe.Code != accounts.CodeNotCommittee {
		t.Fatalf("an auditor on a committee: %v", err)
	}
	if _, err := e.svc.LinkSeat(ctx, "missing-2026", member.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("a missing selection: %v", err)
	}
	if _, err := e.svc.LinkSeat(ctx, "kadis-2026", "acc_missing"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("a missing account: %v", err)
	}
	seats, err := e.svc.Seats(ctx, member.ID)
	if err != nil || len(seats) != 2 || seats[0].SelectionID != "kadis-2026" || seats[1].SelectionID != "sekda-2026" {
		t.Fatalf("seats: %+v, %v", seats, err)
	}
	if err := e.svc.UnlinkSeat(ctx, "kadis-2026", member.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.UnlinkSeat(ctx, "kadis-2026", member.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("unlink twice: %v", err)
	}
	if of, err := e.svc.SeatsOfSelection(ctx, "kadis-2026"); err != nil || len(of) != 0 {
		t.Fatalf("seats of an emptied selection: %+v, %v", of, err)
	}
	if of, err := e.svc.SeatsOfSelection(ctx, "sekda-2026"); err != nil || len(of) != 1 || of[0].AccountID != member.ID {
		t.Fatalf("seats of a selection: %+v, %v", of, err)
	}
}

func testExternal(t *testing.T, e *env) {
	ctx := context.Background()
	const iss = "https://idp.example.go.id"
	e.secret("pegawai@example.go.id", "Pegawai Satu")
	ids := make([]string, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			a, err := e.svc.External(ctx, iss, "sub-1", auth.RoleCommittee, "Pegawai Satu", "Pegawai@example.go.id")
			ids[i], errs[i] = a.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("concurrent first sign-ins: %v, %q vs %q", errs[i], ids[i], ids[0])
		}
	}
	a, err := e.svc.External(ctx, iss, "sub-1", auth.RoleAuditor, "Pegawai Satu, S.H.", "pegawai@example.go.id")
	if err != nil || a.ID != ids[0] || a.Role != auth.RoleAuditor || a.FullName != "Pegawai Satu, S.H." || a.Issuer != iss ||
		a.Subject != "sub-1" || a.Email != "pegawai@example.go.id" {
		t.Fatalf("second sign-in: %+v, %v", a, err)
	}
	all, _ := e.svc.List(ctx, "")
	if len(all) != 1 {
		t.Fatalf("%d accounts, want 1", len(all))
	}
	// The same address under another subject of the provider is not kept twice.
	b, err := e.svc.External(ctx, iss, "sub-2", auth.RoleCandidate, "Lain", "pegawai@example.go.id")
	if err != nil || b.ID == a.ID || b.Email != "" {
		t.Fatalf("a second subject with the same address: %+v, %v", b, err)
	}
	// A local address is no obstacle: issuers are separate.
	e.register(t, "Lokal", "", "pegawai@example.go.id")
	if _, err := e.svc.External(ctx, auth.LocalIssuer, "x", auth.RoleAdmin, "", ""); !errors.Is(err, accounts.ErrInvalidInput) {
		t.Fatalf("external with the local issuer: %v", err)
	}
	if _, err := e.svc.External(ctx, iss, "", auth.RoleAdmin, "", ""); !errors.Is(err, accounts.ErrInvalidInput) {
		t.Fatalf("no subject: %v", err)
	}
	if err := e.svc.SetDisabled(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.External(ctx, iss, "sub-1", auth.RoleAuditor, "", ""); !errors.Is(err, accounts.ErrDisabled) {
		t.Fatalf("disabled: %v", err)
	}
}

func testSeed(t *testing.T, e *env) {
	ctx := context.Background()
	const nip = "197001012000031001"
	e.secret("Ketua Demo", nip, "ketua@seleksi.test")
	n := accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Ketua Demo", NIP: nip, Email: "Ketua@Seleksi.test"}
	a, err := e.svc.Seed(ctx, n, password)
	if err != nil || a.Role != auth.RoleCommittee || !a.EmailConfirmed || a.Subject != nip || a.Email != "ketua@seleksi.test" ||
		a.Issuer != auth.LocalIssuer {
		t.Fatalf("seed: %+v, %v", a, err)
	}
	if ns := e.notices(t, a.Email); len(ns) != 0 {
		t.Fatalf("seeding sent %d notices, want none", len(ns))
	}
	if got, err := e.svc.SignIn(ctx, a.Email, password); err != nil || got.ID != a.ID {
		t.Fatalf("sign-in with the seeded password: %+v, %v", got, err)
	}
	// Seeding again, even with another password, returns the same account untouched.
	again, err := e.svc.Seed(ctx, n, "kata-sandi-lainnya")
	if err != nil || again.ID != a.ID || again.Subject != a.Subject {
		t.Fatalf("seed again: %+v, %v (first %+v)", again, err, a)
	}
	if _, err := e.svc.SignIn(ctx, a.Email, password); err != nil {
		t.Fatalf("the second seed changed the password: %v", err)
	}
	all, err := e.svc.List(ctx, "")
	if err != nil || len(all) != 1 {
		t.Fatalf("accounts after two seeds: %d, %v", len(all), err)
	}
	// Candidates may be seeded (Create refuses them); an opaque subject without a NIP.
	e.secret("Calon Demo", "calon@seleksi.test")
	c, err := e.svc.Seed(ctx, accounts.NewAccount{Role: auth.RoleCandidate, FullName: "Calon Demo", Email: "calon@seleksi.test"}, password)
	if err != nil || c.Role != auth.RoleCandidate || !c.EmailConfirmed || !strings.HasPrefix(c.Subject, "akun-") {
		t.Fatalf("seed candidate: %+v, %v", c, err)
	}
	// The address of an account of another role is taken.
	_, err = e.svc.Seed(ctx, accounts.NewAccount{Role: auth.RoleAuditor, FullName: "Auditor", Email: "calon@seleksi.test"}, password)
	var fe *accounts.FieldError
	if !errors.As(err, &fe) || fe.Field != accounts.FieldEmail || fe.Code != accounts.CodeTaken {
		t.Fatalf("seed over another role's address: %v", err)
	}
	// Every field found wrong is reported, the password's rules included.
	_, err = e.svc.Seed(ctx, accounts.NewAccount{Role: "owner", FullName: "", Email: "x"}, "pendek")
	fields := map[string]bool{}
	for _, fe := range accounts.FieldErrors(err) {
		fields[fe.Field] = true
	}
	if !fields[accounts.FieldRole] || !fields[accounts.FieldFullName] || !fields[accounts.FieldEmail] || !fields[accounts.FieldPassword] {
		t.Fatalf("invalid seed: %v", err)
	}
}
