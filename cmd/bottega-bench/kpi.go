package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// runKPI measures the one-year KPI overview among many customers and
// orders against the same figures computed by a plain GROUP BY over the
// orders table, in the same run on the same database.
func runKPI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kpi", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 0)
	customers := fs.Int("customers", 1_000_000, "customers to create")
	orders := fs.Int("orders", 10_000_000, "orders to create (about: each customer gets 1 to 2×orders/customers − 1, over three years)")
	runs := fs.Int("runs", 50, "overviews to time")
	baselineRuns := fs.Int("baseline-runs", 3, "GROUP BY baselines to time")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the fill (orders and rollups) to this file (ENGINE is replaced by the engine)")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return kpiFigure(ctx, h, engine, *customers, *orders, *runs, *baselineRuns, *cpuProfile)
	})
}

// The benchmark's shop: three years of orders ending on kpiEnd.
var (
	kpiEnd   = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	kpiStart = kpiEnd.AddDate(-3, 0, 0)
)

func kpiFigure(ctx context.Context, h *harness, engine string, customers, orders, runs, baselineRuns int, cpuProfile string) (*Result, error) {
	db, dsn, err := h.migratedDatabase(ctx, engine, "kpi")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := newResult(ctx, h, "kpi", engine, dsn)
	r.Params["customers"] = strconv.Itoa(customers)
	r.Params["orders"] = strconv.Itoa(orders)
	r.Params["period"] = "2024-01-01 – 2024-12-31 (366 days) against the 366 days before"
	r.Params["fill"] = "profiles and orders (3 years; web/app/pos, 20 stores, 20 campaigns, 2% cancelled, 3% refunded, 1% in USD) inserted by bulk SQL, then the KPI rollups built by kpi.RebuildAll, the code the processing extension uses"

	if cpuProfile != "" {
		f, err := os.Create(strings.ReplaceAll(cpuProfile, "ENGINE", engine))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	h.logf("%s: inserting %d customers and about %d orders", engine, customers, orders)
	start := time.Now()
	made, err := seedKPI(ctx, db, customers, orders)
	if err != nil {
		return nil, err
	}
	seeded := time.Since(start)
	if engine == "postgres" && h.opts.analyze {
		// As autovacuum would after a bulk load: the rebuild's plan needs statistics.
		if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
			return nil, err
		}
	}
	h.logf("%s: %d orders in %.0f s; building the rollups", engine, made, seeded.Seconds())
	start = time.Now()
	if err := db.InTx(ctx, func(tx *sqldb.Tx) error { return kpi.RebuildAll(ctx, tx, kpi.Options{}) }); err != nil {
		return nil, err
	}
	built := time.Since(start)
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if engine == "postgres" {
		if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
			return nil, err
		}
	}
	r.Notes = append(r.Notes, fmt.Sprintf("fill: %d orders inserted in %.1f s; rollups built in %.1f s", made, seeded.Seconds(), built.Seconds()))

	from, to := kpi.DayOf(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), kpi.DayOf(time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC))
	q := kpi.Query{From: from, To: to, BaseCurrency: "EUR", Now: kpiEnd}
	h.logf("%s: %d one-year overviews", engine, runs)
	var lat []time.Duration
	var ov kpi.Overview
	for i := range runs + 2 {
		t0 := time.Now()
		if ov, err = kpi.Compute(ctx, db, q); err != nil {
			return nil, err
		}
		if i >= 2 { // two warm-up runs
			lat = append(lat, time.Since(t0))
		}
	}
	h.logf("%s: %d GROUP BY baselines", engine, baselineRuns)
	var blat []time.Duration
	var base [2]baselineFigures
	for range baselineRuns {
		t0 := time.Now()
		for i, p := range [][2]kpi.Day{{from, to}, {from - (to - from + 1), from - 1}} {
			if base[i], err = kpiBaseline(ctx, db, p[0], p[1]); err != nil {
				return nil, err
			}
		}
		blat = append(blat, time.Since(t0))
	}
	target, baseline := latencyRun("bottega kpi.Compute, one-year overview", "target", lat), latencyRun("plain GROUP BY over orders, same figures", "baseline", blat)
	r.Runs = append(r.Runs, target, baseline)
	get := func(ks []kpi.KPI, key string) (float64, float64) {
		for _, k := range ks {
			if k.Key == key && k.Value != nil && k.Previous != nil {
				return *k.Value, *k.Previous
			}
		}
		return -1, -1
	}
	for _, c := range []struct {
		name string
		ks   []kpi.KPI
		key  string
		want [2]float64
	}{
		{"orders", ov.Sales, "orders", [2]float64{float64(base[0].orders), float64(base[1].orders)}},
		{"gross revenue", ov.Sales, "gross_revenue", [2]float64{float64(base[0].gross) / 100, float64(base[1].gross) / 100}},
		{"active customers", ov.Customers, "active_customers", [2]float64{float64(base[0].active), float64(base[1].active)}},
		{"new customers", ov.Customers, "new_customers", [2]float64{float64(base[0].first), float64(base[1].first)}},
	} {
		v, p := get(c.ks, c.key)
		r.check(c.name+" equal the GROUP BY's", v == c.want[0] && p == c.want[1], "overview %v (previous %v), GROUP BY %v (previous %v)", v, p, c.want[0], c.want[1])
	}
	ratio := target.P50Ms / baseline.P50Ms
	met := ratio <= 0.1
	r.Ratios = append(r.Ratios, Ratio{Name: "overview p50 / GROUP BY p50", Value: ratio, Goal: "≤ 0.1", Met: &met})
	r.Goals = append(r.Goals, Goal{Name: "one-year overview p99 ms", Value: target.P99Ms, Goal: "≤ 200", Met: target.P99Ms <= 200})
	r.LoadAfter = loadavg()
	return r, nil
}

func latencyRun(name, role string, lat []time.Duration) Run {
	l := summarize(slices.Clone(lat))
	var total time.Duration
	for _, d := range lat {
		total += d
	}
	return Run{Name: name, Role: role, Requests: int64(len(lat)), Seconds: total.Seconds(),
		RequestsPerS: float64(len(lat)) / total.Seconds(), P50Ms: l.p50, P99Ms: l.p99, MaxMs: l.max}
}

// seedKPI inserts customers and their orders, refunds and cancellations
// with bulk statements, and returns how many orders it made.
func seedKPI(ctx context.Context, db *sqldb.DB, customers, orders int) (int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	avg := max(1, orders/customers)
	startMs, span := kpiStart.UnixMilli(), kpiEnd.Sub(kpiStart).Milliseconds()
	var profiles, ords, refunds [][]any
	made := 0
	profileTypes := []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Int, sqldb.JSON}
	orderTypes := []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int}
	refundTypes := []sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Int}
	flush := func() error {
		return db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := tx.Bulk(ctx, `INSERT INTO profiles (id, canonical_id, created_at, acquisition) VALUES VALUES_LIST`, profileTypes, profiles, nil); err != nil {
				return err
			}
			if err := tx.Bulk(ctx, `INSERT INTO orders (order_id, profile_id, source_id, channel, store_id, currency, value_minor, placed_at, completed, cancelled_at, event_seq)
				VALUES VALUES_LIST`, orderTypes, ords, nil); err != nil {
				return err
			}
			return tx.Bulk(ctx, `INSERT INTO order_refunds (event_seq, order_id, amount_minor, currency, refunded_at) VALUES VALUES_LIST`, refundTypes, refunds, nil)
		})
	}
	for c := range customers {
		id := fmt.Sprintf("c%08d", c)
		first := startMs + rng.Int64N(span)
		acq := "{}"
		if k := rng.IntN(40); k < 20 {
			acq = fmt.Sprintf(`{"name":"campaign-%d","at":%d}`, k, first)
		}
		profiles = append(profiles, []any{id, id, first, acq})
		// Orders at random times between the first and the end.
		n := 1 + rng.IntN(2*avg-1)
		times := []int64{first}
		for range n - 1 {
			times = append(times, first+rng.Int64N(startMs+span-first))
		}
		slices.Sort(times)
		for _, at := range times {
			made++
			oid := fmt.Sprintf("o%09d", made) // in key order, as a shop's ids mostly are
			channel, store := "web", ""
			switch x := rng.IntN(10); {
			case x < 2:
				channel = "app"
			case x < 5:
				channel, store = "pos", "store-"+strconv.Itoa(rng.IntN(20))
			}
			currency := "EUR"
			if rng.IntN(100) == 0 {
				currency = "USD"
			}
			var cancelled any
			if rng.IntN(50) == 0 {
				cancelled = at + 3_600_000
			}
			value := int64(1000 + rng.IntN(29000))
			ords = append(ords, []any{oid, id, "bench", channel, store, currency, value, at, int64(1), cancelled, int64(made)})
			if rng.IntN(33) == 0 {
				refunds = append(refunds, []any{int64(made), oid, value / 2, currency, at + 7*86_400_000})
			}
		}
		if len(ords) >= 50_000 || c == customers-1 {
			if err := flush(); err != nil {
				return made, err
			}
			profiles, ords, refunds = profiles[:0], ords[:0], refunds[:0]
		}
	}
	return made, nil
}

type baselineFigures struct {
	orders, gross, active, first int64
}

// kpiBaseline computes orders, gross revenue, active and new customers of
// a period with plain GROUP BY queries over the orders.
func kpiBaseline(ctx context.Context, db *sqldb.DB, from, to kpi.Day) (baselineFigures, error) {
	var b baselineFigures
	lo, hi := from.Time().UnixMilli(), (to + 1).Time().UnixMilli()
	err := db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN o.currency = 'EUR' THEN o.value_minor ELSE 0 END), 0), COUNT(DISTINCT p.canonical_id)
		FROM orders o JOIN profiles p ON p.id = o.profile_id
		WHERE o.completed = 1 AND o.cancelled_at IS NULL AND o.placed_at >= ? AND o.placed_at < ?`, lo, hi).Scan(&b.orders, &b.gross, &b.active)
	if err != nil {
		return b, err
	}
	err = db.QueryRow(ctx, `SELECT COUNT(*) FROM (
			SELECT p.canonical_id, MIN(o.placed_at) AS first_at FROM orders o JOIN profiles p ON p.id = o.profile_id
			WHERE o.completed = 1 AND o.cancelled_at IS NULL GROUP BY p.canonical_id) x
		WHERE x.first_at >= ? AND x.first_at < ?`, lo, hi).Scan(&b.first)
	return b, err
}
