package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/survey"
)

// The overview answers "how are my customers doing?": the KPIs of a period
// against the previous one, the sales and NPS trends, the channel and store
// mix, cohorts, the RFM grid, predicted value and churn risk, and personas.
// It reads the same domain functions as the API (GET /api/v1/kpis, nps,
// cohorts, rfm, personas), so its numbers are the API's: only rollups and
// stored summaries, plus one aggregate query over the predictions.

type overviewData struct {
	From, To         string // the period's days, YYYY-MM-DD, as in the URL
	Start, End       time.Time
	PrevStart        time.Time
	PrevEnd          time.Time
	Days             int
	Quick            []quickRange
	Cards            []kpiCard
	Sections         []kpiSection
	NoSales          bool // no order and no refund in the period
	RevenueChart     Chart
	OrdersChart      Chart
	NPS              Chart
	NoNPS            bool
	Channels, Stores mixView
	Cohorts          Chart
	NoCohorts        bool
	RFM              *rfmView
	Predictions      *predictionsView
	PredictionsWhy   string    // why there are none (predict's words, English)
	CalibrationEnd   time.Time // of the current prediction model
	Personas         []personaCard
	PersonasWhy      string
}

// quickRange is one of the period picker's shortcuts.
type quickRange struct {
	Key     string // 30d, 90d, 12m, ytd
	Label   string // message key
	URL     string
	Current bool
}

// kpiCard is one KPI as a card or a table row.
type kpiCard struct {
	Key        string
	Label      string
	Value      string // formatted
	Raw        string // the value as the API's JSON has it ("null" when undefined)
	Previous   string
	Delta      string // "+12.5% vs previous period"; "" without a comparison
	Dir        string // up, down or flat
	Better     string // "better", "worse" or "" (flat / no comparison)
	Definition string
}

type kpiSection struct {
	Title string // message key
	KPIs  []kpiCard
}

// mixView is the revenue of the period by channel or store.
type mixView struct {
	Chart Chart
	Rows  []mixRow
	Empty bool
}

type mixRow struct {
	Label   string
	URL     string // "" for the group without a channel or store
	Revenue string
	Share   string
	Orders  string
}

type rfmView struct {
	AsOf      time.Time
	Customers int64
	Rows      []rfmRow // FM 5 down to 1
	Segments  []segmentRow
}

type rfmRow struct {
	FM    int
	Cells []rfmCell // R 1 to 5
}

type rfmCell struct {
	R, FM     int
	Segment   string // as the rfm package names it
	Label     string // translated
	Customers int64
	Heat      int
	URL       string
}

type segmentRow struct {
	Label     string
	URL       string
	Customers int64
	Revenue   int64 // minor units
}

type predictionsView struct {
	Model     predict.Model
	Customers int64
	CLV       Chart
	Churn     Chart
	Bands     []bandRow
}

type bandRow struct {
	Band      string
	Label     string // message key
	Customers int64
	URL       string
}

type personaCard struct {
	ID          int
	Description string
	Customers   int64
	Share       float64
	AvgRevenue  int64  // minor units
	Cadence     string // message key
	Channel     string // message key
	URL         string
}

// The KPIs shown as cards, in order; every other KPI of the overview is in
// the table below them.
var cardKPIs = []string{"revenue", "orders", "average_order_value", "active_customers", "new_customers", "repurchase_rate",
	"churn_rate", "retention_rate", "nps", "historic_clv", "cost_per_customer", "checkout_conversion", "first_response_median"}

// lowerIsBetter are the KPIs whose rise is bad news.
var lowerIsBetter = map[string]bool{"refunds": true, "lost_customers": true, "churn_rate": true, "costs": true, "acquisition_costs": true,
	"cost_per_customer": true, "customer_acquisition_cost": true, "nps_detractors": true, "first_response_median": true,
	"first_response_p90": true, "resolution_median": true, "resolution_p90": true, "tickets": true}

// overviewPeriod reads from and to as GET /api/v1/kpis does: UTC days, both
// included; neither means the last 30 days up to today.
func overviewPeriod(q url.Values, now time.Time) (kpi.Day, kpi.Day, error) {
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	today := kpi.DayOf(now)
	if from == "" && to == "" {
		return today - 29, today, nil
	}
	if from == "" || to == "" {
		return 0, 0, fault.New(fault.Invalid, "give both from and to (YYYY-MM-DD), or neither")
	}
	f, err := kpi.ParseDay(from)
	if err != nil {
		return 0, 0, fault.New(fault.Invalid, "from %q is not a date (YYYY-MM-DD)", from)
	}
	t, err := kpi.ParseDay(to)
	if err != nil {
		return 0, 0, fault.New(fault.Invalid, "to %q is not a date (YYYY-MM-DD)", to)
	}
	return f, t, nil
}

func periodURL(from, to kpi.Day) string {
	return "/overview?" + url.Values{"from": {from.String()}, "to": {to.String()}}.Encode()
}

func (s *server) overview(rq *request) error {
	from, to, err := overviewPeriod(rq.r.URL.Query(), s.Now())
	if err != nil {
		return err
	}
	// The whole shop's KPIs; the channel and store mixes need only their
	// sales, which the daily rollup holds.
	q := kpi.Query{From: from, To: to, BaseCurrency: s.BaseCurrency, Now: s.Now()}
	overall, err := kpi.Compute(rq.ctx, s.DB, q)
	if err != nil {
		return err
	}
	q.By = kpi.ByChannel
	byChannel, err := kpi.SalesBy(rq.ctx, s.DB, q)
	if err != nil {
		return err
	}
	q.By = kpi.ByStore
	byStore, err := kpi.SalesBy(rq.ctx, s.DB, q)
	if err != nil {
		return err
	}
	today := kpi.DayOf(s.Now())
	yearStart := kpi.DayOf(time.Date(today.Time().Year(), 1, 1, 0, 0, 0, 0, time.UTC))
	d := &overviewData{From: from.String(), To: to.String(), Start: from.Time(), End: to.Time(), Days: overall.Days}
	d.PrevStart, d.PrevEnd = dayTime(overall.PreviousFrom), dayTime(overall.PreviousTo)
	for _, r := range []struct {
		key      string
		from, to kpi.Day
	}{{"30d", today - 29, today}, {"90d", today - 89, today}, {"12m", today - 364, today}, {"ytd", yearStart, today}} {
		d.Quick = append(d.Quick, quickRange{Key: r.key, Label: "overview.period." + r.key, URL: periodURL(r.from, r.to),
			Current: r.from == from && r.to == to})
	}
	s.kpiCards(rq, d, overall)

	if err := s.salesCharts(rq, d, from, to); err != nil {
		return err
	}
	if err := s.npsChart(rq, d, from, to); err != nil {
		return err
	}
	d.Channels = s.mix(rq, "channel", byChannel, from, to)
	d.Stores = s.mix(rq, "store", byStore, from, to)
	if err := s.cohortChart(rq, d, to, today); err != nil {
		return err
	}
	if err := s.rfmGrid(rq, d); err != nil {
		return err
	}
	if err := s.predictions(rq, d); err != nil {
		return err
	}
	if err := s.personas(rq, d); err != nil {
		return err
	}
	s.render(rq, http.StatusOK, "overview.html", d)
	return nil
}

func dayTime(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// kpiCards formats every KPI of the overview: the headline ones as cards,
// all of them in sections.
func (s *server) kpiCards(rq *request, d *overviewData, o kpi.Overview) {
	byKey := map[string]kpiCard{}
	for _, sec := range []struct {
		title string
		kpis  []kpi.KPI
	}{{"overview.section.sales", o.Sales}, {"overview.section.customers", o.Customers}, {"overview.section.costs", o.Costs},
		{"overview.section.value", o.Value}, {"overview.section.nps", o.NPS}, {"overview.section.care", o.Care},
		{"overview.section.conversion", o.Conversion}, {"overview.section.upselling", o.Upselling}} {
		if len(sec.kpis) == 0 {
			continue
		}
		ks := kpiSection{Title: sec.title}
		for _, k := range sec.kpis {
			c := s.card(rq.L, k)
			byKey[k.Key] = c
			ks.KPIs = append(ks.KPIs, c)
		}
		d.Sections = append(d.Sections, ks)
	}
	for _, k := range cardKPIs {
		if c, ok := byKey[k]; ok {
			d.Cards = append(d.Cards, c)
		}
	}
	if k, ok := byKey["orders"]; ok {
		r := byKey["refunds"]
		d.NoSales = (k.Raw == "0" || k.Raw == "null") && (r.Raw == "0" || r.Raw == "null")
	}
}

// rawJSON is a value as the API's JSON writes it.
func rawJSON(v *float64) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func (s *server) card(L *Locale, k kpi.KPI) kpiCard {
	c := kpiCard{Key: k.Key, Label: L.T("overview.kpi." + k.Key), Raw: rawJSON(k.Value), Definition: k.Definition, Dir: "flat"}
	c.Value, c.Previous = s.formatKPI(L, k.Unit, k.Value), s.formatKPI(L, k.Unit, k.Previous)
	if k.Change == nil {
		return c
	}
	ch := *k.Change
	switch {
	case ch > 0:
		c.Dir = "up"
	case ch < 0:
		c.Dir = "down"
	}
	if c.Dir != "flat" {
		if (c.Dir == "up") != lowerIsBetter[k.Key] {
			c.Better = "better"
		} else {
			c.Better = "worse"
		}
	}
	switch {
	case k.Unit == kpi.UnitRatio:
		// Shares change by percentage points.
		c.Delta = L.T("overview.delta.points", signed(L, ch*100, 1))
	case k.Unit == kpi.UnitPoints:
		c.Delta = L.T("overview.delta.points", signed(L, ch, 1))
	case k.ChangePct != nil:
		c.Delta = L.T("overview.delta.pct", signed(L, *k.ChangePct*100, 1))
	default: // from 0: the change itself
		c.Delta = L.T("overview.delta.abs", signedValue(L, ch, s.formatKPI(L, k.Unit, &ch)))
	}
	return c
}

// signed formats f with its sign: "+12.5", "−3.0", "0.0".
func signed(L *Locale, f float64, decimals int) string {
	n := L.Num(math.Abs(f), decimals)
	switch {
	case f > 0 && n != L.Num(0, decimals):
		return "+" + n
	case f < 0 && n != L.Num(0, decimals):
		return "−" + n
	}
	return n
}

func signedValue(L *Locale, f float64, formatted string) string {
	formatted = strings.TrimPrefix(strings.TrimPrefix(formatted, "−"), "-")
	if f > 0 {
		return "+" + formatted
	}
	if f < 0 {
		return "−" + formatted
	}
	return formatted
}

// formatKPI formats a KPI's value by its unit.
func (s *server) formatKPI(L *Locale, unit string, v *float64) string {
	if v == nil {
		return "–"
	}
	x := *v
	switch unit {
	case kpi.UnitMoney:
		return L.MoneyMajor(x)
	case kpi.UnitCount:
		return L.Int(int64(math.Round(x)))
	case kpi.UnitRatio:
		return L.Pct(x)
	case kpi.UnitMinutes:
		if math.Abs(x) >= 120 {
			return L.T("overview.unit.hours", L.Num(x/60, 1))
		}
		return L.T("overview.unit.minutes", L.Num(x, 1))
	case kpi.UnitYears:
		return L.T("overview.unit.years", L.Num(x, 1))
	case kpi.UnitScore:
		return L.Num(x, 2)
	}
	return L.Num(x, 1)
}

// chartFormat is the "bottega" key of a chart: the page's language and how
// values are formatted.
func (s *server) chartFormat(L *Locale, style string) map[string]any {
	f := map[string]any{"style": style}
	if style == "currency" {
		f["currency"] = s.BaseCurrency
	}
	if style == "decimal" {
		f["maximumFractionDigits"] = 1
	}
	return map[string]any{"locale": L.Lang, "format": map[string]any{"value": f}}
}

// salesCharts draws revenue and orders day by day for periods up to 92
// days, else month by month.
func (s *server) salesCharts(rq *request, d *overviewData, from, to kpi.Day) error {
	byMonth := to-from+1 > 92
	pts, err := kpi.Sales(rq.ctx, s.DB, from, to, byMonth, s.BaseCurrency)
	if err != nil {
		return err
	}
	labels := make([]string, len(pts))
	revenue := make([]any, len(pts))
	orders := make([]any, len(pts))
	for i, p := range pts {
		t := dayTime(p.From)
		if byMonth {
			labels[i] = rq.L.Month(t)
		} else {
			labels[i] = rq.L.Date(t)
		}
		revenue[i] = p.Revenue
		orders[i] = p.Orders
	}
	step := "overview.chart.by_day"
	if byMonth {
		step = "overview.chart.by_month"
	}
	L := rq.L
	d.RevenueChart = Chart{ID: "revenue-trend", Label: L.T("overview.chart.revenue_label", L.T(step), L.Date(d.Start), L.Date(d.End)),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "currency"),
			"tooltip": map[string]any{"trigger": "axis"},
			"grid":    map[string]any{"left": 8, "right": 8, "top": 16, "bottom": 8, "containLabel": true},
			"xAxis":   map[string]any{"type": "category", "data": labels},
			"yAxis":   map[string]any{"type": "value"},
			"series":  []any{map[string]any{"type": "bar", "name": L.T("overview.kpi.revenue"), "data": revenue}},
		}}
	d.OrdersChart = Chart{ID: "orders-trend", Label: L.T("overview.chart.orders_label", L.T(step), L.Date(d.Start), L.Date(d.End)),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "decimal"),
			"tooltip": map[string]any{"trigger": "axis"},
			"grid":    map[string]any{"left": 8, "right": 8, "top": 16, "bottom": 8, "containLabel": true},
			"xAxis":   map[string]any{"type": "category", "data": labels},
			"yAxis":   map[string]any{"type": "value", "minInterval": 1},
			"series":  []any{map[string]any{"type": "line", "name": L.T("overview.kpi.orders"), "data": orders, "smooth": false, "areaStyle": map[string]any{"opacity": 0.15}}},
		}}
	return nil
}

// npsChart shows the NPS answers month by month over the twelve months up
// to the period's end (or the period, if longer): promoters, passives and
// detractors stacked, and the NPS.
func (s *server) npsChart(rq *request, d *overviewData, from, to kpi.Day) error {
	start := min(from, (kpi.MonthOf(to) - 11).First())
	p, err := days.New(start.Time(), to.Time())
	if err != nil {
		return err
	}
	rep, err := survey.Summarise(rq.ctx, s.DB, p, "")
	if err != nil {
		return err
	}
	if rep.NPS.Responses == 0 {
		d.NoNPS = true
		return nil
	}
	L := rq.L
	var labels []string
	var prom, pass, det, score []any
	for _, m := range rep.Trend {
		t, err := time.Parse("2006-01", m.Key)
		if err != nil || m.NPS.Responses == 0 {
			continue
		}
		labels = append(labels, L.Month(t))
		prom, pass, det = append(prom, m.NPS.Promoters), append(pass, m.NPS.Passives), append(det, m.NPS.Detractors)
		if m.NPS.NPS != nil {
			score = append(score, *m.NPS.NPS)
		} else {
			score = append(score, nil)
		}
	}
	bar := func(name string, data []any, color string) map[string]any {
		return map[string]any{"type": "bar", "name": name, "stack": "answers", "data": data, "itemStyle": map[string]any{"color": color}}
	}
	d.NPS = Chart{ID: "nps-trend", Label: L.T("overview.chart.nps_label", L.Month(start.Time()), L.Month(to.Time())),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "decimal"),
			"tooltip": map[string]any{"trigger": "axis"},
			"legend":  map[string]any{"bottom": 0},
			"grid":    map[string]any{"left": 8, "right": 8, "top": 36, "bottom": 32, "containLabel": true}, // room for the axes' names
			"xAxis":   map[string]any{"type": "category", "data": labels},
			"yAxis": []any{map[string]any{"type": "value", "name": L.T("overview.chart.answers"), "minInterval": 1},
				map[string]any{"type": "value", "name": "NPS", "min": -100, "max": 100, "splitLine": map[string]any{"show": false}}},
			"series": []any{
				bar(L.T("overview.kpi.nps_promoters"), prom, "#1a7f37"),
				bar(L.T("overview.kpi.nps_passives"), pass, "#9e6b00"),
				bar(L.T("overview.kpi.nps_detractors"), det, "#b42318"),
				map[string]any{"type": "line", "name": "NPS", "yAxisIndex": 1, "data": score, "itemStyle": map[string]any{"color": "#1f5fbf"}},
			},
		}}
	return nil
}

// mix is the revenue of the period by channel or store.
func (s *server) mix(rq *request, dim string, rows []kpi.Row, from, to kpi.Day) mixView {
	L := rq.L
	var v mixView
	var total float64
	type group struct {
		key             string
		revenue, orders float64
	}
	var groups []group
	for _, r := range rows {
		g := group{key: r.Key}
		for _, k := range r.Sales {
			switch {
			case k.Key == "revenue" && k.Value != nil:
				g.revenue = *k.Value
			case k.Key == "orders" && k.Value != nil:
				g.orders = *k.Value
			}
		}
		if g.revenue == 0 && g.orders == 0 {
			continue
		}
		groups = append(groups, g)
		total += max(g.revenue, 0)
	}
	if len(groups) == 0 {
		v.Empty = true
		return v
	}
	var names []string
	var data []any
	for _, g := range groups {
		label := g.key
		u := ""
		if g.key == "" {
			label = L.T("overview.mix.none_" + dim)
		} else {
			u = "/customers?" + url.Values{dim: {g.key}}.Encode()
		}
		share := math.NaN()
		if total > 0 {
			share = max(g.revenue, 0) / total
		}
		v.Rows = append(v.Rows, mixRow{Label: label, URL: u, Revenue: L.MoneyMajor(g.revenue),
			Share: L.Pct(share), Orders: L.Int(int64(g.orders))})
		names = append(names, label)
		item := map[string]any{"value": g.revenue}
		if u != "" {
			item["url"] = u
		}
		data = append(data, item)
	}
	v.Chart = Chart{ID: "mix-" + dim, Label: L.T("overview.chart.mix_"+dim+"_label", L.Date(from.Time()), L.Date(to.Time())),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "currency"),
			"tooltip": map[string]any{"trigger": "item"},
			"grid":    map[string]any{"left": 8, "right": 16, "top": 8, "bottom": 8, "containLabel": true},
			"xAxis":   map[string]any{"type": "value"},
			"yAxis":   map[string]any{"type": "category", "data": names, "inverse": true},
			"series":  []any{map[string]any{"type": "bar", "name": L.T("overview.kpi.revenue"), "data": data, "cursor": "pointer"}},
		}}
	return v
}

// cohortChart is the retention heatmap of the twelve cohorts up to the
// period's last month, as GET /api/v1/cohorts gives them.
func (s *server) cohortChart(rq *request, d *overviewData, to, today kpi.Day) error {
	last := kpi.MonthOf(to)
	c, err := kpi.ReadCohorts(rq.ctx, s.DB, s.BaseCurrency, last-11, last, today)
	if err != nil {
		return err
	}
	if len(c.Cohorts) == 0 {
		d.NoCohorts = true
		return nil
	}
	L := rq.L
	const maxK = 12
	var ys []string
	var xs []string
	for k := 0; k <= maxK; k++ {
		xs = append(xs, L.T("overview.cohort.month_n", k))
	}
	var data []any
	for i, co := range c.Cohorts {
		t, _ := time.Parse("2006-01", co.Month)
		ys = append(ys, L.T("overview.cohort.row", L.Month(t), L.Int(co.Customers)))
		for k, r := range co.Retention {
			if k > maxK {
				break
			}
			data = append(data, []any{k, i, math.Round(r*10000) / 10000})
		}
	}
	d.Cohorts = Chart{ID: "cohorts", Label: L.T("overview.chart.cohorts_label"),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "percent"),
			"tooltip": map[string]any{},
			"grid":    map[string]any{"left": 8, "right": 8, "top": 8, "bottom": 48, "containLabel": true},
			"xAxis":   map[string]any{"type": "category", "data": xs, "splitArea": map[string]any{"show": true}},
			"yAxis":   map[string]any{"type": "category", "data": ys, "inverse": true, "splitArea": map[string]any{"show": true}},
			"visualMap": map[string]any{"min": 0, "max": 1, "calculable": false, "orient": "horizontal", "left": "center", "bottom": 0,
				"inRange": map[string]any{"color": []string{"#f0f2f5", "#1f5fbf"}}},
			"series": []any{map[string]any{"type": "heatmap", "name": L.T("overview.cohort.retention"), "data": data,
				"label": map[string]any{"show": false}}},
		}}
	return nil
}

// segmentKey is the message key of an RFM segment.
func segmentKey(seg string) string {
	k := strings.ToLower(strings.NewReplacer("'", "", " ", "_").Replace(seg))
	return "overview.segment." + k
}

func segmentURL(seg string) string {
	return "/customers?" + url.Values{"segment": {seg}}.Encode()
}

// rfmGrid is the last RFM run's 5 × 5 grid, as GET /api/v1/rfm gives it.
func (s *server) rfmGrid(rq *request, d *overviewData) error {
	g, err := rfm.Current(rq.ctx, s.DB)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v := &rfmView{AsOf: g.AsOf, Customers: g.Customers}
	var most int64
	cells := map[[2]int]rfm.GridCell{}
	for _, c := range g.Cells {
		cells[[2]int{c.R, c.FM}] = c
		most = max(most, c.Customers)
	}
	for fm := 5; fm >= 1; fm-- {
		row := rfmRow{FM: fm}
		for r := 1; r <= 5; r++ {
			c := cells[[2]int{r, fm}]
			seg := rfm.Segment(r, fm)
			heat := 0
			if c.Customers > 0 && most > 0 {
				heat = min(5, 1+int(4*c.Customers/most))
			}
			q := url.Values{"segment": {seg}, "r": {strconv.Itoa(r)}, "fm": {strconv.Itoa(fm)}}
			row.Cells = append(row.Cells, rfmCell{R: r, FM: fm, Segment: seg, Label: rq.L.T(segmentKey(seg)), Customers: c.Customers,
				Heat: heat, URL: "/customers?" + q.Encode()})
		}
		v.Rows = append(v.Rows, row)
	}
	for _, sg := range g.Segments {
		v.Segments = append(v.Segments, segmentRow{Label: rq.L.T(segmentKey(sg.Segment)), URL: segmentURL(sg.Segment),
			Customers: sg.Customers, Revenue: sg.Revenue.Minor})
	}
	d.RFM = v
	return nil
}

// predictions shows the stored predictions' spread: a histogram of CLV and
// the customers per churn-risk band, or why there are none yet.
func (s *server) predictions(rq *request, d *overviewData) error {
	m, err := predict.Current(rq.ctx, s.DB)
	if fault.Is(err, fault.NotFound) || fault.Is(err, fault.Conflict) {
		d.PredictionsWhy = fault.MessageOf(err)
		return nil
	}
	if err != nil {
		return err
	}
	dist, err := predict.Distribute(rq.ctx, s.DB, m.Currency)
	if err != nil {
		return err
	}
	if dist.Customers == 0 {
		d.PredictionsWhy = "no customer has predictions yet"
		return nil
	}
	L := rq.L
	v := &predictionsView{Model: m, Customers: dist.Customers}
	d.CalibrationEnd = dayTime(m.CalibrationEnd)
	var labels []string
	var counts []any
	// Bucket edges are round amounts: shown without the cents.
	edge := func(minor int64) string {
		s := L.MoneyIn(minor, m.Currency)
		if digits := order.Digits(m.Currency); digits > 0 && minor%int64(math.Pow10(digits)) == 0 {
			dec := "."
			if L.Lang == "it" {
				dec = ","
			}
			s = strings.Replace(s, dec+strings.Repeat("0", digits), "", 1)
		}
		return s
	}
	for _, b := range dist.CLV {
		switch {
		case b.From == nil:
			labels = append(labels, L.T("overview.clv.below", edge(*b.To)))
		case b.To == nil:
			labels = append(labels, L.T("overview.clv.above", edge(*b.From)))
		default:
			labels = append(labels, edge(*b.From)+"–"+edge(*b.To))
		}
		counts = append(counts, b.Customers)
	}
	v.CLV = Chart{ID: "clv-histogram", Label: L.T("overview.chart.clv_label", L.Int(dist.Customers)),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "decimal"),
			"tooltip": map[string]any{"trigger": "axis"},
			"grid":    map[string]any{"left": 8, "right": 8, "top": 16, "bottom": 8, "containLabel": true},
			"xAxis":   map[string]any{"type": "category", "data": labels},
			"yAxis":   map[string]any{"type": "value", "minInterval": 1},
			"series":  []any{map[string]any{"type": "bar", "name": L.T("overview.chart.customers"), "data": counts, "barCategoryGap": "10%"}},
		}}
	colors := []string{"#1a7f37", "#9e6b00", "#e07b00", "#b42318"}
	var names []string
	var data []any
	for i, r := range predict.Risks {
		band := string(r)
		u := "/customers?" + url.Values{"churn": {band}}.Encode()
		row := bandRow{Band: band, Label: "overview.churn." + band, Customers: dist.Risks[r], URL: u}
		v.Bands = append(v.Bands, row)
		names = append(names, L.T(row.Label))
		data = append(data, map[string]any{"value": row.Customers, "url": u, "itemStyle": map[string]any{"color": colors[i]}})
	}
	v.Churn = Chart{ID: "churn-bands", Label: L.T("overview.chart.churn_label"),
		Option: map[string]any{
			"bottega": s.chartFormat(L, "decimal"),
			"tooltip": map[string]any{"trigger": "item"},
			"grid":    map[string]any{"left": 8, "right": 8, "top": 16, "bottom": 8, "containLabel": true},
			"xAxis":   map[string]any{"type": "category", "data": names},
			"yAxis":   map[string]any{"type": "value", "minInterval": 1},
			"series":  []any{map[string]any{"type": "bar", "name": L.T("overview.chart.customers"), "data": data, "cursor": "pointer"}},
		}}
	d.Predictions = v
	return nil
}

// personas are the last persona run's clusters, as GET /api/v1/personas
// gives them.
func (s *server) personas(rq *request, d *overviewData) error {
	rep, err := persona.Current(rq.ctx, s.DB)
	if fault.Is(err, fault.NotFound) {
		d.PersonasWhy = "-"
		return nil
	}
	if err != nil {
		return err
	}
	if len(rep.Personas) == 0 {
		d.PersonasWhy = rep.Note
		if d.PersonasWhy == "" {
			d.PersonasWhy = "-"
		}
		return nil
	}
	for _, p := range rep.Personas {
		d.Personas = append(d.Personas, personaCard{ID: p.ID, Description: p.Description, Customers: p.Customers, Share: p.Share,
			AvgRevenue: p.AvgRevenue.Minor, Cadence: "overview.cadence." + p.Cadence, Channel: "overview.persona_channel." + p.Channel,
			URL: "/customers?" + url.Values{"persona": {strconv.Itoa(p.ID)}}.Encode()})
	}
	return nil
}
