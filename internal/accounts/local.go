package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Local accounts: registration, e-mail confirmation, password reset, and the accounts the
// secretariat creates. Each code is written with the notice that carries it in one
// transaction of the store (the outbox), so a code is never issued without being sent.

// Register creates a candidate's account, unconfirmed, and sends a code to confirm the
// address. Every field found wrong is reported at once (see FieldErrors).
func (s *Service) Register(ctx context.Context, r Registration) (Account, error) {
	const op = "register"
	var c collect
	name := c.str(validFullName(r.FullName))
	email := c.str(validEmail(r.Email))
	nip := c.str(validNIP(r.NIP))
	lang := c.str(langString(r.Lang))
	c.add(checkPassword(r.Password, email, nip))
	if err := c.err(op); err != nil {
		return Account{}, err
	}
	hash, err := s.hash(ctx, r.Password)
	if err != nil {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, err)
	}
	now := s.now()
	rec := store.AccountRecord{ID: newAccountID(), Issuer: auth.LocalIssuer, Subject: newSubject(""), Role: string(auth.RoleCandidate),
		FullName: name, NIP: nip, Email: email, Lang: lang, PasswordHash: hash, CreatedAt: now}
	code, _ := newCode(rec.ID, store.CodeConfirmEmail, MsgConfirmCode, email, now, s.opts.CodeTTL)
	rec, err = s.st.CreateAccount(ctx, rec, &code)
	if err != nil {
		return Account{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "account registered; a confirmation code was queued", "account", rec.ID, "role", rec.Role)
	return accountOf(rec), nil
}

func langString(l i18n.Lang) (string, error) {
	v, err := validLang(l)
	return string(v), err
}

// localAccount finds the local account with the address; ok is false when there is none
// (including when the address is malformed).
func (s *Service) localAccount(ctx context.Context, email string) (store.AccountRecord, bool, error) {
	rec, err := s.st.AccountByEmail(ctx, auth.LocalIssuer, NormalizeEmail(email))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.AccountRecord{}, false, nil
	case err != nil:
		return store.AccountRecord{}, false, err
	}
	return rec, true, nil
}

// ResendConfirmation sends a new confirmation code (the older one stops working) when the
// address belongs to an unconfirmed local account. Otherwise, and when too many codes were
// sent in the last hour or day, it does nothing and says nothing.
func (s *Service) ResendConfirmation(ctx context.Context, email string) error {
	const op = "resend confirmation"
	rec, ok, err := s.localAccount(ctx, email)
	if err != nil {
		return storeErr(op, err)
	}
	if !ok || rec.EmailConfirmed || rec.Disabled {
		return nil
	}
	return s.sendCode(ctx, op, rec, store.CodeConfirmEmail, MsgConfirmCode)
}

// sendCode issues a code of the purpose to the account and queues its notice, within the
// hourly and daily bounds.
func (s *Service) sendCode(ctx context.Context, op string, rec store.AccountRecord, purpose, msg string) error {
	now := s.now()
	code, _ := newCode(rec.ID, purpose, msg, rec.Email, now, s.opts.CodeTTL)
	issued, err := s.st.IssueAccountCode(ctx, code, now, store.CodeLimit{Max: s.opts.MaxCodesPerHour, Window: time.Hour},
		store.CodeLimit{Max: s.opts.MaxCodesPerDay, Window: 24 * time.Hour})
	if err != nil {
		return storeErr(op, err)
	}
	if !issued {
		s.logger.WarnContext(ctx, "code not sent: too many codes sent to the account in the last hour or day",
			"account", rec.ID, "purpose", purpose, "max_per_hour", s.opts.MaxCodesPerHour, "max_per_day", s.opts.MaxCodesPerDay)
		return nil
	}
	s.logger.InfoContext(ctx, "account code queued", "account", rec.ID, "purpose", purpose)
	return nil
}

// Confirm confirms the address of a local account with the code sent to it.
func (s *Service) Confirm(ctx context.Context, email, code string) (Account, error) {
	const op = "confirm"
	code = normalizeCode(code)
	rec, ok, err := s.localAccount(ctx, email)
	if err != nil {
		return Account{}, storeErr(op, err)
	}
	if !ok || !wellFormed(store.CodeConfirmEmail, code) {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrInvalidCode)
	}
	confirmed, err := s.st.UseAccountCode(ctx, store.CodeUse{AccountID: rec.ID, Purpose: store.CodeConfirmEmail, Now: s.now(),
		MaxAttempts: s.opts.MaxCodeAttempts, Matches: matcher(store.CodeConfirmEmail, code), ConfirmEmail: true})
	if err != nil {
		if errors.Is(err, store.ErrCodeInvalid) {
			s.logger.InfoContext(ctx, "wrong or expired confirmation code", "account", rec.ID)
		}
		return Account{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "account e-mail address confirmed", "account", rec.ID)
	return accountOf(confirmed), nil
}

// RequestPasswordReset sends a code to reset the password when the address belongs to a
// local account that is not disabled. It says nothing either way, so that nobody learns
// from it whether an address has an account.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	const op = "request password reset"
	rec, ok, err := s.localAccount(ctx, email)
	if err != nil {
		return storeErr(op, err)
	}
	if !ok || rec.Disabled {
		return nil
	}
	return s.sendCode(ctx, op, rec, store.CodeResetPassword, MsgResetCode)
}

// ResetPassword sets a new password with the code sent to the address. The code proves
// that the person reads the address, so the address counts as confirmed, and a lock after
// failed sign-ins ends.
func (s *Service) ResetPassword(ctx context.Context, email, code, newPassword string) error {
	const op = "reset password"
	code = normalizeCode(code)
	if err := checkPassword(newPassword, email, ""); err != nil {
		return fmt.Errorf("accounts: %s: %w", op, err)
	}
	rec, ok, err := s.localAccount(ctx, email)
	if err != nil {
		return storeErr(op, err)
	}
	if !ok || rec.Disabled || !wellFormed(store.CodeResetPassword, code) {
		return fmt.Errorf("accounts: %s: %w", op, ErrInvalidCode)
	}
	// The rules that need the account (the password must not be its NIP) are checked only
	// once the code matched: told to someone without the code, they would confirm a guessed
	// NIP. Until then every failure is ErrInvalidCode, and a wrong code spends an attempt.
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return fmt.Errorf("accounts: %s: %w", op, err)
	}
	if _, err := s.st.UseAccountCode(ctx, store.CodeUse{AccountID: rec.ID, Purpose: store.CodeResetPassword, Now: s.now(),
		MaxAttempts: s.opts.MaxCodeAttempts, Matches: matcher(store.CodeResetPassword, code),
		Check:        func(cur store.AccountRecord) error { return checkPassword(newPassword, cur.Email, cur.NIP) },
		ConfirmEmail: true, PasswordHash: hash, ClearLock: true}); err != nil {
		if errors.Is(err, store.ErrCodeInvalid) {
			s.logger.InfoContext(ctx, "wrong or expired password reset code", "account", rec.ID)
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			return fmt.Errorf("accounts: %s: %w", op, fe)
		}
		return storeErr(op, err)
	}
	// A reset is what a person does when they fear someone else got in: the personal
	// access tokens made before it stop working too.
	tokens, err := s.Tokens(ctx, rec.ID)
	if err != nil {
		return fmt.Errorf("accounts: %s: the password is reset, but its tokens could not be listed: %w", op, err)
	}
	for _, t := range tokens {
		if err := s.RevokeToken(ctx, rec.ID, t.ID); err != nil {
			return fmt.Errorf("accounts: %s: the password is reset, but a token could not be revoked: %w", op, err)
		}
	}
	s.logger.InfoContext(ctx, "account password reset; its access tokens revoked", "account", rec.ID, "tokens", len(tokens))
	return nil
}

// Create makes a committee, auditor or admin account for the secretariat, and sends its
// owner a code to set the password (the reset flow: the pages' "set or reset password").
func (s *Service) Create(ctx context.Context, n NewAccount) (Account, error) {
	const op = "create account"
	var c collect
	if n.Role == auth.RoleCandidate || validRole(n.Role) != nil {
		c.add(fieldError(FieldRole, CodeInvalid))
	}
	name := c.str(validFullName(n.FullName))
	email := c.str(validEmail(n.Email))
	nip := c.str(validNIP(n.NIP))
	lang := c.str(langString(n.Lang))
	if err := c.err(op); err != nil {
		return Account{}, err
	}
	now := s.now()
	rec := store.AccountRecord{ID: newAccountID(), Issuer: auth.LocalIssuer, Subject: newSubject(nip), Role: string(n.Role),
		FullName: name, NIP: nip, Email: email, Lang: lang, CreatedAt: now}
	code, _ := newCode(rec.ID, store.CodeResetPassword, MsgSetPasswordCode, email, now, s.opts.CodeTTL)
	rec, err := s.st.CreateAccount(ctx, rec, &code)
	if err != nil {
		return Account{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "account created; a code to set the password was queued", "account", rec.ID, "role", rec.Role)
	return accountOf(rec), nil
}
