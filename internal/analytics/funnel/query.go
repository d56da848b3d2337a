package funnel

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
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

// sessionGap cuts sessions and is how long after a session's last view its
// customer's order counts; checkoutLink is how long after a checkout
// without an order id its customer's order counts.
const (
	sessionGap   = 30 * time.Minute
	checkoutLink = 24 * time.Hour
)

// Conversions measures the conversion of the checkouts and sessions started
// in a period, split by a breakdown ("" for none), from the daily counts.
func Conversions(ctx context.Context, c sqldb.Conn, p days.Period, by string) (ConversionReport, error) {
	r := ConversionReport{By: by}
	if err := CheckBy(by); err != nil {
		return r, err
	}
	start, end := p.Bounds()
	rows, err := c.Query(ctx, `SELECT day, channel, store_id, SUM(checkouts), SUM(checkouts_converted), SUM(sessions), SUM(sessions_converted)
		FROM funnel_daily WHERE day >= ? AND day < ? AND currency = '' GROUP BY day, channel, store_id`, start, end)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	defer rows.Close()
	groups := map[string]*Conversion{}
	for rows.Next() {
		var (
			channel, store string
			at             int64
			n              Conversion
		)
		if err := rows.Scan(&at, &channel, &store, &n.Checkouts, &n.CheckoutsConverted, &n.Sessions, &n.SessionsConverted); err != nil {
			return r, sqldb.Classify(err)
		}
		if n.Checkouts == 0 && n.Sessions == 0 {
			continue
		}
		add := func(g *Conversion) {
			g.Checkouts += n.Checkouts
			g.CheckoutsConverted += n.CheckoutsConverted
			g.Sessions += n.Sessions
			g.SessionsConverted += n.SessionsConverted
		}
		add(&r.Conversion)
		if by != "" {
			k := key(by, channel, store, at)
			g := groups[k]
			if g == nil {
				g = &Conversion{}
				groups[k] = g
			}
			add(g)
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
func Attachment(ctx context.Context, c sqldb.Conn, p days.Period, by, currency string) (AttachReport, error) {
	r := AttachReport{By: by}
	if err := CheckBy(by); err != nil {
		return r, err
	}
	start, end := p.Bounds()
	rows, err := c.Query(ctx, `SELECT day, channel, store_id, currency, SUM(orders), SUM(cross_orders), SUM(upsell_orders), SUM(attach_orders),
		SUM(lines_minor), SUM(cross_minor), SUM(upsell_minor)
		FROM funnel_daily WHERE day >= ? AND day < ? AND currency <> '' GROUP BY day, channel, store_id, currency`, start, end)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	defer rows.Close()
	groups := map[string]*Attach{}
	for rows.Next() {
		var (
			channel, store, cur                   string
			at, n, nc, nu, na, all, cross, upsell int64
		)
		if err := rows.Scan(&at, &channel, &store, &cur, &n, &nc, &nu, &na, &all, &cross, &upsell); err != nil {
			return r, sqldb.Classify(err)
		}
		if n == 0 {
			continue
		}
		add := func(a *Attach) {
			a.Orders += n
			a.CrossSellOrders += nc
			a.UpsellOrders += nu
			a.AttachOrders += na
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
