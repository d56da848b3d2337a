package order

import (
	"testing"

	"github.com/bottega-crm/bottega/internal/event"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in       string
		currency string
		want     int64
		bad      bool
	}{
		{"49.90", "EUR", 4990, false},
		{"49.9", "EUR", 4990, false},
		{"0.005", "EUR", 1, false},   // half away from zero
		{"-0.005", "EUR", -1, false}, // half away from zero
		{"0.0049", "EUR", 0, false},
		{"4.99e1", "EUR", 4990, false},
		{"1200", "JPY", 1200, false},
		{"1.2345", "KWD", 1235, false},
		{"19.999", "EUR", 2000, false},
		{"12345678901234567891", "EUR", 0, true},
		{"1e400", "EUR", 0, true},
		{"abc", "EUR", 0, true},
		{"", "EUR", 0, true},
		{"49,90", "EUR", 0, true},
	} {
		got, err := ParseAmount(tc.in, tc.currency)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d, bad %v", tc.in, tc.currency, got, err, tc.want, tc.bad)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		v        int64
		currency string
		want     string
	}{{4990, "EUR", "49.90"}, {-5, "EUR", "-0.05"}, {1200, "JPY", "1200"}, {1235, "KWD", "1.235"}, {0, "EUR", "0.00"}} {
		if got := FormatMinor(tc.v, tc.currency); got != tc.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", tc.v, tc.currency, got, tc.want)
		}
	}
}

func body(t *testing.T, payload string) event.Body {
	t.Helper()
	b, err := event.DecodeBody([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFromEvent(t *testing.T) {
	o, err := FromEvent(body(t, `{"context":{"channel":"pos","campaign":{"name":"saldi"}},"properties":{
		"order_id": 1001, "revenue": "40.00", "shipping": 5, "tax": "8.80", "coupon": "WELCOME10", "store_id": "roma-prati",
		"products": [{"product_id":"p1","sku":"S1","name":"Maglia","category":"Donna","price":"19.95","quantity":2,"color":"blu"},{"product_id":"p2","price":10}],
		"gift": true}}`), "web", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "1001" || o.Channel != "pos" || o.StoreID != "roma-prati" || o.Currency != "EUR" || o.Campaign != "saldi" || o.Coupon != "WELCOME10" {
		t.Fatalf("order %+v", o)
	}
	if o.TotalMinor != nil || *o.RevenueMinor != 4000 || o.ValueMinor != 4000 || *o.ShippingMinor != 500 || *o.TaxMinor != 880 {
		t.Fatalf("money: value %d", o.ValueMinor)
	}
	if len(o.Items) != 2 || o.Items[0].PriceMinor != 1995 || o.Items[0].Quantity != 2 || o.Items[1].Quantity != 1 || o.Items[0].Properties != `{"color":"blu"}` {
		t.Fatalf("items %+v", o.Items)
	}
	if o.Properties != `{"gift":true}` {
		t.Fatalf("extras %s", o.Properties)
	}
	// Without total or revenue the value is the sum of the items.
	o, err = FromEvent(body(t, `{"properties":{"order_id":"x","currency":"jpy","products":[{"price":1500,"quantity":3}]}}`), "app", "EUR")
	if err != nil || o.ValueMinor != 4500 || o.Currency != "JPY" || o.Channel != "app" {
		t.Fatalf("order %+v, err %v", o, err)
	}
	for _, bad := range []string{
		`{"properties":{"total":10}}`,
		`{"properties":{"order_id":" ","total":10}}`,
		`{"properties":{"order_id":"x","total":"ten"}}`,
		`{"properties":{"order_id":"x","currency":"EURO"}}`,
		`{"properties":{"order_id":"x","products":[{"quantity":1.5}]}}`,
	} {
		if _, err := FromEvent(body(t, bad), "web", "EUR"); err == nil {
			t.Errorf("FromEvent(%s) accepted", bad)
		}
	}
}
