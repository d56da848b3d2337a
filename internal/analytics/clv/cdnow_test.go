package clv_test

import (
	"math"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/analytics/clv/cdnowtest"
)

func customersOf(rows []cdnowtest.Summary) []clv.Customer {
	cs := make([]clv.Customer, len(rows))
	for i, r := range rows {
		cs[i] = clv.Customer{X: r.X, Tx: r.Tx, T: r.T}
		if r.X > 0 && r.Zbar > 0 {
			cs[i].Mean, cs[i].MeanN = r.Zbar, r.X
		}
	}
	return cs
}

func day(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// histories summarises the sample as of 1997-09-30 with a holdout window to
// 1998-06-30, in the given unit; the result is indexed by sample id − 1.
func histories(t testing.TB, txs []cdnowtest.Transaction, unit clv.Unit) []clv.History {
	t.Helper()
	by := map[int][]clv.Purchase{}
	for _, x := range txs {
		by[x.ID] = append(by[x.ID], clv.Purchase{Day: x.Day, Value: x.Value, HasValue: true})
	}
	out := make([]clv.History, len(by))
	for id, ps := range by {
		h, ok := clv.Summarise(ps, day(1997, 9, 30), day(1998, 6, 30), unit)
		if !ok {
			t.Fatalf("customer %d has no purchase in the calibration window", id)
		}
		out[id-1] = h
	}
	return out
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// The BG/NBD and Gamma-Gamma fits reproduce Fader, Hardie & Lee (2005) and
// Fader & Hardie (2013) on the CDNOW sample, to the published precision.
// The papers fitted the exact summary (times in days / 7), which
// TestSummaryFromTransactions shows equal to the summary files to their two
// decimals; the files' rounding moves α and b in the fourth decimal (checked
// below too).
func TestCDNOWReproducesThePapers(t *testing.T) {
	hs := histories(t, cdnowtest.Sample(t), clv.Week)
	exact := make([]clv.Customer, len(hs))
	for i, h := range hs {
		exact[i] = h.Customer
	}
	if len(exact) != 2357 {
		t.Fatalf("%d customers", len(exact))
	}
	groups := clv.GroupCustomers(exact)
	bg, ll, err := clv.FitBGNBD(groups)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/NBD %+v LL %.6f (%d groups)", bg, ll, len(groups))
	for _, c := range []struct {
		name      string
		got, want float64
		places    int
	}{
		{"r", bg.R, 0.2426, 4}, {"alpha", bg.Alpha, 4.4136, 4}, {"a", bg.A, 0.7929, 4}, {"b", bg.B, 2.4259, 4},
		{"log-likelihood", ll, -9582.43, 2},
	} {
		if round(c.got, c.places) != c.want {
			t.Errorf("BG/NBD %s = %.6f, want %.*f", c.name, c.got, c.places, c.want)
		}
	}
	// E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 (Hardie's spreadsheet).
	if e := bg.ExpectedPurchases(39, 2, 30.43, 38.86); math.Abs(e-1.226) > 0.001 {
		t.Errorf("E[Y(39) | 2, 30.43, 38.86] = %.5f, want 1.226", e)
	}
	// E[X(t)] of a new customer (Hardie's spreadsheet), 3 decimals.
	for _, c := range []struct{ t, want float64 }{{0.1429, 0.0078}, {1, 0.0532}, {3, 0.1506}, {31.8571, 1.0405}, {32, 1.0437}, {78, 1.8576}} {
		if e := bg.ExpectedPurchasesNew(c.t); math.Abs(e-c.want) > 0.0005 {
			t.Errorf("E[X(%g)] = %.5f, want %.4f", c.t, e, c.want)
		}
	}

	// Fitted on the rounded summary file, the parameters stay within the
	// rounding's reach (the shared README's independent check found r
	// 0.2426, α 4.4135, a 0.7929, b 2.4258, LL −9582.426 there).
	rounded, rll, err := clv.FitBGNBD(clv.GroupCustomers(customersOf(cdnowtest.Summaries(t, cdnowtest.SummaryFile))))
	if err != nil {
		t.Fatal(err)
	}
	if round(rounded.R, 4) != 0.2426 || round(rounded.Alpha, 4) != 4.4135 || round(rounded.A, 4) != 0.7929 || round(rounded.B, 4) != 2.4258 || round(rll, 3) != -9582.426 {
		t.Errorf("fit on the rounded file: %+v LL %.4f", rounded, rll)
	}

	money := cdnowtest.Summaries(t, cdnowtest.SummaryValuesFile)
	vgroups := clv.GroupValues(exact)
	n := 0.0
	for _, v := range vgroups {
		n += v.N
	}
	if n != 946 {
		t.Fatalf("%g customers with repeat purchases, want 946", n)
	}
	gg, gll, err := clv.FitGammaGamma(vgroups)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Gamma-Gamma %+v LL %.6f", gg, gll)
	if round(gg.P, 2) != 6.25 || round(gg.Q, 2) != 3.74 || round(gg.Gamma, 2) != 15.44 {
		t.Errorf("Gamma-Gamma %+v, want p 6.25, q 3.74, γ 15.44", gg)
	}
	if round(gll, 4) != -4055.9177 {
		t.Errorf("Gamma-Gamma log-likelihood %.4f, want −4055.9177", gll)
	}
	// E[Z | x, z̄] of the first ten customers at the published parameters
	// (Hardie's spreadsheet, absolute tolerance 0.1 as published).
	pub := clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	for i, want := range []float64{24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17} {
		r := money[i]
		if e := pub.ExpectedValue(r.X, r.Zbar); math.Abs(e-want) > 0.1 {
			t.Errorf("customer %d: E[Z] = %.3f, want %.2f", r.ID, e, want)
		}
	}
	// The same with x = 0 by hand: γp/(q−1) = 15.44·6.25/2.74.
	if e := pub.ExpectedValue(0, 0); math.Abs(e-15.44*6.25/2.74) > 1e-12 {
		t.Errorf("E[Z | x=0] = %v", e)
	}

	// lifetimes' documented CLV of the first ten customers (Quickstart):
	// BG/NBD refitted on the file with money, 12 "months" of 30 time units
	// (lifetimes' default freq "D" applied to this weekly data), discount
	// 1% a month (1.01^12 − 1 a year), margin 1, with the Gamma-Gamma fit.
	// lifetimes fitted both models on the rounded file.
	bg2, _, err := clv.FitBGNBD(clv.GroupCustomers(customersOf(money)))
	if err != nil {
		t.Fatal(err)
	}
	gg2, _, err := clv.FitGammaGamma(clv.GroupValues(customersOf(money)))
	if err != nil {
		t.Fatal(err)
	}
	val := clv.Valuation{Months: 12, Margin: 1, DiscountRate: math.Pow(1.01, 12) - 1, PerMonth: 30}
	for i, want := range []float64{140.096211, 18.943467, 38.180574, 38.180574, 38.180574, 1003.868107, 28.109683, 38.180574, 167.418216, 38.180574} {
		c := customersOf(money[i : i+1])[0]
		p := clv.Predict(bg2, gg2, val, c, clv.Week)
		if math.Abs(p.CLV-want)/want > 1e-3 {
			t.Errorf("customer %d: CLV %.6f, lifetimes documents %.6f", i+1, p.CLV, want)
		}
	}
}

// Summarising CDNOW_sample.txt (same-day purchases merged, weeks, calibration
// end 1997-09-30) gives exactly the published summary files.
func TestSummaryFromTransactions(t *testing.T) {
	hs := histories(t, cdnowtest.Sample(t), clv.Week)
	rows := cdnowtest.Summaries(t, cdnowtest.SummaryValuesFile)
	plain := cdnowtest.Summaries(t, cdnowtest.SummaryFile)
	if len(hs) != len(rows) {
		t.Fatalf("%d customers, want %d", len(hs), len(rows))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 0.005+1e-9 }
	for i, r := range rows {
		h, p := hs[i], plain[i]
		if h.X != r.X || h.X != p.X || !near(h.Tx, r.Tx) || !near(h.Tx, p.Tx) || !near(h.T, r.T) || !near(h.T, p.T) || !near(h.Mean, r.Zbar) {
			t.Errorf("customer %d: got x %d t_x %.4f T %.4f z̄ %.4f; file x %d t_x %.2f T %.2f z̄ %.2f", r.ID, h.X, h.Tx, h.T, h.Mean, r.X, r.Tx, r.T, r.Zbar)
		}
	}
	// Customer 1 by hand: 1997-01-01, 01-18, 08-02 (and 12-12 after the
	// calibration end): x = 2, t_x = 213/7, T = 272/7, one holdout purchase.
	if h := hs[0]; h.X != 2 || h.Tx != 213.0/7 || h.T != 272.0/7 || h.Holdout != 1 {
		t.Errorf("customer 1: %+v", h)
	}
}

// Holdout: fitted on the 39-week calibration window, BG/NBD predicts the
// purchases of the following 39 weeks per customer and in aggregate.
func TestCDNOWHoldout(t *testing.T) {
	txs := cdnowtest.Sample(t)
	hs := histories(t, txs, clv.Week)
	cs := make([]clv.Customer, len(hs))
	for i, h := range hs {
		cs[i] = h.Customer
	}
	bg, _, err := clv.FitBGNBD(clv.GroupCustomers(cs))
	if err != nil {
		t.Fatal(err)
	}
	rep, pred := clv.Holdout(bg, hs, 39)
	// Actual holdout purchases counted independently: distinct (customer,
	// day) pairs from 1997-10-01 to 1998-06-30.
	seen := map[[2]int64]bool{}
	for _, x := range txs {
		if x.Day > day(1997, 9, 30) && x.Day <= day(1998, 6, 30) {
			seen[[2]int64{int64(x.ID), x.Day}] = true
		}
	}
	if rep.Actual != float64(len(seen)) || rep.Customers != 2357 {
		t.Fatalf("actual %g, want %d; customers %d", rep.Actual, len(seen), rep.Customers)
	}
	t.Logf("holdout: predicted %.1f actual %.0f MAE %.3f RMSE %.3f r %.3f", rep.Predicted, rep.Actual, rep.MAE, rep.RMSE, rep.Correlation)
	for _, r := range rep.ByFrequency {
		t.Logf("  x=%d: %4d customers, predicted %.3f actual %.3f", r.X, r.Customers, r.Predicted, r.Actual)
	}
	// The model under-predicts this holdout by about 12% (1,653 predicted,
	// 1,882 made); docs/predictions.md reports it. The sum and the rows
	// must agree with the per-customer predictions.
	sum, n := 0.0, 0
	for _, p := range pred {
		sum += p
	}
	for _, r := range rep.ByFrequency {
		n += r.Customers
	}
	if math.Abs(sum-rep.Predicted) > 1e-9 || n != 2357 || rep.ByFrequency[0].Customers != 1411 {
		t.Errorf("report %+v does not add up: sum %v, %d customers", rep, sum, n)
	}
	if math.Abs(rep.Predicted-rep.Actual)/rep.Actual > 0.15 {
		t.Errorf("aggregate holdout prediction %.1f is more than 15%% off the actual %.0f", rep.Predicted, rep.Actual)
	}
	// Per customer: customer 1 (x 2, t_x 30.43, T 38.86) is predicted 1.226.
	if math.Abs(pred[0]-bg.ExpectedPurchases(39, 2, 213.0/7, 272.0/7)) > 1e-12 || math.Abs(pred[0]-1.226) > 0.002 {
		t.Errorf("customer 1 predicted %.4f", pred[0])
	}
	// Conditional expectations rise with calibration frequency.
	for i := 1; i < len(rep.ByFrequency); i++ {
		if rep.ByFrequency[i].Predicted <= rep.ByFrequency[i-1].Predicted {
			t.Errorf("predicted mean for x=%d not above x=%d: %+v", i, i-1, rep.ByFrequency)
		}
	}
}

// The model does not depend on the time unit: fitted in days instead of
// weeks, r, a, b and the predictions are the same and α is seven times as
// large.
func TestUnitInvariance(t *testing.T) {
	txs := cdnowtest.Sample(t)
	var wk, dy []clv.Customer
	for _, h := range histories(t, txs, clv.Week) {
		wk = append(wk, h.Customer)
	}
	for _, h := range histories(t, txs, clv.Day) {
		dy = append(dy, h.Customer)
	}
	w, _, err := clv.FitBGNBD(clv.GroupCustomers(wk))
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := clv.FitBGNBD(clv.GroupCustomers(dy))
	if err != nil {
		t.Fatal(err)
	}
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	if rel(d.R, w.R) > 1e-5 || rel(d.A, w.A) > 1e-5 || rel(d.B, w.B) > 1e-5 || rel(d.Alpha, 7*w.Alpha) > 1e-5 {
		t.Fatalf("weeks %+v, days %+v", w, d)
	}
	if e1, e2 := w.ExpectedPurchases(39, 2, 213.0/7, 272.0/7), d.ExpectedPurchases(273, 2, 213, 272); rel(e1, e2) > 1e-5 {
		t.Fatalf("E[Y] in weeks %v, in days %v", e1, e2)
	}
}
