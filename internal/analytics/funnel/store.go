package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Recorder is the process.Extension that records the funnel's events.
type Recorder struct {
	baseCurrency string
}

// NewRecorder returns the extension that records product views, checkouts,
// marked cart additions and order lines as events are processed.
// baseCurrency is the currency of orders that name none.
func NewRecorder(baseCurrency string) *Recorder {
	if baseCurrency == "" {
		baseCurrency = "EUR"
	}
	return &Recorder{baseCurrency: baseCurrency}
}

// Begin starts a batch.
func (x *Recorder) Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (process.Hook, error) {
	return &hook{ctx: ctx, tx: tx, base: x.baseCurrency}, nil
}

// Rebuild leaves the funnel as it is: conversion and attachment are decided
// when events are processed, so an unmerge does not move past figures.
func (*Recorder) Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error { return nil }

// step is one funnel event of a batch, in log order.
type step struct {
	kind    string // view, checkout, order
	root    string // canonical profile as processed (resolved again at Flush)
	at      int64
	channel string
	// checkouts
	key, orderID, store string
	// orders
	seq   int64
	lines []line
}

type hook struct {
	ctx     context.Context
	tx      *sqldb.Tx
	base    string
	adds    [][]any
	steps   []step
	touched map[string]bool // orders named by Order Updated / Cancelled
}

func (h *hook) Event(a process.Applied) error {
	e := a.Event
	if e.Type != event.Track {
		return nil
	}
	p := a.Body.Properties
	if e.Name == order.Updated || e.Name == order.Cancelled {
		if id, _ := p.String("order_id"); strings.TrimSpace(id) != "" {
			if h.touched == nil {
				h.touched = map[string]bool{}
			}
			h.touched[strings.TrimSpace(id)] = true
		}
		return nil
	}
	k := kind(e.Name)
	if k == "" {
		return nil
	}
	at := e.Timestamp.UnixMilli()
	channel := a.Body.Channel(e.Channel)
	switch k {
	case "view":
		h.steps = append(h.steps, step{kind: "view", root: a.Root, at: at, channel: channel})
	case "add":
		cross, upsell := marks(p)
		product := productKey(p)
		if product == "" || len(product) > 255 {
			return nil
		}
		if upsell {
			h.adds = append(h.adds, []any{e.Seq, a.Profile, product, Upsell, at})
		} else if cross {
			h.adds = append(h.adds, []any{e.Seq, a.Profile, product, Cross, at})
		}
	case "checkout":
		orderID, _ := p.String("order_id")
		orderID = strings.TrimSpace(orderID)
		key, _ := p.String("checkout_id")
		switch key = strings.TrimSpace(key); {
		case key != "":
			key = "checkout:" + key
		case orderID != "":
			key = "order:" + orderID
		default:
			key = fmt.Sprintf("event:%d", e.Seq)
		}
		if len(key) > 300 || len(orderID) > 255 {
			return fault.New(fault.Invalid, "%s not recorded: checkout_id or order_id is longer than 255 bytes", e.Name)
		}
		store, _ := p.String("store_id")
		h.steps = append(h.steps, step{kind: "checkout", root: a.Root, at: at, channel: channel, key: key, orderID: orderID, store: store})
	case "order":
		id, ls, ok := lines(a.Body, h.base)
		if !ok {
			return nil // the order package records why
		}
		h.steps = append(h.steps, step{kind: "order", root: a.Root, at: at, channel: channel, orderID: id, seq: e.Seq, lines: ls})
	}
	return nil
}

// addWindow is how long before an order a marked Product Added marks its
// product's line.
const addWindow = 7 * 24 * time.Hour

// cell is a row of funnel_daily; counts are the batch's changes.
type cell struct {
	day                 int64
	channel, store, cur string
}

type counts struct {
	checkouts, checkoutsConverted, sessions, sessionsConverted int64
	orders, cross, upsell, attach                              int64
	linesMinor, crossMinor, upsellMinor                        int64
}

// session is a profile's open product-viewing session.
type session struct {
	start, last int64
	channel     string
	converted   bool
	fresh       bool // started in this batch
	dirty       bool
}

// orderRow is a funnel_orders row: an order's lines and the cell it counts
// in.
type orderRow struct {
	root                                  string
	completedAt                           int64
	lines, cross, upsell, nCross, nUpsell int64
	counted                               bool
	cell                                  cell
}

func (o orderRow) counts(sign int64) counts {
	c := counts{orders: sign}
	if o.nCross > 0 {
		c.cross = sign
	}
	if o.nUpsell > 0 {
		c.upsell = sign
	}
	if o.nCross > 0 || o.nUpsell > 0 {
		c.attach = sign
	}
	c.linesMinor, c.crossMinor, c.upsellMinor = sign*o.lines, sign*o.cross, sign*o.upsell
	return c
}

type flush struct {
	*hook
	delta map[cell]*counts
	// completions of this batch per canonical profile (times)
	done map[string][]int64
}

func (f *flush) add(c cell, d counts) {
	x := f.delta[c]
	if x == nil {
		x = &counts{}
		f.delta[c] = x
	}
	x.checkouts += d.checkouts
	x.checkoutsConverted += d.checkoutsConverted
	x.sessions += d.sessions
	x.sessionsConverted += d.sessionsConverted
	x.orders += d.orders
	x.cross += d.cross
	x.upsell += d.upsell
	x.attach += d.attach
	x.linesMinor += d.linesMinor
	x.crossMinor += d.crossMinor
	x.upsellMinor += d.upsellMinor
}

// doneWithin reports whether root completed an order of this batch in
// [from, to].
func (f *flush) doneWithin(root string, from, to int64) bool {
	for _, at := range f.done[root] {
		if at >= from && at <= to {
			return true
		}
	}
	return false
}

func dayOf(ms int64) int64 { return days.Start(time.UnixMilli(ms)).UnixMilli() }

func (h *hook) Flush(c process.Changes) error {
	if err := h.tx.Bulk(h.ctx, `INSERT INTO funnel_adds (event_seq, profile_id, product, kind, added_at) VALUES VALUES_LIST ON CONFLICT (event_seq) DO NOTHING`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int}, h.adds, nil); err != nil {
		return err
	}
	f := &flush{hook: h, delta: map[cell]*counts{}, done: map[string][]int64{}}
	if err := f.merges(c.Merges); err != nil {
		return err
	}
	if len(h.steps) == 0 && len(h.touched) == 0 {
		return nil
	}
	// Every step counts for its profile's canonical profile after the
	// batch's merges.
	for i := range h.steps {
		s := &h.steps[i]
		if c.RootOf != nil {
			r, err := c.RootOf(s.root)
			if err != nil {
				return err
			}
			s.root = r
		}
		if s.kind == "order" {
			f.done[s.root] = append(f.done[s.root], s.at)
		}
	}
	if err := f.sessions(); err != nil {
		return err
	}
	if err := f.checkouts(); err != nil {
		return err
	}
	if err := f.orders(); err != nil {
		return err
	}
	return f.write()
}

// merges carries a merged profile's open session and pending checkouts to
// the survivor.
func (f *flush) merges(ms []identity.Merge) error {
	for _, m := range ms {
		if _, err := f.tx.Exec(f.ctx, `UPDATE funnel_checkouts SET root_id = ? WHERE root_id = ? AND converted = 0 AND order_id = ''`, m.Survivor, m.Merged); err != nil {
			return sqldb.Classify(err)
		}
		// The merged profile's session continues as the survivor's unless
		// the survivor viewed later.
		if _, err := f.tx.Exec(f.ctx, `DELETE FROM funnel_sessions WHERE root_id = ? AND last_view_at < (SELECT last_view_at FROM funnel_sessions WHERE root_id = ?)`, m.Survivor, m.Merged); err != nil {
			return sqldb.Classify(err)
		}
		if _, err := f.tx.Exec(f.ctx, `UPDATE funnel_sessions SET root_id = ? WHERE root_id = ? AND NOT EXISTS (SELECT 1 FROM funnel_sessions s WHERE s.root_id = ?)`, m.Survivor, m.Merged, m.Survivor); err != nil {
			return sqldb.Classify(err)
		}
		if _, err := f.tx.Exec(f.ctx, `DELETE FROM funnel_sessions WHERE root_id = ?`, m.Merged); err != nil {
			return sqldb.Classify(err)
		}
	}
	return nil
}

// sessions cuts the batch's product views into sessions, profile by
// profile, and converts open sessions with the batch's orders.
func (f *flush) sessions() error {
	var roots [][]any
	open := map[string]*session{}
	for _, s := range f.steps {
		if s.kind == "view" || s.kind == "order" {
			if _, ok := open[s.root]; !ok {
				open[s.root] = nil
				roots = append(roots, []any{s.root})
			}
		}
	}
	if len(roots) == 0 {
		return nil
	}
	err := f.tx.Bulk(f.ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT s.root_id, s.started_at, s.last_view_at, s.channel, s.converted
		FROM v JOIN funnel_sessions s ON s.root_id = v.id`, []sqldb.Type{sqldb.Text}, roots, func(rows *sql.Rows) error {
		var (
			id        string
			s         session
			converted int
		)
		if err := rows.Scan(&id, &s.start, &s.last, &s.channel, &converted); err != nil {
			return err
		}
		s.converted = converted == 1
		open[id] = &s
		return nil
	})
	if err != nil {
		return err
	}
	gap := sessionGap.Milliseconds()
	var fresh []*session
	freshRoot := map[*session]string{}
	for _, st := range f.steps {
		s := open[st.root]
		switch st.kind {
		case "view":
			if s == nil || st.at-s.last > gap {
				s = &session{start: st.at, last: st.at, channel: st.channel, fresh: true, dirty: true}
				open[st.root] = s
				fresh = append(fresh, s)
				freshRoot[s] = st.root
				f.add(cell{day: dayOf(st.at), channel: st.channel}, counts{sessions: 1})
				continue
			}
			if st.at > s.last {
				s.last = st.at
			}
			s.dirty = true
		case "order":
			if s != nil && !s.converted && st.at >= s.start && st.at <= s.last+gap {
				s.converted, s.dirty = true, true
				f.add(cell{day: dayOf(s.start), channel: s.channel}, counts{sessionsConverted: 1})
			}
		}
	}
	// A session may also convert through an order processed before its
	// views (an earlier batch, or earlier in this one).
	var probes [][]any
	for i, s := range fresh {
		if s.converted {
			continue
		}
		root := freshRoot[s]
		if f.doneWithin(root, s.start, s.last+gap) {
			s.converted = true
			f.add(cell{day: dayOf(s.start), channel: s.channel}, counts{sessionsConverted: 1})
			continue
		}
		probes = append(probes, []any{int64(i), root, s.start, s.last + gap})
	}
	err = f.tx.Bulk(f.ctx, `WITH v(i, root_id, lo, hi) AS (VALUES VALUES_LIST)
		SELECT v.i FROM v WHERE EXISTS (SELECT 1 FROM funnel_orders o WHERE o.root_id = v.root_id AND o.completed_at >= v.lo AND o.completed_at <= v.hi)`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Int, sqldb.Int}, probes, func(rows *sql.Rows) error {
			var i int
			if err := rows.Scan(&i); err != nil {
				return err
			}
			s := fresh[i]
			if !s.converted {
				s.converted = true
				f.add(cell{day: dayOf(s.start), channel: s.channel}, counts{sessionsConverted: 1})
			}
			return nil
		})
	if err != nil {
		return err
	}
	var rows [][]any
	for root, s := range open {
		if s != nil && s.dirty {
			conv := int64(0)
			if s.converted {
				conv = 1
			}
			rows = append(rows, []any{root, s.start, s.last, s.channel, conv})
		}
	}
	return f.tx.Bulk(f.ctx, `INSERT INTO funnel_sessions (root_id, started_at, last_view_at, channel, converted) VALUES VALUES_LIST
		ON CONFLICT (root_id) DO UPDATE SET started_at = excluded.started_at, last_view_at = excluded.last_view_at, channel = excluded.channel, converted = excluded.converted`,
		[]sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Text, sqldb.Int}, rows, nil)
}

// checkouts records the batch's new checkouts, converted or pending, and
// converts pending checkouts with the batch's orders.
func (f *flush) checkouts() error {
	var (
		fresh     []step
		keys      [][]any
		seen      = map[string]bool{}
		completed = map[string]bool{}
		ids       [][]any
	)
	for _, s := range f.steps {
		switch s.kind {
		case "checkout":
			if !seen[s.key] {
				seen[s.key] = true
				fresh = append(fresh, s)
				keys = append(keys, []any{s.key})
			}
		case "order":
			if !completed[s.orderID] {
				completed[s.orderID] = true
				ids = append(ids, []any{s.orderID})
			}
		}
	}
	// Pending checkouts naming an order of this batch convert.
	conv := func(rows *sql.Rows) error {
		var (
			at             int64
			channel, store string
		)
		if err := rows.Scan(&at, &channel, &store); err != nil {
			return err
		}
		f.add(cell{day: dayOf(at), channel: channel, store: store}, counts{checkoutsConverted: 1})
		return nil
	}
	if err := f.tx.Bulk(f.ctx, `WITH v(id) AS (VALUES VALUES_LIST) UPDATE funnel_checkouts SET converted = 1
		WHERE converted = 0 AND order_id <> '' AND order_id IN (SELECT id FROM v) RETURNING started_at, channel, store_id`,
		[]sqldb.Type{sqldb.Text}, ids, conv); err != nil {
		return err
	}
	// Pending checkouts without an order id convert with an order of their
	// customer in the following 24 hours.
	link := checkoutLink.Milliseconds()
	pending := 0
	if len(ids) > 0 {
		if err := f.tx.QueryRow(f.ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM funnel_checkouts WHERE converted = 0 AND order_id = '' LIMIT 1) c").Scan(&pending); err != nil {
			return sqldb.Classify(err)
		}
	}
	if pending > 0 {
		var orders [][]any
		for _, s := range f.steps {
			if s.kind == "order" {
				orders = append(orders, []any{s.root, s.at - link, s.at})
			}
		}
		if err := f.tx.Bulk(f.ctx, `WITH v(root_id, lo, hi) AS (VALUES VALUES_LIST) UPDATE funnel_checkouts SET converted = 1
			WHERE checkout_key IN (SELECT c.checkout_key FROM v JOIN funnel_checkouts c ON c.root_id = v.root_id AND c.started_at >= v.lo AND c.started_at <= v.hi
				AND c.converted = 0 AND c.order_id = '')
			RETURNING started_at, channel, store_id`, []sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int}, orders, conv); err != nil {
			return err
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	// A checkout seen before keeps its first record.
	known := map[string]bool{}
	if err := f.tx.Bulk(f.ctx, `WITH v(k) AS (VALUES VALUES_LIST) SELECT c.checkout_key FROM v JOIN funnel_checkouts c ON c.checkout_key = v.k`,
		[]sqldb.Type{sqldb.Text}, keys, func(rows *sql.Rows) error {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			known[k] = true
			return nil
		}); err != nil {
		return err
	}
	var byOrder, byRoot [][]any
	for i, s := range fresh {
		switch {
		case known[s.key]:
		case s.orderID != "":
			byOrder = append(byOrder, []any{int64(i), s.orderID})
		default:
			byRoot = append(byRoot, []any{int64(i), s.root, s.at, s.at + link})
		}
	}
	converted := map[int]bool{}
	mark := func(rows *sql.Rows) error {
		var i int
		if err := rows.Scan(&i); err != nil {
			return err
		}
		converted[i] = true
		return nil
	}
	// The order may have been completed already (the orders table holds this
	// batch's orders too).
	if err := f.tx.Bulk(f.ctx, `WITH v(i, id) AS (VALUES VALUES_LIST) SELECT v.i FROM v WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = v.id AND o.completed = 1)`,
		[]sqldb.Type{sqldb.Int, sqldb.Text}, byOrder, mark); err != nil {
		return err
	}
	if err := f.tx.Bulk(f.ctx, `WITH v(i, root_id, lo, hi) AS (VALUES VALUES_LIST)
		SELECT v.i FROM v WHERE EXISTS (SELECT 1 FROM funnel_orders o WHERE o.root_id = v.root_id AND o.completed_at >= v.lo AND o.completed_at <= v.hi)`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Int, sqldb.Int}, byRoot, mark); err != nil {
		return err
	}
	var rows [][]any
	for i, s := range fresh {
		if known[s.key] {
			continue
		}
		if s.orderID != "" && completed[s.orderID] || s.orderID == "" && f.doneWithin(s.root, s.at, s.at+link) {
			converted[i] = true
		}
		d, conv := counts{checkouts: 1}, int64(0)
		if converted[i] {
			d.checkoutsConverted, conv = 1, 1
		}
		f.add(cell{day: dayOf(s.at), channel: s.channel, store: s.store}, d)
		rows = append(rows, []any{s.key, s.root, s.orderID, s.channel, s.store, s.at, conv})
	}
	return f.tx.Bulk(f.ctx, `INSERT INTO funnel_checkouts (checkout_key, root_id, order_id, channel, store_id, started_at, converted) VALUES VALUES_LIST`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int}, rows, nil)
}

// orders records the lines of the batch's orders and moves the attachment
// counts of every order the batch completed, changed or cancelled.
func (f *flush) orders() error {
	latest := map[string]*step{}
	var ids [][]any
	for i := range f.steps {
		s := &f.steps[i]
		if s.kind != "order" {
			continue
		}
		if _, ok := latest[s.orderID]; !ok && !f.touched[s.orderID] {
			ids = append(ids, []any{s.orderID})
		}
		latest[s.orderID] = s // the last Order Completed wins
	}
	for id := range f.touched {
		ids = append(ids, []any{id})
	}
	if len(ids) == 0 {
		return nil
	}
	if err := f.marks(latest); err != nil {
		return err
	}
	old := map[string]orderRow{}
	err := f.tx.Bulk(f.ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT f.order_id, f.root_id, f.completed_at, f.lines_minor, f.cross_minor, f.upsell_minor,
		f.cross_lines, f.upsell_lines, f.counted, f.day, f.channel, f.store_id, f.currency FROM v JOIN funnel_orders f ON f.order_id = v.id`,
		[]sqldb.Type{sqldb.Text}, ids, func(rows *sql.Rows) error {
			var (
				id      string
				o       orderRow
				counted int
			)
			if err := rows.Scan(&id, &o.root, &o.completedAt, &o.lines, &o.cross, &o.upsell, &o.nCross, &o.nUpsell, &counted,
				&o.cell.day, &o.cell.channel, &o.cell.store, &o.cell.cur); err != nil {
				return err
			}
			o.counted = counted == 1
			old[id] = o
			return nil
		})
	if err != nil {
		return err
	}
	type state struct {
		c       cell
		counted bool
	}
	now := map[string]state{}
	err = f.tx.Bulk(f.ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT o.order_id, o.placed_at, o.channel, o.store_id, o.currency,
		CASE WHEN o.completed = 1 AND o.cancelled_at IS NULL THEN 1 ELSE 0 END FROM v JOIN orders o ON o.order_id = v.id`,
		[]sqldb.Type{sqldb.Text}, ids, func(rows *sql.Rows) error {
			var (
				id      string
				at      int64
				s       state
				counted int
			)
			if err := rows.Scan(&id, &at, &s.c.channel, &s.c.store, &s.c.cur, &counted); err != nil {
				return err
			}
			s.c.day, s.counted = dayOf(at), counted == 1
			now[id] = s
			return nil
		})
	if err != nil {
		return err
	}
	var rows [][]any
	for _, r := range ids {
		id := r[0].(string)
		prev, had := old[id]
		o := prev
		if s := latest[id]; s != nil {
			o = orderRow{root: s.root, completedAt: s.at}
			for _, l := range s.lines {
				if l.upsell {
					l.cross = false // a line marked both counts as upsold
				}
				o.lines += l.minor
				if l.cross {
					o.cross += l.minor
					o.nCross++
				}
				if l.upsell {
					o.upsell += l.minor
					o.nUpsell++
				}
			}
		} else if !had {
			continue // an order the funnel has no lines of
		}
		st := now[id]
		o.cell, o.counted = st.c, st.counted
		if had && prev.counted {
			f.add(prev.cell, prev.counts(-1))
		}
		if o.counted {
			f.add(o.cell, o.counts(1))
		}
		counted := int64(0)
		if o.counted {
			counted = 1
		}
		rows = append(rows, []any{id, o.root, o.completedAt, o.lines, o.cross, o.upsell, o.nCross, o.nUpsell, counted, o.cell.day, o.cell.channel, o.cell.store, o.cell.cur})
	}
	return f.tx.Bulk(f.ctx, `INSERT INTO funnel_orders (order_id, root_id, completed_at, lines_minor, cross_minor, upsell_minor, cross_lines, upsell_lines,
			counted, day, channel, store_id, currency) VALUES VALUES_LIST
		ON CONFLICT (order_id) DO UPDATE SET root_id = excluded.root_id, completed_at = excluded.completed_at, lines_minor = excluded.lines_minor,
			cross_minor = excluded.cross_minor, upsell_minor = excluded.upsell_minor, cross_lines = excluded.cross_lines, upsell_lines = excluded.upsell_lines,
			counted = excluded.counted, day = excluded.day, channel = excluded.channel, store_id = excluded.store_id, currency = excluded.currency`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text}, rows, nil)
}

// marks marks lines not marked on the order with an earlier Product Added of
// the same customer.
func (f *flush) marks(latest map[string]*step) error {
	var probes [][]any
	var at []*line
	for _, s := range latest {
		for j := range s.lines {
			if l := &s.lines[j]; l.product != "" && !l.upsell {
				probes = append(probes, []any{int64(len(at)), s.root, l.product, s.at})
				at = append(at, l)
			}
		}
	}
	if len(probes) == 0 {
		return nil
	}
	var anyAdds int
	if err := f.tx.QueryRow(f.ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM funnel_adds LIMIT 1) a").Scan(&anyAdds); err != nil {
		return sqldb.Classify(err)
	}
	if anyAdds == 0 {
		return nil
	}
	return f.tx.Bulk(f.ctx, `WITH v(k, root_id, product, placed_at) AS (VALUES VALUES_LIST)
		SELECT v.k, MAX(CASE WHEN a.kind = 'cross' THEN 1 ELSE 0 END), MAX(CASE WHEN a.kind = 'upsell' THEN 1 ELSE 0 END)
		FROM v JOIN profiles pa ON pa.canonical_id = v.root_id
		JOIN funnel_adds a ON a.profile_id = pa.id AND a.product = v.product AND a.added_at <= v.placed_at AND a.added_at >= v.placed_at - `+fmt.Sprint(addWindow.Milliseconds())+`
		GROUP BY v.k`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int}, probes, func(rows *sql.Rows) error {
			var k, cross, upsell int
			if err := rows.Scan(&k, &cross, &upsell); err != nil {
				return err
			}
			l := at[k]
			l.cross = l.cross || cross == 1
			l.upsell = l.upsell || upsell == 1
			return nil
		})
}

// write adds the batch's changes to funnel_daily.
func (f *flush) write() error {
	rows := make([][]any, 0, len(f.delta))
	for c, d := range f.delta {
		if *d == (counts{}) {
			continue
		}
		rows = append(rows, []any{c.day, c.channel, c.store, c.cur, d.checkouts, d.checkoutsConverted, d.sessions, d.sessionsConverted,
			d.orders, d.cross, d.upsell, d.attach, d.linesMinor, d.crossMinor, d.upsellMinor})
	}
	types := []sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text}
	for range 11 {
		types = append(types, sqldb.Int)
	}
	return f.tx.Bulk(f.ctx, `INSERT INTO funnel_daily (day, channel, store_id, currency, checkouts, checkouts_converted, sessions, sessions_converted,
			orders, cross_orders, upsell_orders, attach_orders, lines_minor, cross_minor, upsell_minor) VALUES VALUES_LIST
		ON CONFLICT (day, channel, store_id, currency) DO UPDATE SET checkouts = funnel_daily.checkouts + excluded.checkouts,
			checkouts_converted = funnel_daily.checkouts_converted + excluded.checkouts_converted, sessions = funnel_daily.sessions + excluded.sessions,
			sessions_converted = funnel_daily.sessions_converted + excluded.sessions_converted, orders = funnel_daily.orders + excluded.orders,
			cross_orders = funnel_daily.cross_orders + excluded.cross_orders, upsell_orders = funnel_daily.upsell_orders + excluded.upsell_orders,
			attach_orders = funnel_daily.attach_orders + excluded.attach_orders, lines_minor = funnel_daily.lines_minor + excluded.lines_minor,
			cross_minor = funnel_daily.cross_minor + excluded.cross_minor, upsell_minor = funnel_daily.upsell_minor + excluded.upsell_minor`,
		types, rows, nil)
}
