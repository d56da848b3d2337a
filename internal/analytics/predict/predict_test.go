package predict_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/analytics/clv/cdnowtest"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

var (
	ev = processtest.Ev
	q  = processtest.Q
)

// cdnowCustomers is how many CDNOW sample customers the fixture ingests.
const cdnowCustomers = 300

// sample returns the CDNOW sample transactions of the first n customers.
func sample(t testing.TB, n int) []cdnowtest.Transaction {
	var out []cdnowtest.Transaction
	for _, x := range cdnowtest.Sample(t) {
		if x.ID <= n {
			out = append(out, x)
		}
	}
	return out
}

func order(user, id, date, total, currency string) string {
	return ev("type", q("track"), "userId", q(user), "event", q("Order Completed"), "timestamp", q(date+"T10:00:00Z"),
		"properties", `{"order_id":`+q(id)+`,"total":`+q(total)+`,"currency":`+q(currency)+`}`)
}

// ingestFixture sends the first cdnowCustomers CDNOW customers' orders
// (several orders on one day stay separate orders) and a few hand-made
// customers through the real ingestion and processing path.
func ingestFixture(t *testing.T, h *processtest.Harness) {
	t.Helper()
	var batch []string
	for i, x := range sample(t, cdnowCustomers) {
		batch = append(batch, order(fmt.Sprintf("cd-%d", x.ID), fmt.Sprintf("cd-%d", i), x.Date, x.Amount, "EUR"))
		if len(batch) == 200 {
			h.Send("web", batch...)
			batch = batch[:0]
		}
	}
	h.Send("web", batch...)
	// mixed: a euro order, one in dollars (a purchase of unknown value), a
	// euro order partly refunded (20 − 5), a cancelled order, and an order
	// after the calibration end. x = 2, t_x = 2 weeks, T = 213 days, z̄ = 15
	// over one repeat purchase of known value.
	h.Send("pos",
		order("mixed", "m1", "1997-03-01", "10.00", "EUR"),
		order("mixed", "m2", "1997-03-08", "50.00", "USD"),
		order("mixed", "m3", "1997-03-15", "20.00", "EUR"),
		ev("type", q("track"), "userId", q("mixed"), "event", q("Order Refunded"), "timestamp", q("1997-03-20T10:00:00Z"), "properties", `{"order_id":"m3","total":5}`),
		order("mixed", "m4", "1997-04-01", "99.00", "EUR"),
		ev("type", q("track"), "userId", q("mixed"), "event", q("Order Cancelled"), "timestamp", q("1997-04-02T10:00:00Z"), "properties", `{"order_id":"m4"}`),
		order("mixed", "m5", "1997-10-02", "30.00", "EUR"),
	)
	// merged: an anonymous store order, then a web order by the same person
	// once identified: one customer, x = 1, t_x = T − 1 week.
	h.Send("web",
		ev("type", q("track"), "anonymousId", q("anon-m"), "event", q("Order Completed"), "timestamp", q("1997-09-16T09:00:00Z"), "properties", `{"order_id":"g1","total":"12.00"}`),
		ev("type", q("track"), "anonymousId", q("anon-m"), "userId", q("merged"), "event", q("Order Completed"), "timestamp", q("1997-09-23T23:59:59Z"), "properties", `{"order_id":"g2","total":"8.00"}`),
	)
}

var now = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

type stored struct {
	model, risk  string
	x            int
	tx, t, e, pa float64
	value, clvM  int64
	next         *string
}

func readPredictions(t *testing.T, db *sqldb.DB) map[string]stored {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT profile_id, model_id, x, t_x, t, expected_purchases, p_alive, expected_value_minor, clv_minor, churn_risk, next_order_on FROM predictions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]stored{}
	for rows.Next() {
		var (
			p string
			s stored
		)
		if err := rows.Scan(&p, &s.model, &s.x, &s.tx, &s.t, &s.e, &s.pa, &s.value, &s.clvM, &s.risk, &s.next); err != nil {
			t.Fatal(err)
		}
		out[p] = s
	}
	return out
}

// A fit through the real processing path: the summaries equal the
// published CDNOW summary and the hand-worked customers, and every stored
// prediction is what the models give at the stored parameters.
func TestFitThroughProcessing(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		h := processtest.New(t, db)
		ingestFixture(t, h)
		svc := predict.NewService(db, predict.Config{BaseCurrency: "EUR", Margin: 0.3, DiscountRate: 0.1}, func() time.Time { return now })
		m, err := svc.Fit(ctx, predict.Request{CalibrationEnd: date("1997-09-30"), Unit: clv.Week})
		if err != nil {
			t.Fatal(err)
		}
		summary := cdnowtest.Summaries(t, cdnowtest.SummaryValuesFile)
		repeat := 0
		for _, s := range summary[:cdnowCustomers] {
			if s.X > 0 {
				repeat++
			}
		}
		if m.Customers != cdnowCustomers+2 || m.RepeatCustomers != repeat+2 || m.CalibrationEnd != "1997-09-30" || m.TimeUnit != clv.Week || m.Currency != "EUR" {
			t.Fatalf("model %+v; want %d customers, %d repeat", m, cdnowCustomers+2, repeat+2)
		}
		if m.GammaGamma.Customers != repeat+2 {
			t.Errorf("Gamma-Gamma fitted on %d customers, want %d", m.GammaGamma.Customers, repeat+2)
		}
		cur, err := predict.Current(ctx, db)
		if err != nil || cur.ID != m.ID || cur.BGNBD != m.BGNBD || cur.GammaGamma != m.GammaGamma {
			t.Fatalf("current model %+v, %v; fitted %+v", cur, err, m)
		}
		bg := clv.BGNBD{R: m.BGNBD.R, Alpha: m.BGNBD.Alpha, A: m.BGNBD.A, B: m.BGNBD.B}
		gg := clv.GammaGamma{P: m.GammaGamma.P, Q: m.GammaGamma.Q, Gamma: m.GammaGamma.Gamma}
		val := clv.Valuation{Months: 12, Margin: 0.3, DiscountRate: 0.1}
		preds := readPredictions(t, db)
		if len(preds) != cdnowCustomers+2 {
			t.Fatalf("%d predictions", len(preds))
		}
		check := func(name string, c clv.Customer) {
			t.Helper()
			root := h.Root(identity.UserID, name)
			s, ok := preds[root]
			if !ok {
				t.Fatalf("%s has no prediction", name)
			}
			near := func(a, b float64) bool { return math.Abs(a-b) <= 0.005+1e-9 }
			if s.model != m.ID || s.x != c.X || !near(s.tx, c.Tx) || !near(s.t, c.T) {
				t.Fatalf("%s: stored %+v, want x %d t_x %.2f T %.2f", name, s, c.X, c.Tx, c.T)
			}
			// The summary file rounds t_x, T and z̄ to two decimals: the
			// exact times are stored (checked above); half a cent of z̄
			// moves the order value by up to a cent and the CLV by up to
			// half a cent per discounted purchase times the margin.
			c.Tx, c.T = s.tx, s.t
			p := clv.Predict(bg, gg, val, c, clv.Week)
			if math.Abs(s.e-p.ExpectedPurchases) > 1e-12 || math.Abs(s.pa-p.PAlive) > 1e-12 || s.risk != string(clv.RiskOf(p.PAlive)) ||
				absDiff(s.value, int64(math.Round(p.ExpectedValue*100))) > 1 || absDiff(s.clvM, int64(math.Round(p.CLV*100))) > 1+int64(p.DiscountedPurchases*0.3*0.5) {
				t.Errorf("%s: stored %+v, models give %+v", name, s, p)
			}
			if p.NextPurchase < 0 && s.next != nil || p.NextPurchase >= 0 &&
				(s.next == nil || *s.next != date("1997-09-30").AddDate(0, 0, int(math.Ceil(p.NextPurchase*7))).Format(time.DateOnly)) {
				t.Errorf("%s: next order %v, models give %v weeks", name, deref(s.next), p.NextPurchase)
			}
		}
		for i, s := range summary[:cdnowCustomers] {
			c := clv.Customer{X: s.X, Tx: s.Tx, T: s.T}
			if s.X > 0 {
				c.Mean, c.MeanN = s.Zbar, s.X
			}
			check(fmt.Sprintf("cd-%d", i+1), c)
		}
		check("mixed", clv.Customer{X: 2, Tx: 2, T: 213.0 / 7, Mean: 15, MeanN: 1})
		check("merged", clv.Customer{X: 1, Tx: 1, T: 2, Mean: 8, MeanN: 1})

		// The profile view carries them.
		v, err := predict.ForProfile(ctx, db, h.Root(identity.UserID, "cd-1"))
		if err != nil || !v.Available || v.ModelID != m.ID || *v.RepeatPurchases != 2 || v.CLV.Currency != "EUR" || v.CalibrationEnd != "1997-09-30" {
			t.Fatalf("view %+v %v", v, err)
		}
		// A refit as of a later day replaces every row; a customer who
		// bought only after the first calibration end joins.
		h.Send("web", order("late", "l1", "1997-12-01", "5.00", "EUR"))
		if v, err := predict.ForProfile(ctx, db, h.Root(identity.UserID, "late")); err != nil || v.Available || !strings.Contains(v.Reason, "no completed order up to 1997-09-30") {
			t.Fatalf("late customer before the refit: %+v %v", v, err)
		}
		m2, err := svc.Fit(ctx, predict.Request{CalibrationEnd: date("1997-12-31"), Unit: clv.Day})
		if err != nil {
			t.Fatal(err)
		}
		preds = readPredictions(t, db)
		for p, s := range preds {
			if s.model != m2.ID {
				t.Fatalf("profile %s kept a row of model %s", p, s.model)
			}
		}
		late := preds[h.Root(identity.UserID, "late")]
		if len(preds) != cdnowCustomers+3 || late.x != 0 || late.t != 30 || late.pa != 1 {
			t.Fatalf("%d predictions after the refit; late %+v", len(preds), late)
		}
	})
}

// Below the minimum history a fit answers "not enough data yet" and the
// profiles say so; bad requests are refused.
func TestNotEnoughData(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		h := processtest.New(t, db)
		h.Send("web", order("a", "1", "2024-10-01", "10.00", "EUR"), order("a", "2", "2024-11-01", "10.00", "EUR"), order("b", "3", "2024-10-05", "10.00", "EUR"))
		svc := predict.NewService(db, predict.Config{BaseCurrency: "EUR"}, func() time.Time { return now })
		root := h.Root(identity.UserID, "a")
		if v, err := predict.ForProfile(ctx, db, root); err != nil || v.Available || !strings.Contains(v.Reason, "no prediction model has been fitted yet") {
			t.Fatalf("before any fit: %+v %v", v, err)
		}
		if _, err := predict.Current(ctx, db); !fault.Is(err, fault.NotFound) {
			t.Fatalf("current before any fit: %v", err)
		}
		_, err := svc.Fit(ctx, predict.Request{CalibrationEnd: date("2024-12-31"), Unit: clv.Week})
		const want = "not enough data yet: 2 customers bought by 2024-12-31; predictions need at least 100"
		if !fault.Is(err, fault.Conflict) || fault.MessageOf(err) != want {
			t.Fatalf("fit: %v", err)
		}
		if _, err := predict.Current(ctx, db); !fault.Is(err, fault.Conflict) || fault.MessageOf(err) != want {
			t.Fatalf("current: %v", err)
		}
		if v, err := predict.ForProfile(ctx, db, root); err != nil || v.Available || v.Reason != want || v.PAlive != nil || v.CLV != nil {
			t.Fatalf("profile: %+v %v", v, err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM predictions").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d predictions stored, %v", n, err)
		}
		// Enough customers but too few who came back.
		small := predict.NewService(db, predict.Config{BaseCurrency: "EUR", Min: predict.Minimums{Customers: 2, RepeatCustomers: 2, WindowDays: 30}}, func() time.Time { return now })
		if _, err := small.Fit(ctx, predict.Request{CalibrationEnd: date("2024-12-31"), Unit: clv.Day}); !fault.Is(err, fault.Conflict) ||
			fault.MessageOf(err) != "not enough data yet: 1 customers bought again by 2024-12-31; predictions need at least 2" {
			t.Fatalf("few repeat customers: %v", err)
		}
		for _, r := range []predict.Request{{CalibrationEnd: date("2024-12-31"), Unit: "month"}, {CalibrationEnd: date("2025-01-02"), Unit: clv.Day}} {
			if _, err := svc.Fit(ctx, r); !fault.Is(err, fault.Invalid) {
				t.Errorf("%+v: %v", r, err)
			}
		}
	})
}

// The holdout test compares predictions with what customers did next.
func TestHoldout(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	h := processtest.New(t, db)
	ingestFixture(t, h)
	svc := predict.NewService(db, predict.Config{BaseCurrency: "EUR"}, func() time.Time { return now })
	r, err := svc.Holdout(context.Background(), predict.HoldoutRequest{CalibrationEnd: date("1997-09-30"), HoldoutEnd: date("1998-06-30"), Unit: clv.Week, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Purchase days from 1997-10-01 to 1998-06-30, counted from the file,
	// plus the mixed customer's order of 1997-10-02.
	days := map[string]bool{}
	for _, x := range sample(t, cdnowCustomers) {
		if x.Date > "1997-09-30" {
			days[fmt.Sprint(x.ID, x.Date)] = true
		}
	}
	if r.Report.Actual != float64(len(days)+1) || r.Report.Customers != cdnowCustomers+2 || r.Report.Length != 39 {
		t.Fatalf("report %+v, want %d actual purchases", r.Report, len(days)+1)
	}
	if len(r.Customers) != 3 || r.Customers[0].Predicted < r.Customers[1].Predicted || r.Customers[1].Predicted < r.Customers[2].Predicted {
		t.Fatalf("customers %+v", r.Customers)
	}
	if _, err := svc.Holdout(context.Background(), predict.HoldoutRequest{CalibrationEnd: date("1997-09-30"), HoldoutEnd: date("1997-09-30"), Unit: clv.Week}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("empty holdout window: %v", err)
	}
}
