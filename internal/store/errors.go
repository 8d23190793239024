package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors the store returns, always wrapped with the operation and the resource it concerns,
// so that callers test them with errors.Is and map them to API codes at the edge.
var (
	// ErrNotFound: the resource does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write would duplicate something that must be unique (a second
	// application by the same candidate, a request ID reused with different content).
	ErrConflict = errors.New("conflict")
	// ErrFailedPrecondition: the resource is not in a state that allows the write (the
	// announcement window is closed, for example).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrInvalidArgument: the request itself is malformed (a filter the store does not
	// understand, a page token from another query).
	ErrInvalidArgument = errors.New("invalid argument")
)

// isUniqueViolation reports whether err is a unique or primary-key violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isTransient reports whether a transaction failed only because of contention, so that
// running it again may succeed: a serialization failure or deadlock on PostgreSQL, a busy or
// locked database on SQLite (after the busy timeout has already waited).
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		primary := sqErr.Code() & 0xff
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	return false
}

// errRetry marks a transaction that lost a race it can win by running again.
var errRetry = errors.New("retry transaction")

// maxAttempts bounds how often a transaction is re-run after contention. The per-selection
// lock makes losing more than once rare; the bound only keeps a pathological case finite.
const maxAttempts = 8

// retry runs fn until it succeeds, fails for a reason other than contention, or has been
// tried maxAttempts times. fn must be a whole transaction, safe to run again from the start.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range maxAttempts {
		err = fn()
		if err == nil || !(errors.Is(err, errRetry) || isTransient(err)) {
			return err
		}
		// A short, growing pause lets the winner commit before the loser reads again.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", maxAttempts, err)
}
