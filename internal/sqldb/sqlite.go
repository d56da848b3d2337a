package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// pragma is a setting applied to, and checked on, every SQLite connection.
type pragma struct {
	name, value string
	want        string // what PRAGMA name answers once value took
}

func sqlitePragmas(busy time.Duration, readOnly bool) []pragma {
	ms := fmt.Sprint(busy.Milliseconds())
	ps := []pragma{
		{"busy_timeout", ms, ms},
		{"journal_mode", "WAL", "wal"},
		{"synchronous", "FULL", "2"},
		{"foreign_keys", "ON", "1"},
		{"temp_store", "MEMORY", "2"},
	}
	if readOnly {
		ps = append(ps, pragma{"query_only", "ON", "1"}, pragma{"cache_size", "-32768", "-32768"}) // 32 MiB for reading
	} else {
		// A small cache for the writer: SQLite walks it at the end of every
		// write transaction, so a big one costs more than it saves; the
		// operating system caches the file anyway.
		ps = append(ps, pragma{"cache_size", "-8192", "-8192"})
	}
	return ps
}

func openSQLite(dsn string, opts Options) (*DB, error) {
	path := strings.TrimPrefix(dsn, "file:")
	if path == "" || path == ":memory:" || strings.Contains(path, "mode=memory") {
		return nil, fmt.Errorf("sqlite: %q: bottega needs a database file (an in-memory database cannot be shared by the writer and the readers)", dsn)
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return nil, fmt.Errorf("sqlite: %q: give a plain file path; bottega sets the connection options itself", dsn)
	}
	base := "file:" + path + "?_txlock=immediate"
	w := sql.OpenDB(&sqliteConnector{dsn: base, pragmas: sqlitePragmas(opts.BusyTimeout, false)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r := sql.OpenDB(&sqliteConnector{dsn: base, pragmas: sqlitePragmas(opts.BusyTimeout, true)})
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(0)
	return &DB{dialect: SQLite, write: w, read: r, gate: &gate{}, name: path}, nil
}

// sqliteConnector opens modernc.org/sqlite connections and applies and
// verifies the pragmas on each one.
type sqliteConnector struct {
	dsn     string
	pragmas []pragma
}

func (c *sqliteConnector) Driver() driver.Driver { return &sqlite.Driver{} }

func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := (&sqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if err := applyPragmas(ctx, conn, c.pragmas); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func applyPragmas(ctx context.Context, conn driver.Conn, ps []pragma) error {
	ex, ok1 := conn.(driver.ExecerContext)
	qu, ok2 := conn.(driver.QueryerContext)
	if !ok1 || !ok2 {
		return fmt.Errorf("sqlite: driver connection cannot run pragmas")
	}
	for _, p := range ps {
		if _, err := ex.ExecContext(ctx, "PRAGMA "+p.name+" = "+p.value, nil); err != nil {
			return fmt.Errorf("sqlite: PRAGMA %s = %s: %w", p.name, p.value, err)
		}
		got, err := pragmaValue(ctx, qu, p.name)
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, p.want) {
			return fmt.Errorf("sqlite: PRAGMA %s is %q after setting %s (want %q)", p.name, got, p.value, p.want)
		}
	}
	return nil
}

func pragmaValue(ctx context.Context, qu driver.QueryerContext, name string) (string, error) {
	rows, err := qu.QueryContext(ctx, "PRAGMA "+name, nil)
	if err != nil {
		return "", fmt.Errorf("sqlite: read PRAGMA %s: %w", name, err)
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(vals); err != nil {
		if err == io.EOF {
			return "", fmt.Errorf("sqlite: PRAGMA %s returned nothing", name)
		}
		return "", fmt.Errorf("sqlite: read PRAGMA %s: %w", name, err)
	}
	return fmt.Sprint(vals[0]), nil
}

// Pragmas reads the durability-relevant pragmas on one pooled connection. It
// exists so tests can check every connection of a pool.
func Pragmas(ctx context.Context, c *sql.Conn) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range []string{"journal_mode", "synchronous", "busy_timeout", "foreign_keys", "query_only"} {
		var v string
		if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// Pools returns the writer and reader pools, for tests that inspect
// connections.
func (db *DB) Pools() (write, read *sql.DB) { return db.write, db.read }
