package clv

import (
	"errors"
	"math"
	"sort"

	"gonum.org/v1/gonum/mathext"
)

// Customer is one customer's purchase history summarised as the models need
// it, in time units (days or weeks).
type Customer struct {
	X  int     // repeat purchases: distinct purchase days after the first, up to the calibration end
	Tx float64 // time from the first purchase to the last one (0 when X = 0)
	T  float64 // time from the first purchase to the calibration end
	// Mean is the mean value of the repeat purchases (z̄), in any money
	// unit; MeanN how many repeat purchases it averages (repeat purchases
	// of unknown value, e.g. in another currency, are left out). Zero when
	// X = 0.
	Mean  float64
	MeanN int
}

// Group is a set of customers with the same (x, t_x, T): the sufficient
// statistics of the BG/NBD likelihood.
type Group struct {
	X     int
	Tx, T float64
	N     float64 // how many customers
}

// GroupCustomers groups customers by (x, t_x, T), in a deterministic order.
func GroupCustomers(cs []Customer) []Group {
	type key struct {
		x     int
		tx, t float64
	}
	idx := make(map[key]int, len(cs)/4+1)
	var out []Group
	for _, c := range cs {
		k := key{c.X, c.Tx, c.T}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Group{X: c.X, Tx: c.Tx, T: c.T})
		}
		out[i].N++
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.X != b.X {
			return a.X < b.X
		}
		if a.Tx != b.Tx {
			return a.Tx < b.Tx
		}
		return a.T < b.T
	})
	return out
}

// BGNBD are the parameters of the BG/NBD model: purchase rates are
// Gamma(r, α) across customers, drop-out probabilities Beta(a, b).
type BGNBD struct {
	R, Alpha, A, B float64
}

// BGNBDLogLikelihood returns the log-likelihood of the groups under m
// (Fader, Hardie & Lee 2005, equation 6) and, if grad is not nil (length 4),
// stores its gradient with respect to (r, α, a, b) there.
func BGNBDLogLikelihood(m BGNBD, groups []Group, grad []float64) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	if grad != nil {
		clear(grad)
	}
	lgr, _ := math.Lgamma(r)
	lgab, _ := math.Lgamma(a + b)
	lgb, _ := math.Lgamma(b)
	la := math.Log(alpha)
	var psiR, psiAB, psiB float64
	if grad != nil {
		psiR, psiAB, psiB = mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
	}
	// Terms that depend on x only, computed once per distinct x (groups are
	// sorted by x).
	var (
		lastX                   = -1
		a1, a2                  float64
		dA1r, dA2a, dA2b, loga1 float64
	)
	loga1 = math.Log(a)
	total := 0.0
	for _, g := range groups {
		x := float64(g.X)
		if g.X != lastX {
			lastX = g.X
			lgrx, _ := math.Lgamma(r + x)
			lgbx, _ := math.Lgamma(b + x)
			lgabx, _ := math.Lgamma(a + b + x)
			a1 = lgrx - lgr + r*la
			a2 = lgab + lgbx - lgb - lgabx
			if grad != nil {
				dA1r = mathext.Digamma(r+x) - psiR + la
				psiABX := mathext.Digamma(a + b + x)
				dA2a = psiAB - psiABX
				dA2b = psiAB + mathext.Digamma(b+x) - psiB - psiABX
			}
		}
		lT := math.Log(alpha + g.T)
		a3 := -(r + x) * lT
		var l float64
		var w3, w4, lTx, a4 float64
		if g.X > 0 {
			lTx = math.Log(alpha + g.Tx)
			a4 = loga1 - math.Log(b+x-1) - (r+x)*lTx
			mx := math.Max(a3, a4)
			e3, e4 := math.Exp(a3-mx), math.Exp(a4-mx)
			l = mx + math.Log(e3+e4)
			w3, w4 = e3/(e3+e4), e4/(e3+e4)
		} else {
			l = a3
			w3 = 1
		}
		total += g.N * (a1 + a2 + l)
		if grad != nil {
			dr := dA1r - w3*lT
			dal := r/alpha - w3*(r+x)/(alpha+g.T)
			da := dA2a
			db := dA2b
			if g.X > 0 {
				dr -= w4 * lTx
				dal -= w4 * (r + x) / (alpha + g.Tx)
				da += w4 / a
				db -= w4 / (b + x - 1)
			}
			grad[0] += g.N * dr
			grad[1] += g.N * dal
			grad[2] += g.N * da
			grad[3] += g.N * db
		}
	}
	return total
}

// FitBGNBD fits the BG/NBD model to the groups by maximum likelihood and
// returns the parameters and the log-likelihood at them.
func FitBGNBD(groups []Group) (BGNBD, float64, error) {
	n, sumT := 0.0, 0.0
	for _, g := range groups {
		n += g.N
		sumT += g.N * g.T
	}
	if n == 0 {
		return BGNBD{}, 0, errors.New("no customers")
	}
	// Start with rates of about one purchase per mean customer age.
	start := []float64{1, math.Max(sumT/n, 1e-3), 1, 1}
	p, ll, err := maximise(func(p, grad []float64) float64 {
		return BGNBDLogLikelihood(BGNBD{p[0], p[1], p[2], p[3]}, groups, grad)
	}, start, n)
	if err != nil {
		return BGNBD{}, 0, err
	}
	return BGNBD{p[0], p[1], p[2], p[3]}, ll, nil
}

// PAlive is the probability that a customer with history (x, t_x, T) is
// still active at T (Fader, Hardie & Lee 2005, equation 11; 1 when x = 0,
// since in BG/NBD customers can drop out only after a repeat purchase).
func (m BGNBD) PAlive(x int, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	xf := float64(x)
	lr := math.Log(m.A/(m.B+xf-1)) + (m.R+xf)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx))
	return 1 / (1 + math.Exp(lr))
}

// ExpectedPurchases is the expected number of purchases in the next t time
// units of a customer with history (x, t_x, T): E[Y(t) | x, t_x, T]
// (Fader, Hardie & Lee 2005, equation 10).
func (m BGNBD) ExpectedPurchases(t float64, x int, tx, T float64) float64 {
	if t <= 0 {
		return 0
	}
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	xf := float64(x)
	z := t / (alpha + T + t)
	hyp := mathext.Hypergeo(r+xf, b+xf, a+b+xf-1, z)
	lead := (a + b + xf - 1) / (a - 1)
	num := 1 - math.Exp((r+xf)*math.Log((alpha+T)/(alpha+T+t)))*hyp
	den := 1.0
	if x > 0 {
		den += a / (b + xf - 1) * math.Exp((r+xf)*math.Log((alpha+T)/(alpha+tx)))
	}
	return lead * num / den
}

// ExpectedPurchasesNew is the expected number of purchases in a period of
// length t of a customer just acquired: E[X(t)] (equation 9).
func (m BGNBD) ExpectedPurchasesNew(t float64) float64 {
	r, alpha, a, b := m.R, m.Alpha, m.A, m.B
	hyp := mathext.Hypergeo(r, b, a+b-1, t/(alpha+t))
	return (a + b - 1) / (a - 1) * (1 - math.Pow(alpha/(alpha+t), r)*hyp)
}
