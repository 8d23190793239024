package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Leases let a background loop that must run once per deployment (the history archiver) run
// in one process at a time, whatever the number of workers. A lease is a row: its holder,
// when it expires, and a fencing token. A holder renews it while it works and releases it
// when it stops; a holder that dies (killed, its connection gone) simply stops renewing, and
// the lease is free again once it expires.
//
// A row rather than a PostgreSQL advisory lock, because it works on SQLite too (the embedded
// default and every test run the same code), survives a connection pooler in transaction
// mode (a session advisory lock does not: it belongs to whichever server connection the
// pooler handed out), needs no connection held open for the lease's whole life, and shows
// operators who holds it (SELECT * FROM leases). The price is the expiry: a dead holder
// blocks the loop for up to one lease period, and holders' clocks must agree to well within
// it (NTP keeps them within milliseconds; leases last minutes).

// Lease is a held lease.
type Lease struct {
	Name   string
	Holder string
	// Token grows whenever another holder takes the lease; writes guarded by the lease
	// check it (see AdvanceArchiveWatermark).
	Token      int64
	ExpiresAt  time.Time
	AcquiredAt time.Time
}

type leaseRow struct {
	Name       string `gorm:"primaryKey"`
	Holder     string
	ExpiresAt  *time.Time
	Token      int64
	AcquiredAt *time.Time
	UpdatedAt  time.Time
}

func (leaseRow) TableName() string { return "leases" }

func (r leaseRow) lease() Lease {
	l := Lease{Name: r.Name, Holder: r.Holder, Token: r.Token}
	if r.ExpiresAt != nil {
		l.ExpiresAt = r.ExpiresAt.UTC()
	}
	if r.AcquiredAt != nil {
		l.AcquiredAt = r.AcquiredAt.UTC()
	}
	return l
}

// AcquireLease takes the named lease for holder until now+ttl, or renews it when holder
// holds it already. It reports whether holder holds the lease now; when it does not, the
// returned Lease is the current holder's. Taking a lease from another holder (released or
// expired) increases its token; renewing keeps it.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (Lease, bool, error) {
	op := fmt.Sprintf("store: acquire lease %q for %q", name, holder)
	if name == "" || holder == "" || now.IsZero() || ttl <= 0 {
		return Lease{}, false, fmt.Errorf("%s: name, holder, time and a positive duration are required: %w", op, ErrInvalidArgument)
	}
	now = instant(now)
	until := instant(now.Add(ttl))
	var (
		out  Lease
		held bool
	)
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		out, held = Lease{}, false
		// The first holder ever creates the row; a concurrent creator loses to it quietly.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&leaseRow{Name: name, Holder: holder, ExpiresAt: &until,
			Token: 1, AcquiredAt: &now, UpdatedAt: now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// One conditional statement, so two contenders cannot both win: the row is
			// taken only if holder has it already, or nobody does.
			res = tx.Model(&leaseRow{}).
				Where("name = ? AND (holder = ? OR holder = '' OR expires_at IS NULL OR expires_at <= ?)", name, holder, now).
				UpdateColumns(map[string]any{
					"token":       gorm.Expr("CASE WHEN holder = ? THEN token ELSE token + 1 END", holder),
					"acquired_at": gorm.Expr("CASE WHEN holder = ? THEN acquired_at ELSE ? END", holder, now),
					"holder":      holder,
					"expires_at":  until,
					"updated_at":  now,
				})
			if res.Error != nil {
				return res.Error
			}
		}
		var row leaseRow
		if err := tx.Take(&row, "name = ?", name).Error; err != nil {
			return err
		}
		out, held = row.lease(), res.RowsAffected == 1
		return nil
	})
	if err != nil {
		return Lease{}, false, fmt.Errorf("%s: %w", op, err)
	}
	return out, held, nil
}

// ReleaseLease gives up holder's lease at once, so that another process need not wait for
// it to expire. Releasing a lease holder does not hold (any more) changes nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string, now time.Time) error {
	err := retry(ctx, func() error {
		return s.db.WithContext(ctx).Model(&leaseRow{}).Where("name = ? AND holder = ?", name, holder).
			UpdateColumns(map[string]any{"holder": "", "expires_at": nil, "updated_at": instant(now)}).Error
	})
	if err != nil {
		return fmt.Errorf("store: release lease %q of %q: %w", name, holder, err)
	}
	return nil
}

// GetLease returns the named lease as it stands (holder empty when nobody holds it), or
// ErrNotFound when it was never taken: for operators and tests.
func (s *Store) GetLease(ctx context.Context, name string) (Lease, error) {
	var row leaseRow
	err := s.db.WithContext(ctx).Take(&row, "name = ?", name).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		return Lease{}, fmt.Errorf("store: lease %q: %w", name, err)
	}
	return row.lease(), nil
}

// checkLease fails with ErrLeaseLost unless l is still held, by the same holder under the
// same token, at now. On PostgreSQL it locks the lease row until tx ends, so that nobody
// takes the lease between the check and the write it guards; on SQLite the transaction runs
// alone anyway.
func (s *Store) checkLease(tx *gorm.DB, l Lease, now time.Time) error {
	q := tx
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row leaseRow
	err := q.Take(&row, "name = ?", l.Name).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("lease %q was never taken: %w", l.Name, ErrLeaseLost)
	}
	if err != nil {
		return err
	}
	if row.Holder != l.Holder || row.Token != l.Token || row.ExpiresAt == nil || !row.ExpiresAt.After(instant(now)) {
		return fmt.Errorf("lease %q (holder %q, token %d) is now %q's, token %d: %w", l.Name, l.Holder, l.Token, row.Holder, row.Token, ErrLeaseLost)
	}
	return nil
}
