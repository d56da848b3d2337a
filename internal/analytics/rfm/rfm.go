package rfm

import (
	"slices"
	"strings"
	"time"
)

// The segments, best first.
const (
	Champions         = "Champions"
	Loyal             = "Loyal"
	PotentialLoyalist = "Potential Loyalist"
	New               = "New"
	Promising         = "Promising"
	NeedAttention     = "Need Attention"
	AboutToSleep      = "About to Sleep"
	AtRisk            = "At Risk"
	CantLoseThem      = "Can't Lose Them"
	Hibernating       = "Hibernating"
	Lost              = "Lost"
)

// Segments lists the 11 segments in display order.
var Segments = []string{Champions, Loyal, PotentialLoyalist, New, Promising, NeedAttention,
	AboutToSleep, AtRisk, CantLoseThem, Hibernating, Lost}

// Grid maps (R, FM) to a segment: Grid[fm-1][r-1]. It is the R × FM grid in
// common use (the 5×5 map published with many RFM guides, after Putler's
// table of 11 segments), with the bottom-left corner split between
// Hibernating (R 2) and Lost (R 1):
//
//	FM\R   1                2                3               4                   5
//	5      Can't Lose Them  Can't Lose Them  Loyal           Loyal               Champions
//	4      At Risk          At Risk          Loyal           Loyal               Champions
//	3      At Risk          At Risk          Need Attention  Potential Loyalist  Potential Loyalist
//	2      Lost             Hibernating      About to Sleep  Potential Loyalist  Potential Loyalist
//	1      Lost             Hibernating      About to Sleep  Promising           New
var Grid = [5][5]string{
	{Lost, Hibernating, AboutToSleep, Promising, New},
	{Lost, Hibernating, AboutToSleep, PotentialLoyalist, PotentialLoyalist},
	{AtRisk, AtRisk, NeedAttention, PotentialLoyalist, PotentialLoyalist},
	{AtRisk, AtRisk, Loyal, Loyal, Champions},
	{CantLoseThem, CantLoseThem, Loyal, Loyal, Champions},
}

// FM combines the frequency and monetary scores: their mean rounded half up.
func FM(f, m int) int { return (f + m + 1) / 2 }

// Segment returns the segment of scores r and fm (1-5 each).
func Segment(r, fm int) string { return Grid[fm-1][r-1] }

// ParseSegment finds a segment by name, ignoring case, spaces, dashes,
// underscores and apostrophes ("cant-lose-them" is Can't Lose Them).
func ParseSegment(s string) (string, bool) {
	k := squash(s)
	for _, seg := range Segments {
		if squash(seg) == k {
			return seg, true
		}
	}
	return "", false
}

func squash(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Customer is one customer's RFM inputs.
type Customer struct {
	Profile     string // canonical profile
	Orders      int64
	Monetary    int64 // minor units of the base currency, net of refunds
	LastOrderAt int64 // Unix ms
}

// Scored is a customer with its scores.
type Scored struct {
	Customer
	RecencyDays int64
	R, F, M, FM int
	Segment     string
}

// Day returns the UTC calendar day number of a Unix-millisecond time.
func Day(ms int64) int64 {
	d := ms / 86_400_000
	if ms < 0 && ms%86_400_000 != 0 {
		d--
	}
	return d
}

// RecencyDays is the number of UTC calendar days from the day of last to
// the day of asOf (0 when last is on asOf's day or after it).
func RecencyDays(last int64, asOf time.Time) int64 {
	return max(0, Day(asOf.UnixMilli())-Day(last))
}

// Edges are, for one measure, the least values that reach scores 2..5
// (for recency, the most days): Edges[k-2] for score k, nil when nobody
// reaches it.
type Edges [4]*int64

// Score scores customers as of asOf. The result is in the order of the
// input.
func Score(cs []Customer, asOf time.Time) ([]Scored, [3]Edges) {
	n := len(cs)
	out := make([]Scored, n)
	rec := make([]int64, n)
	freq := make([]int64, n)
	mon := make([]int64, n)
	for i, c := range cs {
		out[i] = Scored{Customer: c, RecencyDays: RecencyDays(c.LastOrderAt, asOf)}
		rec[i] = -out[i].RecencyDays // fewer days is better
		freq[i] = c.Orders
		mon[i] = c.Monetary
	}
	var edges [3]Edges
	r := quintiles(rec, &edges[0])
	f := quintiles(freq, &edges[1])
	m := quintiles(mon, &edges[2])
	for _, e := range edges[0] {
		if e != nil {
			*e = -*e
		}
	}
	for i := range out {
		out[i].R, out[i].F, out[i].M = r[i], f[i], m[i]
		out[i].FM = FM(out[i].F, out[i].M)
		out[i].Segment = Segment(out[i].R, out[i].FM)
	}
	return out, edges
}

// quintiles scores values (higher is better): 1 + ⌊5·w/n⌋ with w the
// number of strictly smaller values. It fills edges with the least value
// reaching each score 2..5.
func quintiles(v []int64, edges *Edges) []int {
	n := len(v)
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	scores := make([]int, n)
	for i := 0; i < n; {
		j := i
		for j < n && v[idx[j]] == v[idx[i]] {
			j++
		}
		s := 1 + 5*i/n // i values are strictly smaller
		for _, k := range idx[i:j] {
			scores[k] = s
		}
		for k := 2; k <= s; k++ { // a score a tie skipped starts here too
			if edges[k-2] == nil {
				x := v[idx[i]]
				edges[k-2] = &x
			}
		}
		i = j
	}
	return scores
}
