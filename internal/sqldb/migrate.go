package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// Migration is one schema change, present for both engines.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the migrations for a dialect in order. Each version must
// exist for every dialect under the same name; Migrate refuses otherwise.
func Migrations(d Dialect) ([]Migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(n, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_name.sql", dir, n)
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations for %s: version %d where %d was expected", d, m.Version, i+1)
		}
	}
	return out, nil
}

// migrationLock is the PostgreSQL advisory lock key held while migrating, so
// that nodes starting together apply each migration once.
const migrationLock = 0x6d696772 // "migr"

// Migrate applies the migrations this database has not seen, all in one
// transaction. It returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	ms, err := Migrations(db.dialect)
	if err != nil {
		return 0, err
	}
	other := SQLite
	if db.dialect == SQLite {
		other = Postgres
	}
	oms, err := Migrations(other)
	if err != nil {
		return 0, err
	}
	if len(oms) != len(ms) {
		return 0, fmt.Errorf("migrations: %d for %s but %d for %s; every change needs both", len(ms), db.dialect, len(oms), other)
	}
	for i := range ms {
		if ms[i].Name != oms[i].Name {
			return 0, fmt.Errorf("migration %d is %q for %s but %q for %s", ms[i].Version, ms[i].Name, db.dialect, oms[i].Name, other)
		}
	}
	applied := 0
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := tx.Lock(ctx, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return err
		}
		if current > len(ms) {
			return fmt.Errorf("the database is at schema version %d but this bottega knows only %d: run a newer bottega", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UnixMilli()); err != nil {
				return err
			}
			applied++
		}
		return nil
	})
	return applied, err
}
