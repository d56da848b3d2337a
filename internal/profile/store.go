package profile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Batch holds the profiles a processing batch touches, inside its write
// transaction, and writes them back once at the end.
type Batch struct {
	ctx      context.Context
	tx       *sqldb.Tx
	states   map[string]*State
	retired  []string // canonical profiles merged away in this batch
	timeline []timelineRow
}

type timelineRow struct {
	profile string
	ts, seq int64
}

// NewBatch starts a Batch in tx.
func NewBatch(ctx context.Context, tx *sqldb.Tx) *Batch {
	return &Batch{ctx: ctx, tx: tx, states: map[string]*State{}}
}

// Get returns the state of canonical profile id, loading it on first use.
func (b *Batch) Get(id string) (*State, error) {
	if s, ok := b.states[id]; ok {
		return s, nil
	}
	s, err := load(b.ctx, b.tx, id)
	if err != nil {
		return nil, err
	}
	b.states[id] = s
	return s, nil
}

// New registers the state of a profile created in this batch.
func (b *Batch) New(id string) *State {
	s := NewState(id)
	b.states[id] = s
	return s
}

// Merge folds canonical profile merged into survivor.
func (b *Batch) Merge(survivor, merged string) error {
	s, err := b.Get(survivor)
	if err != nil {
		return err
	}
	m, err := b.Get(merged)
	if err != nil {
		return err
	}
	s.Absorb(m)
	delete(b.states, merged)
	b.retired = append(b.retired, merged)
	return nil
}

// AddTimeline records that event seq at time ts belongs to raw profile p.
func (b *Batch) AddTimeline(p string, ts, seq int64) {
	b.timeline = append(b.timeline, timelineRow{p, ts, seq})
}

// Forget drops a cached state without writing it (the transaction will be
// rolled back).
func (b *Batch) Forget() { clear(b.states); b.retired = nil; b.timeline = nil }

// Flush writes every changed profile and the timeline.
func (b *Batch) Flush() error {
	if len(b.timeline) > 0 {
		st, err := b.tx.Prepare(b.ctx, "INSERT INTO timeline (profile_id, ts, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
		if err != nil {
			return err
		}
		for _, r := range b.timeline {
			if _, err := st.ExecContext(b.ctx, r.profile, r.ts, r.seq); err != nil {
				st.Close()
				return sqldb.Classify(err)
			}
		}
		st.Close()
		b.timeline = b.timeline[:0]
	}
	for _, id := range b.retired {
		if _, err := b.tx.Exec(b.ctx, "DELETE FROM profile_terms WHERE profile_id = ?", id); err != nil {
			return err
		}
	}
	b.retired = nil
	for _, s := range b.states {
		if err := save(b.ctx, b.tx, s); err != nil {
			return err
		}
	}
	return nil
}

func load(ctx context.Context, c sqldb.Conn, id string) (*State, error) {
	var traits, times, consent, acq string
	s := NewState(id)
	err := c.QueryRow(ctx, `SELECT first_seen, last_seen, traits, trait_times, consent, acquisition FROM profiles WHERE id = ?`, id).
		Scan(&s.FirstSeen, &s.LastSeen, &traits, &times, &consent, &acq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("profile %s vanished", id)
	}
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	unmarshalInto(traits, &s.Traits)
	unmarshalInto(times, &s.TraitTimes)
	unmarshalInto(consent, &s.Consent)
	if acq != "" && acq != "{}" {
		s.Acquisition = &Touch{}
		unmarshalInto(acq, s.Acquisition)
	}
	return s, nil
}

func save(ctx context.Context, tx *sqldb.Tx, s *State) error {
	if s.dataDirty {
		acq := "{}"
		if s.Acquisition != nil {
			acq = marshal(s.Acquisition)
		}
		if _, err := tx.Exec(ctx, `UPDATE profiles SET first_seen = ?, last_seen = ?, name = ?, email = ?, phone = ?,
			traits = ?, trait_times = ?, consent = ?, acquisition = ? WHERE id = ?`,
			s.FirstSeen, s.LastSeen, s.Name(), s.Email(), s.Phone(),
			marshal(s.Traits), marshal(s.TraitTimes), marshal(s.Consent), acq, s.ID); err != nil {
			return err
		}
		if err := writeTerms(ctx, tx, s); err != nil {
			return err
		}
	} else if s.seenDirty {
		if _, err := tx.Exec(ctx, "UPDATE profiles SET first_seen = ?, last_seen = ? WHERE id = ?", s.FirstSeen, s.LastSeen, s.ID); err != nil {
			return err
		}
	}
	s.seenDirty, s.dataDirty = false, false
	return nil
}

func writeTerms(ctx context.Context, tx *sqldb.Tx, s *State) error {
	if _, err := tx.Exec(ctx, "DELETE FROM profile_terms WHERE profile_id = ?", s.ID); err != nil {
		return err
	}
	for _, t := range s.terms() {
		if _, err := tx.Exec(ctx, "INSERT INTO profile_terms (term, profile_id) VALUES (?, ?) ON CONFLICT DO NOTHING", t, s.ID); err != nil {
			return err
		}
	}
	return nil
}

// Rebuild recomputes a canonical profile's data from the events of all its
// members, as if they had been processed for this profile alone. It is how an
// unmerge restores both sides.
func Rebuild(ctx context.Context, tx *sqldb.Tx, root string) error {
	rows, err := tx.Query(ctx, `SELECT e.seq, e.source_id, s.channel, e.type, e.ts, e.payload
		FROM timeline t JOIN profiles p ON p.id = t.profile_id JOIN events e ON e.seq = t.seq JOIN sources s ON s.id = e.source_id
		WHERE p.canonical_id = ? ORDER BY t.ts, t.seq`, root)
	if err != nil {
		return err
	}
	s := NewState(root)
	for rows.Next() {
		var (
			ev      event.Stored
			ts      int64
			payload string
		)
		if err := rows.Scan(&ev.Seq, &ev.SourceID, &ev.Channel, &ev.Type, &ts, &payload); err != nil {
			rows.Close()
			return sqldb.Classify(err)
		}
		ev.Timestamp = time.UnixMilli(ts).UTC()
		body, err := event.DecodeBody([]byte(payload))
		if err != nil {
			continue
		}
		s.Apply(ev, body)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return sqldb.Classify(err)
	}
	rows.Close()
	if s.FirstSeen == 0 {
		// A profile with no events keeps its creation times.
		var first, last int64
		if err := tx.QueryRow(ctx, "SELECT first_seen, last_seen FROM profiles WHERE id = ?", root).Scan(&first, &last); err != nil {
			return sqldb.Classify(err)
		}
		s.FirstSeen, s.LastSeen = first, last
	}
	s.seenDirty, s.dataDirty = true, true
	return save(ctx, tx, s)
}
