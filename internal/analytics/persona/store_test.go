package persona_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func root(t *testing.T, db *sqldb.DB, user string) string {
	t.Helper()
	rules := identity.DefaultRules("IT")
	r, err := identity.Lookup(context.Background(), db, &rules, "user_id", user)
	if err != nil {
		t.Fatalf("lookup %s: %v", user, err)
	}
	return r
}

func orderEvent(user, id, day, channel, extra, products string) string {
	return fmt.Sprintf(`{"type":"track","userId":%q,"event":"Order Completed","timestamp":"%sT10:00:00Z","context":{"channel":%q},
		"properties":{"order_id":%q%s,"products":%s}}`, user, day, channel, id, extra, products)
}

// Three obvious personas of three customers each, from real orders and
// NPS answers.
func TestRefresh(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		var evs []string
		for i := 1; i <= 3; i++ {
			// Store regulars: four weekly food orders, full price.
			for w := 0; w < 4; w++ {
				evs = append(evs, orderEvent(fmt.Sprint("s", i), fmt.Sprintf("S%d-%d", i, w), fmt.Sprintf("2025-06-%02d", 1+7*w), "pos", "",
					`[{"product_id":"bread","category":"Food","price":30,"quantity":1},{"product_id":"cup","category":"Home","price":10,"quantity":1}]`))
			}
			// Bargain hunters: one web order of toys with a coupon, long ago.
			evs = append(evs, orderEvent(fmt.Sprint("b", i), fmt.Sprint("B", i), "2025-01-10", "web", `,"coupon":"SALE"`,
				`[{"product_id":"kite","category":"Toys","price":15,"quantity":1}]`))
			// App readers: two books a month apart, one with a discount.
			evs = append(evs, orderEvent(fmt.Sprint("a", i), fmt.Sprintf("A%d-1", i), "2025-04-01", "app", `,"discount":5`,
				`[{"product_id":"novel","category":"Books","price":20,"quantity":1}]`),
				orderEvent(fmt.Sprint("a", i), fmt.Sprintf("A%d-2", i), "2025-05-01", "app", "",
					`[{"product_id":"novel2","category":"Books","price":20,"quantity":1}]`))
		}
		processtest.New(t, db).Send("web", evs...)
		// NPS: s1 answered 3 then 10 (the latest counts), s2 10, s3 never;
		// bargain hunters 2; readers 7. An answer of a CSAT survey is no NPS.
		seq := int64(1_000_000)
		answer := func(user, typ string, score int, day string) {
			seq++
			at, _ := time.Parse(time.DateOnly, day)
			if _, err := db.Exec(ctx, `INSERT INTO survey_responses (event_seq, profile_id, survey_type, score, responded_at) VALUES (?, ?, ?, ?, ?)`,
				seq, root(t, db, user), typ, score, at.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
		answer("s1", "nps", 10, "2025-06-20")
		answer("s1", "nps", 3, "2025-06-02")
		answer("s2", "nps", 10, "2025-06-20")
		answer("s3", "csat", 5, "2025-06-20")
		for i := 1; i <= 3; i++ {
			answer(fmt.Sprint("b", i), "nps", 2, "2025-02-01")
			answer(fmt.Sprint("a", i), "nps", 7, "2025-05-02")
		}
		now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
		cs, cats, err := persona.Load(ctx, db, now, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		// Categories by spend: Food 3·4·30 = 360, Books 120, Home 120 (Books
		// before Home by name on the tie), Toys 45.
		if fmt.Sprint(cats) != "[Food Books Home Toys]" || len(cs) != 9 {
			t.Fatalf("categories %v, %d customers", cats, len(cs))
		}
		for _, c := range cs {
			switch c.Profile {
			case root(t, db, "s1"):
				// 4 orders, last 22 June (8 days), 160.00, gaps 21/3 = 7 days,
				// all in store, 3/4 of item spend on food, 1/4 home, NPS 10.
				if got := fmt.Sprintf("%d %d %d %.0f %v %v %v %v %v", c.Orders, c.Recency, c.Monetary, c.GapDays, c.Channel, c.Categories, c.NPS, c.NoNPS, c.Discount); got != "4 8 16000 7 [0 0 1] [0.75 0 0.25 0] 10 false 0" {
					t.Errorf("s1 features %s", got)
				}
			case root(t, db, "s3"):
				if !c.NoNPS {
					t.Error("s3 has an NPS")
				}
			case root(t, db, "a1"):
				if got := fmt.Sprintf("%d %d %v %v %v %v", c.Orders, c.Recency, c.Channel, c.Categories, c.NPS, c.Discount); got != "2 60 [0 1 0] [0 1 0 0] 7 0.5" {
					t.Errorf("a1 features %s", got)
				}
			case root(t, db, "b1"):
				if got := fmt.Sprintf("%d %d %v %v %v %v", c.Orders, c.Recency, c.Channel, c.Categories, c.NPS, c.Discount); got != "1 171 [1 0 0] [0 0 0 1] 2 1" {
					t.Errorf("b1 features %s", got)
				}
			}
		}
		if ok, _ := persona.Computed(ctx, db); ok {
			t.Fatal("computed before any run")
		}
		sum, err := persona.Refresh(ctx, db, now, "EUR", persona.Options{MinCustomer: 3})
		if err != nil {
			t.Fatal(err)
		}
		if sum.K != 3 || sum.Customers != 9 || len(sum.Personas) != 3 {
			t.Fatalf("summary %+v", sum)
		}
		// By total value: store regulars 3 × 160, readers 3 × 40 (orders
		// without a total are worth their items), bargain hunters 3 × 15.
		want := []struct {
			users []string
			total string
			avg   string
		}{{[]string{"s1", "s2", "s3"}, "480.00", "160.00"}, {[]string{"a1", "a2", "a3"}, "120.00", "40.00"}, {[]string{"b1", "b2", "b3"}, "45.00", "15.00"}}
		for i, w := range want {
			p := sum.Personas[i]
			if p.ID != i+1 || p.Customers != 3 || p.TotalValue.Amount != w.total || p.AvgRevenue.Amount != w.avg {
				t.Errorf("persona %d: %+v", i+1, p)
			}
			for _, u := range w.users {
				got, err := persona.Get(ctx, db, root(t, db, u))
				if err != nil || got == nil || got.ID != i+1 || got.Description != p.Description || !got.AsOf.Equal(now) || got.NPSImputed != (u == "s3") {
					t.Errorf("%s: %+v %v", u, got, err)
				}
			}
		}
		if p := sum.Personas; p[0].Cadence != "weekly" || p[0].Channel != "store" || p[1].Cadence != "monthly" || p[1].Channel != "app" ||
			p[2].Cadence != "one-time" || p[2].Channel != "web" || p[0].NPSImputed != 1 {
			t.Errorf("personas %+v", p)
		}
		for i, d := range []string{"weekly store shoppers, mostly Home, mostly Food, recent", "monthly app shoppers, mostly Books",
			"one-time web shoppers, mostly Toys, discount-driven, low NPS"} {
			if sum.Personas[i].Description != d {
				t.Errorf("persona %d: %q, want %q", i+1, sum.Personas[i].Description, d)
			}
		}
		stored, err := persona.Current(ctx, db)
		if err != nil || fmt.Sprint(stored.Personas) != fmt.Sprint(sum.Personas) || !stored.AsOf.Equal(now) {
			t.Errorf("stored %+v %v", stored, err)
		}
		// Too few customers: no personas, and a note saying why.
		sum, err = persona.Refresh(ctx, db, now, "EUR", persona.Options{})
		if err != nil || sum.K != 0 || len(sum.Personas) != 0 || !strings.Contains(sum.Note, "at least 20") {
			t.Fatalf("small base: %+v %v", sum, err)
		}
		if got, err := persona.Get(ctx, db, root(t, db, "s1")); got != nil || err != nil {
			t.Errorf("persona kept from the previous run: %+v %v", got, err)
		}
	})
}
