package clv

import (
	"math"
)

// Unit is the time unit of a summary: one day or one week.
type Unit string

const (
	Day  Unit = "day"
	Week Unit = "week"
)

// Days returns the length of the unit in days (0 for an unknown unit).
func (u Unit) Days() float64 {
	switch u {
	case Day:
		return 1
	case Week:
		return 7
	}
	return 0
}

// PerMonth returns how many units make an average month (365.25/12 days).
func (u Unit) PerMonth() float64 { return 365.25 / 12 / u.Days() }

// Valuation sets how lifetime value is counted.
type Valuation struct {
	Months       int     // horizon in months (12)
	Margin       float64 // share of order value kept as profit (1: value in revenue)
	DiscountRate float64 // yearly discount rate, e.g. 0.10
	// PerMonth is the number of time units in a month; zero means the
	// average month of the unit (Unit.PerMonth).
	PerMonth float64
}

// Forecast is what BG/NBD says about a customer with history (x, t_x, T).
type Forecast struct {
	ExpectedPurchases float64 // expected purchases within the horizon
	// DiscountedPurchases is Σ over months m of the purchases expected in
	// month m (E[Y(m)] − E[Y(m−1)]) discounted by (1+d)^(m/12): the CLV is
	// this times the expected order value times the margin.
	DiscountedPurchases float64
	PAlive              float64
	// NextPurchase is the time from the calibration end until one purchase
	// is expected (E[Y(t)] = 1), in time units; negative if that does not
	// happen within twice the horizon.
	NextPurchase float64
}

// Prediction is what the models say about one customer.
type Prediction struct {
	Forecast
	ExpectedValue float64 // expected value of one future order
	CLV           float64 // discounted expected margin within the horizon
}

// Forecast computes the BG/NBD part of a prediction, which depends on the
// customer only through (x, t_x, T).
func (v Valuation) Forecast(bg BGNBD, x int, tx, T float64, unit Unit) Forecast {
	perMonth := v.PerMonth
	if perMonth <= 0 {
		perMonth = unit.PerMonth()
	}
	months := v.Months
	if months <= 0 {
		months = 12
	}
	c := Customer{X: x, Tx: tx, T: T}
	out := Forecast{PAlive: bg.PAlive(x, tx, T), NextPurchase: -1}
	prev, prevT := 0.0, 0.0
	monthly := math.Pow(1+v.DiscountRate, 1.0/12)
	disc := 1.0
	for m := 1; m <= 2*months; m++ {
		t := float64(m) * perMonth
		e := bg.ExpectedPurchases(t, x, tx, T)
		if m <= months {
			disc /= monthly
			out.DiscountedPurchases += (e - prev) * disc
			out.ExpectedPurchases = e
		}
		if out.NextPurchase < 0 && e >= 1 {
			out.NextPurchase = solveOne(bg, c, prevT, t)
		}
		if m >= months && out.NextPurchase >= 0 {
			break
		}
		prev, prevT = e, t
	}
	return out
}

// Predict computes a customer's prediction. The CLV is the usual discounted
// sum over months m = 1…M of the purchases expected in month m (E[Y(m)] −
// E[Y(m−1)]) times the expected order value times the margin, discounted by
// (1+d)^(m/12) for a yearly rate d.
func Predict(bg BGNBD, gg GammaGamma, v Valuation, c Customer, unit Unit) Prediction {
	f := v.Forecast(bg, c.X, c.Tx, c.T, unit)
	ev := gg.ExpectedValue(c.MeanN, c.Mean)
	return Prediction{Forecast: f, ExpectedValue: ev, CLV: f.DiscountedPurchases * ev * v.Margin}
}

// solveOne finds t in [lo, hi] with E[Y(t)] = 1 by bisection (E[Y(t)] grows
// with t), to a hundredth of a time unit.
func solveOne(bg BGNBD, c Customer, lo, hi float64) float64 {
	for hi-lo > 0.01 {
		mid := (lo + hi) / 2
		if bg.ExpectedPurchases(mid, c.X, c.Tx, c.T) >= 1 {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// Risk is a churn risk band.
type Risk string

// The churn risk bands, by the probability that the customer is still
// active (P(alive)).
const (
	RiskLow      Risk = "low"       // P(alive) ≥ 0.8
	RiskMedium   Risk = "medium"    // 0.5 ≤ P(alive) < 0.8
	RiskHigh     Risk = "high"      // 0.2 ≤ P(alive) < 0.5
	RiskVeryHigh Risk = "very_high" // P(alive) < 0.2: most likely gone
)

// RiskOf returns the churn risk band of a probability of being active.
func RiskOf(pAlive float64) Risk {
	switch {
	case pAlive >= 0.8:
		return RiskLow
	case pAlive >= 0.5:
		return RiskMedium
	case pAlive >= 0.2:
		return RiskHigh
	}
	return RiskVeryHigh
}
