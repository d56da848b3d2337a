// Package order records orders from every channel (web shop, app, store
// tills) and keeps per-customer purchase statistics.
//
// Orders come from the Segment eCommerce v2 events Order Completed, Order
// Updated, Order Cancelled and Order Refunded, with their line items. Money is
// integer minor units of the order's currency, parsed from the decimal text
// as sent (no float rounding).
//
// Guarantees:
//   - An order is keyed by its order_id: a repeated Order Completed updates the
//     order and never counts it twice.
//   - Events may arrive in any order: a refund or cancellation seen before the
//     order itself is applied when the order arrives.
//   - A customer's statistics (orders, revenue net of refunds, refunds, first
//     and last order) cover all merged profiles of that customer, count only
//     completed, uncancelled orders, sum money in the shop's base currency,
//     and always equal what the orders table says.
package order

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/bottega-crm/bottega/internal/event"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Event names that touch orders.
const (
	Completed = "Order Completed"
	Updated   = "Order Updated"
	Cancelled = "Order Cancelled"
	Refunded  = "Order Refunded"
)

// Touches reports whether a track event of this name concerns an order.
func Touches(name string) bool {
	switch name {
	case Completed, Updated, Cancelled, Refunded:
		return true
	}
	return false
}

// Item is one line of an order.
type Item struct {
	Line       int    `json:"line"`
	ProductID  string `json:"product_id"`
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	Brand      string `json:"brand"`
	Variant    string `json:"variant"`
	PriceMinor int64  `json:"price_minor"`
	Quantity   int64  `json:"quantity"`
	Coupon     string `json:"coupon"`
	Properties string `json:"-"` // other properties, JSON
}

// Order is an order as read from an event.
type Order struct {
	ID            string
	Channel       string
	StoreID       string
	Currency      string
	ValueMinor    int64
	TotalMinor    *int64
	RevenueMinor  *int64
	ShippingMinor *int64
	TaxMinor      *int64
	DiscountMinor *int64
	Coupon        string
	Campaign      string
	Items         []Item
	Properties    string // other order properties, JSON
}

// minorDigits is the number of decimals of currencies that do not have two.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// Digits returns how many decimals a currency's minor unit has.
func Digits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// ValidCurrency reports whether c looks like an ISO 4217 code.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// ParseMoney reads an amount (a JSON number or numeric string, "49.90",
// "4.99e1") as minor units of currency, rounding half away from zero.
func ParseMoney(v jsontext.Value, currency string) (int64, error) {
	s, ok := event.AsString(v)
	if !ok {
		return 0, fmt.Errorf("amount %s is not a number", clipValue(v))
	}
	return ParseAmount(s, currency)
}

// ParseAmount reads decimal text as minor units of currency.
func ParseAmount(s, currency string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, fmt.Errorf("amount %q is not a number", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("amount %q is not a number", s)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(Digits(currency))), nil)
	r.Mul(r, new(big.Rat).SetInt(scale))
	// Round half away from zero.
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() || q.Int64() > 1e15 || q.Int64() < -1e15 {
		return 0, fmt.Errorf("amount %q is out of range", s)
	}
	return q.Int64(), nil
}

// FormatMinor writes minor units as a decimal amount ("1234.50").
func FormatMinor(v int64, currency string) string {
	d := Digits(currency)
	if d == 0 {
		return fmt.Sprint(v)
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	p := int64(1)
	for range d {
		p *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", sign, v/p, d, v%p)
}

func clipValue(v jsontext.Value) string {
	if len(v) > 40 {
		return string(v[:40]) + "…"
	}
	return string(v)
}

// orderKeys are the properties an Order reads; the rest are kept as extras.
var orderKeys = map[string]bool{
	"order_id": true, "total": true, "revenue": true, "shipping": true, "tax": true, "discount": true,
	"coupon": true, "currency": true, "products": true, "store_id": true, "channel": true,
}

var itemKeys = map[string]bool{
	"product_id": true, "sku": true, "name": true, "category": true, "brand": true, "variant": true,
	"price": true, "quantity": true, "coupon": true,
}

// FromEvent reads the order an order event describes. baseCurrency is used
// when the event names none.
func FromEvent(b event.Body, sourceChannel, baseCurrency string) (Order, error) {
	p := b.Properties
	id, ok := p.String("order_id")
	id = strings.TrimSpace(id)
	if !ok || id == "" {
		return Order{}, fmt.Errorf("the event has no order_id")
	}
	if len(id) > 255 {
		return Order{}, fmt.Errorf("order_id is longer than 255 bytes")
	}
	o := Order{ID: id, Channel: b.Channel(sourceChannel), Currency: baseCurrency}
	if c, ok := p.String("currency"); ok {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !ValidCurrency(c) {
			return Order{}, fmt.Errorf("currency %q is not an ISO 4217 code", c)
		}
		o.Currency = c
	}
	o.StoreID, _ = p.String("store_id")
	o.Coupon, _ = p.String("coupon")
	o.Campaign, _ = b.Context.Object("campaign").String("name")
	for name, dst := range map[string]**int64{"total": &o.TotalMinor, "revenue": &o.RevenueMinor, "shipping": &o.ShippingMinor, "tax": &o.TaxMinor, "discount": &o.DiscountMinor} {
		v, ok := p[name]
		if !ok || v.Kind() == 'n' {
			continue
		}
		m, err := ParseMoney(v, o.Currency)
		if err != nil {
			return Order{}, fmt.Errorf("%s: %v", name, err)
		}
		*dst = &m
	}
	items, err := readItems(p["products"], o.Currency)
	if err != nil {
		return Order{}, err
	}
	o.Items = items
	switch {
	case o.TotalMinor != nil:
		o.ValueMinor = *o.TotalMinor
	case o.RevenueMinor != nil:
		o.ValueMinor = *o.RevenueMinor
	default:
		for _, it := range items {
			o.ValueMinor += it.PriceMinor * it.Quantity
		}
	}
	o.Properties = extras(p, orderKeys)
	return o, nil
}

func readItems(v jsontext.Value, currency string) ([]Item, error) {
	if v.Kind() != '[' {
		return nil, nil
	}
	var raw []jsontext.Value
	if err := jsonv2.Unmarshal(v, &raw); err != nil {
		return nil, fmt.Errorf("products: %v", err)
	}
	var items []Item
	for i, r := range raw {
		p := event.AsObject(r)
		if p == nil {
			continue
		}
		it := Item{Line: i + 1, Quantity: 1}
		it.ProductID, _ = p.String("product_id")
		it.SKU, _ = p.String("sku")
		it.Name, _ = p.String("name")
		it.Category, _ = p.String("category")
		it.Brand, _ = p.String("brand")
		it.Variant, _ = p.String("variant")
		it.Coupon, _ = p.String("coupon")
		if pv, ok := p["price"]; ok && pv.Kind() != 'n' {
			m, err := ParseMoney(pv, currency)
			if err != nil {
				return nil, fmt.Errorf("products[%d].price: %v", i, err)
			}
			it.PriceMinor = m
		}
		if q, ok := p.String("quantity"); ok {
			n, err := strconv.ParseInt(q, 10, 64)
			if err != nil || n < 0 || n > 1e6 {
				return nil, fmt.Errorf("products[%d].quantity %q is not a whole number", i, q)
			}
			it.Quantity = n
		}
		it.Properties = extras(p, itemKeys)
		items = append(items, it)
	}
	return items, nil
}

// extras returns the members of o not in known, as a JSON object.
func extras(o event.Object, known map[string]bool) string {
	rest := event.Object{}
	for k, v := range o {
		if !known[k] {
			rest[k] = v
		}
	}
	b, err := jsonv2.Marshal(rest, jsonv2.Deterministic(true))
	if err != nil {
		return "{}"
	}
	return string(b)
}

// RefundAmount reads the amount an Order Refunded event gives back, in the
// event's currency (currency when it names none): total or revenue, else the
// sum of its products; nil means the whole order.
func RefundAmount(b event.Body, currency string) (*int64, string, error) {
	p := b.Properties
	if c, ok := p.String("currency"); ok {
		if c = strings.ToUpper(strings.TrimSpace(c)); !ValidCurrency(c) {
			return nil, "", fmt.Errorf("currency %q is not an ISO 4217 code", c)
		}
		currency = c
	}
	for _, name := range []string{"total", "revenue"} {
		if v, ok := p[name]; ok && v.Kind() != 'n' {
			m, err := ParseMoney(v, currency)
			if err != nil {
				return nil, "", fmt.Errorf("%s: %v", name, err)
			}
			if m < 0 {
				m = -m // some shops send refunds as negative amounts
			}
			return &m, currency, nil
		}
	}
	items, err := readItems(p["products"], currency)
	if err != nil || len(items) == 0 {
		return nil, currency, err
	}
	var sum int64
	for _, it := range items {
		sum += it.PriceMinor * it.Quantity
	}
	return &sum, currency, nil
}
