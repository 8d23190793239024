// Package accounts owns the accounts people sign in with: on the embedded default, local
// accounts with an e-mail address and a password (argon2id), confirmed and reset with
// one-time codes sent through the notification outbox; in production, the accounts of
// people who sign in through the agency's OpenID Connect provider (found or created at
// sign-in, no password). It also owns the committee seats that link committee accounts to
// the selections whose committee they sit on, and the first start's setup of the first
// administrator.
//
// What reaches the logs names accounts by their opaque IDs only: names, NIPs and e-mail
// addresses are personal data, and codes are secrets (the development log sender prints the
// notices that carry them, which is how a developer reads them).
package accounts

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Account is a person who signs in.
type Account struct {
	// ID is opaque ("acc_" and random hex).
	ID string
	// Issuer is auth.LocalIssuer for local accounts, the identity provider's issuer for the
	// others.
	Issuer string
	// Subject is what the person's tokens carry: for local accounts the secretariat made
	// (Create, Seed, the first administrator) the NIP when the person has one, since the
	// secretariat vouches for it; for self-registered candidates, and staff without a NIP,
	// "akun-" and random hex (a NIP typed at registration proves nothing); the provider's
	// subject (OIDC accounts).
	Subject        string
	Role           auth.Role
	FullName       string
	NIP            string
	Email          string
	Lang           i18n.Lang // preferred language for e-mails
	EmailConfirmed bool
	Disabled       bool
	CreatedAt      time.Time
}

// Registration is a candidate's self-registration. NIP is optional (not every candidate is
// a civil servant); when given it is 18 digits, an attribute of the account, never its
// subject. A NIP is unique among confirmed accounts and the secretariat's: registering one
// that such an account holds is ErrNIPTaken; an unconfirmed registration blocks nobody, and
// when an account confirms (or the secretariat creates one) with a NIP, the unconfirmed
// candidates that typed the same NIP lose it (the first to confirm keeps it).
type Registration struct {
	FullName, NIP, Email, Password string
	Lang                           i18n.Lang
}

// NewAccount is an account the secretariat creates (committee, auditor, admin).
type NewAccount struct {
	Role                 auth.Role
	FullName, NIP, Email string
	Lang                 i18n.Lang
}

// Seat links a committee account to a seat on a selection's committee. MemberSubject is
// the account's subject, which the member's principal carries.
type Seat struct {
	SelectionID, AccountID, MemberSubject string
	LinkedAt                              time.Time
}

// Options tune the service; zero fields take the defaults below.
type Options struct {
	// Now is the clock (tests move it).
	Now func() time.Time
	// CodeTTL is how long an e-mailed code is valid; SetupTTL the setup code.
	CodeTTL  time.Duration
	SetupTTL time.Duration
	// MaxCodeAttempts is how many wrong attempts void a code.
	MaxCodeAttempts int
	// MaxCodesPerHour bounds the codes of one purpose sent to one account in an hour;
	// requests beyond it send nothing (and say nothing, as for unknown addresses).
	MaxCodesPerHour int
	// MaxCodesPerDay bounds them in any 24 hours, so that the attempts a guesser gets
	// (MaxCodeAttempts per code) run out: without it, MaxCodesPerHour codes an hour would
	// give MaxCodesPerHour × MaxCodeAttempts guesses every hour, forever.
	MaxCodesPerDay int
	// MaxFailures consecutive failed sign-ins lock the account for LockFor; each further
	// lock before a successful sign-in lasts twice as long, up to MaxLockFor.
	MaxFailures int
	LockFor     time.Duration
	MaxLockFor  time.Duration
	// Argon2 are the password hashing parameters of new hashes (DefaultArgon2). A password
	// hashed with other parameters is hashed again at its next successful sign-in.
	Argon2 *argon2id.Params
	// MaxConcurrentHashes bounds the hashes computed at once, and so the memory they take
	// (Argon2.Memory KiB each) in a sign-in rush. Default: GOMAXPROCS.
	MaxConcurrentHashes int
}

// Defaults of Options.
const (
	DefaultCodeTTL         = 30 * time.Minute
	DefaultSetupTTL        = 24 * time.Hour
	DefaultMaxCodeAttempts = 5
	DefaultMaxCodesPerHour = 5
	DefaultMaxCodesPerDay  = 10
	DefaultMaxFailures     = 5
	DefaultLockFor         = 15 * time.Minute
	DefaultMaxLockFor      = 24 * time.Hour
)

// DefaultArgon2 are OWASP's recommended minimum parameters for argon2id (19 MiB, two
// passes, one lane): tens of milliseconds per hash on a server, and a memory cost per hash
// that a rush of sign-ins can afford. Tests use far cheaper parameters.
var DefaultArgon2 = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = DefaultCodeTTL
	}
	if o.SetupTTL <= 0 {
		o.SetupTTL = DefaultSetupTTL
	}
	if o.MaxCodeAttempts <= 0 {
		o.MaxCodeAttempts = DefaultMaxCodeAttempts
	}
	if o.MaxCodesPerHour <= 0 {
		o.MaxCodesPerHour = DefaultMaxCodesPerHour
	}
	if o.MaxCodesPerDay <= 0 {
		o.MaxCodesPerDay = max(DefaultMaxCodesPerDay, o.MaxCodesPerHour)
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.LockFor <= 0 {
		o.LockFor = DefaultLockFor
	}
	if o.MaxLockFor < o.LockFor {
		o.MaxLockFor = max(DefaultMaxLockFor, o.LockFor)
	}
	if o.Argon2 == nil {
		p := DefaultArgon2
		o.Argon2 = &p
	}
	if o.MaxConcurrentHashes <= 0 {
		o.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	return o
}

// Service manages accounts in the store.
type Service struct {
	st     *store.Store
	opts   Options
	logger *slog.Logger
	// hashing bounds the password hashes computed at once.
	hashing chan struct{}
	// dummyHash is verified against when the e-mail address is unknown, so that a sign-in
	// takes about as long whether or not the address has an account.
	dummyHash func() (string, error)
}

// New returns the service over st.
func New(st *store.Store, opts Options, logger *slog.Logger) *Service {
	s := &Service{st: st, opts: opts.withDefaults(), logger: logger}
	s.hashing = make(chan struct{}, s.opts.MaxConcurrentHashes)
	s.dummyHash = sync.OnceValues(func() (string, error) {
		return argon2id.CreateHash(rand.Text(), s.opts.Argon2)
	})
	return s
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

func newAccountID() string { return "acc_" + randomHex(10) }

// newSubject is the subject of an account the secretariat vouches for (its NIP when it has
// one); self-registered accounts pass "" and get a random one.
func newSubject(nip string) string {
	if nip != "" {
		return nip
	}
	return "akun-" + randomHex(10)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func accountOf(r store.AccountRecord) Account {
	return Account{ID: r.ID, Issuer: r.Issuer, Subject: r.Subject, Role: auth.Role(r.Role), FullName: r.FullName, NIP: r.NIP,
		Email: r.Email, Lang: i18n.Lang(r.Lang), EmailConfirmed: r.EmailConfirmed, Disabled: r.Disabled, CreatedAt: r.CreatedAt}
}

func seatOf(r store.CommitteeSeat) Seat {
	return Seat{SelectionID: r.SelectionID, AccountID: r.AccountID, MemberSubject: r.MemberSubject, LinkedAt: r.LinkedAt}
}

// storeErr turns the store's errors into the service's, keeping the store's for
// errors.Is (store.IsUnavailable in particular).
func storeErr(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrAccountEmailTaken):
		return fmt.Errorf("accounts: %s: %w", op, fieldError(FieldEmail, CodeTaken))
	case errors.Is(err, store.ErrAccountNIPTaken):
		return fmt.Errorf("accounts: %s: %w", op, fieldError(FieldNIP, CodeTaken))
	case errors.Is(err, store.ErrCodeInvalid):
		return fmt.Errorf("accounts: %s: %w", op, ErrInvalidCode)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("accounts: %s: %w (%w)", op, ErrNotFound, err)
	}
	return fmt.Errorf("accounts: %s: %w", op, err)
}

// FieldErrors returns every *FieldError in err (validation reports all the fields it found
// wrong at once, joined), for a form's error summary.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// collect keeps the first value of each check and joins the errors.
type collect struct{ errs []error }

func (c *collect) str(v string, err error) string {
	if err != nil {
		c.errs = append(c.errs, err)
	}
	return v
}

func (c *collect) add(err error) {
	if err != nil {
		c.errs = append(c.errs, err)
	}
}

func (c *collect) err(op string) error {
	if len(c.errs) == 0 {
		return nil
	}
	return fmt.Errorf("accounts: %s: %w", op, errors.Join(c.errs...))
}
