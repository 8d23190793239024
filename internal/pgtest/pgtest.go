// Package pgtest gives tests a PostgreSQL schema of their own on the machine's test server
// (SELEKSI_TEST_POSTGRES_URL, by default the local trust-auth "test" database), so that
// tests run side by side and leave nothing behind. It is imported by tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	// The database/sql driver "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
)

// DefaultURL is the test server used when SELEKSI_TEST_POSTGRES_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SchemaURL creates a fresh schema, drops it when the test ends, and returns a URL whose
// connections work in it (search_path). When the server is unreachable the test fails under
// CI (env CI set) and is skipped elsewhere.
//
// Call it before opening anything on the URL: cleanups run last-registered first, so the
// schema is dropped after the caller's connections have closed.
func SchemaURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SELEKSI_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultURL
	}
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if admin != nil {
			_ = admin.Close()
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (set SELEKSI_TEST_POSTGRES_URL): %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
