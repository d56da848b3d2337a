package kpi

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// KPI is one figure of a period next to the same figure of the previous
// period, with its definition.
type KPI struct {
	Key        string   `json:"key"`
	Label      string   `json:"label"`
	Unit       string   `json:"unit" enum:"money,count,ratio,years,minutes,points,score"`
	Value      *float64 `json:"value" doc:"null when undefined (e.g. a rate over no customers)"`
	Previous   *float64 `json:"previous"`
	Change     *float64 `json:"change" doc:"value − previous"`
	ChangePct  *float64 `json:"change_ratio" doc:"(value − previous) ÷ previous; null when previous is 0 or null"`
	Definition string   `json:"definition"`
}

// Overview is the KPI overview of a period. Each section is a list of KPIs;
// other packages add their sections as fields here.
type Overview struct {
	From            string `json:"from"`
	To              string `json:"to"`
	Days            int    `json:"days"`
	PreviousFrom    string `json:"previous_from"`
	PreviousTo      string `json:"previous_to"`
	AsOf            string `json:"as_of" doc:"Today (UTC): losses after it are not counted"`
	Currency        string `json:"currency"`
	ChurnWindowDays int    `json:"churn_window_days"`
	Sales           []KPI  `json:"sales"`
	Customers       []KPI  `json:"customers"`
	Costs           []KPI  `json:"costs"`
	Value           []KPI  `json:"value"`
	NPS             []KPI  `json:"nps" doc:"NPS and, when there are CSAT answers, CSAT (internal/survey)"`
	Care            []KPI  `json:"care" doc:"Care responsiveness of the tickets created in the period (internal/ticket)"`
	Conversion      []KPI  `json:"conversion" doc:"Checkout and product-viewing-session conversion (internal/analytics/funnel)"`
	Upselling       []KPI  `json:"upselling" doc:"Shares of orders and revenue with cross-sold or upsold lines (internal/analytics/funnel)"`
	By              string `json:"by,omitempty"`
	Breakdown       []Row  `json:"breakdown,omitempty"`
}

// Row is one group of a breakdown, compared with the same group in the
// previous period (a month with the same number of days just before it).
type Row struct {
	Key          string `json:"key" doc:"channel, store id, campaign name or month (YYYY-MM); empty: none"`
	From         string `json:"from"`
	To           string `json:"to"`
	PreviousFrom string `json:"previous_from"`
	PreviousTo   string `json:"previous_to"`
	Sales        []KPI  `json:"sales"`
	Customers    []KPI  `json:"customers"`
	Costs        []KPI  `json:"costs,omitempty" doc:"by campaign (and month) only: costs are entered per campaign"`
	Value        []KPI  `json:"value,omitempty"`
	NPS          []KPI  `json:"nps,omitempty" doc:"by channel (the channel rated), store and month"`
	Care         []KPI  `json:"care,omitempty" doc:"by channel (the care desk's channel: whatsapp, email, phone…) and month"`
	Conversion   []KPI  `json:"conversion,omitempty" doc:"by channel, store and month"`
	Upselling    []KPI  `json:"upselling,omitempty" doc:"by channel, store and month"`
}

// Breakdowns.
const (
	ByChannel  = "channel"
	ByStore    = "store"
	ByCampaign = "campaign"
	ByMonth    = "month"
)

// Query asks for an overview.
type Query struct {
	From, To     Day
	By           string // "", ByChannel, ByStore, ByCampaign or ByMonth
	BaseCurrency string
	Now          time.Time
}

// MaxDays is the longest period an overview covers.
const MaxDays = 3660

// fig is what the rollups say of one group in one period.
type fig struct {
	orders, baseOrders, gross, refund, firsts, seconds, lost int64
	active, secondsBefore, liveStart, liveEnd                int64
	activePrev, retained                                     int64 // customers active in the previous period of the same length; of them, active again in this one
	costs                                                    costShare
	hasCosts                                                 bool
}

// period is a range of days.
type period struct{ from, to Day }

func (p period) days() int        { return int(p.to-p.from) + 1 }
func (p period) previous() period { return period{p.from - Day(p.days()), p.from - 1} }

// reader computes figures from the rollups.
type reader struct {
	ctx    context.Context
	db     *sqldb.DB
	window Day
	asOf   Day
	costs  []Cost
}

// Compute returns the overview of q.
func Compute(ctx context.Context, db *sqldb.DB, q Query) (Overview, error) {
	if q.To < q.From {
		return Overview{}, fault.New(fault.Invalid, "to (%s) is before from (%s)", q.To, q.From)
	}
	if int(q.To-q.From)+1 > MaxDays {
		return Overview{}, fault.New(fault.Invalid, "the period is longer than %d days", MaxDays)
	}
	switch q.By {
	case "", ByChannel, ByStore, ByCampaign, ByMonth:
	default:
		return Overview{}, fault.New(fault.Invalid, "by %q is not one of channel, store, campaign, month", q.By)
	}
	if q.BaseCurrency == "" {
		q.BaseCurrency = "EUR"
	}
	w, built, err := builtWindow(ctx, db)
	if err != nil {
		return Overview{}, err
	}
	if !built {
		return Overview{}, fault.New(fault.Unavailable, "the KPI rollups are not built yet: bottega serve builds them when it starts")
	}
	cur := period{q.From, q.To}
	prev := cur.previous()
	r := &reader{ctx: ctx, db: db, window: Day(w), asOf: DayOf(q.Now)}
	if r.costs, err = Costs(ctx, db, prev.from, cur.to); err != nil {
		return Overview{}, err
	}
	o := Overview{From: cur.from.String(), To: cur.to.String(), Days: cur.days(), PreviousFrom: prev.from.String(), PreviousTo: prev.to.String(),
		AsOf: r.asOf.String(), Currency: q.BaseCurrency, ChurnWindowDays: w, By: q.By}
	now, err := r.figures(dimAll, cur)
	if err != nil {
		return Overview{}, err
	}
	before, err := r.figures(dimAll, prev)
	if err != nil {
		return Overview{}, err
	}
	a, b := now[""], before[""]
	o.Sales, o.Customers, o.Costs, o.Value = sections(a, b, cur.days(), prev.days(), q.BaseCurrency)
	mNow, gNow, err := readMeasures(ctx, db, cur, q.By, q.BaseCurrency)
	if err != nil {
		return Overview{}, err
	}
	mBefore, gBefore, err := readMeasures(ctx, db, prev, q.By, q.BaseCurrency)
	if err != nil {
		return Overview{}, err
	}
	o.NPS, o.Care, o.Conversion, o.Upselling = measureSections(mNow, mBefore, supportOf(""), q.BaseCurrency)
	switch q.By {
	case ByChannel, ByStore, ByCampaign:
		dim := map[string]int8{ByChannel: dimChannel, ByStore: dimStore, ByCampaign: dimCampaign}[q.By]
		now, err := r.figures(dim, cur)
		if err != nil {
			return Overview{}, err
		}
		before, err := r.figures(dim, prev)
		if err != nil {
			return Overview{}, err
		}
		keys := map[string]bool{}
		for k := range now {
			keys[k] = true
		}
		for k := range before {
			keys[k] = true
		}
		delete(keys, "") // figures always hold the "" group of costs; kept only if it has data
		if hasData(now[""]) || hasData(before[""]) {
			keys[""] = true
		}
		// Groups with only surveys, tickets or funnel events (e.g. the care
		// desk's whatsapp channel) get a row too.
		for _, g := range []map[string]*measures{gNow, gBefore} {
			for k := range g {
				keys[k] = true
			}
		}
		support := supportOf(q.By)
		for _, k := range sortedKeys(keys) {
			row := Row{Key: k, From: o.From, To: o.To, PreviousFrom: o.PreviousFrom, PreviousTo: o.PreviousTo}
			var costs, value []KPI
			row.Sales, row.Customers, costs, value = sections(now[k], before[k], cur.days(), prev.days(), q.BaseCurrency)
			if q.By == ByCampaign {
				row.Costs, row.Value = costs, value
			}
			row.NPS, row.Care, row.Conversion, row.Upselling = measureSections(gNow[k], gBefore[k], support, q.BaseCurrency)
			o.Breakdown = append(o.Breakdown, row)
		}
	case ByMonth:
		for m := MonthOf(cur.from); m <= MonthOf(cur.to); m++ {
			p := period{max(cur.from, m.First()), min(cur.to, m.Last())}
			pp := p.previous()
			a, err := r.figures(dimAll, p)
			if err != nil {
				return Overview{}, err
			}
			b, err := r.figures(dimAll, pp)
			if err != nil {
				return Overview{}, err
			}
			row := Row{Key: m.String(), From: p.from.String(), To: p.to.String(), PreviousFrom: pp.from.String(), PreviousTo: pp.to.String()}
			row.Sales, row.Customers, row.Costs, row.Value = sections(a[""], b[""], p.days(), pp.days(), q.BaseCurrency)
			ma, _, err := readMeasures(ctx, db, p, "", q.BaseCurrency)
			if err != nil {
				return Overview{}, err
			}
			mb, _, err := readMeasures(ctx, db, pp, "", q.BaseCurrency)
			if err != nil {
				return Overview{}, err
			}
			row.NPS, row.Care, row.Conversion, row.Upselling = measureSections(ma, mb, supportOf(ByMonth), q.BaseCurrency)
			o.Breakdown = append(o.Breakdown, row)
		}
	}
	return o, nil
}

func hasData(f *fig) bool {
	return f != nil && (f.orders != 0 || f.refund != 0 || f.active != 0 || f.lost != 0 || f.liveStart != 0 || f.liveEnd != 0 || f.activePrev != 0 || f.costs != (costShare{}))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// figures reads the figures of every group of a breakdown in period p.
func (r *reader) figures(dim int8, p period) (map[string]*fig, error) {
	out, err := r.daily(dim, p)
	if err != nil {
		return nil, err
	}
	get := func(k string) *fig {
		f := out[k]
		if f == nil {
			f = &fig{}
			out[k] = f
		}
		return f
	}
	if err := r.active(dim, p, func(k string, n, second int64) { f := get(k); f.active, f.secondsBefore = n, second }); err != nil {
		return nil, err
	}
	// Retained: active in p with a previous order day in the previous
	// period of the same length, i.e. active in p minus those whose previous
	// order day is before that period (or who have none).
	prev := period{p.from - (p.to - p.from + 1), p.from - 1}
	if err := r.active(dim, prev, func(k string, n, _ int64) { get(k).activePrev = n }); err != nil {
		return nil, err
	}
	if err := r.activeSince(dim, p, prev.from, func(k string, n, _ int64) { get(k).retained -= n }); err != nil {
		return nil, err
	}
	for _, f := range out {
		f.retained += f.active
	}
	// Customers at the start: an order in the window ending the day before
	// the period; at the end: in the window ending on its last day (today
	// at the latest).
	start := period{p.from - r.window, p.from - 1}
	if err := r.active(dim, start, func(k string, n, _ int64) { get(k).liveStart = n }); err != nil {
		return nil, err
	}
	end := min(p.to, r.asOf)
	if err := r.active(dim, period{end - r.window + 1, end}, func(k string, n, _ int64) { get(k).liveEnd = n }); err != nil {
		return nil, err
	}
	total, by := shareOf(r.costs, p.from, p.to)
	switch dim {
	case dimAll:
		f := get("")
		f.costs, f.hasCosts = total, true
	case dimCampaign:
		for k, s := range by {
			f := get(k)
			f.costs = s
		}
		for _, f := range out {
			f.hasCosts = true
		}
	}
	return out, nil
}

// active counts, per group, the customers with an order day in p: the order
// days in p whose previous order day in the group is before p (or none),
// and, of those, the customers' second order days (their first is before
// p). The previous day is looked up by month in kpi_gaps_month, and by day
// for the days of p's first month before p in kpi_gaps_day, so both read
// few rows.
func (r *reader) active(dim int8, p period, fn func(key string, n, second int64)) error {
	return r.activeSince(dim, p, p.from, fn)
}

// daily reads the figures the daily rollup holds (orders, revenue, first
// and second orders, lost customers) of each group in p.
func (r *reader) daily(dim int8, p period) (map[string]*fig, error) {
	out := map[string]*fig{}
	rows, err := r.db.Query(r.ctx, `SELECT key, SUM(orders), SUM(base_orders), SUM(gross_minor), SUM(refund_minor), SUM(firsts), SUM(seconds),
		SUM(CASE WHEN day <= ? THEN lost ELSE 0 END)
		FROM kpi_daily WHERE dim = ? AND day BETWEEN ? AND ? GROUP BY key`, int64(r.asOf), int64(dim), int64(p.from), int64(p.to))
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var x fig
		if err := rows.Scan(&k, &x.orders, &x.baseOrders, &x.gross, &x.refund, &x.firsts, &x.seconds, &x.lost); err != nil {
			return nil, sqldb.Classify(err)
		}
		out[k] = &x
	}
	return out, sqldb.Classify(rows.Err())
}

// SalesBy returns the sales KPIs (revenue, orders, average order value…)
// of the period and the previous one by channel, store or campaign: the
// Sales of Compute's Breakdown rows, read from the daily rollup alone, for
// a mix of the shop's sales that costs a fraction of a whole breakdown.
func SalesBy(ctx context.Context, db *sqldb.DB, q Query) ([]Row, error) {
	dims := map[string]int8{ByChannel: dimChannel, ByStore: dimStore, ByCampaign: dimCampaign}
	dim, ok := dims[q.By]
	if !ok {
		return nil, fault.New(fault.Invalid, "sales by %q: by is one of channel, store, campaign", q.By)
	}
	if q.To < q.From || int(q.To-q.From)+1 > MaxDays {
		return nil, fault.New(fault.Invalid, "the period %s – %s is empty or longer than %d days", q.From, q.To, MaxDays)
	}
	if q.BaseCurrency == "" {
		q.BaseCurrency = "EUR"
	}
	cur := period{q.From, q.To}
	prev := cur.previous()
	r := &reader{ctx: ctx, db: db, asOf: DayOf(q.Now)}
	now, err := r.daily(dim, cur)
	if err != nil {
		return nil, err
	}
	before, err := r.daily(dim, prev)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range now {
		keys[k] = true
	}
	for k := range before {
		keys[k] = true
	}
	var out []Row
	for _, k := range sortedKeys(keys) {
		sales, _, _, _ := sections(now[k], before[k], cur.days(), prev.days(), q.BaseCurrency)
		out = append(out, Row{Key: k, From: cur.from.String(), To: cur.to.String(), PreviousFrom: prev.from.String(), PreviousTo: prev.to.String(), Sales: sales})
	}
	return out, nil
}

// activeSince is active for the customers whose previous order day before
// p is before cutoff (cutoff <= p.from), or who have none.
func (r *reader) activeSince(dim int8, p period, cutoff Day, fn func(key string, n, second int64)) error {
	if p.to < p.from {
		return nil
	}
	m := MonthOf(cutoff)
	rows, err := r.db.Query(r.ctx, `SELECT key, SUM(n), SUM(second * n) FROM (
			SELECT key, n, second FROM kpi_gaps_month WHERE dim = ? AND day BETWEEN ? AND ? AND prev_month < ?
			UNION ALL
			SELECT key, n, second FROM kpi_gaps_day WHERE dim = ? AND prev_day BETWEEN ? AND ? AND day BETWEEN ? AND ?
		) x GROUP BY key`,
		int64(dim), int64(p.from), int64(p.to), int64(m),
		int64(dim), int64(m.First()), int64(cutoff-1), int64(p.from), int64(p.to))
	if err != nil {
		return sqldb.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k         string
			n, second int64
		)
		if err := rows.Scan(&k, &n, &second); err != nil {
			return sqldb.Classify(err)
		}
		fn(k, n, second)
	}
	return sqldb.Classify(rows.Err())
}

// sections turns the figures of a group in a period and the previous one
// into KPIs.
func sections(a, b *fig, days, prevDays int, currency string) (sales, customers, costs, value []KPI) {
	if a == nil {
		a = &fig{}
	}
	if b == nil {
		b = &fig{}
	}
	type vals struct {
		revenue, gross, refunds, orders, aov                             *float64
		active, new, returning, repurchase, live, lost, churn, retention *float64
		costs, acq, perCustomer, cac, yearly, years, clv                 *float64
	}
	money := func(minor float64) *float64 {
		v := math.Round(minor) / math.Pow10(order.Digits(currency))
		return &v
	}
	count := func(n int64) *float64 { v := float64(n); return &v }
	ratio := func(x, y float64) *float64 {
		if y == 0 {
			return nil
		}
		v := x / y
		return &v
	}
	moneyRatio := func(x, y float64) *float64 {
		if y == 0 {
			return nil
		}
		return money(x / y)
	}
	compute := func(f *fig, days int) vals {
		var v vals
		net := float64(f.gross - f.refund)
		v.revenue, v.gross, v.refunds, v.orders = money(net), money(float64(f.gross)), money(float64(f.refund)), count(f.orders)
		v.aov = moneyRatio(float64(f.gross), float64(f.baseOrders))
		v.active, v.new, v.returning = count(f.active), count(f.firsts), count(f.active-f.firsts)
		// Active customers whose only order day up to the end is in the
		// period: new ones whose second order day is later.
		single := f.firsts - (f.seconds - f.secondsBefore)
		v.repurchase = ratio(float64(f.active-single), float64(f.active))
		v.live, v.lost = count(f.liveEnd), count(f.lost)
		churn := ratio(float64(f.lost), float64(f.liveStart+f.liveEnd)/2)
		v.churn = churn
		v.retention = ratio(float64(f.retained), float64(f.activePrev))
		if f.hasCosts {
			v.costs, v.acq = money(f.costs.all), money(f.costs.acquisition)
			v.perCustomer = moneyRatio(f.costs.all, float64(f.active))
			v.cac = moneyRatio(f.costs.acquisition, float64(f.firsts))
			if f.active > 0 {
				yearly := net / float64(f.active) * 365 / float64(days)
				v.yearly = money(yearly)
				if churn != nil && *churn > 0 {
					years := 1 / (*churn * 365 / float64(days))
					v.years = &years
					cac := 0.0
					switch {
					case f.costs.acquisition == 0:
					case f.firsts > 0:
						cac = f.costs.acquisition / float64(f.firsts)
					default:
						cac = math.NaN()
					}
					if !math.IsNaN(cac) {
						v.clv = money(yearly*years - cac)
					}
				}
			}
		}
		return v
	}
	x, y := compute(a, days), compute(b, prevDays)
	kpi := func(d definition, v, p *float64) KPI { return newKPI(d, v, p, currency) }
	sales = []KPI{kpi(defRevenue, x.revenue, y.revenue), kpi(defGross, x.gross, y.gross), kpi(defRefunds, x.refunds, y.refunds),
		kpi(defOrders, x.orders, y.orders), kpi(defAOV, x.aov, y.aov)}
	customers = []KPI{kpi(defActive, x.active, y.active), kpi(defNew, x.new, y.new), kpi(defReturning, x.returning, y.returning),
		kpi(defRepurchase, x.repurchase, y.repurchase), kpi(defCustomers, x.live, y.live), kpi(defLost, x.lost, y.lost),
		kpi(defChurn, x.churn, y.churn), kpi(defRetention, x.retention, y.retention)}
	if a.hasCosts || b.hasCosts {
		costs = []KPI{kpi(defCosts, x.costs, y.costs), kpi(defAcqCosts, x.acq, y.acq), kpi(defCostPerCustomer, x.perCustomer, y.perCustomer),
			kpi(defCAC, x.cac, y.cac)}
		value = []KPI{kpi(defYearlySpend, x.yearly, y.yearly), kpi(defYears, x.years, y.years), kpi(defCLV, x.clv, y.clv)}
	}
	return sales, customers, costs, value
}
