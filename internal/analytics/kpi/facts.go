package kpi

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"
)

// Groups: the breakdown a rollup row belongs to (the dim column).
const (
	dimAll      = 0
	dimChannel  = 1
	dimStore    = 2
	dimCampaign = 3
)

// noPrev is the prev_month of a customer's first order day in a group.
const noPrev = -1000000

// Day is a UTC calendar day: days since 1970-01-01.
type Day int32

// DayOf returns the UTC day of t.
func DayOf(t time.Time) Day {
	return Day(floorDiv(t.Unix(), 86400))
}

// DayOfMillis returns the UTC day of a Unix millisecond time.
func DayOfMillis(ms int64) Day { return Day(floorDiv(ms, 86400000)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Time returns midnight UTC of d.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats d as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// ParseDay reads YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, err
	}
	return DayOf(t), nil
}

// Month is year*12 + month-1.
type Month int32

// MonthOf returns the month of a day.
func MonthOf(d Day) Month {
	t := d.Time()
	return Month(t.Year()*12 + int(t.Month()) - 1)
}

// First returns the month's first day.
func (m Month) First() Day {
	return DayOf(time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC))
}

// Last returns the month's last day.
func (m Month) Last() Day { return (m + 1).First() - 1 }

// String formats m as YYYY-MM.
func (m Month) String() string { return m.First().Time().Format("2006-01") }

// cell is what a customer's orders add up to on one day in one channel and
// store: orders placed that day, and refunds made that day of orders of that
// channel and store.
type cell struct {
	day        Day
	channel    string
	store      string
	orders     int64 // completed, uncancelled orders
	baseOrders int64 // of which in the base currency
	gross      int64 // their value, base currency minor units
	refund     int64 // refunds of such orders made that day, base currency
}

// facts are the inputs of a customer's contribution to the rollups: the
// customer's acquisition campaign and cells, sorted by day, channel, store.
type facts struct {
	campaign string
	cells    []cell
}

func (f *facts) empty() bool { return len(f.cells) == 0 }

func (f *facts) sort() {
	slices.SortFunc(f.cells, func(a, b cell) int {
		if a.day != b.day {
			return int(a.day - b.day)
		}
		if a.channel != b.channel {
			if a.channel < b.channel {
				return -1
			}
			return 1
		}
		if a.store < b.store {
			return -1
		}
		if a.store > b.store {
			return 1
		}
		return 0
	})
}

// encode writes facts compactly: a version byte, the campaign, a table of
// the strings used, then per cell the day delta, string indexes and counts.
func (f *facts) encode() []byte {
	idx := map[string]uint64{}
	var strs []string
	intern := func(s string) uint64 {
		if i, ok := idx[s]; ok {
			return i
		}
		idx[s] = uint64(len(strs))
		strs = append(strs, s)
		return idx[s]
	}
	for _, c := range f.cells {
		intern(c.channel)
		intern(c.store)
	}
	b := []byte{1}
	putString := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	putString(f.campaign)
	b = binary.AppendUvarint(b, uint64(len(strs)))
	for _, s := range strs {
		putString(s)
	}
	b = binary.AppendUvarint(b, uint64(len(f.cells)))
	prev := Day(0)
	for _, c := range f.cells {
		b = binary.AppendVarint(b, int64(c.day-prev))
		prev = c.day
		b = binary.AppendUvarint(b, idx[c.channel])
		b = binary.AppendUvarint(b, idx[c.store])
		b = binary.AppendVarint(b, c.orders)
		b = binary.AppendVarint(b, c.baseOrders)
		b = binary.AppendVarint(b, c.gross)
		b = binary.AppendVarint(b, c.refund)
	}
	return b
}

var errFacts = errors.New("kpi: corrupt customer facts")

func decodeFacts(b []byte) (facts, error) {
	var f facts
	if len(b) == 0 || b[0] != 1 {
		return f, errFacts
	}
	b = b[1:]
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if bad || n > uint64(len(b)) {
			bad = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	f.campaign = str()
	ns := uv()
	if bad || ns > uint64(len(b)) {
		return f, errFacts
	}
	strs := make([]string, ns)
	for i := range strs {
		strs[i] = str()
	}
	nc := uv()
	if bad || nc > uint64(len(b)) {
		return f, errFacts
	}
	f.cells = make([]cell, nc)
	day := Day(0)
	for i := range f.cells {
		day += Day(sv())
		ch, st := uv(), uv()
		if bad || ch >= ns || st >= ns {
			return f, errFacts
		}
		f.cells[i] = cell{day: day, channel: strs[ch], store: strs[st], orders: sv(), baseOrders: sv(), gross: sv(), refund: sv()}
	}
	if bad {
		return f, errFacts
	}
	return f, nil
}

// Rollup keys. The gap keys, the bulk of a full rebuild, name their group
// by an index into delta.keys: 16 bytes, no string.
type (
	dailyKey struct {
		dim int8
		day Day
		key string
	}
	daily struct {
		orders, baseOrders, gross, refund, firsts, seconds, lost int64
	}
	gapMonthKey struct {
		day       Day
		prevMonth int32
		key       int32
		dim       int8
		second    int8
	}
	gapDayKey struct {
		prevDay Day
		day     Day
		key     int32
		dim     int8
		second  int8
	}
	cohortKey struct {
		cohort Month
		k      int32
	}
	cohortVal struct {
		customers, revenue int64
	}
)

// delta accumulates changes to the rollups.
type delta struct {
	daily    map[dailyKey]*daily
	gapMonth map[gapMonthKey]int64
	gapDay   map[gapDayKey]int64
	cohorts  map[cohortKey]*cohortVal
	keys     []string // group keys of the gap maps, by index
	keyIndex map[string]int32
	groups   []groupDays // scratch for add
}

// groupDays are a customer's order days in one group.
type groupDays struct {
	dim  int8
	key  string
	days []Day
}

func newDelta() *delta {
	return &delta{daily: map[dailyKey]*daily{}, gapMonth: map[gapMonthKey]int64{}, gapDay: map[gapDayKey]int64{},
		cohorts: map[cohortKey]*cohortVal{}, keyIndex: map[string]int32{}}
}

func (d *delta) size() int { return len(d.daily) + len(d.gapMonth) + len(d.gapDay) + len(d.cohorts) }

func (d *delta) day(k dailyKey) *daily {
	v := d.daily[k]
	if v == nil {
		v = &daily{}
		d.daily[k] = v
	}
	return v
}

// key returns the index of a group key.
func (d *delta) key(s string) int32 {
	i, ok := d.keyIndex[s]
	if !ok {
		i = int32(len(d.keys))
		d.keys = append(d.keys, s)
		d.keyIndex[s] = i
	}
	return i
}

// add adds sign × the contribution of a customer's facts (cells sorted by
// day), with churn window w days.
func (d *delta) add(f *facts, sign int64, w int) {
	if f.empty() {
		return
	}
	groups := d.groups[:0]
	for _, c := range f.cells {
		gs := [4]struct {
			dim int8
			key string
		}{{dimAll, ""}, {dimChannel, c.channel}, {dimStore, c.store}, {dimCampaign, f.campaign}}
		for _, g := range gs {
			v := d.day(dailyKey{g.dim, c.day, g.key})
			v.orders += sign * c.orders
			v.baseOrders += sign * c.baseOrders
			v.gross += sign * c.gross
			v.refund += sign * c.refund
			if c.orders > 0 {
				i := 0
				for i < len(groups) && (groups[i].dim != g.dim || groups[i].key != g.key) {
					i++
				}
				if i == len(groups) {
					if i < cap(groups) {
						groups = groups[:i+1]
						groups[i].dim, groups[i].key, groups[i].days = g.dim, g.key, groups[i].days[:0]
					} else {
						groups = append(groups, groupDays{dim: g.dim, key: g.key})
					}
				}
				if ds := groups[i].days; len(ds) == 0 || ds[len(ds)-1] != c.day {
					groups[i].days = append(ds, c.day)
				}
			}
		}
	}
	d.groups = groups
	var all []Day
	for _, g := range groups {
		ds, key := g.days, d.key(g.key)
		if g.dim == dimAll {
			all = ds
		}
		for i, day := range ds {
			var second int8
			if i == 1 {
				second = 1
			}
			prevMonth := int32(noPrev)
			if i > 0 {
				prev := ds[i-1]
				prevMonth = int32(MonthOf(prev))
				d.gapDay[gapDayKey{prev, day, key, g.dim, second}] += sign
				if int(day-prev) >= w {
					d.day(dailyKey{g.dim, prev + Day(w), g.key}).lost += sign
				}
			}
			d.gapMonth[gapMonthKey{day, prevMonth, key, g.dim, second}] += sign
		}
		d.day(dailyKey{g.dim, ds[0], g.key}).firsts += sign
		if len(ds) > 1 {
			d.day(dailyKey{g.dim, ds[1], g.key}).seconds += sign
		}
		d.day(dailyKey{g.dim, ds[len(ds)-1] + Day(w), g.key}).lost += sign
	}
	if len(all) == 0 {
		return // only refunds: no cohort
	}
	cohort := MonthOf(all[0])
	seen := Month(math.MinInt32) // the last month with an order: cells are sorted by day
	for _, c := range f.cells {
		m := MonthOf(c.day)
		k := cohortKey{cohort, int32(m - cohort)}
		v := d.cohorts[k]
		if v == nil {
			v = &cohortVal{}
			d.cohorts[k] = v
		}
		v.revenue += sign * (c.gross - c.refund)
		if c.orders > 0 && m != seen {
			seen = m
			v.customers += sign
		}
	}
}

// prune drops entries that cancelled out.
func (d *delta) prune() {
	for k, v := range d.daily {
		if *v == (daily{}) {
			delete(d.daily, k)
		}
	}
	for k, v := range d.gapMonth {
		if v == 0 {
			delete(d.gapMonth, k)
		}
	}
	for k, v := range d.gapDay {
		if v == 0 {
			delete(d.gapDay, k)
		}
	}
	for k, v := range d.cohorts {
		if *v == (cohortVal{}) {
			delete(d.cohorts, k)
		}
	}
}
