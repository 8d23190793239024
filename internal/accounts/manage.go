package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Get returns one account.
func (s *Service) Get(ctx context.Context, id string) (Account, error) {
	rec, err := s.st.GetAccount(ctx, id)
	if err != nil {
		return Account{}, storeErr("get account", err)
	}
	return accountOf(rec), nil
}

// List lists the accounts with the role, or all accounts when role is empty, oldest first.
func (s *Service) List(ctx context.Context, role auth.Role) ([]Account, error) {
	const op = "list accounts"
	if role != "" {
		if err := validRole(role); err != nil {
			return nil, fmt.Errorf("accounts: %s: %w", op, err)
		}
	}
	recs, err := s.st.ListAccounts(ctx, string(role))
	if err != nil {
		return nil, storeErr(op, err)
	}
	out := make([]Account, len(recs))
	for i, r := range recs {
		out[i] = accountOf(r)
	}
	return out, nil
}

// SetDisabled disables an account (it can no longer sign in, by password or through the
// identity provider) or enables it again.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) error {
	if err := s.st.SetAccountDisabled(ctx, id, disabled, s.now()); err != nil {
		return storeErr("set account disabled", err)
	}
	s.logger.InfoContext(ctx, "account disabled state changed", "account", id, "disabled", disabled)
	return nil
}

// LinkSeat gives a committee account a seat on a selection's committee; the member is
// known by the account's subject. Only committee accounts take seats (a *FieldError on
// "account" otherwise). Linking again returns the seat as it was linked.
func (s *Service) LinkSeat(ctx context.Context, selectionID, accountID string) (Seat, error) {
	const op = "link seat"
	rec, err := s.st.GetAccount(ctx, accountID)
	if err != nil {
		return Seat{}, storeErr(op, err)
	}
	if rec.Role != string(auth.RoleCommittee) {
		return Seat{}, fmt.Errorf("accounts: %s: %w", op, fieldError(FieldAccount, CodeNotCommittee))
	}
	seat, err := s.st.LinkSeat(ctx, store.CommitteeSeat{SelectionID: selectionID, AccountID: rec.ID, MemberSubject: rec.Subject,
		LinkedAt: s.now()})
	if err != nil {
		return Seat{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "committee seat linked", "account", rec.ID, "selection", selectionID)
	return seatOf(seat), nil
}

// UnlinkSeat removes a committee seat (ErrNotFound when there is none).
func (s *Service) UnlinkSeat(ctx context.Context, selectionID, accountID string) error {
	if err := s.st.UnlinkSeat(ctx, selectionID, accountID); err != nil {
		return storeErr("unlink seat", err)
	}
	s.logger.InfoContext(ctx, "committee seat unlinked", "account", accountID, "selection", selectionID)
	return nil
}

// Seats lists an account's committee seats, by selection.
func (s *Service) Seats(ctx context.Context, accountID string) ([]Seat, error) {
	seats, err := s.st.SeatsOfAccount(ctx, accountID)
	if err != nil {
		return nil, storeErr("seats of account", err)
	}
	return seatsOf(seats), nil
}

// SeatsOfSelection lists the linked seats of a selection's committee, in the order linked.
func (s *Service) SeatsOfSelection(ctx context.Context, selectionID string) ([]Seat, error) {
	seats, err := s.st.SeatsOfSelection(ctx, selectionID)
	if err != nil {
		return nil, storeErr("seats of selection", err)
	}
	return seatsOf(seats), nil
}

func seatsOf(in []store.CommitteeSeat) []Seat {
	out := make([]Seat, len(in))
	for i, r := range in {
		out[i] = seatOf(r)
	}
	return out
}

// Bootstrap issues a one-time setup code when no local administrator account (not
// disabled) exists, and returns it for the caller to show to the operator (printed at
// start-up); it returns "" when an administrator exists. Only a hash is stored; each call
// replaces the previous code, so the code printed last is the one that works. The code is
// valid for SetupTTL and void after MaxCodeAttempts wrong attempts.
func (s *Service) Bootstrap(ctx context.Context) (setupCode string, err error) {
	const op = "bootstrap"
	exists, err := s.st.HasActiveAccount(ctx, auth.LocalIssuer, string(auth.RoleAdmin))
	if err != nil {
		return "", storeErr(op, err)
	}
	if exists {
		return "", nil
	}
	now := s.now()
	c, code := newCode("", store.CodeSetup, "", "", now, s.opts.SetupTTL)
	if _, err := s.st.IssueAccountCode(ctx, c, now); err != nil {
		return "", storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "no administrator account yet: a one-time setup code was issued", "valid_until", c.ExpiresAt)
	return code, nil
}

// CompleteSetup creates the first administrator's account, confirmed, with the setup code
// from Bootstrap. n.Role must be admin or empty. Once an administrator exists, every setup
// code is refused (ErrInvalidCode).
func (s *Service) CompleteSetup(ctx context.Context, code string, n NewAccount, password string) (Account, error) {
	const op = "complete setup"
	code = normalizeCode(code)
	var c collect
	if n.Role != "" && n.Role != auth.RoleAdmin {
		c.add(fieldError(FieldRole, CodeInvalid))
	}
	name := c.str(validFullName(n.FullName))
	email := c.str(validEmail(n.Email))
	nip := c.str(validNIP(n.NIP))
	lang := c.str(langString(n.Lang))
	c.add(checkPassword(password, email, nip))
	if err := c.err(op); err != nil {
		return Account{}, err
	}
	if !wellFormed(store.CodeSetup, code) {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrInvalidCode)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, err)
	}
	now := s.now()
	rec := store.AccountRecord{ID: newAccountID(), Issuer: auth.LocalIssuer, Subject: newSubject(nip), Role: string(auth.RoleAdmin),
		FullName: name, NIP: nip, Email: email, Lang: lang, PasswordHash: hash, EmailConfirmed: true, CreatedAt: now}
	rec, err = s.st.CompleteAccountSetup(ctx, store.CodeUse{Now: now, MaxAttempts: s.opts.MaxCodeAttempts,
		Matches: matcher(store.CodeSetup, code)}, rec)
	if err != nil {
		if errors.Is(err, store.ErrCodeInvalid) {
			s.logger.WarnContext(ctx, "setup refused: wrong or expired setup code, or an administrator exists")
		}
		return Account{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "first administrator account created", "account", rec.ID)
	return accountOf(rec), nil
}

// External finds or creates the account of a person who signed in through an OpenID
// Connect provider (issuer, subject), and records the role, name and address the provider
// gives now. Such accounts have no password. A malformed address is not kept, nor one that
// another account of the same provider has. A disabled account is ErrDisabled.
func (s *Service) External(ctx context.Context, issuer, subject string, role auth.Role, fullName, email string) (Account, error) {
	const op = "external account"
	var c collect
	if issuer == "" || issuer == auth.LocalIssuer {
		c.add(fieldError(FieldIssuer, CodeInvalid))
	}
	switch {
	case subject == "":
		c.add(fieldError(FieldSubject, CodeRequired))
	case !utf8.ValidString(subject) || strings.ContainsFunc(subject, unicode.IsControl) || len(subject) > 255:
		c.add(fieldError(FieldSubject, CodeInvalid))
	}
	c.add(validRole(role))
	if err := c.err(op); err != nil {
		return Account{}, err
	}
	name := strings.TrimSpace(strings.ToValidUTF8(fullName, ""))
	if utf8.RuneCountInString(name) > MaxFullNameLen {
		name = string([]rune(name)[:MaxFullNameLen])
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		name = ""
	}
	addr, err := validEmail(email)
	if err != nil {
		addr = ""
	}
	now := s.now()
	for range 3 {
		rec, err := s.st.AccountByIdentity(ctx, issuer, subject)
		switch {
		case err == nil:
			if rec.Disabled {
				s.logger.InfoContext(ctx, "sign-in to a disabled account refused", "account", rec.ID)
				return Account{}, fmt.Errorf("accounts: %s: %w", op, ErrDisabled)
			}
			rec, err = s.st.UpdateExternalAccount(ctx, rec.ID, string(role), name, addr, now)
			if errors.Is(err, store.ErrAccountEmailTaken) {
				rec, err = s.st.UpdateExternalAccount(ctx, rec.ID, string(role), name, "", now)
			}
			if err != nil {
				return Account{}, storeErr(op, err)
			}
			return accountOf(rec), nil
		case !errors.Is(err, store.ErrNotFound):
			return Account{}, storeErr(op, err)
		}
		rec = store.AccountRecord{ID: newAccountID(), Issuer: issuer, Subject: subject, Role: string(role), FullName: name,
			Email: addr, Lang: "id", CreatedAt: now}
		created, err := s.st.CreateAccount(ctx, rec, nil)
		if errors.Is(err, store.ErrAccountEmailTaken) {
			rec.Email = ""
			created, err = s.st.CreateAccount(ctx, rec, nil)
		}
		switch {
		case err == nil:
			s.logger.InfoContext(ctx, "account created at first sign-in through the identity provider", "account", created.ID,
				"role", created.Role)
			return accountOf(created), nil
		case errors.Is(err, store.ErrAccountSubjectTaken):
			continue // created meanwhile by a concurrent sign-in: read it
		default:
			return Account{}, storeErr(op, err)
		}
	}
	return Account{}, fmt.Errorf("accounts: %s: the account changed under three attempts: %w", op, store.ErrUnavailable)
}
