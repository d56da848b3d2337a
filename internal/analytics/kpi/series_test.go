package kpi_test

import (
	"reflect"
	"testing"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// The sales series holds every day or month of the period, and each point
// is the revenue and orders KPIs of its own days.
func TestSales(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, kpi.Options{BaseCurrency: "EUR", ChurnWindow: 30})
		h.send("web",
			track("a", "Order Completed", "2025-01-05", `{"order_id":"A1","total":"100.00"}`),
			track("b", "Order Completed", "2025-01-20", `{"order_id":"B1","total":80}`),
			track("c", "Order Completed", "2025-02-05", `{"order_id":"C1","total":"70","currency":"USD"}`),
			track("a", "Order Completed", "2025-02-05", `{"order_id":"A2","total":"12.34"}`))
		h.send("web", track("b", "Order Refunded", "2025-02-03", `{"order_id":"B1","total":"30"}`))
		h.send("app", track("b", "Order Completed", "2025-02-20", `{"order_id":"B2","total":"40"}`))
		h.send("app", track("b", "Order Cancelled", "2025-02-21", `{"order_id":"B2"}`))

		days, err := kpi.Sales(h.ctx, db, day(t, "2025-01-30"), day(t, "2025-02-06"), false, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 8 || days[0].From != "2025-01-30" || days[7].To != "2025-02-06" {
			t.Fatalf("days %+v", days)
		}
		// Feb 3: the refund; Feb 5: A2 and C1 (in dollars: an order, no
		// revenue). B2 is cancelled: no order in any period.
		if d := days[4]; d.From != "2025-02-03" || d.Revenue != -30 || d.Orders != 0 {
			t.Errorf("Feb 3: %+v", d)
		}
		if d := days[6]; d.From != "2025-02-05" || d.Revenue != 12.34 || d.Orders != 2 {
			t.Errorf("Feb 5: %+v", d)
		}

		months, err := kpi.Sales(h.ctx, db, day(t, "2025-01-10"), day(t, "2025-03-05"), true, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(months) != 3 || months[0].From != "2025-01-10" || months[0].To != "2025-01-31" || months[2].From != "2025-03-01" || months[2].To != "2025-03-05" {
			t.Fatalf("months %+v", months)
		}
		for _, p := range months {
			o := overview(t, h, p.From, p.To, "")
			check(t, p.From, o.Sales, map[string]want{"revenue": {p.Revenue, nan(o.Sales[0].Previous)}, "orders": {float64(p.Orders), nan(o.Sales[3].Previous)}})
		}
		if months[0].Revenue != 80 || months[1].Revenue != -17.66 || months[1].Orders != 2 {
			t.Errorf("months %+v", months)
		}

		if _, err := kpi.Sales(h.ctx, db, day(t, "2025-02-01"), day(t, "2025-01-01"), false, "EUR"); err == nil {
			t.Error("a period ending before it starts was accepted")
		}

		// Sales by channel and store are the Sales of the breakdown's rows.
		for _, by := range []string{kpi.ByChannel, kpi.ByStore} {
			o := overview(t, h, "2025-02-01", "2025-02-28", by)
			rows, err := kpi.SalesBy(h.ctx, db, kpi.Query{From: day(t, "2025-02-01"), To: day(t, "2025-02-28"), By: by, BaseCurrency: "EUR", Now: asOf})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Fatalf("by %s: no rows", by)
			}
			for _, r := range rows {
				found := false
				for _, b := range o.Breakdown {
					if b.Key == r.Key {
						found = true
						if !reflect.DeepEqual(r.Sales, b.Sales) {
							t.Errorf("by %s, %q: sales %+v, breakdown %+v", by, r.Key, r.Sales, b.Sales)
						}
					}
				}
				if !found {
					t.Errorf("by %s: %q is not in the breakdown", by, r.Key)
				}
			}
		}
		if _, err := kpi.SalesBy(h.ctx, db, kpi.Query{From: day(t, "2025-02-01"), To: day(t, "2025-02-28"), By: kpi.ByMonth}); err == nil {
			t.Error("sales by month were accepted")
		}
	})
}

// nan returns *p, or null when p is nil (for check).
func nan(p *float64) float64 {
	if p == nil {
		return null
	}
	return *p
}
