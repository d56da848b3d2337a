package httpapi_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// cdnowOrders returns Order Completed events for the CDNOW sample
// customers with ids in [from, to].
func cdnowOrders(t *testing.T, from, to int) []string {
	t.Helper()
	f, err := os.Open("../analytics/clv/testdata/CDNOW_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); line++ {
		fs := strings.Fields(sc.Text())
		id, err := strconv.Atoi(fs[1])
		if err != nil {
			t.Fatal(err)
		}
		if id < from || id > to {
			continue
		}
		d := fs[2]
		out = append(out, fmt.Sprintf(`{"type":"track","userId":"cd-%d","event":"Order Completed","timestamp":"%s-%s-%sT10:00:00Z","properties":{"order_id":"o-%d","total":%q}}`,
			id, d[:4], d[4:6], d[6:], line, fs[4]))
	}
	return out
}

func (e *env) ingest(events []string) {
	e.t.Helper()
	for len(events) > 0 {
		n := min(200, len(events))
		if a := e.do(call{method: "POST", path: "/v1/batch", body: `{"batch":[` + strings.Join(events[:n], ",") + `]}`}); a.status != 200 {
			e.t.Fatal(a.text)
		}
		events = events[n:]
	}
	e.drain()
}

// The prediction endpoints: "not enough data yet" until there is, then a
// fit, the model, the profile's predictions and the holdout test.
func TestPredictionsAPI(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.ingest(cdnowOrders(t, 1, 3))
		if a := e.get("/api/v1/predictions/model"); a.status != 404 || a.body["code"] != "not_found" {
			t.Fatalf("model before any fit: %d %s", a.status, a.text)
		}
		const want = "not enough data yet: 3 customers bought by 1997-09-30; predictions need at least 100"
		fit := e.do(call{method: "POST", path: "/api/v1/predictions/fit", body: `{"calibration_end":"1997-09-30","time_unit":"week"}`})
		if fit.status != 409 || fit.body["code"] != "conflict" || fit.body["detail"] != want {
			t.Fatalf("fit with 3 customers: %d %s", fit.status, fit.text)
		}
		if a := e.get("/api/v1/predictions/model"); a.status != 409 || a.body["detail"] != want {
			t.Fatalf("model after a fit without enough data: %d %s", a.status, a.text)
		}
		p := e.get("/api/v1/profiles/lookup?type=user_id&value=cd-1")
		pred := p.body["predictions"].(map[string]any)
		if pred["available"] != false || pred["reason"] != want || pred["p_alive"] != nil {
			t.Fatalf("profile predictions: %s", p.text)
		}
		for _, body := range []string{`{"calibration_end":"1997-09-30","time_unit":"month"}`, `{"calibration_end":"30/09/1997"}`, `{"calibration_end":"2999-01-01"}`} {
			if a := e.do(call{method: "POST", path: "/api/v1/predictions/fit", body: body}); a.status != 400 || a.body["code"] != "invalid" {
				t.Errorf("fit %s: %d %s", body, a.status, a.text)
			}
		}

		e.ingest(cdnowOrders(t, 4, 300))
		fit = e.do(call{method: "POST", path: "/api/v1/predictions/fit", body: `{"calibration_end":"1997-09-30","time_unit":"week"}`})
		if fit.status != 200 {
			t.Fatalf("fit: %d %s", fit.status, fit.text)
		}
		bg, gg := fit.body["bgnbd"].(map[string]any), fit.body["gamma_gamma"].(map[string]any)
		for _, k := range []string{"r", "alpha", "a", "b"} {
			if v, _ := bg[k].(float64); !(v > 0) {
				t.Errorf("bgnbd %s = %v", k, bg[k])
			}
		}
		if ll, _ := bg["log_likelihood"].(float64); !(ll < 0) || fit.body["customers"] != 300.0 || fit.body["calibration_end"] != "1997-09-30" ||
			fit.body["time_unit"] != "week" || gg["q"].(float64) <= 1 || fit.body["fit_seconds"] == nil {
			t.Fatalf("fit answer %s", fit.text)
		}
		m := e.get("/api/v1/predictions/model")
		if m.status != 200 || m.body["id"] != fit.body["id"] || m.body["bgnbd"].(map[string]any)["r"] != bg["r"] {
			t.Fatalf("model %d %s", m.status, m.text)
		}
		// Customer 1: 2 repeat purchases, t_x = 213 days, T = 272 days.
		p = e.get("/api/v1/profiles/lookup?type=user_id&value=cd-1")
		pred = p.body["predictions"].(map[string]any)
		if pred["available"] != true || pred["repeat_purchases"] != 2.0 || math.Abs(pred["recency"].(float64)-213.0/7) > 1e-12 ||
			math.Abs(pred["age"].(float64)-272.0/7) > 1e-12 || pred["model_id"] != fit.body["id"] {
			t.Fatalf("profile predictions: %s", p.text)
		}
		pa := pred["p_alive"].(float64)
		if !(pa > 0 && pa < 1) || pred["churn_risk"] == nil || pred["clv_12m"].(map[string]any)["currency"] != "EUR" || pred["expected_order_value"] == nil {
			t.Fatalf("profile predictions: %s", p.text)
		}

		h := e.get("/api/v1/predictions/holdout?calibration_end=1997-09-30&holdout_end=1998-06-30&time_unit=week&limit=2")
		if h.status != 200 {
			t.Fatalf("holdout %d %s", h.status, h.text)
		}
		rep := h.body["report"].(map[string]any)
		if rep["customers"] != 300.0 || rep["length"] != 39.0 || len(h.body["customers"].([]any)) != 2 || len(rep["by_frequency"].([]any)) != 8 {
			t.Fatalf("holdout %s", h.text)
		}
		if a := e.get("/api/v1/predictions/holdout?calibration_end=1997-09-30&holdout_end=1997-09-01"); a.status != 400 {
			t.Fatalf("holdout ending before the calibration end: %d %s", a.status, a.text)
		}
	})
}
