package directory_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/directory"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// BenchmarkList measures one page of the customer list, per view, on a shop
// filled directly with SQL:
//
//	BOTTEGA_BENCH_CUSTOMERS=1000000 go test ./internal/directory -run '^$' -bench BenchmarkList -benchtime 20x
//
// BOTTEGA_BENCH_ENGINE=postgres measures PostgreSQL (BOTTEGA_TEST_POSTGRES
// must be set). The default is 5,000 customers on SQLite.
func BenchmarkList(b *testing.B) {
	n := 5000
	if v := os.Getenv("BOTTEGA_BENCH_CUSTOMERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("BOTTEGA_BENCH_CUSTOMERS=%q: want a number ≥ 100", v)
		}
	}
	d := sqldb.SQLite
	if os.Getenv("BOTTEGA_BENCH_ENGINE") == "postgres" {
		d = sqldb.Postgres
	}
	db := sqldbtest.Open(b, d)
	start := time.Now()
	if err := fillShop(b, db, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d customers filled in %.1f s", d, n, time.Since(start).Seconds())
	second, err := directory.List(ctx, db, directory.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		f    directory.Filter
	}{
		{"default", directory.Filter{}},
		{"default-page2", directory.Filter{Cursor: second.Next}},
		{"segment", directory.Filter{Segment: rfm.Champions}},
		{"persona", directory.Filter{Persona: 3}},
		{"churn", directory.Filter{Churn: "very_high"}},
		{"channel", directory.Filter{Channel: "app"}},
		{"store", directory.Filter{Store: "store-7"}},
		{"nps", directory.Filter{NPS: directory.Detractor}},
		{"text", directory.Filter{Text: "rossi"}},
		{"sort-spend", directory.Filter{Sort: directory.SortSpend}},
		{"sort-orders", directory.Filter{Sort: directory.SortOrders}},
		{"sort-clv", directory.Filter{Sort: directory.SortCLV}},
		{"sort-name", directory.Filter{Sort: directory.SortName}},
		{"segment-sort-spend", directory.Filter{Segment: rfm.AtRisk, Sort: directory.SortSpend}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rows := 0
			for b.Loop() {
				p, err := directory.List(ctx, db, c.f)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(p.Rows)
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

var (
	firstNames = []string{"Anna", "Bruno", "Carla", "Dario", "Elena", "Fabio", "Gina", "Hugo", "Irene", "Luca", "Marta", "Nico"}
	lastNames  = []string{"Rossi", "Bianchi", "Verdi", "Neri", "Russo", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci"}
	risks      = []string{"low", "medium", "high", "very_high"}
)

// fillShop inserts n canonical customers with activity, search terms,
// statistics, RFM scores, personas, predictions, NPS answers and orders,
// in the shapes the pipeline and the score jobs write.
func fillShop(b *testing.B, db *sqldb.DB, n int) error {
	rng := rand.New(rand.NewPCG(3, 4))
	end := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixMilli()
	span := int64(3 * 365 * 86_400_000)
	T, I := sqldb.Text, sqldb.Int
	type table struct {
		sql   string
		types []sqldb.Type
		rows  [][]any
	}
	tables := []*table{
		{sql: "INSERT INTO profiles (id, canonical_id, created_at, name, email, phone) VALUES VALUES_LIST", types: []sqldb.Type{T, T, I, T, T, T}},
		{sql: "INSERT INTO profile_activity (profile_id, first_seen, last_seen) VALUES VALUES_LIST", types: []sqldb.Type{T, I, I}},
		{sql: "INSERT INTO profile_terms (term, profile_id) VALUES VALUES_LIST ON CONFLICT DO NOTHING", types: []sqldb.Type{T, T}},
		{sql: "INSERT INTO customer_stats (profile_id, orders, revenue_minor, refunded_minor, first_order_at, last_order_at) VALUES VALUES_LIST", types: []sqldb.Type{T, I, I, I, I, I}},
		{sql: `INSERT INTO rfm_scores (profile_id, as_of, recency_days, frequency, monetary_minor, last_order_at, r, f, m, fm, segment) VALUES VALUES_LIST`,
			types: []sqldb.Type{T, I, I, I, I, I, I, I, I, I, T}},
		{sql: "INSERT INTO persona_members (profile_id, cluster, nps_imputed) VALUES VALUES_LIST", types: []sqldb.Type{T, I, I}},
		{sql: `INSERT INTO predictions (profile_id, model_id, x, t_x, t, expected_purchases, p_alive, expected_value_minor, clv_minor, churn_risk)
			VALUES VALUES_LIST`, types: []sqldb.Type{T, T, I, I, I, I, I, I, I, T}},
		{sql: `INSERT INTO survey_responses (event_seq, profile_id, survey_type, score, responded_at) VALUES VALUES_LIST`, types: []sqldb.Type{I, T, T, I, I}},
		{sql: `INSERT INTO orders (order_id, profile_id, source_id, channel, store_id, currency, value_minor, placed_at, completed, event_seq)
			VALUES VALUES_LIST`, types: []sqldb.Type{T, T, T, T, T, T, I, I, I, I}},
	}
	flush := func() error {
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			for _, t := range tables {
				if err := tx.Bulk(ctx, t.sql, t.types, t.rows, nil); err != nil {
					return err
				}
			}
			return nil
		})
		for _, t := range tables {
			t.rows = t.rows[:0]
		}
		return err
	}
	add := func(i int, row ...any) { tables[i].rows = append(tables[i].rows, row) }
	seq := int64(0)
	for c := range n {
		id := fmt.Sprintf("p%08d", c)
		first := end - rng.Int64N(span)
		last := first + rng.Int64N(end-first+1)
		name, email, phone := "", "", ""
		if rng.IntN(10) < 8 {
			fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
			name, email, phone = fn+" "+ln, fmt.Sprintf("c%d@example.com", c), fmt.Sprintf("+39333%07d", c)
			add(2, strings.ToLower(fn), id) // terms are folded to lower case
			add(2, strings.ToLower(ln), id)
		}
		add(0, id, id, first, name, email, phone)
		add(1, id, first, last)
		if rng.IntN(10) < 6 { // a buyer
			orders := 1 + rng.IntN(4)
			var revenue int64
			for k := range orders {
				seq++
				v := int64(1000 + rng.IntN(20000))
				revenue += v
				channel, store := "web", ""
				switch x := rng.IntN(10); {
				case x < 2:
					channel = "app"
				case x < 5:
					channel, store = "pos", "store-"+strconv.Itoa(rng.IntN(20))
				}
				add(8, fmt.Sprintf("o%s-%d", id, k), id, "bench", channel, store, "EUR", v, first+int64(k)*86_400_000, int64(1), seq)
			}
			add(3, id, int64(orders), revenue, int64(0), first, last)
			r, f, m := 1+rng.IntN(5), 1+rng.IntN(5), 1+rng.IntN(5)
			fm := rfm.FM(f, m)
			add(4, id, end, int64(rng.IntN(1000)), int64(orders), revenue, last, r, f, m, fm, rfm.Segment(r, fm))
			add(5, id, int64(1+rng.IntN(5)), int64(1))
			add(6, id, "bench", int64(orders-1), int64(1), int64(1), int64(1), int64(0), int64(5000), int64(rng.IntN(50000)), risks[rng.IntN(4)])
			if rng.IntN(100) < 25 {
				seq++
				add(7, seq, id, "nps", int64(rng.IntN(11)), last)
			}
		}
		if len(tables[8].rows) >= 20_000 || c == n-1 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if _, err := db.Exec(ctx, `INSERT INTO prediction_models (id, fitted_at, status, calibration_end, time_unit, currency, customers, repeat_customers,
		value_customers, fit_ms, margin, discount_rate) VALUES ('bench', 0, 'ok', '2026-11-22', 'day', 'EUR', 1, 1, 1, 1, 1, 0.1)`); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	b.Logf("%d orders", seq)
	return nil
}
