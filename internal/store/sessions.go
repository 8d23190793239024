package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// webSessionRow is one web session (see migration 00017).
type webSessionRow struct {
	Token  string `gorm:"column:token;primaryKey"`
	Data   string `gorm:"column:data"`
	Expiry time.Time
}

func (webSessionRow) TableName() string { return "web_sessions" }

// Sessions keeps the web application's sessions in the store, for
// github.com/alexedwards/scs/v2 (it implements scs.Store and scs.CtxStore): every replica
// sees every session. Rows are keyed by a digest of the session token.
type Sessions struct {
	s   *Store
	now func() time.Time
}

// Sessions returns the store's session store; now is the clock (time.Now in production).
func (s *Store) Sessions(now func() time.Time) *Sessions { return &Sessions{s: s, now: now} }

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the data of a live session; found is false for an unknown or expired one.
func (ss *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var row webSessionRow
	err := ss.s.db.WithContext(ctx).Where("token = ? AND expiry > ?", sessionKey(token), ss.now().UTC()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(row.Data)
	if err != nil {
		return nil, false, fmt.Errorf("store: session data: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores a session's data until expiry, replacing what it held.
func (ss *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	row := webSessionRow{Token: sessionKey(token), Data: base64.StdEncoding.EncodeToString(b), Expiry: expiry.UTC()}
	err := ss.s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: commit session: %w", err)
	}
	return nil
}

// DeleteCtx ends a session.
func (ss *Sessions) DeleteCtx(ctx context.Context, token string) error {
	if err := ss.s.db.WithContext(ctx).Where("token = ?", sessionKey(token)).Delete(&webSessionRow{}).Error; err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Find, Commit and Delete are scs.Store's context-free forms; scs calls the Ctx ones.
func (ss *Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit: see CommitCtx.
func (ss *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete: see DeleteCtx.
func (ss *Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// DeleteExpired removes sessions past their expiry and reports how many.
func (ss *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res := ss.s.db.WithContext(ctx).Where("expiry <= ?", ss.now().UTC()).Delete(&webSessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}
