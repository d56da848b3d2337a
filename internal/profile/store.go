package profile

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Cache keeps profile states from one batch to the next, for a processor
// that is the only writer of profiles (see identity.Cache for how it learns
// otherwise).
type Cache struct {
	states map[string]*State
}

// NewCache returns an empty Cache.
func NewCache() *Cache { return &Cache{states: map[string]*State{}} }

// Len returns how many profiles the cache holds.
func (c *Cache) Len() int { return len(c.states) }

// Reset empties the cache.
func (c *Cache) Reset() { clear(c.states) }

// Batch holds the profiles a processing batch touches, inside its write
// transaction, and writes them back in bulk at the end.
type Batch struct {
	ctx      context.Context
	tx       *sqldb.Tx
	states   map[string]*State // the cache's
	touched  map[string]*State // those this batch read or changed
	retired  []string          // canonical profiles merged away in this batch
	timeline [][]any
	acquired []string // canonical profiles whose first touch changed, as of the last Flush
}

// AcquisitionChanged returns the canonical profiles whose first-touch
// campaign changed in the batch, once Flush has run.
func (b *Batch) AcquisitionChanged() []string { return b.acquired }

// NewBatch starts a Batch in tx, starting from what cache holds (nil:
// nothing) and adding to it.
func NewBatch(ctx context.Context, tx *sqldb.Tx, cache *Cache) *Batch {
	if cache == nil {
		cache = NewCache()
	}
	return &Batch{ctx: ctx, tx: tx, states: cache.states, touched: map[string]*State{}}
}

// Prefetch loads the states of canonical profiles in bulk.
func (b *Batch) Prefetch(ids []string) error {
	var rows [][]any
	for _, id := range ids {
		if _, ok := b.states[id]; !ok {
			rows = append(rows, []any{id})
		}
	}
	return b.tx.Bulk(b.ctx, `WITH v(id) AS (VALUES VALUES_LIST)
		SELECT p.id, COALESCE(a.first_seen, 0), COALESCE(a.last_seen, 0), p.traits, p.trait_times, p.consent, p.acquisition
		FROM v JOIN profiles p ON p.id = v.id LEFT JOIN profile_activity a ON a.profile_id = p.id`,
		[]sqldb.Type{sqldb.Text}, rows, func(r *sql.Rows) error {
			s, err := scanState(r)
			if err == nil {
				b.states[s.ID] = s
			}
			return err
		})
}

// Get returns the state of canonical profile id, loading it on first use.
func (b *Batch) Get(id string) (*State, error) {
	if s, ok := b.touched[id]; ok {
		return s, nil
	}
	s, ok := b.states[id]
	if !ok {
		if err := b.Prefetch([]string{id}); err != nil {
			return nil, err
		}
		if s, ok = b.states[id]; !ok {
			return nil, fmt.Errorf("profile %s vanished", id)
		}
	}
	b.touched[id] = s
	return s, nil
}

// New registers the state of a profile created in this batch.
func (b *Batch) New(id string) *State {
	s := NewState(id)
	s.isNew = true
	b.states[id] = s
	b.touched[id] = s
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
	delete(b.touched, merged)
	b.retired = append(b.retired, merged)
	return nil
}

// AddTimeline records that event seq at time ts belongs to raw profile p.
func (b *Batch) AddTimeline(p string, ts, seq int64) {
	b.timeline = append(b.timeline, []any{p, ts, seq})
}

// Flush writes every changed profile and the timeline.
func (b *Batch) Flush() error {
	if err := b.tx.Bulk(b.ctx, "INSERT INTO timeline (profile_id, ts, seq) VALUES VALUES_LIST ON CONFLICT DO NOTHING",
		[]sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int}, b.timeline, nil); err != nil {
		return err
	}
	b.timeline = b.timeline[:0]
	var seen, data, terms, gone [][]any
	var reindex []string
	reindex = append(reindex, b.retired...)
	for _, id := range b.retired {
		gone = append(gone, []any{id})
	}
	b.retired = nil
	b.acquired = b.acquired[:0]
	for _, s := range b.touched {
		if s.acqDirty {
			b.acquired = append(b.acquired, s.ID)
			s.acqDirty = false
		}
		switch {
		case s.dataDirty:
			acq := "{}"
			if s.Acquisition != nil {
				acq = marshal(s.Acquisition)
			}
			name, email, phone := s.Name(), s.Email(), s.Phone()
			data = append(data, []any{s.ID, name, email, phone,
				marshal(s.Traits), marshal(s.TraitTimes), marshal(s.Consent), acq})
			seen = append(seen, []any{s.ID, s.FirstSeen, s.LastSeen})
			if name != s.indexed[0] || email != s.indexed[1] || phone != s.indexed[2] {
				if !s.isNew {
					reindex = append(reindex, s.ID)
				}
				for _, t := range s.terms() {
					terms = append(terms, []any{t, s.ID})
				}
				s.indexed = [3]string{name, email, phone}
			}
		case s.seenDirty:
			seen = append(seen, []any{s.ID, s.FirstSeen, s.LastSeen})
		}
		s.seenDirty, s.dataDirty, s.isNew = false, false, false
	}
	clear(b.touched)
	if err := b.tx.Bulk(b.ctx, `INSERT INTO profile_activity (profile_id, first_seen, last_seen) VALUES VALUES_LIST
		ON CONFLICT (profile_id) DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen`,
		[]sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int}, seen, nil); err != nil {
		return err
	}
	if err := b.tx.Bulk(b.ctx, "DELETE FROM profile_activity WHERE profile_id IN (VALUES VALUES_LIST)", []sqldb.Type{sqldb.Text}, gone, nil); err != nil {
		return err
	}
	if err := b.tx.Bulk(b.ctx, `WITH v(id, name, email, phone, traits, trait_times, consent, acquisition) AS (VALUES VALUES_LIST)
		UPDATE profiles SET name = v.name, email = v.email, phone = v.phone,
			traits = v.traits, trait_times = v.trait_times, consent = v.consent, acquisition = v.acquisition
		FROM v WHERE profiles.id = v.id`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.JSON, sqldb.JSON, sqldb.JSON, sqldb.JSON}, data, nil); err != nil {
		return err
	}
	var del [][]any
	for _, id := range reindex {
		del = append(del, []any{id})
	}
	if err := b.tx.Bulk(b.ctx, "DELETE FROM profile_terms WHERE profile_id IN (VALUES VALUES_LIST)", []sqldb.Type{sqldb.Text}, del, nil); err != nil {
		return err
	}
	return b.tx.Bulk(b.ctx, "INSERT INTO profile_terms (term, profile_id) VALUES VALUES_LIST ON CONFLICT DO NOTHING",
		[]sqldb.Type{sqldb.Text, sqldb.Text}, terms, nil)
}

func scanState(sc interface{ Scan(...any) error }) (*State, error) {
	var (
		id                        string
		first, last               int64
		traits, times, consent, a string
	)
	if err := sc.Scan(&id, &first, &last, &traits, &times, &consent, &a); err != nil {
		return nil, err
	}
	s := NewState(id)
	s.FirstSeen, s.LastSeen = first, last
	unmarshalInto(traits, &s.Traits)
	unmarshalInto(times, &s.TraitTimes)
	unmarshalInto(consent, &s.Consent)
	if a != "" && a != "{}" {
		s.Acquisition = &Touch{}
		unmarshalInto(a, s.Acquisition)
	}
	s.indexed = [3]string{s.Name(), s.Email(), s.Phone()}
	return s, nil
}

// save writes one state now.
func save(ctx context.Context, tx *sqldb.Tx, s *State) error {
	b := &Batch{ctx: ctx, tx: tx, states: map[string]*State{s.ID: s}, touched: map[string]*State{s.ID: s}}
	s.dataDirty = true
	s.indexed = [3]string{"\x00", "", ""} // force the search terms to be rewritten
	return b.Flush()
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
		if err := tx.QueryRow(ctx, "SELECT first_seen, last_seen FROM profile_activity WHERE profile_id = ?", root).Scan(&first, &last); err != nil {
			return sqldb.Classify(err)
		}
		s.FirstSeen, s.LastSeen = first, last
	}
	s.seenDirty, s.dataDirty = true, true
	return save(ctx, tx, s)
}
