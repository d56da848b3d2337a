package csvimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func testOptions(kind Kind) Options {
	return Options{Kind: kind, SourceID: "src", SourceChannel: "web", PhoneRegion: "IT", Now: func() time.Time { return testNow }}
}

// convert reads a whole file through the reader and the converter, as Run
// does, and returns its units (fatal errors stop it).
func convert(t *testing.T, data string, o Options) ([]*unit, *columns, error) {
	t.Helper()
	if err := o.defaults(); err != nil {
		return nil, nil, err
	}
	rd, err := newReader(strings.NewReader(data), &o)
	if err != nil {
		return nil, nil, err
	}
	cols, err := mapColumns(o.Kind, rd.header, o.Map)
	if err != nil {
		return nil, nil, err
	}
	rules := identity.DefaultRules(o.PhoneRegion)
	conv := newConverter(o.Kind, cols, &rules, &o, event.DefaultLimits().MaxEventBytes)
	var units []*unit
	for {
		line, rec, problem, err := rd.next()
		if err == io.EOF {
			return append(units, conv.end()...), cols, nil
		}
		if err != nil {
			return units, cols, err
		}
		if problem == "" && blank(rec) {
			continue
		}
		units = append(units, conv.row(line, rec, problem)...)
	}
}

func mustConvert(t *testing.T, data string, o Options) []*unit {
	t.Helper()
	units, _, err := convert(t, data, o)
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	return units
}

// ev decodes an event for assertions.
type ev map[string]any

func decode(t *testing.T, b []byte) ev {
	t.Helper()
	var m ev
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("event %s: %v", b, err)
	}
	return m
}

// get follows a path of member names and array indexes ("properties.products.0.price").
func (e ev) get(path string) any {
	var cur any = map[string]any(e)
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := 0
			for _, r := range p {
				i = i*10 + int(r-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	if n, ok := cur.(json.Number); ok {
		return n.String()
	}
	return cur
}

func expect(t *testing.T, e ev, want map[string]any) {
	t.Helper()
	for path, w := range want {
		if got := e.get(path); got != w {
			t.Errorf("%s = %#v; want %#v", path, got, w)
		}
	}
}

func TestOrdersGrouping(t *testing.T) {
	data := "order_id,date,email,total,sku,price,quantity\n" +
		"1001,2024-03-05,a@example.com,\"12,50\",S1,\"2,50\",3\n" +
		"1001,,,,S2,5,1\n" +
		"1002,2024-03-06,b@example.com,7,S3,7,\n" +
		"1003,2024-03-07,c@example.com,1,,,\n"
	units := mustConvert(t, data, testOptions(Orders))
	if len(units) != 3 {
		t.Fatalf("got %d units; want 3", len(units))
	}
	for i, want := range []struct{ first, last, items int }{{2, 3, 2}, {4, 4, 1}, {5, 5, 0}} {
		u := units[i]
		if u.reason != "" || u.first != want.first || u.last != want.last || len(u.events) != 1 {
			t.Fatalf("unit %d = lines %d-%d, %d events, %q; want lines %d-%d", i, u.first, u.last, len(u.events), u.reason, want.first, want.last)
		}
		e := decode(t, u.events[0])
		products, _ := e.get("properties.products").([]any)
		if len(products) != want.items {
			t.Errorf("order %d has %d products; want %d", i, len(products), want.items)
		}
	}
	first := decode(t, units[0].events[0])
	expect(t, first, map[string]any{
		"type": "track", "event": "Order Completed", "timestamp": "2024-03-05T00:00:00.000Z",
		"properties.order_id": "1001", "properties.total": "12.5",
		"properties.products.0.sku": "S1", "properties.products.0.price": "2.5", "properties.products.0.quantity": "3",
		"properties.products.1.sku": "S2", "properties.products.1.price": "5", "properties.products.1.quantity": "1",
		"context.channel": "web", "context.traits.email": "a@example.com", "context.library.name": "bottega-import",
	})
	if id, _ := first.get("anonymousId").(string); !strings.HasPrefix(id, "import-") || first.get("userId") != nil {
		t.Errorf("an e-mail-only customer gets an import- anonymousId and no userId: %v / %v", first.get("anonymousId"), first.get("userId"))
	}
	if id, _ := first.get("messageId").(string); !strings.HasPrefix(id, "import-") || len(id) != len("import-")+32 {
		t.Errorf("messageId = %q", id)
	}
}

// Rejections of orders: each names its lines and its reason, and good orders
// around them are kept.
func TestOrdersRejected(t *testing.T) {
	header := "order_id,date,customer_id,email,total,currency,status,sku,price,quantity\n"
	for _, tc := range []struct {
		name   string
		rows   string
		ok     []string // order ids imported, in order
		reject []string // "first-last: reason fragment"
	}{
		{"reappearing order", "1,2024-01-01,c1,,10,EUR,,S,10,1\n2,2024-01-02,c1,,5,EUR,,S,5,1\n1,2024-01-03,c1,,10,EUR,,S,10,1\n1,2024-01-03,c1,,10,EUR,,S,10,1\n",
			[]string{"1", "2"}, []string{`4-5: order "1" already appeared at line 2; the rows of one order must be consecutive`}},
		{"conflicting totals", "1,2024-01-01,c1,,10,EUR,,S,5,1\n1,2024-01-01,c1,,11,EUR,,S,5,1\n2,2024-01-02,c1,,5,EUR,,S,5,1\n",
			[]string{"2"}, []string{`2-3: the order is rejected because of line 3: total "11" differs from "10" on line 2`}},
		{"same total written differently", "1,2024-01-01,c1,,\"10,00\",EUR,,S,5,1\n1,2024-01-01,c1,,10.0,EUR,,S,5,1\n", []string{"1"}, nil},
		{"bad amount", "1,2024-01-01,c1,,ten,EUR,,S,5,1\n", nil, []string{`2-2: total: amount "ten" is not a number`}},
		{"bad price on a continuation row", "1,2024-01-01,c1,,10,EUR,,S,5,1\n1,,,,,,,T,\"5,0,0\",1\n", nil, []string{`2-3: the order is rejected because of line 3: price: amount "5,0,0"`}},
		{"bad quantity", "1,2024-01-01,c1,,10,EUR,,S,5,two\n", nil, []string{`2-2: quantity "two" is not a whole number`}},
		{"bad date", "1,30/02/2024,c1,,10,EUR,,S,10,1\n", nil, []string{`2-2: order_date: date "30/02/2024" is not a date`}},
		{"future date", "1,2027-01-01,c1,,10,EUR,,S,10,1\n", nil, []string{`2-2: order_date: date "2027-01-01" is in the future`}},
		{"ancient date", "1,1850-01-01,c1,,10,EUR,,S,10,1\n", nil, []string{`before 1900`}},
		{"no date", "1,,c1,,10,EUR,,S,10,1\n", nil, []string{`2-2: order "1" has no date`}},
		{"no customer", "1,2024-01-01,,,10,EUR,,S,10,1\n", nil, []string{`2-2: the order has no customer_id, email, phone or loyalty_card`}},
		{"unusable customer", "1,2024-01-01,guest,not-an-email,10,EUR,,S,10,1\n", nil, []string{`no usable customer identifier (customer_id: "guest" is a blocked value; email: "not-an-email" is not an e-mail address)`}},
		{"empty order id", ",2024-01-01,c1,,10,EUR,,S,10,1\n2,2024-01-02,c1,,5,EUR,,S,5,1\n", []string{"2"}, []string{`2-2: the order id (column "order_id") is empty`}},
		{"bad currency", "1,2024-01-01,c1,,10,euro,,S,10,1\n", nil, []string{`currency "euro" is not an ISO 4217 code`}},
		{"unknown status", "1,2024-01-01,c1,,10,EUR,lost,S,10,1\n", nil, []string{`status "lost" is not one bottega knows`}},
		{"wrong column count in an order", "1,2024-01-01,c1,,10,EUR,,S,10,1\n1,2024-01-01,c1\n2,2024-01-02,c1,,5,EUR,,S,5,1\n", []string{"2"}, []string{`2-3: the order is rejected because of line 3: the row has 3 columns; the header has 10`}},
		{"bare quote", "1,2024-01-01,c1,,10,EUR,,S\"x,10,1\n2,2024-01-02,c1,,5,EUR,,S,5,1\n", []string{"2"}, []string{`2-2: a quote (") appears inside an unquoted cell`}},
		{"invalid UTF-8", "1,2024-01-01,c1,,10,EUR,,S\xff,10,1\n2,2024-01-02,c1,,5,EUR,,S,5,1\n", []string{"2"}, []string{`2-2: column "sku" is not valid UTF-8`}},
		{"NUL", "1,2024-01-01,c1,,10,EUR,,S\x00,10,1\n", nil, []string{`column "sku" holds a NUL character`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			units := mustConvert(t, header+tc.rows, testOptions(Orders))
			var ok, rejected []string
			for _, u := range units {
				if u.reason != "" {
					rejected = append(rejected, u.reason)
					if len(u.events) != 0 {
						t.Errorf("a rejected unit has events")
					}
					found := false
					for _, want := range tc.reject {
						var first, last int
						var frag string
						if n, _ := fmtSscan(want, &first, &last, &frag); n == 3 && u.first == first && u.last == last && strings.Contains(u.reason, frag) {
							found = true
						} else if n != 3 && strings.Contains(u.reason, want) {
							found = true
						}
					}
					if !found {
						t.Errorf("unexpected rejection of lines %d-%d: %s", u.first, u.last, u.reason)
					}
					continue
				}
				ok = append(ok, decode(t, u.events[0]).get("properties.order_id").(string))
			}
			if strings.Join(ok, ",") != strings.Join(tc.ok, ",") {
				t.Errorf("imported orders %v; want %v", ok, tc.ok)
			}
			if len(rejected) != len(tc.reject) {
				t.Errorf("rejections %q; want %d", rejected, len(tc.reject))
			}
		})
	}
}

// fmtSscan reads "first-last: fragment".
func fmtSscan(s string, first, last *int, frag *string) (int, error) {
	head, rest, ok := strings.Cut(s, ": ")
	a, b, ok2 := strings.Cut(head, "-")
	if !ok || !ok2 {
		return 0, errors.New("no range")
	}
	for _, x := range []struct {
		s string
		p *int
	}{{a, first}, {b, last}} {
		n := 0
		for _, r := range x.s {
			if r < '0' || r > '9' {
				return 0, errors.New("not a range")
			}
			n = n*10 + int(r-'0')
		}
		*x.p = n
	}
	*frag = rest
	return 3, nil
}

// Statuses, cancellation and refunds give the eCommerce v2 events.
func TestOrderStatusEvents(t *testing.T) {
	header := "order_id,date,customer_id,total,status,cancelled_at,refunded,refunded_at,channel\n"
	for _, tc := range []struct {
		name, row string
		want      []map[string]any
	}{
		{"completed", "1,2024-01-01,c1,10,paid,,,,", []map[string]any{{"event": "Order Completed", "properties.total": "10"}}},
		{"pending", "1,2024-01-01,c1,10,pending,,,,", []map[string]any{{"event": "Order Updated"}}},
		{"cancelled", "1,2024-01-01,c1,10,cancelled,,,,", []map[string]any{
			{"event": "Order Completed"},
			{"event": "Order Cancelled", "timestamp": "2024-01-01T00:00:00.000Z", "properties.order_id": "1", "userId": "c1"}}},
		{"cancelled_at alone", "1,2024-01-01,c1,10,,2024-01-03 10:00,,,", []map[string]any{
			{"event": "Order Completed"}, {"event": "Order Cancelled", "timestamp": "2024-01-03T10:00:00.000Z"}}},
		{"refunded in full", "1,2024-01-01,c1,10,refunded,,,,", []map[string]any{
			{"event": "Order Completed"}, {"event": "Order Refunded", "properties.total": nil, "timestamp": "2024-01-01T00:00:00.000Z"}}},
		{"partial refund", "1,2024-01-01,c1,10,partially_refunded,,\"2,50\",05/01/2024,app", []map[string]any{
			{"event": "Order Completed", "context.channel": "app"},
			{"event": "Order Refunded", "properties.total": "2.5", "timestamp": "2024-01-05T00:00:00.000Z", "context.channel": "app"}}},
		{"zero refund", "1,2024-01-01,c1,10,,,0,,", []map[string]any{{"event": "Order Completed"}}},
		{"yes/no cancelled and refunded", "1,2024-01-01,c1,10,,yes,sì,,", []map[string]any{
			{"event": "Order Completed"}, {"event": "Order Cancelled", "timestamp": "2024-01-01T00:00:00.000Z"},
			{"event": "Order Refunded", "properties.total": nil}}},
		{"no and no", "1,2024-01-01,c1,10,,no,no,,", []map[string]any{{"event": "Order Completed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			units := mustConvert(t, header+tc.row+"\n", testOptions(Orders))
			if len(units) != 1 || units[0].reason != "" {
				t.Fatalf("units = %+v", units)
			}
			if len(units[0].events) != len(tc.want) {
				t.Fatalf("%d events; want %d: %s", len(units[0].events), len(tc.want), units[0].events)
			}
			for i, w := range tc.want {
				expect(t, decode(t, units[0].events[i]), w)
			}
		})
	}
}

// The default channel follows the source, and --channel overrides it.
func TestOrderChannel(t *testing.T) {
	data := "order_id,date,customer_id,total\n1,2024-01-01,c1,10\n"
	for _, tc := range []struct{ source, flag, want string }{
		{"web", "", "web"}, {"pos", "", "pos"}, {"app", "", "app"}, {"import", "", "web"}, {"care", "", "web"}, {"import", "pos", "pos"}, {"pos", "web", "web"},
	} {
		o := testOptions(Orders)
		o.SourceChannel, o.Channel = tc.source, tc.flag
		units := mustConvert(t, data, o)
		if got := decode(t, units[0].events[0]).get("context.channel"); got != tc.want {
			t.Errorf("source %s, --channel %q: channel %v; want %s", tc.source, tc.flag, got, tc.want)
		}
	}
}

// Cells starting with = + - @ are text and reach the events unchanged.
func TestFormulaCellsSurvive(t *testing.T) {
	data := "customer_id,email,phone,name,note,formula,at,minus\n" +
		"c1,a@example.com,+39 333 1234567,\"=HYPERLINK(\"\"http://x\"\")\",\"=1+2\",=cmd|' /C calc'!A0,@SUM(A1),-2+3\n"
	units := mustConvert(t, data, testOptions(Customers))
	if len(units) != 1 || units[0].reason != "" {
		t.Fatalf("units = %+v", units[0])
	}
	expect(t, decode(t, units[0].events[0]), map[string]any{
		"traits.phone": "+39 333 1234567", "traits.name": `=HYPERLINK("http://x")`, "traits.note": "=1+2",
		"traits.formula": "=cmd|' /C calc'!A0", "traits.at": "@SUM(A1)", "traits.minus": "-2+3",
	})
}

func TestCustomers(t *testing.T) {
	units := mustConvert(t, readFixture(t, "customers.csv"), testOptions(Customers))
	byLine := map[int]*unit{}
	for _, u := range units {
		byLine[u.first] = u
	}
	if len(units) != 7 {
		t.Fatalf("%d units; want 7 (the blank row is skipped)", len(units))
	}
	anna := decode(t, byLine[2].events[0])
	expect(t, anna, map[string]any{
		"type": "identify", "userId": "C1", "timestamp": "2023-01-15T00:00:00.000Z",
		"traits.email": "anna@example.com", "traits.phone": "+39 333 1234567", "traits.first_name": "Anna", "traits.last_name": "Rossi",
		"traits.birthday": "1990-03-05", "traits.city": "Milano", "traits.loyalty_card": "CARD-001", "traits.created_at": "2023-01-15T00:00:00.000Z",
		"traits.note": "=1+2", "traits.codice_fiscale": "RSSNNA90C45F205X", "traits.accepts_email_marketing": nil,
		"context.consent.categoryPreferences.marketing": true,
	})
	expect(t, decode(t, byLine[3].events[0]), map[string]any{
		"userId": "C2", "traits.email": "BOB@Example.com", "traits.birthday": "1985-12-01", "timestamp": "2023-02-01T09:00:00.000Z",
		"context.consent.categoryPreferences.marketing": false, "traits.note": "@SUM(1)", "traits.codice_fiscale": nil,
	})
	carla := decode(t, byLine[4].events[0])
	if id, _ := carla.get("anonymousId").(string); !strings.HasPrefix(id, "import-") || carla.get("userId") != nil {
		t.Errorf("carla: anonymousId %v userId %v", carla.get("anonymousId"), carla.get("userId"))
	}
	expect(t, carla, map[string]any{"traits.note": "-5+3", "context.consent.categoryPreferences.marketing": true, "timestamp": "2023-03-15T00:00:00.000Z"})
	// A malformed e-mail beside a usable customer id is kept as a trait; the
	// identity rules drop it as an identifier when the event is processed.
	expect(t, decode(t, byLine[5].events[0]), map[string]any{"userId": "C4", "traits.email": "not-an-email"})
	for line, frag := range map[int]string{
		6: `no usable customer identifier (email: "not-an-email" is not an e-mail address)`,
		7: `birthday: date "31/02/1990" is not a date`,
		8: `marketing_consent: "maybe" is not yes or no`,
	} {
		if u := byLine[line]; u == nil || !strings.Contains(u.reason, frag) {
			t.Errorf("line %d: %+v; want rejection %q", line, u, frag)
		}
	}
}

// The same content gives the same messageId, whatever the file's spelling;
// any change gives a new one.
func TestMessageIDs(t *testing.T) {
	id := func(data string) string {
		units := mustConvert(t, data, testOptions(Orders))
		if len(units) != 1 || units[0].reason != "" {
			t.Fatalf("units %+v", units)
		}
		return decode(t, units[0].events[0]).get("messageId").(string)
	}
	a := id("order_id,date,email,total\n1,2024-01-01,a@example.com,\"10,50\"\n")
	b := id("\ufeffOrder ID;Data;E-mail;Totale\r\n1;01/01/2024;a@example.com;10,50\r\n")
	c := id("order_id,date,email,total\n1,2024-01-01,a@example.com,10.51\n")
	if a != b {
		t.Errorf("the same order spelt differently has messageIds %s and %s", a, b)
	}
	if a == c {
		t.Errorf("a corrected total kept messageId %s", a)
	}
	// Refund and cancellation keys depend only on what they say, so that a
	// corrected order does not refund twice.
	events := func(data string) []ev {
		var out []ev
		for _, e := range mustConvert(t, data, testOptions(Orders))[0].events {
			out = append(out, decode(t, e))
		}
		return out
	}
	x := events("order_id,date,email,total,name,refunded\n1,2024-01-01,a@example.com,10,Shirt,4\n")
	y := events("order_id,date,email,total,name,refunded\n1,2024-01-01,a@example.com,10,Shirt (red),4\n")
	if x[0]["messageId"] == y[0]["messageId"] || x[1]["messageId"] != y[1]["messageId"] {
		t.Errorf("order ids %v %v, refund ids %v %v", x[0]["messageId"], y[0]["messageId"], x[1]["messageId"], y[1]["messageId"])
	}
}

func TestCustomerIDType(t *testing.T) {
	o := testOptions(Customers)
	o.CustomerIDType = "pos_customer_id"
	units := mustConvert(t, "codice cliente,nome\n00042,Anna\n", o)
	e := decode(t, units[0].events[0])
	expect(t, e, map[string]any{
		"userId": nil, "context.externalIds.0.id": "00042", "context.externalIds.0.type": "pos_customer_id",
		"context.externalIds.0.collection": "users", "traits.first_name": "Anna",
	})
	if id, _ := e.get("anonymousId").(string); !strings.HasPrefix(id, "import-") {
		t.Errorf("anonymousId = %v", e.get("anonymousId"))
	}
}

// Whole-file refusals: the import does not start (or stops) with a clear error.
func TestFileRefusals(t *testing.T) {
	long := "customer_id,note\n1,\"" + strings.Repeat("x", 3<<20) + "\"\n"
	unclosed := "customer_id,note\n1,\"open\n" + strings.Repeat("2,more text\n", 200000)
	for _, tc := range []struct {
		name, data string
		kind       Kind
		opts       func(*Options)
		code       fault.Code
		msg        string
	}{
		{"empty", "", Customers, nil, fault.Invalid, "the file is empty"},
		{"UTF-16", "\xff\xfee\x00m\x00", Customers, nil, fault.Invalid, "UTF-16"},
		{"xlsx", "PK\x03\x04rest", Customers, nil, fault.Invalid, "spreadsheet workbook"},
		{"no id column", "name,city\nAnna,Roma\n", Customers, nil, fault.Invalid, "no column identifying the customer"},
		{"no order id", "date,email\n2024-01-01,a@example.com\n", Orders, nil, fault.Invalid, "no order id column"},
		{"no order date", "order_id,email\n1,a@example.com\n", Orders, nil, fault.Invalid, "no order date column"},
		{"ambiguous", "email,E-mail\na@example.com,b@example.com\n", Customers, nil, fault.Invalid, `columns 1 ("email") and 2 ("E-mail") both mean email`},
		{"colliding extras", "email,Foo Bar,foo_bar\na@example.com,1,2\n", Customers, nil, fault.Invalid, `both become "foo_bar"`},
		{"bad map field", "email\na@example.com\n", Customers, func(o *Options) { o.Map = map[string]string{"shoe_size": "email"} }, fault.Invalid, `"shoe_size" is not a field of customers files`},
		{"bad map column", "email\na@example.com\n", Customers, func(o *Options) { o.Map = map[string]string{"email": "Mail"} }, fault.Invalid, `the file has no column "Mail"`},
		{"file too large", "customer_id\n" + strings.Repeat("1\n", 1000), Customers, func(o *Options) { o.MaxFileBytes = 1000 }, fault.TooLarge, "larger than 1000 bytes"},
		{"record too long", long, Customers, nil, fault.TooLarge, "line 2: a record is longer than 1 MiB"},
		{"unclosed quote", unclosed, Customers, nil, fault.TooLarge, "an unclosed quote"},
		{"bad encoding", "email\n", Customers, func(o *Options) { o.Encoding = "ebcdic" }, fault.Invalid, "encoding"},
		{"bad id type", "email\n", Customers, func(o *Options) { o.CustomerIDType = "Anonymous ID" }, fault.Invalid, "lower_snake_case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(tc.kind)
			if tc.opts != nil {
				tc.opts(&o)
			}
			_, _, err := convert(t, tc.data, o)
			if fault.CodeOf(err) != tc.code || !strings.Contains(fault.MessageOf(err), tc.msg) {
				t.Fatalf("error = %v; want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

// Shopify's order export: one row per line item, order-level cells only on
// the first row, the order number in "Name".
func TestShopifyExport(t *testing.T) {
	o := testOptions(Orders)
	o.Map = map[string]string{"order_id": "Name"}
	units, cols, err := convert(t, readFixture(t, "shopify_orders.csv"), o)
	if err != nil {
		t.Fatal(err)
	}
	for f, h := range map[field]string{fOrderID: "Name", fOrderDate: "Created at", fEmail: "Email", fTotal: "Total", fRevenue: "Subtotal",
		fShipping: "Shipping", fTax: "Taxes", fDiscount: "Discount Amount", fCoupon: "Discount Code", fStatus: "Financial Status",
		fCancelledAt: "Cancelled at", fRefunded: "Refunded Amount", fCurrency: "Currency", fStoreID: "Location", fPhone: "Phone",
		fProductName: "Lineitem name", fSKU: "Lineitem sku", fPrice: "Lineitem price", fQuantity: "Lineitem quantity", fBrand: "Vendor"} {
		if i, ok := cols.index[f]; !ok || cols.header[i] != h {
			t.Errorf("field %s is not mapped to %q", f, h)
		}
	}
	if len(units) != 3 {
		t.Fatalf("%d orders; want 3", len(units))
	}
	for _, u := range units {
		if u.reason != "" {
			t.Fatalf("lines %d-%d rejected: %s", u.first, u.last, u.reason)
		}
	}
	first := decode(t, units[0].events[0])
	expect(t, first, map[string]any{
		"event": "Order Completed", "timestamp": "2024-03-05T17:30:12.000Z", "properties.order_id": "#1001",
		"properties.total": "64.9", "properties.revenue": "55", "properties.shipping": "4.9", "properties.tax": "5", "properties.discount": "5",
		"properties.coupon": "SPRING5", "properties.currency": "EUR",
		"properties.products.0.name": "Linen shirt - M", "properties.products.0.sku": "LS-M", "properties.products.0.price": "40",
		"properties.products.0.brand": "Bottega", "properties.products.0.compare_at_price": "45.00",
		"properties.products.1.name": "Socks", "properties.products.1.quantity": "2", "properties.products.1.price": "10",
		"properties.id": "5551001", "properties.tags": "vip, spring", "context.traits.email": "anna@example.com",
	})
	expect(t, decode(t, units[1].events[1]), map[string]any{"event": "Order Refunded", "properties.total": "20", "properties.order_id": "#1002"})
	expect(t, decode(t, units[2].events[1]), map[string]any{"event": "Order Cancelled", "timestamp": "2024-03-08T08:00:00.000Z"})
}

func TestWindows1252(t *testing.T) {
	o := testOptions(Customers)
	o.Encoding = "windows-1252"
	units := mustConvert(t, "email;Citt\xe0;Note\na@example.com;Forl\xec;50\x80\n", o)
	expect(t, decode(t, units[0].events[0]), map[string]any{"traits.city": "Forlì", "traits.note": "50€"})
	// Without the flag the same bytes are refused with a hint.
	_, _, err := convert(t, "email;Citt\xe0\na@example.com;Roma\n", testOptions(Customers))
	if err == nil || !strings.Contains(fault.MessageOf(err), "--encoding windows-1252") {
		t.Errorf("error = %v", err)
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Shopify's customer export maps without flags. The apostrophe it writes
// before numbers is dropped from identifiers and kept elsewhere.
func TestShopifyCustomers(t *testing.T) {
	units, cols, err := convert(t, readFixture(t, "shopify_customers.csv"), testOptions(Customers))
	if err != nil {
		t.Fatal(err)
	}
	for f, h := range map[field]string{fCustomerID: "Customer ID", fFirstName: "First Name", fEmail: "Email", fMarketing: "Accepts Email Marketing",
		fCity: "Default Address City", fPhone: "Phone", fSMS: "Accepts SMS Marketing"} {
		if i, ok := cols.index[f]; !ok || cols.header[i] != h {
			t.Errorf("field %s is not mapped to %q", f, h)
		}
	}
	if len(units) != 2 || units[0].reason != "" || units[1].reason != "" {
		t.Fatalf("units %+v", units)
	}
	expect(t, decode(t, units[0].events[0]), map[string]any{
		"userId": "7001234567890", "traits.city": "Milano", "traits.phone": "+393331234567",
		"traits.default_address_zip": "'20121", "traits.default_address_phone": "'+390212345678",
		"traits.note": "=SUM(1,2)", "traits.tags": "vip, spring", "traits.total_spent": "164.90",
		"context.consent.categoryPreferences.marketing": true, "context.consent.categoryPreferences.sms": false,
	})
}

// An order too large for one event is rejected up front, not quarantined.
func TestOrderTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("order_id,date,email,sku,product_name,price\n")
	for i := range 400 {
		fmt.Fprintf(&b, "1,2024-01-01,a@example.com,SKU-%d,A product with a long descriptive name number %d,9.90\n", i, i)
	}
	b.WriteString("2,2024-01-02,a@example.com,S,Small,1\n")
	units := mustConvert(t, b.String(), testOptions(Orders))
	if len(units) != 2 || !strings.Contains(units[0].reason, `order "1" makes an event of`) || !strings.Contains(units[0].reason, "the limit is 32768 (400 line items)") ||
		units[0].first != 2 || units[0].last != 401 || units[1].reason != "" {
		t.Fatalf("units: %q (lines %d-%d), %q", units[0].reason, units[0].first, units[0].last, units[1].reason)
	}
}
