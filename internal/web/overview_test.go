package web

import (
	"context"
	"html"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// dataValues returns the data-value of every element with a data-testid
// starting with prefix, by data-testid.
func dataValues(body, prefix string) map[string]string {
	re := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(prefix) + `([a-z0-9_]+)" data-value="([^"]*)"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// checkKPIs compares the page's KPI values with kpi's overview of the same
// period computed directly: every KPI is in the table, the headline ones
// are cards too.
func checkKPIs(t *testing.T, db *sqldb.DB, body string, from, to kpi.Day) kpi.Overview {
	t.Helper()
	o, err := kpi.Compute(context.Background(), db, kpi.Query{From: from, To: to, BaseCurrency: "EUR", Now: fixtureEnd})
	if err != nil {
		t.Fatal(err)
	}
	rows, cards := dataValues(body, "kpi-row-"), dataValues(body, "kpi-")
	n := 0
	for _, sec := range [][]kpi.KPI{o.Sales, o.Customers, o.Costs, o.Value, o.NPS, o.Care, o.Conversion, o.Upselling} {
		for _, k := range sec {
			n++
			want := rawJSON(k.Value)
			if got, ok := rows[k.Key]; !ok || got != want {
				t.Errorf("%s..%s: table %s = %q (shown: %v), want %q", from, to, k.Key, got, ok, want)
			}
			if got, ok := cards[k.Key]; ok && got != want {
				t.Errorf("%s..%s: card %s = %q, want %q", from, to, k.Key, got, want)
			}
		}
	}
	if len(rows) != n {
		t.Errorf("the table shows %d KPIs, the overview has %d", len(rows), n)
	}
	for _, k := range cardKPIs {
		if _, ok := cards[k]; !ok {
			t.Errorf("no card for %s", k)
		}
	}
	return o
}

func TestOverviewPage(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 200)
		ctx := context.Background()
		today := kpi.DayOf(fixtureEnd)

		owner := f.client(auth.Owner)
		start := time.Now()
		r := f.get(owner, "/overview")
		t.Logf("overview rendered in %v (200 people, first request)", time.Since(start))
		if r.StatusCode != http.StatusOK {
			t.Fatalf("owner /overview: %d %s", r.StatusCode, r.Body)
		}
		o := checkKPIs(t, db, r.Body, today-29, today)
		if *o.Sales[3].Value == 0 {
			t.Fatal("the fixture has no orders in the last 30 days: the comparison proves nothing")
		}
		for _, id := range []string{`data-chart="revenue-trend"`, `data-chart="orders-trend"`, `data-chart="mix-channel"`, `data-chart="cohorts"`,
			`data-testid="rfm-grid"`, `data-testid="period-form"`, `hx-push-url="true"`} {
			if !strings.Contains(r.Body, id) {
				t.Errorf("the page lacks %s", id)
			}
		}

		// The analyst's home is the overview; a chosen period is the API's.
		analyst := f.client(auth.Analyst)
		r = f.get(analyst, "/?from=2026-01-01&to=2026-06-30")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("analyst /: %d", r.StatusCode)
		}
		from, _ := kpi.ParseDay("2026-01-01")
		to, _ := kpi.ParseDay("2026-06-30")
		checkKPIs(t, db, r.Body, from, to)
		if !strings.Contains(r.Body, `value="2026-01-01"`) || !strings.Contains(r.Body, `data-chart="revenue-trend"`) {
			t.Error("the period form does not show the period asked for")
		}

		// The care agent may not see analytics.
		if r := f.get(f.client(auth.Care), "/overview"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("care /overview: %d", r.StatusCode)
		}
		// Half a period is refused as the API refuses it.
		if r := f.get(owner, "/overview?from=2026-01-01"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("from without to: %d", r.StatusCode)
		}
		if r := f.get(owner, "/overview?from=2026-02-01&to=2026-01-01"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("to before from: %d", r.StatusCode)
		}

		// RFM cells link to their customers with the cell's filter.
		grid, err := rfm.Current(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		link := regexp.MustCompile(`<a href="([^"]+)" data-testid="rfm-cell-(\d)-(\d)"[^>]*>([^<]*)</a>`)
		cells := link.FindAllStringSubmatch(r.Body, -1)
		if len(cells) != 25 {
			t.Fatalf("%d RFM cells", len(cells))
		}
		counts := map[[2]int]int64{}
		for _, c := range grid.Cells {
			counts[[2]int{c.R, c.FM}] = c.Customers
		}
		en := f.locale("en")
		for _, m := range cells {
			u, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil {
				t.Fatal(err)
			}
			rr, _ := strconv.Atoi(m[2])
			fm, _ := strconv.Atoi(m[3])
			q := u.Query()
			if u.Path != "/customers" || q.Get("segment") != rfm.Segment(rr, fm) || q.Get("r") != m[2] || q.Get("fm") != m[3] {
				t.Errorf("cell R%d FM%d links to %s", rr, fm, u)
			}
			if m[4] != en.Int(counts[[2]int{rr, fm}]) {
				t.Errorf("cell R%d FM%d shows %q, the grid has %d", rr, fm, m[4], counts[[2]int{rr, fm}])
			}
		}
		if !strings.Contains(html.UnescapeString(r.Body), `href="/customers?segment=Can%27t+Lose+Them"`) {
			t.Error("the segment list does not link to Can't Lose Them")
		}

		// Churn bands link to their customers, when there are predictions.
		if _, err := predict.Current(ctx, db); err == nil {
			for _, b := range predict.Risks {
				if !strings.Contains(r.Body, `href="/customers?churn=`+string(b)+`"`) {
					t.Errorf("no link to the %s churn band", b)
				}
			}
		} else if !strings.Contains(r.Body, `data-testid="empty-predictions"`) {
			t.Errorf("no predictions (%v) and no explanation", err)
		}

		// In Italian: Italian labels and number formats.
		if r := f.post(owner, "/locale", url.Values{"lang": {"it"}, "back": {"/overview"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("switch to Italian: %d", r.StatusCode)
		}
		r = f.get(owner, "/overview")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `<html lang="it">`) {
			t.Fatalf("Italian overview: %d", r.StatusCode)
		}
		it := f.locale("it")
		revenue := *o.Sales[0].Value
		shown := it.Money(int64(math.Round(revenue * 100)))
		card := regexp.MustCompile(`data-testid="kpi-revenue"[^>]*>\s*<span class="kpi-value">([^<]*)</span>\s*<span class="kpi-label">([^<]*)</span>`).FindStringSubmatch(r.Body)
		if card == nil || card[1] != shown || card[2] != "Fatturato" {
			t.Errorf("Italian revenue card %q, want %q and Fatturato", card, shown)
		}
		if !strings.Contains(shown, ",") || !strings.HasSuffix(shown, "\u00a0€") {
			t.Errorf("%q is not an Italian amount", shown)
		}
		for _, w := range []string{"Clienti attivi", "Tasso di abbandono", "Ultimi 30 giorni", "rispetto al periodo precedente"} {
			if !strings.Contains(r.Body, w) {
				t.Errorf("the Italian page lacks %q", w)
			}
		}
		if strings.Contains(r.Body, `<span class="kpi-label">Active customers</span>`) || strings.Contains(r.Body, "vs previous period") {
			t.Error("the Italian page has English labels")
		}

		// htmx asks for the same page; it picks #main.
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/overview?from=2026-10-01&to=2026-10-31", nil)
		req.Header.Set("HX-Request", "true")
		if r := f.do(owner, req); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `id="main"`) || !strings.Contains(r.Body, `value="2026-10-31"`) {
			t.Errorf("htmx request: %d", r.StatusCode)
		}
	})
}

func TestOverviewOfAnEmptyShop(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		for _, lang := range []string{"en", "it"} {
			c := f.client(auth.Owner)
			f.post(c, "/locale", url.Values{"lang": {lang}, "back": {"/"}})
			r := f.get(c, "/")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s: empty shop: %d %s", lang, r.StatusCode, r.Body)
			}
			for _, id := range []string{"empty-sales", "empty-nps", "empty-cohorts", "empty-rfm", "empty-predictions", "empty-personas"} {
				if !strings.Contains(r.Body, `data-testid="`+id+`"`) {
					t.Errorf("%s: no %s", lang, id)
				}
			}
			if strings.Contains(r.Body, "data-chart=") {
				t.Errorf("%s: an empty shop draws charts", lang)
			}
			if v := dataValues(r.Body, "kpi-")["revenue"]; v != "0" {
				t.Errorf("%s: revenue %q", lang, v)
			}
		}
	})
}

// locale returns the dashboard's locale for lang.
func (f *fixture) locale(lang string) *Locale {
	f.t.Helper()
	cat, err := loadCatalog()
	if err != nil {
		f.t.Fatal(err)
	}
	return cat.locale(lang, "EUR", time.UTC)
}
