package persona

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// Feature names. Category shares are named "category:<name>".
const (
	RecencyDays  = "recency_days"
	Frequency    = "frequency"
	Monetary     = "monetary_minor"
	ShareWeb     = "share_web"
	ShareApp     = "share_app"
	SharePOS     = "share_pos"
	NPS          = "nps"
	DiscountUse  = "discount_share"
	CategoryPref = "category:"
)

// Customer is one customer's features in their own units.
type Customer struct {
	Profile    string
	Orders     int64
	Monetary   int64   // minor units, net of refunds
	Recency    int64   // days since the last order
	GapDays    float64 // mean days between orders (0 with one order)
	Channel    [3]float64
	Categories []float64 // shares of spend in the top categories
	NPS        float64   // latest NPS score; meaningless when NoNPS
	NoNPS      bool
	Discount   float64 // share of orders with a discount or coupon
}

// Options tune Cluster. The zero value is the production default.
type Options struct {
	MinK, MaxK  int    // 3 and 8
	FitSample   int    // customers the centroids are fitted on (20,000)
	SilSample   int    // customers silhouettes are measured on (2,000)
	Restarts    int    // k-means runs per k (4)
	Seed        uint64 // 1
	MinCustomer int    // fewer customers than this get no personas (20)
}

func (o *Options) defaults() {
	if o.MinK == 0 {
		o.MinK = 3
	}
	if o.MaxK == 0 {
		o.MaxK = 8
	}
	if o.FitSample == 0 {
		o.FitSample = 20_000
	}
	if o.SilSample == 0 {
		o.SilSample = 2_000
	}
	if o.Restarts == 0 {
		o.Restarts = 4
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MinCustomer == 0 {
		o.MinCustomer = 20
	}
}

// Result is a clustering of customers into personas.
type Result struct {
	Features    []string          `json:"features"`
	K           int               `json:"k"`
	Silhouettes []SilhouetteScore `json:"silhouettes" doc:"Mean silhouette of each k tried"`
	Sampled     int               `json:"sampled" doc:"Customers the centroids were fitted on"`
	Clusters    []Cluster         `json:"clusters"`
	Labels      []int             `json:"-"` // cluster id (1-based) of each customer, in input order
	Scale       []FeatureScale    `json:"scale" doc:"Mean and standard deviation of each feature (after log scaling of recency, frequency and monetary)"`
}

// SilhouetteScore is the silhouette of one k.
type SilhouetteScore struct {
	K          int     `json:"k"`
	Silhouette float64 `json:"silhouette"`
}

// FeatureScale standardises one feature.
type FeatureScale struct {
	Feature string  `json:"feature"`
	Mean    float64 `json:"mean"`
	SD      float64 `json:"sd"`
}

// Cluster is one persona.
type Cluster struct {
	ID          int              `json:"id" doc:"1 is the persona of most total value"`
	Description string           `json:"description"`
	Customers   int64            `json:"customers"`
	Share       float64          `json:"share"`
	Revenue     int64            `json:"revenue_minor" doc:"Total value: revenue net of refunds of its customers"`
	NoNPS       int64            `json:"nps_imputed" doc:"Customers without an NPS answer"`
	Profile     []PersonaFeature `json:"profile" doc:"Each feature's mean in its own units and the centroid's z-score"`
	Cadence     string           `json:"cadence"`
	Channel     string           `json:"channel"`
}

// PersonaFeature is one feature of a persona.
type PersonaFeature struct {
	Feature string  `json:"feature"`
	Mean    float64 `json:"mean"`
	Z       float64 `json:"z"`
}

// Names returns the feature names for the given top categories.
func Names(categories []string) []string {
	out := []string{RecencyDays, Frequency, Monetary, ShareWeb, ShareApp, SharePOS}
	for _, c := range categories {
		out = append(out, CategoryPref+c)
	}
	return append(out, NPS, DiscountUse)
}

// vector returns a customer's features before standardisation: recency,
// frequency and monetary log-scaled (log1p), an unanswered NPS as NaN.
func vector(c Customer, dst []float64) {
	dst[0] = math.Log1p(float64(c.Recency))
	dst[1] = math.Log1p(float64(c.Orders))
	dst[2] = math.Log1p(float64(max(0, c.Monetary)))
	copy(dst[3:6], c.Channel[:])
	n := len(dst) - 2 // categories fill dst[6:n]
	clear(dst[6:n])
	copy(dst[6:n], c.Categories)
	dst[n] = c.NPS
	if c.NoNPS {
		dst[n] = math.NaN()
	}
	dst[n+1] = c.Discount
}

// raw returns a customer's features in their own units (NaN NPS when
// unanswered).
func raw(c Customer, dst []float64) {
	vector(c, dst)
	dst[0], dst[1], dst[2] = float64(c.Recency), float64(c.Orders), float64(c.Monetary)
}

// Cluster groups customers (all with the same number of categories) into
// personas. categories names the category shares. It returns a Result with
// no clusters when there are fewer than opts.MinCustomer customers.
func Clusters(cs []Customer, categories []string, opts Options) Result {
	opts.defaults()
	names := Names(categories)
	d := len(names)
	res := Result{Features: names}
	n := len(cs)
	if n < opts.MinCustomer {
		return res
	}
	// Standardise: z = (x − mean) / sd; a missing NPS becomes the mean
	// (z = 0); a feature that does not vary is 0 for everyone.
	mean, sd, cnt := make([]float64, d), make([]float64, d), make([]float64, d)
	v := make([]float64, d)
	for _, c := range cs {
		vector(c, v)
		for j, x := range v {
			if !math.IsNaN(x) {
				mean[j] += x
				cnt[j]++
			}
		}
	}
	for j := range mean {
		if cnt[j] > 0 {
			mean[j] /= cnt[j]
		}
	}
	for _, c := range cs {
		vector(c, v)
		for j, x := range v {
			if !math.IsNaN(x) {
				sd[j] += (x - mean[j]) * (x - mean[j])
			}
		}
	}
	for j := range sd {
		if cnt[j] > 0 {
			sd[j] = math.Sqrt(sd[j] / cnt[j])
		}
		res.Scale = append(res.Scale, FeatureScale{Feature: names[j], Mean: mean[j], SD: sd[j]})
	}
	z := func(c Customer, dst []float64) {
		vector(c, dst)
		for j, x := range dst {
			if math.IsNaN(x) || sd[j] < 1e-12 {
				dst[j] = 0
			} else {
				dst[j] = (x - mean[j]) / sd[j]
			}
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	// The sample the centroids are fitted on: everyone, or a seeded draw.
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n > opts.FitSample {
		rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:opts.FitSample]
		slices.Sort(idx)
	}
	fit := Matrix{N: len(idx), D: d, X: make([]float64, len(idx)*d)}
	for r, i := range idx {
		z(cs[i], fit.Row(r))
	}
	// Silhouettes on the first SilSample points of the (shuffled) sample.
	sil := Matrix{N: min(fit.N, opts.SilSample), D: d}
	silRows := make([]int, fit.N)
	for i := range silRows {
		silRows[i] = i
	}
	if fit.N > opts.SilSample {
		rng.Shuffle(fit.N, func(i, j int) { silRows[i], silRows[j] = silRows[j], silRows[i] })
		silRows = silRows[:opts.SilSample]
		slices.Sort(silRows)
	}
	sil.X = make([]float64, sil.N*d)
	for r, i := range silRows {
		copy(sil.Row(r), fit.Row(i))
	}
	var best Fit
	bestS := math.Inf(-1)
	for k := opts.MinK; k <= min(opts.MaxK, fit.N-1); k++ {
		f := KMeans(fit, k, opts.Restarts, rng)
		labels := make([]int, sil.N)
		for r, i := range silRows {
			labels[r] = f.Labels[i]
		}
		s := Silhouette(sil, labels, k)
		res.Silhouettes = append(res.Silhouettes, SilhouetteScore{K: k, Silhouette: s})
		if s > bestS+1e-12 {
			best, bestS, res.K = f, s, k
		}
	}
	res.Sampled = fit.N
	if res.K == 0 {
		return res
	}
	// Everyone to the nearest centroid; then each cluster's means.
	k := res.K
	labels := make([]int, n)
	zsum := make([][]float64, k)
	rsum := make([][]float64, k)
	rcnt := make([][]float64, k)
	for j := range zsum {
		zsum[j], rsum[j], rcnt[j] = make([]float64, d), make([]float64, d), make([]float64, d)
	}
	type agg struct {
		n, rev, noNPS int64
		gaps          []float64
		single        int64
	}
	aggs := make([]agg, k)
	rv := make([]float64, d)
	for i, c := range cs {
		z(c, v)
		j, _ := Nearest(v, best.Centroids)
		labels[i] = j
		raw(c, rv)
		for t := range v {
			zsum[j][t] += v[t]
			if !math.IsNaN(rv[t]) {
				rsum[j][t] += rv[t]
				rcnt[j][t]++
			}
		}
		a := &aggs[j]
		a.n++
		a.rev += c.Monetary
		if c.NoNPS {
			a.noNPS++
		}
		if c.Orders >= 2 {
			a.gaps = append(a.gaps, c.GapDays)
		} else {
			a.single++
		}
	}
	clusters := make([]Cluster, 0, k)
	order := make([]int, 0, k)
	for j := 0; j < k; j++ {
		a := aggs[j]
		if a.n == 0 {
			continue
		}
		cl := Cluster{Customers: a.n, Share: float64(a.n) / float64(n), Revenue: a.rev, NoNPS: a.noNPS}
		for t := range names {
			fv := PersonaFeature{Feature: names[t], Z: zsum[j][t] / float64(a.n)}
			if rcnt[j][t] > 0 {
				fv.Mean = rsum[j][t] / rcnt[j][t]
			}
			cl.Profile = append(cl.Profile, fv)
		}
		cl.Cadence = cadence(a.gaps, a.single)
		cl.Channel = channel(cl.Profile[3].Mean, cl.Profile[4].Mean, cl.Profile[5].Mean)
		cl.Description = describe(cl, categories)
		clusters = append(clusters, cl)
		order = append(order, j)
	}
	// Number the personas by total value, largest first (then size, then
	// fit order).
	perm := make([]int, len(clusters))
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(a, b int) bool {
		x, y := clusters[perm[a]], clusters[perm[b]]
		if x.Revenue != y.Revenue {
			return x.Revenue > y.Revenue
		}
		return x.Customers > y.Customers
	})
	id := make([]int, k)
	for rank, p := range perm {
		clusters[p].ID = rank + 1
		id[order[p]] = rank + 1
		res.Clusters = append(res.Clusters, clusters[p])
	}
	slices.SortFunc(res.Clusters, func(a, b Cluster) int { return cmp.Compare(a.ID, b.ID) })
	res.Labels = make([]int, n)
	for i, j := range labels {
		res.Labels[i] = id[j]
	}
	return res
}

// cadence names how often a persona's customers buy: "one-time" when most
// bought once, else by the median days between orders of those who bought
// more: weekly (≤ 10), monthly (≤ 45), quarterly (≤ 120), occasional.
func cadence(gaps []float64, single int64) string {
	if single*2 > int64(len(gaps))+single || len(gaps) == 0 {
		return "one-time"
	}
	g := slices.Clone(gaps)
	slices.Sort(g)
	med := g[len(g)/2]
	if len(g)%2 == 0 {
		med = (g[len(g)/2-1] + g[len(g)/2]) / 2
	}
	switch {
	case med <= 10:
		return "weekly"
	case med <= 45:
		return "monthly"
	case med <= 120:
		return "quarterly"
	}
	return "occasional"
}

// channel names a persona's channel: the one with at least 60% of its
// orders, else multichannel.
func channel(web, app, pos float64) string {
	switch {
	case pos >= 0.6:
		return "store"
	case web >= 0.6:
		return "web"
	case app >= 0.6:
		return "app"
	}
	return "multichannel"
}

// describe words a persona: its cadence and channel ("weekly store
// shoppers"), then up to three features whose centroid z-score is at least
// 0.5 away from the average customer, strongest first ("high NPS").
func describe(cl Cluster, categories []string) string {
	type trait struct {
		z    float64
		text string
	}
	var ts []trait
	for _, f := range cl.Profile {
		z := f.Z
		if math.Abs(z) < 0.5 {
			continue
		}
		hi := z > 0
		text := ""
		switch {
		case f.Feature == RecencyDays:
			text = pick(hi, "lapsed", "recent")
		case f.Feature == Monetary:
			text = pick(hi, "high spend", "low spend")
		case f.Feature == NPS:
			text = pick(hi, "high NPS", "low NPS")
		case f.Feature == DiscountUse:
			text = pick(hi, "discount-driven", "full price")
		case strings.HasPrefix(f.Feature, CategoryPref) && hi:
			text = "mostly " + strings.TrimPrefix(f.Feature, CategoryPref)
		}
		if text != "" {
			ts = append(ts, trait{math.Abs(z), text})
		}
	}
	sort.SliceStable(ts, func(a, b int) bool { return ts[a].z > ts[b].z })
	parts := []string{fmt.Sprintf("%s %s shoppers", cl.Cadence, cl.Channel)}
	for i := 0; i < len(ts) && i < 3; i++ {
		parts = append(parts, ts[i].text)
	}
	return strings.Join(parts, ", ")
}

func pick(hi bool, a, b string) string {
	if hi {
		return a
	}
	return b
}
