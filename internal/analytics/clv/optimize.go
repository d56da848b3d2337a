package clv

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// objective evaluates a log-likelihood at positive parameters and, if grad is
// not nil, its gradient with respect to them.
type objective func(params, grad []float64) float64

// ErrNoConvergence reports a fit whose optimiser did not reach a maximum.
var ErrNoConvergence = errors.New("the fit did not converge")

// maximise returns the parameters maximising ll, searching over their
// logarithms so they stay positive, and the maximum. n scales the objective
// (the number of customers) so the optimiser sees values of order one.
func maximise(ll objective, start []float64, n float64) ([]float64, float64, error) {
	k := len(start)
	params := make([]float64, k)
	g := make([]float64, k)
	// f is −ll/n over θ = log(params); df its gradient.
	f := func(theta []float64) float64 {
		for i, t := range theta {
			params[i] = math.Exp(t)
		}
		v := -ll(params, nil) / n
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.Inf(1)
		}
		return v
	}
	df := func(grad, theta []float64) {
		for i, t := range theta {
			params[i] = math.Exp(t)
		}
		ll(params, g)
		for i := range grad {
			grad[i] = -params[i] * g[i] / n
			if math.IsNaN(grad[i]) {
				grad[i] = 0
			}
		}
	}
	theta0 := make([]float64, k)
	for i, s := range start {
		theta0[i] = math.Log(s)
	}
	res, err := optimize.Minimize(optimize.Problem{Func: f, Grad: df}, theta0,
		&optimize.Settings{GradientThreshold: 1e-9, MajorIterations: 500,
			Converger: &optimize.FunctionConverge{Absolute: 1e-13, Iterations: 30}},
		&optimize.BFGS{})
	if res == nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrNoConvergence, err)
	}
	theta := append([]float64(nil), res.X...)
	theta, fv := polish(f, df, theta)
	grad := make([]float64, k)
	df(grad, theta)
	if math.IsInf(fv, 0) || math.IsNaN(fv) || infNorm(grad) > 1e-6 {
		return nil, 0, fmt.Errorf("%w (gradient %.3g, status %v)", ErrNoConvergence, infNorm(grad), res.Status)
	}
	out := make([]float64, k)
	for i, t := range theta {
		out[i] = math.Exp(t)
		if out[i] <= 0 || math.IsInf(out[i], 0) || out[i] > 1e12 || out[i] < 1e-12 {
			return nil, 0, fmt.Errorf("%w: a parameter ran to the boundary (%g)", ErrNoConvergence, out[i])
		}
	}
	return out, ll(out, nil), nil
}

// polish takes Newton steps from theta with a Hessian differenced from the
// analytic gradient, keeping a step only if it lowers f. BFGS stops where
// the gradient is small; a few Newton steps make the parameters exact to
// many more digits at almost no cost.
func polish(f func([]float64) float64, df func(grad, theta []float64), theta []float64) ([]float64, float64) {
	k := len(theta)
	fv := f(theta)
	grad := make([]float64, k)
	gp := make([]float64, k)
	gm := make([]float64, k)
	x := make([]float64, k)
	for iter := 0; iter < 20; iter++ {
		df(grad, theta)
		if infNorm(grad) < 1e-13 {
			break
		}
		full := make([]float64, k*k) // full[i*k+j] = ∂grad_i/∂θ_j
		for j := 0; j < k; j++ {
			const eps = 1e-5
			copy(x, theta)
			x[j] += eps
			df(gp, x)
			x[j] -= 2 * eps
			df(gm, x)
			for i := 0; i < k; i++ {
				full[i*k+j] = (gp[i] - gm[i]) / (2 * eps)
			}
		}
		h := mat.NewSymDense(k, nil)
		for i := 0; i < k; i++ {
			for j := i; j < k; j++ {
				h.SetSym(i, j, (full[i*k+j]+full[j*k+i])/2)
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(h) {
			break // not a minimum's neighbourhood: keep the BFGS answer
		}
		var step mat.VecDense
		if err := chol.SolveVecTo(&step, mat.NewVecDense(k, grad)); err != nil {
			break
		}
		improved := false
		for t := 1.0; t > 1e-4; t /= 2 {
			for i := range x {
				x[i] = theta[i] - t*step.AtVec(i)
			}
			if v := f(x); v <= fv {
				copy(theta, x)
				fv = v
				improved = true
				break
			}
		}
		if !improved {
			break
		}
	}
	return theta, fv
}

func infNorm(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
