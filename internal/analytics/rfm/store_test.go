package rfm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func root(t *testing.T, db *sqldb.DB, typ, value string) string {
	t.Helper()
	rules := identity.DefaultRules("IT")
	r, err := identity.Lookup(context.Background(), db, &rules, typ, value)
	if err != nil {
		t.Fatalf("lookup %s %s: %v", typ, value, err)
	}
	return r
}

func order(who, id, at, total string) string {
	return fmt.Sprintf(`{"type":"track",%s,"event":"Order Completed","timestamp":"%sT10:00:00Z","properties":{"order_id":"%s","total":%s}}`, who, at, id, total)
}

// The fixture: five customers (one of them two profiles merged), a refund,
// a cancellation, orders on several days.
func fixture(t *testing.T, db *sqldb.DB) map[string]string {
	h := processtest.New(t, db)
	h.Send("web",
		order(`"userId":"c1"`, "W1", "2025-06-29", "100"),
		order(`"userId":"c1"`, "W2", "2025-06-01", "50"),
		order(`"userId":"c2"`, "W3", "2025-05-01", "200"),
		`{"type":"track","userId":"c2","event":"Order Refunded","timestamp":"2025-06-10T10:00:00Z","properties":{"order_id":"W3","total":30}}`,
		order(`"userId":"c3"`, "W4", "2025-03-01", "20"),
		order(`"userId":"c3"`, "W5", "2025-06-20", "40"),
		`{"type":"track","userId":"c3","event":"Order Cancelled","timestamp":"2025-06-21T10:00:00Z","properties":{"order_id":"W5"}}`,
		order(`"userId":"c4"`, "W7", "2025-06-15", "10"),
		order(`"anonymousId":"anon-9"`, "W6", "2025-04-01", "80"),
		order(`"userId":"c5"`, "W8", "2025-06-30", "5"),
	)
	ids := map[string]string{}
	for _, c := range []string{"c1", "c2", "c3", "c4", "c5"} {
		ids[c] = root(t, db, "user_id", c)
	}
	ids["anon"] = root(t, db, "anonymous_id", "anon-9")
	// c4 signs in on the anonymous device: the two profiles merge.
	h.Send("web", `{"type":"track","userId":"c4","anonymousId":"anon-9","event":"Signed In","timestamp":"2025-06-16T10:00:00Z"}`)
	if r := root(t, db, "anonymous_id", "anon-9"); r != root(t, db, "user_id", "c4") {
		t.Fatal("the fixture's profiles did not merge")
	}
	return ids
}

func describe(s rfm.CustomerScore) string {
	return fmt.Sprintf("R%d F%d M%d FM%d %s days=%d n=%d %s", s.R, s.F, s.M, s.FM, s.Segment, s.RecencyDays, s.Frequency, s.Monetary.Amount)
}

func TestRefresh(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		ids := fixture(t, db)
		if ok, err := rfm.Computed(ctx, db); ok || err != nil {
			t.Fatalf("computed before any run: %v %v", ok, err)
		}
		if _, err := rfm.Current(ctx, db); err == nil {
			t.Fatal("a summary before any run")
		}
		now := time.Date(2025, 6, 30, 18, 0, 0, 0, time.UTC)
		sum, err := rfm.Refresh(ctx, db, now, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		// n = 5, so a score is 1 + the number of customers strictly worse.
		// Recency days: c5 0, c1 1, c4 15, c2 60, c3 121. Orders: c1 and c4
		// 2 (F 4), the others 1 (F 1). Revenue: c5 5.00, c3 20.00 (the
		// cancelled order does not count), c4 90.00 (both profiles),
		// c1 150.00, c2 170.00 (200 less a 30 refund).
		want := map[string]string{
			"c1": "R4 F4 M4 FM4 Loyal days=1 n=2 150.00",
			"c2": "R2 F1 M5 FM3 At Risk days=60 n=1 170.00",
			"c3": "R1 F1 M2 FM2 Lost days=121 n=1 20.00",
			"c4": "R3 F4 M3 FM4 Loyal days=15 n=2 90.00",
			"c5": "R5 F1 M1 FM1 New days=0 n=1 5.00",
		}
		for c, w := range want {
			s, err := rfm.Get(ctx, db, root(t, db, "user_id", c), "EUR")
			if err != nil || s == nil {
				t.Fatalf("%s: %v %v", c, s, err)
			}
			if got := describe(*s); got != w || !s.AsOf.Equal(now) {
				t.Errorf("%s: %s as of %s, want %s", c, got, s.AsOf, w)
			}
		}
		// The profile merged away has no score of its own: its survivor's
		// is the one that counts.
		merged := ids["anon"]
		if merged == root(t, db, "user_id", "c4") {
			merged = ids["c4"]
		}
		if s, err := rfm.Get(ctx, db, merged, "EUR"); s != nil || err != nil {
			t.Errorf("merged-away profile has a score: %v %v", s, err)
		}
		if sum.Customers != 5 || sum.Revenue.Minor != 43500 || !sum.AsOf.Equal(now) {
			t.Errorf("summary %+v", sum)
		}
		stored, err := rfm.Current(ctx, db)
		if err != nil || stored.Customers != 5 || stored.Segments[1].Segment != rfm.Loyal || stored.Segments[1].Customers != 2 ||
			stored.Segments[1].Revenue.Minor != 24000 || stored.Segments[1].Share != 0.4 {
			t.Errorf("stored summary %+v %v", stored, err)
		}
		// Loyal, a customer per page, richest first.
		var got []string
		cursor := ""
		for range 3 {
			p, err := rfm.List(ctx, db, "loyal", cursor, 1, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Customers {
				got = append(got, m.Profile)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if want := []string{root(t, db, "user_id", "c1"), root(t, db, "user_id", "c4")}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("loyal customers %v, want %v", got, want)
		}
		if _, err := rfm.List(ctx, db, "whales", "", 10, "EUR"); err == nil || !strings.Contains(err.Error(), "not one of") {
			t.Errorf("unknown segment: %v", err)
		}
		if _, err := rfm.List(ctx, db, "loyal", "zzz", 10, "EUR"); err == nil {
			t.Error("a bad cursor was accepted")
		}
		// Scoring from the orders as of the same day gives the same scores.
		scored, atSum, err := rfm.At(ctx, db, now, "EUR")
		if err != nil || len(scored) != 5 || fmt.Sprint(atSum.Segments) != fmt.Sprint(stored.Segments) || fmt.Sprint(atSum.Cells) != fmt.Sprint(stored.Cells) {
			t.Errorf("As of the same day: %v\n%+v\n%+v", err, atSum.Segments, stored.Segments)
		}
		// A second run replaces the first.
		later := now.AddDate(0, 0, 30)
		if _, err := rfm.Refresh(ctx, db, later, "EUR"); err != nil {
			t.Fatal(err)
		}
		if s, _ := rfm.Get(ctx, db, root(t, db, "user_id", "c5"), "EUR"); s == nil || s.RecencyDays != 30 || !s.AsOf.Equal(later) {
			t.Errorf("after a second run: %+v", s)
		}
	})
}

// Scores as of past dates count only what had happened by the end of that
// day: orders placed, refunds made, cancellations made.
func TestAsOf(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		fixture(t, db)
		scored, sum, err := rfm.At(ctx, db, time.Date(2025, 6, 5, 9, 0, 0, 0, time.UTC), "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if !sum.AsOf.Equal(time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC)) || sum.Customers != 4 {
			t.Fatalf("summary %+v", sum)
		}
		// n = 4: score 1 + ⌊5w/4⌋. Days: c1 4, c2 35, c4 65 (the anonymous
		// order of 1 April), c3 96; everyone one order; revenue c3 20,
		// c1 50, c4 80, c2 200 (the refund comes on 10 June).
		want := map[string]string{
			"c1": "R4 F1 M2 FM2 Potential Loyalist 4 1 5000",
			"c2": "R3 F1 M4 FM3 Need Attention 35 1 20000",
			"c3": "R1 F1 M1 FM1 Lost 96 1 2000",
			"c4": "R2 F1 M3 FM2 Hibernating 65 1 8000",
		}
		for _, s := range scored {
			var who string
			for _, c := range []string{"c1", "c2", "c3", "c4", "c5"} {
				if root(t, db, "user_id", c) == s.Profile {
					who = c
				}
			}
			got := fmt.Sprintf("R%d F%d M%d FM%d %s %d %d %d", s.R, s.F, s.M, s.FM, s.Segment, s.RecencyDays, s.Orders, s.Monetary)
			if got != want[who] {
				t.Errorf("%s: %s, want %s", who, got, want[who])
			}
		}
		page, err := rfm.ListScored(ctx, db, scored, sum.AsOf, "need-attention", "", 10, "EUR")
		if err != nil || len(page.Customers) != 1 || page.Customers[0].Profile != root(t, db, "user_id", "c2") ||
			page.Customers[0].Monetary.Minor != 20000 || !page.Customers[0].AsOf.Equal(sum.AsOf) || page.Next != "" {
			t.Errorf("need attention on 5 June: %+v %v", page, err)
		}
		// On 20 June c3's second order stands (cancelled the next day) and
		// c2's refund is made.
		scored, _, err = rfm.At(ctx, db, time.Date(2025, 6, 20, 23, 0, 0, 0, time.UTC), "EUR")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range scored {
			if s.Profile == root(t, db, "user_id", "c3") && (s.Orders != 2 || s.Monetary != 6000 || s.RecencyDays != 0) {
				t.Errorf("c3 on 20 June: %+v", s)
			}
			if s.Profile == root(t, db, "user_id", "c2") && s.Monetary != 17000 {
				t.Errorf("c2 on 20 June: %+v", s)
			}
		}
		// Before any order: nobody.
		if scored, sum, err := rfm.At(ctx, db, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "EUR"); err != nil || len(scored) != 0 || sum.Customers != 0 || len(sum.Cells) != 25 {
			t.Errorf("before any order: %v %+v %v", scored, sum, err)
		}
	})
}
