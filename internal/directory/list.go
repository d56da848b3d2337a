package directory

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// The sorts of the list.
const (
	SortLastSeen = "last_seen" // most recently seen first (the default)
	SortSpend    = "spend"     // highest net revenue first
	SortOrders   = "orders"    // most orders first
	SortCLV      = "clv"       // highest predicted 12-month value first
	SortName     = "name"      // by name, A to Z; customers without a name last
)

// Sorts lists the sorts in display order.
var Sorts = []string{SortLastSeen, SortSpend, SortOrders, SortCLV, SortName}

// ChurnBands are the churn risk bands of the predictions, lowest risk first.
var ChurnBands = []string{"low", "medium", "high", "very_high"}

// The NPS groups, by the customer's latest NPS answer.
const (
	Promoter  = "promoter"  // 9-10
	Passive   = "passive"   // 7-8
	Detractor = "detractor" // 0-6
)

// NPSGroups lists the NPS groups.
var NPSGroups = []string{Promoter, Passive, Detractor}

// Limits of a page.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Filter selects and orders customers. Zero fields do not filter.
type Filter struct {
	Text    string // words of a name, e-mail or phone (prefix match), or an identifier's exact value
	Segment string // RFM segment name ("Champions"; case, spaces and dashes do not matter)
	R, FM   int    // RFM grid cell: recency and frequency-monetary scores (1..5); 0 does not filter
	Persona int    // persona cluster id (1..k)
	Churn   string // churn risk band: low, medium, high, very_high
	Channel string // customers with an order in this channel (auth.Channels)
	Store   string // customers with an order in this store
	NPS     string // promoter, passive or detractor, by the latest NPS answer
	Known   bool   // only people with a name, an e-mail, a phone or an order: anonymous visitors left out

	Sort   string // one of Sorts; "" is last_seen
	Cursor string // Next of the previous page
	Limit  int    // rows per page: 0 is DefaultLimit, at most MaxLimit

	// Rules normalise Text for the identifier lookup; nil loads the stored
	// rules.
	Rules *identity.Rules
}

// Row is one customer of the list.
type Row struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Phone        string    `json:"phone"`
	LastSeen     time.Time `json:"last_seen"`
	Orders       int64     `json:"orders"`
	RevenueMinor int64     `json:"revenue_minor"` // net of refunds, base currency
	Segment      string    `json:"segment"`       // "" : not scored
	Persona      int       `json:"persona"`       // 0: none
	PersonaName  string    `json:"persona_name"`
	Churn        string    `json:"churn_risk"` // "" : no prediction
	CLVMinor     *int64    `json:"clv_minor"`  // nil: no prediction
	NPS          *int      `json:"nps"`        // latest NPS score; nil: never answered
}

// Page is one page of the list.
type Page struct {
	Rows []Row  `json:"rows"`
	Next string `json:"next,omitempty"` // cursor of the next page; "" at the end
	// Total is the number of customers matching when it is known without
	// counting (a segment or persona filter alone); nil otherwise.
	Total *int64 `json:"total,omitempty"`
}

// Check validates and normalises f: it fills the defaults and returns an
// Invalid fault naming the first bad field.
func (f *Filter) Check() error {
	f.Text = strings.TrimSpace(f.Text)
	if len(f.Text) > 200 {
		return fault.New(fault.Invalid, "the search text is longer than 200 bytes")
	}
	if f.Segment != "" {
		seg, ok := rfm.ParseSegment(f.Segment)
		if !ok {
			return fault.New(fault.Invalid, "segment %q is not one of %s", f.Segment, strings.Join(rfm.Segments, ", "))
		}
		f.Segment = seg
	}
	if f.Persona < 0 {
		return fault.New(fault.Invalid, "persona %d is not a persona id", f.Persona)
	}
	if f.R < 0 || f.R > 5 || f.FM < 0 || f.FM > 5 {
		return fault.New(fault.Invalid, "RFM scores go from 1 to 5, not r %d and fm %d", f.R, f.FM)
	}
	if f.Churn != "" && !slices.Contains(ChurnBands, f.Churn) {
		return fault.New(fault.Invalid, "churn band %q is not one of %s", f.Churn, strings.Join(ChurnBands, ", "))
	}
	if f.Channel != "" && !auth.ValidChannel(f.Channel) {
		return fault.New(fault.Invalid, "channel %q is not one of %s", f.Channel, strings.Join(auth.Channels, ", "))
	}
	if len(f.Store) > 255 {
		return fault.New(fault.Invalid, "the store id is longer than 255 bytes")
	}
	if f.NPS != "" && !slices.Contains(NPSGroups, f.NPS) {
		return fault.New(fault.Invalid, "NPS group %q is not one of %s", f.NPS, strings.Join(NPSGroups, ", "))
	}
	if f.Sort == "" {
		f.Sort = SortLastSeen
	}
	if !slices.Contains(Sorts, f.Sort) {
		return fault.New(fault.Invalid, "sort %q is not one of %s", f.Sort, strings.Join(Sorts, ", "))
	}
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	f.Limit = min(f.Limit, MaxLimit)
	return nil
}

// phase is one walk of a sort: a driving table read in index order. Sorts by
// a figure only some customers have take two phases: those customers, then
// the others by last seen.
type phase struct {
	from string // the driving table and profiles p, CROSS JOINed so the driver stays the outer loop
	cond string // ties them together and selects the phase's customers
	key  string // first sort key ("" : the id alone)
	text bool   // key is text
	id   string // the id column of the driver
	asc  bool
	has  map[string]bool // aliases of the tables in from
}

// The tables every row shows, joined by primary key when the driver is
// not one of them.
var joins = []struct{ alias, sql string }{
	{"a", " LEFT JOIN profile_activity a ON a.profile_id = p.id"},
	{"cs", " LEFT JOIN customer_stats cs ON cs.profile_id = p.id"},
	{"s", " LEFT JOIN rfm_scores s ON s.profile_id = p.id"},
	{"pm", " LEFT JOIN persona_members pm ON pm.profile_id = p.id LEFT JOIN persona_clusters pc ON pc.cluster = pm.cluster"},
	{"pr", " LEFT JOIN predictions pr ON pr.profile_id = p.id"},
}

var byLastSeen = phase{from: "profile_activity a CROSS JOIN profiles p", cond: "p.id = a.profile_id AND p.merged_into IS NULL",
	key: "a.last_seen", id: "a.profile_id", has: map[string]bool{"a": true}}

// tail is the last-seen walk of the customers a first phase left out.
func tail(without string) phase {
	p := byLastSeen
	p.cond += " AND NOT EXISTS (SELECT 1 FROM " + without + " x WHERE x.profile_id = p.id)"
	return p
}

var plans = map[string][]phase{
	SortLastSeen: {byLastSeen},
	SortSpend: {{from: "customer_stats cs CROSS JOIN profiles p", cond: "p.id = cs.profile_id AND p.merged_into IS NULL",
		key: "cs.revenue_minor", id: "cs.profile_id", has: map[string]bool{"cs": true}}, tail("customer_stats")},
	SortOrders: {{from: "customer_stats cs CROSS JOIN profiles p", cond: "p.id = cs.profile_id AND p.merged_into IS NULL",
		key: "cs.orders", id: "cs.profile_id", has: map[string]bool{"cs": true}}, tail("customer_stats")},
	SortCLV: {{from: "predictions pr CROSS JOIN profiles p", cond: "p.id = pr.profile_id AND p.merged_into IS NULL",
		key: "pr.clv_minor", id: "pr.profile_id", has: map[string]bool{"pr": true}}, tail("predictions")},
	SortName: {
		{from: "profiles p", cond: "p.merged_into IS NULL AND p.name > ''", key: "p.name", text: true, id: "p.id", asc: true, has: map[string]bool{}},
		{from: "profiles p", cond: "p.merged_into IS NULL AND p.name = ''", id: "p.id", asc: true, has: map[string]bool{}},
	},
}

// latestNPS is the latest NPS score of canonical profile p, over its members.
const latestNPS = `(SELECT r.score FROM profiles m JOIN survey_responses r ON r.profile_id = m.id
	WHERE m.canonical_id = p.id AND r.survey_type = 'nps' ORDER BY r.responded_at DESC, r.event_seq DESC LIMIT 1)`

const rowColumns = `p.id, p.name, p.email, p.phone, COALESCE(a.last_seen, p.created_at), COALESCE(cs.orders, 0), COALESCE(cs.revenue_minor, 0),
	COALESCE(s.segment, ''), COALESCE(pm.cluster, 0), COALESCE(pc.description, ''), COALESCE(pr.churn_risk, ''), pr.clv_minor, ` + latestNPS

// cursor is where a page ends: the phase and the sort key of its last row.
type cursor struct {
	Phase int    `json:"p"`
	N     int64  `json:"n,omitempty"`
	S     string `json:"s,omitempty"`
	ID    string `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, phases int) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Phase < 0 || c.Phase >= phases || c.ID == "" {
		return cursor{}, fault.New(fault.Invalid, "cursor %q is not one this list returned", s)
	}
	return c, nil
}

// conditions returns the filters of f as SQL on canonical profile p. Each
// is a lookup by the profile's key, written as a scalar subquery: SQLite
// would otherwise build a Bloom filter over the whole filter table before
// walking the sort's index, a cost that grows with the shop.
// few reports that a text search matches few enough customers for the
// query to start from them rather than walk the sort's index.
func conditions(ctx context.Context, c sqldb.Conn, f Filter, rareAt int) (conds []string, args []any, none, few bool, err error) {
	if f.Text != "" {
		var alts []string
		var targs []any
		words := profile.Words(f.Text)
		if len(words) > 8 {
			words = words[:8]
		}
		if len(words) > 0 {
			if few, err = fewMatches(ctx, c, words, rareAt); err != nil {
				return nil, nil, false, false, err
			}
			var all []string
			for _, w := range words {
				if few {
					all = append(all, "p.id IN (SELECT profile_id FROM profile_terms WHERE term >= ? AND term < ?)")
				} else {
					all = append(all, "EXISTS (SELECT 1 FROM profile_terms t WHERE t.profile_id = p.id AND t.term >= ? AND t.term < ?)")
				}
				targs = append(targs, w, w+"\U0010FFFF")
			}
			alts = append(alts, "("+strings.Join(all, " AND ")+")")
		}
		ids, err := identifierMatches(ctx, c, f)
		if err != nil {
			return nil, nil, false, false, err
		}
		if len(ids) > 0 {
			alts = append(alts, "p.id IN ("+sqldb.Placeholders(len(ids))+")")
			for _, id := range ids {
				targs = append(targs, id)
			}
		}
		if len(alts) == 0 {
			return nil, nil, true, false, nil
		}
		if len(words) == 0 {
			few = true // identifiers only
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
		args = append(args, targs...)
	}
	// Filters on the scores: a lookup by the profile's key, or, when the
	// value is rare, the set the query starts from.
	type scoreFilter struct {
		table, where string // the filter on its own table: "segment = ?"
		args         []any
	}
	var sfs []scoreFilter
	if f.Segment != "" {
		sfs = append(sfs, scoreFilter{"rfm_scores", "segment = ?", []any{f.Segment}})
	}
	switch {
	case f.R > 0 && f.FM > 0:
		sfs = append(sfs, scoreFilter{"rfm_scores", "r = ? AND fm = ?", []any{f.R, f.FM}})
	case f.R > 0:
		sfs = append(sfs, scoreFilter{"rfm_scores", "r = ?", []any{f.R}})
	case f.FM > 0:
		sfs = append(sfs, scoreFilter{"rfm_scores", "fm = ?", []any{f.FM}})
	}
	if f.Persona > 0 {
		sfs = append(sfs, scoreFilter{"persona_members", "cluster = ?", []any{f.Persona}})
	}
	if f.Churn != "" {
		sfs = append(sfs, scoreFilter{"predictions", "churn_risk = ?", []any{f.Churn}})
	}
	for _, sf := range sfs {
		rare, err := fewRows(ctx, c, "SELECT 1 FROM "+sf.table+" WHERE "+sf.where, sf.args, rareAt*filterFactor)
		if err != nil {
			return nil, nil, false, false, err
		}
		if rare {
			few = true
			conds = append(conds, "p.id IN (SELECT profile_id FROM "+sf.table+" WHERE "+sf.where+")")
		} else {
			// A scalar subquery, not EXISTS: see conditions.
			conds = append(conds, "(SELECT 1 FROM "+sf.table+" f WHERE f.profile_id = p.id AND "+sf.where+") IS NOT NULL")
		}
		args = append(args, sf.args...)
	}
	if f.Known {
		conds = append(conds, "(p.name <> '' OR p.email <> '' OR p.phone <> '' OR (SELECT 1 FROM customer_stats x WHERE x.profile_id = p.id) IS NOT NULL)")
	}
	if f.Channel != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM profiles m JOIN orders o ON o.profile_id = m.id WHERE m.canonical_id = p.id AND o.channel = ?)")
		args = append(args, f.Channel)
	}
	if f.Store != "" {
		// A store with few orders has few customers: start from them.
		rare, err := fewRows(ctx, c, "SELECT 1 FROM orders WHERE store_id = ?", []any{f.Store}, rareAt*filterFactor)
		if err != nil {
			return nil, nil, false, false, err
		}
		if rare {
			few = true
			conds = append(conds, "p.id IN (SELECT m.canonical_id FROM orders o JOIN profiles m ON m.id = o.profile_id WHERE o.store_id = ?)")
		} else {
			conds = append(conds, "EXISTS (SELECT 1 FROM profiles m JOIN orders o ON o.profile_id = m.id WHERE m.canonical_id = p.id AND o.store_id = ?)")
		}
		args = append(args, f.Store)
	}
	if f.NPS != "" {
		lo, hi := npsRange(f.NPS)
		conds = append(conds, latestNPS+" BETWEEN ? AND ?")
		args = append(args, lo, hi)
	}
	return conds, args, false, few, nil
}

// fewTerms is how many customers a text search or a filter may match for
// the query to start from them and sort them; more, and walking the sort's
// index while checking each customer is cheaper (LIMIT stops it early).
const fewTerms = 2000

// filterFactor: a filter value's own rows are cheaper to start from than a
// search word's (one key lookup each, no term ranges), and a filter often
// follows the sort's order (churn risk and recency go together, so walking
// by last seen meets the customers at risk only at the end): a filter value
// matching up to ten times fewTerms customers is where the list starts.
const filterFactor = 10

// fewMatches reports whether the rarest word of a search starts the terms
// of at most fewTerms profiles, counting no further than that.
func fewMatches(ctx context.Context, c sqldb.Conn, words []string, rareAt int) (bool, error) {
	for _, w := range words {
		var n int
		err := c.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM profile_terms WHERE term >= ? AND term < ? LIMIT ?) t`,
			w, w+"\U0010FFFF", rareAt+1).Scan(&n)
		if err != nil {
			return false, sqldb.Classify(err)
		}
		if n <= rareAt {
			return true, nil
		}
	}
	return false, nil
}

// fewRows reports whether query (rows of a filter's own table, read through
// an index) returns at most fewTerms rows, counting no further than that.
// A filter that rare is where the list starts; walking the sort's index
// would check most of the shop to fill one page.
func fewRows(ctx context.Context, c sqldb.Conn, query string, args []any, rareAt int) (bool, error) {
	var n int
	err := c.QueryRow(ctx, "SELECT COUNT(*) FROM ("+query+" LIMIT ?) t", append(slices.Clone(args), max(rareAt, 0)+1)...).Scan(&n)
	if err != nil {
		return false, sqldb.Classify(err)
	}
	return n <= rareAt, nil
}

func npsRange(group string) (int, int) {
	switch group {
	case Promoter:
		return 9, 10
	case Passive:
		return 7, 8
	}
	return 0, 6
}

// identifierMatches returns the canonical profiles holding Text as an
// identifier of any common type, as the API's search does.
func identifierMatches(ctx context.Context, c sqldb.Conn, f Filter) ([]string, error) {
	rules := f.Rules
	if rules == nil {
		r, err := identity.LoadRules(ctx, c, "")
		if err != nil {
			return nil, err
		}
		rules = &r
	}
	var ids []string
	for _, typ := range []string{identity.Email, identity.Phone, identity.UserID, identity.LoyaltyCard, identity.POSCustomerID, identity.AnonymousID} {
		root, err := identity.Lookup(ctx, c, rules, typ, f.Text)
		switch {
		case err == nil:
			if !slices.Contains(ids, root) {
				ids = append(ids, root)
			}
		case !fault.Is(err, fault.NotFound):
			return nil, err
		}
	}
	return ids, nil
}

// List returns a page of the customers f selects, in f's sort.
func List(ctx context.Context, c sqldb.Conn, f Filter) (Page, error) {
	return list(ctx, c, f, fewTerms)
}

// list is List where a text or a filter value matching at most rareAt
// customers is where the query starts.
func list(ctx context.Context, c sqldb.Conn, f Filter, rareAt int) (Page, error) {
	if err := f.Check(); err != nil {
		return Page{}, err
	}
	phases := plans[f.Sort]
	start := cursor{}
	after := false
	if f.Cursor != "" {
		var err error
		if start, err = decodeCursor(f.Cursor, len(phases)); err != nil {
			return Page{}, err
		}
		after = true
	}
	conds, args, none, few, err := conditions(ctx, c, f, rareAt)
	if err != nil {
		return Page{}, err
	}
	page := Page{Rows: []Row{}}
	if none {
		return page, nil
	}
	var keys []cursor
	for i := start.Phase; i < len(phases) && len(page.Rows) <= f.Limit; i++ {
		var from *cursor
		if after && i == start.Phase {
			from = &start
		}
		rows, ks, err := walk(ctx, c, phases[i], i, few, conds, args, from, f.Limit+1-len(page.Rows))
		if err != nil {
			return Page{}, err
		}
		page.Rows = append(page.Rows, rows...)
		keys = append(keys, ks...)
	}
	if len(page.Rows) > f.Limit {
		page.Rows = page.Rows[:f.Limit]
		page.Next = keys[f.Limit-1].encode()
	}
	if !after {
		if page.Total, err = total(ctx, c, f); err != nil {
			return Page{}, err
		}
	}
	return page, nil
}

// walk reads up to limit rows of one phase after the cursor.
func walk(ctx context.Context, c sqldb.Conn, ph phase, n int, few bool, conds []string, cargs []any, from *cursor, limit int) ([]Row, []cursor, error) {
	// The page's customers are chosen first, by their ids and sort keys
	// alone; the columns a row shows (some of them subqueries) are then
	// read for those customers only.
	var q strings.Builder
	fromSQL := ph.from
	if few {
		// A rare search word or filter value: let the planner start from it.
		fromSQL = strings.ReplaceAll(fromSQL, " CROSS JOIN ", ", ")
	}
	q.WriteString("SELECT " + ph.id + " AS k_id")
	if ph.key != "" {
		key := ph.key
		if few {
			// An expression, not the column: no index gives its order, so
			// the planner starts from the rare set and sorts it
			// (PostgreSQL would otherwise walk the sort's index, betting
			// on LIMIT to stop it early).
			if ph.text {
				key = "(" + key + " || '')"
			} else {
				key = "(" + key + " + 0)"
			}
		}
		q.WriteString(", " + key + " AS k_key")
	}
	q.WriteString(" FROM " + fromSQL)
	where := append([]string{ph.cond}, conds...)
	args := slices.Clone(cargs)
	cmp, dir := "<", " DESC"
	if ph.asc {
		cmp, dir = ">", ""
	}
	if from != nil {
		switch {
		case ph.key == "":
			where = append(where, ph.id+" "+cmp+" ?")
			args = append(args, from.ID)
		case ph.text:
			where = append(where, "("+ph.key+", "+ph.id+") "+cmp+" (?, ?)")
			args = append(args, from.S, from.ID)
		default:
			where = append(where, "("+ph.key+", "+ph.id+") "+cmp+" (?, ?)")
			args = append(args, from.N, from.ID)
		}
	}
	q.WriteString(" WHERE " + strings.Join(where, " AND "))
	order := ""
	if ph.key != "" {
		order = "k_key" + dir + ", "
	}
	order += "k_id" + dir
	q.WriteString(" ORDER BY " + order + " LIMIT ?")
	args = append(args, limit)
	page := q.String()
	q.Reset()
	q.WriteString("SELECT " + rowColumns + " FROM (" + page + ") k CROSS JOIN profiles p")
	for _, j := range joins {
		q.WriteString(j.sql)
	}
	q.WriteString(" WHERE p.id = k.k_id ORDER BY " + strings.ReplaceAll(strings.ReplaceAll(order, "k_key", "k.k_key"), "k_id", "k.k_id"))
	rows, err := c.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, nil, sqldb.Classify(err)
	}
	defer rows.Close()
	var (
		out  []Row
		keys []cursor
	)
	for rows.Next() {
		var (
			r    Row
			seen int64
			clv  sql.NullInt64
			nps  sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.Phone, &seen, &r.Orders, &r.RevenueMinor, &r.Segment, &r.Persona, &r.PersonaName,
			&r.Churn, &clv, &nps); err != nil {
			return nil, nil, sqldb.Classify(err)
		}
		r.LastSeen = time.UnixMilli(seen).UTC()
		if clv.Valid {
			r.CLVMinor = &clv.Int64
		}
		if nps.Valid {
			v := int(nps.Int64)
			r.NPS = &v
		}
		k := cursor{Phase: n, ID: r.ID}
		switch {
		case ph.key == "":
		case ph.text:
			k.S = r.Name
		default:
			k.N = keyInt(ph.key, r, seen)
		}
		out = append(out, r)
		keys = append(keys, k)
	}
	return out, keys, sqldb.Classify(rows.Err())
}

// keyInt returns the row's value of an integer sort key.
func keyInt(key string, r Row, seen int64) int64 {
	switch key {
	case "cs.revenue_minor":
		return r.RevenueMinor
	case "cs.orders":
		return r.Orders
	case "pr.clv_minor":
		return *r.CLVMinor
	}
	return seen
}

// total returns how many customers match f when a summary holds it: a
// segment or a persona filter alone (their members are buyers, so Known
// changes nothing).
func total(ctx context.Context, c sqldb.Conn, f Filter) (*int64, error) {
	if f.Text != "" || f.Churn != "" || f.Channel != "" || f.Store != "" || f.NPS != "" || f.R > 0 || f.FM > 0 ||
		(f.Segment != "") == (f.Persona > 0) {
		return nil, nil
	}
	if f.Segment != "" {
		g, err := rfm.Current(ctx, c)
		if fault.Is(err, fault.NotFound) {
			n := int64(0)
			return &n, nil
		}
		if err != nil {
			return nil, err
		}
		for _, s := range g.Segments {
			if s.Segment == f.Segment {
				return &s.Customers, nil
			}
		}
		n := int64(0)
		return &n, nil
	}
	var n int64
	err := c.QueryRow(ctx, "SELECT customers FROM persona_clusters WHERE cluster = ?", f.Persona).Scan(&n)
	if err != nil && err != sql.ErrNoRows {
		return nil, sqldb.Classify(err)
	}
	return &n, nil
}

// Personas returns the personas of the last run, for a filter's choices.
func Personas(ctx context.Context, c sqldb.Conn) ([]persona.PersonaView, error) {
	r, err := persona.Current(ctx, c)
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	return r.Personas, err
}

// Stores returns the store ids orders were placed in, with one index seek
// per store.
func Stores(ctx context.Context, c sqldb.Conn) ([]string, error) {
	rows, err := c.Query(ctx, `WITH RECURSIVE s(id) AS (
			SELECT MIN(store_id) FROM orders WHERE store_id <> ''
			UNION ALL
			SELECT (SELECT MIN(o.store_id) FROM orders o WHERE o.store_id <> '' AND o.store_id > s.id) FROM s WHERE s.id IS NOT NULL)
		SELECT id FROM s WHERE id IS NOT NULL`)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, sqldb.Classify(err)
		}
		out = append(out, id)
	}
	return out, sqldb.Classify(rows.Err())
}
