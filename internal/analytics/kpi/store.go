package kpi

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Options configure the rollups.
type Options struct {
	// BaseCurrency is the currency revenue is summed in (default EUR).
	BaseCurrency string
	// ChurnWindow is how many days without an order make a customer lost
	// (default 180).
	ChurnWindow int
}

func (o Options) withDefaults() Options {
	if o.BaseCurrency == "" {
		o.BaseCurrency = "EUR"
	}
	if o.ChurnWindow <= 0 {
		o.ChurnWindow = DefaultChurnWindow
	}
	return o
}

// DefaultChurnWindow is the default inactivity window, in days.
const DefaultChurnWindow = 180

// windowSetting names the settings row holding the churn window the
// rollups were built with; its absence means they were never built.
const windowSetting = "kpi.churn_window_days"

// processingLock is process's lock key for transactions that rewrite
// profiles (processing batches, unmerges): a full rebuild takes it too, so
// no batch runs beside it on PostgreSQL.
const processingLock = 0x70726f63

// Extension keeps the KPI rollups in step with processing.
type Extension struct {
	opts Options
}

// NewExtension returns the KPI extension.
func NewExtension(opts Options) *Extension { return &Extension{opts: opts.withDefaults()} }

// Begin implements process.Extension.
func (x *Extension) Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (process.Hook, error) {
	return &hook{x: x, ctx: ctx, tx: tx}, nil
}

// Rebuild implements process.Extension: it recomputes the contributions of
// both customers of an unmerge.
func (x *Extension) Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error {
	return Refresh(ctx, tx, x.opts, roots)
}

type hook struct {
	x   *Extension
	ctx context.Context
	tx  *sqldb.Tx
}

func (h *hook) Event(process.Applied) error { return nil }

// Flush recomputes the customers whose orders, membership or acquisition
// campaign changed, and the customers merged away (they contribute nothing
// any more).
func (h *hook) Flush(c process.Changes) error {
	ids := map[string]bool{}
	for _, id := range c.Customers {
		ids[id] = true
	}
	for _, id := range c.Acquired {
		ids[id] = true
	}
	for _, m := range c.Merges {
		ids[m.Survivor], ids[m.Merged] = true, true
	}
	if len(ids) == 0 {
		return nil
	}
	return Refresh(h.ctx, h.tx, h.x.opts, slices.Sorted(maps.Keys(ids)))
}

// Refresh replaces, inside tx, the contributions of the given profiles by
// what their orders say now. A profile that is not canonical, or has no
// orders, contributes nothing.
func Refresh(ctx context.Context, tx *sqldb.Tx, opts Options, ids []string) error {
	opts = opts.withDefaults()
	d := newDelta()
	if err := refresh(ctx, tx, opts, ids, d); err != nil {
		return err
	}
	return d.apply(ctx, tx)
}

// refresh rewrites the stored facts of ids and adds the change of their
// contributions to d.
func refresh(ctx context.Context, tx *sqldb.Tx, opts Options, ids []string, d *delta) error {
	for len(ids) > 0 {
		n := min(len(ids), 2000)
		chunk := ids[:n]
		ids = ids[n:]
		old, err := storedFacts(ctx, tx, chunk)
		if err != nil {
			return err
		}
		now, err := readFacts(ctx, tx, opts.BaseCurrency, chunk)
		if err != nil {
			return err
		}
		var put, del [][]any
		for _, id := range chunk {
			o, nw := old[id], now[id]
			d.add(&o, -1, opts.ChurnWindow)
			d.add(&nw, +1, opts.ChurnWindow)
			switch {
			case nw.empty() && !o.empty():
				del = append(del, []any{id})
			case !nw.empty():
				put = append(put, []any{id, nw.encode()})
			}
		}
		if err := tx.Bulk(ctx, "DELETE FROM kpi_customers WHERE profile_id IN (VALUES VALUES_LIST)", []sqldb.Type{sqldb.Text}, del, nil); err != nil {
			return err
		}
		if err := tx.Bulk(ctx, `INSERT INTO kpi_customers (profile_id, facts) VALUES VALUES_LIST
			ON CONFLICT (profile_id) DO UPDATE SET facts = excluded.facts`, []sqldb.Type{sqldb.Text, sqldb.Bytes}, put, nil); err != nil {
			return err
		}
	}
	return nil
}

func storedFacts(ctx context.Context, tx *sqldb.Tx, ids []string) (map[string]facts, error) {
	out := map[string]facts{}
	err := tx.Bulk(ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT c.profile_id, c.facts FROM v JOIN kpi_customers c ON c.profile_id = v.id`,
		[]sqldb.Type{sqldb.Text}, rowsOf(ids), func(rows *sql.Rows) error {
			var (
				id string
				b  []byte
			)
			if err := rows.Scan(&id, &b); err != nil {
				return err
			}
			f, err := decodeFacts(b)
			if err != nil {
				return fmt.Errorf("%w (profile %s)", err, id)
			}
			out[id] = f
			return nil
		})
	return out, err
}

func rowsOf(ids []string) [][]any {
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{id}
	}
	return rows
}

// orderFacts is an order as it counts for the KPIs.
type orderFacts struct {
	day            Day
	channel, store string
	base           bool // in the base currency
	value          int64
	refunds        []refund
}

// refund is a refund of an order: amount is the refund's, or the order's
// value when the refund names none.
type refund struct {
	at, seq      int64
	amount       int64
	sameCurrency bool // in the order's currency
}

// builder turns a customer's orders into facts; it keeps its scratch space
// from one customer to the next.
type builder struct {
	index map[cellKey]int
	cells []cell
}

type cellKey struct {
	day            Day
	channel, store string
}

func newBuilder() *builder { return &builder{index: map[cellKey]int{}} }

func (b *builder) cell(day Day, channel, store string) *cell {
	k := cellKey{day, channel, store}
	i, ok := b.index[k]
	if !ok {
		i = len(b.cells)
		b.index[k] = i
		b.cells = append(b.cells, cell{day: day, channel: channel, store: store})
	}
	return &b.cells[i]
}

// facts returns the facts of a customer with the given campaign and
// completed, uncancelled orders: refunds of base-currency orders in their
// currency count, capped at the order's value in refund order (time, then
// event), and a refund dated before its order counts on the order's day.
func (b *builder) facts(campaign string, orders []orderFacts) facts {
	clear(b.index)
	b.cells = b.cells[:0]
	for i := range orders {
		o := &orders[i]
		c := b.cell(o.day, o.channel, o.store)
		c.orders++
		if o.base {
			c.baseOrders++
			c.gross += o.value
		}
	}
	for i := range orders {
		o := &orders[i]
		if !o.base || len(o.refunds) == 0 {
			continue
		}
		slices.SortFunc(o.refunds, func(a, b refund) int {
			if a.at != b.at {
				return cmp.Compare(a.at, b.at)
			}
			return cmp.Compare(a.seq, b.seq)
		})
		refunded := int64(0)
		for _, x := range o.refunds {
			if !x.sameCurrency || x.amount <= 0 {
				continue
			}
			amount := min(x.amount, o.value-refunded)
			if amount <= 0 {
				continue
			}
			refunded += amount
			b.cell(max(DayOfMillis(x.at), o.day), o.channel, o.store).refund += amount
		}
	}
	f := facts{campaign: campaign, cells: slices.Clone(b.cells)}
	f.sort()
	return f
}

// readFacts reads the current facts of canonical profiles: their completed,
// uncancelled orders across merged profiles, the refunds of those, and the
// acquisition campaign.
func readFacts(ctx context.Context, tx *sqldb.Tx, base string, ids []string) (map[string]facts, error) {
	type at struct {
		customer string
		i        int
	}
	orders := map[string][]orderFacts{}
	where := map[string]at{}
	rows := rowsOf(ids)
	err := tx.Bulk(ctx, `WITH v(id) AS (VALUES VALUES_LIST)
		SELECT p.canonical_id, o.order_id, o.placed_at, o.channel, o.store_id, o.currency, o.value_minor
		FROM v JOIN profiles p ON p.canonical_id = v.id JOIN orders o ON o.profile_id = p.id
		WHERE o.completed = 1 AND o.cancelled_at IS NULL`, []sqldb.Type{sqldb.Text}, rows, func(r *sql.Rows) error {
		var (
			id, oid, currency string
			placed            int64
			o                 orderFacts
		)
		if err := r.Scan(&id, &oid, &placed, &o.channel, &o.store, &currency, &o.value); err != nil {
			return err
		}
		o.day, o.base = DayOfMillis(placed), currency == base
		where[oid] = at{id, len(orders[id])}
		orders[id] = append(orders[id], o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	withBase := make([][]any, len(ids))
	for i, id := range ids {
		withBase[i] = []any{id, base}
	}
	err = tx.Bulk(ctx, `WITH v(id, base) AS (VALUES VALUES_LIST)
		SELECT r.order_id, r.refunded_at, r.event_seq, COALESCE(r.amount_minor, o.value_minor), CASE WHEN r.currency = o.currency THEN 1 ELSE 0 END
		FROM v JOIN profiles p ON p.canonical_id = v.id JOIN orders o ON o.profile_id = p.id JOIN order_refunds r ON r.order_id = o.order_id
		WHERE o.completed = 1 AND o.cancelled_at IS NULL AND o.currency = v.base`, []sqldb.Type{sqldb.Text, sqldb.Text}, withBase, func(r *sql.Rows) error {
		var (
			oid  string
			x    refund
			same int
		)
		if err := r.Scan(&oid, &x.at, &x.seq, &x.amount, &same); err != nil {
			return err
		}
		x.sameCurrency = same == 1
		if w, ok := where[oid]; ok {
			o := &orders[w.customer][w.i]
			o.refunds = append(o.refunds, x)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]facts{}
	if len(orders) == 0 {
		return out, nil
	}
	with := make([][]any, 0, len(orders))
	for id := range orders {
		with = append(with, []any{id})
	}
	campaigns := map[string]string{}
	err = tx.Bulk(ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT p.id, p.acquisition FROM v JOIN profiles p ON p.id = v.id`,
		[]sqldb.Type{sqldb.Text}, with, func(r *sql.Rows) error {
			var id, acq string
			if err := r.Scan(&id, &acq); err != nil {
				return err
			}
			campaigns[id] = campaignOf(acq)
			return nil
		})
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	for id, os := range orders {
		out[id] = b.facts(campaigns[id], os)
	}
	return out, nil
}

// campaignOf returns the campaign name (utm_campaign) of a profile's first
// touch, stored as JSON.
func campaignOf(acquisition string) string {
	var t struct {
		Name string `json:"name"`
	}
	if json.Unmarshal([]byte(acquisition), &t) != nil {
		return ""
	}
	return t.Name
}

// apply adds the delta to the rollup tables, then deletes rows it brought
// to zero.
func (d *delta) apply(ctx context.Context, tx *sqldb.Tx) error { return d.write(ctx, tx, true) }

// writeBatch is how many rollup rows write hands to one Bulk call.
const writeBatch = 10000

// write writes the delta to the rollup tables in primary key order
// (neighbouring rows share pages, which keeps a large rebuild's writes
// local). With add it adds the delta to the rows there and deletes rows it
// brought to zero; without, the tables are empty and it inserts. It empties
// d as it goes, so a rebuild's large maps are freed table by table.
func (d *delta) write(ctx context.Context, tx *sqldb.Tx, add bool) error {
	d.prune()
	// Group keys ranked in byte order, as the primary keys sort them on SQLite.
	order := make([]int32, len(d.keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(d.keys[a], d.keys[b]) })
	rank := make([]int32, len(d.keys))
	for r, i := range order {
		rank[i] = int32(r)
	}
	i, t := sqldb.Int, sqldb.Text
	conflict := func(s string) string {
		if add {
			return s
		}
		return ""
	}

	type dailyRow struct {
		k dailyKey
		v daily
	}
	dailies := make([]dailyRow, 0, len(d.daily))
	for k, v := range d.daily {
		dailies = append(dailies, dailyRow{k, *v})
	}
	d.daily = nil
	slices.SortFunc(dailies, func(a, b dailyRow) int {
		if a.k.dim != b.k.dim {
			return int(a.k.dim) - int(b.k.dim)
		}
		if a.k.day != b.k.day {
			return cmp.Compare(a.k.day, b.k.day)
		}
		return strings.Compare(a.k.key, b.k.key)
	})
	err := writeRows(ctx, tx, len(dailies), `INSERT INTO kpi_daily (dim, day, key, orders, base_orders, gross_minor, refund_minor, firsts, seconds, lost) VALUES VALUES_LIST`+conflict(`
			ON CONFLICT (dim, day, key) DO UPDATE SET orders = kpi_daily.orders + excluded.orders,
			base_orders = kpi_daily.base_orders + excluded.base_orders, gross_minor = kpi_daily.gross_minor + excluded.gross_minor,
			refund_minor = kpi_daily.refund_minor + excluded.refund_minor, firsts = kpi_daily.firsts + excluded.firsts,
			seconds = kpi_daily.seconds + excluded.seconds, lost = kpi_daily.lost + excluded.lost`),
		[]sqldb.Type{i, i, t, i, i, i, i, i, i, i}, func(j int) ([]any, bool) {
			k, v := dailies[j].k, dailies[j].v
			neg := v.orders < 0 || v.baseOrders < 0 || v.firsts < 0 || v.lost < 0 || v.refund < 0 || v.gross < 0 || v.seconds < 0
			return []any{int64(k.dim), int64(k.day), k.key, v.orders, v.baseOrders, v.gross, v.refund, v.firsts, v.seconds, v.lost}, add && neg
		}, `DELETE FROM kpi_daily WHERE (dim, day, key) IN (VALUES VALUES_LIST) AND orders = 0 AND base_orders = 0 AND gross_minor = 0
			AND refund_minor = 0 AND firsts = 0 AND seconds = 0 AND lost = 0`, []sqldb.Type{i, i, t})
	if err != nil {
		return err
	}
	dailies = nil

	type monthRow struct {
		k gapMonthKey
		n int64
	}
	months := make([]monthRow, 0, len(d.gapMonth))
	for k, n := range d.gapMonth {
		months = append(months, monthRow{k, n})
	}
	d.gapMonth = nil
	slices.SortFunc(months, func(a, b monthRow) int {
		x, y := a.k, b.k
		switch {
		case x.dim != y.dim:
			return int(x.dim) - int(y.dim)
		case x.day != y.day:
			return cmp.Compare(x.day, y.day)
		case x.key != y.key:
			return int(rank[x.key]) - int(rank[y.key])
		case x.prevMonth != y.prevMonth:
			return cmp.Compare(x.prevMonth, y.prevMonth)
		}
		return int(x.second) - int(y.second)
	})
	err = writeRows(ctx, tx, len(months), `INSERT INTO kpi_gaps_month (dim, day, key, prev_month, second, n) VALUES VALUES_LIST`+conflict(`
			ON CONFLICT (dim, day, key, prev_month, second) DO UPDATE SET n = kpi_gaps_month.n + excluded.n`),
		[]sqldb.Type{i, i, t, i, i, i}, func(j int) ([]any, bool) {
			k, n := months[j].k, months[j].n
			return []any{int64(k.dim), int64(k.day), d.keys[k.key], int64(k.prevMonth), int64(k.second), n}, add && n < 0
		}, `DELETE FROM kpi_gaps_month WHERE (dim, day, key, prev_month, second) IN (VALUES VALUES_LIST) AND n = 0`, []sqldb.Type{i, i, t, i, i})
	if err != nil {
		return err
	}
	months = nil

	type dayRow struct {
		k gapDayKey
		n int64
	}
	days := make([]dayRow, 0, len(d.gapDay))
	for k, n := range d.gapDay {
		days = append(days, dayRow{k, n})
	}
	d.gapDay = nil
	slices.SortFunc(days, func(a, b dayRow) int {
		x, y := a.k, b.k
		switch {
		case x.dim != y.dim:
			return int(x.dim) - int(y.dim)
		case x.prevDay != y.prevDay:
			return cmp.Compare(x.prevDay, y.prevDay)
		case x.day != y.day:
			return cmp.Compare(x.day, y.day)
		case x.key != y.key:
			return int(rank[x.key]) - int(rank[y.key])
		}
		return int(x.second) - int(y.second)
	})
	err = writeRows(ctx, tx, len(days), `INSERT INTO kpi_gaps_day (dim, prev_day, day, key, second, n) VALUES VALUES_LIST`+conflict(`
			ON CONFLICT (dim, prev_day, day, key, second) DO UPDATE SET n = kpi_gaps_day.n + excluded.n`),
		[]sqldb.Type{i, i, i, t, i, i}, func(j int) ([]any, bool) {
			k, n := days[j].k, days[j].n
			return []any{int64(k.dim), int64(k.prevDay), int64(k.day), d.keys[k.key], int64(k.second), n}, add && n < 0
		}, `DELETE FROM kpi_gaps_day WHERE (dim, prev_day, day, key, second) IN (VALUES VALUES_LIST) AND n = 0`, []sqldb.Type{i, i, i, t, i})
	if err != nil {
		return err
	}
	days = nil

	type cohortRow struct {
		k cohortKey
		v cohortVal
	}
	cohorts := make([]cohortRow, 0, len(d.cohorts))
	for k, v := range d.cohorts {
		cohorts = append(cohorts, cohortRow{k, *v})
	}
	d.cohorts = nil
	slices.SortFunc(cohorts, func(a, b cohortRow) int {
		if a.k.cohort != b.k.cohort {
			return cmp.Compare(a.k.cohort, b.k.cohort)
		}
		return cmp.Compare(a.k.k, b.k.k)
	})
	return writeRows(ctx, tx, len(cohorts), `INSERT INTO kpi_cohorts (cohort, k, customers, revenue_minor) VALUES VALUES_LIST`+conflict(`
			ON CONFLICT (cohort, k) DO UPDATE SET customers = kpi_cohorts.customers + excluded.customers,
			revenue_minor = kpi_cohorts.revenue_minor + excluded.revenue_minor`), []sqldb.Type{i, i, i, i}, func(j int) ([]any, bool) {
		k, v := cohorts[j].k, cohorts[j].v
		return []any{int64(k.cohort), int64(k.k), v.customers, v.revenue}, add && (v.customers < 0 || v.revenue < 0)
	}, `DELETE FROM kpi_cohorts WHERE (cohort, k) IN (VALUES VALUES_LIST) AND customers = 0 AND revenue_minor = 0`, []sqldb.Type{i, i})
}

// writeRows inserts n rows made by row, writeBatch at a time; then it runs
// del over the key columns (the first len(delTypes) values) of the rows row
// marked as possibly brought to zero.
func writeRows(ctx context.Context, tx *sqldb.Tx, n int, insert string, types []sqldb.Type, row func(int) ([]any, bool), del string, delTypes []sqldb.Type) error {
	var zero [][]any
	batch := make([][]any, 0, min(n, writeBatch))
	for j := 0; j < n; j += writeBatch {
		batch = batch[:0]
		for k := j; k < min(n, j+writeBatch); k++ {
			r, z := row(k)
			batch = append(batch, r)
			if z {
				zero = append(zero, r[:len(delTypes)])
			}
		}
		if err := tx.Bulk(ctx, insert, types, batch, nil); err != nil {
			return sqldb.Classify(err)
		}
	}
	return sqldb.Classify(tx.Bulk(ctx, del, delTypes, zero, nil))
}

// Prepare makes sure the rollups exist and were built with opts' churn
// window: on the first start after the migration, or after the window
// changed, it rebuilds them from the orders (in one transaction, holding
// the processing lock). It returns whether it rebuilt.
func Prepare(ctx context.Context, db *sqldb.DB, opts Options) (bool, error) {
	opts = opts.withDefaults()
	if w, ok, err := builtWindow(ctx, db); err != nil || ok && w == opts.ChurnWindow {
		return false, err
	}
	rebuilt := false
	err := db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.Lock(ctx, processingLock); err != nil {
			return err
		}
		var v string
		err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", windowSetting).Scan(&v)
		if err == nil && v == strconv.Itoa(opts.ChurnWindow) {
			return nil // another node did it
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return sqldb.Classify(err)
		}
		rebuilt = true
		return RebuildAll(ctx, tx, opts)
	})
	return rebuilt, err
}

func builtWindow(ctx context.Context, db *sqldb.DB) (int, bool, error) {
	var v string
	err := db.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", windowSetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, sqldb.Classify(err)
	}
	w, err := strconv.Atoi(v)
	return w, err == nil, err
}

// rebuildChunk is how many canonical profiles RebuildAll reads per query.
const rebuildChunk = 20000

// RebuildAll empties the rollups and computes them again for every
// customer with orders, with the same per-customer facts and contributions
// the extension uses; it records the churn window they were built with.
// It reads the refunds once, then the orders of canonical profiles in id
// order, a chunk of profiles per query; it sums the contributions in memory
// and inserts every table in primary key order with plain INSERTs. Memory
// grows with the rollups and the refunds, not with the orders: about 0.7 GB
// for 1,000,000 customers and 10,000,000 orders over three years.
func RebuildAll(ctx context.Context, tx *sqldb.Tx, opts Options) error {
	return rebuildAll(ctx, tx, opts, rebuildChunk)
}

// rebuildAll is RebuildAll reading chunk canonical profiles per query.
func rebuildAll(ctx context.Context, tx *sqldb.Tx, opts Options, chunk int) error {
	opts = opts.withDefaults()
	for _, table := range []string{"kpi_customers", "kpi_daily", "kpi_gaps_month", "kpi_gaps_day", "kpi_cohorts"} {
		if _, err := tx.Exec(ctx, "DELETE FROM "+table); err != nil {
			return sqldb.Classify(err)
		}
	}
	refunds, err := allRefunds(ctx, tx)
	if err != nil {
		return err
	}
	d := newDelta()
	b := newBuilder()
	after := ""
	for {
		// The last canonical id of this chunk; none: the chunk runs to the end.
		var upper string
		err := tx.QueryRow(ctx, `SELECT id FROM profiles WHERE id > ? AND canonical_id = id ORDER BY id LIMIT 1 OFFSET ?`,
			after, chunk-1).Scan(&upper)
		last := errors.Is(err, sql.ErrNoRows)
		if err != nil && !last {
			return sqldb.Classify(err)
		}
		if err := rebuildChunkOf(ctx, tx, opts, after, upper, last, refunds, b, d); err != nil {
			return err
		}
		if last {
			break
		}
		after = upper
	}
	if err := d.write(ctx, tx, false); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		windowSetting, strconv.Itoa(opts.ChurnWindow), time.Now().UnixMilli())
	return sqldb.Classify(err)
}

// storedRefund is a row of order_refunds; amount < 0: the whole order.
type storedRefund struct {
	at, seq, amount int64
	currency        string
}

// allRefunds reads every refund, by order.
func allRefunds(ctx context.Context, tx *sqldb.Tx) (map[string][]storedRefund, error) {
	out := map[string][]storedRefund{}
	rows, err := tx.Query(ctx, `SELECT order_id, refunded_at, event_seq, amount_minor, currency FROM order_refunds`)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	currencies := map[string]string{}
	var oid, currency sql.RawBytes
	for rows.Next() {
		var (
			r      storedRefund
			amount sql.NullInt64
		)
		if err := rows.Scan(&oid, &r.at, &r.seq, &amount, &currency); err != nil {
			return nil, sqldb.Classify(err)
		}
		r.amount = -1
		if amount.Valid {
			r.amount = max(amount.Int64, 0)
		}
		r.currency = intern(currencies, currency)
		out[string(oid)] = append(out[string(oid)], r)
	}
	return out, sqldb.Classify(rows.Err())
}

// intern returns b as a string, one copy per distinct value.
func intern(m map[string]string, b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	m[s] = s
	return s
}

// rebuildChunkOf adds to d the contributions of the canonical profiles with
// ids in (after, upper] (with last, all after after) and inserts their
// facts into kpi_customers.
func rebuildChunkOf(ctx context.Context, tx *sqldb.Tx, opts Options, after, upper string, last bool,
	refunds map[string][]storedRefund, b *builder, d *delta) error {
	q := `SELECT c.id, c.acquisition, o.order_id, o.placed_at, o.channel, o.store_id, o.currency, o.value_minor
		FROM profiles c JOIN profiles p ON p.canonical_id = c.id JOIN orders o ON o.profile_id = p.id
		WHERE c.canonical_id = c.id AND c.id > ? AND c.id <= ? AND o.completed = 1 AND o.cancelled_at IS NULL
		ORDER BY c.id`
	args := []any{after, upper}
	if last {
		q, args = strings.Replace(q, " AND c.id <= ?", "", 1), args[:1]
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return sqldb.Classify(err)
	}
	defer rows.Close()
	var (
		put                                       [][]any
		id, campaign                              string
		orders                                    []orderFacts
		rawID, acq, oid, channel, store, currency sql.RawBytes
		placed, value                             int64
	)
	strs := map[string]string{}
	done := func() {
		if len(orders) == 0 {
			return
		}
		f := b.facts(campaign, orders)
		d.add(&f, +1, opts.ChurnWindow)
		put = append(put, []any{id, f.encode()})
		orders = orders[:0]
	}
	for rows.Next() {
		if err := rows.Scan(&rawID, &acq, &oid, &placed, &channel, &store, &currency, &value); err != nil {
			return sqldb.Classify(err)
		}
		if len(orders) == 0 || string(rawID) != id {
			done()
			id, campaign = string(rawID), campaignOf(string(acq))
		}
		o := orderFacts{day: DayOfMillis(placed), channel: intern(strs, channel), store: intern(strs, store),
			base: string(currency) == opts.BaseCurrency, value: value}
		if rs := refunds[string(oid)]; o.base && len(rs) > 0 {
			for _, r := range rs {
				amount := r.amount
				if amount < 0 {
					amount = value
				}
				o.refunds = append(o.refunds, refund{at: r.at, seq: r.seq, amount: amount, sameCurrency: r.currency == string(currency)})
			}
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return sqldb.Classify(err)
	}
	done()
	rows.Close()
	return sqldb.Classify(tx.Bulk(ctx, `INSERT INTO kpi_customers (profile_id, facts) VALUES VALUES_LIST`,
		[]sqldb.Type{sqldb.Text, sqldb.Bytes}, put, nil))
}
