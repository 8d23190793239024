package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Seed makes a local account of any role, its address confirmed and its password set, for
// a demonstration (seleksid -demo): no code is sent. When a local account with the address
// exists already it is returned as it is (its password untouched), so seeding twice creates
// nothing; an existing account of another role is an error on the address (CodeTaken).
func (s *Service) Seed(ctx context.Context, n NewAccount, password string) (Account, error) {
	const op = "seed account"
	var c collect
	c.add(validRole(n.Role))
	name := c.str(validFullName(n.FullName))
	email := c.str(validEmail(n.Email))
	nip := c.str(validNIP(n.NIP))
	lang := c.str(langString(n.Lang))
	c.add(checkPassword(password, email, nip))
	if err := c.err(op); err != nil {
		return Account{}, err
	}
	existing := func() (Account, bool, error) {
		rec, ok, err := s.localAccount(ctx, email)
		switch {
		case err != nil:
			return Account{}, false, storeErr(op, err)
		case !ok:
			return Account{}, false, nil
		case rec.Role != string(n.Role):
			return Account{}, false, fmt.Errorf("accounts: %s: an account of role %s has the address: %w", op, rec.Role,
				fieldError(FieldEmail, CodeTaken))
		}
		return accountOf(rec), true, nil
	}
	if a, ok, err := existing(); err != nil || ok {
		return a, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Account{}, fmt.Errorf("accounts: %s: %w", op, err)
	}
	now := s.now()
	rec := store.AccountRecord{ID: newAccountID(), Issuer: auth.LocalIssuer, Subject: newSubject(nip), Role: string(n.Role),
		FullName: name, NIP: nip, Email: email, Lang: lang, PasswordHash: hash, EmailConfirmed: true, CreatedAt: now}
	rec, err = s.st.CreateAccount(ctx, rec, nil)
	if errors.Is(err, store.ErrAccountEmailTaken) {
		// Seeded meanwhile by another process: take that one.
		if a, ok, err := existing(); err != nil || ok {
			return a, err
		}
	}
	if err != nil {
		return Account{}, storeErr(op, err)
	}
	s.logger.InfoContext(ctx, "account seeded, confirmed with a password", "account", rec.ID, "role", rec.Role)
	return accountOf(rec), nil
}
