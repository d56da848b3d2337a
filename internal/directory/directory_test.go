package directory_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/directory"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	pt "github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/bottega-crm/bottega/internal/survey"
)

var ctx = context.Background()

func identify(user, day, traits string) string {
	return pt.Ev("type", pt.Q("identify"), "userId", pt.Q(user), "timestamp", pt.At(day, 600), "traits", traits)
}

func order(user, day, id, props string) string {
	return pt.Ev("type", pt.Q("track"), "userId", pt.Q(user), "event", pt.Q("Order Completed"), "timestamp", pt.At(day, 660),
		"properties", `{"order_id":"`+id+`",`+props+`}`)
}

func nps(user, day string, score int, comment string) string {
	return pt.Ev("type", pt.Q("track"), "userId", pt.Q(user), "event", pt.Q("Survey Responded"), "timestamp", pt.At(day, 700),
		"properties", fmt.Sprintf(`{"survey_type":"nps","score":%d,"comment":%s}`, score, pt.Q(comment)))
}

// shop is the fixture: customers by user id → canonical profile id.
type shop map[string]string

// fixture makes ten customers through the real pipeline, merges two
// profiles of one of them, scores RFM, and stands in for the persona and
// prediction jobs with their output rows.
func fixture(t *testing.T, db *sqldb.DB) shop {
	h := pt.New(t, db, survey.NewRecorder())
	h.Send("web",
		identify("anna", "2026-01-02", `{"name":"Anna Rossi","email":"anna@example.com","phone":"+39 333 1234567"}`),
		order("anna", "2026-01-03", "A1", `"total":120,"products":[{"product_id":"p1","name":"Scarf","price":60,"quantity":2}]`),
		order("anna", "2026-03-03", "A2", `"total":80`),
		order("anna", "2026-06-03", "A3", `"total":200`),
		nps("anna", "2026-01-10", 10, "great"),
		nps("anna", "2026-06-10", 3, "late delivery"),
		identify("bruno", "2026-02-01", `{"name":"Bruno Bianchi","email":"bruno@example.com"}`),
		identify("carla", "2026-02-02", `{"name":"Carla Verdi","email":"carla@example.com"}`),
		order("carla", "2026-02-05", "C1", `"total":50`),
		nps("carla", "2026-02-10", 7, ""),
		identify("dario", "2026-02-03", `{"name":"Dario Neri"}`),
		identify("elena", "2026-02-04", `{"name":"=HYPERLINK(\"http://evil\")","email":"elena@example.com"}`),
		order("elena", "2026-05-01", "E1", `"total":15`),
		identify("fabio", "2026-02-05", `{"email":"fabio@example.com"}`),
		identify("gina", "2026-02-06", `{"name":"Gina Gialli"}`),
		pt.Ev("type", pt.Q("track"), "userId", pt.Q("gina"), "event", pt.Q("Order Refunded"), "timestamp", pt.At("2026-07-01", 10),
			"properties", `{"order_id":"G1","total":10}`),
	)
	h.Send("pos",
		order("bruno", "2026-04-01", "B1", `"total":300,"store_id":"milano"`),
		nps("bruno", "2026-04-02", 9, "kind staff"),
		order("carla", "2026-04-03", "C2", `"total":70,"store_id":"roma"`),
		order("gina", "2026-06-01", "G1", `"total":40,"store_id":"milano"`),
	)
	h.Send("app", order("dario", "2026-05-05", "D1", `"total":25`))
	// Hugo shops at the till as a loyalty card, then the card is linked to
	// his account: two profiles merged, the till order his.
	h.Send("pos", pt.Ev("type", pt.Q("track"), "anonymousId", pt.Q("card-77"), "event", pt.Q("Order Completed"), "timestamp", pt.At("2026-03-01", 600),
		"properties", `{"order_id":"H1","total":90,"store_id":"torino"}`))
	h.Send("web", identify("hugo", "2026-03-05", `{"name":"Hugo Blu","email":"hugo@example.com"}`))
	h.Send("web", pt.Ev("type", pt.Q("identify"), "userId", pt.Q("hugo"), "anonymousId", pt.Q("card-77"), "timestamp", pt.At("2026-03-06", 600)))
	s := shop{}
	for _, u := range []string{"anna", "bruno", "carla", "dario", "elena", "fabio", "gina", "hugo"} {
		s[u] = h.Root(identity.UserID, u)
	}
	if h.Root(identity.AnonymousID, "card-77") != s["hugo"] {
		t.Fatal("the card was not merged into Hugo")
	}
	if errs := h.Errors(); len(errs) > 0 {
		t.Fatalf("processing errors: %v", errs)
	}
	if _, err := rfm.Refresh(ctx, db, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "EUR"); err != nil {
		t.Fatal(err)
	}
	// The persona and prediction jobs' output, for a few customers.
	exec(t, db, `INSERT INTO persona_clusters (cluster, description, customers, revenue_minor, detail) VALUES
		(1, 'Frequent web buyers', 2, 100, '{}'), (2, 'Store regulars', 1, 50, '{}')`)
	exec(t, db, `INSERT INTO persona_runs (id, as_of, computed_at, customers, summary) VALUES (1, 0, 0, 3, '{}')`)
	exec(t, db, `INSERT INTO persona_members (profile_id, cluster, nps_imputed) VALUES (?, 1, 0), (?, 1, 0), (?, 2, 0)`, s["anna"], s["elena"], s["bruno"])
	exec(t, db, `INSERT INTO prediction_models (id, fitted_at, status, calibration_end, time_unit, currency, customers, repeat_customers,
		value_customers, fit_ms, margin, discount_rate) VALUES ('m1', 0, 'ok', '2026-06-30', 'day', 'EUR', 7, 2, 2, 1, 1, 0.1)`)
	for _, p := range []struct {
		who  string
		clv  int64
		risk string
	}{{"anna", 9000, "low"}, {"bruno", 4000, "high"}, {"carla", 4000, "high"}, {"elena", 100, "very_high"}} {
		exec(t, db, `INSERT INTO predictions (profile_id, model_id, x, t_x, t, expected_purchases, p_alive, expected_value_minor, clv_minor, churn_risk)
			VALUES (?, 'm1', 1, 1, 1, 1, 0.5, 100, ?, ?)`, s[p.who], p.clv, p.risk)
	}
	return s
}

func exec(t *testing.T, db *sqldb.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// all walks every page of f, limit rows at a time.
func all(t *testing.T, db *sqldb.DB, f directory.Filter, limit int) []directory.Row {
	t.Helper()
	return allBy(t, db, directory.List, f, limit)
}

// allBy reads every page of a list through the given listing function.
func allBy(t *testing.T, db *sqldb.DB, list func(context.Context, sqldb.Conn, directory.Filter) (directory.Page, error), f directory.Filter, limit int) []directory.Row {
	t.Helper()
	f.Limit = limit
	var out []directory.Row
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the pages do not end")
		}
		p, err := list(ctx, db, f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		if len(p.Rows) > limit || p.Next != "" && len(p.Rows) != limit {
			t.Fatalf("page of %d rows (limit %d, next %q)", len(p.Rows), limit, p.Next)
		}
		out = append(out, p.Rows...)
		if p.Next == "" {
			return out
		}
		f.Cursor = p.Next
	}
}

func names(s shop, rows []directory.Row) []string {
	by := map[string]string{}
	for u, id := range s {
		by[id] = u
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, by[r.ID])
	}
	return out
}

func sorted(xs []string) []string { slices.Sort(xs); return xs }

func TestFilters(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := fixture(t, db)
		for _, c := range []struct {
			name string
			f    directory.Filter
			want []string
		}{
			{"everyone", directory.Filter{}, []string{"anna", "bruno", "carla", "dario", "elena", "fabio", "gina", "hugo"}},
			{"channel pos (a merged member's order counts)", directory.Filter{Channel: "pos"}, []string{"bruno", "carla", "gina", "hugo"}},
			{"channel app", directory.Filter{Channel: "app"}, []string{"dario"}},
			{"store milano", directory.Filter{Store: "milano"}, []string{"bruno", "gina"}},
			{"store torino", directory.Filter{Store: "torino"}, []string{"hugo"}},
			{"store nowhere", directory.Filter{Store: "nowhere"}, []string{}},
			{"promoters", directory.Filter{NPS: directory.Promoter}, []string{"bruno"}},
			{"passives", directory.Filter{NPS: directory.Passive}, []string{"carla"}},
			{"detractors: the latest answer counts", directory.Filter{NPS: directory.Detractor}, []string{"anna"}},
			{"churn high", directory.Filter{Churn: "high"}, []string{"bruno", "carla"}},
			{"persona 1", directory.Filter{Persona: 1}, []string{"anna", "elena"}},
			{"persona 1 and churn low", directory.Filter{Persona: 1, Churn: "low"}, []string{"anna"}},
			{"text: a name's prefix", directory.Filter{Text: "ross"}, []string{"anna"}},
			{"text: an e-mail", directory.Filter{Text: "HUGO@example.com"}, []string{"hugo"}},
			{"text: a merged member's identifier", directory.Filter{Text: "card-77"}, []string{"hugo"}},
			{"text and channel", directory.Filter{Text: "bianchi", Channel: "web"}, []string{}},
		} {
			// In this small shop every value is rare and the lists start from
			// the filter; a large shop walks the sort's index instead.
			for how, list := range map[string]func(context.Context, sqldb.Conn, directory.Filter) (directory.Page, error){
				"from the filter": directory.List, "walking": directory.ListWalking,
			} {
				got := sorted(names(s, allBy(t, db, list, c.f, 2)))
				if !slices.Equal(got, sorted(c.want)) {
					t.Errorf("%s (%s): %v, want %v", c.name, how, got, c.want)
				}
			}
		}
		// A segment filter returns exactly the customers of that segment,
		// with the run's count as the total.
		for _, seg := range rfm.Segments {
			page, err := directory.List(ctx, db, directory.Filter{Segment: strings.ToLower(seg), Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			members, err := rfm.List(ctx, db, seg, "", 200, "EUR")
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, m := range members.Customers {
				want = append(want, m.Profile)
			}
			for _, r := range page.Rows {
				got = append(got, r.ID)
				if r.Segment != seg {
					t.Errorf("%s: row in segment %q", seg, r.Segment)
				}
			}
			if !slices.Equal(sorted(got), sorted(want)) || page.Total == nil || *page.Total != int64(len(want)) {
				t.Errorf("segment %s: %v (total %v), want %v", seg, got, page.Total, want)
			}
		}
		// An RFM grid cell returns exactly the customers scored in it.
		for r := 1; r <= 5; r++ {
			for fm := 1; fm <= 5; fm++ {
				page, err := directory.List(ctx, db, directory.Filter{R: r, FM: fm, Limit: 200})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				rows, err := db.Query(ctx, "SELECT profile_id FROM rfm_scores WHERE r = ? AND fm = ?", r, fm)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						t.Fatal(err)
					}
					want = append(want, id)
				}
				rows.Close()
				var got []string
				for _, row := range page.Rows {
					got = append(got, row.ID)
				}
				if !slices.Equal(sorted(got), sorted(want)) || page.Total != nil {
					t.Errorf("cell R%d FM%d: %v (total %v), want %v", r, fm, got, page.Total, want)
				}
				walked, err := directory.ListWalking(ctx, db, directory.Filter{R: r, FM: fm, Limit: 200})
				if err != nil {
					t.Fatal(err)
				}
				got = got[:0]
				for _, row := range walked.Rows {
					got = append(got, row.ID)
				}
				if !slices.Equal(sorted(got), sorted(want)) {
					t.Errorf("cell R%d FM%d, walking: %v, want %v", r, fm, got, want)
				}
			}
		}
		if _, err := directory.List(ctx, db, directory.Filter{R: 6}); !fault.Is(err, fault.Invalid) {
			t.Errorf("r 6: %v", err)
		}
	})
}

func TestRowsAndSorts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := fixture(t, db)
		rows := all(t, db, directory.Filter{}, 200)
		by := map[string]directory.Row{}
		for _, r := range rows {
			by[r.ID] = r
		}
		anna := by[s["anna"]]
		if anna.Name != "Anna Rossi" || anna.Email != "anna@example.com" || anna.Orders != 3 || anna.RevenueMinor != 40000 ||
			anna.Persona != 1 || anna.PersonaName != "Frequent web buyers" || anna.Churn != "low" || anna.CLVMinor == nil || *anna.CLVMinor != 9000 ||
			anna.NPS == nil || *anna.NPS != 3 || anna.Segment == "" {
			t.Errorf("anna's row %+v", anna)
		}
		if hugo := by[s["hugo"]]; hugo.Orders != 1 || hugo.RevenueMinor != 9000 || hugo.NPS != nil || hugo.CLVMinor != nil || hugo.Churn != "" {
			t.Errorf("hugo's row %+v", hugo)
		}
		if g := by[s["gina"]]; g.RevenueMinor != 3000 {
			t.Errorf("gina's net revenue %d, want 3000 (40 less a 10 refund)", g.RevenueMinor)
		}
		want := []string{"anna", "bruno", "carla", "dario", "elena", "fabio", "gina", "hugo"}
		for _, sort := range directory.Sorts {
			for _, limit := range []int{1, 3, 200} {
				got := names(s, all(t, db, directory.Filter{Sort: sort}, limit))
				if !slices.Equal(sorted(slices.Clone(got)), want) {
					t.Errorf("sort %s, pages of %d: %v: every customer exactly once", sort, limit, got)
				}
				if limit == 200 {
					continue
				}
				if whole := names(s, all(t, db, directory.Filter{Sort: sort}, 200)); !slices.Equal(got, whole) {
					t.Errorf("sort %s: pages of %d give %v, one page %v", sort, limit, got, whole)
				}
			}
		}
		order := func(sort string) []string { return names(s, all(t, db, directory.Filter{Sort: sort}, 200)) }
		// Spend: bruno 300, anna 400 → anna, bruno, hugo 90, carla 120 → ...
		if got := order(directory.SortSpend); !slices.Equal(got[:4], []string{"anna", "bruno", "carla", "hugo"}) {
			t.Errorf("by spend %v", got)
		}
		if got := order(directory.SortOrders); got[0] != "anna" || got[1] != "carla" {
			t.Errorf("by orders %v", got)
		}
		// CLV: anna 9000, then bruno and carla at 4000 (by id, descending), elena; the rest after.
		if got := order(directory.SortCLV); got[0] != "anna" || got[3] != "elena" || !slices.Equal(sorted(slices.Clone(got[1:3])), []string{"bruno", "carla"}) {
			t.Errorf("by clv %v", got)
		}
		// Names A to Z ("=HYPERLINK" sorts first), Fabio without a name last.
		if got := order(directory.SortName); !slices.Equal(got, []string{"elena", "anna", "bruno", "carla", "dario", "gina", "hugo", "fabio"}) {
			t.Errorf("by name %v", got)
		}
		// Last seen, newest first.
		for i := 1; i < len(rows); i++ {
			if rows[i].LastSeen.After(rows[i-1].LastSeen) {
				t.Errorf("by last seen: %v after %v", rows[i].LastSeen, rows[i-1].LastSeen)
			}
		}
	})
}

func TestBadFilters(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		for _, f := range []directory.Filter{
			{Segment: "Superstars"}, {Churn: "extreme"}, {Channel: "fax"}, {NPS: "fans"}, {Sort: "age"}, {Persona: -1},
			{Cursor: "not-a-cursor"}, {Sort: directory.SortSpend, Cursor: "eyJwIjo1LCJpIjoieCJ9"}, // phase 5
		} {
			if _, err := directory.List(ctx, db, f); !fault.Is(err, fault.Invalid) {
				t.Errorf("%+v: %v, want invalid", f, err)
			}
		}
	})
}

func TestStores(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		fixture(t, db)
		got, err := directory.Stores(ctx, db)
		if err != nil || !slices.Equal(got, []string{"milano", "roma", "torino"}) {
			t.Fatalf("stores %v, %v", got, err)
		}
	})
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+39 333": "'+39 333", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"Anna": "Anna", "": "", "a=b": "a=b", "'quoted": "'quoted",
	} {
		if got := directory.Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExport(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := fixture(t, db)
		read := func(f directory.Filter, contact bool) [][]string {
			var buf bytes.Buffer
			if err := directory.Export(ctx, db, f, &buf, contact); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}
		masked := read(directory.Filter{Sort: directory.SortName}, false)
		if !slices.Equal(masked[0], directory.ExportColumns) || len(masked) != 9 {
			t.Fatalf("export: %v", masked)
		}
		elena := masked[1]
		if elena[0] != s["elena"] || elena[1] != `'=HYPERLINK("http://evil")` || elena[2] != "e***@***.com" || elena[4] != "1" || elena[5] != "1500" {
			t.Errorf("elena %q", elena)
		}
		anna := masked[2]
		if anna[2] != "a***@***.com" || anna[3] != "***67" || anna[7] != "1 Frequent web buyers" || anna[8] != "low" || anna[9] != "9000" || anna[10] != "3" {
			t.Errorf("anna masked %q", anna)
		}
		full := read(directory.Filter{Sort: directory.SortName, Channel: "web"}, true)
		if full[2][2] != "anna@example.com" || full[2][3] != "'+393331234567" && full[2][3] != "'+39 333 1234567" {
			t.Errorf("anna with contact %q", full[2])
		}
		for _, r := range full[1:] {
			if r[0] == s["bruno"] {
				t.Errorf("bruno never ordered on the web: %q", r)
			}
		}
	})
}

func TestView(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := fixture(t, db)
		v, err := directory.View(ctx, db, s["anna"], "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "Anna Rossi" || v.Stats.Orders != 3 || len(v.Orders) != 3 || v.Orders[0].OrderID != "A3" || v.MoreOrders {
			t.Fatalf("anna: %+v", v)
		}
		a1 := v.Orders[2]
		if len(a1.Items) != 1 || a1.Items[0].Name != "Scarf" || a1.Items[0].Quantity != 2 || len(a1.Refunds) != 0 {
			t.Errorf("order A1 %+v", a1)
		}
		if len(v.Answers) != 2 || v.Answers[0].Score != 3 || v.Answers[0].Comment != "late delivery" || v.Answers[0].Type != "nps" {
			t.Errorf("answers %+v", v.Answers)
		}
		if v.RFM == nil || v.Persona == nil || v.Persona.ID != 1 || !v.Predictions.Available || v.Predictions.ChurnRisk != "low" {
			t.Errorf("scores %+v %+v %+v", v.RFM, v.Persona, v.Predictions)
		}
		g, err := directory.View(ctx, db, s["gina"], "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Orders) != 1 || len(g.Orders[0].Refunds) != 1 || g.Orders[0].Refunds[0].Amount.Minor != 1000 || g.Stats.Revenue.Minor != 3000 {
			t.Errorf("gina's refunded order %+v", g.Orders)
		}
		h, err := directory.View(ctx, db, s["hugo"], "EUR")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Merges) != 1 || !h.Merges[0].Undoable || len(h.MergedProfiles) != 1 || len(h.Orders) != 1 || h.Orders[0].StoreID != "torino" {
			t.Fatalf("hugo: merges %+v merged %v orders %+v", h.Merges, h.MergedProfiles, h.Orders)
		}
		types := map[string]bool{}
		for _, id := range h.Identities {
			types[id.Type] = true
		}
		if !types[identity.UserID] || !types[identity.AnonymousID] || !types[identity.Email] {
			t.Errorf("hugo's identities %+v", h.Identities)
		}
		if _, err := directory.View(ctx, db, "nobody", "EUR"); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown profile: %v", err)
		}
	})
}
