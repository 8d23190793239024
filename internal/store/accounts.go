package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Accounts of the people who sign in (internal/accounts owns the rules: passwords, codes,
// lockout; the store keeps the rows and makes each step atomic). A one-time code, and the
// notification that carries it to its owner, are written in one transaction, as every other
// notification is; using a code and what it allows (confirming the address, setting the
// password, creating the first administrator) happen in one transaction too.

// Errors of the account rows, each also an ErrConflict.
var (
	ErrAccountEmailTaken   = fmt.Errorf("e-mail address already has an account: %w", ErrConflict)
	ErrAccountNIPTaken     = fmt.Errorf("NIP already has an account: %w", ErrConflict)
	ErrAccountSubjectTaken = fmt.Errorf("subject already has an account: %w", ErrConflict)
)

// ErrAccountLocked: the account is locked after failed sign-ins (or the attempts allowed
// before a lock are all taken); no password is to be checked.
var ErrAccountLocked = fmt.Errorf("account locked: %w", ErrFailedPrecondition)

// ErrCodeInvalid: no live code matched (none was issued, it expired, was used, was replaced
// by a newer one, ran out of attempts, or the code given was wrong; the attempt is counted).
var ErrCodeInvalid = fmt.Errorf("code invalid: %w", ErrFailedPrecondition)

// Purposes of account codes.
const (
	CodeConfirmEmail  = "confirm"
	CodeResetPassword = "reset"
	// CodeSetup is the first start's setup code; it belongs to no account.
	CodeSetup = "setup"
)

// AccountKind is the notification kind of account codes.
const AccountKind = "account"

// AccountRecord is one account as the store keeps it.
type AccountRecord struct {
	ID       string
	Issuer   string
	Subject  string
	Role     string
	FullName string
	NIP      string
	Email    string
	Lang     string
	// PasswordHash is empty for accounts that sign in elsewhere (OIDC) or have not set a
	// password yet.
	PasswordHash   string
	EmailConfirmed bool
	Disabled       bool
	// FailedSignIns counts consecutive failed sign-ins since the last success or lock.
	FailedSignIns int
	// Locks counts the locks since the last successful sign-in.
	Locks       int
	LockedUntil time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

type accountRow struct {
	ID             string `gorm:"primaryKey"`
	Issuer         string
	Subject        string
	Role           string
	FullName       string
	NIP            string `gorm:"column:nip"`
	Email          string
	Lang           string
	PasswordHash   string
	EmailConfirmed bool
	Disabled       bool
	FailedSignIns  int
	Locks          int
	LockedUntil    *time.Time
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"autoUpdateTime:false"`
}

func (accountRow) TableName() string { return "accounts" }

func (r accountRow) record() AccountRecord {
	return AccountRecord{ID: r.ID, Issuer: r.Issuer, Subject: r.Subject, Role: r.Role, FullName: r.FullName, NIP: r.NIP,
		Email: r.Email, Lang: r.Lang, PasswordHash: r.PasswordHash, EmailConfirmed: r.EmailConfirmed, Disabled: r.Disabled,
		FailedSignIns: r.FailedSignIns, Locks: r.Locks, LockedUntil: fromNull(r.LockedUntil),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func accountRowOf(a AccountRecord) accountRow {
	r := accountRow{ID: a.ID, Issuer: a.Issuer, Subject: a.Subject, Role: a.Role, FullName: a.FullName, NIP: a.NIP,
		Email: a.Email, Lang: a.Lang, PasswordHash: a.PasswordHash, EmailConfirmed: a.EmailConfirmed, Disabled: a.Disabled,
		FailedSignIns: a.FailedSignIns, Locks: a.Locks, CreatedAt: instant(a.CreatedAt), UpdatedAt: instant(a.UpdatedAt)}
	if !a.LockedUntil.IsZero() {
		t := instant(a.LockedUntil)
		r.LockedUntil = &t
	}
	return r
}

type accountCodeRow struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	Purpose   string
	Salt      string
	Hash      string
	Attempts  int
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (accountCodeRow) TableName() string { return "account_codes" }

type seatRow struct {
	SelectionID   string `gorm:"primaryKey"`
	AccountID     string `gorm:"primaryKey"`
	MemberSubject string
	LinkedAt      time.Time
}

func (seatRow) TableName() string { return "committee_seats" }

// CommitteeSeat links a committee account to a seat on a selection's committee.
type CommitteeSeat struct {
	SelectionID   string
	AccountID     string
	MemberSubject string
	LinkedAt      time.Time
}

// AccountCode is a code to store, hashed by the caller.
type AccountCode struct {
	// AccountID is empty for a setup code.
	AccountID string
	Purpose   string
	Salt      string
	Hash      string
	ExpiresAt time.Time
	// Notice, when set, is queued in the outbox in the same transaction: the message that
	// carries the code to the account's address.
	Notice *AccountNotice
}

// AccountNotice is an e-mail to an account's owner.
type AccountNotice struct {
	Email   string
	Message Text
}

// CodeUse is an attempt to use a code, and what a matching code does.
type CodeUse struct {
	// AccountID is empty for the setup code.
	AccountID   string
	Purpose     string
	Now         time.Time
	MaxAttempts int
	// Matches compares the code given with a stored salt and hash (in constant time).
	Matches func(salt, hash string) bool
	// Effects on the account when the code matches.
	ConfirmEmail bool
	// PasswordHash replaces the account's password when not empty.
	PasswordHash string
	// ClearLock ends a lock and forgets the failed sign-ins.
	ClearLock bool
	// Check, when set, is asked once the code matched, with the account as it is: an error
	// refuses the effects and is returned, the code stays live and the attempt counted (a
	// rule that needs the account, e.g. the new password must not be its NIP, is told only
	// to someone who holds the code).
	Check func(AccountRecord) error
	// accept is Check bound to the account, for spendCode.
	accept func() error
}

// CreateAccount stores a new account and, when code is not nil, issues its first code (and
// queues the code's notice) in the same transaction. A taken e-mail address, NIP or subject
// (per issuer) is ErrAccountEmailTaken, ErrAccountNIPTaken or ErrAccountSubjectTaken.
func (s *Store) CreateAccount(ctx context.Context, a AccountRecord, code *AccountCode) (AccountRecord, error) {
	op := fmt.Sprintf("store: create account %q", a.ID)
	if a.ID == "" || a.Issuer == "" || a.Subject == "" || a.Role == "" || a.CreatedAt.IsZero() {
		return AccountRecord{}, fmt.Errorf("%s: id, issuer, subject, role and time are required: %w", op, ErrInvalidArgument)
	}
	if err := checkText(a); err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	row := accountRowOf(a)
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		if err := taken(tx, row); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			if isUniqueViolation(err) {
				return errRaced
			}
			return err
		}
		if err := releaseNIP(tx, row); err != nil {
			return err
		}
		if code != nil {
			if code.AccountID == "" {
				code.AccountID = row.ID
			}
			return issueCode(tx, *code, row.CreatedAt)
		}
		return nil
	})
	if errors.Is(err, errRaced) {
		// Another account took a unique value between the check and the insert; the
		// transaction is over, so the culprit can be named now.
		err = taken(s.db.WithContext(ctx), row)
		if err == nil {
			err = fmt.Errorf("duplicate account: %w", ErrConflict)
		}
	}
	if err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	return row.record(), nil
}

var errRaced = errors.New("unique value taken concurrently")

// A NIP is the account's for sure (claimed) when the account is confirmed, or is a staff
// account the secretariat made. NIPs are unique per issuer among claimed accounts only: a
// candidate's unconfirmed registration of someone else's NIP does not block its owner.
const (
	nipClaimed    = "(email_confirmed = ? OR role <> ?)"
	candidateRole = "candidate"
)

func (r accountRow) claimsNIP() bool {
	return r.NIP != "" && (r.EmailConfirmed || r.Role != candidateRole)
}

// releaseNIP clears the NIP of the unconfirmed candidates (other than row) that share the
// NIP row claims: the first account to claim a NIP keeps it, the others lose the attribute
// (their subject is not their NIP, so nothing else changes).
func releaseNIP(tx *gorm.DB, row accountRow) error {
	if !row.claimsNIP() {
		return nil
	}
	return tx.Model(&accountRow{}).Where("issuer = ? AND nip = ? AND id <> ? AND NOT "+nipClaimed,
		row.Issuer, row.NIP, row.ID, true, candidateRole).UpdateColumn("nip", "").Error
}

// taken reports which unique value of row another account holds.
func taken(db *gorm.DB, row accountRow) error {
	exists := func(where string, args ...any) (bool, error) {
		var n int64
		err := db.Model(&accountRow{}).Where(where, args...).Where("id <> ?", row.ID).Limit(1).Count(&n).Error
		return n > 0, err
	}
	checks := []struct {
		skip  bool
		where string
		args  []any
		err   error
	}{
		{row.Email == "", "issuer = ? AND email = ?", []any{row.Issuer, row.Email}, ErrAccountEmailTaken},
		{row.NIP == "", "issuer = ? AND nip = ? AND " + nipClaimed, []any{row.Issuer, row.NIP, true, candidateRole}, ErrAccountNIPTaken},
		{false, "issuer = ? AND subject = ?", []any{row.Issuer, row.Subject}, ErrAccountSubjectTaken},
	}
	for _, c := range checks {
		if c.skip {
			continue
		}
		found, err := exists(c.where, c.args...)
		if err != nil {
			return err
		}
		if found {
			return c.err
		}
	}
	return nil
}

// GetAccount returns one account.
func (s *Store) GetAccount(ctx context.Context, id string) (AccountRecord, error) {
	var row accountRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return AccountRecord{}, fmt.Errorf("store: get account %q: %w", id, notFound(err))
	}
	return row.record(), nil
}

// AccountByEmail returns the account of issuer with the e-mail address (as stored:
// callers normalise it first).
func (s *Store) AccountByEmail(ctx context.Context, issuer, email string) (AccountRecord, error) {
	var row accountRow
	if email == "" {
		return AccountRecord{}, fmt.Errorf("store: account by e-mail: %w", ErrNotFound)
	}
	if err := s.db.WithContext(ctx).Take(&row, "issuer = ? AND email = ?", issuer, email).Error; err != nil {
		return AccountRecord{}, fmt.Errorf("store: account by e-mail: %w", notFound(err))
	}
	return row.record(), nil
}

// AccountByIdentity returns the account that (issuer, subject) names.
func (s *Store) AccountByIdentity(ctx context.Context, issuer, subject string) (AccountRecord, error) {
	var row accountRow
	if err := s.db.WithContext(ctx).Take(&row, "issuer = ? AND subject = ?", issuer, subject).Error; err != nil {
		return AccountRecord{}, fmt.Errorf("store: account by identity: %w", notFound(err))
	}
	return row.record(), nil
}

// ListAccounts lists the accounts with the role (all when role is empty), oldest first.
func (s *Store) ListAccounts(ctx context.Context, role string) ([]AccountRecord, error) {
	q := s.db.WithContext(ctx).Model(&accountRow{})
	if role != "" {
		q = q.Where("role = ?", role)
	}
	var rows []accountRow
	if err := q.Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", err)
	}
	out := make([]AccountRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// HasActiveAccount reports whether issuer has an account with the role that is not
// disabled.
func (s *Store) HasActiveAccount(ctx context.Context, issuer, role string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&accountRow{}).Where("issuer = ? AND role = ? AND disabled = ?", issuer, role, false).
		Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("store: active %s accounts: %w", role, err)
	}
	return n > 0, nil
}

// SetAccountDisabled disables or enables an account.
func (s *Store) SetAccountDisabled(ctx context.Context, id string, disabled bool, now time.Time) error {
	op := fmt.Sprintf("store: set account %q disabled", id)
	err := retry(ctx, func() error {
		res := s.db.WithContext(ctx).Model(&accountRow{}).Where("id = ?", id).
			UpdateColumns(map[string]any{"disabled": disabled, "updated_at": instant(now)})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// UpdateExternalAccount records what an identity provider now says of an account (role,
// name, address); it is how an OIDC sign-in keeps the row current.
func (s *Store) UpdateExternalAccount(ctx context.Context, id, role, fullName, email string, now time.Time) (AccountRecord, error) {
	op := fmt.Sprintf("store: update account %q", id)
	if err := checkText([]string{role, fullName, email}); err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	var out AccountRecord
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var row accountRow
		if err := tx.Take(&row, "id = ?", id).Error; err != nil {
			return notFound(err)
		}
		if row.Role == role && row.FullName == fullName && row.Email == email {
			out = row.record()
			return nil
		}
		row.Role, row.FullName, row.Email, row.UpdatedAt = role, fullName, email, instant(now)
		if err := tx.Model(&accountRow{}).Where("id = ?", id).UpdateColumns(map[string]any{
			"role": role, "full_name": fullName, "email": email, "updated_at": row.UpdatedAt}).Error; err != nil {
			if isUniqueViolation(err) {
				return ErrAccountEmailTaken
			}
			return err
		}
		out = row.record()
		return nil
	})
	if err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// CodeLimit bounds the codes of one purpose issued to one account: at most Max in any
// Window (rolling).
type CodeLimit struct {
	Max    int
	Window time.Duration
}

// IssueAccountCode stores a code, replacing the live codes of the same account and purpose,
// and queues its notice, in one transaction. When a limit is reached (as many codes of the
// purpose issued to the account within its window as its Max) nothing is issued and it
// reports false, so that asking again and again cannot turn the per-code attempts into a
// brute force.
func (s *Store) IssueAccountCode(ctx context.Context, c AccountCode, now time.Time, limits ...CodeLimit) (bool, error) {
	op := fmt.Sprintf("store: issue %s code", c.Purpose)
	if c.Purpose == "" || c.Salt == "" || c.Hash == "" || now.IsZero() || c.ExpiresAt.IsZero() {
		return false, fmt.Errorf("%s: purpose, salt, hash and times are required: %w", op, ErrInvalidArgument)
	}
	issued := false
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		issued = false
		if c.AccountID != "" {
			q := tx
			if s.dialect == Postgres {
				// Concurrent requests for one account count the codes one after the other.
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var row accountRow
			if err := q.Select("id").Take(&row, "id = ?", c.AccountID).Error; err != nil {
				return notFound(err)
			}
		}
		for _, l := range limits {
			if l.Max <= 0 {
				continue
			}
			var n int64
			if err := tx.Model(&accountCodeRow{}).Where("account_id = ? AND purpose = ? AND created_at > ?",
				c.AccountID, c.Purpose, instant(now.Add(-l.Window))).Count(&n).Error; err != nil {
				return err
			}
			if n >= int64(l.Max) {
				return nil
			}
		}
		issued = true
		return issueCode(tx, c, instant(now))
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return issued, nil
}

// issueCode retires the live codes of c's account and purpose, stores c and queues its
// notice. The notice goes to the account (recipient: its ID, not its subject, which is
// often a NIP), at the address it names; it belongs to no selection.
func issueCode(tx *gorm.DB, c AccountCode, now time.Time) error {
	if err := tx.Model(&accountCodeRow{}).Where("account_id = ? AND purpose = ? AND used_at IS NULL", c.AccountID, c.Purpose).
		UpdateColumn("used_at", now).Error; err != nil {
		return fmt.Errorf("retire older codes: %w", err)
	}
	row := accountCodeRow{ID: newID("code-"), AccountID: c.AccountID, Purpose: c.Purpose, Salt: c.Salt, Hash: c.Hash,
		ExpiresAt: instant(c.ExpiresAt), CreatedAt: now}
	if err := tx.Create(&row).Error; err != nil {
		return fmt.Errorf("store code: %w", err)
	}
	if c.Notice == nil {
		return nil
	}
	if err := checkText(c.Notice); err != nil {
		return err
	}
	m, err := encodeText(&c.Notice.Message)
	if err != nil {
		return err
	}
	n := notificationRow{ID: sha256Hex([]byte("account-code\x00" + row.ID))[:32], Recipient: c.AccountID, Email: c.Notice.Email,
		Kind: AccountKind, Code: c.Notice.Message.Code, Message: m, CreatedAt: now, State: NotificationPending}
	if err := tx.Create(&n).Error; err != nil {
		return fmt.Errorf("queue notice: %w", err)
	}
	return nil
}

// UseAccountCode spends one attempt of the live code of u's account and purpose and, when
// the code matches, marks it used and applies u's effects to the account, all in one
// transaction; it returns the account as it is then. When no live code matches it returns
// ErrCodeInvalid, and the attempt stays counted: a code whose attempts are spent is void.
func (s *Store) UseAccountCode(ctx context.Context, u CodeUse) (AccountRecord, error) {
	op := fmt.Sprintf("store: use %s code", u.Purpose)
	var out AccountRecord
	matched := false
	var refused error
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		matched, out, refused = false, AccountRecord{}, nil
		var row accountRow
		if u.Check != nil {
			if err := tx.Take(&row, "id = ?", u.AccountID).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			u.accept = func() error {
				refused = u.Check(row.record())
				return refused
			}
		}
		ok, err := spendCode(tx, u)
		if err != nil || !ok {
			return err
		}
		matched = true
		if err := tx.Take(&row, "id = ?", u.AccountID).Error; err != nil {
			return notFound(err)
		}
		set := map[string]any{"updated_at": instant(u.Now)}
		if u.ConfirmEmail && !row.EmailConfirmed {
			row.EmailConfirmed = true
			set["email_confirmed"] = true
			if row.claimsNIP() {
				// The first account to confirm a NIP keeps it: one that another claimed
				// meanwhile is dropped from this one; otherwise the unconfirmed others lose it.
				var n int64
				if err := tx.Model(&accountRow{}).Where("issuer = ? AND nip = ? AND id <> ? AND "+nipClaimed,
					row.Issuer, row.NIP, row.ID, true, candidateRole).Count(&n).Error; err != nil {
					return err
				}
				if n > 0 {
					set["nip"], row.NIP = "", ""
				} else if err := releaseNIP(tx, row); err != nil {
					return err
				}
			}
		}
		if u.PasswordHash != "" {
			set["password_hash"], row.PasswordHash = u.PasswordHash, u.PasswordHash
		}
		if u.ClearLock {
			set["failed_sign_ins"], set["locks"], set["locked_until"] = 0, 0, nil
			row.FailedSignIns, row.Locks, row.LockedUntil = 0, 0, nil
		}
		row.UpdatedAt = instant(u.Now)
		if err := tx.Model(&accountRow{}).Where("id = ?", row.ID).UpdateColumns(set).Error; err != nil {
			return err
		}
		out = row.record()
		return nil
	})
	if err == nil && refused != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, refused)
	}
	if err == nil && !matched {
		err = ErrCodeInvalid
	}
	if err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// spendCode counts an attempt on the newest live code of u's account and purpose and
// reports whether it matched; a matching code is marked used. The attempt is counted before
// the comparison, by a conditional update, so that concurrent guesses never get more
// attempts than the maximum between them.
func spendCode(tx *gorm.DB, u CodeUse) (bool, error) {
	now := instant(u.Now)
	var code accountCodeRow
	err := tx.Where("account_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? AND attempts < ?",
		u.AccountID, u.Purpose, now, u.MaxAttempts).Order("created_at DESC, id DESC").Take(&code).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res := tx.Model(&accountCodeRow{}).Where("id = ? AND used_at IS NULL AND attempts < ?", code.ID, u.MaxAttempts).
		UpdateColumn("attempts", gorm.Expr("attempts + 1"))
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	if !u.Matches(code.Salt, code.Hash) {
		return false, nil
	}
	if u.accept != nil && u.accept() != nil {
		return false, nil // refused after the match: the code stays live, the attempt counted
	}
	res = tx.Model(&accountCodeRow{}).Where("id = ? AND used_at IS NULL", code.ID).UpdateColumn("used_at", now)
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	return true, nil
}

// CompleteAccountSetup uses the setup code and creates the first administrator's account,
// in one transaction, unless an active account with admin's issuer and role exists already
// (then the setup is over: ErrCodeInvalid, and no attempt is counted).
func (s *Store) CompleteAccountSetup(ctx context.Context, u CodeUse, admin AccountRecord) (AccountRecord, error) {
	const op = "store: complete setup"
	if err := checkText(admin); err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	u.AccountID, u.Purpose = "", CodeSetup
	row := accountRowOf(admin)
	if row.UpdatedAt.IsZero() {
		row.UpdatedAt = row.CreatedAt
	}
	matched := false
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		matched = false
		var n int64
		if err := tx.Model(&accountRow{}).Where("issuer = ? AND role = ? AND disabled = ?", row.Issuer, row.Role, false).
			Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		ok, err := spendCode(tx, u)
		if err != nil || !ok {
			return err
		}
		matched = true
		if err := taken(tx, row); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return releaseNIP(tx, row)
	})
	if err == nil && !matched {
		err = ErrCodeInvalid
	}
	if err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	return row.record(), nil
}

// ReserveSignIn takes one of the attempts an account allows before a lock, before its
// password is checked: the attempt counts as a failure until RecordSignInSuccess says
// otherwise, so that concurrent guesses never check more than maxFailures passwords between
// two locks. When the account is locked, or the maxFailures attempts are taken (failed or
// still being checked), it returns ErrAccountLocked with the account as it is then; in the
// latter case it places the lock (until now plus lockFor(locks), locks counting this one)
// and starts the count again. Attempts still being checked then find the account locked.
func (s *Store) ReserveSignIn(ctx context.Context, id string, now time.Time, maxFailures int, lockFor func(locks int) time.Duration) (AccountRecord, error) {
	op := fmt.Sprintf("store: reserve a sign-in to account %q", id)
	var out AccountRecord
	locked := false
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		locked = false
		var row accountRow
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&row, "id = ?", id).Error; err != nil {
			return notFound(err)
		}
		set := map[string]any{}
		switch {
		case row.LockedUntil != nil && row.LockedUntil.After(instant(now)):
			locked = true
		case row.FailedSignIns >= maxFailures:
			locked = true
			row.FailedSignIns = 0
			row.Locks++
			until := instant(now.Add(lockFor(row.Locks)))
			row.LockedUntil = &until
			set = map[string]any{"failed_sign_ins": 0, "locks": row.Locks, "locked_until": row.LockedUntil}
		default:
			row.FailedSignIns++
			set = map[string]any{"failed_sign_ins": row.FailedSignIns}
		}
		out = row.record()
		if len(set) == 0 {
			return nil
		}
		row.UpdatedAt = instant(now)
		set["updated_at"] = row.UpdatedAt
		out = row.record()
		return tx.Model(&accountRow{}).Where("id = ?", id).UpdateColumns(set).Error
	})
	if err == nil && locked {
		err = ErrAccountLocked
	}
	if err != nil {
		return out, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// RecordSignInFailure records that the password of an attempt ReserveSignIn counted was
// wrong: when the attempts counted reach maxFailures (this one included), the account is
// locked until now plus lockFor(locks), locks being the number of locks since the last
// success including this one, and the count starts again. It returns the account as it is
// then.
func (s *Store) RecordSignInFailure(ctx context.Context, id string, now time.Time, maxFailures int, lockFor func(locks int) time.Duration) (AccountRecord, error) {
	op := fmt.Sprintf("store: record failed sign-in of account %q", id)
	var out AccountRecord
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var row accountRow
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&row, "id = ?", id).Error; err != nil {
			return notFound(err)
		}
		out = row.record()
		if row.FailedSignIns < maxFailures || (row.LockedUntil != nil && row.LockedUntil.After(instant(now))) {
			return nil // counted when reserved
		}
		row.FailedSignIns = 0
		row.Locks++
		until := instant(now.Add(lockFor(row.Locks)))
		row.LockedUntil = &until
		row.UpdatedAt = instant(now)
		if err := tx.Model(&accountRow{}).Where("id = ?", id).UpdateColumns(map[string]any{
			"failed_sign_ins": row.FailedSignIns, "locks": row.Locks, "locked_until": row.LockedUntil, "updated_at": row.UpdatedAt,
		}).Error; err != nil {
			return err
		}
		out = row.record()
		return nil
	})
	if err != nil {
		return AccountRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// RecordSignInSuccess forgets failed sign-ins and locks, unless the account is locked (a
// lock placed while the password was being checked, by concurrent attempts): then it
// changes nothing and returns ErrAccountLocked with the account. When newHash is not empty
// it replaces the password hash (new hashing parameters), but only if the hash is still
// oldHash: a password changed meanwhile is not overwritten.
func (s *Store) RecordSignInSuccess(ctx context.Context, id string, now time.Time, oldHash, newHash string) (AccountRecord, error) {
	op := fmt.Sprintf("store: record sign-in of account %q", id)
	var out AccountRecord
	locked := false
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		locked = false
		res := tx.Model(&accountRow{}).Where("id = ? AND (locked_until IS NULL OR locked_until <= ?)", id, instant(now)).
			UpdateColumns(map[string]any{"failed_sign_ins": 0, "locks": 0, "locked_until": nil, "updated_at": instant(now)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var row accountRow
			if err := tx.Take(&row, "id = ?", id).Error; err != nil {
				return notFound(err)
			}
			out, locked = row.record(), true
			return nil
		}
		if newHash != "" {
			if err := tx.Model(&accountRow{}).Where("id = ? AND password_hash = ?", id, oldHash).
				UpdateColumns(map[string]any{"password_hash": newHash, "updated_at": instant(now)}).Error; err != nil {
				return err
			}
		}
		var row accountRow
		if err := tx.Take(&row, "id = ?", id).Error; err != nil {
			return notFound(err)
		}
		out = row.record()
		return nil
	})
	if err == nil && locked {
		err = ErrAccountLocked
	}
	if err != nil {
		return out, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// LinkSeat records a committee seat. Linking again is a no-op that returns the seat as it
// was first linked. An unknown selection or account is ErrNotFound.
func (s *Store) LinkSeat(ctx context.Context, seat CommitteeSeat) (CommitteeSeat, error) {
	op := fmt.Sprintf("store: link account %q to selection %q", seat.AccountID, seat.SelectionID)
	if err := checkText(seat); err != nil {
		return CommitteeSeat{}, fmt.Errorf("%s: %w", op, err)
	}
	var out CommitteeSeat
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&selectionRow{}).Where("id = ?", seat.SelectionID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("selection: %w", ErrNotFound)
		}
		if err := tx.Model(&accountRow{}).Where("id = ?", seat.AccountID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("account: %w", ErrNotFound)
		}
		row := seatRow{SelectionID: seat.SelectionID, AccountID: seat.AccountID, MemberSubject: seat.MemberSubject, LinkedAt: instant(seat.LinkedAt)}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
		if err := tx.Take(&row, "selection_id = ? AND account_id = ?", seat.SelectionID, seat.AccountID).Error; err != nil {
			return err
		}
		out = row.seat()
		return nil
	})
	if err != nil {
		return CommitteeSeat{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

func (r seatRow) seat() CommitteeSeat {
	return CommitteeSeat{SelectionID: r.SelectionID, AccountID: r.AccountID, MemberSubject: r.MemberSubject, LinkedAt: r.LinkedAt.UTC()}
}

// UnlinkSeat removes a committee seat; ErrNotFound when there is none.
func (s *Store) UnlinkSeat(ctx context.Context, selectionID, accountID string) error {
	op := fmt.Sprintf("store: unlink account %q from selection %q", accountID, selectionID)
	err := retry(ctx, func() error {
		res := s.db.WithContext(ctx).Where("selection_id = ? AND account_id = ?", selectionID, accountID).Delete(&seatRow{})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// SeatsOfAccount lists an account's seats by selection.
func (s *Store) SeatsOfAccount(ctx context.Context, accountID string) ([]CommitteeSeat, error) {
	return s.seats(ctx, "account_id = ?", accountID, "selection_id")
}

// SeatsOfSelection lists a selection's linked seats in the order they were linked.
func (s *Store) SeatsOfSelection(ctx context.Context, selectionID string) ([]CommitteeSeat, error) {
	return s.seats(ctx, "selection_id = ?", selectionID, "linked_at, account_id")
}

func (s *Store) seats(ctx context.Context, where, arg, order string) ([]CommitteeSeat, error) {
	var rows []seatRow
	if err := s.db.WithContext(ctx).Where(where, arg).Order(order).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: committee seats: %w", err)
	}
	out := make([]CommitteeSeat, len(rows))
	for i := range rows {
		out[i] = rows[i].seat()
	}
	return out, nil
}
