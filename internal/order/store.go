package order

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Recorder applies order events inside a processing transaction.
type Recorder struct {
	ctx          context.Context
	tx           *sqldb.Tx
	baseCurrency string
	dirty        map[string]bool // canonical profiles whose stats must be recomputed
}

// NewRecorder returns a Recorder working in tx. Statistics sum money in
// baseCurrency.
func NewRecorder(ctx context.Context, tx *sqldb.Tx, baseCurrency string) *Recorder {
	return &Recorder{ctx: ctx, tx: tx, baseCurrency: baseCurrency, dirty: map[string]bool{}}
}

// Apply records an order event attributed to raw profile p whose canonical
// profile is root. When the event does not describe a usable order it returns
// a fault.Invalid error saying why (the caller records it; the event itself
// stays processed); other errors are storage failures.
func (r *Recorder) Apply(ev event.Stored, b event.Body, p, root string) error {
	invalid := func(err error) error { return fault.New(fault.Invalid, "%s not recorded: %v", ev.Name, err) }
	switch ev.Name {
	case Completed, Updated:
		o, err := FromEvent(b, ev.Channel, r.baseCurrency)
		if err != nil {
			return invalid(err)
		}
		return r.upsert(ev, o, p, root, ev.Name == Completed)
	case Cancelled:
		o, err := FromEvent(b, ev.Channel, r.baseCurrency)
		if err != nil {
			return invalid(err)
		}
		return r.cancel(ev, o, p, root)
	case Refunded:
		id, ok := b.Properties.String("order_id")
		if !ok || strings.TrimSpace(id) == "" {
			return invalid(errors.New("the event has no order_id"))
		}
		amount, err := RefundAmount(b, r.baseCurrency)
		if err != nil {
			return invalid(err)
		}
		reason, _ := b.Properties.String("reason")
		items := "[]"
		if v := b.Properties["products"]; v.Kind() == '[' {
			items = string(v)
		}
		var amt any
		if amount != nil {
			amt = *amount
		}
		if _, err := r.tx.Exec(r.ctx, `INSERT INTO order_refunds (event_seq, order_id, amount_minor, currency, reason, refunded_at, items)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_seq) DO NOTHING`,
			ev.Seq, id, amt, r.baseCurrency, reason, ev.Timestamp.UnixMilli(), items); err != nil {
			return err
		}
		return r.touchOwner(id, root)
	}
	return nil
}

// touchOwner marks for recomputation the customer who owns order id (or root
// when the order is not known yet).
func (r *Recorder) touchOwner(id, root string) error {
	var owner string
	err := r.tx.QueryRow(r.ctx, `SELECT p.canonical_id FROM orders o JOIN profiles p ON p.id = o.profile_id WHERE o.order_id = ?`, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		owner = root
	} else if err != nil {
		return sqldb.Classify(err)
	}
	r.dirty[owner] = true
	return nil
}

func nullable(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func (r *Recorder) upsert(ev event.Stored, o Order, p, root string, completed bool) error {
	var (
		existingCompleted int
		cancelled         sql.NullInt64
		owner             string
	)
	err := r.tx.QueryRow(r.ctx, `SELECT o.completed, o.cancelled_at, pr.canonical_id FROM orders o JOIN profiles pr ON pr.id = o.profile_id WHERE o.order_id = ?`, o.ID).
		Scan(&existingCompleted, &cancelled, &owner)
	isNew := errors.Is(err, sql.ErrNoRows)
	if err != nil && !isNew {
		return sqldb.Classify(err)
	}
	c := 0
	if completed || existingCompleted == 1 {
		c = 1
	}
	if isNew {
		if _, err := r.tx.Exec(r.ctx, `INSERT INTO orders (order_id, profile_id, source_id, channel, store_id, currency, value_minor,
			total_minor, revenue_minor, shipping_minor, tax_minor, discount_minor, coupon, campaign, placed_at, completed, event_seq, properties)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, p, ev.SourceID, o.Channel, o.StoreID, o.Currency, o.ValueMinor,
			nullable(o.TotalMinor), nullable(o.RevenueMinor), nullable(o.ShippingMinor), nullable(o.TaxMinor), nullable(o.DiscountMinor),
			o.Coupon, o.Campaign, ev.Timestamp.UnixMilli(), c, ev.Seq, o.Properties); err != nil {
			return err
		}
		owner = root
	} else {
		// Details are updated; the placing time is that of the completion.
		placed := "placed_at"
		if completed && existingCompleted == 0 {
			placed = "?"
		}
		args := []any{o.Channel, o.StoreID, o.Currency, o.ValueMinor,
			nullable(o.TotalMinor), nullable(o.RevenueMinor), nullable(o.ShippingMinor), nullable(o.TaxMinor), nullable(o.DiscountMinor),
			o.Coupon, o.Campaign, c, ev.Seq, o.Properties}
		if placed == "?" {
			args = append([]any{ev.Timestamp.UnixMilli()}, args...)
		}
		args = append(args, o.ID)
		if _, err := r.tx.Exec(r.ctx, `UPDATE orders SET placed_at = `+placed+`, channel = ?, store_id = ?, currency = ?, value_minor = ?,
			total_minor = ?, revenue_minor = ?, shipping_minor = ?, tax_minor = ?, discount_minor = ?, coupon = ?, campaign = ?,
			completed = ?, event_seq = ?, properties = ? WHERE order_id = ?`, args...); err != nil {
			return err
		}
		if _, err := r.tx.Exec(r.ctx, "DELETE FROM order_items WHERE order_id = ?", o.ID); err != nil {
			return err
		}
	}
	for _, it := range o.Items {
		if _, err := r.tx.Exec(r.ctx, `INSERT INTO order_items (order_id, line, product_id, sku, name, category, brand, variant, price_minor, quantity, coupon, properties)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, it.Line, it.ProductID, it.SKU, it.Name, it.Category, it.Brand, it.Variant, it.PriceMinor, it.Quantity, it.Coupon, it.Properties); err != nil {
			return err
		}
	}
	if isNew && c == 1 && !r.dirty[owner] {
		var refunds int
		if err := r.tx.QueryRow(r.ctx, "SELECT COUNT(*) FROM order_refunds WHERE order_id = ?", o.ID).Scan(&refunds); err != nil {
			return sqldb.Classify(err)
		}
		if refunds == 0 {
			return r.addOrder(owner, o, ev.Timestamp)
		}
	}
	r.dirty[owner] = true
	return nil
}

// addOrder counts a new completed order into a customer's statistics
// without rereading their orders: the common case.
func (r *Recorder) addOrder(root string, o Order, at time.Time) error {
	value := o.ValueMinor
	if o.Currency != r.baseCurrency {
		value = 0
	}
	ts := at.UnixMilli()
	_, err := r.tx.Exec(r.ctx, `INSERT INTO customer_stats (profile_id, orders, revenue_minor, refunded_minor, first_order_at, last_order_at)
		VALUES (?, 1, ?, 0, ?, ?)
		ON CONFLICT (profile_id) DO UPDATE SET
			orders = customer_stats.orders + 1,
			revenue_minor = customer_stats.revenue_minor + excluded.revenue_minor,
			first_order_at = CASE WHEN customer_stats.first_order_at IS NULL OR excluded.first_order_at < customer_stats.first_order_at
				THEN excluded.first_order_at ELSE customer_stats.first_order_at END,
			last_order_at = CASE WHEN customer_stats.last_order_at IS NULL OR excluded.last_order_at > customer_stats.last_order_at
				THEN excluded.last_order_at ELSE customer_stats.last_order_at END`,
		root, value, ts, ts)
	return err
}

func (r *Recorder) cancel(ev event.Stored, o Order, p, root string) error {
	res, err := r.tx.Exec(r.ctx, "UPDATE orders SET cancelled_at = ? WHERE order_id = ? AND cancelled_at IS NULL", ev.Timestamp.UnixMilli(), o.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Unknown order (or already cancelled): keep what the event says.
		if _, err := r.tx.Exec(r.ctx, `INSERT INTO orders (order_id, profile_id, source_id, channel, store_id, currency, value_minor,
			total_minor, revenue_minor, coupon, campaign, placed_at, completed, cancelled_at, event_seq, properties)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING`,
			o.ID, p, ev.SourceID, o.Channel, o.StoreID, o.Currency, o.ValueMinor, nullable(o.TotalMinor), nullable(o.RevenueMinor),
			o.Coupon, o.Campaign, ev.Timestamp.UnixMilli(), ev.Timestamp.UnixMilli(), ev.Seq, o.Properties); err != nil {
			return err
		}
	}
	return r.touchOwner(o.ID, root)
}

// Moved marks canonical profiles whose membership changed (a merge or an
// unmerge): their statistics are recomputed at Flush.
func (r *Recorder) Moved(roots ...string) {
	for _, root := range roots {
		r.dirty[root] = true
	}
}

// Retire removes the statistics of a profile merged into another.
func (r *Recorder) Retire(root string) error {
	delete(r.dirty, root)
	_, err := r.tx.Exec(r.ctx, "DELETE FROM customer_stats WHERE profile_id = ?", root)
	return err
}

// Flush recomputes the statistics of every customer marked dirty.
func (r *Recorder) Flush() error {
	for root := range r.dirty {
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
			WHERE p.canonical_id = ? AND o.completed = 1 AND o.cancelled_at IS NULL AND o.currency = ?
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
