package clv_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/analytics/clv/cdnowtest"
)

// The analytic gradients agree with central differences of the
// log-likelihoods.
func TestGradientsMatchNumericalDerivatives(t *testing.T) {
	hs := histories(t, cdnowtest.Sample(t), clv.Week)
	cs := make([]clv.Customer, len(hs))
	for i, h := range hs {
		cs[i] = h.Customer
	}
	groups, vgroups := clv.GroupCustomers(cs), clv.GroupValues(cs)
	check := func(name string, f func(p, grad []float64) float64, p []float64) {
		t.Helper()
		grad := make([]float64, len(p))
		f(p, grad)
		for i := range p {
			h := 1e-6 * p[i]
			up, down := append([]float64(nil), p...), append([]float64(nil), p...)
			up[i] += h
			down[i] -= h
			num := (f(up, nil) - f(down, nil)) / (2 * h)
			if math.Abs(num-grad[i]) > 1e-5*math.Max(1, math.Abs(num)) {
				t.Errorf("%s at %v: ∂/∂p%d analytic %.8g, numerical %.8g", name, p, i, grad[i], num)
			}
		}
	}
	bg := func(p, grad []float64) float64 {
		return clv.BGNBDLogLikelihood(clv.BGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3]}, groups, grad)
	}
	gg := func(p, grad []float64) float64 {
		return clv.GammaGammaLogLikelihood(clv.GammaGamma{P: p[0], Q: p[1], Gamma: p[2]}, vgroups, grad)
	}
	for _, p := range [][]float64{{0.24, 4.4, 0.79, 2.4}, {1, 1, 1, 1}, {2.5, 30, 0.1, 8}} {
		check("BG/NBD", bg, p)
	}
	for _, p := range [][]float64{{6.25, 3.74, 15.44}, {1, 1, 1}, {0.5, 9, 200}} {
		check("Gamma-Gamma", gg, p)
	}
}

// Values worked out by hand.
func TestFormulasByHand(t *testing.T) {
	m := clv.BGNBD{R: 1, Alpha: 1, A: 2, B: 3}
	// P(alive | x=1, t_x=1, T=2) = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
	// = 1 / (1 + 2/3 · (3/2)²) = 1 / 2.5.
	if p := m.PAlive(1, 1, 2); math.Abs(p-0.4) > 1e-15 {
		t.Errorf("P(alive) = %v, want 0.4", p)
	}
	if p := m.PAlive(0, 0, 50); p != 1 {
		t.Errorf("P(alive | x=0) = %v, want 1", p)
	}
	// A customer seen only at this instant (x = 0, T = 0) is a new customer.
	for _, tt := range []float64{0.5, 3, 40} {
		if a, b := m.ExpectedPurchases(tt, 0, 0, 0), m.ExpectedPurchasesNew(tt); math.Abs(a-b) > 1e-12 {
			t.Errorf("E[Y(%g) | 0, 0, 0] = %v, E[X(%g)] = %v", tt, a, tt, b)
		}
	}
	// With a = 2, b = 3, r = 1, α = 1: E[X(t)] = (a+b−1)/(a−1) · (1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t)))
	// at t = 1: 4 · (1 − ½ · ₂F₁(1, 3; 4; ½)), and ₂F₁(1, 3; 4; z) = 3(−z²/2 − z − ln(1−z))/z³ = 24(ln 2 − 5/8).
	want := 4 * (1 - 0.5*24*(math.Ln2-0.625))
	if e := m.ExpectedPurchasesNew(1); math.Abs(e-want) > 1e-12 {
		t.Errorf("E[X(1)] = %v, want %v", e, want)
	}
	gg := clv.GammaGamma{P: 2, Q: 3, Gamma: 10}
	// E[Z | x=2, z̄=20] = (γ + x z̄) p / (p x + q − 1) = 50 · 2 / 6.
	if e := gg.ExpectedValue(2, 20); math.Abs(e-100.0/6) > 1e-12 {
		t.Errorf("E[Z] = %v", e)
	}
	// Without discount, the CLV is expected purchases × expected value ×
	// margin; with it, less.
	c := clv.Customer{X: 2, Tx: 20, T: 30, Mean: 20, MeanN: 2}
	p := clv.Predict(m, gg, clv.Valuation{Months: 12, Margin: 0.5}, c, clv.Week)
	e12 := m.ExpectedPurchases(12*365.25/12/7, 2, 20, 30)
	if math.Abs(p.ExpectedPurchases-e12) > 1e-12 || math.Abs(p.CLV-e12*100.0/6*0.5) > 1e-9 || p.PAlive != m.PAlive(2, 20, 30) {
		t.Errorf("prediction %+v, E[Y(12 months)] %v", p, e12)
	}
	d := clv.Predict(m, gg, clv.Valuation{Months: 12, Margin: 0.5, DiscountRate: 0.1}, c, clv.Week)
	if !(d.CLV < p.CLV && d.CLV > p.CLV/1.1) {
		t.Errorf("discounted CLV %v against %v", d.CLV, p.CLV)
	}
	// The next purchase is when one purchase is expected.
	if p.NextPurchase <= 0 || math.Abs(m.ExpectedPurchases(p.NextPurchase, 2, 20, 30)-1) > 0.01 {
		t.Errorf("next purchase in %v units: E = %v", p.NextPurchase, m.ExpectedPurchases(p.NextPurchase, 2, 20, 30))
	}
	// A customer long gone is not expected back within two years.
	gone := clv.Predict(clv.BGNBD{R: 0.24, Alpha: 4.4, A: 0.79, B: 2.4}, gg, clv.Valuation{Margin: 1}, clv.Customer{X: 1, Tx: 1, T: 200}, clv.Week)
	if gone.NextPurchase >= 0 || gone.PAlive > 0.2 {
		t.Errorf("gone customer: %+v", gone)
	}
	for _, c := range []struct {
		p    float64
		want clv.Risk
	}{{1, clv.RiskLow}, {0.8, clv.RiskLow}, {0.7999, clv.RiskMedium}, {0.5, clv.RiskMedium}, {0.4999, clv.RiskHigh}, {0.2, clv.RiskHigh}, {0.19, clv.RiskVeryHigh}, {0, clv.RiskVeryHigh}} {
		if got := clv.RiskOf(c.p); got != c.want {
			t.Errorf("RiskOf(%v) = %s, want %s", c.p, got, c.want)
		}
	}
	// Summarise: same-day purchases merge (values add), x counts days, the
	// value of a day with an unknown part is unknown.
	ps := []clv.Purchase{{Day: 10, Value: 5, HasValue: true}, {Day: 10, Value: 7, HasValue: true}, {Day: 17, Value: 3, HasValue: true},
		{Day: 17, Value: 4, HasValue: true}, {Day: 24, Value: 9, HasValue: false}, {Day: 31, Value: 1, HasValue: true}, {Day: 40, Value: 1, HasValue: true}, {Day: 40, HasValue: true}}
	h, ok := clv.Summarise(ps, 31, 45, clv.Week)
	if !ok || h.X != 3 || h.Tx != 3 || h.T != 3 || h.Mean != 4 || h.MeanN != 2 || h.Holdout != 1 || h.First != 10 || h.Last != 31 {
		t.Errorf("summary %+v", h)
	}
	if _, ok := clv.Summarise(ps, 9, 45, clv.Day); ok {
		t.Error("a customer with no purchase by the calibration end was summarised")
	}
}

// simulate draws n customers from the BG/NBD process with parameters m,
// each acquired on a day uniformly in the 12 weeks before the first of
// [0, T] windows like CDNOW's, purchase days rounded to whole days, and
// order values from Gamma-Gamma g. Times are in weeks.
func simulate(n int, m clv.BGNBD, g clv.GammaGamma, seed uint64) []clv.Customer {
	rng := rand.New(rand.NewPCG(seed, 1))
	gamma := func(shape, rate float64) float64 { return gammaVariate(rng, shape) / rate }
	out := make([]clv.Customer, n)
	for i := range out {
		lambda := gamma(m.R, m.Alpha)
		x1, x2 := gammaVariate(rng, m.A), gammaVariate(rng, m.B)
		p := x1 / (x1 + x2)
		nu := gamma(g.Q, g.Gamma)
		tDays := 189 + rng.IntN(84) // 27 to 39 weeks
		c := clv.Customer{T: float64(tDays) / 7}
		t, last, sum := 0.0, 0, 0.0
		for {
			t += rng.ExpFloat64() / lambda
			if !(t*7 < float64(tDays+1)) {
				break
			}
			d := int(t * 7)
			if d != last {
				c.X++
				last = d
				sum += gamma(g.P, nu)
			}
			if rng.Float64() < p {
				break
			}
		}
		c.Tx = float64(last) / 7
		if c.X > 0 {
			c.Mean, c.MeanN = sum/float64(c.X), c.X
		}
		out[i] = c
	}
	return out
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
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

var cdnowBG = clv.BGNBD{R: 0.2426, Alpha: 4.4136, A: 0.7929, B: 2.4259}
var cdnowGG = clv.GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}

// Fitted on customers drawn from a known process, the fit recovers it.
func TestFitRecoversSimulatedProcess(t *testing.T) {
	cs := simulate(50000, cdnowBG, cdnowGG, 7)
	bg, _, err := clv.FitBGNBD(clv.GroupCustomers(cs))
	if err != nil {
		t.Fatal(err)
	}
	gg, _, err := clv.FitGammaGamma(clv.GroupValues(cs))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/NBD %+v, Gamma-Gamma %+v", bg, gg)
	// Expected repeat purchases of a new customer over a year and the mean
	// order value are what the process gives, within sampling error.
	if a, b := bg.ExpectedPurchasesNew(52), cdnowBG.ExpectedPurchasesNew(52); math.Abs(a-b)/b > 0.05 {
		t.Errorf("E[X(52)] %v, process %v", a, b)
	}
	if a, b := gg.ExpectedValue(0, 0), cdnowGG.ExpectedValue(0, 0); math.Abs(a-b)/b > 0.05 {
		t.Errorf("mean order value %v, process %v", a, b)
	}
}

func BenchmarkFitCDNOW(b *testing.B) {
	hs := histories(b, cdnowtest.Sample(b), clv.Week)
	cs := make([]clv.Customer, len(hs))
	for i, h := range hs {
		cs[i] = h.Customer
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := clv.FitBGNBD(clv.GroupCustomers(cs)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := clv.FitGammaGamma(clv.GroupValues(cs)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitMillion fits both models to 1,000,000 customers drawn from
// the CDNOW process (grouping included).
func BenchmarkFitMillion(b *testing.B) {
	cs := simulate(1_000_000, cdnowBG, cdnowGG, 1)
	b.ResetTimer()
	for b.Loop() {
		groups := clv.GroupCustomers(cs)
		if _, _, err := clv.FitBGNBD(groups); err != nil {
			b.Fatal(err)
		}
		if _, _, err := clv.FitGammaGamma(clv.GroupValues(cs)); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(groups)), "groups")
	}
}
