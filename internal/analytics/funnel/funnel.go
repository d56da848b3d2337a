package funnel

import (
	"strconv"
	"strings"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// kind maps an event name to the funnel step it records ("" for none).
func kind(name string) string {
	switch name {
	case "Product Viewed", "Viewed Product":
		return "view"
	case "Checkout Started", "Started Checkout":
		return "checkout"
	case "Product Added", "Added Product":
		return "add"
	case order.Completed:
		return "order"
	}
	return ""
}

// Marks on a line.
const (
	Cross  = "cross"
	Upsell = "upsell"
)

func truthy(v jsontext.Value) bool {
	switch v.Kind() {
	case 't':
		return true
	case '"':
		s, _ := event.AsString(v)
		s = strings.ToLower(strings.TrimSpace(s))
		return s == "true" || s == "yes" || s == "1"
	case '0':
		return string(v) == "1"
	}
	return false
}

// marks reads whether a product was added from a recommendation (cross) or as
// an upgrade (upsell).
func marks(p event.Object) (cross, upsell bool) {
	from, _ := p.String("added_from")
	from = strings.ToLower(strings.TrimSpace(from))
	cross = truthy(p["recommended"]) || truthy(p["cross_sell"]) || from == "recommendation" || from == "cross_sell"
	upsell = truthy(p["upsell"]) || truthy(p["upgrade"]) || from == "upsell" || from == "upgrade"
	return cross, upsell
}

// productKey is product_id, else sku.
func productKey(p event.Object) string {
	if id, _ := p.String("product_id"); strings.TrimSpace(id) != "" {
		return strings.TrimSpace(id)
	}
	sku, _ := p.String("sku")
	return strings.TrimSpace(sku)
}

// line is an order line as the funnel sees it.
type line struct {
	product       string
	minor         int64 // price × quantity
	cross, upsell bool
}

// lines reads the products of an Order Completed event; ok is false when the
// event does not describe a usable order (the order package records why).
func lines(b event.Body, baseCurrency string) (id string, ls []line, ok bool) {
	p := b.Properties
	id, _ = p.String("order_id")
	if id = strings.TrimSpace(id); id == "" || len(id) > 255 {
		return "", nil, false
	}
	currency := baseCurrency
	if c, ok := p.String("currency"); ok {
		currency = strings.ToUpper(strings.TrimSpace(c))
	}
	v := p["products"]
	if v.Kind() != '[' {
		return id, nil, true
	}
	var raw []jsontext.Value
	if json.Unmarshal(v, &raw) != nil {
		return "", nil, false
	}
	for _, r := range raw {
		it := event.AsObject(r)
		if it == nil {
			continue
		}
		var price int64
		if pv, ok := it["price"]; ok && pv.Kind() != 'n' {
			m, err := order.ParseMoney(pv, currency)
			if err != nil {
				return "", nil, false
			}
			price = m
		}
		qty := int64(1)
		if q, ok := it.String("quantity"); ok {
			n, err := strconv.ParseInt(q, 10, 64)
			if err != nil || n < 0 || n > 1e6 {
				return "", nil, false
			}
			qty = n
		}
		l := line{product: productKey(it), minor: price * qty}
		l.cross, l.upsell = marks(it)
		ls = append(ls, l)
	}
	return id, ls, true
}
