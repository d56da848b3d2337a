package main

import (
	"math"
	"strconv"
	"strings"
)

// sample returns the value of a metric line of the Prometheus text format,
// given its name with labels exactly as bottega prints them.
func sample(text, series string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// bucket is one cumulative bucket of a Prometheus histogram.
type bucket struct {
	le    float64 // upper bound; +Inf for the last
	count float64 // observations ≤ le
}

// histogram returns the cumulative buckets of a histogram, in order.
func histogram(text, name string) []bucket {
	var out []bucket
	prefix := name + `_bucket{le="`
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		le, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		b := bucket{le: math.Inf(1)}
		if le != "+Inf" {
			b.le, _ = strconv.ParseFloat(le, 64)
		}
		b.count, _ = strconv.ParseFloat(strings.TrimSpace(val), 64)
		out = append(out, b)
	}
	return out
}

// subtract returns the observations of after that were not in before (the
// same histogram scraped twice).
func subtract(after, before []bucket) []bucket {
	out := make([]bucket, len(after))
	for i, b := range after {
		out[i] = b
		if i < len(before) && before[i].le == b.le {
			out[i].count -= before[i].count
		}
	}
	return out
}

// quantile estimates the q-quantile of cumulative buckets the way
// Prometheus's histogram_quantile does: linear interpolation inside the
// bucket where the rank falls, the first bucket starting at 0. It returns
// +Inf when the rank falls in the +Inf bucket, and the bounds of the bucket
// used so readers can judge the precision.
func quantile(q float64, bs []bucket) (v, lo, hi float64) {
	if len(bs) == 0 || bs[len(bs)-1].count == 0 {
		return math.NaN(), 0, 0
	}
	total := bs[len(bs)-1].count
	rank := q * total
	prevLe, prevCount := 0.0, 0.0
	for _, b := range bs {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return math.Inf(1), prevLe, b.le
			}
			if b.count == prevCount {
				return b.le, prevLe, b.le
			}
			return prevLe + (b.le-prevLe)*(rank-prevCount)/(b.count-prevCount), prevLe, b.le
		}
		prevLe, prevCount = b.le, b.count
	}
	return math.Inf(1), prevLe, math.Inf(1)
}
