package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Canonical returns the canonical profile of profile id (itself, unless it
// was merged into another).
func Canonical(ctx context.Context, c sqldb.Conn, id string) (string, error) {
	var root string
	err := c.QueryRow(ctx, "SELECT canonical_id FROM profiles WHERE id = ?", id).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.New(fault.NotFound, "no profile %q", id)
	}
	return root, sqldb.Classify(err)
}

// Lookup returns the canonical profile holding identifier (typ, value); the
// value is normalised with the rules first.
func Lookup(ctx context.Context, c sqldb.Conn, rules *Rules, typ, value string) (string, error) {
	v, err := rules.Normalize(typ, value)
	if err != nil {
		return "", fault.New(fault.NotFound, "no profile with %s %q: %v", typ, clip(value), err)
	}
	var root string
	err = c.QueryRow(ctx, `SELECT p.canonical_id FROM identities i JOIN profiles p ON p.id = i.profile_id
		WHERE i.type = ? AND i.value = ?`, typ, v).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.New(fault.NotFound, "no profile with %s %q", typ, clip(value))
	}
	return root, sqldb.Classify(err)
}

// Identity is an identifier attached to a profile.
type Identity struct {
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	Original  string    `json:"original"`
	Profile   string    `json:"profile"` // the (possibly merged) profile it was first seen on
	FirstSeen time.Time `json:"first_seen"`
}

// Identities returns the identifiers of every member of a canonical profile.
func Identities(ctx context.Context, c sqldb.Conn, root string) ([]Identity, error) {
	rows, err := c.Query(ctx, `SELECT i.type, i.value, i.original, i.profile_id, i.first_seen
		FROM identities i JOIN profiles p ON p.id = i.profile_id
		WHERE p.canonical_id = ? ORDER BY i.type, i.first_seen, i.value`, root)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Identity{}
	for rows.Next() {
		var (
			id Identity
			fs int64
		)
		if err := rows.Scan(&id.Type, &id.Value, &id.Original, &id.Profile, &fs); err != nil {
			return nil, sqldb.Classify(err)
		}
		id.FirstSeen = time.UnixMilli(fs).UTC()
		out = append(out, id)
	}
	return out, sqldb.Classify(rows.Err())
}

// MergeRecord is a recorded merge.
type MergeRecord struct {
	ID          string          `json:"id"`
	Survivor    string          `json:"survivor_id"`
	Merged      string          `json:"merged_id"`
	EventSeq    int64           `json:"event_seq"`
	Identifiers json.RawMessage `json:"identifiers"`
	Reason      string          `json:"reason"`
	CreatedAt   time.Time       `json:"created_at"`
	UndoneAt    *time.Time      `json:"undone_at,omitempty"`
}

const mergeColumns = "m.id, m.survivor_id, m.merged_id, m.event_seq, m.identifiers, m.reason, m.created_at, m.undone_at"

func scanMerge(sc interface{ Scan(...any) error }) (MergeRecord, error) {
	var (
		m       MergeRecord
		ids     string
		created int64
		undone  sql.NullInt64
	)
	if err := sc.Scan(&m.ID, &m.Survivor, &m.Merged, &m.EventSeq, &ids, &m.Reason, &created, &undone); err != nil {
		return MergeRecord{}, err
	}
	m.Identifiers = json.RawMessage(ids)
	m.CreatedAt = time.UnixMilli(created).UTC()
	if undone.Valid {
		t := time.UnixMilli(undone.Int64).UTC()
		m.UndoneAt = &t
	}
	return m, nil
}

// Merges returns the merges (done and undone) that involve any member of a
// canonical profile, newest first.
func Merges(ctx context.Context, c sqldb.Conn, root string) ([]MergeRecord, error) {
	rows, err := c.Query(ctx, `SELECT `+mergeColumns+` FROM merges m
		WHERE m.survivor_id IN (SELECT id FROM profiles WHERE canonical_id = ?)
		   OR m.merged_id IN (SELECT id FROM profiles WHERE canonical_id = ?)
		ORDER BY m.created_at DESC, m.id DESC`, root, root)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []MergeRecord{}
	for rows.Next() {
		m, err := scanMerge(rows)
		if err != nil {
			return nil, sqldb.Classify(err)
		}
		out = append(out, m)
	}
	return out, sqldb.Classify(rows.Err())
}

// GetMerge returns one merge.
func GetMerge(ctx context.Context, c sqldb.Conn, id string) (MergeRecord, error) {
	m, err := scanMerge(c.QueryRow(ctx, "SELECT "+mergeColumns+" FROM merges m WHERE m.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return MergeRecord{}, fault.New(fault.NotFound, "no merge %q", id)
	}
	return m, sqldb.Classify(err)
}

// Decision is an identifier the rules kept off a profile.
type Decision struct {
	EventSeq  int64     `json:"event_seq"`
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Decisions returns the logged identity decisions of a canonical profile.
func Decisions(ctx context.Context, c sqldb.Conn, root string, limit int) ([]Decision, error) {
	rows, err := c.Query(ctx, `SELECT event_seq, type, value, reason, created_at FROM identity_decisions
		WHERE profile_id IN (SELECT id FROM profiles WHERE canonical_id = ?) ORDER BY id DESC LIMIT ?`, root, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var (
			d  Decision
			at int64
		)
		if err := rows.Scan(&d.EventSeq, &d.Type, &d.Value, &d.Reason, &at); err != nil {
			return nil, sqldb.Classify(err)
		}
		d.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, d)
	}
	return out, sqldb.Classify(rows.Err())
}

// Split is the outcome of undoing a merge: the two canonical profiles.
type Split struct {
	Merge    MergeRecord
	Kept     string // canonical profile the survivor belongs to
	Restored string // the merged profile, canonical again
}

// Unmerge undoes a merge inside tx: the merged profile and everything merged
// into it before become a separate person again, and the pair is blocked from
// merging automatically. Traits and statistics of both sides must then be
// rebuilt by the caller.
func Unmerge(ctx context.Context, tx *sqldb.Tx, mergeID string, now time.Time) (Split, error) {
	m, err := GetMerge(ctx, tx, mergeID)
	if err != nil {
		return Split{}, err
	}
	if m.UndoneAt != nil {
		return Split{}, fault.New(fault.Conflict, "merge %s was already undone", mergeID)
	}
	if _, err := tx.Exec(ctx, "UPDATE profiles SET merged_into = NULL WHERE id = ?", m.Merged); err != nil {
		return Split{}, err
	}
	if _, err := tx.Exec(ctx, `WITH RECURSIVE sub(id) AS (
			SELECT CAST(? AS TEXT)
			UNION ALL SELECT p.id FROM profiles p JOIN sub ON p.merged_into = sub.id)
		UPDATE profiles SET canonical_id = ? WHERE id IN (SELECT id FROM sub)`, m.Merged, m.Merged); err != nil {
		return Split{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE merges SET undone_at = ? WHERE id = ?", now.UnixMilli(), mergeID); err != nil {
		return Split{}, err
	}
	a, b := m.Survivor, m.Merged
	if b < a {
		a, b = b, a
	}
	if _, err := tx.Exec(ctx, `INSERT INTO merge_blocks (a, b, merge_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (a, b) DO NOTHING`, a, b, mergeID, now.UnixMilli()); err != nil {
		return Split{}, err
	}
	kept, err := Canonical(ctx, tx, m.Survivor)
	if err != nil {
		return Split{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE counters SET value = value + 1 WHERE name = 'profiles'"); err != nil {
		return Split{}, err
	}
	return Split{Merge: m, Kept: kept, Restored: m.Merged}, nil
}
