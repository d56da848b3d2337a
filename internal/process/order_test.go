package process_test

import (
	"testing"

	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func completed(user, id, total string, hour int) string {
	return ev("type", q("track"), "userId", q(user), "event", q("Order Completed"), "timestamp", at(hour),
		"properties", `{"order_id":`+q(id)+`,"total":`+total+`,"products":[{"product_id":"p","price":`+total+`}]}`)
}

// Per-customer statistics follow completions, refunds and cancellations in
// any arrival order, and always equal what a recount of the orders gives.
func TestOrderStatistics(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web", completed("u", "A", "100.00", 0), completed("u", "B", "50.00", 24*10))
		root := h.root(identity.UserID, "u")
		s := h.stats(root)
		if s.Orders != 2 || s.Revenue.Minor != 15000 || s.AvgDaysBetweenOrders == nil || *s.AvgDaysBetweenOrders != 10 {
			t.Fatalf("after two orders: %+v", s)
		}
		// A partial refund (a return of one item), then a full refund of B.
		h.send("web", ev("type", q("track"), "userId", q("u"), "event", q("Order Refunded"), "timestamp", at(24*11),
			"properties", `{"order_id":"A","total":30,"reason":"size"}`))
		h.send("web", ev("type", q("track"), "userId", q("u"), "event", q("Order Refunded"), "timestamp", at(24*12), "properties", `{"order_id":"B"}`))
		s = h.stats(root)
		if s.Orders != 2 || s.Revenue.Minor != 7000 || s.Refunded.Minor != 8000 {
			t.Fatalf("after refunds: %+v", s)
		}
		// A refund before its order arrives (the POS export came late).
		h.send("pos", ev("type", q("track"), "userId", q("u"), "event", q("Order Refunded"), "timestamp", at(24*13), "properties", `{"order_id":"C","total":5}`))
		h.send("pos", completed("u", "C", "20.00", 24*12))
		s = h.stats(root)
		if s.Orders != 3 || s.Revenue.Minor != 7000+1500 || s.Refunded.Minor != 8500 {
			t.Fatalf("after out-of-order refund: %+v", s)
		}
		// Cancelling an order takes it out; a cancellation of an unknown order
		// keeps a cancelled order that a late completion does not revive.
		h.send("web", ev("type", q("track"), "userId", q("u"), "event", q("Order Cancelled"), "timestamp", at(24*20), "properties", `{"order_id":"C"}`))
		h.send("web", ev("type", q("track"), "userId", q("u"), "event", q("Order Cancelled"), "timestamp", at(24*21), "properties", `{"order_id":"D","total":9}`))
		h.send("web", completed("u", "D", "9.00", 24*20))
		s = h.stats(root)
		if s.Orders != 2 || s.Revenue.Minor != 7000 || s.LastOrderAt.Sub(*s.FirstOrderAt).Hours() != 240 {
			t.Fatalf("after cancellations: %+v", s)
		}
		// A repeated completion (another messageId) updates, never double counts.
		h.send("web", completed("u", "A", "110.00", 0))
		s = h.stats(root)
		if s.Orders != 2 || s.Revenue.Minor != 8000 {
			t.Fatalf("after an update: %+v", s)
		}
		recs, err := order.List(h.ctx, db, root, 0, 10)
		if err != nil || len(recs) != 4 {
			t.Fatalf("orders %d, err %v", len(recs), err)
		}
		byID := map[string]order.Record{}
		for _, r := range recs {
			byID[r.OrderID] = r
		}
		if byID["C"].Status != "cancelled" || byID["D"].Status != "cancelled" || byID["A"].Status != "completed" || len(byID["A"].Refunds) != 1 || len(byID["A"].Items) != 1 {
			t.Fatalf("records %+v", byID)
		}
	})
}

// Orders in another currency count as orders but not in base-currency
// revenue; an order event without order_id is recorded as failed.
func TestOrderCurrencyAndBadOrders(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web",
			ev("type", q("track"), "userId", q("u"), "event", q("Order Completed"), "timestamp", at(1), "properties", `{"order_id":"J1","total":1500,"currency":"JPY"}`),
			completed("u", "E1", "12.34", 2),
			ev("type", q("track"), "userId", q("u"), "event", q("Order Completed"), "timestamp", at(3), "properties", `{"total":5}`))
		s := h.stats(h.root(identity.UserID, "u"))
		if s.Orders != 2 || s.Revenue.Minor != 1234 {
			t.Fatalf("stats %+v", s)
		}
		if st := h.status(); st.Failed != 1 || st.Processed != 3 {
			t.Fatalf("status %+v", st)
		}
	})
}

// A refund with the shop's refund_id is replaced, not added, by a later
// event with the same id; a refund in another currency than its order is
// kept but not subtracted; a corrected completion moves the order's date.
func TestRefundIdentityAndCorrections(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web", completed("u", "A", "100.00", 0), completed("u", "B", "40.00", 48))
		refund := func(id, total string, hour int) string {
			return ev("type", q("track"), "userId", q("u"), "event", q("Order Refunded"), "timestamp", at(hour),
				"properties", `{"order_id":"A","refund_id":`+q(id)+`,"total":`+total+`}`)
		}
		h.send("web", refund("R1", "10", 1), refund("R1", "25", 2))
		h.send("web", refund("R1", "30", 3), refund("R2", "5", 4))
		h.send("web", ev("type", q("track"), "userId", q("u"), "event", q("Order Refunded"), "timestamp", at(5),
			"properties", `{"order_id":"B","total":7,"currency":"USD"}`))
		root := h.root(identity.UserID, "u")
		s := h.stats(root)
		if s.Refunded.Minor != 3500 || s.Revenue.Minor != 14000-3500 {
			t.Fatalf("stats %+v: want refunds of 30 (R1, replaced) + 5 (R2) and none in USD", s)
		}
		h.send("web", completed("u", "B", "40.00", 24))
		s = h.stats(root)
		if s.LastOrderAt.Sub(*s.FirstOrderAt).Hours() != 24 {
			t.Fatalf("the corrected date of B was not applied: %+v", s)
		}
		recs, err := order.List(h.ctx, db, root, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.OrderID == "A" && (len(r.Refunds) != 2 || r.Refunds[0].ID != "R1" || r.Refunds[0].Amount.Minor != 3000) {
				t.Fatalf("refunds of A: %+v", r.Refunds)
			}
			if r.OrderID == "B" && (len(r.Refunds) != 1 || r.Refunds[0].Amount.Currency != "USD") {
				t.Fatalf("refunds of B: %+v", r.Refunds)
			}
		}
	})
}
