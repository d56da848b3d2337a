package main

import (
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
)

func TestReportFormatMinutes(t *testing.T) {
	for m, want := range map[float64]string{0: "0.0 min", 7.46: "7.5 min", 42.4: "42 min", 60: "1 h", 135: "2 h 15 min",
		1439.4: "23 h 59 min", 1440: "1 d", 1440*3 + 4*60 + 10: "3 d 4 h", -135: "-2 h 15 min"} {
		if got := formatMinutes(m); got != want {
			t.Errorf("formatMinutes(%v) = %q, want %q", m, got, want)
		}
	}
}

// The report prints the NPS, care, conversion and upselling sections
// readably: NPS signed, minutes as hours and minutes, shares as percentages.
func TestReportSections(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	o := kpi.Overview{From: "2025-02-01", To: "2025-02-28", Days: 28, PreviousFrom: "2025-01-04", PreviousTo: "2025-01-31", Currency: "EUR",
		NPS: []kpi.KPI{{Key: "nps", Label: "NPS", Unit: kpi.UnitPoints, Value: f(25), Previous: f(-3.5), Change: f(28.5), Definition: "d"}},
		Care: []kpi.KPI{{Key: "first_response_median", Label: "First response, median", Unit: kpi.UnitMinutes, Value: f(135), Previous: f(150),
			Change: f(-15), ChangePct: f(-0.1), Definition: "d"}},
		Conversion: []kpi.KPI{{Key: "checkout_conversion", Label: "Checkout conversion", Unit: kpi.UnitRatio, Value: f(0.5), Previous: f(0.4),
			Change: f(0.1), ChangePct: f(0.25), Definition: "d"}},
		Upselling: []kpi.KPI{{Key: "attach_order_share", Label: "Attach order share", Unit: kpi.UnitRatio, Value: nil, Previous: f(0.125), Definition: "d"}},
		By:        kpi.ByChannel,
		Breakdown: []kpi.Row{{Key: "whatsapp", Care: []kpi.KPI{{Key: "first_response_median", Unit: kpi.UnitMinutes, Value: f(10)}}}},
	}
	var b strings.Builder
	printOverview(&b, o, false)
	out := b.String()
	for _, want := range []string{"NPS", "+25.0", "-3.5", "+28.5 pts", "CARE", "2 h 15 min", "2 h 30 min", "-15 min",
		"CONVERSION", "50.0 %", "40.0 %", "+10.0 pt", "UPSELLING", "12.5 %", "whatsapp", "10 min"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
