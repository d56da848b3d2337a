package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// runPredict measures a whole prediction refit (reading the orders, fitting
// BG/NBD and Gamma-Gamma, writing every customer's predictions) through
// predict.Service.Fit, against a plain read of the same orders.
func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 0)
	customers := fs.Int("customers", 1_000_000, "customers to create, with orders drawn from the BG/NBD process fitted to CDNOW")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return predictFigure(ctx, h, engine, *customers)
	})
}

// The benchmark's shop: customers acquired in the first quarter of 2024,
// as CDNOW's were in 1997, observed until the calibration end; purchases
// follow BG/NBD and order values Gamma-Gamma with the CDNOW parameters
// (time unit: weeks).
var (
	predictStart  = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	predictCalEnd = time.Date(2024, 9, 30, 0, 0, 0, 0, time.UTC)
	predictBG     = clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
	predictGG     = clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
)

func predictFigure(ctx context.Context, h *harness, engine string, customers int) (*Result, error) {
	db, dsn, err := h.migratedDatabase(ctx, engine, "predict")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := newResult(ctx, h, "predict", engine, dsn)
	r.Params["customers"] = strconv.Itoa(customers)
	r.Params["calibration_end"] = predictCalEnd.Format(time.DateOnly)
	r.Params["fill"] = "profiles and completed orders in EUR inserted by bulk SQL; customers acquired 2024-01-01 – 2024-03-24, purchases drawn from BG/NBD (r 0.2426, α 4.4136, a 0.7929, b 2.4259 per week), order values from Gamma-Gamma (p 6.25, q 3.74, γ 15.44), some days with two orders"

	h.logf("%s: inserting %d customers and their orders", engine, customers)
	start := time.Now()
	orders, err := seedPredict(ctx, db, customers)
	if err != nil {
		return nil, err
	}
	r.Notes = append(r.Notes, fmt.Sprintf("fill: %d orders inserted in %.1f s", orders, time.Since(start).Seconds()))
	if engine == "postgres" {
		if _, err := db.Exec(ctx, "ANALYZE"); err != nil {
			return nil, err
		}
	}

	// Baseline: the scan of the orders table the refit starts with
	// (predict's load), rows only scanned.
	h.logf("%s: baseline read of the orders", engine)
	start = time.Now()
	rows, err := db.Query(ctx, `SELECT profile_id, order_id, placed_at, currency, value_minor FROM orders
		WHERE completed = 1 AND cancelled_at IS NULL AND placed_at < ?`, predictCalEnd.AddDate(0, 0, 1).UnixMilli())
	if err != nil {
		return nil, err
	}
	read := 0
	for rows.Next() {
		var (
			id, oid, cur string
			at, v        int64
		)
		if err := rows.Scan(&id, &oid, &at, &cur, &v); err != nil {
			rows.Close()
			return nil, err
		}
		read++
	}
	rows.Close()
	baseline := Run{Name: "plain read of the orders (the refit's query, rows only scanned), rows/s", Role: "baseline", Events: int64(read), Seconds: time.Since(start).Seconds()}
	baseline.EventsPerS = float64(read) / baseline.Seconds

	h.logf("%s: refit", engine)
	svc := predict.NewService(db, predict.Config{BaseCurrency: "EUR", Margin: 1, DiscountRate: 0.1}, func() time.Time { return predictCalEnd.AddDate(0, 0, 1) })
	start = time.Now()
	m, err := svc.Fit(ctx, predict.Request{CalibrationEnd: predictCalEnd, Unit: clv.Week})
	if err != nil {
		return nil, err
	}
	total := time.Since(start).Seconds()
	target := Run{Name: "predict.Service.Fit: read, fit, write every customer's predictions; customers/s", Role: "target", Events: int64(m.Customers), Seconds: total}
	target.EventsPerS = float64(m.Customers) / total
	r.Runs = append(r.Runs, target, baseline)
	r.Notes = append(r.Notes, fmt.Sprintf("read and fit %.2f s, predictions computed and written %.2f s; BG/NBD r %.4f α %.4f a %.4f b %.4f; Gamma-Gamma p %.3f q %.3f γ %.3f",
		m.FitSeconds, total-m.FitSeconds, m.BGNBD.R, m.BGNBD.Alpha, m.BGNBD.A, m.BGNBD.B, m.GammaGamma.P, m.GammaGamma.Q, m.GammaGamma.Gamma))

	var stored int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM predictions WHERE model_id = ?", m.ID).Scan(&stored); err != nil {
		return nil, err
	}
	r.check("every customer has a prediction", m.Customers == customers && stored == customers, "%d customers seeded, %d in the model, %d predictions", customers, m.Customers, stored)
	fitted := clv.BGNBD{R: m.BGNBD.R, Alpha: m.BGNBD.Alpha, A: m.BGNBD.A, B: m.BGNBD.B}
	e, want := fitted.ExpectedPurchasesNew(52), predictBG.ExpectedPurchasesNew(52)
	r.check("the fit recovers the process", math.Abs(e-want)/want < 0.05, "E[X(52 weeks)] of a new customer: fitted %.4f, process %.4f", e, want)
	r.Ratios = append(r.Ratios, Ratio{Name: "refit seconds / plain read seconds", Value: total / baseline.Seconds})
	r.Goals = append(r.Goals, Goal{Name: "read and fit seconds (" + strconv.Itoa(customers) + " customers)", Value: m.FitSeconds, Goal: "≤ 30 for 1,000,000", Met: m.FitSeconds <= 30})
	r.LoadAfter = loadavg()
	return r, nil
}

// seedPredict inserts customers and their orders drawn from the BG/NBD and
// Gamma-Gamma processes and returns how many orders it made.
func seedPredict(ctx context.Context, db *sqldb.DB, customers int) (int, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	var profiles, ords [][]any
	made := 0
	profileTypes := []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Int}
	orderTypes := []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int}
	flush := func() error {
		return db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := tx.Bulk(ctx, `INSERT INTO profiles (id, canonical_id, created_at) VALUES VALUES_LIST`, profileTypes, profiles, nil); err != nil {
				return err
			}
			return tx.Bulk(ctx, `INSERT INTO orders (order_id, profile_id, source_id, channel, currency, value_minor, placed_at, completed, event_seq)
				VALUES VALUES_LIST`, orderTypes, ords, nil)
		})
	}
	calDays := int(predictCalEnd.Sub(predictStart).Hours() / 24)
	add := func(id string, day int) {
		made++
		nu := gammaVariate(rng, predictGG.Q) / predictGG.Gamma
		value := gammaVariate(rng, predictGG.P) / nu
		at := predictStart.AddDate(0, 0, day).Add(time.Duration(rng.IntN(86400)) * time.Second).UnixMilli()
		ords = append(ords, []any{"o" + strconv.Itoa(made), id, "bench", "web", "EUR", int64(math.Round(value * 100)), at, int64(1), int64(made)})
	}
	for c := range customers {
		id := fmt.Sprintf("c%08d", c)
		first := rng.IntN(84)
		profiles = append(profiles, []any{id, id, predictStart.AddDate(0, 0, first).UnixMilli()})
		lambda := gammaVariate(rng, predictBG.R) / predictBG.Alpha // per week
		x1, x2 := gammaVariate(rng, predictBG.A), gammaVariate(rng, predictBG.B)
		p := x1 / (x1 + x2)
		add(id, first)
		t := 0.0
		for {
			t += rng.ExpFloat64() / lambda
			day := first + int(math.Min(t*7, 1e6))
			if day > calDays {
				break
			}
			add(id, day)
			if rng.IntN(20) == 0 {
				add(id, day) // a second order that day: one transaction
			}
			if rng.Float64() < p {
				break
			}
		}
		if len(ords) >= 50_000 || c == customers-1 {
			if err := flush(); err != nil {
				return made, err
			}
			profiles, ords = profiles[:0], ords[:0]
		}
	}
	return made, nil
}

// gammaVariate draws from Gamma(shape, 1) (Marsaglia and Tsang).
func gammaVariate(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaVariate(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if math.Log(rng.Float64()) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}
