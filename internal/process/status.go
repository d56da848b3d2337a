package process

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Status is the state of the pipeline, from the persisted counters.
type Status struct {
	Received    int64   `json:"events_received"`    // stored + duplicates + quarantined
	Stored      int64   `json:"events_stored"`      // in the events log
	Duplicates  int64   `json:"events_duplicate"`   // replays acknowledged and not stored again
	Quarantined int64   `json:"events_quarantined"` // kept aside with a reason
	Processed   int64   `json:"events_processed"`   // applied to profiles
	Failed      int64   `json:"events_failed"`      // processed, but with effects that could not be applied
	Pending     int64   `json:"events_pending"`     // stored, not yet processed
	Profiles    int64   `json:"profiles"`           // canonical profiles
	Cursor      int64   `json:"cursor"`             // last processed seq
	LagSeconds  float64 `json:"lag_seconds"`        // age of the oldest unprocessed event (0 when none)
}

// ReadStatus reads the pipeline status at wall time now.
func ReadStatus(ctx context.Context, db *sqldb.DB, now time.Time) (Status, error) {
	c, err := event.Counters(ctx, db)
	if err != nil {
		return Status{}, err
	}
	st := Status{
		Stored: c["events_stored"], Duplicates: c["events_duplicate"], Quarantined: c["events_quarantined"],
		Processed: c["events_processed"], Failed: c["events_failed"], Profiles: c["profiles"],
	}
	st.Received = st.Stored + st.Duplicates + st.Quarantined
	st.Pending = st.Stored - st.Processed
	if err := db.QueryRow(ctx, "SELECT seq FROM cursors WHERE name = 'processor'").Scan(&st.Cursor); err != nil {
		return Status{}, sqldb.Classify(err)
	}
	var oldest int64
	err = db.QueryRow(ctx, "SELECT received_at FROM events WHERE seq > ? ORDER BY seq LIMIT 1", st.Cursor).Scan(&oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return Status{}, sqldb.Classify(err)
	default:
		st.LagSeconds = max(0, now.Sub(time.UnixMilli(oldest)).Seconds())
	}
	return st, nil
}
