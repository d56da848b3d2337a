package funnel

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Breakdowns a report can be split by.
const (
	ByChannel = "channel"
	ByStore   = "store"
	ByMonth   = "month"
)

// NoKey is the group of rows without a store.
const NoKey = "none"

// CheckBy returns a fault.Invalid error unless by is "", channel, store or
// month.
func CheckBy(by string) error {
	switch by {
	case "", ByChannel, ByStore, ByMonth:
		return nil
	}
	return fault.New(fault.Invalid, "funnel figures can be split by channel, store or month, not %q", by)
}

// Period is a span of UTC calendar days, both ends included.
type Period struct {
	From, To time.Time // midnight UTC
}

// NewPeriod checks a period.
func NewPeriod(from, to time.Time) (Period, error) {
	from, to = day(from), day(to)
	if to.Before(from) {
		return Period{}, fault.New(fault.Invalid, "to (%s) is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	return Period{From: from, To: to}, nil
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (p Period) bounds() (int64, int64) { return p.From.UnixMilli(), p.To.AddDate(0, 0, 1).UnixMilli() }

func key(by, channel, store string, at int64) string {
	switch by {
	case ByChannel:
		return channel
	case ByStore:
		if store == "" {
			return NoKey
		}
		return store
	case ByMonth:
		return time.UnixMilli(at).UTC().Format("2006-01")
	}
	return ""
}

// pct returns 100·a/b to one decimal, nil when b is 0.
func pct(a, b int64) *float64 {
	if b == 0 {
		return nil
	}
	v := math.Round(1000*float64(a)/float64(b)) / 10
	return &v
}

// Conversion is how many checkouts and product-viewing sessions ended in an
// order.
type Conversion struct {
	Checkouts          int64    `json:"checkouts" doc:"Checkouts started"`
	CheckoutsConverted int64    `json:"checkouts_converted" doc:"… whose order was completed"`
	CheckoutRate       *float64 `json:"checkout_conversion_pct" doc:"Converted ÷ started, percent, one decimal"`
	Sessions           int64    `json:"sessions" doc:"Product-viewing sessions (product views of one customer less than 30 minutes apart)"`
	SessionsConverted  int64    `json:"sessions_converted" doc:"… followed by an order before 30 minutes after their last view"`
	SessionRate        *float64 `json:"session_conversion_pct" doc:"Converted ÷ sessions, percent, one decimal"`
}

func (c *Conversion) finish() {
	c.CheckoutRate = pct(c.CheckoutsConverted, c.Checkouts)
	c.SessionRate = pct(c.SessionsConverted, c.Sessions)
}

// ConversionSlice is the conversion of one channel, store or month.
type ConversionSlice struct {
	Key string `json:"key"`
	Conversion
}

// ConversionReport is the conversion of a period.
type ConversionReport struct {
	Conversion
	By     string            `json:"by,omitempty"`
	Groups []ConversionSlice `json:"groups,omitempty"`
}

// session gap and how long after a checkout its customer's order counts.
const (
	sessionGap   = 30 * time.Minute
	checkoutLink = 24 * time.Hour
)

// Conversions measures the conversion of the checkouts and sessions started
// in a period, split by a breakdown ("" for none).
func Conversions(ctx context.Context, c sqldb.Conn, p Period, by string) (ConversionReport, error) {
	r := ConversionReport{By: by}
	if err := CheckBy(by); err != nil {
		return r, err
	}
	start, end := p.bounds()
	groups := map[string]*Conversion{}
	group := func(k string) *Conversion {
		g := groups[k]
		if g == nil {
			g = &Conversion{}
			groups[k] = g
		}
		return g
	}
	rows, err := c.Query(ctx, `SELECT fc.channel, fc.store_id, fc.started_at,
		CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.order_id = fc.order_id AND o.completed = 1) THEN 1
		WHEN fc.order_id = '' AND EXISTS (SELECT 1 FROM profiles pc JOIN profiles po ON po.canonical_id = pc.canonical_id JOIN orders o ON o.profile_id = po.id
			WHERE pc.id = fc.profile_id AND o.completed = 1 AND o.placed_at >= fc.started_at AND o.placed_at <= fc.started_at + ?) THEN 1
		ELSE 0 END
		FROM funnel_checkouts fc WHERE fc.started_at >= ? AND fc.started_at < ?`, checkoutLink.Milliseconds(), start, end)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	for rows.Next() {
		var (
			channel, store string
			at, converted  int64
		)
		if err := rows.Scan(&channel, &store, &at, &converted); err != nil {
			rows.Close()
			return r, sqldb.Classify(err)
		}
		r.Checkouts++
		r.CheckoutsConverted += converted
		if by != "" {
			g := group(key(by, channel, store, at))
			g.Checkouts++
			g.CheckoutsConverted += converted
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, sqldb.Classify(err)
	}
	// Sessions: views from a day before the period, so that a session
	// running into the period is not taken to start in it.
	gap := sessionGap.Milliseconds()
	rows, err = c.Query(ctx, `WITH v AS (
			SELECT p.canonical_id AS cid, fv.channel, fv.viewed_at,
				CASE WHEN fv.viewed_at - LAG(fv.viewed_at) OVER (PARTITION BY p.canonical_id ORDER BY fv.viewed_at, fv.event_seq) < ? THEN 0 ELSE 1 END AS first,
				fv.event_seq
			FROM funnel_views fv JOIN profiles p ON p.id = fv.profile_id
			WHERE fv.viewed_at >= ? AND fv.viewed_at < ?
		), s AS (
			SELECT cid, channel, viewed_at, first,
				SUM(first) OVER (PARTITION BY cid ORDER BY viewed_at, event_seq ROWS UNBOUNDED PRECEDING) AS n
			FROM v
		), g AS (
			SELECT cid, MIN(viewed_at) AS start_at, MAX(viewed_at) AS end_at, MAX(CASE WHEN first = 1 THEN channel END) AS channel
			FROM s GROUP BY cid, n
		)
		SELECT g.channel, g.start_at, CASE WHEN EXISTS (SELECT 1 FROM profiles po JOIN orders o ON o.profile_id = po.id
			WHERE po.canonical_id = g.cid AND o.completed = 1 AND o.placed_at >= g.start_at AND o.placed_at <= g.end_at + ?) THEN 1 ELSE 0 END
		FROM g WHERE g.start_at >= ?`, gap, start-24*3600*1000, end, gap, start)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			channel       string
			at, converted int64
		)
		if err := rows.Scan(&channel, &at, &converted); err != nil {
			return r, sqldb.Classify(err)
		}
		r.Sessions++
		r.SessionsConverted += converted
		if by != "" {
			g := group(key(by, channel, "", at))
			g.Sessions++
			g.SessionsConverted += converted
		}
	}
	if err := rows.Err(); err != nil {
		return r, sqldb.Classify(err)
	}
	r.finish()
	for k, g := range groups {
		g.finish()
		r.Groups = append(r.Groups, ConversionSlice{Key: k, Conversion: *g})
	}
	sort.Slice(r.Groups, func(i, j int) bool { return r.Groups[i].Key < r.Groups[j].Key })
	return r, nil
}

func money(minor int64, currency string) order.Money { return order.NewMoney(minor, currency) }

// Attach is the upselling and cross-selling of a set of orders.
type Attach struct {
	Orders              int64       `json:"orders" doc:"Completed, uncancelled orders"`
	CrossSellOrders     int64       `json:"cross_sell_orders" doc:"… with a line added from a recommendation"`
	UpsellOrders        int64       `json:"upsell_orders" doc:"… with a line added as an upgrade"`
	AttachOrders        int64       `json:"attach_orders" doc:"… with either"`
	CrossSellOrderPct   *float64    `json:"cross_sell_order_pct"`
	UpsellOrderPct      *float64    `json:"upsell_order_pct"`
	AttachOrderPct      *float64    `json:"attach_order_pct"`
	Revenue             order.Money `json:"revenue" doc:"Σ price × quantity of every line, orders in the base currency"`
	CrossSellRevenue    order.Money `json:"cross_sell_revenue"`
	UpsellRevenue       order.Money `json:"upsell_revenue"`
	CrossSellRevenuePct *float64    `json:"cross_sell_revenue_pct"`
	UpsellRevenuePct    *float64    `json:"upsell_revenue_pct"`
	AttachRevenuePct    *float64    `json:"attach_revenue_pct" doc:"Revenue of lines either cross-sold or upsold ÷ revenue"`

	attach int64 // minor units of lines cross-sold or upsold (a line is one or the other)
}

func (a *Attach) finish(currency string) {
	a.CrossSellOrderPct, a.UpsellOrderPct, a.AttachOrderPct = pct(a.CrossSellOrders, a.Orders), pct(a.UpsellOrders, a.Orders), pct(a.AttachOrders, a.Orders)
	a.CrossSellRevenuePct, a.UpsellRevenuePct = pct(a.CrossSellRevenue.Minor, a.Revenue.Minor), pct(a.UpsellRevenue.Minor, a.Revenue.Minor)
	a.AttachRevenuePct = pct(a.attach, a.Revenue.Minor)
	a.Revenue, a.CrossSellRevenue, a.UpsellRevenue = money(a.Revenue.Minor, currency), money(a.CrossSellRevenue.Minor, currency), money(a.UpsellRevenue.Minor, currency)
}

// AttachSlice is the upselling and cross-selling of one channel, store or
// month.
type AttachSlice struct {
	Key string `json:"key"`
	Attach
}

// AttachReport is the upselling and cross-selling of a period.
type AttachReport struct {
	Attach
	By     string        `json:"by,omitempty"`
	Groups []AttachSlice `json:"groups,omitempty"`
}

// Attachment measures upselling and cross-selling on the orders placed in a
// period, split by a breakdown ("" for none); revenue counts orders in
// currency.
func Attachment(ctx context.Context, c sqldb.Conn, p Period, by, currency string) (AttachReport, error) {
	r := AttachReport{By: by}
	if err := CheckBy(by); err != nil {
		return r, err
	}
	start, end := p.bounds()
	rows, err := c.Query(ctx, `SELECT o.channel, o.store_id, o.placed_at, o.currency, f.lines_minor, f.cross_minor, f.upsell_minor, f.cross_lines, f.upsell_lines
		FROM orders o JOIN funnel_orders f ON f.order_id = o.order_id
		WHERE o.placed_at >= ? AND o.placed_at < ? AND o.completed = 1 AND o.cancelled_at IS NULL`, start, end)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	defer rows.Close()
	groups := map[string]*Attach{}
	for rows.Next() {
		var (
			channel, store, cur            string
			at, all, cross, upsell, nc, nu int64
		)
		if err := rows.Scan(&channel, &store, &at, &cur, &all, &cross, &upsell, &nc, &nu); err != nil {
			return r, sqldb.Classify(err)
		}
		add := func(a *Attach) {
			a.Orders++
			if nc > 0 {
				a.CrossSellOrders++
			}
			if nu > 0 {
				a.UpsellOrders++
			}
			if nc > 0 || nu > 0 {
				a.AttachOrders++
			}
			if cur == currency {
				a.Revenue.Minor += all
				a.CrossSellRevenue.Minor += cross
				a.UpsellRevenue.Minor += upsell
				a.attach += cross + upsell
			}
		}
		add(&r.Attach)
		if by != "" {
			k := key(by, channel, store, at)
			g := groups[k]
			if g == nil {
				g = &Attach{}
				groups[k] = g
			}
			add(g)
		}
	}
	if err := rows.Err(); err != nil {
		return r, sqldb.Classify(err)
	}
	r.finish(currency)
	for k, g := range groups {
		g.finish(currency)
		r.Groups = append(r.Groups, AttachSlice{Key: k, Attach: *g})
	}
	sort.Slice(r.Groups, func(i, j int) bool { return r.Groups[i].Key < r.Groups[j].Key })
	return r, nil
}
