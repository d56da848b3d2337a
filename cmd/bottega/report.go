package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/order"
)

// ReportCmd prints the KPI overview of a period.
type ReportCmd struct {
	config.Database
	From     string `help:"First day (YYYY-MM-DD; default: 29 days before --to)." placeholder:"DATE"`
	To       string `help:"Last day, inclusive (YYYY-MM-DD; default: today, UTC)." placeholder:"DATE"`
	By       string `help:"Break the figures down." enum:"channel,store,campaign,month," default:""`
	Currency string `help:"The shop's base currency (as bottega serve's --currency)." default:"EUR"`
	Explain  bool   `help:"Print each KPI's definition under the table."`
}

func (c *ReportCmd) Run(env *Env) error {
	now := time.Now()
	to := kpi.DayOf(now)
	if c.To != "" {
		d, err := kpi.ParseDay(c.To)
		if err != nil {
			return fmt.Errorf("--to %q is not a date (YYYY-MM-DD)", c.To)
		}
		to = d
	}
	from := to - 29
	if c.From != "" {
		d, err := kpi.ParseDay(c.From)
		if err != nil {
			return fmt.Errorf("--from %q is not a date (YYYY-MM-DD)", c.From)
		}
		from = d
	}
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	cur := strings.ToUpper(c.Currency)
	o, err := kpi.Compute(env.Ctx, db, kpi.Query{From: from, To: to, By: c.By, BaseCurrency: cur, Now: now})
	if err != nil {
		return err
	}
	printOverview(env.Stdout, o, c.Explain)
	return nil
}

// printOverview writes an overview as terminal tables.
func printOverview(w io.Writer, o kpi.Overview, explain bool) {
	fmt.Fprintf(w, "KPIs %s – %s (%d days) compared with %s – %s · %s · churn window %d days · as of %s\n",
		o.From, o.To, o.Days, o.PreviousFrom, o.PreviousTo, o.Currency, o.ChurnWindowDays, o.AsOf)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	sections := []struct {
		name string
		kpis []kpi.KPI
	}{{"Sales", o.Sales}, {"Customers", o.Customers}, {"Costs", o.Costs}, {"Value", o.Value},
		{"NPS", o.NPS}, {"Care", o.Care}, {"Conversion", o.Conversion}, {"Upselling", o.Upselling}}
	for _, s := range sections {
		if len(s.kpis) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\t\t\t\t\n%s\tthis period\tprevious\tchange\t\n", strings.ToUpper(s.name))
		for _, k := range s.kpis {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", k.Label, formatValue(k.Value, k.Unit, o.Currency), formatValue(k.Previous, k.Unit, o.Currency), formatChange(k))
		}
	}
	tw.Flush()
	if len(o.Breakdown) > 0 {
		fmt.Fprintf(w, "\nBy %s\n", o.By)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		cols := []string{"revenue", "orders", "average_order_value", "active_customers", "new_customers", "repurchase_rate", "churn_rate", "customer_acquisition_cost",
			"nps", "checkout_conversion", "attach_order_share", "first_response_median"}
		fmt.Fprint(tw, strings.ToUpper(o.By)+"\t")
		for _, c := range []string{"revenue", "Δ", "orders", "AOV", "active", "new", "repurchase", "churn", "CAC", "NPS", "checkout", "attach", "1st reply"} {
			fmt.Fprint(tw, c+"\t")
		}
		fmt.Fprintln(tw)
		for _, r := range o.Breakdown {
			all := map[string]kpi.KPI{}
			for _, ks := range [][]kpi.KPI{r.Sales, r.Customers, r.Costs, r.NPS, r.Conversion, r.Upselling, r.Care} {
				for _, k := range ks {
					all[k.Key] = k
				}
			}
			key := r.Key
			if key == "" {
				key = "(none)"
			}
			fmt.Fprint(tw, key+"\t")
			for i, c := range cols {
				k, ok := all[c]
				switch {
				case !ok:
					fmt.Fprint(tw, "–\t")
				default:
					fmt.Fprint(tw, formatValue(k.Value, k.Unit, o.Currency)+"\t")
				}
				if i == 0 {
					fmt.Fprint(tw, formatChange(k)+"\t")
				}
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	if explain {
		fmt.Fprintln(w, "\nDefinitions")
		for _, s := range sections {
			for _, k := range s.kpis {
				fmt.Fprintf(w, "  %s: %s\n", k.Label, k.Definition)
			}
		}
	}
}

func formatValue(v *float64, unit, currency string) string {
	if v == nil {
		return "–"
	}
	switch unit {
	case kpi.UnitMoney:
		return group(order.FormatMinor(int64(math.Round(*v*math.Pow10(order.Digits(currency)))), currency))
	case kpi.UnitRatio:
		return fmt.Sprintf("%.1f %%", *v*100)
	case kpi.UnitYears:
		return fmt.Sprintf("%.2f", *v)
	case kpi.UnitMinutes:
		return formatMinutes(*v)
	case kpi.UnitPoints:
		return fmt.Sprintf("%+.1f", *v)
	case kpi.UnitScore:
		return fmt.Sprintf("%.2f", *v)
	}
	return group(fmt.Sprintf("%.0f", *v))
}

// formatMinutes writes a duration in minutes as people read it: "7.5 min",
// "42 min", "2 h 15 min", "3 d 4 h".
func formatMinutes(m float64) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	if m < 10 {
		return fmt.Sprintf("%s%.1f min", sign, m)
	}
	n := int64(math.Round(m))
	switch {
	case n < 60:
		return fmt.Sprintf("%s%d min", sign, n)
	case n < 24*60:
		if n%60 == 0 {
			return fmt.Sprintf("%s%d h", sign, n/60)
		}
		return fmt.Sprintf("%s%d h %d min", sign, n/60, n%60)
	}
	h := (n + 30) / 60
	if h%24 == 0 {
		return fmt.Sprintf("%s%d d", sign, h/24)
	}
	return fmt.Sprintf("%s%d d %d h", sign, h/24, h%24)
}

func formatChange(k kpi.KPI) string {
	switch {
	case k.Change == nil:
		return "–"
	case k.Unit == kpi.UnitRatio:
		return fmt.Sprintf("%+.1f pt", *k.Change*100)
	case k.Unit == kpi.UnitPoints:
		return fmt.Sprintf("%+.1f pts", *k.Change)
	case k.Unit == kpi.UnitMinutes:
		if *k.Change == 0 {
			return "="
		}
		if *k.Change > 0 {
			return "+" + formatMinutes(*k.Change)
		}
		return formatMinutes(*k.Change)
	case k.ChangePct == nil:
		if *k.Change == 0 {
			return "="
		}
		return "new"
	}
	return fmt.Sprintf("%+.1f %%", *k.ChangePct*100)
}

// group puts thousands separators into a decimal number.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}
