package demo

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"time"
)

// splitmix64 scrambles x; it derives independent seeds from related inputs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newRand returns a PCG generator for one stream of the demo: the same
// arguments always give the same numbers.
func newRand(parts ...uint64) *rand.Rand {
	h := uint64(0x626f7474656761) // "bottega"
	for _, p := range parts {
		h = splitmix64(h ^ p)
	}
	return rand.New(rand.NewPCG(h, splitmix64(h^0x5eed)))
}

// Stream tags: each kind of randomness has its own stream, so that changing
// how one is used does not shift the others.
const (
	streamWorld uint64 = iota + 1
	streamContact
	streamBehaviour
)

// gamma draws from a Gamma distribution with the given shape and scale
// (Marsaglia and Tsang).
func gamma(r *rand.Rand, shape, scale float64) float64 {
	if shape < 1 {
		u := r.Float64()
		return gamma(r, shape+1, scale) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v * scale
		}
	}
}

// beta draws from a Beta(a, b) distribution.
func beta(r *rand.Rand, a, b float64) float64 {
	x := gamma(r, a, 1)
	y := gamma(r, b, 1)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

// lognormal draws a log-normal value with the given median and spread
// (sigma of the logarithm).
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// pick returns a uniformly chosen element of list.
func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// weighted returns an index chosen with the given weights.
func weighted(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// uuid returns a random (version 4 layout) UUID drawn from r.
func uuid(r *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], r.Uint64())
	binary.BigEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// days is a duration of n days.
func days(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

// romeOffset is Italy's offset from UTC at t: CET, or CEST from the last
// Sunday of March to the last Sunday of October (01:00 UTC both).
func romeOffset(t time.Time) time.Duration {
	y := t.Year()
	lastSunday := func(m time.Month) time.Time {
		d := time.Date(y, m+1, 1, 1, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
		return d.AddDate(0, 0, -int(d.Weekday()))
	}
	if !t.Before(lastSunday(time.March)) && t.Before(lastSunday(time.October)) {
		return 2 * time.Hour
	}
	return time.Hour
}

// atLocal returns the instant of the given day (any time on it) at local
// Italian time h hours after midnight.
func atLocal(day time.Time, h float64) time.Time {
	mid := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	t := mid.Add(time.Duration(h * float64(time.Hour)))
	return t.Add(-romeOffset(t)).Truncate(time.Millisecond)
}

// localDay returns the Italian calendar day of t, as midnight UTC of that date.
func localDay(t time.Time) time.Time {
	l := t.Add(romeOffset(t))
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// season is the shop's relative activity on the Italian calendar day of t:
// winter sales in January, summer sales in July, Black Friday and Christmas,
// a quiet August. The highest value is seasonPeak.
func season(t time.Time) float64 {
	d := localDay(t)
	m, day := d.Month(), d.Day()
	switch {
	case m == time.January && day >= 2 && day <= 15:
		return 1.8 // saldi invernali, first weeks
	case m == time.January || m == time.February && day <= 15:
		return 1.4
	case m == time.February || m == time.March:
		return 0.85
	case m == time.July && day <= 20:
		return 1.6 // saldi estivi
	case m == time.July:
		return 1.2
	case m == time.August:
		return 0.6
	case m == time.November && day >= 24 || m == time.December && day == 1:
		return 2.0 // Black Friday week
	case m == time.December && day <= 23:
		return 1.9 // Christmas shopping
	case m == time.December && (day == 25 || day == 26):
		return 0.3
	case m == time.November:
		return 1.1
	}
	return 1.0
}

const seasonPeak = 2.0

// weekday is the relative activity of a channel on the weekday of t.
func weekday(channel string, t time.Time) float64 {
	wd := localDay(t).Weekday()
	if channel == "pos" {
		switch wd {
		case time.Saturday:
			return 1.7
		case time.Sunday:
			return 0.7
		case time.Monday:
			return 0.7
		}
		return 1.0
	}
	switch wd {
	case time.Sunday:
		return 1.3
	case time.Saturday:
		return 0.9
	}
	return 1.0
}
