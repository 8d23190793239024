package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

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
	// ErrInvalidData: the database (or the store's own check before it) refuses the data
	// itself: text it cannot hold, a value out of range, a violated constraint. Writing the
	// same data again can never succeed.
	ErrInvalidData = errors.New("invalid data")
	// ErrUnavailable: the database cannot serve the call now (see IsUnavailable). The same
	// call may succeed later, so the API answers "try again later", not "internal error".
	ErrUnavailable = errors.New("database unavailable")
)

// IsUnavailable reports whether err means that the database could not serve the call, as
// opposed to refusing it: ErrUnavailable (the store is closed, or contention outlasted every
// retry), a connection that could not be made (refused, reset, timed out while connecting)
// or was lost, PostgreSQL shutting down, refusing connections or out of resources (SQLSTATE
// classes 08, 53 and 57P), and SQLite busy or locked past its busy timeout or unable to read
// or write its file. A deadline or cancellation of the caller's own context is not the
// database's fault and is not included, unless it ended an attempt to connect.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.Is(err, ErrUnavailable) || errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "53") || strings.HasPrefix(c, "57P")
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
			return true
		}
		return false
	}
	// The context's own errors satisfy net.Error (they time out), so they are ruled out
	// before the network's.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return isClosedDB(err)
}

// isClosedDB reports database/sql's error for a pool that was closed (the process is shutting
// down); the package does not export it, so it is recognized by its text.
func isClosedDB(err error) bool {
	if err == nil {
		return false
	}
	if err.Error() == "sql: database is closed" {
		return true
	}
	switch e := err.(type) {
	case interface{ Unwrap() error }:
		return isClosedDB(e.Unwrap())
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(e.Unwrap(), isClosedDB)
	}
	return false
}

// IsInvalidData reports whether err means the data cannot be stored as it is: ErrInvalidData,
// a PostgreSQL error of SQLSTATE class 22 (data exception) or 23 (integrity constraint
// violation), or SQLite's equivalents (constraint, datatype mismatch, too big, out of range).
func IsInvalidData(err error) bool {
	if errors.Is(err, ErrInvalidData) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			return true
		}
	}
	return false
}

// IsTransient reports whether err may go away by itself, so that the operation is worth
// retrying with backoff: contention (see isTransient), a lost or refused connection, a
// timeout, a server shutting down or out of connections.
func IsTransient(err error) bool {
	if isTransient(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		// 08: connection exception; 57P: operator intervention (shutdown, cannot connect now);
		// 57014: statement timeout or cancellation; 53300: too many connections.
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "57P") || c == "57014" || c == "53300"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// checkText refuses text the databases cannot hold or would hold differently: a NUL byte
// (PostgreSQL rejects it in text) or invalid UTF-8. It walks every string of v (structs,
// pointers, slices, maps), so a new field is covered without being listed; byte slices (JSON
// payloads) are checked for NUL escapes, which PostgreSQL's jsonb refuses too. The API
// refuses such text first; this is the store's own guard.
func checkText(v any) error {
	return walkText(reflect.ValueOf(v), "")
}

func walkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return fmt.Errorf("%s: text with a NUL byte or invalid UTF-8: %w", strings.TrimPrefix(path, "."), ErrInvalidData)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walkText(v.Elem(), path)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return nil
		}
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if err := walkText(v.Field(i), path+"."+v.Type().Field(i).Name); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Kind() == reflect.Slice && strings.Contains(string(v.Bytes()), `\u0000`) {
				return fmt.Errorf("%s: JSON with a NUL escape: %w", strings.TrimPrefix(path, "."), ErrInvalidData)
			}
			return nil
		}
		for i := range v.Len() {
			if err := walkText(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if err := walkText(it.Key(), path+"{key}"); err != nil {
				return err
			}
			if err := walkText(it.Value(), path+"{value}"); err != nil {
				return err
			}
		}
	}
	return nil
}

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
	// Contention that outlasts every attempt is the database being too busy to serve now.
	return fmt.Errorf("gave up after %d attempts (%w): %w", maxAttempts, ErrUnavailable, err)
}
