package persona

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func matrix(d int, rows ...[]float64) Matrix {
	m := Matrix{N: len(rows), D: d}
	for _, r := range rows {
		m.X = append(m.X, r...)
	}
	return m
}

// partition renders labels as groups of point indices, in order of first
// appearance, so that two clusterings compare whatever their numbering.
func partition(labels []int) string {
	groups := map[int][]int{}
	var order []int
	for i, l := range labels {
		if _, ok := groups[l]; !ok {
			order = append(order, l)
		}
		groups[l] = append(groups[l], i)
	}
	var out [][]int
	for _, l := range order {
		out = append(out, groups[l])
	}
	return fmt.Sprint(out)
}

func TestKMeansRecoversObviousClusters(t *testing.T) {
	// Three tight blobs far apart, interleaved in the input.
	centres := [][2]float64{{0, 0}, {10, 0}, {0, 10}}
	var rows [][]float64
	for i := 0; i < 30; i++ {
		c := centres[i%3]
		rows = append(rows, []float64{c[0] + float64(i%5)*0.1, c[1] - float64(i%7)*0.1})
	}
	m := matrix(2, rows...)
	want := "[[0 3 6 9 12 15 18 21 24 27] [1 4 7 10 13 16 19 22 25 28] [2 5 8 11 14 17 20 23 26 29]]"
	for seed := uint64(1); seed <= 5; seed++ {
		f := KMeans(m, 3, 1, rand.New(rand.NewPCG(seed, 7)))
		if got := partition(f.Labels); got != want {
			t.Fatalf("seed %d: %s", seed, got)
		}
		// Each centroid is its blob's mean: x offsets 0..0.4 average 0.2
		// over ten points (i%5 cycles twice).
		for _, c := range f.Centroids {
			near := false
			for _, ce := range centres {
				if math.Abs(c[0]-ce[0]-0.2) < 1e-9 && math.Abs(c[1]-ce[1]+0.3) < 0.05 {
					near = true
				}
			}
			if !near {
				t.Errorf("seed %d: centroid %v is no blob's mean", seed, c)
			}
		}
	}
	// Reproducible: the same seed gives the same fit.
	a := KMeans(m, 4, 3, rand.New(rand.NewPCG(9, 9)))
	b := KMeans(m, 4, 3, rand.New(rand.NewPCG(9, 9)))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("same seed, different fits")
	}
}

func TestKMeansIdenticalPoints(t *testing.T) {
	// More clusters than distinct points: no cluster is left empty.
	m := matrix(1, []float64{1}, []float64{1}, []float64{1}, []float64{5})
	f := KMeans(m, 3, 2, rand.New(rand.NewPCG(1, 1)))
	seen := map[int]int{}
	for _, l := range f.Labels {
		seen[l]++
	}
	if len(seen) != 3 || f.Inertia != 0 {
		t.Fatalf("labels %v inertia %v", f.Labels, f.Inertia)
	}
}

func TestSilhouette(t *testing.T) {
	// 0 and 2 in one cluster, 10 and 12 in another: for 0, a = 2 and
	// b = (10+12)/2 = 11, s = 9/11; for 2, a = 2, b = 9, s = 7/9; the other
	// cluster mirrors it. Mean (9/11 + 7/9) / 2.
	m := matrix(1, []float64{0}, []float64{2}, []float64{10}, []float64{12})
	got := Silhouette(m, []int{0, 0, 1, 1}, 2)
	if want := (9.0/11 + 7.0/9) / 2; math.Abs(got-want) > 1e-12 {
		t.Fatalf("silhouette %v, want %v", got, want)
	}
	// A point alone in its cluster counts 0: (0 + 0 + s(10) + s(12)) / 4
	// with 0,2 | 10 | 12? Here 10 and 12 are singletons: only 0 and 2 count,
	// a = 2, b = min(10, 12) = 10 for 0 → 0.8; for 2, b = min(8, 10) = 8 → 0.75.
	got = Silhouette(m, []int{0, 0, 1, 2}, 3)
	if want := (0.8 + 0.75) / 4; math.Abs(got-want) > 1e-12 {
		t.Fatalf("silhouette with singletons %v, want %v", got, want)
	}
}

func TestDescribe(t *testing.T) {
	cl := Cluster{Cadence: "weekly", Channel: "store", Profile: []PersonaFeature{
		{Feature: RecencyDays, Z: -0.4}, // below the 0.5 bar
		{Feature: Frequency, Z: 2.5},    // said by the cadence
		{Feature: Monetary, Z: 0.9},
		{Feature: SharePOS, Z: 1.5}, // said by the channel
		{Feature: CategoryPref + "Food", Z: 0.7},
		{Feature: CategoryPref + "Toys", Z: -1.2}, // buying less of something says little
		{Feature: NPS, Z: 1.1},
		{Feature: DiscountUse, Z: -0.6},
	}}
	if got, want := describe(cl, nil), "weekly store shoppers, high NPS, high spend, mostly Food"; got != want {
		t.Errorf("describe: %q, want %q", got, want)
	}
	cl = Cluster{Cadence: "one-time", Channel: "web", Profile: []PersonaFeature{{Feature: RecencyDays, Z: 1.3}, {Feature: NPS, Z: -0.8}, {Feature: DiscountUse, Z: 0.5}}}
	if got, want := describe(cl, nil), "one-time web shoppers, lapsed, low NPS, discount-driven"; got != want {
		t.Errorf("describe: %q, want %q", got, want)
	}
	for _, tc := range []struct {
		gaps   []float64
		single int64
		want   string
	}{
		{[]float64{7, 8, 30}, 0, "weekly"}, {[]float64{7, 40}, 1, "monthly"}, {[]float64{100}, 1, "quarterly"},
		{[]float64{300, 200}, 0, "occasional"}, {[]float64{7}, 2, "one-time"}, {nil, 0, "one-time"},
	} {
		if got := cadence(tc.gaps, tc.single); got != tc.want {
			t.Errorf("cadence(%v, %d) = %s, want %s", tc.gaps, tc.single, got, tc.want)
		}
	}
	if channel(0.2, 0.1, 0.7) != "store" || channel(0.6, 0.4, 0) != "web" || channel(0, 0.9, 0.1) != "app" || channel(0.5, 0, 0.5) != "multichannel" {
		t.Error("channel")
	}
}

// group makes n customers alike, their spend spread evenly (a spread that
// forms no sub-groups of its own).
func group(name string, n int, c Customer) []Customer {
	var out []Customer
	for i := 0; i < n; i++ {
		x := c
		x.Profile = fmt.Sprintf("%s-%02d", name, i)
		x.Monetary += int64(i) * 50
		out = append(out, x)
	}
	return out
}

// Four obvious personas of ten customers each: silhouettes pick k = 4 and
// the personas are recovered exactly, described, sized and valued.
func TestClustersFindsFourPersonas(t *testing.T) {
	cats := []string{"Food", "Toys", "Books"}
	var cs []Customer
	cs = append(cs, group("store", 10, Customer{Orders: 40, Monetary: 80000, Recency: 2, GapDays: 7, Channel: [3]float64{0, 0, 1}, Categories: []float64{1, 0, 0}, NPS: 10})...)
	cs = append(cs, group("bargain", 10, Customer{Orders: 1, Monetary: 2000, Recency: 300, Channel: [3]float64{1, 0, 0}, Categories: []float64{0, 1, 0}, NPS: 2, Discount: 1})...)
	cs = append(cs, group("app", 10, Customer{Orders: 8, Monetary: 24000, Recency: 20, GapDays: 30, Channel: [3]float64{0, 1, 0}, Categories: []float64{0, 0, 1}, NoNPS: true, Discount: 0.5})...)
	cs = append(cs, group("mixed", 10, Customer{Orders: 3, Monetary: 15000, Recency: 90, GapDays: 100, Channel: [3]float64{0.5, 0, 0.5}, Categories: []float64{0.3, 0.3, 0.4}, NPS: 7})...)
	res := Clusters(cs, cats, Options{})
	if res.K != 4 || len(res.Silhouettes) != 6 || res.Sampled != 40 {
		t.Fatalf("k = %d, silhouettes %v", res.K, res.Silhouettes)
	}
	for _, s := range res.Silhouettes {
		if s.K != 4 && s.Silhouette >= res.Silhouettes[1].Silhouette {
			t.Errorf("k %d silhouette %v not below k 4's %v", s.K, s.Silhouette, res.Silhouettes[1].Silhouette)
		}
	}
	want := "[[0 1 2 3 4 5 6 7 8 9] [10 11 12 13 14 15 16 17 18 19] [20 21 22 23 24 25 26 27 28 29] [30 31 32 33 34 35 36 37 38 39]]"
	if got := partition(res.Labels); got != want {
		t.Fatalf("personas %s", got)
	}
	// Numbered by total value: store, app, mixed, bargain. Spend adds
	// 50 · (0 + 1 + … + 9) = 2250 to each persona's total.
	if res.Labels[0] != 1 || res.Labels[20] != 2 || res.Labels[30] != 3 || res.Labels[10] != 4 {
		t.Fatalf("numbering %v", res.Labels)
	}
	// Each persona's cadence and channel, then its three strongest traits.
	wantDesc := map[int]string{
		1: "weekly store shoppers, mostly Food, recent, high spend",
		2: "monthly app shoppers, mostly Books",
		3: "quarterly multichannel shoppers, full price, lapsed",
		4: "one-time web shoppers, mostly Toys, low spend, discount-driven",
	}
	wantRev := map[int]int64{1: 802250, 2: 242250, 3: 152250, 4: 22250}
	for _, c := range res.Clusters {
		if c.Customers != 10 || c.Share != 0.25 || c.Revenue != wantRev[c.ID] {
			t.Errorf("persona %d: %+v", c.ID, c)
		}
		if c.Description != wantDesc[c.ID] {
			t.Errorf("persona %d described %q, want %q", c.ID, c.Description, wantDesc[c.ID])
		}
	}
	if c := res.Clusters[1]; c.NoNPS != 10 || c.Profile[len(c.Profile)-2].Mean != 0 {
		t.Errorf("app persona NPS: %+v", c)
	}
	if c := res.Clusters[0]; c.Profile[1].Mean != 40 || c.Profile[len(c.Profile)-2].Mean != 10 || c.Profile[5].Mean != 1 {
		t.Errorf("store persona means: %+v", c.Profile)
	}
	// Reproducible, and too small a base gets no personas.
	if again := Clusters(cs, cats, Options{}); fmt.Sprint(again) != fmt.Sprint(res) {
		t.Error("two runs differ")
	}
	if small := Clusters(cs[:19], cats, Options{}); small.K != 0 || len(small.Clusters) != 0 {
		t.Errorf("19 customers: %+v", small)
	}
}

// A large base is fitted on a sample and every customer is then assigned:
// with obvious personas the sample finds them all the same.
func TestClustersOnSample(t *testing.T) {
	var cs []Customer
	for i := 0; i < 200; i++ {
		c := Customer{Profile: fmt.Sprintf("p%03d", i), Orders: 1, Monetary: 1000, Recency: 10, Channel: [3]float64{1, 0, 0}, NPS: 9}
		if i%3 == 1 {
			c.Orders, c.Monetary, c.Channel = 30, 90000, [3]float64{0, 0, 1}
		} else if i%3 == 2 {
			c.Recency, c.NPS, c.Channel = 400, 1, [3]float64{0, 1, 0}
		}
		cs = append(cs, c)
	}
	res := Clusters(cs, nil, Options{FitSample: 60, SilSample: 30})
	if res.K != 3 || res.Sampled != 60 {
		t.Fatalf("k %d sampled %d %v", res.K, res.Sampled, res.Silhouettes)
	}
	for i := range cs {
		if res.Labels[i] != res.Labels[i%3] {
			t.Fatalf("customer %d in persona %d, like %d in %d", i, res.Labels[i], i%3, res.Labels[i%3])
		}
	}
}
