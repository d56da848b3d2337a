// Package sqldb opens bottega's database, SQLite (the embedded default) or
// PostgreSQL, and hides the few differences that matter between them.
//
// Guarantees:
//   - SQLite runs in WAL mode with synchronous=FULL, a busy timeout and foreign
//     keys on. The pragmas are applied and then read back on every new
//     connection; a connection whose pragmas did not take is refused, so a
//     misspelt DSN can never silently weaken durability.
//   - SQLite has one writer connection (write transactions are BEGIN IMMEDIATE)
//     and a pool of read-only connections; PostgreSQL uses one pool for both.
//   - SQL is written once with ? placeholders and rewritten to $n for
//     PostgreSQL.
//   - Storage failures (connection refused, database locked, disk full,
//     read-only) surface as fault.Unavailable so callers answer "retry later".
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Dialect names a database engine.
type Dialect int

const (
	SQLite Dialect = iota + 1
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "unknown"
}

// Options tune Open. The zero value is the production default.
type Options struct {
	// ReadConns is the size of the read pool (SQLite) or of the whole pool
	// (PostgreSQL). Zero picks a default from GOMAXPROCS.
	ReadConns int
	// BusyTimeout is how long a SQLite connection waits for a lock before
	// failing with "database is locked". Zero means 10 s.
	BusyTimeout time.Duration
}

// DB is an open database.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	binds   sync.Map // string → string: ? query rewritten for the dialect
	stmts   sync.Map // string → *sql.Stmt prepared on the SQLite writer
	rstmts  sync.Map // string → *sql.Stmt prepared on the SQLite readers
	nrstmts atomic.Int64
	gate    *gate  // SQLite: who gets the single writer next
	name    string // file path or URL without password, for messages
}

// Conn is what code that runs queries needs: a DB (reads from the read pool)
// or a Tx. Queries use ? placeholders.
type Conn interface {
	Dialect() Dialect
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Open opens dsn: a postgres:// or postgresql:// URL, or else a SQLite file
// path (optionally prefixed with file:).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	var (
		db  *DB
		err error
	)
	if IsPostgresURL(dsn) {
		db, err = openPostgres(dsn, opts)
	} else {
		db, err = openSQLite(dsn, opts)
	}
	if err != nil {
		return nil, err
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, Classify(fmt.Errorf("open %s: %w", db.name, err))
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			db.Close()
			return nil, Classify(fmt.Errorf("open %s: %w", db.name, err))
		}
	}
	return db, nil
}

// IsPostgresURL reports whether dsn names a PostgreSQL database.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Dialect returns the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Name returns the database file or URL (without password) for messages.
func (db *DB) Name() string { return db.name }

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Query runs a read query on the read pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := db.readStmt(ctx, query); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, Classify(err)
	}
	rows, err := db.read.QueryContext(ctx, db.bind(query), args...)
	return rows, Classify(err)
}

// QueryRow runs a read query returning at most one row on the read pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := db.readStmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, db.bind(query), args...)
}

// maxReadStmts bounds the prepared read statements kept: queries built
// with a varying number of terms do not fill memory.
const maxReadStmts = 500

// readStmt returns, on SQLite, a statement prepared on the read pool
// (database/sql prepares it on each connection once), or nil.
func (db *DB) readStmt(ctx context.Context, query string) *sql.Stmt {
	if db.dialect != SQLite {
		return nil // pgx caches statements itself
	}
	if st, ok := db.rstmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if db.nrstmts.Load() >= maxReadStmts {
		return nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the plain query report it
	}
	if prev, loaded := db.rstmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	db.nrstmts.Add(1)
	return st
}

// Exec runs a single statement on the writer, in its own transaction.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := db.write.ExecContext(ctx, db.bind(query), args...)
	return res, Classify(err)
}

// Tx is a write transaction. On SQLite, where parsing SQL is a large part of
// a small statement's cost, statements are prepared once on the writer
// connection and reused by every transaction; PostgreSQL's driver caches
// statements per connection itself.
type Tx struct {
	tx    *sql.Tx
	db    *DB
	stmts map[string]*sql.Stmt
	fresh []string // statements prepared for this transaction only
}

// stmt returns a prepared statement for query bound to the transaction, or
// nil on PostgreSQL.
func (tx *Tx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if tx.db.dialect != SQLite {
		return nil, nil
	}
	if st, ok := tx.stmts[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if shared, ok := tx.db.stmts.Load(query); ok {
		st = tx.tx.StmtContext(ctx, shared.(*sql.Stmt))
	} else {
		var err error
		if st, err = tx.tx.PrepareContext(ctx, query); err != nil {
			return nil, Classify(err)
		}
		tx.fresh = append(tx.fresh, query)
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = st
	return st, nil
}

// share prepares statements on the writer for every later transaction. It
// runs once the transaction that first needed them has released the writer.
func (db *DB) share(queries []string) {
	for _, q := range queries {
		if _, ok := db.stmts.Load(q); ok {
			continue
		}
		st, err := db.write.PrepareContext(context.Background(), q)
		if err != nil {
			return // closed, or busy: a later transaction will try again
		}
		if _, loaded := db.stmts.LoadOrStore(q, st); loaded {
			st.Close()
		}
	}
}

// Dialect returns the engine behind the transaction.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// Query runs a query inside the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.tx.QueryContext(ctx, tx.db.bind(query), args...)
	}
	return rows, Classify(err)
}

// QueryRow runs a query returning at most one row inside the transaction.
// A failure to prepare it is reported by Scan.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := tx.stmt(ctx, query); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, tx.db.bind(query), args...)
}

// Exec runs a statement inside the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var res sql.Result
	if st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = tx.tx.ExecContext(ctx, tx.db.bind(query), args...)
	}
	return res, Classify(err)
}

// InTx runs fn in a foreground write transaction and commits it if fn
// returns nil. On SQLite the transaction takes the write lock at BEGIN
// (BEGIN IMMEDIATE).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.InTxAs(ctx, Foreground, fn)
}

// InTxAs runs fn in a write transaction of the given priority.
func (db *DB) InTxAs(ctx context.Context, p Priority, fn func(tx *Tx) error) (err error) {
	if db.gate != nil {
		if err := db.gate.acquire(ctx, p); err != nil {
			return Classify(fmt.Errorf("begin: %w", err))
		}
		defer db.gate.release()
	}
	stx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return Classify(fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{tx: stx, db: db}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return Classify(fmt.Errorf("commit: %w", err))
	}
	if len(tx.fresh) > 0 {
		go db.share(tx.fresh)
	}
	return nil
}

// bind rewrites ? placeholders to $1, $2… for PostgreSQL. Question marks in
// quoted strings, quoted identifiers and comments are left alone.
func (db *DB) bind(query string) string {
	if db.dialect != Postgres {
		return query
	}
	if q, ok := db.binds.Load(query); ok {
		return q.(string)
	}
	q := Rebind(query)
	db.binds.Store(query, q)
	return q
}

// Rebind rewrites ? placeholders to $n.
func Rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch c {
		case '\'', '"':
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j
		case '-':
			if i+1 < len(query) && query[i+1] == '-' {
				j := strings.IndexByte(query[i:], '\n')
				if j < 0 {
					j = len(query) - i
				}
				b.WriteString(query[i : i+j])
				i += j - 1
			} else {
				b.WriteByte(c)
			}
		case '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Placeholders returns "?, ?, …" with n marks, for IN lists.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Lock takes a lock named by key until the transaction ends, serialising
// transactions that take the same key. On PostgreSQL it is an advisory lock
// scoped to the current schema (so several bottega databases can share one
// server); on SQLite every write transaction is already serialised.
func (tx *Tx) Lock(ctx context.Context, key int32) error {
	if tx.db.dialect != Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))", key)
	return err
}
