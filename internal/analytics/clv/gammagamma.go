package clv

import (
	"errors"
	"math"
	"sort"

	"gonum.org/v1/gonum/mathext"
)

// GammaGamma are the parameters of the Gamma-Gamma model of order value:
// a customer's transaction values are Gamma(p, ν) around their mean p/ν,
// and ν is Gamma(q, γ) across customers.
type GammaGamma struct {
	P, Q, Gamma float64
}

// ValueGroup is a set of customers with the same number of repeat
// purchases and mean repeat value: the sufficient statistics of the
// Gamma-Gamma likelihood.
type ValueGroup struct {
	X    int
	Mean float64
	N    float64
}

// GroupValues groups the customers that the Gamma-Gamma model can use:
// those with at least one repeat purchase of known, positive value. X is
// the number of repeat purchases whose value is known.
func GroupValues(cs []Customer) []ValueGroup {
	type key struct {
		x int
		m float64
	}
	idx := map[key]int{}
	var out []ValueGroup
	for _, c := range cs {
		if c.MeanN <= 0 || !(c.Mean > 0) {
			continue
		}
		k := key{c.MeanN, c.Mean}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, ValueGroup{X: c.MeanN, Mean: c.Mean})
		}
		out[i].N++
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].X != out[j].X {
			return out[i].X < out[j].X
		}
		return out[i].Mean < out[j].Mean
	})
	return out
}

// GammaGammaLogLikelihood returns the log-likelihood of the groups under m
// (Fader & Hardie 2013, equation 5, with the mean value z̄ as the datum) and,
// if grad is not nil (length 3), its gradient with respect to (p, q, γ).
func GammaGammaLogLikelihood(m GammaGamma, groups []ValueGroup, grad []float64) float64 {
	p, q, g := m.P, m.Q, m.Gamma
	if grad != nil {
		clear(grad)
	}
	lgq, _ := math.Lgamma(q)
	lg := math.Log(g)
	var psiQ float64
	if grad != nil {
		psiQ = mathext.Digamma(q)
	}
	lastX := -1
	var c0, lx, psiPXQ, psiPX float64
	total := 0.0
	for _, v := range groups {
		x := float64(v.X)
		if v.X != lastX {
			lastX = v.X
			lgpxq, _ := math.Lgamma(p*x + q)
			lgpx, _ := math.Lgamma(p * x)
			lx = math.Log(x)
			c0 = lgpxq - lgpx - lgq + q*lg + p*x*lx
			if grad != nil {
				psiPXQ, psiPX = mathext.Digamma(p*x+q), mathext.Digamma(p*x)
			}
		}
		lz := math.Log(v.Mean)
		lgz := math.Log(g + x*v.Mean)
		total += v.N * (c0 + (p*x-1)*lz - (p*x+q)*lgz)
		if grad != nil {
			grad[0] += v.N * x * (psiPXQ - psiPX + lz + lx - lgz)
			grad[1] += v.N * (psiPXQ - psiQ + lg - lgz)
			grad[2] += v.N * (q/g - (p*x+q)/(g+x*v.Mean))
		}
	}
	return total
}

// FitGammaGamma fits the Gamma-Gamma model by maximum likelihood and returns
// the parameters and the log-likelihood at them. A fit with q ≤ 1, for which
// the expected order value of a new customer is infinite, is an error.
func FitGammaGamma(groups []ValueGroup) (GammaGamma, float64, error) {
	n := 0.0
	for _, v := range groups {
		n += v.N
	}
	if n == 0 {
		return GammaGamma{}, 0, errors.New("no customers with repeat purchases of known value")
	}
	p, ll, err := maximise(func(p, grad []float64) float64 {
		return GammaGammaLogLikelihood(GammaGamma{p[0], p[1], p[2]}, groups, grad)
	}, []float64{1, 1, 1}, n)
	if err != nil {
		return GammaGamma{}, 0, err
	}
	m := GammaGamma{p[0], p[1], p[2]}
	if m.Q <= 1 {
		return GammaGamma{}, 0, errors.New("order values vary too much between customers for the Gamma-Gamma model (q ≤ 1)")
	}
	return m, ll, nil
}

// ExpectedValue is the expected value of a customer's future orders given x
// repeat purchases of mean value mean: E[Z | p, q, γ, x, z̄] (Fader & Hardie
// 2013, equation 6), a weighted mean of the population mean γp/(q−1) and the
// customer's own mean. With x = 0 it is the population mean.
func (m GammaGamma) ExpectedValue(x int, mean float64) float64 {
	xf := float64(x)
	return (m.Gamma + xf*mean) * m.P / (m.P*xf + m.Q - 1)
}
