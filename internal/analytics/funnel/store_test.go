package funnel_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/analytics/funnel"
	pt "github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// track is a track event at minutes after midnight UTC of day; who is
// "userId=…", "anonymousId=…" or both separated by a comma.
func track(id, name, who, day string, minutes float64, props string) string {
	kv := []string{"type", pt.Q("track"), "messageId", pt.Q(id), "event", pt.Q(name), "timestamp", pt.At(day, minutes), "properties", props}
	for _, part := range strings.Split(who, ",") {
		k, v, _ := strings.Cut(part, "=")
		kv = append(kv, k, pt.Q(v))
	}
	return pt.Ev(kv...)
}

func period(t *testing.T, from, to string) days.Period {
	f, _ := time.Parse(time.DateOnly, from)
	e, _ := time.Parse(time.DateOnly, to)
	p, err := days.New(f, e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func f(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func conv(c funnel.Conversion) string {
	return fmt.Sprintf("checkouts %d/%d %s%% sessions %d/%d %s%%", c.CheckoutsConverted, c.Checkouts, f(c.CheckoutRate), c.SessionsConverted, c.Sessions, f(c.SessionRate))
}

func attach(a funnel.Attach) string {
	return fmt.Sprintf("orders %d cross %d %s%% upsell %d %s%% attach %d %s%% revenue %s cross %s %s%% upsell %s %s%% attach %s%%", a.Orders,
		a.CrossSellOrders, f(a.CrossSellOrderPct), a.UpsellOrders, f(a.UpsellOrderPct), a.AttachOrders, f(a.AttachOrderPct),
		a.Revenue.Amount, a.CrossSellRevenue.Amount, f(a.CrossSellRevenuePct), a.UpsellRevenue.Amount, f(a.UpsellRevenuePct), f(a.AttachRevenuePct))
}

// Conversion and upselling through the real processing path, on both
// engines: checkouts linked by order id or by customer, repeated checkouts
// counted once, sessions cut at 30-minute gaps, lines marked on the order or
// on an earlier Product Added, cancelled orders left out, conversion decided
// when events are processed (a merge does not re-attribute a past session but
// carries the open one), either order of arrival, and the breakdowns.
func TestFunnel(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := pt.New(t, db, funnel.NewRecorder("EUR"))
		day := "2025-03-01"
		h.Send("web",
			// anon-A: a session that ends in order W1, with P2 added from a recommendation.
			track("a1", "Product Viewed", "anonymousId=anon-A", day, 600, `{"product_id":"P1"}`),
			track("a2", "Product Viewed", "anonymousId=anon-A", day, 610, `{"product_id":"P2"}`),
			track("a3", "Product Added", "anonymousId=anon-A", day, 612, `{"product_id":"P2","recommended":true}`),
			track("a4", "Checkout Started", "anonymousId=anon-A", day, 615, `{"order_id":"W1"}`),
			track("a5", "Order Completed", "userId=uA,anonymousId=anon-A", day, 620, `{"order_id":"W1","total":50,
				"products":[{"product_id":"P1","price":30},{"product_id":"P2","price":10,"quantity":2}]}`),
			// … and a later session without an order.
			track("a6", "Product Viewed", "userId=uA,anonymousId=anon-A", day, 720, `{"product_id":"P1"}`),
		)
		day = "2025-03-02"
		h.Send("app",
			// uB in the app: checkout C9 sent twice, order A1 (later cancelled).
			track("b1", "Viewed Product", "userId=uB", day, 540, `{"product_id":"P3"}`),
			track("b2", "Checkout Started", "userId=uB", day, 545, `{"checkout_id":"C9","order_id":"A1"}`),
			track("b3", "Checkout Started", "userId=uB", day, 546, `{"checkout_id":"C9","order_id":"A1"}`),
			track("b4", "Order Completed", "userId=uB", day, 547, `{"order_id":"A1","total":75,
				"products":[{"product_id":"P3","price":50,"upsell":true},{"product_id":"P4","price":25,"recommended":true}]}`),
		)
		h.Send("app", track("b5", "Order Cancelled", "userId=uB", day, 600, `{"order_id":"A1"}`))
		h.Send("web",
			// uC: a checkout without order id, and an order within 24 hours.
			track("c1", "Checkout Started", "userId=uC", "2025-03-03", 600, `{"value":60}`),
			track("c2", "Order Completed", "userId=uC", "2025-03-03", 660, `{"order_id":"W3","total":60,
				"products":[{"product_id":"P5","price":40},{"product_id":"P6","price":20,"added_from":"upsell"}]}`),
			// uD never completes.
			track("d1", "Checkout Started", "userId=uD", "2025-03-04", 600, `{"order_id":"W4"}`),
			// Outside the period.
			track("z1", "Checkout Started", "userId=uD", "2025-04-01", 600, `{"order_id":"W9"}`),
		)
		h.Send("pos", track("e1", "Order Completed", "anonymousId=card-E", "2025-03-05", 600, `{"order_id":"P-1","store_id":"MI","total":100,
			"products":[{"product_id":"P7","price":100}]}`))
		// anon-F looks, uF buys: two customers until they are found to be one.
		h.Send("web",
			track("f1", "Product Viewed", "anonymousId=anon-F", "2025-03-06", 600, `{"product_id":"P8"}`),
			track("f2", "Order Completed", "userId=uF", "2025-03-06", 610, `{"order_id":"W6","total":10,"products":[{"product_id":"P8","price":10}]}`),
		)
		march := period(t, "2025-03-01", "2025-03-31")
		r, err := funnel.Conversions(h.Ctx, db, march, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := conv(r.Conversion), "checkouts 3/4 75% sessions 2/4 50%"; got != want {
			t.Fatalf("before the merge: %s, want %s", got, want)
		}
		h.Send("web", pt.Ev("type", pt.Q("identify"), "messageId", pt.Q("f3"), "userId", pt.Q("uF"), "anonymousId", pt.Q("anon-F"), "timestamp", pt.At("2025-03-07", 0)))
		if errs := h.Errors(); len(errs) != 0 {
			t.Fatalf("errors %v", errs)
		}
		r, err = funnel.Conversions(h.Ctx, db, march, "")
		if err != nil {
			t.Fatal(err)
		}
		// Conversion is decided when events are processed: the merge does
		// not credit anon-F's session with uF's earlier order.
		if got, want := conv(r.Conversion), "checkouts 3/4 75% sessions 2/4 50%"; got != want {
			t.Fatalf("after the merge: %s, want %s", got, want)
		}
		r, err = funnel.Conversions(h.Ctx, db, march, funnel.ByChannel)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Groups) != 2 || r.Groups[0].Key != "app" || conv(r.Groups[0].Conversion) != "checkouts 1/1 100% sessions 1/1 100%" ||
			r.Groups[1].Key != "web" || conv(r.Groups[1].Conversion) != "checkouts 2/3 66.7% sessions 1/3 33.3%" {
			t.Fatalf("by channel %+v", r.Groups)
		}

		a, err := funnel.Attachment(h.Ctx, db, march, "", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		// W1 (P2 20.00 cross-sold through its Product Added), W3 (P6 20.00
		// upsold), P-1 and W6; A1 is cancelled.
		if got, want := attach(a.Attach), "orders 4 cross 1 25% upsell 1 25% attach 2 50% revenue 220.00 cross 20.00 9.1% upsell 20.00 9.1% attach 18.2%"; got != want {
			t.Fatalf("attach\n%s, want\n%s", got, want)
		}
		a, err = funnel.Attachment(h.Ctx, db, march, funnel.ByStore, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Groups) != 2 || a.Groups[0].Key != "MI" || attach(a.Groups[0].Attach) != "orders 1 cross 0 0% upsell 0 0% attach 0 0% revenue 100.00 cross 0.00 0% upsell 0.00 0% attach 0%" ||
			a.Groups[1].Key != funnel.NoKey || attach(a.Groups[1].Attach) != "orders 3 cross 1 33.3% upsell 1 33.3% attach 2 66.7% revenue 120.00 cross 20.00 16.7% upsell 20.00 16.7% attach 33.3%" {
			t.Fatalf("by store %+v", a.Groups)
		}
		a, err = funnel.Attachment(h.Ctx, db, period(t, "2025-03-02", "2025-03-02"), funnel.ByMonth, "EUR")
		if err != nil || a.Orders != 0 || len(a.Groups) != 0 || a.AttachOrderPct != nil {
			t.Fatalf("a day with only a cancelled order: %+v %v", a, err)
		}
		if _, err := funnel.Conversions(h.Ctx, db, march, "campaign"); err == nil {
			t.Fatal("an unknown breakdown is accepted")
		}

		// The merge carried anon-F's open session to uF: an order of uF
		// processed now, placed 20 minutes after the view, converts it.
		h.Send("web", track("f4", "Order Completed", "userId=uF", "2025-03-06", 620, `{"order_id":"W7","total":5,"products":[{"product_id":"P8","price":5}]}`))
		// An order processed before its checkout converts it all the same.
		h.Send("app", track("g1", "Order Completed", "userId=uG", "2025-04-02", 600, `{"order_id":"A8","total":5,"products":[{"product_id":"P9","price":5}]}`))
		h.Send("app", track("g2", "Checkout Started", "userId=uG", "2025-04-02", 590, `{"order_id":"A8"}`))
		// A checkout without order id waits for its customer's order in a
		// later batch; A9, 25 hours after uI's, comes too late.
		h.Send("web", track("h1", "Checkout Started", "userId=uH", "2025-04-03", 600, `{}`),
			track("i1", "Checkout Started", "userId=uI", "2025-04-03", 600, `{}`))
		h.Send("web", track("h2", "Order Completed", "userId=uH", "2025-04-03", 720, `{"order_id":"W10","total":5,"products":[{"product_id":"P9","price":5}]}`),
			track("i2", "Order Completed", "userId=uI", "2025-04-04", 660, `{"order_id":"A9","total":5,"products":[{"product_id":"P9","price":5}]}`))
		if errs := h.Errors(); len(errs) != 0 {
			t.Fatalf("errors %v", errs)
		}
		r, err = funnel.Conversions(h.Ctx, db, march, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := conv(r.Conversion), "checkouts 3/4 75% sessions 3/4 75%"; got != want {
			t.Fatalf("after uF's second order: %s, want %s", got, want)
		}
		r, err = funnel.Conversions(h.Ctx, db, period(t, "2025-04-01", "2025-04-30"), funnel.ByMonth)
		if err != nil {
			t.Fatal(err)
		}
		// z1 (W9 never completed), g2, h1 and i1.
		if got, want := conv(r.Conversion), "checkouts 2/4 50% sessions 0/0 -%"; got != want || len(r.Groups) != 1 || r.Groups[0].Key != "2025-04" {
			t.Fatalf("april: %s %+v, want %s", got, r.Groups, want)
		}
		// W7 joins March's orders: 5 orders, revenue 225.00.
		a, err = funnel.Attachment(h.Ctx, db, march, "", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := attach(a.Attach), "orders 5 cross 1 20% upsell 1 20% attach 2 40% revenue 225.00 cross 20.00 8.9% upsell 20.00 8.9% attach 17.8%"; got != want {
			t.Fatalf("attach with W7\n%s, want\n%s", got, want)
		}
		// Another currency counts as an order but not in EUR revenue.
		a, err = funnel.Attachment(h.Ctx, db, march, "", "USD")
		if err != nil || a.Orders != 5 || a.Revenue.Minor != 0 || a.AttachRevenuePct != nil {
			t.Fatalf("in USD: %+v %v", a, err)
		}
		// W6 sent again, its line now marked: the order's counts move.
		h.Send("web", track("f5", "Order Completed", "userId=uF", "2025-03-06", 610, `{"order_id":"W6","total":10,"products":[{"product_id":"P8","price":10,"recommended":true}]}`))
		a, err = funnel.Attachment(h.Ctx, db, march, "", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := attach(a.Attach), "orders 5 cross 2 40% upsell 1 20% attach 3 60% revenue 225.00 cross 30.00 13.3% upsell 20.00 8.9% attach 22.2%"; got != want {
			t.Fatalf("attach with W6 marked\n%s, want\n%s", got, want)
		}
	})
}
