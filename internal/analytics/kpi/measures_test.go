package kpi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/analytics/funnel"
	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	pt "github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/bottega-crm/bottega/internal/survey"
	"github.com/bottega-crm/bottega/internal/ticket"
)

// ev is a track event of userId who at minutes after midnight UTC of day.
func ev(id, name, who, day string, minutes float64, props string) string {
	return pt.Ev("type", pt.Q("track"), "messageId", pt.Q(id), "event", pt.Q(name), "userId", pt.Q(who),
		"timestamp", pt.At(day, minutes), "properties", props)
}

// The NPS, care, conversion and upselling sections of the overview of
// February 2025 (previous period 4–31 January), through the real processing
// path with the survey, ticket, funnel and KPI extensions; every figure
// computed by hand from the definitions in docs/kpis.md.
func TestOverviewMeasures(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		opts := kpi.Options{BaseCurrency: "EUR", ChurnWindow: 30}
		h := pt.New(t, db, kpi.NewExtension(opts), survey.NewRecorder(), ticket.NewRecorder(), funnel.NewRecorder("EUR"))
		if _, err := kpi.Prepare(h.Ctx, db, opts); err != nil {
			t.Fatal(err)
		}
		nps := func(id, who, day, typ string, score int, channel, store string) string {
			return ev(id, "Survey Responded", who, day, 600, pt.Ev("survey_type", pt.Q(typ), "score", strconv.Itoa(score),
				"channel", pt.Q(channel), "store_id", pt.Q(store)))
		}
		// February: NPS 10, 9 (store MI), 7, 3 and CSAT 5, 2 about care;
		// January: NPS 0 and 9.
		h.Send("web",
			nps("s1", "u1", "2025-02-03", "nps", 10, "web", ""),
			nps("s2", "u2", "2025-02-04", "nps", 9, "pos", "MI"),
			nps("s3", "u3", "2025-02-05", "nps", 7, "web", ""),
			nps("s4", "u4", "2025-02-06", "nps", 3, "web", ""),
			nps("s5", "u1", "2025-02-07", "csat", 5, "care", ""),
			nps("s6", "u2", "2025-02-08", "csat", 2, "care", ""),
			nps("s7", "u5", "2025-01-10", "nps", 0, "web", ""),
			nps("s8", "u6", "2025-01-11", "nps", 9, "web", ""),
		)
		// Tickets (minutes after creation): t1 email reply 30, resolved 120;
		// t2 email reply 90, resolved 600; t3 whatsapp, the customer writes
		// at 5, the desk replies at 10, never resolved; t4 whatsapp, no
		// reply. January: t5 email reply 60, resolved 240.
		tk := func(id, day string, channel string, replies map[string]float64, resolved float64) []string {
			out := []string{ev(id+"c", "Ticket Created", "u9", day, 0, `{"ticket_id":"`+id+`","channel":"`+channel+`"}`)}
			for author, at := range replies {
				out = append(out, ev(id+"r"+author, "Ticket Replied", "u9", day, at, `{"ticket_id":"`+id+`","author":"`+author+`"}`))
			}
			if resolved > 0 {
				out = append(out, ev(id+"s", "Ticket Resolved", "u9", day, resolved, `{"ticket_id":"`+id+`"}`))
			}
			return out
		}
		var tickets []string
		tickets = append(tickets, tk("t1", "2025-02-10", "email", map[string]float64{"agent": 30}, 120)...)
		tickets = append(tickets, tk("t2", "2025-02-11", "email", map[string]float64{"agent": 90}, 600)...)
		tickets = append(tickets, tk("t3", "2025-02-12", "whatsapp", map[string]float64{"customer": 5, "agent": 10}, 0)...)
		tickets = append(tickets, tk("t4", "2025-02-13", "whatsapp", nil, 0)...)
		tickets = append(tickets, tk("t5", "2025-01-20", "email", map[string]float64{"agent": 60}, 240)...)
		h.Send("care", tickets...)
		// Funnel. February, web: u1 views, checks out and buys W1 (P1 60.00
		// recommended, P2 40.00); u3 views and starts checkout W3 that never
		// completes. pos: PO1 at store MI, P3 50.00 upsold. app: u4 views at
		// 10:00 and 11:40 (two sessions) and buys A4 (30.00) at 13:20,
		// after both. January, web: u5 views, checks out and buys W5 (80.00
		// cross-sold).
		h.Send("web",
			ev("f1", "Product Viewed", "u1", "2025-02-03", 600, `{"product_id":"P1"}`),
			ev("f2", "Checkout Started", "u1", "2025-02-03", 610, `{"order_id":"W1"}`),
			ev("f3", "Order Completed", "u1", "2025-02-03", 620, `{"order_id":"W1","total":100,
				"products":[{"product_id":"P1","price":60,"recommended":true},{"product_id":"P2","price":40}]}`),
			ev("f4", "Product Viewed", "u3", "2025-02-05", 600, `{"product_id":"P1"}`),
			ev("f5", "Checkout Started", "u3", "2025-02-05", 605, `{"order_id":"W3"}`),
			ev("f6", "Product Viewed", "u5", "2025-01-10", 600, `{"product_id":"P5"}`),
			ev("f7", "Checkout Started", "u5", "2025-01-10", 610, `{"order_id":"W5"}`),
			ev("f8", "Order Completed", "u5", "2025-01-10", 615, `{"order_id":"W5","total":80,
				"products":[{"product_id":"P5","price":80,"cross_sell":true}]}`),
		)
		h.Send("pos", ev("f9", "Order Completed", "u2", "2025-02-04", 600, `{"order_id":"PO1","store_id":"MI","total":50,
			"products":[{"product_id":"P3","price":50,"upsell":true}]}`))
		h.Send("app",
			ev("f10", "Product Viewed", "u4", "2025-02-06", 600, `{"product_id":"P4"}`),
			ev("f11", "Product Viewed", "u4", "2025-02-06", 700, `{"product_id":"P4"}`),
			ev("f12", "Order Completed", "u4", "2025-02-06", 800, `{"order_id":"A4","total":30,"products":[{"product_id":"P4","price":30}]}`),
		)
		if errs := h.Errors(); len(errs) != 0 {
			t.Fatalf("processing errors %v", errs)
		}

		o, err := kpi.Compute(h.Ctx, db, kpi.Query{From: day(t, "2025-02-01"), To: day(t, "2025-02-28"), BaseCurrency: "EUR", Now: asOf})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "sales", o.Sales, map[string]want{"orders": {3, 1}, "revenue": {180, 80}})
		// NPS: 2 promoters, 1 passive, 1 detractor of 4 → 25; January 1 and
		// 1 of 2 → 0. CSAT: 1 of 2 satisfied, average 3.5; none in January.
		check(t, "nps", o.NPS, map[string]want{
			"nps": {25, 0}, "nps_promoters": {0.5, 0.5}, "nps_passives": {0.25, 0}, "nps_detractors": {0.25, 0.5}, "nps_responses": {4, 2},
			"csat": {0.5, null}, "csat_average": {3.5, null}, "csat_responses": {2, 0}})
		// First responses 10, 30, 90: median 30, p90 30 + 0.8 × 60 = 78;
		// resolutions 120, 600: median 360, p90 120 + 0.9 × 480 = 552.
		check(t, "care", o.Care, map[string]want{
			"first_response_median": {30, 60}, "first_response_p90": {78, 60}, "resolution_median": {360, 240}, "resolution_p90": {552, 240},
			"tickets": {4, 1}})
		// Checkouts W1 (converted) and W3; sessions u1 (converted), u3, and
		// u4's two (its order comes 100 minutes after its last view).
		check(t, "conversion", o.Conversion, map[string]want{
			"checkout_conversion": {0.5, 1}, "checkouts": {2, 1}, "session_conversion": {0.25, 1}, "product_sessions": {4, 1}})
		// Orders W1 (cross-sold 60 of 100), PO1 (upsold 50), A4; lines 180.
		check(t, "upselling", o.Upselling, map[string]want{
			"cross_sell_order_share": {1.0 / 3, 1}, "upsell_order_share": {1.0 / 3, 0}, "attach_order_share": {2.0 / 3, 1},
			"cross_sell_revenue_share": {60.0 / 180, 1}, "upsell_revenue_share": {50.0 / 180, 0}, "attach_revenue_share": {110.0 / 180, 1}})
		for _, k := range o.NPS {
			if k.Key == "nps" && (k.Change == nil || *k.Change != 25 || k.ChangePct != nil || k.Unit != kpi.UnitPoints) {
				t.Errorf("nps change %+v", k)
			}
		}
		for _, k := range o.Care {
			if k.Key == "first_response_median" && (k.Change == nil || *k.Change != -30 || k.ChangePct == nil || *k.ChangePct != -0.5 || k.Unit != kpi.UnitMinutes) {
				t.Errorf("first response change %+v", k)
			}
		}

		byChannel := overview(t, &harness{ctx: h.Ctx, db: db}, "2025-02-01", "2025-02-28", kpi.ByChannel)
		var keys []string
		for _, r := range byChannel.Breakdown {
			keys = append(keys, r.Key)
		}
		if got := strings.Join(keys, ","); got != "app,care,email,pos,web,whatsapp" {
			t.Fatalf("channel rows %s", got)
		}
		web := row(t, byChannel, "web")
		check(t, "web", web.NPS, map[string]want{"nps": {0, 0}, "nps_responses": {3, 2}, "nps_promoters": {1.0 / 3, 0.5}})
		check(t, "web", web.Conversion, map[string]want{"checkout_conversion": {0.5, 1}, "session_conversion": {0.5, 1}})
		check(t, "web", web.Upselling, map[string]want{"cross_sell_order_share": {1, 1}, "cross_sell_revenue_share": {0.6, 1}, "upsell_order_share": {0, 0}})
		check(t, "web", web.Care, map[string]want{"tickets": {0, 0}, "first_response_median": {null, null}})
		app := row(t, byChannel, "app")
		check(t, "app", app.Conversion, map[string]want{"checkout_conversion": {null, null}, "session_conversion": {0, null}, "product_sessions": {2, 0}})
		check(t, "app", app.Upselling, map[string]want{"attach_order_share": {0, null}})
		check(t, "pos", row(t, byChannel, "pos").NPS, map[string]want{"nps": {100, null}})
		check(t, "pos", row(t, byChannel, "pos").Upselling, map[string]want{"upsell_revenue_share": {1, null}})
		care := row(t, byChannel, "care")
		check(t, "care", care.NPS, map[string]want{"nps": {null, null}, "csat": {0.5, null}, "csat_average": {3.5, null}})
		check(t, "care", care.Sales, map[string]want{"orders": {0, 0}})
		// Email: responses 30, 90 → median 60, p90 84; whatsapp: 10.
		check(t, "email", row(t, byChannel, "email").Care, map[string]want{
			"first_response_median": {60, 60}, "first_response_p90": {84, 60}, "resolution_median": {360, 240}, "tickets": {2, 1}})
		check(t, "whatsapp", row(t, byChannel, "whatsapp").Care, map[string]want{
			"first_response_median": {10, null}, "resolution_median": {null, null}, "tickets": {2, 0}})

		byStore := overview(t, &harness{ctx: h.Ctx, db: db}, "2025-02-01", "2025-02-28", kpi.ByStore)
		mi := row(t, byStore, "MI")
		check(t, "MI", mi.NPS, map[string]want{"nps": {100, null}, "nps_responses": {1, 0}})
		check(t, "MI", mi.Upselling, map[string]want{"upsell_order_share": {1, null}})
		if mi.Care != nil {
			t.Errorf("tickets have no store: %+v", mi.Care)
		}
		none := row(t, byStore, "")
		check(t, "no store", none.NPS, map[string]want{"nps": {0, 0}, "csat_responses": {2, 0}})
		check(t, "no store", none.Conversion, map[string]want{"checkout_conversion": {0.5, 1}, "session_conversion": {0.25, 1}})

		for _, r := range overview(t, &harness{ctx: h.Ctx, db: db}, "2025-02-01", "2025-02-28", kpi.ByCampaign).Breakdown {
			if r.NPS != nil || r.Care != nil || r.Conversion != nil || r.Upselling != nil {
				t.Errorf("campaign row %q has survey, ticket or funnel figures", r.Key)
			}
		}

		byMonth := overview(t, &harness{ctx: h.Ctx, db: db}, "2025-01-01", "2025-02-28", kpi.ByMonth)
		feb := row(t, byMonth, "2025-02")
		check(t, "february", feb.NPS, map[string]want{"nps": {25, 0}, "csat": {0.5, null}})
		check(t, "february", feb.Care, map[string]want{"first_response_p90": {78, 60}})
		check(t, "february", feb.Upselling, map[string]want{"attach_revenue_share": {110.0 / 180, 1}})
		jan := row(t, byMonth, "2025-01")
		check(t, "january", jan.NPS, map[string]want{"nps": {0, null}, "nps_responses": {2, 0}})
		check(t, "january", jan.Conversion, map[string]want{"checkout_conversion": {1, null}})
	})
}
