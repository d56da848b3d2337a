// Package sqldbtest opens fresh, migrated databases for tests, on SQLite and,
// when BOTTEGA_TEST_POSTGRES holds a URL, on PostgreSQL.
//
// Each PostgreSQL test gets its own schema, dropped when the test ends. When
// BOTTEGA_TEST_STRICT is set (CI sets it), a missing PostgreSQL fails the test
// instead of skipping it.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/bottega-crm/bottega/internal/sqldb"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema setup
)

// Each runs fn once per available engine, as subtests named "sqlite" and
// "postgres", each with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of the given dialect, closed when
// the test ends.
func Open(t testing.TB, d sqldb.Dialect) *sqldb.DB {
	t.Helper()
	dsn := DSN(t, d)
	db, err := sqldb.Open(context.Background(), dsn, sqldb.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// DSN returns the address of a fresh, empty database of the given dialect:
// a file in a temporary directory, or a new PostgreSQL schema.
func DSN(t testing.TB, d sqldb.Dialect) string {
	t.Helper()
	if d == sqldb.SQLite {
		return filepath.Join(t.TempDir(), "bottega.db")
	}
	base := PostgresURL(t)
	schema := "t_" + randomHex(8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("BOTTEGA_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns BOTTEGA_TEST_POSTGRES, or skips the test (fails it
// under BOTTEGA_TEST_STRICT) when it is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("BOTTEGA_TEST_POSTGRES")
	if u == "" {
		Missing(t, "PostgreSQL (set BOTTEGA_TEST_POSTGRES to a postgres:// URL)")
	}
	return u
}

// Missing skips a test that needs something absent, or fails it when
// BOTTEGA_TEST_STRICT is set, so CI never passes by skipping.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("BOTTEGA_TEST_STRICT") != "" {
		t.Fatalf("%s is required (BOTTEGA_TEST_STRICT is set)", what)
	}
	t.Skipf("%s is not available", what)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
