package demo

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/nyaruka/phonenumbers"
)

var testEnd = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// sample is a generated demo, shared by the subtests of TestShop.
type sample struct {
	g      *Generator
	people [][]Event
}

func newSample(t *testing.T, o Options) sample {
	t.Helper()
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	s := sample{g: g}
	for _, evs := range g.Events() {
		s.people = append(s.people, evs)
	}
	return s
}

// TestShop checks a 5,000-person demo: valid events of the expected shape,
// plausible behaviour, and the identity scenarios.
func TestShop(t *testing.T) {
	s := newSample(t, Options{People: 5000, Seed: 7, End: testEnd})
	t.Run("json", func(t *testing.T) { testJSONMatchesEncodingJSON(t, s) })
	t.Run("valid", func(t *testing.T) { testEventsAreValid(t, s) })
	t.Run("shapes", func(t *testing.T) { testEventShapes(t, s) })
	t.Run("plausible", func(t *testing.T) { testPlausible(t, s) })
	t.Run("scenarios", func(t *testing.T) { testScenarioEvents(t, s) })
	t.Run("tickets", func(t *testing.T) { testTickets(t, s) })
}

func TestCatalogue(t *testing.T) {
	cat := Catalogue()
	if len(cat) != 150 {
		t.Errorf("the catalogue has %d products, want 150", len(cat))
	}
	ids, skus, cats := map[string]bool{}, map[string]bool{}, map[string]int{}
	for _, p := range cat {
		if ids[p.ID] || skus[p.SKU] {
			t.Errorf("product %s / %s is listed twice", p.ID, p.SKU)
		}
		ids[p.ID], skus[p.SKU] = true, true
		cats[p.Category]++
		if p.Price < 1000 || p.Price > 30000 || p.Name == "" || p.Brand == "" || p.Slug == "" || strings.ContainsAny(p.Slug, " 'àèéìòù") {
			t.Errorf("product %+v is implausible", p)
		}
	}
	if len(cats) != 8 {
		t.Errorf("%d categories, want 8: %v", len(cats), cats)
	}
	for c, n := range cats {
		if n < 15 || n > 22 {
			t.Errorf("category %s has %d products", c, n)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
	}{{5990, "59.90"}, {5, "0.05"}, {0, "0.00"}, {-1250, "-12.50"}, {123456, "1234.56"}} {
		b, err := json.Marshal(tc.m)
		if err != nil || string(b) != tc.want {
			t.Errorf("Money(%d) = %s, %v; want %s", int64(tc.m), b, err, tc.want)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{{People: 10, End: testEnd}, {People: 100}, {People: 2_000_000, End: testEnd}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

// TestDeterministic: the same options give byte-identical events, message ids
// included, so that a re-run is deduplicated; other options give other ids.
func TestDeterministic(t *testing.T) {
	gen := func(o Options) (all [][]byte, ids map[string]bool) {
		g, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		ids = map[string]bool{}
		for _, evs := range g.Events() {
			for i := range evs {
				all = append(all, evs[i].JSON())
				ids[evs[i].Message.MessageID] = true
			}
		}
		return all, ids
	}
	base := Options{People: 300, Seed: 42, End: testEnd}
	a, idsA := gen(base)
	b, _ := gen(base)
	if len(a) < 3000 {
		t.Fatalf("300 people made only %d events", len(a))
	}
	if len(a) != len(idsA) {
		t.Errorf("%d events but %d distinct message ids", len(a), len(idsA))
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generators with the same options made different events")
	}
	for _, o := range []Options{{People: 300, Seed: 43, End: testEnd}, {People: 300, Seed: 42, End: testEnd.AddDate(0, 0, 1)}, {People: 301, Seed: 42, End: testEnd}} {
		_, ids := gen(o)
		shared := 0
		for id := range ids {
			if idsA[id] {
				shared++
			}
		}
		if shared > 0 {
			t.Errorf("options %+v share %d message ids with %+v", o, shared, base)
		}
	}
	// Scenario people depend on seed and size only.
	g1, _ := New(base)
	g2, _ := New(Options{People: 300, Seed: 42, End: testEnd.AddDate(0, 3, 0)})
	if !reflect.DeepEqual(g1.Scenarios(), g2.Scenarios()) {
		t.Error("the scenario people change with the end date")
	}
}

// testJSONMatchesEncodingJSON: the hand-written encoder writes what
// encoding/json would.
func testJSONMatchesEncodingJSON(t *testing.T, s sample) {
	n := 0
	for _, evs := range s.people[:400] {
		for i := range evs {
			var mine, std any
			want, err := json.Marshal(&evs[i].Message)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(evs[i].JSON(), &mine); err != nil {
				t.Fatalf("invalid JSON %s: %v", evs[i].JSON(), err)
			}
			if err := json.Unmarshal(want, &std); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(mine, std) {
				t.Fatalf("JSON differs:\n mine %s\n  std %s", evs[i].JSON(), want)
			}
			n++
		}
	}
	if n < 5000 {
		t.Errorf("compared only %d events", n)
	}
}

// batches cuts events into /v1/batch bodies per source, as the Loader does.
func batches(evs []Event, per int) map[string][][]byte {
	out := map[string][][]byte{}
	bySource := map[string][]Event{}
	for _, e := range evs {
		bySource[e.Source] = append(bySource[e.Source], e)
	}
	for src, list := range bySource {
		for len(list) > 0 {
			n := min(per, len(list))
			var b bytes.Buffer
			b.WriteString(`{"batch":[`)
			for i := range list[:n] {
				if i > 0 {
					b.WriteByte(',')
				}
				b.Write(list[i].JSON())
			}
			b.WriteString(`]}`)
			out[src] = append(out[src], b.Bytes())
			list = list[n:]
		}
	}
	return out
}

// testEventsAreValid: every event passes the ingestion parser untouched
// (nothing quarantined, no repairs, the historical timestamp kept).
func testEventsAreValid(t *testing.T, s sample) {
	p := event.NewParser(event.DefaultLimits())
	now := testEnd.Add(time.Hour)
	var all []Event
	for _, evs := range s.people {
		all = append(all, evs...)
	}
	times := map[string]time.Time{}
	for _, e := range all {
		times[e.Message.MessageID] = e.Time
	}
	parsed := 0
	for src, bodies := range batches(all, 400) {
		for _, body := range bodies {
			if len(body) > event.DefaultLimits().MaxBatchBytes {
				t.Fatalf("a batch of 400 %s events is %d bytes, over the limit", src, len(body))
			}
			req, err := p.ParseBatch(body, now)
			if err != nil {
				t.Fatalf("batch refused: %v", err)
			}
			for _, q := range req.Quarantined {
				t.Errorf("quarantined: %s %s: %s", q.Reason, q.Detail, q.Raw)
			}
			for _, ev := range req.Events {
				parsed++
				if ev.Flags != 0 {
					t.Errorf("event %s was altered on ingestion (flags %b)", ev.MessageID, ev.Flags)
				}
				if !ev.Timestamp.Equal(times[ev.MessageID]) {
					t.Errorf("event %s: timestamp %s, generated at %s", ev.MessageID, ev.Timestamp, times[ev.MessageID])
				}
			}
		}
	}
	if parsed != len(all) {
		t.Errorf("parsed %d events of %d", parsed, len(all))
	}
}

// testEventShapes checks the conventions every event follows.
func testEventShapes(t *testing.T, s sample) {
	start := s.g.Start()
	seen := map[string]bool{}
	for person, evs := range s.people {
		for i, e := range evs {
			m := e.Message
			if i > 0 && e.Time.Before(evs[i-1].Time) {
				t.Fatalf("person %d: events out of time order", person)
			}
			if e.Time.Before(start) || !e.Time.Before(testEnd) {
				t.Fatalf("event at %s outside [%s, %s)", e.Time, start, testEnd)
			}
			if e.Person != person {
				t.Fatalf("event of person %d listed under %d", e.Person, person)
			}
			if seen[m.MessageID] {
				t.Fatalf("message id %s used twice", m.MessageID)
			}
			seen[m.MessageID] = true
			if m.Context.Channel == "" {
				t.Fatalf("event without context.channel: %s", e.JSON())
			}
			if m.Context.Channel != e.Source {
				t.Fatalf("event from source %s has channel %s: %s", e.Source, m.Context.Channel, e.JSON())
			}
			if (e.Source == "web" || e.Source == "app") && m.Type != "track" && m.Context.Consent == nil {
				t.Fatalf("a %s event without consent preferences: %s", e.Source, e.JSON())
			}
			switch e.Source {
			case "pos":
				if m.UserID != "" || len(m.Context.ExternalIDs) != 1 || m.Context.ExternalIDs[0].Type != "loyalty_card" || m.Context.ExternalIDs[0].Collection != "users" {
					t.Fatalf("a POS event must carry the loyalty card and no user id: %s", e.JSON())
				}
				if m.Type == "track" && m.Properties["store_id"] == nil {
					t.Fatalf("a POS event without store_id: %s", e.JSON())
				}
			case "care":
				if m.UserID != "" || len(m.Context.Traits) != 1 {
					t.Fatalf("a care event must carry only a phone or an e-mail: %s", e.JSON())
				}
			}
			for _, traits := range []map[string]any{m.Traits, m.Context.Traits} {
				if ph, ok := traits["phone"].(string); ok {
					n, err := phonenumbers.Parse(ph, "IT")
					if err != nil || !phonenumbers.IsValidNumber(n) {
						t.Fatalf("phone %q is not a valid number", ph)
					}
					if e164 := phonenumbers.Format(n, phonenumbers.E164); e164 != s.g.Contact(person).Phone {
						t.Fatalf("phone %q is %s, not the person's %s", ph, e164, s.g.Contact(person).Phone)
					}
				}
				if em, ok := traits["email"].(string); ok && !slices.Contains(s.g.Contact(person).Emails, em) && s.g.contacts[person].email != em {
					t.Fatalf("e-mail %q is not one of person %d's", em, person)
				}
			}
			if m.Event == "Order Completed" {
				p := m.Properties
				items := p["products"].([]Item)
				var sum Money
				for _, it := range items {
					sum += it.Price * Money(it.Quantity)
					if it.ProductID == "" || it.SKU == "" || it.Name == "" || it.Category == "" || it.Brand == "" || it.Price <= 0 || it.Quantity < 1 {
						t.Fatalf("incomplete product in %s", e.JSON())
					}
				}
				discount, _ := p["discount"].(Money)
				if p["order_id"] == "" || p["currency"] != "EUR" || p["total"].(Money) != sum-discount+p["shipping"].(Money) || p["revenue"].(Money) != sum-discount {
					t.Fatalf("order totals do not add up: %s", e.JSON())
				}
			}
		}
	}
}

type stats struct {
	orders, refunds, cancels int
	ordersBy                 map[int]int
	sources                  map[string]int
	stores                   map[string]int
	nps, csat                map[int]int
	npsBad, npsGood          []int
	recommended, upsell      int
	orderFlags               int
	campaigns                int
	anonymousOnly            int
	ticketChannels           map[string]int
	perMonth                 map[time.Month]int
}

func measure(s sample) stats {
	st := stats{ordersBy: map[int]int{}, sources: map[string]int{}, stores: map[string]int{}, nps: map[int]int{}, csat: map[int]int{},
		ticketChannels: map[string]int{}, perMonth: map[time.Month]int{}}
	for person, evs := range s.people {
		trouble := map[string]bool{} // orders refunded or late
		for _, e := range evs {
			if e.Message.Event == "Order Refunded" || e.Message.Event == "Ticket Created" && e.Message.Properties["subject"] == "Ordine in ritardo" {
				if id, ok := e.Message.Properties["order_id"].(string); ok {
					trouble[id] = true
				}
			}
		}
		identified := false
		for _, e := range evs {
			m := e.Message
			st.sources[e.Source]++
			if m.UserID != "" || m.Type == "identify" || e.Source == "pos" || e.Source == "care" {
				identified = true
			}
			if m.Context.Campaign != nil {
				st.campaigns++
			}
			switch m.Event {
			case "Order Completed":
				st.orders++
				st.ordersBy[person]++
				st.perMonth[localDay(e.Time).Month()]++
				if id, ok := m.Properties["store_id"].(string); ok {
					st.stores[id]++
				}
				for _, it := range m.Properties["products"].([]Item) {
					if it.Recommended || it.Upsell {
						st.orderFlags++
					}
				}
			case "Order Refunded":
				st.refunds++
			case "Order Cancelled":
				st.cancels++
			case "Product Added":
				if m.Properties["recommended"] == true {
					st.recommended++
				}
				if m.Properties["upsell"] == true {
					st.upsell++
				}
			case "Ticket Created":
				st.ticketChannels[m.Properties["channel"].(string)]++
			case "Survey Responded":
				score := m.Properties["score"].(int)
				if m.Properties["survey_type"] == "nps" {
					st.nps[score]++
					if trouble[m.Properties["order_id"].(string)] {
						st.npsBad = append(st.npsBad, score)
					} else {
						st.npsGood = append(st.npsGood, score)
					}
				} else {
					st.csat[score]++
				}
			}
		}
		if len(evs) > 0 && !identified && st.ordersBy[person] == 0 {
			st.anonymousOnly++
		}
	}
	return st
}

func mean(xs []int) float64 {
	sum := 0
	for _, x := range xs {
		sum += x
	}
	return float64(sum) / float64(max(1, len(xs)))
}

// testPlausible checks the shop behaves like a shop: the figures analytics
// will later compute fall in realistic ranges.
func testPlausible(t *testing.T, s sample) {
	st := measure(s)
	events := 0
	for _, evs := range s.people {
		events += len(evs)
	}
	perPerson := float64(events) / float64(len(s.people))
	if perPerson < 18 || perPerson > 32 {
		t.Errorf("%.1f events per person; the default demo should have 400k-600k for 20,000 people", perPerson)
	}
	buyers, repeat := 0, 0
	for _, n := range st.ordersBy {
		buyers++
		if n > 1 {
			repeat++
		}
	}
	share := func(a, b int) float64 { return float64(a) / float64(max(1, b)) }
	checks := []struct {
		what   string
		v      float64
		lo, hi float64
	}{
		{"buyers among people", share(buyers, len(s.people)), 0.55, 0.85},
		{"repeat buyers among buyers", share(repeat, buyers), 0.3, 0.65},
		{"orders refunded", share(st.refunds, st.orders), 0.05, 0.08},
		{"orders cancelled", share(st.cancels, st.orders), 0.012, 0.03},
		{"anonymous visitors who never buy", share(st.anonymousOnly, len(s.people)), 0.1, 0.25},
		{"Product Added recommended", share(st.recommended, st.sources["web"]+st.sources["app"]), 0.002, 0.05},
		{"Product Added upsell", share(st.upsell, st.sources["web"]+st.sources["app"]), 0.001, 0.05},
	}
	for _, c := range checks {
		t.Logf("%s: %.3f", c.what, c.v)
		if c.v < c.lo || c.v > c.hi {
			t.Errorf("%s: %.3f, want between %.3f and %.3f", c.what, c.v, c.lo, c.hi)
		}
	}
	for _, src := range []string{"web", "app", "pos", "care"} {
		if st.sources[src] < 500 {
			t.Errorf("only %d events from the %s source", st.sources[src], src)
		}
	}
	for _, store := range Stores() {
		if st.stores[store] < 100 {
			t.Errorf("only %d orders in store %s", st.stores[store], store)
		}
	}
	for _, ch := range []string{"email", "whatsapp", "phone"} {
		if st.ticketChannels[ch] < 20 {
			t.Errorf("only %d care tickets by %s", st.ticketChannels[ch], ch)
		}
	}
	if st.orderFlags == 0 {
		t.Error("no ordered product carries recommended or upsell")
	}
	if st.campaigns < 1000 {
		t.Errorf("only %d events carry a UTM campaign", st.campaigns)
	}
	// NPS: spread over the scale, a realistic mix, lower after trouble.
	answers, promoters, detractors := 0, 0, 0
	for score, n := range st.nps {
		answers += n
		if score >= 9 {
			promoters += n
		} else if score <= 6 {
			detractors += n
		}
	}
	if len(st.nps) < 9 || answers < 300 {
		t.Errorf("NPS answers: %v", st.nps)
	}
	if p, d := share(promoters, answers), share(detractors, answers); p < 0.3 || p > 0.6 || d < 0.1 || d > 0.35 {
		t.Errorf("NPS: %.0f%% promoters, %.0f%% detractors", 100*p, 100*d)
	}
	t.Logf("%.1f events per person; NPS %v; CSAT %v; tickets %v; orders per month %v", perPerson, st.nps, st.csat, st.ticketChannels, st.perMonth)
	t.Logf("NPS mean after trouble %.2f (%d), otherwise %.2f", mean(st.npsBad), len(st.npsBad), mean(st.npsGood))
	if bad, good := mean(st.npsBad), mean(st.npsGood); len(st.npsBad) < 20 || good-bad < 1.5 {
		t.Errorf("NPS after a late or returned order averages %.1f (%d answers), otherwise %.1f: trouble should weigh", bad, len(st.npsBad), good)
	}
	if len(st.csat) < 4 || st.csat[0] != 0 || st.csat[6] != 0 {
		t.Errorf("CSAT answers: %v", st.csat)
	}
	// Seasonality: December sells more a day than August; the sales months
	// more than the ones before them.
	if d, a := float64(st.perMonth[time.December])/31, float64(st.perMonth[time.August])/31; d < 1.8*a {
		t.Errorf("orders a day: December %.1f, August %.1f", d, a)
	}
	if j, f := float64(st.perMonth[time.January])/31, float64(st.perMonth[time.March])/31; j < 1.2*f {
		t.Errorf("orders a day: January %.1f, March %.1f", j, f)
	}
}

// testScenarioEvents checks that each scenario person's events carry the
// identifiers the scenario is about.
func testScenarioEvents(t *testing.T, s sample) {
	kinds := map[string]int{}
	for _, sc := range s.g.Scenarios() {
		kinds[sc.Kind]++
		c := sc.People[0]
		evs := s.people[c.Person]
		switch sc.Kind {
		case AnonymousThenLogin:
			anonBefore, joined := 0, false
			for _, e := range evs {
				if e.Message.AnonymousID != sc.AnonymousID {
					continue
				}
				if e.Message.UserID == "" && !joined {
					anonBefore++
				}
				if e.Message.Type == "identify" && e.Message.UserID == c.UserID {
					joined = true
				}
			}
			if anonBefore < 3 || !joined {
				t.Errorf("%s: %d anonymous events before login, login seen: %v", sc.Kind, anonBefore, joined)
			}
		case LoyaltyCardWeb:
			var pos, web, link int
			for _, e := range evs {
				m := e.Message
				switch {
				case e.Source == "pos" && m.Event == "Order Completed":
					pos++
					if m.Context.Traits != nil {
						t.Errorf("%s: the till learnt %v", sc.Kind, m.Context.Traits)
					}
				case e.Source == "web" && m.Event == "Order Completed" && m.UserID == c.UserID:
					web++
				case m.Type == "identify" && m.UserID == c.UserID && m.Traits["loyalty_card"] == c.Card:
					link++
				}
				if m.Traits["phone"] != nil || m.Context.Traits["phone"] != nil {
					t.Errorf("%s: a phone could link store and web: %s", sc.Kind, e.JSON())
				}
			}
			if pos < 2 || web < 1 || link < 1 || c.Card == "" || c.Email == "" {
				t.Errorf("%s: %d store orders, %d web orders, %d card links", sc.Kind, pos, web, link)
			}
		case WhatsAppPhone:
			var care, web bool
			for _, e := range evs {
				m := e.Message
				if e.Source == "care" && m.Properties["channel"] == "whatsapp" && m.Context.Traits["phone"] == sc.CarePhone {
					care = true
				}
				if m.Type == "identify" && m.UserID == c.UserID && m.Traits["phone"] == c.WebPhone {
					web = true
				}
			}
			if !care || !web || c.WebPhone == sc.CarePhone {
				t.Errorf("%s: care by WhatsApp %v, phone on the web account %v (%q vs %q)", sc.Kind, care, web, c.WebPhone, sc.CarePhone)
			}
		case SharedTablet:
			if len(sc.People) != 2 || sc.People[0].UserID == sc.People[1].UserID {
				t.Fatalf("%s: %+v", sc.Kind, sc.People)
			}
			for _, p := range sc.People {
				found := false
				for _, e := range s.people[p.Person] {
					if e.Message.Type == "identify" && e.Message.UserID == p.UserID && e.Message.AnonymousID == sc.AnonymousID {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: %s never logs in on the tablet", sc.Kind, p.UserID)
				}
			}
		case TwoEmails:
			var changed, oldCare bool
			for _, e := range evs {
				m := e.Message
				if m.Type == "identify" && m.UserID == c.UserID && len(c.Emails) == 2 && m.Traits["email"] == c.Emails[1] {
					changed = true
				}
				if e.Source == "care" && m.Context.Traits["email"] == c.Emails[0] {
					oldCare = true
				}
			}
			if !changed || !oldCare {
				t.Errorf("%s: e-mail changed %v, care from the old address %v", sc.Kind, changed, oldCare)
			}
		}
	}
	for _, k := range []string{AnonymousThenLogin, LoyaltyCardWeb, WhatsAppPhone, SharedTablet, TwoEmails} {
		if kinds[k] < 2 {
			t.Errorf("%d scenarios of kind %s", kinds[k], k)
		}
	}
}

// testTickets checks care tickets: complete, in order, answered faster on
// WhatsApp and the phone than by e-mail.
func testTickets(t *testing.T, s sample) {
	type ticket struct {
		channel                    string
		created, replied, resolved time.Time
	}
	tickets := map[string]*ticket{}
	for _, evs := range s.people {
		for _, e := range evs {
			p := e.Message.Properties
			if !strings.HasPrefix(e.Message.Event, "Ticket ") {
				continue
			}
			id, _ := p["ticket_id"].(string)
			ch, _ := p["channel"].(string)
			if id == "" || p["subject"] == "" || p["subject"] == nil || (ch != "email" && ch != "whatsapp" && ch != "phone") {
				t.Fatalf("incomplete ticket event %s", e.JSON())
			}
			tk := tickets[id]
			if tk == nil {
				tk = &ticket{channel: ch}
				tickets[id] = tk
			}
			switch {
			case e.Message.Event == "Ticket Created":
				tk.created = e.Time
			case e.Message.Event == "Ticket Replied" && p["first_response"] == true:
				tk.replied = e.Time
			case e.Message.Event == "Ticket Resolved":
				tk.resolved = e.Time
			}
		}
	}
	first := map[string][]float64{}
	for id, tk := range tickets {
		if tk.created.IsZero() {
			continue // created before the data starts
		}
		if tk.replied.IsZero() && tk.resolved.IsZero() {
			continue // still open when the data ends
		}
		if !tk.replied.After(tk.created) || !tk.resolved.IsZero() && tk.resolved.Before(tk.replied) {
			t.Fatalf("ticket %s: created %s, first reply %s, resolved %s", id, tk.created, tk.replied, tk.resolved)
		}
		first[tk.channel] = append(first[tk.channel], tk.replied.Sub(tk.created).Minutes())
	}
	median := func(xs []float64) float64 {
		slices.Sort(xs)
		return xs[len(xs)/2]
	}
	for ch, want := range map[string][2]float64{"phone": {0, 5}, "whatsapp": {3, 60}, "email": {60, 900}} {
		if len(first[ch]) < 20 {
			t.Errorf("only %d tickets by %s", len(first[ch]), ch)
			continue
		}
		if m := median(first[ch]); m < want[0] || m > want[1] {
			t.Errorf("median first response by %s: %.0f minutes, want %v", ch, m, want)
		}
	}
}

// TestIdentifiersUnique: no two people share an e-mail, phone, card or user id.
func TestIdentifiersUnique(t *testing.T) {
	g, err := New(Options{People: 20000, Seed: 1, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := range g.People() {
		c := g.Contact(i)
		ids := append([]string{"u:" + c.UserID, "p:" + c.Phone, "c:" + c.Card}, c.Emails...)
		for _, id := range ids {
			if id == "u:" || id == "p:" || id == "c:" {
				continue
			}
			if j, dup := seen[id]; dup {
				t.Fatalf("people %d and %d share %s", j, i, id)
			}
			seen[id] = i
		}
		if c.Phone != "" {
			n, err := phonenumbers.Parse(c.Phone, "IT")
			if err != nil || !phonenumbers.IsValidNumber(n) || n.GetCountryCode() != 39 || !strings.HasPrefix(c.Phone, "+393") || len(c.Phone) != 13 {
				t.Fatalf("phone %q is not a valid Italian mobile", c.Phone)
			}
		}
		for _, e := range c.Emails {
			if !strings.HasSuffix(e, ".example") || strings.ContainsAny(e, " '") {
				t.Fatalf("e-mail %q", e)
			}
		}
	}
}

func TestSeason(t *testing.T) {
	for _, tc := range []struct {
		day  string
		want float64
	}{{"2024-12-10", 1.9}, {"2024-08-12", 0.6}, {"2025-01-05", 1.8}, {"2024-07-10", 1.6}, {"2024-11-29", 2.0}, {"2024-05-14", 1}} {
		d, _ := time.Parse(time.DateOnly, tc.day)
		if got := season(d.Add(12 * time.Hour)); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("season(%s) = %v, want %v", tc.day, got, tc.want)
		}
	}
	// Italian time: CEST in July, CET in January.
	if got := atLocal(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), 10); got.Hour() != 8 {
		t.Errorf("10:00 in Rome in July is %s UTC", got)
	}
	if got := atLocal(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), 10); got.Hour() != 9 {
		t.Errorf("10:00 in Rome in January is %s UTC", got)
	}
}

func TestDistributions(t *testing.T) {
	r := newRand(99)
	const n = 20000
	var g, b float64
	for range n {
		g += gamma(r, 0.7, 3)
		b += beta(r, 2, 6)
	}
	if m := g / n; math.Abs(m-2.1) > 0.1 {
		t.Errorf("Gamma(0.7, 3) mean %.3f, want 2.1", m)
	}
	if m := b / n; math.Abs(m-0.25) > 0.01 {
		t.Errorf("Beta(2, 6) mean %.3f, want 0.25", m)
	}
}

// BenchmarkGenerate measures drawing and writing events, the demo loader's
// own share of the CPU while it loads.
func BenchmarkGenerate(b *testing.B) {
	g, err := New(Options{People: 1000, Seed: 1, End: testEnd})
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	events := 0
	for b.Loop() {
		for _, evs := range g.Events() {
			for i := range evs {
				buf = evs[i].AppendJSON(buf[:0])
			}
			events += len(evs)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
