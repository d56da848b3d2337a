package persona

import (
	"math"
	"math/rand/v2"
)

// Matrix is n points of d dimensions, row after row.
type Matrix struct {
	N, D int
	X    []float64
}

// Row returns point i.
func (m Matrix) Row(i int) []float64 { return m.X[i*m.D : (i+1)*m.D] }

func dist2(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// Nearest returns the index of the centroid nearest to p (the lowest on a
// tie) and the squared distance to it.
func Nearest(p []float64, centroids [][]float64) (int, float64) {
	best, bd := 0, math.Inf(1)
	for j, c := range centroids {
		if d := dist2(p, c); d < bd {
			best, bd = j, d
		}
	}
	return best, bd
}

// Fit is a k-means clustering.
type Fit struct {
	Centroids [][]float64
	Labels    []int
	Inertia   float64 // sum of squared distances to the centroids
}

// KMeans clusters m into k clusters: k-means++ seeding from rng, then
// Lloyd's iterations until no point changes cluster (at most maxIter). It
// runs restarts times and keeps the fit of least inertia (the first on a
// tie). A cluster left empty is given the point farthest from its centroid.
func KMeans(m Matrix, k, restarts int, rng *rand.Rand) Fit {
	var best Fit
	for r := 0; r < max(1, restarts); r++ {
		f := lloyd(m, seed(m, k, rng))
		if r == 0 || f.Inertia < best.Inertia {
			best = f
		}
	}
	return best
}

const maxIter = 300

// seed picks k centroids by k-means++: the first uniformly, each next one
// with probability proportional to its squared distance to the nearest
// centroid chosen.
func seed(m Matrix, k int, rng *rand.Rand) [][]float64 {
	cs := make([][]float64, 0, k)
	cs = append(cs, append([]float64(nil), m.Row(rng.IntN(m.N))...))
	d := make([]float64, m.N)
	for i := range d {
		d[i] = dist2(m.Row(i), cs[0])
	}
	for len(cs) < k {
		total := 0.0
		for _, x := range d {
			total += x
		}
		next := 0
		if total > 0 {
			u := rng.Float64() * total
			for next = 0; next < m.N-1; next++ {
				if u -= d[next]; u < 0 {
					break
				}
			}
			for d[next] == 0 { // never a point already chosen
				next = (next + 1) % m.N
			}
		} else {
			next = rng.IntN(m.N)
		}
		c := append([]float64(nil), m.Row(next)...)
		cs = append(cs, c)
		for i := range d {
			d[i] = min(d[i], dist2(m.Row(i), c))
		}
	}
	return cs
}

func lloyd(m Matrix, cs [][]float64) Fit {
	k := len(cs)
	labels := make([]int, m.N)
	for i := range labels {
		labels[i] = -1
	}
	counts := make([]int, k)
	for iter := 0; iter < maxIter; iter++ {
		changed := false
		for i := 0; i < m.N; i++ {
			j, _ := Nearest(m.Row(i), cs)
			if j != labels[i] {
				labels[i], changed = j, true
			}
		}
		if !changed {
			break
		}
		for j := range cs {
			clear(cs[j])
			counts[j] = 0
		}
		for i := 0; i < m.N; i++ {
			c := cs[labels[i]]
			for t, x := range m.Row(i) {
				c[t] += x
			}
			counts[labels[i]]++
		}
		for j := range cs {
			if counts[j] == 0 {
				continue
			}
			for t := range cs[j] {
				cs[j][t] /= float64(counts[j])
			}
		}
		for j := range cs {
			if counts[j] > 0 {
				continue
			}
			// An empty cluster takes the point farthest from its centroid.
			far, fd := 0, -1.0
			for i := 0; i < m.N; i++ {
				if counts[labels[i]] > 1 {
					if d := dist2(m.Row(i), cs[labels[i]]); d > fd {
						far, fd = i, d
					}
				}
			}
			counts[labels[far]]--
			labels[far] = j
			counts[j] = 1
			copy(cs[j], m.Row(far))
		}
	}
	f := Fit{Centroids: cs, Labels: labels}
	for i := 0; i < m.N; i++ {
		f.Inertia += dist2(m.Row(i), cs[labels[i]])
	}
	return f
}

// Silhouette returns the mean silhouette of a clustering of m into k
// clusters: for each point, (b − a) / max(a, b) with a its mean distance to
// the other points of its cluster and b the least mean distance to the
// points of another cluster; 0 for a point alone in its cluster.
func Silhouette(m Matrix, labels []int, k int) float64 {
	if m.N == 0 {
		return 0
	}
	size := make([]int, k)
	for _, l := range labels {
		size[l]++
	}
	sums := make([]float64, k)
	total := 0.0
	for i := 0; i < m.N; i++ {
		clear(sums)
		p := m.Row(i)
		for j := 0; j < m.N; j++ {
			if j != i {
				sums[labels[j]] += math.Sqrt(dist2(p, m.Row(j)))
			}
		}
		own := labels[i]
		if size[own] <= 1 {
			continue
		}
		a := sums[own] / float64(size[own]-1)
		b := math.Inf(1)
		for c := 0; c < k; c++ {
			if c != own && size[c] > 0 {
				b = min(b, sums[c]/float64(size[c]))
			}
		}
		if math.IsInf(b, 1) {
			continue
		}
		if s := max(a, b); s > 0 {
			total += (b - a) / s
		}
	}
	return total / float64(m.N)
}
