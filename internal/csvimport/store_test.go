package csvimport

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func importFixture(t *testing.T, db *sqldb.DB, src auth.Source, kind Kind, data string) Summary {
	t.Helper()
	o := testOptions(kind)
	o.SourceID, o.SourceChannel = src.ID, src.Channel
	sum, err := Run(context.Background(), db, strings.NewReader(data), o)
	if err != nil {
		t.Fatalf("import %s: %v", kind, err)
	}
	return sum
}

func count(t *testing.T, db *sqldb.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func processAll(t *testing.T, db *sqldb.DB) {
	t.Helper()
	p := process.New(db, process.Options{})
	for {
		n, err := p.Step(context.Background())
		if err != nil {
			t.Fatalf("process: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func root(t *testing.T, db *sqldb.DB, typ, value string) string {
	t.Helper()
	rules := identity.DefaultRules("IT")
	r, err := identity.Lookup(context.Background(), db, &rules, typ, value)
	if err != nil {
		t.Fatalf("lookup %s %s: %v", typ, value, err)
	}
	return r
}

func ms(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Importing a file twice stores its events once; processing them gives the
// orders, line items and customer statistics computed by hand from the
// fixture (testdata/orders_it.csv).
func TestImportStoresOnceAndProcesses(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		src, _, err := auth.NewStore(db, time.Now).CreateSource(ctx, "shop", "web", 0)
		if err != nil {
			t.Fatal(err)
		}
		orders := readFixture(t, "orders_it.csv")
		first := importFixture(t, db, src, Orders, orders)
		if first.Imported != 9 || first.Duplicates != 0 || first.Rejected != 7 || first.Rows != 14 {
			t.Fatalf("first import: imported %d, duplicates %d, rejected %d, rows %d; want 9, 0, 7, 14", first.Imported, first.Duplicates, first.Rejected, first.Rows)
		}
		second := importFixture(t, db, src, Orders, orders)
		if second.Imported != 0 || second.Duplicates != 9 || second.Rejected != 7 {
			t.Fatalf("second import: imported %d, duplicates %d, rejected %d; want 0, 9, 7", second.Imported, second.Duplicates, second.Rejected)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM events WHERE source_id = ?", src.ID); n != 9 {
			t.Fatalf("%d events stored; want 9", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM events WHERE message_id NOT LIKE 'import-%' OR sent_at IS NOT NULL"); n != 0 {
			t.Errorf("%d events without an import messageId or with sentAt", n)
		}
		cust := importFixture(t, db, src, Customers, readFixture(t, "customers.csv"))
		if cust.Imported != 4 || cust.Rejected != 3 {
			t.Fatalf("customers: imported %d, rejected %d; want 4, 3", cust.Imported, cust.Rejected)
		}
		processAll(t, db)
		if n := count(t, db, "SELECT COUNT(*) FROM processing_errors"); n != 0 {
			t.Errorf("%d processing errors", n)
		}

		// Hand-computed from the fixture: C1 bought A1001 (59.80) and A1003
		// (30.00, refunded in full); A1004 was cancelled. C2 bought A1002
		// (120.00) and A1005 (1,234.50, 200.00 refunded). C3's only valid
		// order is A1011 (8.00).
		anna, bob, carl := root(t, db, "user_id", "C1"), root(t, db, "user_id", "C2"), root(t, db, "email", "carl@example.com")
		if root(t, db, "email", "ANNA@example.com") != anna || root(t, db, "loyalty_card", "card-001") != anna {
			t.Errorf("anna's e-mail and card do not lead to her profile")
		}
		for _, tc := range []struct {
			root              string
			orders            int64
			revenue, refunded int64
			first, last       string
			avgDays           float64
		}{
			{anna, 2, 5980, 3000, "2024-03-05T10:30:00Z", "2024-04-12T00:00:00Z", 37 + 13.5/24},
			{bob, 2, 115450, 20000, "2024-04-10T13:00:00Z", "2024-05-01T00:00:00Z", 20 + 11.0/24},
			{carl, 1, 800, 0, "2024-05-06T00:00:00Z", "2024-05-06T00:00:00Z", -1},
		} {
			s, err := order.GetStats(ctx, db, tc.root, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			if s.Orders != tc.orders || s.Revenue.Minor != tc.revenue || s.Refunded.Minor != tc.refunded ||
				s.FirstOrderAt == nil || !s.FirstOrderAt.Equal(ms(tc.first)) || !s.LastOrderAt.Equal(ms(tc.last)) {
				t.Errorf("stats of %s = %+v (first %v, last %v); want %d orders, revenue %d, refunded %d, %s … %s",
					tc.root, s, s.FirstOrderAt, s.LastOrderAt, tc.orders, tc.revenue, tc.refunded, tc.first, tc.last)
			}
			if tc.avgDays >= 0 && (s.AvgDaysBetweenOrders == nil || math.Abs(*s.AvgDaysBetweenOrders-tc.avgDays) > 1e-9) {
				t.Errorf("avg days between orders of %s = %v; want %v", tc.root, s.AvgDaysBetweenOrders, tc.avgDays)
			}
		}

		list, err := order.List(ctx, db, anna, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]order.Record{}
		for _, r := range list {
			byID[r.OrderID] = r
		}
		if len(byID) != 3 {
			t.Fatalf("anna has orders %v; want A1001, A1003, A1004", list)
		}
		a1001 := byID["A1001"]
		if a1001.Status != "completed" || a1001.Channel != "web" || a1001.Value.Minor != 5980 || a1001.Shipping == nil || a1001.Shipping.Minor != 490 ||
			!a1001.PlacedAt.Equal(ms("2024-03-05T10:30:00Z")) || len(a1001.Items) != 2 {
			t.Errorf("A1001 = %+v", a1001)
		} else {
			it0, it1 := a1001.Items[0], a1001.Items[1]
			if it0.SKU != "SKU-1" || it0.Name != "Maglia" || it0.Category != "Abbigliamento" || it0.Brand != "Bottega" || it0.PriceMinor != 2495 || it0.Quantity != 2 ||
				it1.SKU != "SKU-2" || it1.PriceMinor != 500 || it1.Quantity != 1 {
				t.Errorf("A1001 items = %+v", a1001.Items)
			}
		}
		if traits(t, a1001.Properties)["note"] != `=HYPERLINK("http://evil.example";"x")` {
			t.Errorf("the formula cell did not survive: %s", a1001.Properties)
		}
		if r := byID["A1003"]; r.Status != "completed" || len(r.Refunds) != 1 || r.Refunds[0].Amount == nil || r.Refunds[0].Amount.Minor != 3000 ||
			!r.Refunds[0].RefundedAt.Equal(ms("2024-04-15T00:00:00Z")) {
			t.Errorf("A1003 = %+v", r)
		}
		if r := byID["A1004"]; r.Status != "cancelled" || r.CancelledAt == nil || !r.CancelledAt.Equal(ms("2024-04-20T00:00:00Z")) {
			t.Errorf("A1004 = %+v", r)
		}
		bobs, err := order.List(ctx, db, bob, 0, 10)
		if err != nil || len(bobs) != 2 {
			t.Fatalf("bob's orders: %v %v", bobs, err)
		}
		a1005, a1002 := bobs[0], bobs[1]
		if a1002.OrderID != "A1002" || a1002.Channel != "pos" || a1002.StoreID != "MI01" || a1002.Coupon != "WELCOME10" || a1002.Discount == nil || a1002.Discount.Minor != 1000 {
			t.Errorf("A1002 = %+v", a1002)
		}
		if a1005.OrderID != "A1005" || a1005.Channel != "app" || a1005.Value.Minor != 123450 || len(a1005.Refunds) != 1 || a1005.Refunds[0].Amount.Minor != 20000 {
			t.Errorf("A1005 = %+v", a1005)
		}

		// Customers: traits, consent and formula cells as imported.
		p, err := profile.Get(ctx, db, anna)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "Anna Rossi" || p.Email != "anna@example.com" || p.Consent["marketing"].Granted != true ||
			p.Consent["marketing"].At != ms("2023-01-15T00:00:00Z").UnixMilli() {
			t.Errorf("anna = %+v", p)
		}
		for k, v := range map[string]string{"birthday": "1990-03-05", "city": "Milano", "note": "=1+2", "codice_fiscale": "RSSNNA90C45F205X", "loyalty_card": "CARD-001"} {
			if got := traits(t, p.Traits)[k]; got != v {
				t.Errorf("anna's trait %s = %v; want %q", k, got, v)
			}
		}
		carla := root(t, db, "email", "carla@example.com")
		cp, err := profile.Get(ctx, db, carla)
		if err != nil || traits(t, cp.Traits)["note"] != "-5+3" || !cp.Consent["marketing"].Granted {
			t.Errorf("carla = %s %+v, %v", cp.Traits, cp.Consent, err)
		}
		if !cp.FirstSeen.Equal(ms("2023-03-15T00:00:00Z")) {
			t.Errorf("carla first seen %s; want the historical 2023-03-15", cp.FirstSeen)
		}

		// A corrected row is a new event that updates its order: nothing is
		// counted twice.
		fixed := strings.Replace(orders, "A1011;06/05/2024;C3;carl@example.com;8,00;", "A1011;06/05/2024;C3;carl@example.com;9,00;", 1)
		fixed = strings.Replace(fixed, "Calze;Abbigliamento;Bottega;8,00;1;", "Calze;Abbigliamento;Bottega;9,00;1;", 1)
		third := importFixture(t, db, src, Orders, fixed)
		if third.Imported != 1 || third.Duplicates != 8 {
			t.Fatalf("corrected import: imported %d, duplicates %d; want 1, 8", third.Imported, third.Duplicates)
		}
		processAll(t, db)
		s, err := order.GetStats(ctx, db, carl, "EUR")
		if err != nil || s.Orders != 1 || s.Revenue.Minor != 900 {
			t.Errorf("carl after the correction = %+v, %v; want 1 order, revenue 900", s, err)
		}
	})
}

// A quarantined event is stored in the quarantine with its reason, and
// reported against its line.
func TestImportQuarantine(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		src, _, err := auth.NewStore(db, time.Now).CreateSource(context.Background(), "till", "pos", 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := importFixture(t, db, src, Customers, "customer_id,email\nok1,a@example.com\nbad\x01id,b@example.com\n")
		if sum.Imported != 1 || sum.Quarantined != 1 || len(sum.Rejections) != 1 || sum.Rejections[0].Line != 3 {
			t.Fatalf("summary %+v", sum)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM quarantine WHERE source_id = ? AND reason = 'invalid_identifier'", src.ID); n != 1 {
			t.Errorf("%d quarantined events stored; want 1", n)
		}
		again := importFixture(t, db, src, Customers, "customer_id,email\nok1,a@example.com\nbad\x01id,b@example.com\n")
		if again.Duplicates != 1 || again.Quarantined != 1 {
			t.Errorf("again: %+v", again)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM quarantine"); n != 1 {
			t.Errorf("%d quarantined events after a second import; want 1", n)
		}
	})
}

func traits(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}
