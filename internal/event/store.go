package event

import (
	"context"
	"database/sql"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// appendLock serialises appends to the events log on PostgreSQL, so that
// sequence numbers become visible in order: a reader that has seen seq n will
// never later find a newly committed event below n. (On SQLite the single
// writer gives the same order.)
const appendLock = 0x6576656e // "even"

// Outcome is what storing one request's events did.
type Outcome struct {
	Stored     int // new events appended to the log
	Duplicates int // events whose (source, messageId) was already in the log
}

// appendAll writes the events and quarantined events of several requests in
// one transaction and reports, per request, what happened.
func appendAll(ctx context.Context, tx *sqldb.Tx, reqs []*pending) error {
	if err := tx.Lock(ctx, appendLock); err != nil {
		return err
	}
	var stored, dups, quarantined int
	if err := appendEvents(ctx, tx, reqs); err != nil {
		return err
	}
	for _, r := range reqs {
		stored += r.out.Stored
		dups += r.out.Duplicates
		for _, q := range r.quarantined {
			if _, err := tx.Exec(ctx, `INSERT INTO quarantine (source_id, received_at, message_id, type, reason, detail, raw)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_id, message_id) WHERE message_id <> '' DO NOTHING`,
				r.sourceID, r.receivedAt.UnixMilli(), q.MessageID, q.Type, string(q.Reason), q.Detail, q.Raw); err != nil {
				return err
			}
			quarantined++
		}
	}
	return AddCounters(ctx, tx, map[string]int{"events_stored": stored, "events_duplicate": dups, "events_quarantined": quarantined})
}

// AddCounters adds to persistent pipeline counters inside a transaction, in
// one statement.
func AddCounters(ctx context.Context, tx *sqldb.Tx, add map[string]int) error {
	var rows [][]any
	for name, n := range add {
		if n != 0 {
			rows = append(rows, []any{name, n})
		}
	}
	return tx.Bulk(ctx, `WITH v(name, n) AS (VALUES VALUES_LIST)
		UPDATE counters SET value = counters.value + v.n FROM v WHERE counters.name = v.name`,
		[]sqldb.Type{sqldb.Text, sqldb.Int}, rows, nil)
}

var eventTypes = []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text,
	sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Bytes}

// appendEvents inserts the events of all requests with bulk statements and
// learns from RETURNING which were new: the others were replays.
func appendEvents(ctx context.Context, tx *sqldb.Tx, reqs []*pending) error {
	var rows [][]any
	for _, r := range reqs {
		for i := range r.events {
			e := &r.events[i]
			var sent any
			if !e.SentAt.IsZero() {
				sent = e.SentAt.UnixMilli()
			}
			var raw any
			if e.Raw != nil {
				raw = e.Raw
			}
			rows = append(rows, []any{r.sourceID, e.MessageID, e.Type, e.Name, e.UserID, e.AnonymousID,
				e.Timestamp.UnixMilli(), e.ReceivedAt.UnixMilli(), sent, e.OriginalTimestamp, int64(e.Flags), string(e.Payload), raw})
		}
	}
	type key struct{ src, mid string }
	inserted := make(map[key]bool, len(rows))
	scan := func(r *sql.Rows) error {
		var k key
		err := r.Scan(&k.src, &k.mid)
		inserted[k] = true
		return err
	}
	var err error
	if tx.Dialect() == sqldb.Postgres {
		err = insertUnnest(ctx, tx, rows, scan)
	} else {
		err = tx.Bulk(ctx, `INSERT INTO events (source_id, message_id, type, name, user_id, anonymous_id, ts, received_at, sent_at, original_ts, flags, payload, raw)
		VALUES VALUES_LIST ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id`,
			eventTypes, rows, scan)
	}
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.out = Outcome{}
		for i := range r.events {
			k := key{r.sourceID, r.events[i].MessageID}
			if inserted[k] {
				r.out.Stored++
				delete(inserted, k) // a repeat within the same commit is a duplicate
			} else {
				r.out.Duplicates++
			}
		}
	}
	return nil
}

// insertUnnest inserts events on PostgreSQL with one statement over arrays,
// however many there are: one round trip and one plan.
func insertUnnest(ctx context.Context, tx *sqldb.Tx, rows [][]any, scan func(*sql.Rows) error) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([][]any, len(eventTypes))
	for _, r := range rows {
		for i, v := range r {
			cols[i] = append(cols[i], v)
		}
	}
	args := make([]any, len(cols))
	for i, c := range cols {
		switch eventTypes[i] {
		case sqldb.Int:
			a := make([]*int64, len(c))
			for j, v := range c {
				if v != nil {
					n := v.(int64)
					a[j] = &n
				}
			}
			args[i] = a
		case sqldb.Bytes:
			a := make([][]byte, len(c))
			for j, v := range c {
				if v != nil {
					a[j] = v.([]byte)
				}
			}
			args[i] = a
		default:
			a := make([]string, len(c))
			for j, v := range c {
				a[j] = v.(string)
			}
			args[i] = a
		}
	}
	rs, err := tx.Query(ctx, `INSERT INTO events (source_id, message_id, type, name, user_id, anonymous_id, ts, received_at, sent_at, original_ts, flags, payload, raw)
		SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::bytea[])
		ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id`, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := scan(rs); err != nil {
			return sqldb.Classify(err)
		}
	}
	return sqldb.Classify(rs.Err())
}

// Stored is an event read back from the log for processing.
type Stored struct {
	Seq         int64
	SourceID    string
	Channel     string // the source's channel
	MessageID   string
	Type        string
	Name        string
	UserID      string
	AnonymousID string
	Timestamp   time.Time
	ReceivedAt  time.Time
	Payload     []byte
}

// Log reads the events log.
type Log struct{ db *sqldb.DB }

// NewLog returns a reader of the events log in db.
func NewLog(db *sqldb.DB) *Log { return &Log{db: db} }

const storedColumns = `e.seq, e.source_id, s.channel, e.message_id, e.type, e.name, e.user_id, e.anonymous_id, e.ts, e.received_at, e.payload`

func scanStored(rows *sql.Rows) (Stored, error) {
	var (
		e        Stored
		ts, recv int64
		payload  string
	)
	if err := rows.Scan(&e.Seq, &e.SourceID, &e.Channel, &e.MessageID, &e.Type, &e.Name, &e.UserID, &e.AnonymousID, &ts, &recv, &payload); err != nil {
		return Stored{}, err
	}
	e.Timestamp = time.UnixMilli(ts).UTC()
	e.ReceivedAt = time.UnixMilli(recv).UTC()
	e.Payload = []byte(payload)
	return e, nil
}

// After returns up to limit events with seq > after, in order, read through c
// (a transaction, to read one's own position consistently, or the DB).
func (l *Log) After(ctx context.Context, c sqldb.Conn, after int64, limit int) ([]Stored, error) {
	rows, err := c.Query(ctx, `SELECT `+storedColumns+` FROM events e JOIN sources s ON s.id = e.source_id
		WHERE e.seq > ? ORDER BY e.seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Stored, 0, limit)
	for rows.Next() {
		e, err := scanStored(rows)
		if err != nil {
			return nil, sqldb.Classify(err)
		}
		out = append(out, e)
	}
	return out, sqldb.Classify(rows.Err())
}

// BySeq returns the events with the given sequence numbers, in seq order.
func (l *Log) BySeq(ctx context.Context, seqs []int64) ([]Stored, error) {
	if len(seqs) == 0 {
		return nil, nil
	}
	args := make([]any, len(seqs))
	for i, s := range seqs {
		args[i] = s
	}
	rows, err := l.db.Query(ctx, `SELECT `+storedColumns+` FROM events e JOIN sources s ON s.id = e.source_id
		WHERE e.seq IN (`+sqldb.Placeholders(len(seqs))+`) ORDER BY e.seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		e, err := scanStored(rows)
		if err != nil {
			return nil, sqldb.Classify(err)
		}
		out = append(out, e)
	}
	return out, sqldb.Classify(rows.Err())
}

// LastSeq returns the highest seq in the log (0 when empty).
func (l *Log) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := l.db.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&seq)
	return seq, sqldb.Classify(err)
}

// QuarantinedEvent is a quarantined event as stored.
type QuarantinedEvent struct {
	ID         int64
	SourceID   string
	ReceivedAt time.Time
	MessageID  string
	Type       string
	Reason     Reason
	Detail     string
	Raw        []byte
}

// Quarantine returns the most recent quarantined events, newest first.
func (l *Log) Quarantine(ctx context.Context, limit int) ([]QuarantinedEvent, error) {
	rows, err := l.db.Query(ctx, `SELECT id, source_id, received_at, message_id, type, reason, detail, raw
		FROM quarantine ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QuarantinedEvent
	for rows.Next() {
		var (
			q    QuarantinedEvent
			recv int64
		)
		if err := rows.Scan(&q.ID, &q.SourceID, &recv, &q.MessageID, &q.Type, &q.Reason, &q.Detail, &q.Raw); err != nil {
			return nil, sqldb.Classify(err)
		}
		q.ReceivedAt = time.UnixMilli(recv).UTC()
		out = append(out, q)
	}
	return out, sqldb.Classify(rows.Err())
}

// Counters returns the persistent pipeline counters.
func Counters(ctx context.Context, c sqldb.Conn) (map[string]int64, error) {
	rows, err := c.Query(ctx, "SELECT name, value FROM counters")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			name string
			v    int64
		)
		if err := rows.Scan(&name, &v); err != nil {
			return nil, sqldb.Classify(err)
		}
		out[name] = v
	}
	return out, sqldb.Classify(rows.Err())
}
