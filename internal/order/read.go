package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Money is an amount with its currency.
type Money struct {
	Minor    int64  `json:"amount_minor"`
	Currency string `json:"currency"`
	Amount   string `json:"amount"` // decimal, for display
}

// NewMoney returns minor units of currency as Money.
func NewMoney(minor int64, currency string) Money {
	return Money{Minor: minor, Currency: currency, Amount: FormatMinor(minor, currency)}
}

// Stats are a customer's purchase statistics.
type Stats struct {
	Orders               int64      `json:"orders"`
	Revenue              Money      `json:"revenue"`  // net of refunds
	Refunded             Money      `json:"refunded"` // refunds and returns
	FirstOrderAt         *time.Time `json:"first_order_at"`
	LastOrderAt          *time.Time `json:"last_order_at"`
	AvgDaysBetweenOrders *float64   `json:"avg_days_between_orders"`
}

// GetStats returns the statistics of canonical profile root.
func GetStats(ctx context.Context, c sqldb.Conn, root, baseCurrency string) (Stats, error) {
	var (
		n, rev, ref int64
		first, last sql.NullInt64
	)
	err := c.QueryRow(ctx, `SELECT orders, revenue_minor, refunded_minor, first_order_at, last_order_at FROM customer_stats WHERE profile_id = ?`, root).
		Scan(&n, &rev, &ref, &first, &last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Stats{}, sqldb.Classify(err)
	}
	s := Stats{Orders: n, Revenue: NewMoney(rev, baseCurrency), Refunded: NewMoney(ref, baseCurrency)}
	if first.Valid {
		f, l := time.UnixMilli(first.Int64).UTC(), time.UnixMilli(last.Int64).UTC()
		s.FirstOrderAt, s.LastOrderAt = &f, &l
		if n >= 2 {
			d := l.Sub(f).Hours() / 24 / float64(n-1)
			s.AvgDaysBetweenOrders = &d
		}
	}
	return s, nil
}

// Refund is one refund of an order.
type Refund struct {
	ID         string          `json:"refund_id,omitempty"`
	Amount     *Money          `json:"amount"` // nil: the whole order
	Reason     string          `json:"reason"`
	RefundedAt time.Time       `json:"refunded_at"`
	Items      json.RawMessage `json:"items"`
}

// Record is an order as the API shows it.
type Record struct {
	OrderID     string          `json:"order_id"`
	Profile     string          `json:"profile"` // the member profile it was placed by
	Channel     string          `json:"channel"`
	StoreID     string          `json:"store_id,omitempty"`
	Status      string          `json:"status"` // completed, cancelled, pending
	Value       Money           `json:"value"`
	Total       *Money          `json:"total,omitempty"`
	Revenue     *Money          `json:"revenue,omitempty"`
	Shipping    *Money          `json:"shipping,omitempty"`
	Tax         *Money          `json:"tax,omitempty"`
	Discount    *Money          `json:"discount,omitempty"`
	Coupon      string          `json:"coupon,omitempty"`
	Campaign    string          `json:"campaign,omitempty"`
	PlacedAt    time.Time       `json:"placed_at"`
	CancelledAt *time.Time      `json:"cancelled_at,omitempty"`
	Items       []Item          `json:"items"`
	Refunds     []Refund        `json:"refunds"`
	Properties  json.RawMessage `json:"properties"`
}

func money(v sql.NullInt64, currency string) *Money {
	if !v.Valid {
		return nil
	}
	m := NewMoney(v.Int64, currency)
	return &m
}

// List returns the orders of canonical profile root, newest first, placed
// before the cursor time (zero: from the newest).
func List(ctx context.Context, c sqldb.Conn, root string, before int64, limit int) ([]Record, error) {
	if before == 0 {
		before = 1 << 62
	}
	rows, err := c.Query(ctx, `SELECT o.order_id, o.profile_id, o.channel, o.store_id, o.currency, o.value_minor, o.total_minor, o.revenue_minor,
		o.shipping_minor, o.tax_minor, o.discount_minor, o.coupon, o.campaign, o.placed_at, o.completed, o.cancelled_at, o.properties
		FROM orders o JOIN profiles p ON p.id = o.profile_id
		WHERE p.canonical_id = ? AND o.placed_at < ? ORDER BY o.placed_at DESC, o.order_id DESC LIMIT ?`, root, before, limit)
	if err != nil {
		return nil, err
	}
	var out []Record
	for rows.Next() {
		var (
			r                                   Record
			currency, props                     string
			value, placed                       int64
			completed                           int
			total, revenue, ship, tax, discount sql.NullInt64
			cancelled                           sql.NullInt64
		)
		if err := rows.Scan(&r.OrderID, &r.Profile, &r.Channel, &r.StoreID, &currency, &value, &total, &revenue, &ship, &tax, &discount,
			&r.Coupon, &r.Campaign, &placed, &completed, &cancelled, &props); err != nil {
			rows.Close()
			return nil, sqldb.Classify(err)
		}
		r.Value = NewMoney(value, currency)
		r.Total, r.Revenue, r.Shipping, r.Tax, r.Discount = money(total, currency), money(revenue, currency), money(ship, currency), money(tax, currency), money(discount, currency)
		r.PlacedAt = time.UnixMilli(placed).UTC()
		r.Properties = json.RawMessage(props)
		switch {
		case cancelled.Valid:
			t := time.UnixMilli(cancelled.Int64).UTC()
			r.CancelledAt, r.Status = &t, "cancelled"
		case completed == 1:
			r.Status = "completed"
		default:
			r.Status = "pending"
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, sqldb.Classify(err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	// Items and refunds of the whole page in two queries, not two per order.
	byID := make(map[string]*Record, len(out))
	ids := make([]any, len(out))
	for i := range out {
		out[i].Items, out[i].Refunds = []Item{}, []Refund{}
		byID[out[i].OrderID] = &out[i]
		ids[i] = out[i].OrderID
	}
	if err := items(ctx, c, ids, byID); err != nil {
		return nil, err
	}
	if err := refunds(ctx, c, ids, byID); err != nil {
		return nil, err
	}
	return out, nil
}

func items(ctx context.Context, c sqldb.Conn, ids []any, byID map[string]*Record) error {
	rows, err := c.Query(ctx, `SELECT order_id, line, product_id, sku, name, category, brand, variant, price_minor, quantity, coupon, properties
		FROM order_items WHERE order_id IN (`+sqldb.Placeholders(len(ids))+`) ORDER BY order_id, line`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			it Item
			id string
		)
		if err := rows.Scan(&id, &it.Line, &it.ProductID, &it.SKU, &it.Name, &it.Category, &it.Brand, &it.Variant, &it.PriceMinor, &it.Quantity, &it.Coupon, &it.Properties); err != nil {
			return sqldb.Classify(err)
		}
		byID[id].Items = append(byID[id].Items, it)
	}
	return sqldb.Classify(rows.Err())
}

func refunds(ctx context.Context, c sqldb.Conn, ids []any, byID map[string]*Record) error {
	rows, err := c.Query(ctx, `SELECT order_id, refund_id, amount_minor, currency, reason, refunded_at, items FROM order_refunds
		WHERE order_id IN (`+sqldb.Placeholders(len(ids))+`) ORDER BY order_id, refunded_at, event_seq`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r      Refund
			id     string
			amount sql.NullInt64
			cur    string
			at     int64
			items  string
		)
		if err := rows.Scan(&id, &r.ID, &amount, &cur, &r.Reason, &at, &items); err != nil {
			return sqldb.Classify(err)
		}
		r.Amount = money(amount, cur)
		r.RefundedAt = time.UnixMilli(at).UTC()
		r.Items = json.RawMessage(items)
		byID[id].Refunds = append(byID[id].Refunds, r)
	}
	return sqldb.Classify(rows.Err())
}
