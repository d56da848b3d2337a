package web

import (
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/directory"
	"github.com/bottega-crm/bottega/internal/identity"
	pt "github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/bottega-crm/bottega/internal/survey"
)

var (
	rowID     = regexp.MustCompile(`data-testid="customer-row" data-id="([^"]+)"`)
	emailCell = regexp.MustCompile(`<td data-testid="customer-email">([^<]*)</td>`)
	nextLink  = regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="customers-next"`)
)

// listAll walks the list's pages from path and returns the ids shown.
func (f *fixture) listAll(c *http.Client, path string) []string {
	f.t.Helper()
	var ids []string
	for pages := 0; path != ""; pages++ {
		if pages > 50 {
			f.t.Fatal("the pages do not end")
		}
		r := f.get(c, path)
		if r.StatusCode != 200 {
			f.t.Fatalf("GET %s: %d %s", path, r.StatusCode, r.Body)
		}
		for _, m := range rowID.FindAllStringSubmatch(r.Body, -1) {
			ids = append(ids, m[1])
		}
		path = ""
		if m := nextLink.FindStringSubmatch(r.Body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return ids
}

func (f *fixture) ids(q string, args ...any) []string {
	f.t.Helper()
	rows, err := f.db.Query(context.Background(), q, args...)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func sortedIDs(xs []string) []string { xs = slices.Clone(xs); slices.Sort(xs); return xs }

func TestCustomerListFilters(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 200)
		ctx := context.Background()
		c := f.client(auth.Analyst)

		// Every page, every customer once, in a stable order; anonymous
		// visitors (no name, e-mail, phone or order) only when asked for.
		known := f.ids(`SELECT id FROM profiles p WHERE merged_into IS NULL AND (name <> '' OR email <> '' OR phone <> ''
			OR EXISTS (SELECT 1 FROM customer_stats x WHERE x.profile_id = p.id))`)
		if got := f.listAll(c, "/customers"); !slices.Equal(sortedIDs(got), sortedIDs(known)) {
			t.Fatalf("the list holds %d ids, want the %d known customers", len(got), len(known))
		}
		all := f.listAll(c, "/customers?visitors=1")
		want := f.ids("SELECT id FROM profiles WHERE merged_into IS NULL")
		if len(want) == len(known) {
			t.Fatal("the fixture has no anonymous visitor: the test proves nothing")
		}
		if len(want) <= directory.DefaultLimit {
			t.Fatalf("only %d customers: the fixture should need several pages", len(want))
		}
		if !slices.Equal(sortedIDs(all), sortedIDs(want)) {
			t.Fatalf("pages hold %d ids, want the %d customers exactly once", len(all), len(want))
		}
		if again := f.listAll(c, "/customers?visitors=1"); !slices.Equal(again, all) {
			t.Fatal("walking the pages twice gives another order")
		}

		var segment string
		for _, s := range f.ids("SELECT segment FROM rfm_scores GROUP BY segment ORDER BY COUNT(*) DESC") {
			segment = s
			break
		}
		stores, err := directory.Stores(ctx, db)
		if err != nil || len(stores) == 0 {
			t.Fatalf("stores %v %v", stores, err)
		}
		latest, err := survey.LatestNPS(ctx, db, fixtureEnd.AddDate(10, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		byGroup := map[string][]string{}
		for id, score := range latest {
			g := directory.Detractor
			if score >= 9 {
				g = directory.Promoter
			} else if score >= 7 {
				g = directory.Passive
			}
			byGroup[g] = append(byGroup[g], id)
		}
		for _, c2 := range []struct {
			query string
			want  []string
		}{
			{"segment=" + url.QueryEscape(segment), f.ids("SELECT s.profile_id FROM rfm_scores s JOIN profiles p ON p.id = s.profile_id WHERE p.merged_into IS NULL AND s.segment = ?", segment)},
			{"churn=high", f.ids("SELECT x.profile_id FROM predictions x JOIN profiles p ON p.id = x.profile_id WHERE p.merged_into IS NULL AND x.churn_risk = 'high'")},
			{"channel=pos", f.ids("SELECT DISTINCT p.canonical_id FROM orders o JOIN profiles p ON p.id = o.profile_id WHERE o.channel = 'pos'")},
			{"store=" + url.QueryEscape(stores[0]), f.ids("SELECT DISTINCT p.canonical_id FROM orders o JOIN profiles p ON p.id = o.profile_id WHERE o.store_id = ?", stores[0])},
			{"nps=promoter", byGroup[directory.Promoter]},
			{"nps=detractor", byGroup[directory.Detractor]},
			{"nps=passive&sort=spend", byGroup[directory.Passive]},
		} {
			got := f.listAll(c, "/customers?"+c2.query)
			if !slices.Equal(sortedIDs(got), sortedIDs(c2.want)) {
				t.Errorf("%s: %d customers, want %d", c2.query, len(got), len(c2.want))
			}
			if len(c2.want) == 0 && c2.query != "churn=high" {
				t.Errorf("%s: the fixture has no such customer; the test proves nothing", c2.query)
			}
		}
		if r := f.get(c, "/customers?churn=extreme"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad churn band: %d", r.StatusCode)
		}
		// An htmx request for the results gets the results alone.
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/customers?channel=web", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Target", "customer-results")
		if r := f.do(c, req); r.StatusCode != 200 || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="customer-results"`) {
			t.Errorf("htmx results: %d %.200s", r.StatusCode, r.Body)
		}
	})
}

// addPeople sends a hostile customer and a merged one through the
// pipeline.
func addPeople(f *fixture) (hostile, hugo string) {
	xss, img, js := `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `javascript:alert(1)`
	f.h.Send("web",
		pt.Ev("type", pt.Q("identify"), "userId", pt.Q("xss"), "timestamp", pt.At("2026-11-01", 60),
			"traits", `{"name":`+pt.Q(xss)+`,"bio":`+pt.Q(img)+`,"website":`+pt.Q(js)+`,"email":"mallory@example.com"}`),
		pt.Ev("type", pt.Q("track"), "userId", pt.Q("xss"), "event", pt.Q("Order Completed"), "timestamp", pt.At("2026-11-02", 60),
			"properties", `{"order_id":"X1","total":12,"url":`+pt.Q(js)+`,"products":[{"product_id":"p","name":`+pt.Q(xss)+`,"price":12,"quantity":1}]}`),
		pt.Ev("type", pt.Q("track"), "userId", pt.Q("xss"), "event", pt.Q("Survey Responded"), "timestamp", pt.At("2026-11-03", 60),
			"properties", `{"score":2,"comment":`+pt.Q(img)+`}`),
		pt.Ev("type", pt.Q("identify"), "userId", pt.Q("csv"), "timestamp", pt.At("2026-11-04", 60), "traits", `{"name":"=HYPERLINK(\"http://x\")","email":"csv@example.com"}`),
	)
	f.h.Send("pos", pt.Ev("type", pt.Q("track"), "anonymousId", pt.Q("card-hugo"), "event", pt.Q("Order Completed"), "timestamp", pt.At("2026-11-05", 60),
		"properties", `{"order_id":"H1","total":90,"store_id":"torino"}`))
	f.h.Send("web", pt.Ev("type", pt.Q("identify"), "userId", pt.Q("hugo"), "timestamp", pt.At("2026-11-06", 60),
		"traits", `{"name":"Hugo Blu","email":"hugo@example.com"}`))
	f.h.Send("web", pt.Ev("type", pt.Q("identify"), "userId", pt.Q("hugo"), "anonymousId", pt.Q("card-hugo"), "timestamp", pt.At("2026-11-07", 60)))
	return f.h.Root(identity.UserID, "xss"), f.h.Root(identity.UserID, "hugo")
}

func TestContactDetailsAreMaskedWithoutPII(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		addPeople(f)
		analyst, marketer := f.client(auth.Analyst), f.client(auth.Marketer)
		emails := func(body string) []string {
			var out []string
			for _, m := range emailCell.FindAllStringSubmatch(body, -1) {
				out = append(out, m[1])
			}
			return out
		}
		a := f.get(analyst, "/customers?sort=name")
		m := f.get(marketer, "/customers?sort=name")
		if got := emails(a.Body); !slices.Contains(got, "h***@***.com") || strings.Contains(a.Body, "hugo@example.com") {
			t.Errorf("analyst sees %v", got)
		}
		if got := emails(m.Body); !slices.Contains(got, "hugo@example.com") {
			t.Errorf("marketer sees %v", got)
		}
		// Searching by an e-mail or a phone tells whether that person is a
		// customer: only with customers:pii, on the page and in the CSV.
		for _, q := range []string{"hugo@example.com", "+39 333 123 4567"} {
			for _, path := range []string{"/customers?q=", "/customers.csv?q="} {
				if r := f.get(analyst, path+url.QueryEscape(q)); r.StatusCode != http.StatusForbidden {
					t.Errorf("analyst %s%s: %d", path, q, r.StatusCode)
				}
			}
		}
		if r := f.get(marketer, "/customers?q=hugo%40example.com"); r.StatusCode != 200 || !strings.Contains(r.Body, "hugo@example.com") {
			t.Errorf("marketer searching an e-mail: %d", r.StatusCode)
		}
		csvOf := func(c *http.Client) [][]string {
			r := f.get(c, "/customers.csv?sort=name")
			if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("csv: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
			}
			recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}
		ac, mc := csvOf(analyst), csvOf(marketer)
		if strings.Contains(strings.Join(slices.Concat(ac...), ","), "hugo@example.com") || !slices.ContainsFunc(ac, func(r []string) bool { return r[2] == "h***@***.com" }) {
			t.Errorf("analyst's CSV %q", ac)
		}
		if !slices.ContainsFunc(mc, func(r []string) bool { return r[2] == "hugo@example.com" }) {
			t.Errorf("marketer's CSV %q", mc)
		}
		// Formulas are defused in the CSV.
		if !slices.ContainsFunc(mc, func(r []string) bool { return r[1] == `'=HYPERLINK("http://x")` }) {
			t.Errorf("CSV injection not defused: %q", mc)
		}
		// The CSV carries the filters.
		if r := csvOf(marketer); len(r) < 3 {
			t.Errorf("csv rows %d", len(r))
		}
		filtered := f.get(marketer, "/customers.csv?store=torino")
		if recs, _ := csv.NewReader(strings.NewReader(filtered.Body)).ReadAll(); len(recs) != 2 || recs[1][1] != "Hugo Blu" {
			t.Errorf("store-filtered CSV %q", recs)
		}
		if !strings.Contains(f.get(marketer, "/customers?store=torino").Body, `href="/customers.csv?store=torino"`) {
			t.Error("the export link does not carry the filters")
		}
	})
}

func TestCustomer360(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 200)
		hostile, hugo := addPeople(f)
		ctx := context.Background()
		owner := f.client(auth.Owner)

		// A customer of the demo shop with the most orders: the page's
		// numbers are directory.View's.
		busiest := f.ids("SELECT profile_id FROM customer_stats ORDER BY orders DESC, profile_id LIMIT 1")[0]
		v, err := directory.View(ctx, db, busiest, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		r := f.get(owner, "/customers/"+busiest)
		if r.StatusCode != 200 {
			t.Fatalf("360: %d %s", r.StatusCode, r.Body)
		}
		if !strings.Contains(r.Body, `data-testid="customer-orders" data-value="`+strconv.FormatInt(v.Stats.Orders, 10)+`"`) ||
			!strings.Contains(r.Body, `data-testid="customer-revenue" data-value="`+strconv.FormatInt(v.Stats.Revenue.Minor, 10)+`"`) {
			t.Errorf("stats cards differ from directory.View (%d orders, %d revenue)", v.Stats.Orders, v.Stats.Revenue.Minor)
		}
		if n := strings.Count(r.Body, `data-testid="order-row"`); n != len(v.Orders) || n == 0 {
			t.Errorf("%d order rows, want %d", n, len(v.Orders))
		}
		if n := strings.Count(r.Body, `data-testid="identity-row"`); n != len(v.Identities) || n == 0 {
			t.Errorf("%d identity rows, want %d", n, len(v.Identities))
		}
		if n := strings.Count(r.Body, `data-testid="timeline-event"`); n == 0 || n > 50 {
			t.Errorf("%d timeline events", n)
		}
		// More of the timeline, through the cursor, until it ends.
		if m := regexp.MustCompile(`href="([^"]+)"[^>]*data-testid="timeline-more"`).FindStringSubmatch(r.Body); m != nil {
			req, _ := http.NewRequest(http.MethodGet, f.srv.URL+html.UnescapeString(m[1]), nil)
			req.Header.Set("HX-Request", "true")
			more := f.do(owner, req)
			if more.StatusCode != 200 || !strings.Contains(more.Body, `data-testid="timeline-event"`) || strings.Contains(more.Body, "<html") {
				t.Errorf("more timeline: %d %.300s", more.StatusCode, more.Body)
			}
		}

		// Customer data is only ever escaped.
		x := f.get(owner, "/customers/"+hostile)
		if x.StatusCode != 200 {
			t.Fatalf("hostile 360: %d", x.StatusCode)
		}
		for _, raw := range []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `href="javascript:`} {
			if strings.Contains(x.Body, raw) {
				t.Errorf("the page holds %q unescaped", raw)
			}
		}
		if !strings.Contains(x.Body, `&lt;script&gt;alert(1)&lt;/script&gt;`) || !strings.Contains(x.Body, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`) {
			t.Error("the hostile name or comment is not shown escaped")
		}
		list := f.get(owner, "/customers?sort=name")
		if strings.Contains(list.Body, `<script>alert(1)</script>`) || !strings.Contains(list.Body, `&lt;script&gt;alert(1)&lt;/script&gt;`) {
			t.Error("the list does not escape names")
		}

		// The analyst sees masked contacts and no undo button.
		analyst := f.client(auth.Analyst)
		a := f.get(analyst, "/customers/"+hugo)
		if strings.Contains(a.Body, "hugo@example.com") || !strings.Contains(a.Body, "h***@***.com") || strings.Contains(a.Body, `data-testid="undo-merge"`) {
			t.Errorf("analyst's 360 shows contacts or the undo button")
		}
		// A merged-away id leads to its survivor.
		members := f.ids("SELECT id FROM profiles WHERE canonical_id = ? AND id <> ?", hugo, hugo)
		if len(members) != 1 {
			t.Fatalf("hugo's merged members %v", members)
		}
		card := members[0]
		if r := f.get(owner, "/customers/"+card); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/customers/"+hugo {
			t.Errorf("merged-away id: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r := f.get(owner, "/customers/nobody"); r.StatusCode != http.StatusNotFound {
			t.Errorf("unknown customer: %d", r.StatusCode)
		}
	})
}

func TestUndoMergeFromThePage(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		for _, role := range []auth.Role{auth.Analyst, auth.Owner, auth.Care} {
			f.h.Send("pos", pt.Ev("type", pt.Q("track"), "anonymousId", pt.Q("card-"+string(role)), "event", pt.Q("Order Completed"),
				"timestamp", pt.At("2026-11-05", 60), "properties", `{"order_id":"O-`+string(role)+`","total":90}`))
			f.h.Send("web", pt.Ev("type", pt.Q("identify"), "userId", pt.Q(string(role)), "timestamp", pt.At("2026-11-06", 60),
				"traits", `{"name":"Customer of `+string(role)+`"}`))
			f.h.Send("web", pt.Ev("type", pt.Q("identify"), "userId", pt.Q(string(role)), "anonymousId", pt.Q("card-"+string(role)),
				"timestamp", pt.At("2026-11-07", 60)))
			root := f.h.Root(identity.UserID, string(role))
			ms, err := identity.Merges(context.Background(), db, root)
			if err != nil || len(ms) != 1 {
				t.Fatalf("merges %v %v", ms, err)
			}
			c := f.client(role)
			page := f.get(c, "/customers/"+root)
			r := f.post(c, "/merges/"+ms[0].ID+"/undo", nil)
			if role == auth.Analyst {
				if r.StatusCode != http.StatusForbidden {
					t.Errorf("analyst's undo: %d", r.StatusCode)
				}
				if m, _ := identity.GetMerge(context.Background(), db, ms[0].ID); m.UndoneAt != nil {
					t.Error("the analyst undid a merge")
				}
				continue
			}
			if !strings.Contains(page.Body, `action="/merges/`+ms[0].ID+`/undo"`) || !strings.Contains(page.Body, "hx-confirm=") {
				t.Errorf("%s: no undo button", role)
			}
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/customers/"+ms[0].Survivor+"?undone=1" && r.Header.Get("Location") != "/customers/"+root+"?undone=1" {
				t.Fatalf("%s undo: %d %q", role, r.StatusCode, r.Header.Get("Location"))
			}
			if f.h.Root(identity.AnonymousID, "card-"+string(role)) == f.h.Root(identity.UserID, string(role)) {
				t.Errorf("%s: still merged", role)
			}
			back := f.get(c, r.Header.Get("Location"))
			if !strings.Contains(back.Body, `data-testid="merge-undone"`) || strings.Contains(back.Body, `data-testid="undo-merge"`) {
				t.Errorf("%s: no flash, or the undone merge still offers undo", role)
			}
			if again := f.post(c, "/merges/"+ms[0].ID+"/undo", nil); again.StatusCode != http.StatusConflict {
				t.Errorf("%s: undoing twice: %d", role, again.StatusCode)
			}
		}
	})
}
