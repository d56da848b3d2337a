package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/web"
)

// runPages measures how long the dashboard's pages take to render on a shop
// of a million customers.
func runPages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pages", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 0)
	customers := fs.Int("customers", 1_000_000, "customers to create")
	runs := fs.Int("runs", 40, "requests per page (after two warm-up requests)")
	only := fs.String("only", "", "time only the pages whose name matches this regular expression (and the baselines)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed requests to this file (ENGINE is replaced by the engine)")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	match, err := regexp.Compile(*only)
	if err != nil {
		return fmt.Errorf("--only: %w", err)
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return pagesFigure(ctx, h, engine, *customers, *runs, match, strings.ReplaceAll(*cpuProfile, "ENGINE", engine))
	})
}

// pagesEnd is the benchmark shop's "today": its data ends here and the
// dashboard's clock stands here.
var pagesEnd = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func pagesFigure(ctx context.Context, h *harness, engine string, customers, runs int, only *regexp.Regexp, cpuProfile string) (*Result, error) {
	db, dsn, err := h.migratedDatabase(ctx, engine, "pages")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := newResult(ctx, h, "pages", engine, dsn)
	r.Params["customers"] = strconv.Itoa(customers)
	r.Params["fill"] = "profiles with names, e-mails, phones, search terms and identities; orders over three years " +
		"(web/app/three stores); NPS answers from 15% of customers; then the KPI rollups, RFM, personas and predictions " +
		"computed by the jobs' own code"
	r.Params["requests"] = "GET through a real HTTP server with a signed-in owner's session, one at a time"

	h.logf("%s: filling a shop of %d customers", engine, customers)
	start := time.Now()
	orders, err := seedPages(ctx, db, customers)
	if err != nil {
		return nil, err
	}
	if engine == "postgres" {
		if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
			return nil, err
		}
	}
	filled := time.Since(start)
	h.logf("%s: %d orders in %.0f s; computing rollups and scores", engine, orders, filled.Seconds())
	start = time.Now()
	if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return kpi.RebuildAll(ctx, tx, kpi.Options{}) }); err != nil {
		return nil, err
	}
	if _, err := rfm.Refresh(ctx, db, pagesEnd, "EUR"); err != nil {
		return nil, err
	}
	if _, err := persona.Refresh(ctx, db, pagesEnd, "EUR", persona.Options{}); err != nil {
		return nil, err
	}
	now := func() time.Time { return pagesEnd }
	preds := predict.NewService(db, predict.Config{BaseCurrency: "EUR"}, now)
	if err := preds.Refit(ctx); err != nil {
		return nil, err
	}
	if engine == "postgres" {
		if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
			return nil, err
		}
	}
	scored := time.Since(start)
	r.Notes = append(r.Notes, fmt.Sprintf("fill: %d customers and %d orders in %.0f s; rollups, RFM, personas and predictions in %.0f s",
		customers, orders, filled.Seconds(), scored.Seconds()))

	store := auth.NewStore(db, now)
	password := auth.GeneratePassword()
	if _, err := store.CreateUser(ctx, "owner@bench.test", "Bench Owner", auth.Owner, password); err != nil {
		return nil, err
	}
	handler, err := web.New(web.Deps{DB: db, Auth: store, Sources: auth.NewSourceCache(store, 2*time.Second),
		APIKeys: auth.NewAPIKeyCache(store, 2*time.Second), BaseCurrency: "EUR", PhoneRegion: "IT", Version: "bench", Now: now, Predictions: preds})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {"owner@bench.test"}, "password": {password}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("pages: signing in answered %d", resp.StatusCode)
	}

	// The customers whose 360 pages are opened: a spread over the shop.
	rng := rand.New(rand.NewPCG(5, 6))
	var some []string
	for range runs + 2 {
		some = append(some, fmt.Sprintf("c%08d", rng.IntN(customers)))
	}
	segment, band := "", ""
	_ = db.QueryRow(ctx, "SELECT segment FROM rfm_scores GROUP BY segment ORDER BY COUNT(*) LIMIT 1").Scan(&segment)
	_ = db.QueryRow(ctx, "SELECT churn_risk FROM predictions GROUP BY churn_risk ORDER BY COUNT(*) LIMIT 1").Scan(&band)
	anonymous := &http.Client{}
	pages := []struct {
		name string
		path func(i int) string
	}{
		{"baseline: a static asset", func(int) string { return "" }},
		{"baseline: sign-in page (template, no data)", func(int) string { return "/login" }},
		{"overview, last 30 days", func(int) string { return "/overview" }},
		{"overview, last 12 months", func(int) string {
			return "/overview?from=" + pagesEnd.AddDate(-1, 0, 1).Format(time.DateOnly) + "&to=" + pagesEnd.Format(time.DateOnly)
		}},
		{"customers, first page", func(int) string { return "/customers" }},
		{"customers, by spend", func(int) string { return "/customers?sort=spend" }},
		{"customers, smallest RFM segment (" + segment + ")", func(int) string { return "/customers?segment=" + url.QueryEscape(segment) }},
		{"customers, smallest churn band (" + band + ")", func(int) string { return "/customers?churn=" + url.QueryEscape(band) }},
		{"customers, detractors", func(int) string { return "/customers?nps=detractor" }},
		{"customers, store milano-centro", func(int) string { return "/customers?store=milano-centro" }},
		{"customers, search by name", func(i int) string { return "/customers?q=" + url.QueryEscape(pagesLast[i%len(pagesLast)]) }},
		{"customer 360", func(i int) string { return "/customers/" + some[i] }},
		{"sources", func(int) string { return "/sources" }},
		{"settings", func(int) string { return "/settings" }},
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	asset := ""
	for _, pg := range pages {
		if !strings.HasPrefix(pg.name, "baseline") && !only.MatchString(pg.name) {
			continue
		}
		h.logf("%s: %s", engine, pg.name)
		var lat []time.Duration
		for i := range runs + 2 {
			path := pg.path(i)
			if path == "" {
				if asset == "" {
					if asset, err = firstAsset(ctx, anonymous, srv.URL); err != nil {
						return nil, err
					}
				}
				path = asset
			}
			c := client
			if strings.HasPrefix(pg.name, "baseline") {
				c = anonymous // signed in, the sign-in page redirects
			}
			t0 := time.Now()
			status, err := fetch(ctx, c, srv.URL+path)
			d := time.Since(t0)
			if err != nil {
				return nil, err
			}
			if status != http.StatusOK {
				return nil, fmt.Errorf("pages: GET %s answered %d", path, status)
			}
			if i >= 2 {
				lat = append(lat, d)
			}
		}
		role := "target"
		if strings.HasPrefix(pg.name, "baseline") {
			role = "baseline"
		}
		run := latencyRun(pg.name, role, lat)
		run.P95Ms = summarize(lat).p95
		r.Runs = append(r.Runs, run)
	}
	base := r.Runs[1].P95Ms
	worst, worstName := 0.0, ""
	for _, run := range r.Runs[2:] {
		if run.P95Ms > worst {
			worst, worstName = run.P95Ms, run.Name
		}
	}
	met := worst <= 150
	r.Goals = append(r.Goals, Goal{Name: "slowest page p95 ms (" + worstName + ")", Value: worst, Goal: "≤ 150", Met: met})
	r.Ratios = append(r.Ratios, Ratio{Name: "slowest page p95 / sign-in page p95", Value: worst / base})
	r.LoadAfter = loadavg()
	return r, nil
}

func fetch(ctx context.Context, c *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// firstAsset finds the stylesheet's address on the sign-in page.
func firstAsset(ctx context.Context, c *http.Client, base string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login", nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	_, after, ok := strings.Cut(string(b), `href="/assets/`)
	if !ok {
		return "", fmt.Errorf("pages: no stylesheet on the sign-in page")
	}
	name, _, _ := strings.Cut(after, `"`)
	return "/assets/" + name, nil
}

var (
	pagesFirst  = []string{"Giulia", "Marco", "Francesca", "Luca", "Sara", "Alessandro", "Chiara", "Matteo", "Elena", "Davide", "Martina", "Simone", "Valentina", "Andrea", "Federica", "Stefano"}
	pagesLast   = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti"}
	pagesStores = []string{"milano-centro", "roma-termini", "torino-porta-nuova"}
)

// seedPages fills a shop of the given size with bulk statements and returns
// how many orders it made.
func seedPages(ctx context.Context, db *sqldb.DB, customers int) (int, error) {
	rng := rand.New(rand.NewPCG(7, 8))
	end := pagesEnd.UnixMilli()
	span := int64(3 * 365 * 86_400_000)
	var profiles, activity, terms, idents, ords, answers [][]any
	made, answered := 0, 0
	T, I := sqldb.Text, sqldb.Int
	flush := func() error {
		return db.InTx(ctx, func(tx *sqldb.Tx) error {
			for _, b := range []struct {
				sql   string
				types []sqldb.Type
				rows  [][]any
			}{
				{`INSERT INTO profiles (id, canonical_id, created_at, name, email, phone, traits, acquisition) VALUES VALUES_LIST`,
					[]sqldb.Type{T, T, I, T, T, T, sqldb.JSON, sqldb.JSON}, profiles},
				{`INSERT INTO profile_activity (profile_id, first_seen, last_seen) VALUES VALUES_LIST`, []sqldb.Type{T, I, I}, activity},
				{`INSERT INTO profile_terms (term, profile_id) VALUES VALUES_LIST ON CONFLICT DO NOTHING`, []sqldb.Type{T, T}, terms},
				{`INSERT INTO identities (type, value, profile_id, original, first_seen, event_seq) VALUES VALUES_LIST`, []sqldb.Type{T, T, T, T, I, I}, idents},
				{`INSERT INTO orders (order_id, profile_id, source_id, channel, store_id, currency, value_minor, placed_at, completed, event_seq) VALUES VALUES_LIST`,
					[]sqldb.Type{T, T, T, T, T, T, I, I, I, I}, ords},
				{`INSERT INTO survey_responses (event_seq, profile_id, survey_type, score, comment, channel, store_id, responded_at) VALUES VALUES_LIST`,
					[]sqldb.Type{I, T, T, I, T, T, T, I}, answers},
			} {
				if len(b.rows) == 0 {
					continue
				}
				if err := tx.Bulk(ctx, b.sql, b.types, b.rows, nil); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for c := range customers {
		id := fmt.Sprintf("c%08d", c)
		first, last := pagesFirst[rng.IntN(len(pagesFirst))], pagesLast[rng.IntN(len(pagesLast))]
		name := first + " " + last
		email := strings.ToLower(strings.ReplaceAll(first+"."+last, " ", "")) + "." + strconv.Itoa(c) + "@example.it"
		phone := fmt.Sprintf("+393%09d", rng.IntN(1_000_000_000))
		created := end - rng.Int64N(span)
		acq := "{}"
		if rng.IntN(3) == 0 {
			acq = fmt.Sprintf(`{"source":"google","medium":"cpc","name":"campaign-%d","at":%d}`, rng.IntN(12), created)
		}
		traits := fmt.Sprintf(`{"email":%q,"first_name":%q,"last_name":%q,"phone":%q}`, email, first, last, phone)
		profiles = append(profiles, []any{id, id, created, name, email, phone, traits, acq})
		for _, w := range slices.Compact(slices.Sorted(slices.Values(strings.Fields(strings.ToLower(name + " " + email))))) {
			terms = append(terms, []any{w, id})
		}
		idents = append(idents, []any{"email", email, id, email, created, int64(c)})
		// Orders: one, and for most customers a few more, the later ones
		// the likelier for loyal customers.
		n := 1 + int(math.Floor(-math.Log(1-rng.Float64())*2))
		times := []int64{created}
		for range n - 1 {
			times = append(times, created+rng.Int64N(end-created))
		}
		slices.Sort(times)
		for _, at := range times {
			made++
			channel, store := "web", ""
			switch x := rng.IntN(10); {
			case x < 2:
				channel = "app"
			case x < 5:
				channel, store = "pos", pagesStores[rng.IntN(len(pagesStores))]
			}
			ords = append(ords, []any{"o" + strconv.Itoa(made), id, "bench", channel, store, "EUR", int64(1500 + rng.IntN(18000)), at, int64(1), int64(made)})
		}
		activity = append(activity, []any{id, created, min(end, times[len(times)-1]+rng.Int64N(30*86_400_000))})
		if rng.IntN(100) < 15 {
			answered++
			score := []int64{0, 2, 4, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 10}[rng.IntN(17)]
			at := times[len(times)-1] + 3*86_400_000
			if at > end {
				at = end - 1
			}
			answers = append(answers, []any{int64(answered), id, "nps", score, "", "web", "", at})
		}
		if len(ords) >= 40_000 || c == customers-1 {
			if err := flush(); err != nil {
				return made, err
			}
			profiles, activity, terms, idents, ords, answers = profiles[:0], activity[:0], terms[:0], idents[:0], ords[:0], answers[:0]
		}
	}
	// The per-customer statistics and the NPS rollups processing keeps.
	return made, db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO customer_stats (profile_id, orders, revenue_minor, refunded_minor, first_order_at, last_order_at)
			SELECT profile_id, COUNT(*), SUM(value_minor), 0, MIN(placed_at), MAX(placed_at) FROM orders GROUP BY profile_id`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO survey_daily (day, channel, store_id, survey_type, score, n)
			SELECT responded_at - responded_at % 86400000, channel, store_id, survey_type, score, COUNT(*)
			FROM survey_responses GROUP BY 1, 2, 3, 4, 5`)
		return err
	})
}
