package csvimport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
)

// unit is what one customer row or one order (its consecutive rows) becomes:
// the events to ingest, or the reason it was rejected.
type unit struct {
	first, last int   // line numbers in the file
	lines       []int // of each record
	records     [][]string
	events      [][]byte // event JSON with messageId
	reason      string   // not empty: rejected
	order       bool
}

// converter turns the records of a file into units.
type converter struct {
	kind       Kind
	cols       *columns
	rules      *identity.Rules
	idType     string // identifier type of the customer id column
	loc        *time.Location
	now        time.Time
	defChannel string // orders without a channel column
	maxEvent   int    // bytes an event may have

	cur  *pending       // orders: the order being gathered
	seen map[uint64]int // orders: hash of each order id seen → its first line
	cons map[int]string // customers: extra columns that are consent categories
}

type rawValue struct {
	v    string // normalised
	raw  string // as written
	line int
}

// pending is an order whose rows are being read.
type pending struct {
	id          string
	first, last int
	lines       []int
	records     [][]string
	failLine    int                // the line that made the order rejected
	head        map[field]rawValue // order-level values
	extras      map[int]string     // order-level extra columns: first value given
	items       [][]byte           // line items, JSON
	reason      string             // not empty: the order is rejected
}

const timeLayout = "2006-01-02T15:04:05.000Z"

var earliest = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

func newConverter(kind Kind, cols *columns, rules *identity.Rules, o *Options, maxEvent int) *converter {
	c := &converter{kind: kind, cols: cols, rules: rules, idType: o.CustomerIDType, loc: o.Location, now: o.Now(), maxEvent: maxEvent,
		seen: map[uint64]int{}, cons: map[int]string{}}
	switch {
	case o.Channel != "":
		c.defChannel = o.Channel
	case o.SourceChannel == "app" || o.SourceChannel == "pos":
		c.defChannel = o.SourceChannel
	default:
		c.defChannel = "web"
	}
	if kind == Customers {
		for _, x := range cols.extras {
			if cat, ok := strings.CutPrefix(x.key, "consent_"); ok && cat != "" {
				c.cons[x.index] = cat
			}
		}
	}
	return c
}

func cellOf(rec []string, cols *columns, f field) string {
	i, ok := cols.index[f]
	if !ok || i >= len(rec) {
		return ""
	}
	v := rec[i]
	switch f {
	case fCustomerID, fPhone, fLoyaltyCard:
		// Some exports (Shopify's among them) write numbers as '+39… or
		// '0012 so that spreadsheets keep them as text: the apostrophe is
		// not part of the identifier.
		if len(v) > 1 && v[0] == '\'' && (v[1] == '+' || v[1] >= '0' && v[1] <= '9') {
			v = v[1:]
		}
	}
	return v
}

// row converts one record read at line; problem, when not empty, says why
// the record itself is unusable (wrong column count, bad quoting, invalid
// UTF-8). It returns the units completed so far.
func (c *converter) row(line int, rec []string, problem string) []*unit {
	if c.kind == Customers {
		if problem != "" {
			return []*unit{{first: line, last: line, lines: []int{line}, records: [][]string{rec}, reason: problem}}
		}
		return []*unit{c.customer(line, rec)}
	}
	return c.orderRow(line, rec, problem)
}

// end returns the last order of an orders file.
func (c *converter) end() []*unit {
	if c.cur == nil {
		return nil
	}
	return []*unit{c.finish()}
}

// checkTime keeps event times within reason: the ingester would silently
// move a time more than a day ahead to the time of import.
func (c *converter) checkTime(raw string, t time.Time) error {
	if t.Before(earliest) {
		return fmt.Errorf("date %q is before 1900", clip(raw))
	}
	if t.After(c.now.Add(24 * time.Hour)) {
		return fmt.Errorf("date %q is in the future", clip(raw))
	}
	return nil
}

// who is the customer an event is about.
type who struct {
	userID, anonymousID string
	externalIDs         []byte // context.externalIds, JSON
}

// identify works out who a row is about from its customer id, e-mail, phone
// and loyalty card. Values that the identity rules would refuse (a malformed
// e-mail, a blocked value such as "0" or "guest") do not identify anyone; a
// row left with no usable identifier is refused.
func (c *converter) identify(get func(field) string, subject string) (who, error) {
	type cand struct{ typ, raw, norm string }
	var (
		usable   []cand
		problems []string
	)
	for _, x := range []struct {
		f   field
		typ string
	}{{fCustomerID, c.idType}, {fEmail, identity.Email}, {fPhone, identity.Phone}, {fLoyaltyCard, identity.LoyaltyCard}} {
		v := get(x.f)
		if v == "" {
			continue
		}
		n, err := c.rules.Normalize(x.typ, v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", x.f, err))
			continue
		}
		usable = append(usable, cand{x.typ, v, n})
	}
	var w who
	if cid := get(fCustomerID); cid != "" && c.idType != identity.UserID {
		var o object
		o.str("id", cid)
		o.str("type", c.idType)
		o.str("collection", "users")
		o.str("encoding", "none")
		w.externalIDs = append(append([]byte{'['}, o.bytes()...), ']')
	}
	if len(usable) == 0 {
		if len(problems) > 0 {
			return who{}, fmt.Errorf("no usable customer identifier (%s)", strings.Join(problems, "; "))
		}
		return who{}, fmt.Errorf("%s has no customer_id, email, phone or loyalty_card", subject)
	}
	if usable[0].typ == identity.UserID {
		w.userID = usable[0].raw
		return w, nil
	}
	// Segment events need a userId or an anonymousId: a customer known only
	// by e-mail, phone or card gets an anonymousId derived from it, the same
	// in every file and every run.
	h := sha256.Sum256([]byte(usable[0].typ + ":" + usable[0].norm))
	w.anonymousID = "import-" + hex.EncodeToString(h[:12])
	return w, nil
}

func (w who) write(ev *object) {
	ev.str("userId", w.userID)
	ev.str("anonymousId", w.anonymousID)
}

// customer converts a row of a customers file into an identify call.
func (c *converter) customer(line int, rec []string) *unit {
	u := &unit{first: line, last: line, lines: []int{line}, records: [][]string{rec}}
	get := func(f field) string { return cellOf(rec, c.cols, f) }
	w, err := c.identify(get, "the row")
	if err != nil {
		u.reason = err.Error()
		return u
	}
	var traits, ctx, consent object
	for _, f := range []field{fEmail, fPhone, fFirstName, fLastName, fName} {
		traits.str(string(f), get(f))
	}
	if v := get(fBirthday); v != "" {
		t, _, err := parseDate(v, time.UTC)
		if err == nil && (t.Before(earliest) || t.After(c.now)) {
			err = fmt.Errorf("birthday %q is not a past date", clip(v))
		}
		if err != nil {
			u.reason = "birthday: " + err.Error()
			return u
		}
		traits.str("birthday", t.Format(time.DateOnly))
	}
	traits.str("city", get(fCity))
	traits.str("loyalty_card", get(fLoyaltyCard))
	var ts string
	for _, f := range []field{fCreatedAt, fUpdatedAt} {
		v := get(f)
		if v == "" {
			continue
		}
		t, _, err := parseDate(v, c.loc)
		if err == nil {
			err = c.checkTime(v, t)
		}
		if err != nil {
			u.reason = fmt.Sprintf("%s: %v", f, err)
			return u
		}
		traits.str(string(f), t.Format(timeLayout))
		ts = t.Format(timeLayout) // updated_at, when given, wins
	}
	for _, x := range []struct {
		f   field
		cat string
	}{{fMarketing, "marketing"}, {fSMS, "sms"}} {
		if v := get(x.f); v != "" {
			b, err := parseBool(v)
			if err != nil {
				u.reason = fmt.Sprintf("%s: %v", x.f, err)
				return u
			}
			consent.raw(x.cat, jsonBool(b))
		}
	}
	for _, x := range c.cols.extras {
		if x.index >= len(rec) || rec[x.index] == "" {
			continue
		}
		if cat, ok := c.cons[x.index]; ok {
			b, err := parseBool(rec[x.index])
			if err != nil {
				u.reason = fmt.Sprintf("%s: %v", c.cols.header[x.index], err)
				return u
			}
			consent.raw(cat, jsonBool(b))
			continue
		}
		traits.str(x.key, rec[x.index])
	}
	ctx.raw("externalIds", w.externalIDs)
	if !consent.empty() {
		var cp object
		cp.raw("categoryPreferences", consent.bytes())
		ctx.raw("consent", cp.bytes())
	}
	ctx.raw("library", []byte(library))
	var ev object
	ev.str("type", "identify")
	w.write(&ev)
	ev.str("timestamp", ts)
	ev.raw("traits", traits.bytes())
	ev.raw("context", ctx.bytes())
	body := ev.bytes()
	final := withMessageID(body, messageID(string(Customers), string(body)))
	if len(final) > c.maxEvent {
		u.reason = fmt.Sprintf("the row makes an event of %d bytes; the limit is %d", len(final), c.maxEvent)
		return u
	}
	u.events = [][]byte{final}
	return u
}

// library names bottega's importer in every event's context.
const library = `{"name":"bottega-import"}`

func hashID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// orderRow adds one record of an orders file. Consecutive rows with the same
// order id are one order; the order is complete when a row with another id
// (or the end of the file) arrives.
func (c *converter) orderRow(line int, rec []string, problem string) []*unit {
	var out []*unit
	id := cellOf(rec, c.cols, fOrderID)
	if c.cur != nil && id != c.cur.id {
		out = append(out, c.finish())
	}
	if id == "" {
		reason := problem
		if reason == "" {
			reason = fmt.Sprintf("the order id (column %q) is empty", c.cols.header[c.cols.index[fOrderID]])
		}
		return append(out, &unit{first: line, last: line, lines: []int{line}, records: [][]string{rec}, reason: reason})
	}
	if c.cur == nil {
		c.cur = &pending{id: id, first: line, head: map[field]rawValue{}, extras: map[int]string{}}
		h := hashID(id)
		if first, ok := c.seen[h]; ok {
			c.cur.reason = fmt.Sprintf("order %q already appeared at line %d; the rows of one order must be consecutive (sort the file by order id)", clip(id), first)
		} else {
			c.seen[h] = line
		}
	}
	o := c.cur
	o.last = line
	o.lines = append(o.lines, line)
	o.records = append(o.records, rec)
	if o.reason != "" {
		return out
	}
	if problem != "" {
		c.fail(line, problem)
		return out
	}
	if err := c.orderFields(o, line, rec); err != nil {
		c.fail(line, err.Error())
		return out
	}
	if err := c.item(o, rec); err != nil {
		c.fail(line, err.Error())
	}
	return out
}

// fail rejects the current order because of a problem at line.
func (c *converter) fail(line int, reason string) {
	o := c.cur
	if o.reason != "" {
		return
	}
	o.reason, o.failLine = reason, line
}

// orderLevel are the order fields in the order they are read: currency
// first, since amounts depend on it.
var orderLevel = []field{fCurrency, fOrderDate, fCustomerID, fEmail, fPhone, fLoyaltyCard, fFirstName, fLastName, fOrderName,
	fTotal, fRevenue, fShipping, fTax, fDiscount, fCoupon, fStoreID, fChannel, fStatus, fCancelledAt, fRefunded, fRefundedAt}

// orderFields reads the order-level cells of a row. Continuation rows may
// leave them empty; a value that differs from an earlier row's is refused.
func (c *converter) orderFields(o *pending, line int, rec []string) error {
	for _, f := range orderLevel {
		raw := cellOf(rec, c.cols, f)
		if raw == "" {
			continue
		}
		v, err := c.orderValue(o, f, raw)
		if err != nil {
			return err
		}
		if prev, ok := o.head[f]; ok {
			if prev.v != v {
				return fmt.Errorf("%s %q differs from %q on line %d (the rows of one order must agree)", f, clip(raw), clip(prev.raw), prev.line)
			}
			continue
		}
		o.head[f] = rawValue{v: v, raw: raw, line: line}
	}
	for _, x := range c.cols.extras {
		if x.item || x.index >= len(rec) || rec[x.index] == "" {
			continue
		}
		if _, ok := o.extras[x.index]; !ok {
			o.extras[x.index] = rec[x.index]
		}
	}
	return nil
}

func (c *converter) digits3(o *pending) bool {
	cur, ok := o.head[fCurrency]
	return ok && order.Digits(cur.v) == 3
}

// orderValue normalises one order-level cell.
func (c *converter) orderValue(o *pending, f field, raw string) (string, error) {
	switch f {
	case fCurrency:
		cur := strings.ToUpper(raw)
		if !order.ValidCurrency(cur) {
			return "", fmt.Errorf("currency %q is not an ISO 4217 code such as EUR", clip(raw))
		}
		return cur, nil
	case fOrderDate, fCancelledAt, fRefundedAt:
		if f == fCancelledAt {
			// A yes/no column says whether the order was cancelled (at the
			// order's date); a date says when.
			if yes, err := parseBool(raw); err == nil {
				return strconv.FormatBool(yes), nil
			}
		}
		t, _, err := parseDate(raw, c.loc)
		if err == nil {
			err = c.checkTime(raw, t)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %v", f, err)
		}
		return t.Format(timeLayout), nil
	case fTotal, fRevenue, fShipping, fTax, fDiscount, fRefunded:
		v, err := parseAmount(raw, c.digits3(o))
		if err != nil && f == fRefunded {
			// A yes/no column says whether the whole order was refunded.
			if yes, berr := parseBool(raw); berr == nil {
				if yes {
					return "all", nil
				}
				return "0", nil
			}
		}
		if err != nil {
			return "", fmt.Errorf("%s: %v", f, err)
		}
		return v, nil
	case fChannel:
		return parseChannel(raw)
	case fStatus:
		st, err := parseStatus(raw)
		return strconv.Itoa(int(st)), err
	}
	return raw, nil
}

// item reads the line item of a row, if it has one.
func (c *converter) item(o *pending, rec []string) error {
	get := func(f field) string { return cellOf(rec, c.cols, f) }
	if get(fProductID) == "" && get(fSKU) == "" && get(fProductName) == "" && get(fPrice) == "" {
		return nil
	}
	var it object
	it.str("product_id", get(fProductID))
	it.str("sku", get(fSKU))
	it.str("name", get(fProductName))
	it.str("category", get(fCategory))
	it.str("brand", get(fBrand))
	it.str("variant", get(fVariant))
	if v := get(fPrice); v != "" {
		p, err := parseAmount(v, c.digits3(o))
		if err != nil {
			return fmt.Errorf("price: %v", err)
		}
		it.raw("price", []byte(p))
	}
	q := int64(1)
	if v := get(fQuantity); v != "" {
		n, err := parseQuantity(v)
		if err != nil {
			return err
		}
		q = n
	}
	it.raw("quantity", strconv.AppendInt(nil, q, 10))
	for _, x := range c.cols.extras {
		if x.item && x.index < len(rec) {
			it.str(x.key, rec[x.index])
		}
	}
	o.items = append(o.items, it.bytes())
	return nil
}

// finish turns the gathered order into its events: Order Completed (Order
// Updated for an order not completed yet), then Order Cancelled and Order
// Refunded when the order says so.
func (c *converter) finish() *unit {
	o := c.cur
	c.cur = nil
	u := &unit{first: o.first, last: o.last, lines: o.lines, records: o.records, order: true}
	if o.reason != "" {
		u.reason = o.reason
		if o.failLine != 0 && o.first != o.last {
			u.reason = fmt.Sprintf("the order is rejected because of line %d: %s", o.failLine, o.reason)
		}
		return u
	}
	val := func(f field) string { return o.head[f].v }
	date := val(fOrderDate)
	if date == "" {
		u.reason = fmt.Sprintf("order %q has no date", clip(o.id))
		return u
	}
	w, err := c.identify(val, "the order")
	if err != nil {
		u.reason = err.Error()
		return u
	}
	st := statusCompleted
	if v := val(fStatus); v != "" {
		n, _ := strconv.Atoi(v)
		st = status(n)
	}
	channel := val(fChannel)
	if channel == "" {
		channel = c.defChannel
	}
	currency := val(fCurrency)

	var props object
	props.str("order_id", o.id)
	for _, f := range []field{fTotal, fRevenue, fShipping, fTax, fDiscount} {
		if v := val(f); v != "" {
			props.raw(string(f), []byte(v))
		}
	}
	props.str("coupon", val(fCoupon))
	props.str("currency", currency)
	props.str("store_id", val(fStoreID))
	if len(o.items) > 0 {
		b := []byte{'['}
		for i, it := range o.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, it...)
		}
		props.raw("products", append(b, ']'))
	}
	for _, x := range c.cols.extras {
		if v, ok := o.extras[x.index]; ok {
			props.str(x.key, v)
		}
	}
	var traits object
	traits.str("email", val(fEmail))
	traits.str("phone", val(fPhone))
	traits.str("loyalty_card", val(fLoyaltyCard))
	traits.str("first_name", val(fFirstName))
	traits.str("last_name", val(fLastName))
	traits.str("name", val(fOrderName))
	context := func(full bool) []byte {
		var ctx object
		ctx.str("channel", channel)
		if full {
			ctx.raw("traits", traits.bytes())
			ctx.raw("externalIds", w.externalIDs)
		}
		ctx.raw("library", []byte(library))
		return ctx.bytes()
	}
	track := func(name, ts string, props []byte, full bool) []byte {
		var ev object
		ev.str("type", "track")
		ev.str("event", name)
		w.write(&ev)
		ev.str("timestamp", ts)
		ev.raw("properties", props)
		ev.raw("context", context(full))
		return ev.bytes()
	}

	name := order.Completed
	if st == statusOpen {
		name = order.Updated
	}
	placed := track(name, date, props.bytes(), true)
	u.events = append(u.events, withMessageID(placed, messageID(string(Orders), string(placed))))

	if cancelledAt := val(fCancelledAt); st == statusCancelled || cancelledAt != "" && cancelledAt != "false" {
		at := cancelledAt
		if at == "" || at == "true" || at == "false" {
			at = date
		}
		var p object
		p.str("order_id", o.id)
		p.str("currency", currency)
		ev := track(order.Cancelled, at, p.bytes(), false)
		u.events = append(u.events, withMessageID(ev, messageID("cancel", o.id, at)))
	}
	refund := val(fRefunded)
	if refund == "0" {
		refund = ""
	}
	if st == statusRefunded || refund != "" {
		if refund == "all" {
			refund = "" // the whole order
		}
		at := val(fRefundedAt)
		if at == "" {
			at = date
		}
		var p object
		p.str("order_id", o.id)
		if refund != "" {
			p.raw("total", []byte(refund))
		}
		p.str("currency", currency)
		ev := track(order.Refunded, at, p.bytes(), false)
		u.events = append(u.events, withMessageID(ev, messageID("refund", o.id, refund, currency, at)))
	}
	for _, ev := range u.events {
		if len(ev) > c.maxEvent {
			u.events = nil
			u.reason = fmt.Sprintf("order %q makes an event of %d bytes; the limit is %d (%d line items)", clip(o.id), len(ev), c.maxEvent, len(o.items))
			return u
		}
	}
	return u
}
