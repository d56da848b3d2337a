package sqldb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// Every pooled SQLite connection, writer and readers alike, must run with the
// durability pragmas: the driver ignores settings it does not understand, so
// we read them back rather than trust the DSN.
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqldb.Options{ReadConns: 6, BusyTimeout: 7 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, r := db.Pools()
	for _, pool := range []struct {
		name     string
		db       *sql.DB
		n        int
		readOnly string
	}{{"writer", w, 1, "0"}, {"reader", r, 6, "1"}} {
		// Hold n connections at once so each one is a distinct connection.
		var conns []*sql.Conn
		for i := 0; i < pool.n; i++ {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			got, err := sqldb.Pragmas(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"journal_mode": "wal", "synchronous": "2", "busy_timeout": "7000", "foreign_keys": "1", "query_only": pool.readOnly}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s connection %d: PRAGMA %s = %q, want %q", pool.name, i, k, got[k], v)
				}
			}
			c.Close()
		}
	}
	if st := w.Stats(); st.MaxOpenConnections != 1 {
		t.Errorf("writer pool allows %d connections, want 1", st.MaxOpenConnections)
	}
}

func TestSQLiteRefusesMemoryAndDSNOptions(t *testing.T) {
	for _, dsn := range []string{":memory:", "file::memory:?cache=shared", filepath.Join(t.TempDir(), "x.db") + "?_pragma=synchronous(OFF)"} {
		if db, err := sqldb.Open(context.Background(), dsn, sqldb.Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded; want a refusal", dsn)
		}
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	_, err := db.Query(context.Background(), "INSERT INTO settings (name, value, updated_at) VALUES ('x', 'y', 0) RETURNING name")
	if err == nil {
		t.Fatal("a write through the read pool succeeded")
	}
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT ? , ?":                   "SELECT $1 , $2",
		"SELECT '?' , ? -- what?\n, ?":   "SELECT '?' , $1 -- what?\n, $2",
		`SELECT "a?b", ?`:                `SELECT "a?b", $1`,
		"INSERT INTO t VALUES (?, ?, ?)": "INSERT INTO t VALUES ($1, $2, $3)",
		"SELECT 1 - ?":                   "SELECT 1 - $1",
		"SELECT 'it''s ?', ?":            "SELECT 'it''s ?', $1",
	} {
		if got := sqldb.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMigrationsArePaired(t *testing.T) {
	s, err := sqldb.Migrations(sqldb.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sqldb.Migrations(sqldb.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) == 0 || len(s) != len(p) {
		t.Fatalf("%d sqlite and %d postgres migrations", len(s), len(p))
	}
	for i := range s {
		if s[i].Name != p[i].Name || s[i].Version != p[i].Version {
			t.Errorf("migration %d: sqlite %d_%s, postgres %d_%s", i, s[i].Version, s[i].Name, p[i].Version, p[i].Name)
		}
	}
}

func TestMigrateTwiceAndTx(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		n, err := db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate applied %d, err %v; want 0, nil", n, err)
		}
		// A failing transaction leaves nothing behind.
		err = db.InTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)", "a", "1", 1); err != nil {
				return err
			}
			return fault.New(fault.Invalid, "stop")
		})
		if !fault.Is(err, fault.Invalid) {
			t.Fatalf("InTx error = %v", err)
		}
		var c int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings").Scan(&c); err != nil || c != 0 {
			t.Fatalf("rolled back row visible: count %d, err %v", c, err)
		}
		// A unique violation is a Conflict.
		err = db.InTx(ctx, func(tx *sqldb.Tx) error {
			for range 2 {
				if _, err := tx.Exec(ctx, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)", "b", "1", 1); err != nil {
					return err
				}
			}
			return nil
		})
		if !fault.Is(err, fault.Conflict) {
			t.Fatalf("duplicate insert error = %v, want conflict", err)
		}
	})
}

// A writer that cannot get the lock in time reports Unavailable, not a bug.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "b.db")
	a, err := sqldb.Open(ctx, path, sqldb.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := sqldb.Open(ctx, path, sqldb.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release := make(chan struct{})
	held := make(chan struct{})
	go a.InTx(ctx, func(tx *sqldb.Tx) error {
		close(held)
		<-release
		return nil
	})
	<-held
	err = b.InTx(ctx, func(tx *sqldb.Tx) error { return nil })
	close(release)
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("busy writer error = %v, want unavailable", err)
	}
}

// On SQLite a foreground transaction waiting for the writer goes before a
// background one that waited longer.
func TestWriterPriority(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Open(t, sqldb.SQLite)
	hold, held := make(chan struct{}), make(chan struct{})
	go db.InTx(ctx, func(*sqldb.Tx) error { close(held); <-hold; return nil })
	<-held
	order := make(chan string, 2)
	bgQueued := make(chan struct{})
	go func() {
		close(bgQueued)
		db.InTxAs(ctx, sqldb.Background, func(*sqldb.Tx) error { order <- "background"; return nil })
	}()
	<-bgQueued
	time.Sleep(50 * time.Millisecond) // let the background transaction queue first
	go db.InTx(ctx, func(*sqldb.Tx) error { order <- "foreground"; return nil })
	for !db.ForegroundWaitedWithin(time.Second) {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	if first, second := <-order, <-order; first != "foreground" || second != "background" {
		t.Fatalf("order %s, %s", first, second)
	}
	// A waiter that gives up leaves the queue.
	hold2, held2 := make(chan struct{}), make(chan struct{})
	go db.InTx(ctx, func(*sqldb.Tx) error { close(held2); <-hold2; return nil })
	<-held2
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := db.InTx(cctx, func(*sqldb.Tx) error { return nil }); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(hold2)
	if err := db.InTx(ctx, func(*sqldb.Tx) error { return nil }); err != nil {
		t.Fatalf("after a cancelled waiter: %v", err)
	}
}
