package funnel

import (
	"testing"

	"github.com/bottega-crm/bottega/internal/event"
)

func TestLines(t *testing.T) {
	b, err := event.DecodeBody([]byte(`{"properties":{"order_id":"W1","currency":"eur","products":[
		{"product_id":"p1","price":"19.90","quantity":2},
		{"sku":"S-2","price":5,"recommended":true},
		{"product_id":"p3","price":1.5,"quantity":"3","upgrade":"true"},
		{"product_id":"p4","price":1,"added_from":"recommendation","upsell":true},
		{"product_id":"p5","cross_sell":1}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	id, ls, ok := lines(b, "USD")
	want := []line{{"p1", 3980, false, false}, {"S-2", 500, true, false}, {"p3", 450, false, true}, {"p4", 100, true, true}, {"p5", 0, true, false}}
	if !ok || id != "W1" || len(ls) != len(want) {
		t.Fatalf("%v %v %v", id, ls, ok)
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, ls[i], want[i])
		}
	}
	for _, bad := range []string{`{"total":1}`, `{"order_id":"X","products":[{"price":"abc"}]}`, `{"order_id":"X","products":[{"quantity":1.5}]}`} {
		b, _ := event.DecodeBody([]byte(`{"properties":` + bad + `}`))
		if _, _, ok := lines(b, "EUR"); ok {
			t.Errorf("%s is read as an order", bad)
		}
	}
}
