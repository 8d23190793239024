package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Personal access tokens (migration 00019): internal/accounts owns the rules (the secret's
// form, how long a token may live, who may use it); the store keeps the rows, found by the
// SHA-256 of the secret, never the secret.

// ErrTooManyAccessTokens: the account already has the most live tokens allowed. It is also
// ErrFailedPrecondition.
var ErrTooManyAccessTokens = fmt.Errorf("too many live access tokens: %w", ErrFailedPrecondition)

// AccessTokenRecord is one personal access token.
type AccessTokenRecord struct {
	ID        string
	AccountID string
	// Name is what the owner called the token ("laptop", "laporan harian").
	Name string
	// SecretHash is the SHA-256 of the secret, hex.
	SecretHash string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// LastUsedAt and RevokedAt are zero when the token was never used or is not revoked.
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Live reports whether the token may be used at now: not revoked and not expired.
func (t AccessTokenRecord) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

type accessTokenRow struct {
	ID         string `gorm:"primaryKey"`
	AccountID  string
	Name       string
	SecretHash string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (accessTokenRow) TableName() string { return "access_tokens" }

func (r accessTokenRow) record() AccessTokenRecord {
	return AccessTokenRecord{ID: r.ID, AccountID: r.AccountID, Name: r.Name, SecretHash: r.SecretHash, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), LastUsedAt: fromNull(r.LastUsedAt), RevokedAt: fromNull(r.RevokedAt)}
}

// CreateAccessToken stores a new token of an existing account (ErrNotFound otherwise). When
// maxLive is positive and the account already has maxLive live tokens (neither revoked nor
// expired at t.CreatedAt), nothing is stored and the error is ErrTooManyAccessTokens.
func (s *Store) CreateAccessToken(ctx context.Context, t AccessTokenRecord, maxLive int) (AccessTokenRecord, error) {
	op := fmt.Sprintf("store: create access token %q", t.ID)
	if t.ID == "" || t.AccountID == "" || t.Name == "" || t.SecretHash == "" || t.CreatedAt.IsZero() || !t.ExpiresAt.After(t.CreatedAt) {
		return AccessTokenRecord{}, fmt.Errorf("%s: id, account, name, secret hash and a lifetime are required: %w", op, ErrInvalidArgument)
	}
	if err := checkText([]string{t.Name}); err != nil {
		return AccessTokenRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	row := accessTokenRow{ID: t.ID, AccountID: t.AccountID, Name: t.Name, SecretHash: t.SecretHash, CreatedAt: instant(t.CreatedAt),
		ExpiresAt: instant(t.ExpiresAt)}
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		// The account's row is locked on PostgreSQL so that two tokens made at once cannot
		// both pass the count; SQLite runs one writer at a time anyway.
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var acc accountRow
		if err := q.Select("id").Take(&acc, "id = ?", t.AccountID).Error; err != nil {
			return fmt.Errorf("account: %w", notFound(err))
		}
		if maxLive > 0 {
			var n int64
			if err := tx.Model(&accessTokenRow{}).Where("account_id = ? AND revoked_at IS NULL AND expires_at > ?", t.AccountID, row.CreatedAt).
				Count(&n).Error; err != nil {
				return err
			}
			if n >= int64(maxLive) {
				return ErrTooManyAccessTokens
			}
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return AccessTokenRecord{}, fmt.Errorf("%s: %w", op, err)
	}
	return row.record(), nil
}

// AccessTokensOfAccount lists an account's tokens that are not revoked (expired ones too),
// newest first.
func (s *Store) AccessTokensOfAccount(ctx context.Context, accountID string) ([]AccessTokenRecord, error) {
	var rows []accessTokenRow
	if err := s.db.WithContext(ctx).Where("account_id = ? AND revoked_at IS NULL", accountID).Order("created_at DESC, id").
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: access tokens of account %q: %w", accountID, err)
	}
	out := make([]AccessTokenRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// AccessTokenBySecretHash returns the token whose secret has the hash, revoked or expired
// or not (the caller decides), and its account.
func (s *Store) AccessTokenBySecretHash(ctx context.Context, hash string) (AccessTokenRecord, AccountRecord, error) {
	var row accessTokenRow
	if hash == "" {
		return AccessTokenRecord{}, AccountRecord{}, fmt.Errorf("store: access token by secret: %w", ErrNotFound)
	}
	if err := s.db.WithContext(ctx).Take(&row, "secret_hash = ?", hash).Error; err != nil {
		return AccessTokenRecord{}, AccountRecord{}, fmt.Errorf("store: access token by secret: %w", notFound(err))
	}
	var acc accountRow
	if err := s.db.WithContext(ctx).Take(&acc, "id = ?", row.AccountID).Error; err != nil {
		return AccessTokenRecord{}, AccountRecord{}, fmt.Errorf("store: account of access token %q: %w", row.ID, notFound(err))
	}
	return row.record(), acc.record(), nil
}

// RevokeAccessToken revokes one of an account's tokens at now. A token of another account,
// or none, is ErrNotFound; revoking a revoked token changes nothing.
func (s *Store) RevokeAccessToken(ctx context.Context, accountID, id string, now time.Time) error {
	op := fmt.Sprintf("store: revoke access token %q", id)
	err := retry(ctx, func() error {
		res := s.db.WithContext(ctx).Model(&accessTokenRow{}).Where("id = ? AND account_id = ? AND revoked_at IS NULL", id, accountID).
			UpdateColumn("revoked_at", instant(now))
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		var n int64
		if err := s.db.WithContext(ctx).Model(&accessTokenRow{}).Where("id = ? AND account_id = ?", id, accountID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// TouchAccessToken records that the token was used at now, unless it already was less than
// every ago: a script that calls the API in a loop writes once a minute, not once a call.
func (s *Store) TouchAccessToken(ctx context.Context, id string, now time.Time, every time.Duration) error {
	err := s.db.WithContext(ctx).Model(&accessTokenRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", id, instant(now.Add(-every))).
		UpdateColumn("last_used_at", instant(now)).Error
	if err != nil {
		return fmt.Errorf("store: access token %q used: %w", id, err)
	}
	return nil
}
