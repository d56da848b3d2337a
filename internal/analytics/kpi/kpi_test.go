package kpi_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

var asOf = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func day(t *testing.T, s string) kpi.Day {
	t.Helper()
	d, err := kpi.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func overview(t *testing.T, h *harness, from, to, by string) kpi.Overview {
	t.Helper()
	o, err := kpi.Compute(h.ctx, h.db, kpi.Query{From: day(t, from), To: day(t, to), By: by, BaseCurrency: "EUR", Now: asOf})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// want is a KPI's expected value and previous value; nan means null.
type want struct{ v, p float64 }

var null = math.NaN()

func check(t *testing.T, what string, ks []kpi.KPI, wants map[string]want) {
	t.Helper()
	eq := func(got *float64, w float64) bool {
		if math.IsNaN(w) {
			return got == nil
		}
		return got != nil && math.Abs(*got-w) < 1e-9
	}
	str := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	seen := 0
	for _, k := range ks {
		w, ok := wants[k.Key]
		if !ok {
			continue
		}
		seen++
		if !eq(k.Value, w.v) || !eq(k.Previous, w.p) {
			t.Errorf("%s %s = %s (previous %s), want %v (previous %v)", what, k.Key, str(k.Value), str(k.Previous), w.v, w.p)
		}
		if k.Definition == "" {
			t.Errorf("%s %s has no definition", what, k.Key)
		}
	}
	if seen != len(wants) {
		t.Errorf("%s: %d of %d KPIs found", what, seen, len(wants))
	}
}

func row(t *testing.T, o kpi.Overview, key string) kpi.Row {
	t.Helper()
	for _, r := range o.Breakdown {
		if r.Key == key {
			return r
		}
	}
	var keys []string
	for _, r := range o.Breakdown {
		keys = append(keys, r.Key)
	}
	t.Fatalf("no %q row in the breakdown by %s (rows %q)", key, o.By, keys)
	return kpi.Row{}
}

// The overview of February 2025 against the 28 days before, through the
// real processing path: refunds, a late cancellation, an order in another
// currency, an anonymous customer merged into a known one and the merge
// undone, costs, breakdowns and cohorts; every figure computed by hand
// (docs/kpis.md has the definitions), with a churn window of 30 days.
func TestOverview(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, kpi.Options{BaseCurrency: "EUR", ChurnWindow: 30})
		// A: acquired by the "spring" campaign; web 100 on Jan 5, store
		// milano 50 on Feb 10. B: web 80 on Jan 20, 30 refunded on Feb 3
		// and 70 more on Mar 3 (capped at the 50 left); app 40 on Feb 20,
		// cancelled the next day. C: web 70 USD on Feb 5. D (anonymous):
		// web 60 on Feb 12.
		h.send("web",
			`{"type":"page","messageId":"p1","userId":"a","name":"Home","timestamp":"2025-01-02T10:00:00Z","context":{"campaign":{"source":"ig","name":"spring"}}}`,
			track("a", "Order Completed", "2025-01-05", `{"order_id":"A1","total":"100.00"}`),
			track("b", "Order Completed", "2025-01-20", `{"order_id":"B1","total":80}`),
			track("c", "Order Completed", "2025-02-05", `{"order_id":"C1","total":"70","currency":"USD"}`),
			track("anon-d", "Order Completed", "2025-02-12", `{"order_id":"D1","total":"60"}`))
		h.send("pos", track("a", "Order Completed", "2025-02-10", `{"order_id":"A2","total":"50","store_id":"milano"}`))
		h.send("web", track("b", "Order Refunded", "2025-02-03", `{"order_id":"B1","total":"30"}`))
		h.send("app", track("b", "Order Completed", "2025-02-20", `{"order_id":"B2","total":"40"}`))
		h.send("app", track("b", "Order Cancelled", "2025-02-21", `{"order_id":"B2"}`))
		h.send("web", track("b", "Order Refunded", "2025-03-03", `{"order_id":"B1","total":"70"}`))

		costs := []kpi.NewCost{
			{From: "2025-02-01", To: "2025-02-28", Category: "acquisition", Campaign: "spring", Amount: "280"},
			{From: "2025-01-01", To: "2025-03-31", Category: "care", Amount: "90.00", Currency: "eur"},
		}
		for _, c := range costs {
			if _, err := kpi.AddCost(h.ctx, db, "EUR", c, asOf); err != nil {
				t.Fatal(err)
			}
		}

		// Before the merge: A, B, C, D are four customers.
		o := overview(t, h, "2025-02-01", "2025-02-28", "")
		if o.PreviousFrom != "2025-01-04" || o.PreviousTo != "2025-01-31" || o.Days != 28 || o.ChurnWindowDays != 30 {
			t.Fatalf("period %+v", o)
		}
		check(t, "sales", o.Sales, map[string]want{
			"revenue": {80, 180}, "gross_revenue": {110, 180}, "refunds": {30, 0}, "orders": {3, 2}, "average_order_value": {55, 90}})
		// Lost in February: A on Feb 4 (36 days between orders), B on Feb 19.
		// At the start (Jan 31): A, B; at the end (Feb 28): A, C, D.
		// Retention: A and B ordered in Jan 4-31, A again in February (B's
		// order was cancelled): 1/2; nobody ordered in the 28 days before.
		check(t, "customers", o.Customers, map[string]want{
			"active_customers": {3, 2}, "new_customers": {2, 2}, "returning_customers": {1, 0},
			"repurchase_rate": {1.0 / 3, 0}, "customers": {3, 2}, "lost_customers": {2, 0},
			"churn_rate": {2 / 2.5, 0}, "retention_rate": {0.5, null}})
		// Costs: 280 acquisition + 28 of the 90 care (1 a day); before: 28.
		check(t, "costs", o.Costs, map[string]want{
			"costs": {308, 28}, "acquisition_costs": {280, 0}, "cost_per_customer": {102.67, 14}, "customer_acquisition_cost": {140, 0}})
		// Yearly spend 80/3 × 365/28; years 28/(0.8 × 365); CLV = 80/(3 × 0.8) − 140.
		check(t, "value", o.Value, map[string]want{
			"yearly_spend": {347.62, 1173.21}, "relationship_years": {28 / (0.8 * 365), null}, "historic_clv": {-106.67, null}})

		byChannel := overview(t, h, "2025-02-01", "2025-02-28", kpi.ByChannel)
		if len(byChannel.Breakdown) != 2 {
			t.Fatalf("channels %+v", byChannel.Breakdown)
		}
		web := row(t, byChannel, "web")
		check(t, "web", web.Sales, map[string]want{"orders": {2, 2}, "gross_revenue": {60, 180}, "refunds": {30, 0}, "revenue": {30, 180}})
		check(t, "web", web.Customers, map[string]want{"active_customers": {2, 2}, "new_customers": {2, 2}, "returning_customers": {0, 0}})
		pos := row(t, byChannel, "pos")
		check(t, "pos", pos.Sales, map[string]want{"orders": {1, 0}, "revenue": {50, 0}})
		check(t, "pos", pos.Customers, map[string]want{"active_customers": {1, 0}, "new_customers": {1, 0}})
		if web.Costs != nil {
			t.Errorf("a channel has no costs: %+v", web.Costs)
		}
		byStore := overview(t, h, "2025-02-01", "2025-02-28", kpi.ByStore)
		check(t, "milano", row(t, byStore, "milano").Sales, map[string]want{"orders": {1, 0}, "revenue": {50, 0}})
		check(t, "no store", row(t, byStore, "").Sales, map[string]want{"orders": {2, 2}, "revenue": {30, 180}})

		byCampaign := overview(t, h, "2025-02-01", "2025-02-28", kpi.ByCampaign)
		spring := row(t, byCampaign, "spring")
		check(t, "spring", spring.Sales, map[string]want{"orders": {1, 1}, "revenue": {50, 100}})
		check(t, "spring", spring.Customers, map[string]want{"active_customers": {1, 1}, "new_customers": {0, 1}})
		check(t, "spring", spring.Costs, map[string]want{"acquisition_costs": {280, 0}, "customer_acquisition_cost": {null, 0}, "costs": {280, 0}})
		none := row(t, byCampaign, "")
		check(t, "no campaign", none.Customers, map[string]want{"active_customers": {2, 1}, "new_customers": {2, 1}})
		check(t, "no campaign", none.Costs, map[string]want{"costs": {28, 28}, "customer_acquisition_cost": {0, 0}})

		byMonth := overview(t, h, "2025-01-01", "2025-03-31", kpi.ByMonth)
		if len(byMonth.Breakdown) != 3 {
			t.Fatalf("months %+v", byMonth.Breakdown)
		}
		feb := row(t, byMonth, "2025-02")
		if feb.From != "2025-02-01" || feb.PreviousFrom != "2025-01-04" {
			t.Fatalf("february row %+v", feb)
		}
		check(t, "february", feb.Sales, map[string]want{"revenue": {80, 180}})
		// March: the second refund of B1 is capped at the 50 left.
		check(t, "march", row(t, byMonth, "2025-03").Sales, map[string]want{"refunds": {50, 30}, "orders": {0, 3}})
		check(t, "january", row(t, byMonth, "2025-01").Customers, map[string]want{"active_customers": {2, 0}, "new_customers": {2, 0}})

		cohorts := func() map[string]kpi.Cohort {
			c, err := kpi.ReadCohorts(h.ctx, db, "EUR", 0, 0, kpi.DayOf(time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)))
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]kpi.Cohort{}
			for _, x := range c.Cohorts {
				out[x.Month] = x
			}
			return out
		}
		c := cohorts()
		if jan := c["2025-01"]; jan.Customers != 2 || fmt.Sprint(jan.Active) != "[2 1 0]" || fmt.Sprint(jan.Retention) != "[1 0.5 0]" ||
			fmt.Sprint(jan.Revenues) != "[180 20 -50]" || jan.Revenue != 150 {
			t.Errorf("january cohort %+v", jan)
		}
		if feb := c["2025-02"]; feb.Customers != 2 || fmt.Sprint(feb.Active) != "[2 0]" || feb.Revenue != 60 {
			t.Errorf("february cohort %+v", feb)
		}

		// D turns out to be A: D's order becomes A's third order day.
		h.send("web", `{"type":"identify","messageId":"i1","userId":"a","anonymousId":"anon-d","timestamp":"2025-02-13T10:00:00Z"}`)
		o = overview(t, h, "2025-02-01", "2025-02-28", "")
		check(t, "sales after the merge", o.Sales, map[string]want{"revenue": {80, 180}, "orders": {3, 2}})
		check(t, "customers after the merge", o.Customers, map[string]want{
			"active_customers": {2, 2}, "new_customers": {1, 2}, "returning_customers": {1, 0},
			"repurchase_rate": {0.5, 0}, "customers": {2, 2}, "lost_customers": {2, 0}, "churn_rate": {1, 0}, "retention_rate": {0.5, null}})
		check(t, "costs after the merge", o.Costs, map[string]want{"cost_per_customer": {154, 14}, "customer_acquisition_cost": {280, 0}})
		web = row(t, overview(t, h, "2025-02-01", "2025-02-28", kpi.ByChannel), "web")
		check(t, "web after the merge", web.Customers, map[string]want{"active_customers": {2, 2}, "new_customers": {1, 2}})
		spring = row(t, overview(t, h, "2025-02-01", "2025-02-28", kpi.ByCampaign), "spring")
		check(t, "spring after the merge", spring.Sales, map[string]want{"orders": {2, 1}, "revenue": {110, 100}})
		c = cohorts()
		if jan := c["2025-01"]; jan.Customers != 2 || fmt.Sprint(jan.Revenues) != "[180 80 -50]" {
			t.Errorf("january cohort after the merge %+v", jan)
		}
		if feb := c["2025-02"]; feb.Customers != 1 || feb.Revenue != 0 {
			t.Errorf("february cohort after the merge %+v", feb)
		}

		// Undo the merge: back to four customers.
		root := lookup(t, h, "a")
		ms, err := identity.Merges(h.ctx, db, root)
		if err != nil || len(ms) != 1 {
			t.Fatalf("merges %v %v", ms, err)
		}
		if _, err := process.Unmerge(h.ctx, db, ms[0].ID, "EUR", time.Now(), h.ext); err != nil {
			t.Fatal(err)
		}
		o = overview(t, h, "2025-02-01", "2025-02-28", "")
		check(t, "customers after the unmerge", o.Customers, map[string]want{
			"active_customers": {3, 2}, "new_customers": {2, 2}, "repurchase_rate": {1.0 / 3, 0}, "churn_rate": {0.8, 0}})
		if feb := cohorts()["2025-02"]; feb.Customers != 2 || feb.Revenue != 60 {
			t.Errorf("february cohort after the unmerge %+v", feb)
		}

		// More refunds: of a whole order, in another currency than the
		// order's, of an order not in the base currency, and one dated
		// before its order (it counts on the order's day).
		h.send("web", track("a", "Order Refunded", "2025-03-05", `{"order_id":"A2"}`),
			track("a", "Order Refunded", "2025-03-06", `{"order_id":"A1","total":"5","currency":"USD"}`),
			track("c", "Order Refunded", "2025-03-04", `{"order_id":"C1","total":"10","currency":"USD"}`))
		h.send("web", track("e", "Order Completed", "2025-03-10", `{"order_id":"E1","total":"20"}`))
		h.send("web", track("e", "Order Refunded", "2025-03-08", `{"order_id":"E1","total":"5"}`))
		// March: B1's 50, all of A2's 50, and E1's 5 on Mar 10.
		check(t, "march refunds", overview(t, h, "2025-03-01", "2025-03-31", "").Sales, map[string]want{"refunds": {105, 30}, "orders": {1, 3}})

		// A full rebuild gives the same contributions and rollups as the
		// incremental path, read in one chunk or one profile at a time.
		before := dump(t, db)
		for _, chunk := range []int{20000, 1, 2} {
			if err := db.InTx(h.ctx, func(tx *sqldb.Tx) error {
				return kpi.RebuildAllChunked(h.ctx, tx, kpi.Options{ChurnWindow: 30}, chunk)
			}); err != nil {
				t.Fatal(err)
			}
			if after := dump(t, db); after != before {
				t.Errorf("rollups rebuilt %d profiles at a time differ:\nincremental %s\nrebuilt     %s", chunk, before, after)
			}
		}
		if err := db.InTx(h.ctx, func(tx *sqldb.Tx) error { return kpi.RebuildAll(h.ctx, tx, kpi.Options{ChurnWindow: 30}) }); err != nil {
			t.Fatal(err)
		}
		if after := dump(t, db); after != before {
			t.Errorf("rebuilt rollups differ:\nincremental %s\nrebuilt     %s", before, after)
		}
	})
}

func lookup(t *testing.T, h *harness, user string) string {
	t.Helper()
	rules := identity.DefaultRules("IT")
	r, err := identity.Lookup(h.ctx, h.db, &rules, identity.UserID, user)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dump returns the rollup tables as text, in key order.
func dump(t *testing.T, db *sqldb.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT profile_id, facts FROM kpi_customers ORDER BY profile_id",
		"SELECT dim, day, key, orders, base_orders, gross_minor, refund_minor, firsts, seconds, lost FROM kpi_daily ORDER BY dim, day, key",
		"SELECT dim, day, key, prev_month, second, n FROM kpi_gaps_month ORDER BY dim, day, key, prev_month, second",
		"SELECT dim, prev_day, day, key, second, n FROM kpi_gaps_day ORDER BY dim, prev_day, day, key, second",
		"SELECT cohort, k, customers, revenue_minor FROM kpi_cohorts ORDER BY cohort, k",
	} {
		rows, err := db.Query(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if s, ok := v.([]byte); ok {
					v = fmt.Sprintf("%x", s)
				}
				fmt.Fprint(&b, v, " ")
			}
			b.WriteString("|")
		}
		rows.Close()
		b.WriteString("\n")
	}
	return b.String()
}

// Bad periods and costs are the caller's mistake, and say why.
func TestInvalidInput(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db, kpi.Options{})
		for _, q := range []kpi.Query{
			{From: day(t, "2025-02-01"), To: day(t, "2025-01-01")},
			{From: day(t, "2000-01-01"), To: day(t, "2025-01-01")},
			{From: day(t, "2025-01-01"), To: day(t, "2025-01-31"), By: "weekday"},
		} {
			if _, err := kpi.Compute(h.ctx, db, q); !fault.Is(err, fault.Invalid) {
				t.Errorf("%+v: %v", q, err)
			}
		}
		for _, c := range []kpi.NewCost{
			{From: "2025-13-01", To: "2025-01-31", Category: "other", Amount: "1"},
			{From: "2025-01-02", To: "2025-01-01", Category: "other", Amount: "1"},
			{From: "2025-01-01", To: "2025-01-31", Category: "rent", Amount: "1"},
			{From: "2025-01-01", To: "2025-01-31", Category: "other", Amount: "1", Currency: "USD"},
			{From: "2025-01-01", To: "2025-01-31", Category: "other", Amount: "-5"},
			{From: "2025-01-01", To: "2025-01-31", Category: "other", Amount: "lots"},
		} {
			if _, err := kpi.AddCost(h.ctx, db, "EUR", c, asOf); !fault.Is(err, fault.Invalid) {
				t.Errorf("%+v: %v", c, err)
			}
		}
		got, err := kpi.Costs(h.ctx, db, day(t, "2020-01-01"), day(t, "2030-01-01"))
		if err != nil || len(got) != 0 {
			t.Fatalf("costs %v %v", got, err)
		}
	})
}
