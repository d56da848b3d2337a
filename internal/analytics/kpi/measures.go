package kpi

import (
	"context"
	"math"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/analytics/funnel"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/survey"
	"github.com/bottega-crm/bottega/internal/ticket"
)

// measures are the figures of one group in one period that the survey,
// ticket and funnel packages compute from their own tables: NPS and CSAT,
// care responsiveness, conversion, upselling and cross-selling.
type measures struct {
	scores survey.Scores
	care   ticket.Times
	conv   funnel.Conversion
	attach funnel.Attach
}

// support says which of the measure sections a breakdown has.
type support struct{ nps, care, funnel bool }

// supportOf returns the measure sections a breakdown splits: NPS by channel
// (the channel rated) and store, care by channel (the desk's channel),
// conversion and upselling by channel and store; none by campaign. By month
// each row is its own period, so every section is there.
func supportOf(by string) support {
	switch by {
	case "", ByMonth, ByChannel:
		return support{true, true, true}
	case ByStore:
		return support{nps: true, funnel: true}
	}
	return support{}
}

// groupKey maps the packages' key for "no channel or store" to the
// overview's empty key.
func groupKey(k string) string {
	if k == survey.NoKey || k == funnel.NoKey {
		return ""
	}
	return k
}

// readMeasures reads the measures of period p: the total and, for by
// channel or store, each group the packages report.
func readMeasures(ctx context.Context, db *sqldb.DB, p period, by, currency string) (*measures, map[string]*measures, error) {
	from, to := p.from.Time(), p.to.Time()
	s := supportOf(by)
	if by == ByMonth || by == ByCampaign {
		by = ""
	}
	byOr := func(ok bool) string {
		if ok {
			return by
		}
		return ""
	}
	total := &measures{}
	groups := map[string]*measures{}
	get := func(k string) *measures {
		k = groupKey(k)
		m := groups[k]
		if m == nil {
			m = &measures{}
			groups[k] = m
		}
		return m
	}
	nps, err := survey.Summarise(ctx, db, days.Period{From: from, To: to}, byOr(s.nps))
	if err != nil {
		return nil, nil, err
	}
	total.scores = nps.Scores
	for _, g := range nps.Groups {
		merge(&get(g.Key).scores, g.Scores)
	}
	care, err := ticket.Summarise(ctx, db, days.Period{From: from, To: to}, byOr(s.care))
	if err != nil {
		return nil, nil, err
	}
	total.care = care.Times
	for _, g := range care.Groups {
		get(g.Key).care = g.Times
	}
	fp := days.Period{From: from, To: to}
	conv, err := funnel.Conversions(ctx, db, fp, byOr(s.funnel))
	if err != nil {
		return nil, nil, err
	}
	total.conv = conv.Conversion
	for _, g := range conv.Groups {
		get(g.Key).conv = g.Conversion
	}
	att, err := funnel.Attachment(ctx, db, fp, byOr(s.funnel), currency)
	if err != nil {
		return nil, nil, err
	}
	total.attach = att.Attach
	for _, g := range att.Groups {
		get(g.Key).attach = g.Attach
	}
	if by == "" {
		groups = nil
	}
	return total, groups, nil
}

// merge adds the counts of answers of a survey group to s (survey's "none"
// and a channel or store named "" both map to the empty key). Percentages
// are recomputed by measureSections from the counts.
func merge(s *survey.Scores, g survey.Scores) {
	if s.NPS.Responses == 0 && s.CSAT.Responses == 0 {
		*s = g
		return
	}
	s.NPS.Responses += g.NPS.Responses
	s.NPS.Promoters += g.NPS.Promoters
	s.NPS.Passives += g.NPS.Passives
	s.NPS.Detractors += g.NPS.Detractors
	s.NPS.NPS = nil
	s.CSAT.Responses += g.CSAT.Responses
	s.CSAT.Satisfied += g.CSAT.Satisfied
	for i := range s.CSAT.Scores {
		s.CSAT.Scores[i] += g.CSAT.Scores[i]
	}
	s.CSAT.Average = nil
}

// measureSections turns the measures of a group in a period and the
// previous one into KPIs; a section the breakdown does not split is nil.
func measureSections(a, b *measures, s support, currency string) (nps, care, conversion, upselling []KPI) {
	if a == nil {
		a = &measures{}
	}
	if b == nil {
		b = &measures{}
	}
	share := func(x, y int64) *float64 {
		if y == 0 {
			return nil
		}
		v := float64(x) / float64(y)
		return &v
	}
	count := func(n int64) *float64 { v := float64(n); return &v }
	k := func(d definition, v, p *float64) KPI { return newKPI(d, v, p, currency) }
	if s.nps {
		x, y := a.scores.NPS, b.scores.NPS
		npsOf := func(n survey.NPSScores) *float64 {
			if n.Responses == 0 {
				return nil
			}
			v := math.Round(1000*float64(n.Promoters-n.Detractors)/float64(n.Responses)) / 10
			return &v
		}
		nps = []KPI{
			k(defNPS, npsOf(x), npsOf(y)),
			k(defPromoters, share(int64(x.Promoters), int64(x.Responses)), share(int64(y.Promoters), int64(y.Responses))),
			k(defPassives, share(int64(x.Passives), int64(x.Responses)), share(int64(y.Passives), int64(y.Responses))),
			k(defDetractors, share(int64(x.Detractors), int64(x.Responses)), share(int64(y.Detractors), int64(y.Responses))),
			k(defNPSResponses, count(int64(x.Responses)), count(int64(y.Responses))),
		}
		c, d := a.scores.CSAT, b.scores.CSAT
		if c.Responses > 0 || d.Responses > 0 {
			avg := func(s survey.CSATScores) *float64 {
				if s.Responses == 0 {
					return nil
				}
				sum := 0
				for i, n := range s.Scores {
					sum += (i + 1) * n
				}
				v := float64(sum) / float64(s.Responses)
				return &v
			}
			nps = append(nps,
				k(defCSAT, share(int64(c.Satisfied), int64(c.Responses)), share(int64(d.Satisfied), int64(d.Responses))),
				k(defCSATAverage, avg(c), avg(d)),
				k(defCSATResponses, count(int64(c.Responses)), count(int64(d.Responses))))
		}
	}
	if s.care {
		x, y := a.care, b.care
		care = []KPI{
			k(defFirstResponseMedian, x.FirstResponseMedian, y.FirstResponseMedian),
			k(defFirstResponseP90, x.FirstResponseP90, y.FirstResponseP90),
			k(defResolutionMedian, x.ResolutionMedian, y.ResolutionMedian),
			k(defResolutionP90, x.ResolutionP90, y.ResolutionP90),
			k(defTickets, count(int64(x.Tickets)), count(int64(y.Tickets))),
		}
	}
	if s.funnel {
		x, y := a.conv, b.conv
		conversion = []KPI{
			k(defCheckoutConversion, share(x.CheckoutsConverted, x.Checkouts), share(y.CheckoutsConverted, y.Checkouts)),
			k(defCheckouts, count(x.Checkouts), count(y.Checkouts)),
			k(defSessionConversion, share(x.SessionsConverted, x.Sessions), share(y.SessionsConverted, y.Sessions)),
			k(defSessions, count(x.Sessions), count(y.Sessions)),
		}
		u, w := a.attach, b.attach
		upselling = []KPI{
			k(defCrossSellOrders, share(u.CrossSellOrders, u.Orders), share(w.CrossSellOrders, w.Orders)),
			k(defUpsellOrders, share(u.UpsellOrders, u.Orders), share(w.UpsellOrders, w.Orders)),
			k(defAttachOrders, share(u.AttachOrders, u.Orders), share(w.AttachOrders, w.Orders)),
			k(defCrossSellRevenue, share(u.CrossSellRevenue.Minor, u.Revenue.Minor), share(w.CrossSellRevenue.Minor, w.Revenue.Minor)),
			k(defUpsellRevenue, share(u.UpsellRevenue.Minor, u.Revenue.Minor), share(w.UpsellRevenue.Minor, w.Revenue.Minor)),
			k(defAttachRevenue, share(u.CrossSellRevenue.Minor+u.UpsellRevenue.Minor, u.Revenue.Minor),
				share(w.CrossSellRevenue.Minor+w.UpsellRevenue.Minor, w.Revenue.Minor)),
		}
	}
	return nps, care, conversion, upselling
}

// newKPI is a KPI with its value, previous value and change, each rounded
// as its unit is shown: money to the currency's minor unit, counts to
// whole numbers, minutes and points to one decimal (as the packages that
// compute them round), average scores to two, ratios and years to ten
// decimals (no float noise, no lost precision).
func newKPI(d definition, v, p *float64, currency string) KPI {
	round := func(x float64) float64 {
		switch d.unit {
		case UnitMoney:
			return roundDigits(x, order.Digits(currency))
		case UnitCount:
			return math.Round(x)
		case UnitMinutes, UnitPoints:
			return roundDigits(x, 1)
		case UnitScore:
			return roundDigits(x, 2)
		}
		return roundDigits(x, 10)
	}
	rounded := func(x *float64) *float64 {
		if x == nil {
			return nil
		}
		r := round(*x)
		return &r
	}
	k := KPI{Key: d.key, Label: d.label, Unit: d.unit, Value: rounded(v), Previous: rounded(p), Definition: d.text}
	if k.Value != nil && k.Previous != nil {
		c := round(*k.Value - *k.Previous)
		k.Change = &c
		if *k.Previous != 0 {
			// From the figures as shown, but for ratios and years from the
			// exact ones, so their rounding does not leak into the change
			// ratio.
			x, y := *k.Value, *k.Previous
			if d.unit == UnitRatio || d.unit == UnitYears {
				x, y = *v, *p
			}
			r := roundDigits((x-y)/math.Abs(y), 10)
			k.ChangePct = &r
		}
	}
	return k
}

// roundDigits rounds x to n decimals, halves away from zero.
func roundDigits(x float64, n int) float64 {
	p := math.Pow10(n)
	r := math.Round(x*p) / p
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return x
	}
	return r
}
