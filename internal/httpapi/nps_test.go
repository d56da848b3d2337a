package httpapi_test

import (
	"testing"

	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/bottega-crm/bottega/internal/survey"
)

// GET /api/v1/nps: the figures of a period by a breakdown, comments newest
// first a page at a time, and 400 for a bad period, breakdown or limit.
func TestNPSAPI(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.proc = process.New(db, process.Options{Extensions: []process.Extension{survey.NewRecorder()}})
		body := `{"batch":[
			{"type":"track","userId":"u1","event":"Survey Responded","timestamp":"2025-03-02T10:00:00Z","properties":{"score":10,"comment":"Ottimo"}},
			{"type":"track","userId":"u2","event":"Survey Responded","timestamp":"2025-03-03T10:00:00Z","properties":{"score":6,"channel":"pos","store_id":"MI","comment":"Coda lunga"}},
			{"type":"track","userId":"u3","event":"Survey Responded","timestamp":"2025-04-01T10:00:00Z","properties":{"score":8}},
			{"type":"track","userId":"u4","event":"Survey Responded","timestamp":"2025-04-02T10:00:00Z","properties":{"score":4,"survey_type":"csat","comment":"Gentili"}},
			{"type":"track","userId":"u5","event":"Survey Responded","timestamp":"2025-04-02T11:00:00Z","properties":{"score":12}}]}`
		if a := e.do(call{method: "POST", path: "/v1/batch", body: body}); a.status != 200 {
			t.Fatal(a.text)
		}
		e.drain()
		a := e.get("/api/v1/nps?from=2025-03-01&to=2025-04-30&by=channel&comments_limit=2")
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.text)
		}
		// 10, 6, 8: one promoter, one passive, one detractor: NPS 0.
		n := a.body["nps"].(map[string]any)
		if n["responses"] != 3.0 || n["nps"] != 0.0 || n["promoters_pct"] != 33.3 || a.body["csat"].(map[string]any)["csat"] != 100.0 {
			t.Fatalf("figures %s", a.text)
		}
		groups := a.body["groups"].([]any)
		pos, web := groups[0].(map[string]any), groups[1].(map[string]any)
		if len(groups) != 2 || pos["key"] != "pos" || pos["nps"].(map[string]any)["nps"] != -100.0 || web["key"] != "web" || web["nps"].(map[string]any)["nps"] != 50.0 {
			t.Fatalf("groups %v", groups)
		}
		if trend := a.body["trend"].([]any); len(trend) != 2 || trend[1].(map[string]any)["key"] != "2025-04" {
			t.Fatalf("trend %v", trend)
		}
		cs := a.body["comments"].([]any)
		next, _ := a.body["comments_next"].(string)
		if len(cs) != 2 || cs[0].(map[string]any)["comment"] != "Gentili" || cs[1].(map[string]any)["comment"] != "Coda lunga" || next == "" {
			t.Fatalf("comments %s", a.text)
		}
		a = e.get("/api/v1/nps?from=2025-03-01&to=2025-04-30&comments_limit=2&comments_before=" + next)
		if cs := a.body["comments"].([]any); a.status != 200 || len(cs) != 1 || cs[0].(map[string]any)["comment"] != "Ottimo" || a.body["comments_next"] != nil || a.body["groups"] != nil {
			t.Fatalf("second page %d %s", a.status, a.text)
		}
		for _, q := range []string{
			"from=2025-03-01&to=2025-04-30&by=campaign",
			"from=2025-03-01&to=2025-04-30&by=weekday",
			"from=2025-3-1&to=2025-04-30",
			"from=2025-03-01&to=yesterday",
			"from=2025-04-30&to=2025-03-01",
			"from=2025-03-01&to=2025-04-30&comments_limit=0",
			"from=2025-03-01&to=2025-04-30&comments_limit=201",
			"from=2025-03-01&to=2025-04-30&comments_before=x",
		} {
			if a := e.get("/api/v1/nps?" + q); a.status != 400 || a.body["code"] != "invalid" {
				t.Errorf("%s: %d %s", q, a.status, a.text)
			}
		}
	})
}
