package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// markerSetting is the settings row that says a database holds the demo.
const markerSetting = "demo"

// Marker records which demo a database holds. LoadedAt is nil while the
// demo is being loaded: a load that was interrupted resumes with the same
// options (its events are deduplicated by messageId).
type Marker struct {
	Seed     uint64     `json:"seed"`
	People   int        `json:"people"`
	End      time.Time  `json:"end"`
	LoadedAt *time.Time `json:"loaded_at,omitempty"`
}

// ReadMarker returns the database's demo marker; ok is false when there is none.
func ReadMarker(ctx context.Context, c sqldb.Conn) (m Marker, ok bool, err error) {
	var v string
	err = c.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", markerSetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return Marker{}, false, nil
	}
	if err != nil {
		return Marker{}, false, sqldb.Classify(err)
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return Marker{}, false, fault.Wrap(err, fault.Invalid, "the demo marker in the settings table is not readable")
	}
	return m, true, nil
}

// WriteMarker saves the database's demo marker.
func WriteMarker(ctx context.Context, c sqldb.Conn, m Marker, now time.Time) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = c.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, markerSetting, string(b), now.UnixMilli())
	return err
}

// Contents counts a database's sources and stored events: the demo loads
// only into a database that has neither.
func Contents(ctx context.Context, c sqldb.Conn) (sources, events int64, err error) {
	err = c.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM sources), (SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT 1) e)").Scan(&sources, &events)
	return sources, events, sqldb.Classify(err)
}

// CountOrders returns how many orders the database holds.
func CountOrders(ctx context.Context, c sqldb.Conn) (int64, error) {
	var n int64
	err := c.QueryRow(ctx, "SELECT COUNT(*) FROM orders").Scan(&n)
	return n, sqldb.Classify(err)
}
