package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// RFM and personas through the API: the grid, a segment's customers, a
// past date, bad input, and the scores on profiles (a merged-away profile
// shows its survivor's).
func TestSegmentsAPI(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		if a := e.get("/api/v1/rfm"); a.status != 404 || a.body["code"] != "not_found" {
			t.Fatalf("rfm before any run: %d %s", a.status, a.text)
		}
		if a := e.get("/api/v1/personas"); a.status != 404 {
			t.Fatalf("personas before any run: %d %s", a.status, a.text)
		}
		body := `{"batch":[
			{"type":"track","userId":"c1","event":"Order Completed","timestamp":"2025-06-29T10:00:00Z","properties":{"order_id":"W1","total":100}},
			{"type":"track","anonymousId":"anon-1","event":"Order Completed","timestamp":"2025-06-01T10:00:00Z","properties":{"order_id":"W2","total":50}},
			{"type":"track","userId":"c2","event":"Order Completed","timestamp":"2025-05-01T10:00:00Z","properties":{"order_id":"W3","total":200}},
			{"type":"track","userId":"c3","event":"Order Completed","timestamp":"2025-03-01T10:00:00Z","properties":{"order_id":"W4","total":20}},
			{"type":"identify","userId":"c1","anonymousId":"anon-1","timestamp":"2025-06-29T11:00:00Z","traits":{"name":"Chiara"}}]}`
		if a := e.do(call{method: "POST", path: "/v1/batch", body: body}); a.status != 200 {
			t.Fatal(a.text)
		}
		e.drain()
		now := time.Date(2025, 6, 30, 18, 0, 0, 0, time.UTC)
		if _, err := rfm.Refresh(ctx, db, now, "EUR"); err != nil {
			t.Fatal(err)
		}
		if _, err := persona.Refresh(ctx, db, now, "EUR", persona.Options{MinCustomer: 3, MinK: 2}); err != nil {
			t.Fatal(err)
		}
		// n = 3, a score is 1 + ⌊5w/3⌋ (w = 0, 1, 2 → 1, 2, 4). c1: 1 day,
		// 2 orders, 150.00 → R4 F4 M2, FM 3, Potential Loyalist. c2: 60
		// days, 1, 200.00 → R2 F1 M4, FM 3, At Risk. c3: 121 days, 1,
		// 20.00 → R1 F1 M1, Lost.
		g := e.get("/api/v1/rfm")
		if g.status != 200 || g.body["customers"] != 3.0 || g.body["as_of"] != "2025-06-30T18:00:00Z" || len(g.body["cells"].([]any)) != 25 {
			t.Fatalf("grid: %d %s", g.status, g.text)
		}
		segs := map[string]float64{}
		for _, s := range g.body["segments"].([]any) {
			m := s.(map[string]any)
			segs[m["segment"].(string)] = m["customers"].(float64)
		}
		if len(segs) != 11 || segs["Potential Loyalist"] != 1 || segs["At Risk"] != 1 || segs["Lost"] != 1 || segs["Champions"] != 0 {
			t.Fatalf("segments %v", segs)
		}
		for _, c := range g.body["cells"].([]any) {
			m := c.(map[string]any)
			if m["r"] == 4.0 && m["fm"] == 3.0 && (m["customers"] != 1.0 || m["revenue"].(map[string]any)["amount"] != "150.00") {
				t.Errorf("cell R4 FM3: %v", m)
			}
		}
		a := e.get("/api/v1/rfm?segment=potential-loyalist")
		members, _ := a.body["members"].(map[string]any)
		if a.status != 200 || members == nil || len(members["customers"].([]any)) != 1 {
			t.Fatalf("segment: %d %s", a.status, a.text)
		}
		m := members["customers"].([]any)[0].(map[string]any)
		if m["name"] != "Chiara" || m["r"] != 4.0 || m["f"] != 4.0 || m["m"] != 2.0 || m["frequency"] != 2.0 || m["recency_days"] != 1.0 {
			t.Errorf("member %v", m)
		}
		// As of 1 June: c1 has only the anonymous order of that day, c2 and
		// c3 as before; n = 3 again. Days 0, 31, 92 → R 4, 2, 1; one order
		// each → F 1; 50, 200, 20 → M 2, 4, 1.
		a = e.get("/api/v1/rfm?as_of=2025-06-01&segment=about-to-sleep")
		if a.status != 200 || a.body["as_of"] != "2025-06-01T00:00:00Z" || a.body["customers"] != 3.0 {
			t.Fatalf("as of: %d %s", a.status, a.text)
		}
		// c1: R4 FM ⌈(1+2)/2⌉ = 2 → Potential Loyalist; c2: R2 FM 3 → At
		// Risk; c3: R1 FM1 → Lost. Nobody is about to sleep.
		if ms := a.body["members"].(map[string]any)["customers"].([]any); len(ms) != 0 {
			t.Errorf("about to sleep on 1 June: %v", ms)
		}
		a = e.get("/api/v1/rfm?as_of=2025-06-01&segment=at_risk")
		if ms := a.body["members"].(map[string]any)["customers"].([]any); len(ms) != 1 || ms[0].(map[string]any)["monetary"].(map[string]any)["amount"] != "200.00" {
			t.Errorf("at risk on 1 June: %s", a.text)
		}
		for _, bad := range []string{"?segment=whales", "?as_of=2025-13-01", "?as_of=31/05/2025", "?as_of=2999-01-01", "?as_of=2025-06-01&segment=whales", "?segment=lost&cursor=x"} {
			if a := e.get("/api/v1/rfm" + bad); a.status != 400 || a.body["code"] != "invalid" {
				t.Errorf("%s: %d %s", bad, a.status, a.text)
			}
		}
		// Out of the documented range: rejected by the schema, as everywhere in the API.
		if a := e.get("/api/v1/rfm?limit=0"); a.status != 422 {
			t.Errorf("limit=0: %d %s", a.status, a.text)
		}
		p := e.get("/api/v1/personas")
		if p.status != 200 || p.body["k"] != 2.0 || len(p.body["personas"].([]any)) != 2 || p.body["customers"] != 3.0 {
			t.Fatalf("personas: %d %s", p.status, p.text)
		}
		// Profiles carry their scores; the merged-away profile its survivor's.
		c1 := e.get("/api/v1/profiles/lookup?type=user_id&value=c1")
		merged := c1.body["merged_profiles"].([]any)
		if len(merged) != 1 {
			t.Fatalf("c1 %s", c1.text)
		}
		for _, v := range []answer{c1, e.get("/api/v1/profiles/" + merged[0].(string))} {
			r, _ := v.body["rfm"].(map[string]any)
			if r == nil || r["segment"] != "Potential Loyalist" || r["fm"] != 3.0 || r["monetary"].(map[string]any)["amount"] != "150.00" {
				t.Errorf("profile rfm: %s", v.text)
			}
			if ps, _ := v.body["persona"].(map[string]any); ps == nil || ps["description"] == "" || ps["nps_imputed"] != true {
				t.Errorf("profile persona: %s", v.text)
			}
		}
		// A profile without orders has neither.
		e.do(call{method: "POST", path: "/v1/batch", body: `{"batch":[{"type":"identify","userId":"c9","traits":{"name":"Nobody"}}]}`})
		e.drain()
		if v := e.get("/api/v1/profiles/lookup?type=user_id&value=c9"); v.status != 200 || v.body["rfm"] != nil || v.body["persona"] != nil {
			t.Errorf("profile without orders: %s", v.text)
		}
	})
}
