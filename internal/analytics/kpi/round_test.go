package kpi

import "testing"

// Changes carry no float noise: money to the cent, ratios to ten decimals,
// minutes and points to one.
func TestKPIRounding(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		d            definition
		v, p         float64
		value, chg   float64
		changeRatio  float64
		currencyCode string
	}{
		{defRevenue, 1.1, 2.2, 1.1, -1.1, -0.5, "EUR"},
		{defRevenue, 215601.3, 323401.95, 215601.3, -107800.65, -0.3333333333, "EUR"},
		{defRevenue, 1234.4, 1000, 1234, 234, 0.234, "JPY"},
		{defChurn, 0.3, 0.1, 0.3, 0.2, 2, "EUR"},
		{defChurn, 1.0 / 3, 0.5, 0.3333333333, -0.1666666667, -0.3333333333, "EUR"},
		{defChurn, 43.0 / 87, 30.0 / 87, 0.4942528736, 0.1494252874, 0.4333333333, "EUR"},
		{defFirstResponseMedian, 30.3, 60.1, 30.3, -29.8, -0.4958402662, "EUR"},
		{defNPS, 12.3, -4.1, 12.3, 16.4, 4, "EUR"},
	} {
		k := newKPI(c.d, f(c.v), f(c.p), c.currencyCode)
		if *k.Value != c.value || *k.Change != c.chg || *k.ChangePct != c.changeRatio {
			t.Errorf("%s %v − %v: value %v change %v ratio %v, want %v %v %v", c.d.key, c.v, c.p, *k.Value, *k.Change, *k.ChangePct, c.value, c.chg, c.changeRatio)
		}
	}
	if k := newKPI(defRevenue, f(1), nil, "EUR"); k.Change != nil || k.ChangePct != nil {
		t.Errorf("no previous: %+v", k)
	}
}
