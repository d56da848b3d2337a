package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Graph resolves events to profiles inside one write transaction. It caches
// what it reads and writes, so a batch of events touching the same people
// costs few queries. A Graph must not outlive its transaction.
type Graph struct {
	ctx   context.Context
	tx    *sqldb.Tx
	rules *Rules
	now   time.Time

	owners  map[key]string      // identifier → raw profile ("" = not in the graph)
	roots   map[string]string   // raw profile → canonical profile
	groups  map[string]*group   // canonical profile → its identities
	created map[string]int64    // canonical profile → created_at
	members map[string][]string // canonical profile → raw profiles, when known

	lookupStmt *sql.Stmt

	// Counts of what the graph did, for the caller's counters.
	ProfilesCreated, Merges int
}

// NewGraph returns a Graph working in tx at wall time now.
func NewGraph(ctx context.Context, tx *sqldb.Tx, rules *Rules, now time.Time) (*Graph, error) {
	st, err := tx.Prepare(ctx, `SELECT i.profile_id, p.canonical_id FROM identities i JOIN profiles p ON p.id = i.profile_id
		WHERE i.type = ? AND i.value = ?`)
	if err != nil {
		return nil, err
	}
	return &Graph{
		ctx: ctx, tx: tx, rules: rules, now: now,
		owners: map[key]string{}, roots: map[string]string{}, groups: map[string]*group{},
		created: map[string]int64{}, members: map[string][]string{}, lookupStmt: st,
	}, nil
}

// Close releases the Graph's prepared statements.
func (g *Graph) Close() { g.lookupStmt.Close() }

// Resolution is where an event landed.
type Resolution struct {
	Profile string // raw profile the event is attributed to
	Root    string // its canonical profile
	Created bool   // the profile was made for this event
	Merged  []Merge
	Drops   []Drop
}

// Merge is one profile folded into another by an event.
type Merge struct {
	ID       string
	Survivor string
	Merged   string
}

// Resolve places an event carrying ids (normalised, by priority) seen at
// event time at. previousID is an alias call's previousId, or "". It creates,
// links and merges profiles as the rules allow and logs dropped identifiers.
func (g *Graph) Resolve(seq int64, ids []Identifier, previousID string, at time.Time) (Resolution, error) {
	if previousID != "" {
		if id, ok := g.previous(previousID); ok {
			ids = append(ids, id)
		}
		ids, _ = g.rules.Candidates(ids)
	}
	if len(ids) == 0 {
		return Resolution{}, fault.New(fault.Invalid, "the event carries no usable identifier")
	}
	d, err := decide(ids, g.rules, at, g)
	if err != nil {
		return Resolution{}, err
	}
	var res Resolution
	res.Drops = d.drops
	if len(d.roots) == 0 {
		p, err := g.createProfile(at)
		if err != nil {
			return Resolution{}, err
		}
		res.Profile, res.Root, res.Created = p, p, true
	} else {
		res.Profile = d.links[0].Profile // owner of the strongest matching identifier
		survivor := g.oldest(d.roots)
		for _, r := range d.roots {
			if r == survivor {
				continue
			}
			m, err := g.merge(survivor, r, seq, d.links)
			if err != nil {
				return Resolution{}, err
			}
			res.Merged = append(res.Merged, m)
		}
		res.Root = survivor
	}
	for _, id := range d.attach {
		if err := g.attach(res.Profile, res.Root, id, seq, at); err != nil {
			return Resolution{}, err
		}
	}
	for _, dr := range d.drops {
		if _, err := g.tx.Exec(g.ctx, `INSERT INTO identity_decisions (event_seq, profile_id, type, value, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, seq, res.Root, dr.Type, dr.Value, dr.Reason, g.now.UnixMilli()); err != nil {
			return Resolution{}, err
		}
	}
	return res, nil
}

// previous resolves an alias's previousId: an existing user_id or
// anonymous_id with that value, or else a new anonymous_id.
func (g *Graph) previous(v string) (Identifier, bool) {
	for _, typ := range []string{UserID, AnonymousID} {
		n, err := g.rules.Normalize(typ, v)
		if err != nil {
			return Identifier{}, false
		}
		id := Identifier{Type: typ, Value: n, Original: v}
		if p, _, err := g.owner(id); err == nil && p != "" {
			return id, true
		}
	}
	return Identifier{Type: AnonymousID, Original: v}, true
}

// owner returns the raw and canonical profile holding id, or "" if none.
func (g *Graph) owner(id Identifier) (string, string, error) {
	k := id.key()
	p, ok := g.owners[k]
	if !ok {
		var root string
		err := g.lookupStmt.QueryRowContext(g.ctx, id.Type, id.Value).Scan(&p, &root)
		if errors.Is(err, sql.ErrNoRows) {
			p = ""
		} else if err != nil {
			return "", "", sqldb.Classify(err)
		} else {
			g.roots[p] = root
		}
		g.owners[k] = p
	}
	if p == "" {
		return "", "", nil
	}
	root, err := g.root(p)
	return p, root, err
}

// root returns the canonical profile of a raw profile.
func (g *Graph) root(p string) (string, error) {
	if r, ok := g.roots[p]; ok {
		return r, nil
	}
	var r string
	if err := g.tx.QueryRow(g.ctx, "SELECT canonical_id FROM profiles WHERE id = ?", p).Scan(&r); err != nil {
		return "", sqldb.Classify(err)
	}
	g.roots[p] = r
	return r, nil
}

// group returns the identities of a canonical profile's members.
func (g *Graph) group(root string) (*group, error) {
	if grp, ok := g.groups[root]; ok {
		return grp, nil
	}
	grp := &group{root: root}
	rows, err := g.tx.Query(g.ctx, `SELECT i.type, i.first_seen FROM identities i JOIN profiles p ON p.id = i.profile_id
		WHERE p.canonical_id = ?`, root)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k known
		if err := rows.Scan(&k.typ, &k.firstSeen); err != nil {
			return nil, sqldb.Classify(err)
		}
		grp.idents = append(grp.idents, k)
	}
	if err := rows.Err(); err != nil {
		return nil, sqldb.Classify(err)
	}
	g.groups[root] = grp
	return grp, nil
}

// blocked reports whether an operator split members of the two canonical
// profiles apart.
func (g *Graph) blocked(a, b string) (bool, error) {
	var one int
	err := g.tx.QueryRow(g.ctx, `SELECT 1 FROM merge_blocks mb
		JOIN profiles pa ON pa.id = mb.a JOIN profiles pb ON pb.id = mb.b
		WHERE (pa.canonical_id = ? AND pb.canonical_id = ?) OR (pa.canonical_id = ? AND pb.canonical_id = ?) LIMIT 1`,
		a, b, b, a).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, sqldb.Classify(err)
}

// oldest returns the canonical profile created first: it survives a merge.
func (g *Graph) oldest(roots []string) string {
	best, bestAt := "", int64(0)
	for _, r := range roots {
		at, ok := g.created[r]
		if !ok {
			if err := g.tx.QueryRow(g.ctx, "SELECT created_at FROM profiles WHERE id = ?", r).Scan(&at); err != nil {
				at = 1<<63 - 1
			}
			g.created[r] = at
		}
		if best == "" || at < bestAt || at == bestAt && r < best {
			best, bestAt = r, at
		}
	}
	return best
}

func (g *Graph) createProfile(at time.Time) (string, error) {
	id := uuid.Must(uuid.NewV7()).String()
	ts := at.UnixMilli()
	if _, err := g.tx.Exec(g.ctx, `INSERT INTO profiles (id, canonical_id, created_at, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)`,
		id, id, g.now.UnixMilli(), ts, ts); err != nil {
		return "", err
	}
	g.roots[id] = id
	g.groups[id] = &group{root: id}
	g.created[id] = g.now.UnixMilli()
	g.members[id] = []string{id}
	g.ProfilesCreated++
	return id, nil
}

func (g *Graph) attach(profile, root string, id Identifier, seq int64, at time.Time) error {
	if _, err := g.tx.Exec(g.ctx, `INSERT INTO identities (type, value, profile_id, original, first_seen, event_seq) VALUES (?, ?, ?, ?, ?, ?)`,
		id.Type, id.Value, profile, id.Original, at.UnixMilli(), seq); err != nil {
		return err
	}
	g.owners[id.key()] = profile
	if grp, ok := g.groups[root]; ok {
		grp.idents = append(grp.idents, known{typ: id.Type, firstSeen: at.UnixMilli()})
	}
	return nil
}

// merge folds canonical profile merged into survivor.
func (g *Graph) merge(survivor, merged string, seq int64, links []Link) (Merge, error) {
	m := Merge{ID: uuid.Must(uuid.NewV7()).String(), Survivor: survivor, Merged: merged}
	type linked struct {
		Type    string `json:"type"`
		Value   string `json:"value"`
		Profile string `json:"profile"`
	}
	var why []linked
	for _, l := range links {
		if l.Root == survivor || l.Root == merged {
			why = append(why, linked{l.Type, l.Value, l.Root})
		}
	}
	b, _ := json.Marshal(why)
	if _, err := g.tx.Exec(g.ctx, `INSERT INTO merges (id, survivor_id, merged_id, event_seq, identifiers, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, m.ID, survivor, merged, seq, string(b), "an event carried identifiers of both profiles", g.now.UnixMilli()); err != nil {
		return Merge{}, err
	}
	if _, err := g.tx.Exec(g.ctx, "UPDATE profiles SET merged_into = ? WHERE id = ?", survivor, merged); err != nil {
		return Merge{}, err
	}
	if _, err := g.tx.Exec(g.ctx, "UPDATE profiles SET canonical_id = ? WHERE canonical_id = ?", survivor, merged); err != nil {
		return Merge{}, err
	}
	for p, r := range g.roots {
		if r == merged {
			g.roots[p] = survivor
		}
	}
	if a, ok := g.groups[survivor]; ok {
		if b, ok := g.groups[merged]; ok {
			a.idents = append(a.idents, b.idents...)
		} else {
			delete(g.groups, survivor)
		}
	}
	delete(g.groups, merged)
	delete(g.members, survivor)
	delete(g.members, merged)
	g.Merges++
	return m, nil
}
