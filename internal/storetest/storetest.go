// Package storetest opens migrated stores for the tests of packages built on internal/store,
// on both databases the store's own suite runs on. It is imported by tests only.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Driver is a database the store runs on.
type Driver struct {
	Name string
	// URL gives a test an empty database of this driver, removed when the test ends.
	URL func(t *testing.T) string
}

// Drivers are SQLite (a file in the test's temporary directory) and PostgreSQL (a schema of
// its own on the test server, see pgtest), as the store's own suite tests them.
func Drivers() []Driver {
	return []Driver{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seleksi.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.SchemaURL(t) }},
	}
}

// Open opens the store at url and migrates it; it is closed when the test ends.
func Open(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}
