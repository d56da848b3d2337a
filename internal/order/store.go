package order

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Recorder applies the order events of a processing batch inside its
// transaction. Events are checked and queued as they are processed (Add)
// and written together at the end of the batch (Flush), with bulk reads and
// writes for the common case of new orders.
type Recorder struct {
	ctx          context.Context
	tx           *sqldb.Tx
	baseCurrency string
	dirty        map[string]bool // canonical profiles whose stats must be recomputed
	queue        []queued
	merged       [][2]string     // (survivor, merged) canonical profiles merged in this batch
	changed      map[string]bool // canonical profiles whose orders changed, as of the last Flush
}

// Changed returns the canonical profiles whose orders (or membership, through
// a merge) changed in the batch, once Flush has run.
func (r *Recorder) Changed() []string {
	out := make([]string, 0, len(r.changed))
	for root := range r.changed {
		out = append(out, root)
	}
	return out
}

type queued struct {
	ev      event.Stored
	order   Order // for completions, updates and cancellations
	refund  refund
	profile string // raw profile the event was attributed to
}

type refund struct {
	orderID  string
	id       string // the shop's refund id: a later event with the same id replaces it
	amount   *int64 // nil: the whole order
	currency string
	reason   string
	items    string
}

// NewRecorder returns a Recorder working in tx. Statistics sum money in
// baseCurrency.
func NewRecorder(ctx context.Context, tx *sqldb.Tx, baseCurrency string) *Recorder {
	return &Recorder{ctx: ctx, tx: tx, baseCurrency: baseCurrency, dirty: map[string]bool{}, changed: map[string]bool{}}
}

// Add checks an order event attributed to raw profile p and queues it. When
// the event does not describe a usable order it returns a fault.Invalid error
// saying why (the caller records it; the event itself stays processed).
func (r *Recorder) Add(ev event.Stored, b event.Body, p string) error {
	invalid := func(err error) error { return fault.New(fault.Invalid, "%s not recorded: %v", ev.Name, err) }
	q := queued{ev: ev, profile: p}
	switch ev.Name {
	case Completed, Updated, Cancelled:
		o, err := FromEvent(b, ev.Channel, r.baseCurrency)
		if err != nil {
			return invalid(err)
		}
		q.order = o
	case Refunded:
		id, ok := b.Properties.String("order_id")
		if id = strings.TrimSpace(id); !ok || id == "" {
			return invalid(errors.New("the event has no order_id"))
		}
		amount, currency, err := RefundAmount(b, r.baseCurrency)
		if err != nil {
			return invalid(err)
		}
		q.refund = refund{orderID: id, amount: amount, currency: currency, items: "[]"}
		q.refund.reason, _ = b.Properties.String("reason")
		q.refund.id, _ = b.Properties.String("refund_id")
		if len(q.refund.id) > 255 {
			return invalid(errors.New("refund_id is longer than 255 bytes"))
		}
		if v := b.Properties["products"]; v.Kind() == '[' {
			q.refund.items = string(v)
		}
	default:
		return nil
	}
	r.queue = append(r.queue, q)
	return nil
}

func nullable(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// orderState is what Flush knows of an order already in the database or
// queued for insertion.
type orderState struct {
	completed bool
	owner     string // canonical profile
}

var (
	orderTypes = []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int,
		sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Text}
	itemTypes   = []sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Text, sqldb.Text}
	refundTypes = []sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Text}
)

// statAdd is a new completed order to count into a customer's statistics.
type statAdd struct {
	orders, revenue, first, last int64
}

// Flush applies the queued events in order. rootOf returns the current
// canonical profile of a raw profile (merges may have happened since Add).
func (r *Recorder) Flush(rootOf func(string) (string, error)) error {
	if err := r.flushMerges(rootOf); err != nil {
		return err
	}
	if len(r.queue) == 0 {
		return r.recompute()
	}
	known, refunded, err := r.prefetch()
	if err != nil {
		return err
	}
	var orders, items, refunds [][]any
	writeNew := func() error {
		if err := r.tx.Bulk(r.ctx, `INSERT INTO orders (order_id, profile_id, source_id, channel, store_id, currency, value_minor,
			total_minor, revenue_minor, shipping_minor, tax_minor, discount_minor, coupon, campaign, placed_at, completed, cancelled_at, event_seq, properties)
			VALUES VALUES_LIST`, orderTypes, orders, nil); err != nil {
			return err
		}
		if err := r.tx.Bulk(r.ctx, `INSERT INTO order_items (order_id, line, product_id, sku, name, category, brand, variant, price_minor, quantity, coupon, properties)
			VALUES VALUES_LIST`, itemTypes, items, nil); err != nil {
			return err
		}
		orders, items = orders[:0], items[:0]
		return nil
	}
	adds := map[string]*statAdd{}
	refundAt := map[[2]string]int{} // (order, refund id) → 1 + position in refunds
	for _, q := range r.queue {
		root, err := rootOf(q.profile)
		if err != nil {
			return err
		}
		ts := q.ev.Timestamp.UnixMilli()
		switch q.ev.Name {
		case Completed, Updated:
			o, completed := q.order, q.ev.Name == Completed
			k, exists := known[o.ID]
			if !exists {
				orders = append(orders, orderRow(q, root, completed, nil))
				for _, it := range o.Items {
					items = append(items, []any{o.ID, it.Line, it.ProductID, it.SKU, it.Name, it.Category, it.Brand, it.Variant, it.PriceMinor, it.Quantity, it.Coupon, it.Properties})
				}
				known[o.ID] = &orderState{completed: completed, owner: root}
				if completed && !refunded[o.ID] {
					a := adds[root]
					if a == nil {
						a = &statAdd{first: ts, last: ts}
						adds[root] = a
					}
					a.orders++
					if o.Currency == r.baseCurrency {
						a.revenue += o.ValueMinor
					}
					a.first, a.last = min(a.first, ts), max(a.last, ts)
				} else if completed {
					r.dirty[root] = true
				}
				continue
			}
			if err := writeNew(); err != nil {
				return err
			}
			if err := r.update(q); err != nil {
				return err
			}
			k.completed = k.completed || completed
			r.dirty[k.owner] = true
		case Cancelled:
			o := q.order
			if k, exists := known[o.ID]; exists {
				if err := writeNew(); err != nil {
					return err
				}
				if _, err := r.tx.Exec(r.ctx, "UPDATE orders SET cancelled_at = ? WHERE order_id = ? AND cancelled_at IS NULL", ts, o.ID); err != nil {
					return err
				}
				r.dirty[k.owner] = true
				continue
			}
			// A cancellation of an order not seen yet: keep what it says.
			orders = append(orders, orderRow(q, root, false, &ts))
			known[o.ID] = &orderState{owner: root}
		case Refunded:
			var amount any
			if q.refund.amount != nil {
				amount = *q.refund.amount
			}
			row := []any{q.ev.Seq, q.refund.orderID, q.refund.id, amount, q.refund.currency, q.refund.reason, ts, q.refund.items}
			if k := [2]string{q.refund.orderID, q.refund.id}; q.refund.id != "" && refundAt[k] > 0 {
				refunds[refundAt[k]-1] = row // the later event with the same refund id wins
			} else {
				refunds = append(refunds, row)
				refundAt[k] = len(refunds)
			}
			refunded[q.refund.orderID] = true
			if k, ok := known[q.refund.orderID]; ok {
				r.dirty[k.owner] = true
			} else {
				r.dirty[root] = true
			}
		}
	}
	r.queue = r.queue[:0]
	if err := writeNew(); err != nil {
		return err
	}
	if err := r.tx.Bulk(r.ctx, `INSERT INTO order_refunds (event_seq, order_id, refund_id, amount_minor, currency, reason, refunded_at, items)
		VALUES VALUES_LIST ON CONFLICT (order_id, refund_id) WHERE refund_id <> '' DO UPDATE SET event_seq = excluded.event_seq,
			amount_minor = excluded.amount_minor, currency = excluded.currency, reason = excluded.reason,
			refunded_at = excluded.refunded_at, items = excluded.items`, refundTypes, refunds, nil); err != nil {
		return err
	}
	var rows [][]any
	for root, a := range adds {
		r.changed[root] = true
		if !r.dirty[root] { // a recomputation counts these orders anyway
			rows = append(rows, []any{root, a.orders, a.revenue, a.first, a.last})
		}
	}
	// (WHERE true tells SQLite that ON CONFLICT is the upsert, not a join.)
	if err := r.tx.Bulk(r.ctx, `WITH v(id, n, revenue, f, l) AS (VALUES VALUES_LIST)
		INSERT INTO customer_stats (profile_id, orders, revenue_minor, refunded_minor, first_order_at, last_order_at)
		SELECT v.id, v.n, v.revenue, 0, v.f, v.l FROM v WHERE true
		ON CONFLICT (profile_id) DO UPDATE SET
			orders = customer_stats.orders + excluded.orders,
			revenue_minor = customer_stats.revenue_minor + excluded.revenue_minor,
			first_order_at = CASE WHEN customer_stats.first_order_at IS NULL OR excluded.first_order_at < customer_stats.first_order_at
				THEN excluded.first_order_at ELSE customer_stats.first_order_at END,
			last_order_at = CASE WHEN customer_stats.last_order_at IS NULL OR excluded.last_order_at > customer_stats.last_order_at
				THEN excluded.last_order_at ELSE customer_stats.last_order_at END`,
		[]sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int}, rows, nil); err != nil {
		return err
	}
	return r.recompute()
}

func orderRow(q queued, root string, completed bool, cancelledAt *int64) []any {
	o := q.order
	c := 0
	if completed {
		c = 1
	}
	var cancelled any
	if cancelledAt != nil {
		cancelled = *cancelledAt
	}
	return []any{o.ID, q.profile, q.ev.SourceID, o.Channel, o.StoreID, o.Currency, o.ValueMinor,
		nullable(o.TotalMinor), nullable(o.RevenueMinor), nullable(o.ShippingMinor), nullable(o.TaxMinor), nullable(o.DiscountMinor),
		o.Coupon, o.Campaign, q.ev.Timestamp.UnixMilli(), c, cancelled, q.ev.Seq, o.Properties}
}

// prefetch reads which of the queued orders exist already, who owns them,
// and which have refunds.
func (r *Recorder) prefetch() (map[string]*orderState, map[string]bool, error) {
	seen := map[string]bool{}
	var ids [][]any
	for _, q := range r.queue {
		id := q.order.ID
		if q.ev.Name == Refunded {
			id = q.refund.orderID
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, []any{id})
		}
	}
	known := map[string]*orderState{}
	err := r.tx.Bulk(r.ctx, `WITH v(id) AS (VALUES VALUES_LIST)
		SELECT o.order_id, o.completed, p.canonical_id FROM v JOIN orders o ON o.order_id = v.id JOIN profiles p ON p.id = o.profile_id`,
		[]sqldb.Type{sqldb.Text}, ids, func(rows *sql.Rows) error {
			var (
				id        string
				completed int
				k         orderState
			)
			if err := rows.Scan(&id, &completed, &k.owner); err != nil {
				return err
			}
			k.completed = completed == 1
			known[id] = &k
			return nil
		})
	if err != nil {
		return nil, nil, err
	}
	refunded := map[string]bool{}
	err = r.tx.Bulk(r.ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT DISTINCT r.order_id FROM v JOIN order_refunds r ON r.order_id = v.id`,
		[]sqldb.Type{sqldb.Text}, ids, func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			refunded[id] = true
			return err
		})
	return known, refunded, err
}

// update rewrites an order that exists already with a newer event's details.
func (r *Recorder) update(q queued) error {
	o := q.order
	placed := "placed_at"
	args := []any{}
	if q.ev.Name == Completed { // an order is placed when completed; a corrected completion moves it
		placed = "?"
		args = append(args, q.ev.Timestamp.UnixMilli())
	}
	c := 0
	if q.ev.Name == Completed {
		c = 1
	}
	args = append(args, o.Channel, o.StoreID, o.Currency, o.ValueMinor,
		nullable(o.TotalMinor), nullable(o.RevenueMinor), nullable(o.ShippingMinor), nullable(o.TaxMinor), nullable(o.DiscountMinor),
		o.Coupon, o.Campaign, c, q.ev.Seq, o.Properties, o.ID)
	if _, err := r.tx.Exec(r.ctx, `UPDATE orders SET placed_at = `+placed+`, channel = ?, store_id = ?, currency = ?, value_minor = ?,
		total_minor = ?, revenue_minor = ?, shipping_minor = ?, tax_minor = ?, discount_minor = ?, coupon = ?, campaign = ?,
		completed = CASE WHEN completed = 1 THEN 1 ELSE ? END, event_seq = ?, properties = ? WHERE order_id = ?`, args...); err != nil {
		return err
	}
	if _, err := r.tx.Exec(r.ctx, "DELETE FROM order_items WHERE order_id = ?", o.ID); err != nil {
		return err
	}
	var items [][]any
	for _, it := range o.Items {
		items = append(items, []any{o.ID, it.Line, it.ProductID, it.SKU, it.Name, it.Category, it.Brand, it.Variant, it.PriceMinor, it.Quantity, it.Coupon, it.Properties})
	}
	return r.tx.Bulk(r.ctx, `INSERT INTO order_items (order_id, line, product_id, sku, name, category, brand, variant, price_minor, quantity, coupon, properties)
		VALUES VALUES_LIST`, itemTypes, items, nil)
}

// Merged notes that canonical profile merged was folded into survivor: at
// Flush its statistics are added to the survivor's (statistics of disjoint
// sets of orders add up: counts and sums add, first and last are the min and
// max) and dropped.
func (r *Recorder) Merged(survivor, merged string) {
	r.merged = append(r.merged, [2]string{survivor, merged})
}

func (r *Recorder) flushMerges(rootOf func(string) (string, error)) error {
	if len(r.merged) == 0 {
		return nil
	}
	var moves, ids [][]any
	for _, m := range r.merged {
		target, err := rootOf(m[0])
		if err != nil {
			return err
		}
		moves = append(moves, []any{m[1], target})
		ids = append(ids, []any{m[1]})
		r.changed[target] = true
		if r.dirty[m[1]] {
			delete(r.dirty, m[1])
			r.dirty[target] = true
		}
	}
	r.merged = r.merged[:0]
	if err := r.tx.Bulk(r.ctx, `WITH v(id, target) AS (VALUES VALUES_LIST)
		INSERT INTO customer_stats (profile_id, orders, revenue_minor, refunded_minor, first_order_at, last_order_at)
		SELECT v.target, SUM(s.orders), SUM(s.revenue_minor), SUM(s.refunded_minor), MIN(s.first_order_at), MAX(s.last_order_at)
		FROM v JOIN customer_stats s ON s.profile_id = v.id WHERE true GROUP BY v.target
		ON CONFLICT (profile_id) DO UPDATE SET
			orders = customer_stats.orders + excluded.orders,
			revenue_minor = customer_stats.revenue_minor + excluded.revenue_minor,
			refunded_minor = customer_stats.refunded_minor + excluded.refunded_minor,
			first_order_at = CASE WHEN customer_stats.first_order_at IS NULL OR excluded.first_order_at < customer_stats.first_order_at
				THEN excluded.first_order_at ELSE customer_stats.first_order_at END,
			last_order_at = CASE WHEN customer_stats.last_order_at IS NULL OR excluded.last_order_at > customer_stats.last_order_at
				THEN excluded.last_order_at ELSE customer_stats.last_order_at END`,
		[]sqldb.Type{sqldb.Text, sqldb.Text}, moves, nil); err != nil {
		return err
	}
	return r.tx.Bulk(r.ctx, "DELETE FROM customer_stats WHERE profile_id IN (VALUES VALUES_LIST)", []sqldb.Type{sqldb.Text}, ids, nil)
}

// recompute rewrites the statistics of every customer marked dirty.
func (r *Recorder) recompute() error {
	for root := range r.dirty {
		r.changed[root] = true
		if err := Recompute(r.ctx, r.tx, root, r.baseCurrency); err != nil {
			return err
		}
	}
	clear(r.dirty)
	return nil
}

// Recompute rewrites a customer's statistics from their orders.
func Recompute(ctx context.Context, tx *sqldb.Tx, root, baseCurrency string) error {
	var (
		n           int64
		gross       int64
		first, last sql.NullInt64
		refunded    int64
	)
	if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN o.currency = ? THEN o.value_minor ELSE 0 END), 0),
		MIN(o.placed_at), MAX(o.placed_at)
		FROM orders o JOIN profiles p ON p.id = o.profile_id
		WHERE p.canonical_id = ? AND o.completed = 1 AND o.cancelled_at IS NULL`, baseCurrency, root).Scan(&n, &gross, &first, &last); err != nil {
		return sqldb.Classify(err)
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN x.refunded > x.value_minor THEN x.value_minor ELSE x.refunded END), 0) FROM (
			SELECT o.value_minor, SUM(COALESCE(r.amount_minor, o.value_minor)) AS refunded
			FROM order_refunds r JOIN orders o ON o.order_id = r.order_id JOIN profiles p ON p.id = o.profile_id
			WHERE p.canonical_id = ? AND o.completed = 1 AND o.cancelled_at IS NULL AND o.currency = ? AND r.currency = o.currency
			GROUP BY o.order_id, o.value_minor) x`, root, baseCurrency).Scan(&refunded); err != nil {
		return sqldb.Classify(err)
	}
	if n == 0 {
		_, err := tx.Exec(ctx, "DELETE FROM customer_stats WHERE profile_id = ?", root)
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO customer_stats (profile_id, orders, revenue_minor, refunded_minor, first_order_at, last_order_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (profile_id) DO UPDATE SET orders = excluded.orders, revenue_minor = excluded.revenue_minor,
			refunded_minor = excluded.refunded_minor, first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at`,
		root, n, gross-refunded, refunded, first, last)
	return err
}
