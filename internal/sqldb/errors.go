package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// SQLite result codes that mean "storage is not available right now".
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteNoMem    = 7
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)

// Classify turns a driver error into a fault error: storage outages become
// fault.Unavailable, a unique violation fault.Conflict. Other errors, and
// errors already classified, are returned unchanged. sql.ErrNoRows passes
// through untouched so callers can test for it.
func Classify(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fault.Wrap(err, fault.Unavailable, "storage did not answer in time")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return fault.Wrap(err, fault.Unavailable, "storage is unavailable")
		}
		if se.Code() == 2067 || se.Code() == 1555 { // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
			return fault.Wrap(err, fault.Conflict, "already exists")
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return fault.Wrap(err, fault.Conflict, "already exists")
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"), // insufficient resources
			strings.HasPrefix(pe.Code, "57"), // operator intervention (shutdown, cancel)
			pe.Code == "25006",               // read-only transaction
			pe.Code == "40001", pe.Code == "40P01":
			return fault.Wrap(err, fault.Unavailable, "storage is unavailable")
		}
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") {
		return fault.Wrap(err, fault.Unavailable, "storage is unavailable")
	}
	return err
}
