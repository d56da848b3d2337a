package kpi

import (
	"context"
	"math"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Point is the sales of one day, or of the days of one month inside a
// period.
type Point struct {
	From    string  `json:"from"` // first day (YYYY-MM-DD)
	To      string  `json:"to"`   // last day, included
	Revenue float64 `json:"revenue" doc:"Net revenue, major units of the base currency, as the revenue KPI"`
	Orders  int64   `json:"orders" doc:"Orders, as the orders KPI"`
}

// Sales returns the revenue and orders of the days from..to (both
// included), day by day or, with byMonth, month by month (the first and
// last months cut to the period). Every day or month of the period is
// there, with zeros when nothing was sold. The points are the revenue and
// orders KPIs of their own days: they add up to the overview's figures of
// the whole period. It reads the daily rollup only.
func Sales(ctx context.Context, db *sqldb.DB, from, to Day, byMonth bool, currency string) ([]Point, error) {
	if to < from {
		return nil, fault.New(fault.Invalid, "to (%s) is before from (%s)", to, from)
	}
	if int(to-from)+1 > MaxDays {
		return nil, fault.New(fault.Invalid, "the period is longer than %d days", MaxDays)
	}
	if currency == "" {
		currency = "EUR"
	}
	type cell struct{ orders, net int64 }
	byDay := make([]cell, int(to-from)+1)
	rows, err := db.Query(ctx, `SELECT day, orders, gross_minor - refund_minor FROM kpi_daily
		WHERE dim = ? AND key = '' AND day BETWEEN ? AND ?`, int64(dimAll), int64(from), int64(to))
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, n, net int64
		if err := rows.Scan(&d, &n, &net); err != nil {
			return nil, sqldb.Classify(err)
		}
		c := &byDay[d-int64(from)]
		c.orders += n
		c.net += net
	}
	if err := rows.Err(); err != nil {
		return nil, sqldb.Classify(err)
	}
	scale := math.Pow10(order.Digits(currency))
	var out []Point
	add := func(p period) {
		var c cell
		for d := p.from; d <= p.to; d++ {
			x := byDay[d-from]
			c.orders += x.orders
			c.net += x.net
		}
		out = append(out, Point{From: p.from.String(), To: p.to.String(), Revenue: float64(c.net) / scale, Orders: c.orders})
	}
	if !byMonth {
		for d := from; d <= to; d++ {
			add(period{d, d})
		}
		return out, nil
	}
	for m := MonthOf(from); m <= MonthOf(to); m++ {
		add(period{max(from, m.First()), min(to, m.Last())})
	}
	return out, nil
}
