package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Graph resolves events to profiles inside one write transaction. It reads
// what a batch of events needs in a few bulk queries (Prefetch), keeps it
// in memory, buffers new profiles and identities, and writes them in bulk
// (Flush). A Graph must not outlive its transaction.
type Graph struct {
	ctx   context.Context
	tx    *sqldb.Tx
	rules *Rules
	now   time.Time

	*Cache
	blocks [][2]string // pairs of raw profiles split by an operator (nil: not read yet)

	newProfiles, newIdentities, decisions [][]any
	merges                                []pendingMerge

	// Counts of what the graph did, for the caller's counters.
	ProfilesCreated, Merges int
}

// Cache is what a Graph knows of the graph, kept from one batch to the next
// by a processor that is the graph's only writer. Whoever else changes the
// graph (an unmerge) bumps the graph_version counter; the processor then
// resets its Cache.
type Cache struct {
	owners  map[key]string    // identifier → raw profile ("" = not in the graph)
	roots   map[string]string // raw profile → canonical profile when read (see find)
	forward map[string]string // canonical profile merged since → its survivor
	groups  map[string]*group // canonical profile → its identities
}

// NewCache returns an empty Cache.
func NewCache() *Cache {
	return &Cache{owners: map[key]string{}, roots: map[string]string{}, forward: map[string]string{}, groups: map[string]*group{}}
}

// Len returns how many entries the cache holds.
func (c *Cache) Len() int { return len(c.owners) + len(c.roots) + len(c.groups) }

// Reset empties the cache.
func (c *Cache) Reset() {
	clear(c.owners)
	clear(c.roots)
	clear(c.forward)
	clear(c.groups)
}

// NewGraph returns a Graph working in tx at wall time now, starting from what
// cache knows (nil: nothing) and adding to it.
func NewGraph(ctx context.Context, tx *sqldb.Tx, rules *Rules, now time.Time, cache *Cache) *Graph {
	if cache == nil {
		cache = NewCache()
	}
	return &Graph{ctx: ctx, tx: tx, rules: rules, now: now, Cache: cache}
}

type pendingMerge struct {
	id, survivor, merged, why string
	seq                       int64
}

// find returns the current canonical profile of a canonical profile read
// earlier in the batch, following merges made since.
func (g *Graph) find(r string) string {
	root := r
	for {
		next, ok := g.forward[root]
		if !ok {
			break
		}
		root = next
	}
	for r != root { // path compression
		next := g.forward[r]
		g.forward[r] = root
		r = next
	}
	return root
}

// Prefetch loads, in bulk, what resolving events carrying these identifier
// lists will need: who owns each identifier, and the identities of the
// profiles an event may extend or merge.
func (g *Graph) Prefetch(events [][]Identifier) error {
	if err := g.sync(); err != nil {
		return err
	}
	var rows [][]any
	seen := map[key]bool{}
	for _, ids := range events {
		for _, id := range ids {
			k := id.key()
			if _, cached := g.owners[k]; cached || seen[k] {
				continue
			}
			seen[k] = true
			rows = append(rows, []any{id.Type, id.Value})
		}
	}
	for k := range seen {
		g.owners[k] = ""
	}
	err := g.tx.Bulk(g.ctx, `WITH v(type, value) AS (VALUES VALUES_LIST)
		SELECT i.type, i.value, i.profile_id, p.canonical_id FROM v
		JOIN identities i ON i.type = v.type AND i.value = v.value JOIN profiles p ON p.id = i.profile_id`,
		[]sqldb.Type{sqldb.Text, sqldb.Text}, rows, func(r *sql.Rows) error {
			var k key
			var p, root string
			if err := r.Scan(&k.typ, &k.value, &p, &root); err != nil {
				return err
			}
			g.owners[k], g.roots[p] = p, root
			return nil
		})
	if err != nil {
		return err
	}
	// Identities are needed where an event adds identifiers to a profile or
	// touches two profiles: that is where limits apply.
	var need []any
	wanted := map[string]bool{}
	for _, ids := range events {
		roots := map[string]bool{}
		fresh := false
		for _, id := range ids {
			if p := g.owners[id.key()]; p != "" {
				roots[g.find(g.roots[p])] = true
			} else {
				fresh = true
			}
		}
		if len(roots) > 1 || fresh && len(roots) == 1 {
			for r := range roots {
				if _, ok := g.groups[r]; !ok && !wanted[r] {
					wanted[r] = true
					need = append(need, r)
				}
			}
		}
	}
	return g.loadGroups(need)
}

// loadGroups reads the identities of canonical profiles.
func (g *Graph) loadGroups(roots []any) error {
	if len(roots) == 0 {
		return nil
	}
	if err := g.sync(); err != nil {
		return err
	}
	rows := make([][]any, len(roots))
	for i, r := range roots {
		rows[i] = []any{r}
		g.groups[r.(string)] = &group{root: r.(string)}
	}
	return g.tx.Bulk(g.ctx, `WITH v(id) AS (VALUES VALUES_LIST)
		SELECT p.canonical_id, i.type, i.first_seen FROM v JOIN profiles p ON p.canonical_id = v.id JOIN identities i ON i.profile_id = p.id`,
		[]sqldb.Type{sqldb.Text}, rows, func(r *sql.Rows) error {
			var root string
			var k known
			if err := r.Scan(&root, &k.typ, &k.firstSeen); err != nil {
				return err
			}
			grp := g.groups[root]
			grp.idents = append(grp.idents, k)
			return nil
		})
}

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
		p := g.createProfile()
		res.Profile, res.Root, res.Created = p, p, true
	} else {
		// The profile holding the strongest identifier survives: a known
		// customer keeps their id when anonymous history joins them.
		res.Profile = d.links[0].Profile
		survivor := d.roots[0]
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
		g.attach(res.Profile, res.Root, id, seq, at)
	}
	for _, dr := range d.drops {
		g.Decide(seq, res.Root, dr.Type, dr.Value, dr.Reason)
	}
	return res, nil
}

// Decide logs that an identifier an event carried was kept off profile root.
func (g *Graph) Decide(seq int64, root, typ, value, reason string) {
	g.decisions = append(g.decisions, []any{seq, root, typ, value, reason, g.now.UnixMilli()})
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
		if err := g.Prefetch([][]Identifier{{id}}); err != nil {
			return Identifier{}, false
		}
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
		if err := g.Prefetch([][]Identifier{{id}}); err != nil {
			return "", "", err
		}
		p = g.owners[k]
	}
	if p == "" {
		return "", "", nil
	}
	root, err := g.Root(p)
	return p, root, err
}

// Root returns the canonical profile of raw profile p.
func (g *Graph) Root(p string) (string, error) {
	if r, ok := g.roots[p]; ok {
		return g.find(r), nil
	}
	if err := g.sync(); err != nil {
		return "", err
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
	if err := g.loadGroups([]any{root}); err != nil {
		return nil, err
	}
	return g.groups[root], nil
}

// blocked reports whether an operator split members of the two canonical
// profiles apart. The (few) split pairs are read once per batch.
func (g *Graph) blocked(a, b string) (bool, error) {
	if g.blocks == nil {
		if err := g.sync(); err != nil {
			return false, err
		}
		g.blocks = [][2]string{}
		rows, err := g.tx.Query(g.ctx, `SELECT mb.a, mb.b, pa.canonical_id, pb.canonical_id FROM merge_blocks mb
			JOIN profiles pa ON pa.id = mb.a JOIN profiles pb ON pb.id = mb.b`)
		if err != nil {
			return false, err
		}
		for rows.Next() {
			var x, y, rx, ry string
			if err := rows.Scan(&x, &y, &rx, &ry); err != nil {
				rows.Close()
				return false, sqldb.Classify(err)
			}
			g.blocks = append(g.blocks, [2]string{x, y})
			if _, ok := g.roots[x]; !ok {
				g.roots[x] = rx
			}
			if _, ok := g.roots[y]; !ok {
				g.roots[y] = ry
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return false, sqldb.Classify(err)
		}
	}
	for _, pair := range g.blocks {
		x, y := g.find(g.roots[pair[0]]), g.find(g.roots[pair[1]])
		if x == a && y == b || x == b && y == a {
			return true, nil
		}
	}
	return false, nil
}

func (g *Graph) createProfile() string {
	id := uuid.Must(uuid.NewV7()).String()
	g.newProfiles = append(g.newProfiles, []any{id, id, g.now.UnixMilli()})
	g.roots[id] = id
	g.groups[id] = &group{root: id}
	g.ProfilesCreated++
	return id
}

func (g *Graph) attach(profile, root string, id Identifier, seq int64, at time.Time) {
	g.newIdentities = append(g.newIdentities, []any{id.Type, id.Value, profile, id.Original, at.UnixMilli(), seq})
	g.owners[id.key()] = profile
	if grp, ok := g.groups[root]; ok {
		grp.idents = append(grp.idents, known{typ: id.Type, firstSeen: at.UnixMilli()})
	}
}

// Flush writes the profiles, identities and decisions made since the last
// Flush.
func (g *Graph) Flush() error {
	if err := g.tx.Bulk(g.ctx, `INSERT INTO profiles (id, canonical_id, created_at) VALUES VALUES_LIST`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Int}, g.newProfiles, nil); err != nil {
		return err
	}
	g.newProfiles = g.newProfiles[:0]
	if err := g.tx.Bulk(g.ctx, `INSERT INTO identities (type, value, profile_id, original, first_seen, event_seq) VALUES VALUES_LIST`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int}, g.newIdentities, nil); err != nil {
		return err
	}
	g.newIdentities = g.newIdentities[:0]
	if err := g.tx.Bulk(g.ctx, `INSERT INTO identity_decisions (event_seq, profile_id, type, value, reason, created_at) VALUES VALUES_LIST`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int}, g.decisions, nil); err != nil {
		return err
	}
	g.decisions = g.decisions[:0]
	return g.flushMerges()
}

// sync writes pending changes before a query that reads the graph back.
func (g *Graph) sync() error {
	if len(g.newProfiles)+len(g.newIdentities)+len(g.merges) == 0 {
		return nil
	}
	return g.Flush()
}

// flushMerges writes the merges made since the last Flush: their records,
// each merged profile's pointer to its survivor, and the canonical profile of
// every member, following chains of merges within the batch.
func (g *Graph) flushMerges() error {
	if len(g.merges) == 0 {
		return nil
	}
	var recs, into, canon [][]any
	for _, m := range g.merges {
		recs = append(recs, []any{m.id, m.survivor, m.merged, m.seq, m.why, "an event carried identifiers of both profiles", g.now.UnixMilli()})
		into = append(into, []any{m.merged, m.survivor})
		canon = append(canon, []any{m.merged, g.find(m.merged)})
	}
	g.merges = g.merges[:0]
	if err := g.tx.Bulk(g.ctx, `INSERT INTO merges (id, survivor_id, merged_id, event_seq, identifiers, reason, created_at) VALUES VALUES_LIST`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int}, recs, nil); err != nil {
		return err
	}
	if err := g.tx.Bulk(g.ctx, `WITH v(id, survivor) AS (VALUES VALUES_LIST)
		UPDATE profiles SET merged_into = v.survivor FROM v WHERE profiles.id = v.id`,
		[]sqldb.Type{sqldb.Text, sqldb.Text}, into, nil); err != nil {
		return err
	}
	return g.tx.Bulk(g.ctx, `WITH v(old, root) AS (VALUES VALUES_LIST)
		UPDATE profiles SET canonical_id = v.root FROM v WHERE profiles.canonical_id = v.old`,
		[]sqldb.Type{sqldb.Text, sqldb.Text}, canon, nil)
}

// merge folds canonical profile merged into survivor. It is written at Flush.
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
	g.merges = append(g.merges, pendingMerge{id: m.ID, survivor: survivor, merged: merged, why: string(b), seq: seq})
	g.forward[merged] = survivor
	if a, ok := g.groups[survivor]; ok {
		if b, ok := g.groups[merged]; ok {
			a.idents = append(a.idents, b.idents...)
		} else {
			delete(g.groups, survivor)
		}
	}
	delete(g.groups, merged)
	g.Merges++
	return m, nil
}

// Roots returns the canonical profiles that hold any of these identifiers,
// as far as the graph knows them (after Prefetch).
func (g *Graph) Roots(events [][]Identifier) []string {
	seen := map[string]bool{}
	var out []string
	for _, ids := range events {
		for _, id := range ids {
			p := g.owners[id.key()]
			if p == "" {
				continue
			}
			if r := g.find(g.roots[p]); !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}
