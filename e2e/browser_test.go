package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/chromedp/chromedp"
)

// The staff users the browser signs in as (made with bottega user create).
const (
	ownerEmail    = "owner@e2e.bottega.test"
	analystEmail  = "analyst@e2e.bottega.test"
	linguaEmail   = "lingua@e2e.bottega.test" // switches to Italian
	staffPassword = "correct horse battery staple"
)

// Hostile strings: each one, should a page put it into the DOM as markup
// (or a URL), sets window.__xss or adds an element the test looks for.
var hostile = []string{
	`<script>window.__xss=1</script>`,
	`"><img src=x onerror="window.__xss=1">`,
	`'><svg onload=window.__xss=1>`,
}

const hostileURL = `javascript:window.__xss=1`

// TestBrowser drives the dashboard of the real binary in headless
// Chromium: a demo shop of 1,000 people on SQLite (enough for the
// predictions to fit, so the churn risk bands show) plus customers whose data
// is made to break out of HTML, signed in as staff users of several roles.
// Every page the subtests visit must run without a JavaScript exception,
// a console error or a dialog other than the confirmations they expect.
func TestBrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail, strict) before starting anything
	s := startDemo(t, 1000)
	createUser(t, s.DSN, ownerEmail, "owner", staffPassword)
	createUser(t, s.DSN, analystEmail, "analyst", staffPassword)
	createUser(t, s.DSN, linguaEmail, "marketer", staffPassword)
	evil := seedHostile(t, s)
	s.WaitProcessed(t)

	b := startBrowser(t, s.URL())
	tb := b.newTab(t)

	t.Run("login_overview_kpis", func(t *testing.T) { tb.use(t); testOverviewKPIs(t, s, tb) })
	t.Run("drill_down", func(t *testing.T) { tb.use(t); testDrillDown(t, s, tb) })
	t.Run("undo_merge", func(t *testing.T) { tb.use(t); testUndoMerge(t, s, tb) })
	t.Run("sources_write_keys", func(t *testing.T) { tb.use(t); testSourceKeys(t, s, tb) })
	t.Run("web_shop_snippet", func(t *testing.T) { tb.use(t); testShopSnippet(t, s, tb) })
	t.Run("italian", func(t *testing.T) { tb.use(t); testItalian(t, s, tb) })
	t.Run("analyst_masked", func(t *testing.T) { tb.use(t); testAnalyst(t, s, tb) })
	t.Run("xss", func(t *testing.T) { tb.use(t); testXSS(t, s, tb, evil) })
	t.Run("logout_ends_session", func(t *testing.T) { tb.use(t); testLogout(t, s, tb) })
	t.Run("phone_layout", func(t *testing.T) {
		ph := b.newTab(t)
		ph.use(t)
		testPhone(t, s, ph)
	})
}

// ---- data -----------------------------------------------------------------

// evilData is what seedHostile sent.
type evilData struct {
	userIDs []string // user ids of the hostile customers
	emails  []string // their (valid) e-mail addresses
	search  string   // a search term that finds them
}

// seedHostile creates a source with the CLI and sends customers, orders,
// an NPS answer, events and a quarantined event whose text is markup.
func seedHostile(t *testing.T, s *Server) evilData {
	t.Helper()
	key := createSource(t, s.DSN, "hostile-web", "web")
	at := time.Now().UTC().Add(-10 * time.Minute)
	n := 0
	ev := func(m map[string]any) map[string]any {
		n++
		m["messageId"] = fmt.Sprintf("xss-%d", n)
		m["timestamp"] = at.Add(time.Duration(n) * time.Second).Format(time.RFC3339Nano)
		return m
	}
	h0, h1, h2 := hostile[0], hostile[1], hostile[2]
	batch := []map[string]any{
		ev(map[string]any{"type": "identify", "userId": "xss-user-1", "traits": map[string]any{
			"name": "Eve " + h0, "email": "eve.xss@hostile.example", "first_name": h1, "last_name": h2,
			"website": hostileURL, "company": h1, "address": map[string]any{"city": h2, "street": h0},
		}}),
		ev(map[string]any{"type": "identify", "userId": "xss-user-2", "traits": map[string]any{
			"name": h1 + " Mallory", "email": "mallory.xss@hostile.example", "website": hostileURL, "title": h2, "avatar": hostileURL,
		}}),
		ev(map[string]any{"type": "identify", "userId": "xss-user-3", "traits": map[string]any{
			"name": h2 + " Trudy", "email": h1 + "@hostile.example", "nickname": h0, "website": hostileURL,
		}}),
		ev(map[string]any{"type": "track", "userId": "xss-user-1", "event": "Order Completed", "properties": map[string]any{
			"order_id": "xss-order-1", "total": 42.5, "currency": "EUR", "coupon": h2,
			"products": []map[string]any{
				{"product_id": "p-xss-1", "name": h0, "category": h1, "price": 20, "quantity": 1},
				{"product_id": "p-xss-2", "name": h1, "brand": h2, "price": 22.5, "quantity": 1, "url": hostileURL},
			},
		}}),
		ev(map[string]any{"type": "track", "userId": "xss-user-1", "event": "Survey Responded", "properties": map[string]any{
			"survey_type": "nps", "score": 2, "comment": h0 + " " + h1 + " " + h2, "channel": "web",
		}}),
		ev(map[string]any{"type": "track", "userId": "xss-user-2", "event": h1, "properties": map[string]any{"note": h2, "link": hostileURL}}),
		ev(map[string]any{"type": "page", "userId": "xss-user-2", "name": h2, "properties": map[string]any{"url": hostileURL, "title": h0}}),
		// No identity: quarantined, and shown in the debugger's quarantine.
		ev(map[string]any{"type": "track", "event": h0, "properties": map[string]any{"note": h1}}),
	}
	body, err := json.Marshal(map[string]any{"batch": batch})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Post("/v1/batch", key, body, nil)
	if r.Err != nil || r.Status != http.StatusOK {
		t.Fatalf("sending the hostile batch: %s", r)
	}
	return evilData{
		userIDs: []string{"xss-user-1", "xss-user-2", "xss-user-3"},
		emails:  []string{"eve.xss@hostile.example", "mallory.xss@hostile.example"},
		search:  "window", // a word of every hostile name
	}
}

// apiProfile is what the tests read of GET /api/v1/profiles/{id}.
type apiProfile struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	RFM   *struct {
		Segment string `json:"segment"`
		R       int    `json:"r"`
		FM      int    `json:"fm"`
	} `json:"rfm"`
	Predictions struct {
		Available bool   `json:"available"`
		ChurnRisk string `json:"churn_risk"`
	} `json:"predictions"`
}

func profileByID(t testing.TB, s *Server, key, id string) apiProfile {
	t.Helper()
	var p apiProfile
	if r := getJSONWith(t, s, key, "/api/v1/profiles/"+url.PathEscape(id), &p); r.Err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/profiles/%s: %s", id, r)
	}
	return p
}

func profileByUserID(t testing.TB, s *Server, userID string) apiProfile {
	t.Helper()
	var p apiProfile
	s.MustGetJSON(t, "/api/v1/profiles/lookup?"+url.Values{"type": {"user_id"}, "value": {userID}}.Encode(), &p)
	return p
}

// ---- page readers -----------------------------------------------------------

// customerRow is a row of the customers table.
type customerRow struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Text  string `json:"text"`
}

// customerRows reads the rows of the customers table on the page: the
// profile each links to, and the e-mail it shows.
func (tb *tab) customerRows(t testing.TB) []customerRow {
	t.Helper()
	return evalJS[[]customerRow](t, tb, `Array.from(document.querySelectorAll('[data-testid="customer-row"]')).map(r => {
		const a = r.querySelector('a[href^="/customers/"]');
		const id = a ? decodeURIComponent(new URL(a.href).pathname.split('/')[2] || '') : (r.dataset.id || r.dataset.profile || '');
		const e = r.querySelector('[data-testid="customer-email"]');
		return {id: id, email: e ? e.innerText.trim() : '', text: r.innerText};
	})`)
}

// ---- subtests ---------------------------------------------------------------

// testOverviewKPIs signs in as the owner and compares every KPI on the
// overview (cards and the table of all KPIs) with GET /api/v1/kpis for the
// period the page shows.
func testOverviewKPIs(t *testing.T, s *Server, tb *tab) {
	tb.login(t, ownerEmail, staffPassword)
	if p := tb.path(t); p != "/" && !strings.HasPrefix(p, "/overview") {
		t.Fatalf("after signing in the owner is on %s; want the overview", p)
	}
	tb.open(t, "/overview")
	tb.step(t, "waiting for the KPI cards", chromedp.WaitVisible(chromedp.CSS(`.cards [data-testid^="kpi-"][data-value]`)))
	from := evalJS[string](t, tb, `document.querySelector('[data-testid="period-from"]').value`)
	to := evalJS[string](t, tb, `document.querySelector('[data-testid="period-to"]').value`)
	if from == "" || to == "" {
		t.Fatalf("the overview's period inputs are empty (from %q, to %q)", from, to)
	}
	api := kpisOf(t, s, from, to)

	type shown struct {
		TestID string `json:"id"`
		Raw    string `json:"raw"`
		Text   string `json:"text"`
		Card   bool   `json:"card"`
	}
	items := evalJS[[]shown](t, tb, `Array.from(document.querySelectorAll('[data-testid^="kpi-"][data-value]')).map(e => ({
		id: e.dataset.testid, raw: e.dataset.value, text: e.innerText.trim(), card: e.classList.contains('kpi')}))`)
	cards, compared := 0, 0
	for _, it := range items {
		key := strings.TrimPrefix(strings.TrimPrefix(it.TestID, "kpi-row-"), "kpi-")
		want, ok := api[key]
		if !ok {
			t.Errorf("%s: the API has no KPI %q for %s…%s", it.TestID, key, from, to)
			continue
		}
		compared++
		if it.Card {
			cards++
			if it.Text == "" {
				t.Errorf("%s: the card shows no text", it.TestID)
			}
		}
		if want.Value == nil {
			if it.Raw != "null" {
				t.Errorf("%s: data-value %q; the API says null", it.TestID, it.Raw)
			}
			continue
		}
		got, err := strconv.ParseFloat(it.Raw, 64)
		if err != nil {
			t.Errorf("%s: data-value %q is not a number (API: %v)", it.TestID, it.Raw, *want.Value)
			continue
		}
		if math.Abs(got-*want.Value) > 1e-9*math.Max(1, math.Abs(*want.Value)) {
			t.Errorf("%s: data-value %v; GET /api/v1/kpis?from=%s&to=%s says %v", it.TestID, got, from, to, *want.Value)
		}
	}
	if cards < 3 {
		t.Errorf("the overview shows %d KPI cards (of %d KPI elements); want at least 3", cards, len(items))
	}
	for _, k := range []string{"revenue", "orders"} {
		if _, ok := api[k]; ok && !tb.has(t, `[data-testid="kpi-`+k+`"]`) {
			t.Errorf("no KPI card %s", k)
		}
	}
	t.Logf("%d KPI elements (%d cards) equal GET /api/v1/kpis?from=%s&to=%s", compared, cards, from, to)
}

// apiKPI is one KPI of GET /api/v1/kpis.
type apiKPI struct {
	Key   string   `json:"key"`
	Unit  string   `json:"unit"`
	Value *float64 `json:"value"`
}

// kpisOf returns every KPI of the API's overview of a period, by key.
func kpisOf(t testing.TB, s *Server, from, to string) map[string]apiKPI {
	t.Helper()
	var o map[string]json.RawMessage
	s.MustGetJSON(t, "/api/v1/kpis?"+url.Values{"from": {from}, "to": {to}}.Encode(), &o)
	out := map[string]apiKPI{}
	for _, sec := range []string{"sales", "customers", "costs", "value", "nps", "care", "conversion", "upselling"} {
		var ks []apiKPI
		if raw, ok := o[sec]; ok && len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &ks); err != nil {
				t.Fatalf("kpis section %s: %v", sec, err)
			}
		}
		for _, k := range ks {
			out[k.Key] = k
		}
	}
	if len(out) == 0 {
		t.Fatal("GET /api/v1/kpis returned no KPIs")
	}
	return out
}

// testDrillDown clicks an RFM grid cell and a churn risk band on the
// overview and checks that the customers page lists only customers of that
// segment or band, as the API scores them.
func testDrillDown(t *testing.T, s *Server, tb *tab) {
	tb.login(t, ownerEmail, staffPassword)

	t.Run("rfm_cell", func(t *testing.T) {
		tb.use(t)
		tb.open(t, "/overview")
		cell := evalJS[string](t, tb, `(() => {
			const a = Array.from(document.querySelectorAll('a[data-testid^="rfm-cell-"]'))
				.filter(a => parseInt(a.innerText.replace(/\D/g, ''), 10) > 0);
			return a.length ? a[0].dataset.testid : '';
		})()`)
		if cell == "" {
			t.Fatal("no RFM grid cell with customers on the overview")
		}
		tb.follow(t, "clicking "+cell, chromedp.Click(chromedp.CSS(`[data-testid="`+cell+`"]`)))
		u := tb.pageURL(t)
		seg := u.Query().Get("segment")
		if u.Path != "/customers" || seg == "" {
			t.Fatalf("clicking %s opened %s; want /customers?segment=…", cell, u)
		}
		want, ok := rfm.ParseSegment(seg)
		if !ok {
			t.Fatalf("segment=%q is not an RFM segment", seg)
		}
		// The cell's link also names its R and FM scores: a cell is a part
		// of a segment, and the list must be that part.
		r, fm := u.Query().Get("r"), u.Query().Get("fm")
		rows := tb.waitRows(t)
		var offCell []string
		for _, row := range firstN(rows, 12) {
			p := profileByID(t, s, s.APIKey, row.ID)
			switch {
			case p.RFM == nil:
				t.Errorf("customer %s is listed under %q but has no RFM score", row.ID, want)
			case p.RFM.Segment != want:
				t.Errorf("customer %s is listed under %q; the API puts them in %q", row.ID, want, p.RFM.Segment)
			case r != "" && strconv.Itoa(p.RFM.R) != r, fm != "" && strconv.Itoa(p.RFM.FM) != fm:
				offCell = append(offCell, fmt.Sprintf("%s (R %d FM %d)", row.ID, p.RFM.R, p.RFM.FM))
			}
		}
		if len(offCell) > 0 {
			t.Errorf("the cell R %s FM %s opened %s, which lists customers of other cells of %q (does the customers page ignore r= and fm=?): %s",
				r, fm, u.RequestURI(), want, strings.Join(offCell, ", "))
		}
		t.Logf("%s → %s: %d rows, the first %d checked against the API", cell, u.RequestURI(), len(rows), len(firstN(rows, 12)))
	})

	t.Run("churn_band", func(t *testing.T) {
		tb.use(t)
		tb.open(t, "/overview")
		band := evalJS[string](t, tb, `(() => {
			const a = Array.from(document.querySelectorAll('a[data-testid^="churn-"]'))
				.filter(a => parseInt((a.innerText.split(':').pop() || '').replace(/\D/g, ''), 10) > 0);
			return a.length ? a[a.length - 1].dataset.testid : '';
		})()`)
		if band == "" {
			t.Fatal("no churn risk band with customers on the overview (are the predictions fitted?)")
		}
		tb.follow(t, "clicking "+band, chromedp.Click(chromedp.CSS(`[data-testid="`+band+`"]`)))
		u := tb.pageURL(t)
		risk := u.Query().Get("churn")
		if u.Path != "/customers" || risk == "" {
			t.Fatalf("clicking %s opened %s; want /customers?churn=…", band, u)
		}
		rows := tb.waitRows(t)
		for _, row := range firstN(rows, 12) {
			p := profileByID(t, s, s.APIKey, row.ID)
			if p.Predictions.ChurnRisk != risk {
				t.Errorf("customer %s is listed under churn=%s; the API says %q (available %v)", row.ID, risk, p.Predictions.ChurnRisk, p.Predictions.Available)
			}
		}
		t.Logf("%s → %s: %d rows, the first %d checked against the API", band, u.RequestURI(), len(rows), len(firstN(rows, 12)))
	})

	t.Run("persona", func(t *testing.T) {
		tb.use(t)
		tb.open(t, "/overview")
		link := evalJS[string](t, tb, `(() => {
			const a = Array.from(document.querySelectorAll('a[data-testid^="persona-"]'))
				.filter(a => new URL(a.href).searchParams.get('persona'));
			return a.length ? a[0].dataset.testid : '';
		})()`)
		if link == "" {
			t.Fatal("no persona link on the overview")
		}
		tb.follow(t, "clicking "+link, chromedp.Click(chromedp.CSS(`[data-testid="`+link+`"]`)))
		u := tb.pageURL(t)
		persona := u.Query().Get("persona")
		if u.Path != "/customers" || persona == "" {
			t.Fatalf("clicking %s opened %s; want /customers?persona=…", link, u)
		}
		rows := tb.waitRows(t)
		for _, row := range firstN(rows, 12) {
			var p struct {
				Persona *struct {
					ID int `json:"id"`
				} `json:"persona"`
			}
			s.MustGetJSON(t, "/api/v1/profiles/"+url.PathEscape(row.ID), &p)
			if p.Persona == nil || strconv.Itoa(p.Persona.ID) != persona {
				t.Errorf("customer %s is listed under persona %s; the API says %+v", row.ID, persona, p.Persona)
			}
		}
		t.Logf("%s → %s: %d rows, the first %d checked against the API", link, u.RequestURI(), len(rows), len(firstN(rows, 12)))
	})
}

func firstN[T any](xs []T, n int) []T {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// waitRows waits for the customers table and returns its rows; a page with
// none fails the test.
func (tb *tab) waitRows(t testing.TB) []customerRow {
	t.Helper()
	tb.waitJS(t, "the customers table has rows", `document.querySelector('[data-testid="customer-row"]')`)
	rows := tb.customerRows(t)
	for _, r := range rows {
		if r.ID == "" {
			t.Fatalf("a customer row links to no customer page: %q", r.Text)
		}
	}
	return rows
}

// pageURL is the page's URL, parsed.
func (tb *tab) pageURL(t testing.TB) *url.URL {
	t.Helper()
	u, err := url.Parse(tb.location(t))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// apiMerge is a merge as GET /api/v1/profiles/{id}/merges lists it.
type apiMerge struct {
	ID       string  `json:"id"`
	Survivor string  `json:"survivor_id"`
	Merged   string  `json:"merged_id"`
	UndoneAt *string `json:"undone_at"`
}

func mergesOf(t testing.TB, s *Server, id string) []apiMerge {
	t.Helper()
	var out struct {
		Merges []apiMerge `json:"merges"`
	}
	s.MustGetJSON(t, "/api/v1/profiles/"+url.PathEscape(id)+"/merges", &out)
	return out.Merges
}

// testUndoMerge opens a customer made of merged profiles, clicks "Undo
// merge", accepts the confirmation and checks through the API that the
// merge is undone.
func testUndoMerge(t *testing.T, s *Server, tb *tab) {
	db := openDB(t, s.DSN)
	// A survivor of a merge that is still in place (the demo's loyalty card,
	// shared tablet and sign-up scenarios make them).
	rows, err := db.Query(context.Background(), `SELECT survivor_id FROM merges WHERE undone_at IS NULL ORDER BY created_at DESC LIMIT 20`)
	if err != nil {
		t.Fatalf("finding merges: %v", err)
	}
	var survivors []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		survivors = append(survivors, id)
	}
	rows.Close()
	var (
		customer string
		merge    apiMerge
	)
	for _, id := range survivors {
		for _, m := range mergesOf(t, s, id) {
			if m.UndoneAt == nil {
				customer, merge = id, m
				break
			}
		}
		if customer != "" {
			break
		}
	}
	if customer == "" {
		t.Fatalf("the demo shop has no merge in place (%d survivors looked at)", len(survivors))
	}

	tb.login(t, ownerEmail, staffPassword)
	if st := tb.open(t, "/customers/"+url.PathEscape(customer)); st != http.StatusOK {
		t.Fatalf("GET /customers/%s: status %d%s", customer, st, tb.where())
	}
	// The button of this merge: in a form posting to /merges/{id}/undo.
	sel := fmt.Sprintf(`[data-testid="undo-merge"][data-merge=%q], form[action="/merges/%s/undo"] button, button[hx-post="/merges/%s/undo"]`,
		merge.ID, merge.ID, merge.ID)
	if !tb.has(t, sel) {
		sel = `[data-testid="undo-merge"]`
	}
	tb.step(t, "waiting for the Undo merge button", chromedp.WaitVisible(chromedp.CSS(sel)))
	tb.expectConfirm()
	tb.step(t, "clicking Undo merge", chromedp.Click(chromedp.CSS(sel)))
	waitFor(t, "the API shows merge "+merge.ID+" undone", func() (bool, string) {
		for _, m := range mergesOf(t, s, merge.Survivor) {
			if m.ID == merge.ID {
				return m.UndoneAt != nil, fmt.Sprintf("%+v", m)
			}
		}
		// The survivor may itself have been split off; look from the other side.
		for _, m := range mergesOf(t, s, merge.Merged) {
			if m.ID == merge.ID {
				return m.UndoneAt != nil, fmt.Sprintf("%+v", m)
			}
		}
		return false, "the merge is listed on neither profile"
	})
	tb.waitJS(t, "the page confirms the undo", `document.querySelector('[data-testid="merge-undone"]')`)
	// The split-off profile stands on its own again.
	if p := profileByID(t, s, s.APIKey, merge.Merged); p.ID != merge.Merged {
		t.Errorf("after the undo, profile %s resolves to %s; want itself", merge.Merged, p.ID)
	}
	tb.mu.Lock()
	left := tb.confirms
	tb.mu.Unlock()
	if left != 0 {
		t.Errorf("Undo merge asked for no confirmation (hx-confirm)")
	}
}

// testSourceKeys creates a source on /sources, uses its write key (shown
// once), rotates it with no grace period and disables the source: each old
// key must then be refused with 401.
func testSourceKeys(t *testing.T, s *Server, tb *tab) {
	tb.login(t, ownerEmail, staffPassword)
	tb.open(t, "/sources")
	name := fmt.Sprintf("browser-%d", time.Now().UnixNano()%1e6)
	tb.fill(t, "source-name", name)
	tb.step(t, "filling the new source form",
		chromedp.SetValue(chromedp.ID("source-channel"), "web"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-source"]`)),
	)
	tb.waitJS(t, "the new write key is shown", `document.querySelector('[data-testid="write-key"]')`)
	key := strings.TrimSpace(tb.text(t, `[data-testid="write-key"]`))
	if !strings.HasPrefix(key, "bwk_") {
		t.Fatalf("the page shows %q as the write key", key)
	}
	if !tb.has(t, fmt.Sprintf(`[data-testid="source-row"][data-source=%q]`, name)) {
		t.Errorf("the sources table has no row for %s", name)
	}
	track := func(key, id string) Reply {
		body := fmt.Sprintf(`{"userId":"browser-key-test","event":"Key Checked","messageId":%q}`, id)
		return s.Post("/v1/track", key, []byte(body), nil)
	}
	if r := track(key, "bk-1"); r.Status != http.StatusOK {
		t.Fatalf("POST /v1/track with the new write key: %s; want 200", r)
	}
	// Reloading the page must not show the key again.
	tb.open(t, "/sources")
	if tb.has(t, `[data-testid="write-key"]`) && strings.Contains(tb.text(t, `[data-testid="write-key"]`), key) {
		t.Errorf("the write key is shown again after a reload")
	}

	// Rotate, with no grace period: the old key stops working at once.
	row := fmt.Sprintf(`[data-testid="source-row"][data-source=%q]`, name)
	tb.step(t, "choosing no grace period", chromedp.SetValue(chromedp.CSS(row+` select[name="grace"]`), "0"))
	tb.expectConfirm()
	tb.step(t, "clicking Rotate", chromedp.Click(chromedp.CSS(row+` [data-testid="rotate-source"]`)))
	tb.waitJS(t, "the rotated key is shown", `(() => { const k = document.querySelector('[data-testid="write-key"]');
		return k && k.innerText.trim() !== `+jsString(key)+` })()`)
	rotated := strings.TrimSpace(tb.text(t, `[data-testid="write-key"]`))
	if !strings.HasPrefix(rotated, "bwk_") || rotated == key {
		t.Fatalf("after rotating, the page shows %q as the key (old %q)", rotated, key)
	}
	waitFor(t, "the old key is refused after the rotation", func() (bool, string) {
		r := track(key, "bk-2")
		return r.Status == http.StatusUnauthorized, r.String()
	})
	if r := track(rotated, "bk-3"); r.Status != http.StatusOK {
		t.Errorf("POST /v1/track with the rotated key: %s; want 200", r)
	}

	// Disable: the current key is refused too.
	tb.open(t, "/sources")
	tb.expectConfirm()
	tb.step(t, "clicking Disable", chromedp.Click(chromedp.CSS(row+` [data-testid="disable-source"]`)))
	tb.waitJS(t, "the source shows as disabled", `document.querySelector(`+jsString(row+` [data-testid="enable-source"]`)+`)`)
	waitFor(t, "the key of the disabled source is refused", func() (bool, string) {
		r := track(rotated, "bk-4")
		return r.Status == http.StatusUnauthorized, r.String()
	})
}

// testShopSnippet pastes the web shop snippet the Sources page shows for a
// new source into a page of another site, as a shop would, and checks that
// the events the snippet sends from the browser reach the customer's
// profile: no CORS preflight, JSON as text/plain, the write key in the body.
func testShopSnippet(t *testing.T, s *Server, tb *tab) {
	tb.login(t, ownerEmail, staffPassword)
	tb.open(t, "/sources")
	n := time.Now().UnixNano() % 1e6
	tb.fill(t, "source-name", fmt.Sprintf("shop-%d", n))
	tb.step(t, "creating a web source",
		chromedp.SetValue(chromedp.ID("source-channel"), "web"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-source"]`)),
	)
	tb.waitJS(t, "the snippet with the new key is shown", `document.getElementById("snippet-new-browser")`)
	snippet := tb.text(t, "#snippet-new-browser")
	if !strings.Contains(snippet, "bwk_") || !strings.Contains(snippet, s.URL()) {
		t.Fatalf("the browser snippet lacks the key or the address:\n%s", snippet)
	}
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html><head><title>Negozio</title></head><body><h1>Negozio</h1>\n%s\n</body></html>", snippet)
	}))
	defer shop.Close()
	user := fmt.Sprintf("snippet-%d", n)
	tb.step(t, "opening the shop's page", chromedp.Navigate(shop.URL+"/"))
	tb.waitJS(t, "the snippet has loaded", `typeof window.bottega === "object"`)
	evalJS[bool](t, tb, fmt.Sprintf(`(bottega.identify(%s, { email: %s }),
		bottega.track("Order Completed", { order_id: %s, total: 42.5, currency: "EUR" }), true)`,
		jsString(user), jsString(user+"@example.it"), jsString("SNIP-"+user)))
	var p struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Stats struct {
			Orders int `json:"orders"`
		} `json:"stats"`
	}
	waitFor(t, "the snippet's events reach the profile", func() (bool, string) {
		r := s.GetJSON(t, "/api/v1/profiles/lookup?type=user_id&value="+user, &p)
		return r.Status == http.StatusOK && p.Stats.Orders == 1, r.String()
	})
	if p.Email != user+"@example.it" {
		t.Errorf("the profile's e-mail is %q", p.Email)
	}
}

// testItalian switches a user to Italian: the labels and the number formats
// change, and the choice survives signing out and in again.
func testItalian(t *testing.T, s *Server, tb *tab) {
	tb.login(t, linguaEmail, staffPassword)
	tb.open(t, "/overview")
	if lang := evalJS[string](t, tb, `document.documentElement.lang`); lang != "en" {
		t.Fatalf("a new user's dashboard is in %q; want en", lang)
	}
	tb.follow(t, "clicking Italiano", chromedp.Click(chromedp.CSS(`button[name="lang"][value="it"]`)))
	checkItalian := func(when string) {
		t.Helper()
		if lang := evalJS[string](t, tb, `document.documentElement.lang`); lang != "it" {
			t.Fatalf("%s: the page's language is %q; want it", when, lang)
		}
		nav := tb.text(t, `nav#nav`)
		for _, w := range []string{"Clienti", "Panoramica"} {
			if !strings.Contains(nav, w) {
				t.Errorf("%s: the navigation reads %q; want %q in it", when, nav, w)
			}
		}
		// Money KPIs: "1.234,56 €" — a decimal comma, dots between thousands.
		from := evalJS[string](t, tb, `document.querySelector('[data-testid="period-from"]').value`)
		to := evalJS[string](t, tb, `document.querySelector('[data-testid="period-to"]').value`)
		itMoney := regexp.MustCompile(`^−?\d{1,3}(\.\d{3})*,\d{2}\x{a0}€$`)
		checked := 0
		for key, k := range kpisOf(t, s, from, to) {
			if k.Unit != "money" || k.Value == nil || !tb.has(t, `.cards [data-testid="kpi-`+key+`"] .kpi-value`) {
				continue
			}
			v := strings.TrimSpace(tb.text(t, `.cards [data-testid="kpi-`+key+`"] .kpi-value`))
			if !itMoney.MatchString(v) {
				t.Errorf("%s: KPI %s (%v) reads %q; want Italian money such as 1.234,56 €", when, key, *k.Value, v)
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s: no money KPI card to check the number format on", when)
		}
	}
	checkItalian("after choosing Italiano")
	tb.logout(t)
	tb.login(t, linguaEmail, staffPassword) // login clears every cookie first
	tb.open(t, "/overview")
	checkItalian("after signing in again")
}

// testAnalyst checks what an analyst may not see: /settings is refused and
// e-mails are masked on the pages and in the API with their own key, while
// the owner sees them whole.
func testAnalyst(t *testing.T, s *Server, tb *tab) {
	tb.login(t, analystEmail, staffPassword)
	if st := tb.open(t, "/settings"); st != http.StatusForbidden {
		t.Errorf("an analyst opening /settings gets status %d; want 403", st)
	}
	if tb.has(t, `[data-testid="user-row"], [data-testid="create-user"]`) {
		t.Errorf("the analyst sees the staff users on the 403 page")
	}
	if evalJS[bool](t, tb, `Array.from(document.querySelectorAll('nav#nav a')).some(a => a.getAttribute('href') === '/settings')`) {
		t.Errorf("the analyst's navigation links to /settings")
	}

	tb.open(t, "/customers?"+url.Values{"q": {"mallory"}}.Encode())
	rows := tb.waitRows(t)
	var target customerRow
	for _, r := range rows {
		full := profileByID(t, s, s.APIKey, r.ID).Email
		if full == "" {
			continue
		}
		if r.Email == "" || r.Email == full || strings.Contains(r.Text, full) {
			t.Errorf("an analyst's customer list shows %q for %s (full address %q); want it masked", r.Email, r.ID, full)
		}
		if target.ID == "" {
			target = r
		}
	}
	if target.ID == "" {
		t.Fatalf("no customer with an e-mail among %d rows", len(rows))
	}
	full := profileByID(t, s, s.APIKey, target.ID).Email
	masked := auth.MaskEmail(full)
	tb.open(t, "/customers/"+url.PathEscape(target.ID))
	got := strings.TrimSpace(tb.text(t, `[data-testid="customer-email"]`))
	if got != masked || strings.Contains(evalJS[string](t, tb, `document.body.innerHTML`), full) {
		t.Errorf("an analyst's customer page shows e-mail %q (and the full %q is in the HTML: %v); want %q",
			got, full, strings.Contains(evalJS[string](t, tb, `document.body.innerHTML`), full), masked)
	}

	// The analyst's own API key, made on /account: the API masks too.
	tb.open(t, "/account")
	tb.fill(t, "key-name", "analyst-browser")
	if tb.has(t, `input[name="scope"][value="customers:read"]`) {
		tb.step(t, "ticking customers:read", chromedp.Click(chromedp.CSS(`input[name="scope"][value="customers:read"]`)))
	}
	tb.step(t, "creating the key", chromedp.Click(chromedp.CSS(`[data-testid="create-apikey"]`)))
	tb.waitJS(t, "the new API key is shown", `document.querySelector('[data-testid="new-apikey"]')`)
	key := strings.TrimSpace(tb.text(t, `[data-testid="new-apikey"]`))
	if !strings.HasPrefix(key, "bak_") {
		t.Fatalf("the page shows %q as the new API key", key)
	}
	if p := profileByID(t, s, key, target.ID); p.Email != masked {
		t.Errorf("GET /api/v1/profiles/%s with the analyst's key: email %q; want %q", target.ID, p.Email, masked)
	}

	// The owner sees the address.
	tb.login(t, ownerEmail, staffPassword)
	tb.open(t, "/customers/"+url.PathEscape(target.ID))
	if got := strings.TrimSpace(tb.text(t, `[data-testid="customer-email"]`)); got != full {
		t.Errorf("the owner's customer page shows e-mail %q; want %q", got, full)
	}
}

// testXSS visits every page that shows the hostile customers' data: no
// injected script may run and no injected element may exist.
func testXSS(t *testing.T, s *Server, tb *tab, evil evilData) {
	tb.login(t, ownerEmail, staffPassword)
	clean := func(where string) {
		t.Helper()
		// Give onerror/onload handlers of anything injected the chance to
		// fire: wait until every image has settled.
		tb.waitJS(t, "images settled on "+where, `Array.from(document.images).every(i => i.complete)`)
		type verdict struct {
			XSS     bool     `json:"xss"`
			Injects []string `json:"injects"`
		}
		v := evalJS[verdict](t, tb, `({
			xss: typeof window.__xss !== 'undefined',
			injects: Array.from(document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], script:not([src]):not([type="application/json"]), a[href^="javascript:" i], [src^="javascript:" i]'))
				.map(e => e.outerHTML.slice(0, 200)),
		})`)
		if v.XSS {
			t.Errorf("%s: an injected script ran (window.__xss is set)", where)
		}
		for _, e := range v.Injects {
			t.Errorf("%s: injected element in the DOM: %s", where, e)
		}
	}
	var ids []string
	for _, u := range evil.userIDs {
		ids = append(ids, profileByUserID(t, s, u).ID)
	}
	for i, id := range ids {
		tb.open(t, "/customers/"+url.PathEscape(id))
		tb.waitJS(t, "the customer page shows the hostile name", `document.body.innerText.includes('window.__xss')`)
		clean(fmt.Sprintf("customer page of %s (%s)", evil.userIDs[i], id))
		for _, sec := range []string{"traits", "orders", "answers", "timeline"} {
			sel := `[data-testid="` + sec + `"]`
			if tb.has(t, sel) && strings.Contains(tb.text(t, sel), "window.__xss") {
				t.Logf("%s: the %s section shows the hostile text as text", evil.userIDs[i], sec)
			}
		}
		if tb.has(t, `[data-testid="timeline"] [hx-get], [hx-get*="/timeline"]`) {
			// A lazily loaded timeline: wait for it to settle.
			tb.waitJS(t, "the timeline loaded", `!document.querySelector('.htmx-request')`)
			clean(fmt.Sprintf("timeline of %s", evil.userIDs[i]))
		}
	}
	for _, q := range append([]string{evil.search, "Eve", "Mallory", "Trudy"}, evil.emails...) {
		tb.open(t, "/customers?"+url.Values{"q": {q}}.Encode())
		tb.waitRows(t)
		clean("customers searching " + q)
	}
	tb.open(t, "/customers")
	clean("customers")
	tb.open(t, "/sources")
	tb.waitJS(t, "the live debugger shows the hostile event", `(() => {
		const rows = document.querySelectorAll('[data-testid="event-row"]');
		return Array.from(rows).some(r => r.innerText.includes('window.__xss'));
	})()`)
	tb.waitJS(t, "the debugger's quarantine shows the hostile event", `Array.from(document.querySelectorAll('[data-testid="quarantine-row"]')).some(r => r.innerText.includes('window.__xss'))`)
	clean("sources and the live event debugger")
	tb.open(t, "/overview")
	clean("overview")
	tb.open(t, "/")
	clean("home")
}

// testLogout signs out and puts the old session cookie back: it must no
// longer open a page.
func testLogout(t *testing.T, s *Server, tb *tab) {
	tb.login(t, ownerEmail, staffPassword)
	c := tb.cookie(t, "bottega_session")
	if c == nil {
		t.Fatal("no bottega_session cookie after signing in")
	}
	if !c.HTTPOnly {
		t.Errorf("the session cookie is not HttpOnly")
	}
	tb.open(t, "/customers")
	tb.logout(t)
	if tb.cookie(t, "bottega_session") != nil {
		t.Errorf("the session cookie is still set after signing out")
	}
	tb.setCookie(t, c)
	tb.open(t, "/customers")
	if p := tb.path(t); !strings.HasPrefix(p, "/login") {
		t.Errorf("the old session cookie opened %s after signing out; want /login", p)
	}
	if tb.has(t, `[data-testid="customer-row"], [data-testid="logout"]`) {
		t.Errorf("the old session cookie still shows signed-in content")
	}
}

// testPhone uses a 390 px wide viewport: the menu button shows and opens
// the navigation, and the customers table scrolls inside its wrapper
// instead of widening the page.
func testPhone(t *testing.T, s *Server, ph *tab) {
	ph.step(t, "emulating a 390×844 phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	ph.login(t, ownerEmail, staffPassword)
	ph.open(t, "/customers")
	ph.waitRows(t)
	if w := evalJS[int](t, ph, `window.innerWidth`); w != 390 {
		t.Fatalf("the viewport is %d px wide; want 390", w)
	}
	visible := `(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')`
	if !evalJS[bool](t, ph, visible+`(document.querySelector('[data-nav-toggle]'))`) {
		t.Fatal("the menu button is hidden on a phone")
	}
	if evalJS[bool](t, ph, visible+`(document.querySelector('nav#nav a[href="/customers"]'))`) {
		t.Errorf("the navigation is open before the menu button is pressed")
	}
	ph.step(t, "pressing the menu button", chromedp.Click(chromedp.CSS(`[data-nav-toggle]`)))
	ph.waitJS(t, "the navigation opens", `document.querySelector('[data-nav-toggle]').getAttribute('aria-expanded') === 'true' && `+
		visible+`(document.querySelector('nav#nav a[href="/customers"]'))`)
	ph.follow(t, "following the Sources link of the opened navigation", chromedp.Click(chromedp.CSS(`nav#nav a[href="/sources"]`)))
	if p := ph.path(t); p != "/sources" {
		t.Errorf("the navigation's Sources link opened %s", p)
	}
	ph.open(t, "/customers")
	ph.waitRows(t)

	type layout struct {
		DocWidth  int    `json:"doc"`
		View      int    `json:"view"`
		InWrap    bool   `json:"inWrap"`
		Overflow  string `json:"overflow"`
		WrapWidth int    `json:"wrapWidth"`
		TableWide int    `json:"tableWide"`
	}
	l := evalJS[layout](t, ph, `(() => {
		const row = document.querySelector('[data-testid="customer-row"]');
		const wrap = row.closest('.table-wrap');
		const table = row.closest('table');
		return {doc: document.documentElement.scrollWidth, view: window.innerWidth, inWrap: !!wrap,
			overflow: wrap ? getComputedStyle(wrap).overflowX : '', wrapWidth: wrap ? wrap.clientWidth : 0,
			tableWide: table ? table.scrollWidth : 0};
	})()`)
	if !l.InWrap {
		t.Fatal("the customers table is not inside a .table-wrap")
	}
	if l.Overflow != "auto" && l.Overflow != "scroll" {
		t.Errorf(".table-wrap has overflow-x %q; want auto or scroll", l.Overflow)
	}
	if l.DocWidth > l.View {
		t.Errorf("the page is %d px wide on a %d px screen: the body scrolls sideways", l.DocWidth, l.View)
	}
	if l.WrapWidth > l.View {
		t.Errorf(".table-wrap is %d px wide on a %d px screen", l.WrapWidth, l.View)
	}
	t.Logf("phone: page %d px, table %d px inside a %d px .table-wrap (overflow-x %s)", l.DocWidth, l.TableWide, l.WrapWidth, l.Overflow)
}
