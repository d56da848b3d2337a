package httpapi_test

import (
	"context"
	"testing"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// The KPI API: costs in, the overview with definitions and previous values
// out, cohorts, and clear 400s for bad periods and costs.
func TestKPIAPI(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		if a := e.get("/api/v1/kpis?from=2025-03-01&to=2025-03-31"); a.status != 503 {
			t.Fatalf("before the rollups are built: %d %s", a.status, a.text)
		}
		body := `{"batch":[
			{"type":"track","userId":"u1","event":"Order Completed","timestamp":"2025-02-10T10:00:00Z","properties":{"order_id":"O1","total":"40.00"}},
			{"type":"track","userId":"u1","event":"Order Completed","timestamp":"2025-03-03T10:00:00Z","properties":{"order_id":"O2","total":"60.00"}},
			{"type":"track","userId":"u2","event":"Order Completed","timestamp":"2025-03-04T10:00:00Z","properties":{"order_id":"O3","total":"20.00"}}]}`
		if a := e.do(call{method: "POST", path: "/v1/batch", body: body}); a.status != 200 {
			t.Fatal(a.text)
		}
		e.drain()
		if _, err := kpi.Prepare(context.Background(), db, kpi.Options{}); err != nil {
			t.Fatal(err)
		}
		c := e.do(call{method: "POST", path: "/api/v1/costs", body: `{"from":"2025-03-01","to":"2025-03-31","category":"acquisition","amount":"31.00","campaign":"spring"}`})
		if c.status != 201 || c.body["amount"] != "31.00" || c.body["id"] == "" {
			t.Fatalf("add cost: %d %s", c.status, c.text)
		}
		a := e.get("/api/v1/kpis?from=2025-03-01&to=2025-03-31&by=channel")
		if a.status != 200 || a.body["previous_from"] != "2025-01-29" || a.body["currency"] != "EUR" {
			t.Fatalf("kpis: %d %s", a.status, a.text)
		}
		got := map[string]map[string]any{}
		for _, sec := range []string{"sales", "customers", "costs"} {
			for _, k := range a.body[sec].([]any) {
				m := k.(map[string]any)
				got[m["key"].(string)] = m
			}
		}
		for key, want := range map[string][2]any{
			"revenue": {80.0, 40.0}, "orders": {2.0, 1.0}, "active_customers": {2.0, 1.0}, "new_customers": {1.0, 1.0},
			"returning_customers": {1.0, 0.0}, "customer_acquisition_cost": {31.0, 0.0}, "cost_per_customer": {15.5, 0.0},
		} {
			k := got[key]
			if k == nil || k["value"] != want[0] || k["previous"] != want[1] || k["definition"] == "" {
				t.Errorf("%s: %v, want %v", key, k, want)
			}
		}
		// No surveys, tickets or funnel events: the sections are there, with
		// nulls for rates and zero counts.
		for sec, keys := range map[string][]string{"nps": {"nps", "nps_responses"}, "care": {"first_response_median", "tickets"},
			"conversion": {"checkout_conversion", "checkouts"}, "upselling": {"attach_order_share"}} {
			ks, _ := a.body[sec].([]any)
			found := map[string]map[string]any{}
			for _, k := range ks {
				m := k.(map[string]any)
				found[m["key"].(string)] = m
			}
			for _, key := range keys {
				k := found[key]
				if k == nil || k["definition"] == "" {
					t.Errorf("%s.%s missing: %v", sec, key, ks)
					continue
				}
				if want := map[bool]any{true: 0.0, false: nil}[k["unit"] == "count"]; k["value"] != want {
					t.Errorf("%s.%s = %v, want %v", sec, key, k["value"], want)
				}
			}
		}
		if rows := a.body["breakdown"].([]any); len(rows) != 1 || rows[0].(map[string]any)["key"] != "web" {
			t.Errorf("breakdown %v", rows)
		}
		co := e.get("/api/v1/cohorts?from=2025-01")
		cs, _ := co.body["cohorts"].([]any)
		if co.status != 200 || len(cs) != 2 || cs[0].(map[string]any)["month"] != "2025-02" || cs[1].(map[string]any)["customers"] != 1.0 {
			t.Fatalf("cohorts: %d %s", co.status, co.text)
		}
		if l := e.get("/api/v1/costs"); l.status != 200 || len(l.body["costs"].([]any)) != 1 {
			t.Fatalf("costs: %d %s", l.status, l.text)
		}
		for _, bad := range []string{"/api/v1/kpis?from=2025-03-31&to=2025-03-01", "/api/v1/kpis?from=yesterday&to=2025-03-01",
			"/api/v1/kpis?from=2025-03-01", "/api/v1/kpis?from=2025-03-01&to=2025-03-31&by=weekday", "/api/v1/cohorts?from=2025-13"} {
			if a := e.get(bad); a.status != 400 {
				t.Errorf("%s: %d %s", bad, a.status, a.text)
			}
		}
		if a := e.do(call{method: "POST", path: "/api/v1/costs", body: `{"from":"2025-03-01","to":"2025-03-31","category":"rent","amount":"1"}`}); a.status != 400 {
			t.Errorf("bad category: %d %s", a.status, a.text)
		}
	})
}
