package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func (e *env) get(path string) answer {
	e.t.Helper()
	return e.do(call{method: "GET", path: path})
}

// The profile API end to end: lookup by any identifier, a merged-away id
// answering with its survivor, search, timeline and orders with paging,
// merges and their undo.
func TestProfileAPI(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		body := `{"batch":[
			{"type":"page","anonymousId":"anon-1","name":"Home","timestamp":"2025-03-01T10:00:00Z","context":{"campaign":{"source":"newsletter","medium":"email","name":"primavera"}}},
			{"type":"identify","userId":"c-1","timestamp":"2025-03-02T10:00:00Z","traits":{"name":"Chiara Ferri","email":"Chiara.Ferri@Example.it","phone":"+39 340 555 1234"}},
			{"type":"track","userId":"c-1","event":"Order Completed","timestamp":"2025-03-03T10:00:00Z","properties":{"order_id":"W-1","total":"59.80","products":[{"product_id":"p1","name":"Vaso","price":29.9,"quantity":2}]}},
			{"type":"track","userId":"c-1","anonymousId":"anon-1","event":"Signed In","timestamp":"2025-03-04T10:00:00Z"}]}`
		if a := e.do(call{method: "POST", path: "/v1/batch", body: body}); a.status != 200 {
			t.Fatal(a.text)
		}
		e.drain()
		for _, who := range []string{"type=email&value=" + url.QueryEscape(" CHIARA.FERRI@example.it"), "type=phone&value=3405551234", "type=user_id&value=c-1", "type=anonymous_id&value=anon-1"} {
			a := e.get("/api/v1/profiles/lookup?" + who)
			if a.status != 200 || a.body["name"] != "Chiara Ferri" {
				t.Fatalf("lookup %s: %d %s", who, a.status, a.text)
			}
		}
		p := e.get("/api/v1/profiles/lookup?type=user_id&value=c-1")
		id := p.body["id"].(string)
		merged := p.body["merged_profiles"].([]any)
		stats := p.body["stats"].(map[string]any)
		if len(merged) != 1 || stats["orders"] != 1.0 || stats["revenue"].(map[string]any)["amount"] != "59.80" || len(p.body["identities"].([]any)) != 4 {
			t.Fatalf("profile %s", p.text)
		}
		if acq := p.body["acquisition"].(map[string]any); acq["name"] != "primavera" || acq["channel"] != "web" {
			t.Fatalf("acquisition %v", acq)
		}
		// The merged-away profile answers with the survivor.
		old := e.get("/api/v1/profiles/" + merged[0].(string))
		if old.status != 200 || old.body["id"] != id || old.header.Get("Content-Location") != "/api/v1/profiles/"+id {
			t.Fatalf("merged-away profile: %d %v %s", old.status, old.header, old.text)
		}
		if a := e.get("/api/v1/profiles/nope"); a.status != 404 || a.body["code"] != "not_found" {
			t.Fatalf("unknown profile: %d %s", a.status, a.text)
		}
		if a := e.get("/api/v1/profiles/lookup?type=email&value=someone@example.it"); a.status != 404 {
			t.Fatalf("unknown identifier: %d %s", a.status, a.text)
		}
		if a := e.get("/api/v1/profiles/lookup?type=Bad-Type&value=x"); a.status != 400 {
			t.Fatalf("bad type: %d %s", a.status, a.text)
		}
		for _, q := range []string{"chiara", "FERRI", "ferri chia", "chiara.ferri@example.it", "340555", "c-1", "anon-1"} {
			a := e.get("/api/v1/profiles?q=" + url.QueryEscape(q))
			ps, _ := a.body["profiles"].([]any)
			if a.status != 200 || len(ps) != 1 || ps[0].(map[string]any)["id"] != id {
				t.Fatalf("search %q: %s", q, a.text)
			}
		}
		if a := e.get("/api/v1/profiles?q=rossi"); len(a.body["profiles"].([]any)) != 0 {
			t.Fatalf("search for nobody: %s", a.text)
		}
		// Timeline, two by two, newest first, across both merged profiles.
		var seen []string
		next := ""
		for range 3 {
			a := e.get("/api/v1/profiles/" + id + "/timeline?limit=2&before=" + next)
			if a.status != 200 {
				t.Fatalf("timeline page: %d %s", a.status, a.text)
			}
			for _, ev := range a.body["events"].([]any) {
				m := ev.(map[string]any)
				seen = append(seen, fmt.Sprint(m["type"], ":", m["event"]))
			}
			next, _ = a.body["next"].(string)
			if next == "" {
				break
			}
		}
		if want := "[track:Signed In track:Order Completed identify:<nil> page:Home]"; fmt.Sprint(seen) != want {
			t.Fatalf("timeline %v, want %s", seen, want)
		}
		o := e.get("/api/v1/profiles/" + id + "/orders")
		orders := o.body["orders"].([]any)
		if len(orders) != 1 || orders[0].(map[string]any)["status"] != "completed" || len(orders[0].(map[string]any)["items"].([]any)) != 1 {
			t.Fatalf("orders %s", o.text)
		}
		m := e.get("/api/v1/profiles/" + id + "/merges")
		ms := m.body["merges"].([]any)
		if len(ms) != 1 {
			t.Fatalf("merges %s", m.text)
		}
		mid := ms[0].(map[string]any)["id"].(string)
		u := e.do(call{method: "POST", path: "/api/v1/merges/" + mid + "/undo"})
		if u.status != 200 || u.body["restored_profile_id"] == u.body["kept_profile_id"] {
			t.Fatalf("undo: %d %s", u.status, u.text)
		}
		if a := e.do(call{method: "POST", path: "/api/v1/merges/" + mid + "/undo"}); a.status != 409 || a.body["code"] != "conflict" {
			t.Fatalf("second undo: %d %s", a.status, a.text)
		}
		anon, user := e.get("/api/v1/profiles/lookup?type=anonymous_id&value=anon-1"), e.get("/api/v1/profiles/lookup?type=user_id&value=c-1")
		if anon.body["id"] == user.body["id"] || anon.body["stats"].(map[string]any)["orders"] != 0.0 || user.body["stats"].(map[string]any)["orders"] != 1.0 {
			t.Fatalf("after undo:\n%s\n%s", anon.text, user.text)
		}
	})
}

func TestAPIAuthentication(t *testing.T) {
	e := newEnv(t, sqldbtest.Open(t, sqldb.SQLite))
	for _, auth := range []string{"-", "Bearer ", "Bearer bak_forged", "Basic " + e.apiKey, "Bearer " + e.writeKey} {
		h := map[string]string{"Authorization": auth}
		if auth == "-" {
			h = map[string]string{"Authorization": ""}
		}
		req := call{method: "GET", path: "/api/v1/stats", header: h}
		if auth == "-" {
			req.header = map[string]string{"Authorization": "none"}
		}
		if a := e.do(req); a.status != 401 || a.body["code"] != "unauthorized" {
			t.Errorf("Authorization %q: %d %s", auth, a.status, a.text)
		}
	}
	if err := e.store.RevokeAPIKey(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	if a := e.get("/api/v1/stats"); a.status != 401 {
		t.Fatalf("revoked key: %d", a.status)
	}
}

func TestIdentityRulesAPI(t *testing.T) {
	e := newEnv(t, sqldbtest.Open(t, sqldb.SQLite))
	r := e.get("/api/v1/identity/rules")
	if r.status != 200 || r.body["phone_region"] != "IT" || len(r.body["types"].([]any)) < 6 {
		t.Fatalf("rules %s", r.text)
	}
	bad := `{"types":[{"type":"user_id","priority":1,"limit":1}],"custom":{"priority":5,"limit":5},"blocked_values":[],"blocked_patterns":["("],"phone_region":"IT"}`
	if a := e.do(call{method: "PUT", path: "/api/v1/identity/rules", body: bad}); a.status != 400 {
		t.Fatalf("invalid rules accepted: %d %s", a.status, a.text)
	}
	good := `{"types":[{"type":"user_id","priority":1,"limit":1},{"type":"anonymous_id","priority":9,"limit":2,"window":"24h"},{"type":"email","priority":2,"limit":1}],
		"custom":{"priority":5,"limit":5},"blocked_values":["guest"],"blocked_patterns":[],"phone_region":"ch"}`
	a := e.do(call{method: "PUT", path: "/api/v1/identity/rules", body: good})
	if a.status != 200 || a.body["phone_region"] != "CH" {
		t.Fatalf("put rules: %d %s", a.status, a.text)
	}
	r = e.get("/api/v1/identity/rules")
	if types := r.body["types"].([]any); len(types) != 3 || types[1].(map[string]any)["window"] != "24h0m0s" {
		t.Fatalf("rules after put: %s", r.text)
	}
}
