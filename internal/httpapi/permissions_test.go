package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/httpapi"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// key makes an API key for a new staff member of the given role (or a
// service key with the given scopes when role is "").
func (e *env) key(role auth.Role, scopes ...auth.Permission) string {
	e.t.Helper()
	ctx := context.Background()
	owner := ""
	if role != "" {
		u, err := e.store.CreateUser(ctx, string(role)+"@staff.test", "", role, "a long enough password")
		if err != nil {
			e.t.Fatal(err)
		}
		owner = u.ID
	}
	_, secret, err := e.store.CreateAPIKey(ctx, "k-"+string(role), owner, scopes)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret
}

func (e *env) getAs(key, path string) answer {
	e.t.Helper()
	return e.do(call{method: "GET", path: path, header: map[string]string{"Authorization": "Bearer " + key}})
}

// Every API route checks its permission: 403 with code forbidden and a
// detail naming the permission.
func TestRoutePermissions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		analytics := e.key("", auth.AnalyticsRead)
		analyst := e.key(auth.Analyst)
		care := e.key(auth.Care)
		for _, tc := range []struct {
			name, key, method, path, body string
			status                        int
			need                          auth.Permission
		}{
			{"service key in scope", analytics, "GET", "/api/v1/rfm", "", 404, ""}, // allowed; nothing computed yet
			{"service key out of scope", analytics, "GET", "/api/v1/stats", "", 403, auth.PipelineRead},
			{"service key, profiles", analytics, "GET", "/api/v1/profiles", "", 403, auth.CustomersRead},
			{"analyst reads rules", analyst, "GET", "/api/v1/identity/rules", "", 403, auth.SettingsRead},
			{"analyst writes rules", analyst, "PUT", "/api/v1/identity/rules", "{}", 403, auth.SettingsWrite},
			{"analyst reads stats", analyst, "GET", "/api/v1/stats", "", 200, ""},
			{"analyst undoes a merge", analyst, "POST", "/api/v1/merges/m-1/undo", "", 403, auth.CustomersWrite},
			{"care undoes a merge", care, "POST", "/api/v1/merges/m-1/undo", "", 404, ""},
			{"care reads KPIs", care, "GET", "/api/v1/kpis", "", 403, auth.AnalyticsRead},
			{"care lists sources", care, "GET", "/api/v1/sources", "", 403, auth.SourcesRead},
			{"analyst fits", analyst, "POST", "/api/v1/predictions/fit", `{"calibration_end":"2020-01-01"}`, 409, ""},
		} {
			a := e.do(call{method: tc.method, path: tc.path, body: tc.body, header: map[string]string{"Authorization": "Bearer " + tc.key}})
			if a.status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.text, tc.status)
				continue
			}
			if tc.need != "" {
				if d, _ := a.body["detail"].(string); a.body["code"] != "forbidden" || !strings.Contains(d, string(tc.need)) {
					t.Errorf("%s: %s; want code forbidden naming %s", tc.name, a.text, tc.need)
				}
			}
		}
		// A disabled member's key stops working.
		u, _ := e.store.UserByEmail(context.Background(), "analyst@staff.test")
		if err := e.store.SetUserDisabled(context.Background(), auth.Operator(), u.ID, true); err != nil {
			t.Fatal(err)
		}
		if a := e.getAs(analyst, "/api/v1/stats"); a.status != 401 {
			t.Errorf("disabled member's key: %d %s", a.status, a.text)
		}
	})
}

// Without customers:pii, e-mail addresses and phone numbers are masked in
// every answer, and lookups by them are refused.
func TestContactDetailsMasked(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		body := `{"batch":[
			{"type":"identify","userId":"c-1","timestamp":"2025-03-02T10:00:00Z","traits":{"name":"Chiara Ferri","email":"Chiara.Ferri@Example.it","phone":"+39 340 555 1234","address":{"city":"Lecce"}}},
			{"type":"track","anonymousId":"a-1","event":"Signed In","timestamp":"2025-03-03T10:00:00Z","context":{"traits":{"email":"chiara.ferri@example.it"}}},
			{"type":"track","userId":"c-1","anonymousId":"a-1","event":"Viewed","timestamp":"2025-03-04T10:00:00Z","properties":{"contact":{"phone":"3405551234"},"note":"write to chiara.ferri@example.it"}}]}`
		if a := e.do(call{method: "POST", path: "/v1/batch", body: body}); a.status != 200 {
			t.Fatal(a.text)
		}
		e.drain()
		analyst, marketer := e.key(auth.Analyst), e.key(auth.Marketer)
		secrets := []string{"chiara.ferri@example.it", "Chiara.Ferri@Example.it", "340 555 1234", "3405551234", "+393405551234"}

		full := e.getAs(marketer, "/api/v1/profiles/lookup?type=user_id&value=c-1")
		if full.status != 200 || full.body["email"] != "chiara.ferri@example.it" || !strings.Contains(full.text, "+393405551234") {
			t.Fatalf("marketer sees: %s", full.text)
		}
		id := full.body["id"].(string)

		p := e.getAs(analyst, "/api/v1/profiles/lookup?type=user_id&value=c-1")
		if p.status != 200 || p.body["name"] != "Chiara Ferri" || p.body["email"] != "c***@***.it" || p.body["phone"] != "***34" {
			t.Fatalf("analyst's profile: %d %s", p.status, p.text)
		}
		if traits := p.body["traits"].(map[string]any); traits["email"] != "c***@***.it" || traits["address"].(map[string]any)["city"] != "Lecce" {
			t.Errorf("traits: %v", traits)
		}
		for _, path := range []string{
			"/api/v1/profiles/lookup?type=user_id&value=c-1",
			"/api/v1/profiles/" + id,
			"/api/v1/profiles/" + id + "/timeline",
			"/api/v1/profiles/" + id + "/merges",
			"/api/v1/profiles?q=chiara",
			"/api/v1/profiles",
		} {
			a := e.getAs(analyst, path)
			if a.status != 200 {
				t.Errorf("%s: %d %s", path, a.status, a.text)
				continue
			}
			for _, s := range secrets {
				if strings.Contains(a.text, s) {
					t.Errorf("%s shows %q to an analyst:\n%s", path, s, a.text)
				}
			}
		}
		if a := e.getAs(analyst, "/api/v1/profiles?q=chiara"); len(a.body["profiles"].([]any)) != 1 {
			t.Errorf("search by name: %s", a.text)
		}
		// E-mail and phone are not a way in.
		for _, typ := range []string{"email", "phone"} {
			a := e.getAs(analyst, "/api/v1/profiles/lookup?type="+typ+"&value=x")
			if a.status != 403 || a.body["code"] != "forbidden" || !strings.Contains(a.text, "customers:pii") {
				t.Errorf("lookup by %s: %d %s", typ, a.status, a.text)
			}
		}
		for _, q := range []string{"chiara.ferri@example.it", "340 555 1234"} {
			if a := e.getAs(analyst, "/api/v1/profiles?q="+url.QueryEscape(q)); a.status != 403 || a.body["code"] != "forbidden" {
				t.Errorf("search by %q for an analyst: %d %s", q, a.status, a.text)
			}
		}
		if a := e.getAs(marketer, "/api/v1/profiles?q="+url.QueryEscape("chiara.ferri@example.it")); len(a.body["profiles"].([]any)) != 1 {
			t.Errorf("search by e-mail for a marketer: %s", a.text)
		}
		if a := e.getAs(marketer, "/api/v1/profiles/lookup?type=email&value="+url.QueryEscape("chiara.ferri@example.it")); a.status != 200 || a.body["id"] != id {
			t.Errorf("lookup by e-mail for a marketer: %d %s", a.status, a.text)
		}
	})
}

// The OpenAPI document says what each operation needs and that it may
// answer 403.
func TestOpenAPIDocumentsPermissions(t *testing.T) {
	e := newEnv(t, sqldbtest.Open(t, sqldb.SQLite))
	a := e.do(call{method: "GET", path: "/openapi.json"})
	scheme := a.body["components"].(map[string]any)["securitySchemes"].(map[string]any)["apiKey"].(map[string]any)
	for _, p := range auth.Permissions {
		if !strings.Contains(scheme["description"].(string), string(p)) {
			t.Errorf("the security scheme does not name %s", p)
		}
	}
	paths := a.body["paths"].(map[string]any)
	for _, r := range httpapiRoutes() {
		op, _ := paths[r.path].(map[string]any)[strings.ToLower(r.method)].(map[string]any)
		if op == nil {
			t.Errorf("%s %s undocumented", r.method, r.path)
			continue
		}
		if _, ok := op["responses"].(map[string]any)["403"]; !ok {
			t.Errorf("%s %s: no 403 response", r.method, r.path)
		}
		if d, _ := op["description"].(string); !strings.Contains(d, "`"+string(r.need)+"`") {
			t.Errorf("%s %s: description %q does not name %s", r.method, r.path, d, r.need)
		}
	}
}

type apiRoute struct {
	method, path string
	need         auth.Permission
}

func httpapiRoutes() []apiRoute {
	var out []apiRoute
	for _, r := range httpapi.Routes() {
		if r.Credential == httpapi.APIKey {
			out = append(out, apiRoute{r.Method, r.Path, r.Permission})
		}
	}
	return out
}
