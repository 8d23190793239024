package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/bkpsdm/seleksi/internal/store"
)

// SignIn checks a local account's password. The answer for an unknown address is the
// answer for a wrong password (ErrInvalidCredentials), and takes about as long: the password
// is verified against a dummy hash. MaxFailures consecutive failures lock the account
// (*LockedError, errors.As) for LockFor, doubling with each further lock before a success,
// up to MaxLockFor; while locked the password is not even checked. Each attempt is counted
// before its password is checked (store.ReserveSignIn), and a right password does not end a
// lock placed meanwhile: concurrent guesses get no more than MaxFailures checks per lock. A right password for a
// disabled account is ErrDisabled, and for an unconfirmed address ErrNotConfirmed; neither
// is told before the password is right.
func (s *Service) SignIn(ctx context.Context, email, password string) (Account, error) {
	const op = "sign in"
	now := s.now()
	rec, ok, err := s.localAccount(ctx, email)
	if err != nil {
		return Account{}, storeErr(op, err)
	}
	if !ok {
		if err := s.verifyDummy(ctx, password); err != nil {
			return Account{}, fmt.Errorf("accounts: %s: %w", op, err)
		}
		return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrInvalidCredentials)
	}
	// The attempt is taken before the password is checked, and counts as a failure until
	// the password proves right: concurrent guesses get no more checks than sequential ones.
	if after, err := s.st.ReserveSignIn(ctx, rec.ID, now, s.opts.MaxFailures, s.lockFor); err != nil {
		if errors.Is(err, store.ErrAccountLocked) {
			return Account{}, s.locked(ctx, rec.ID, after)
		}
		return Account{}, storeErr(op, err)
	}
	match, rehash, err := s.verify(ctx, password, rec.PasswordHash)
	if err != nil {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, err)
	}
	if !match {
		after, err := s.st.RecordSignInFailure(ctx, rec.ID, now, s.opts.MaxFailures, s.lockFor)
		if err != nil {
			return Account{}, storeErr(op, err)
		}
		if after.LockedUntil.After(now) {
			return Account{}, s.locked(ctx, rec.ID, after)
		}
		s.logger.InfoContext(ctx, "failed sign-in", "account", rec.ID, "consecutive_failures", after.FailedSignIns)
		return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrInvalidCredentials)
	}
	if rec.Disabled {
		s.logger.InfoContext(ctx, "sign-in to a disabled account refused", "account", rec.ID)
		return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrDisabled)
	}
	newHash := ""
	if rehash {
		if newHash, err = s.hash(ctx, password); err != nil {
			return Account{}, fmt.Errorf("accounts: %s: %w", op, err)
		}
	}
	if after, err := s.st.RecordSignInSuccess(ctx, rec.ID, now, rec.PasswordHash, newHash); err != nil {
		if errors.Is(err, store.ErrAccountLocked) {
			// Concurrent wrong guesses locked the account while this password was checked.
			return Account{}, s.locked(ctx, rec.ID, after)
		}
		return Account{}, storeErr(op, err)
	}
	if !rec.EmailConfirmed {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrNotConfirmed)
	}
	s.logger.InfoContext(ctx, "signed in", "account", rec.ID, "role", rec.Role)
	return accountOf(rec), nil
}

// locked is the answer while the account is locked.
func (s *Service) locked(ctx context.Context, id string, after store.AccountRecord) error {
	s.logger.WarnContext(ctx, "sign-in refused: account locked after failed sign-ins", "account", id,
		"until", after.LockedUntil, "locks", after.Locks)
	return &LockedError{Until: after.LockedUntil}
}

// lockFor is how long the locks-th lock since the last success lasts.
func (s *Service) lockFor(locks int) time.Duration {
	d := s.opts.LockFor
	for i := 1; i < locks && d < s.opts.MaxLockFor; i++ {
		d *= 2
	}
	return min(d, s.opts.MaxLockFor)
}

// acquire waits for a free hashing slot.
func (s *Service) acquire(ctx context.Context) (release func(), err error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to hash a password: %w", ctx.Err())
	}
}

// hash hashes a new password with the configured parameters.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h, err := argon2id.CreateHash(password, s.opts.Argon2)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// verify checks password against hash, and reports whether the hash should be made again
// with the configured parameters. An account without a password (one the secretariat
// created, not set yet) matches nothing, after the same work as one with a password.
func (s *Service) verify(ctx context.Context, password, hash string) (match, rehash bool, err error) {
	if hash == "" || utf8.RuneCountInString(password) > MaxPasswordLen {
		return false, false, s.verifyDummy(ctx, password)
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	match, params, err := argon2id.CheckHash(password, hash)
	if err != nil {
		return false, false, fmt.Errorf("check password hash: %w", err)
	}
	p := s.opts.Argon2
	rehash = match && (params.Memory != p.Memory || params.Iterations != p.Iterations || params.Parallelism != p.Parallelism ||
		params.SaltLength != p.SaltLength || params.KeyLength != p.KeyLength)
	return match, rehash, nil
}

// verifyDummy spends the time of a password check and matches nothing.
func (s *Service) verifyDummy(ctx context.Context, password string) error {
	dummy, err := s.dummyHash()
	if err != nil {
		return fmt.Errorf("dummy hash: %w", err)
	}
	if utf8.RuneCountInString(password) > MaxPasswordLen {
		password = string([]rune(password)[:MaxPasswordLen])
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	if _, err := argon2id.ComparePasswordAndHash(password, dummy); err != nil {
		return fmt.Errorf("check password hash: %w", err)
	}
	return nil
}
