package demo

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
)

// DefaultPeople is the size of the default demo shop.
const DefaultPeople = 20000

// MinPeople is the smallest demo: enough for every identity scenario.
const MinPeople = 50

// Span is how far back the demo's data goes from its end.
const Span = 730 * 24 * time.Hour

// Options select a demo shop. The same options always give the same events,
// message ids included.
type Options struct {
	People int       // how many people (default DefaultPeople)
	Seed   uint64    // seed of every random choice
	End    time.Time // the data ends before this instant and starts Span earlier; required
}

// Scenario kinds: people in identity situations the graph must resolve.
const (
	// AnonymousThenLogin: browses anonymously, then signs up on the same
	// browser; the anonymous history must join the customer.
	AnonymousThenLogin = "anonymous_then_login"
	// LoyaltyCardWeb: buys in a store with a loyalty card (no user id, no
	// e-mail or phone at the till), buys online with a user id and e-mail,
	// then adds the card to the web account: one customer with both histories.
	LoyaltyCardWeb = "loyalty_card_web"
	// WhatsAppPhone: the care desk knows the customer only by a phone number
	// written differently from the one in the web account.
	WhatsAppPhone = "whatsapp_phone"
	// SharedTablet: two people of one household log in on the same tablet
	// (one anonymousId): they must stay two customers.
	SharedTablet = "shared_tablet"
	// TwoEmails: a customer who changed e-mail address; care hears from the
	// old one.
	TwoEmails = "two_emails"
)

// Scenario is a person (two for SharedTablet) the demo puts in a known
// identity situation, so that tests and the documentation can point at them.
type Scenario struct {
	Kind        string
	People      []Contact
	AnonymousID string // AnonymousThenLogin: the browser's id; SharedTablet: the tablet's
	CarePhone   string // WhatsAppPhone: the number as the care desk writes it
}

// Contact is what identifies a demo person.
type Contact struct {
	Person      int
	Name        string
	UserID      string   // the web account's user id ("" when none)
	Email       string   // the address of the web account (the first one)
	Emails      []string // every address the person uses
	Phone       string   // E.164, "" when none
	WebPhone    string   // the phone as written in the web account, "" when not there
	Card        string   // loyalty card number, "" when none
	AnonymousID string   // the person's own web browser
}

// kind is a person's behaviour.
type kind int

const (
	visitor   kind = iota // browses anonymously, never identified
	browser               // opens an account, never buys
	webBuyer              // buys on the web shop
	appBuyer              // buys in the app, sometimes on the web
	storeOnly             // buys in a store with a loyalty card
	omni                  // store with a card, and online with an account
	regular               // weekly store shopper, rarely online
)

var kindWeights = []float64{16, 9, 28, 10, 15, 18, 4}

// contact is everything fixed about a person before behaviour is drawn.
type contact struct {
	kind          kind
	role          string // scenario kind of a designated person
	scriptFrac    float64
	female        bool
	first, last   string
	city          city
	email, email2 string // email2: a second address, or ""
	phone         string // E.164, or ""
	phoneDigits   string // national number (10 digits)
	webPhone      string // the phone as written in the web account, or ""
	phonePOS      bool   // the phone was given with the loyalty card
	emailPOS      bool   // the e-mail was given with the loyalty card
	userID        string
	card          string
	webAnon       string
	webAnon2      string // a second browser, or ""
	appAnon       string
	posAnon       string
	careAnon      string
	tablet        string // the household tablet's anonymousId, or ""
	partner       int    // household partner, or -1
	agent         int
	device        int
	favourite     [2]int // favourite categories
	birthYear     int
}

// CheckPeople says whether a demo of n people can be made.
func CheckPeople(n int) error {
	if n < MinPeople || n > 1_000_000 {
		return fault.New(fault.Invalid, "the demo needs between %d and 1,000,000 people, not %d", MinPeople, n)
	}
	return nil
}

// Generator produces the demo shop.
type Generator struct {
	opts       Options
	start      time.Time
	catalogue  []Product
	byCategory [][]int
	catSlugs   []string
	contacts   []contact
	scenarios  []Scenario
	behaviour  uint64 // seed of the behaviour streams
}

// New prepares a demo shop: its catalogue and its people (names, e-mails,
// phones, cards, households, scenario people). Events are drawn lazily,
// person by person.
func New(opts Options) (*Generator, error) {
	if opts.People == 0 {
		opts.People = DefaultPeople
	}
	if err := CheckPeople(opts.People); err != nil {
		return nil, err
	}
	if opts.End.IsZero() {
		return nil, fault.New(fault.Invalid, "the demo needs an end date")
	}
	opts.End = opts.End.UTC()
	g := &Generator{
		opts:      opts,
		start:     opts.End.Add(-Span),
		catalogue: Catalogue(),
		behaviour: splitmix64(opts.Seed) ^ splitmix64(uint64(opts.People)<<1) ^ splitmix64(uint64(opts.End.UnixMilli())<<2),
	}
	g.byCategory = make([][]int, len(categoryNames))
	for _, name := range categoryNames {
		g.catSlugs = append(g.catSlugs, slug(name))
	}
	for i, p := range g.catalogue {
		for c, name := range categoryNames {
			if p.Category == name {
				g.byCategory[c] = append(g.byCategory[c], i)
			}
		}
	}
	g.makeContacts()
	return g, nil
}

// Options returns the options the generator was made with, defaults filled in.
func (g *Generator) Options() Options { return g.opts }

// Start returns the instant the data starts.
func (g *Generator) Start() time.Time { return g.start }

// People returns how many people the shop has.
func (g *Generator) People() int { return len(g.contacts) }

// Scenarios returns the people in known identity situations. They depend on
// the seed and the number of people, not on the end date.
func (g *Generator) Scenarios() []Scenario { return g.scenarios }

// Scenario returns the first scenario of a kind.
func (g *Generator) Scenario(kind string) (Scenario, bool) {
	for _, s := range g.scenarios {
		if s.Kind == kind {
			return s, true
		}
	}
	return Scenario{}, false
}

// Events yields every person's events, person by person; each person's
// events are in time order.
func (g *Generator) Events() iter.Seq2[int, []Event] {
	return func(yield func(int, []Event) bool) {
		for i := range g.contacts {
			if !yield(i, g.Person(i)) {
				return
			}
		}
	}
}

// makeContacts draws everyone's identity, then designates scenario people
// and households.
func (g *Generator) makeContacts() {
	n := g.opts.People
	world := newRand(streamWorld, g.opts.Seed, uint64(n))
	userOffset := world.IntN(9_000_000)
	phoneOffset := world.IntN(10_000_000)
	cardOffset := world.IntN(10_000_000_000)
	cityWeights := make([]float64, len(cities))
	for i, c := range cities {
		cityWeights[i] = c.weight
	}
	storeCities := []int{}
	for i, c := range cities {
		if c.store != "" {
			storeCities = append(storeCities, i)
		}
	}
	storeCityWeights := make([]float64, len(storeCities))
	for i, ci := range storeCities {
		storeCityWeights[i] = cities[ci].weight
	}

	// Designated people and households first: they constrain kinds.
	perm := world.Perm(n)
	roles := map[int]string{}
	frac := map[int]float64{}
	next := 0
	take := func() int { i := perm[next]; next++; return i }
	type pair struct{ a, b int }
	var designated []pair
	for _, k := range []string{AnonymousThenLogin, LoyaltyCardWeb, WhatsAppPhone, SharedTablet, TwoEmails} {
		for range 2 {
			a, b := take(), -1
			roles[a] = k
			frac[a] = 0.05 + 0.3*world.Float64()
			if k == SharedTablet {
				b = take()
				roles[b] = k
				frac[b] = frac[a] + 10.0/730
			}
			designated = append(designated, pair{a, b})
		}
	}
	households := []pair{}
	for _, d := range designated {
		if d.b >= 0 {
			households = append(households, d)
		}
	}
	for range n / 150 {
		households = append(households, pair{take(), take()})
	}

	g.contacts = make([]contact, n)
	used := map[string]bool{}
	for i := range n {
		r := newRand(streamContact, g.opts.Seed, uint64(n), uint64(i))
		c := &g.contacts[i]
		c.partner = -1
		c.role = roles[i]
		c.scriptFrac = frac[i]
		c.kind = kind(weighted(r, kindWeights))
		switch c.role {
		case AnonymousThenLogin, WhatsAppPhone, SharedTablet, TwoEmails:
			c.kind = webBuyer
		case LoyaltyCardWeb:
			c.kind = omni
		}
		c.female = chance(r, 0.62)
		if c.female {
			c.first = pick(r, femaleNames)
		} else {
			c.first = pick(r, maleNames)
		}
		c.last = pick(r, surnames)
		if c.kind == storeOnly || c.kind == omni || c.kind == regular {
			c.city = cities[storeCities[weighted(r, storeCityWeights)]]
		} else {
			c.city = cities[weighted(r, cityWeights)]
		}
		c.birthYear = 1950 + int(gamma(r, 9, 3.2))
		if c.birthYear > 2006 {
			c.birthYear = 2006 - r.IntN(10)
		}
		c.userID = fmt.Sprintf("%d", 1_000_000+(i*7919+userOffset)%9_000_000)
		digits := fmt.Sprintf("%s%07d", pick(r, mobilePrefixes), (i*7793+phoneOffset)%10_000_000)
		hasPhone := chance(r, 0.8)
		if hasPhone {
			c.phoneDigits = digits
			c.phone = "+39" + digits
		}
		c.webAnon = uuid(r)
		c.appAnon = uuid(r)
		c.posAnon = uuid(r)
		c.careAnon = uuid(r)
		c.agent = r.IntN(len(userAgents))
		c.device = r.IntN(len(devices))
		c.favourite = favouriteCategories(r, c.female)
		if c.kind == storeOnly || c.kind == omni || c.kind == regular {
			c.card = ean13(fmt.Sprintf("29%010d", (i*7877+cardOffset)%10_000_000_000))
			c.phonePOS = hasPhone && chance(r, 0.55)
			c.emailPOS = chance(r, 0.3)
		}
		if c.kind != visitor && hasPhone && chance(r, 0.8) {
			c.webPhone = phoneFormat(r, digits, webPhoneFormats)
		}
		if c.kind == webBuyer && chance(r, 0.12) {
			c.webAnon2 = uuid(r)
		}
		c.email = uniqueEmail(r, c.first, c.last, c.birthYear, used)
		if c.kind == webBuyer || c.kind == appBuyer || c.kind == omni {
			if chance(r, 0.03) {
				c.email2 = uniqueEmail(r, c.first, c.last, c.birthYear, used)
			}
		}
		switch c.role {
		case LoyaltyCardWeb:
			// Only the card and the e-mail can tie the store to the web.
			c.phone, c.phoneDigits, c.webPhone, c.phonePOS, c.emailPOS = "", "", "", false, false
		case WhatsAppPhone:
			if c.phone == "" {
				c.phoneDigits = digits
				c.phone = "+39" + digits
			}
			c.webPhone = "+39 " + digits[:3] + " " + digits[3:]
		case TwoEmails:
			if c.email2 == "" {
				c.email2 = uniqueEmail(r, c.first, c.last, c.birthYear, used)
			}
		}
	}
	for _, h := range households {
		a, b := &g.contacts[h.a], &g.contacts[h.b]
		if a.kind == visitor || a.kind == storeOnly || a.kind == regular {
			a.kind = webBuyer
		}
		if b.kind == visitor || b.kind == storeOnly || b.kind == regular {
			b.kind = webBuyer
		}
		b.last, b.city = a.last, a.city
		tablet := uuid(world)
		a.tablet, b.tablet = tablet, tablet
		a.partner, b.partner = h.b, h.a
	}
	for _, d := range designated {
		g.scenarios = append(g.scenarios, g.scenario(d.a, d.b))
	}
}

func (g *Generator) scenario(a, b int) Scenario {
	c := &g.contacts[a]
	s := Scenario{Kind: c.role, People: []Contact{g.Contact(a)}}
	switch c.role {
	case AnonymousThenLogin:
		s.AnonymousID = c.webAnon
	case WhatsAppPhone:
		s.CarePhone = c.phoneDigits[:3] + " " + c.phoneDigits[3:6] + " " + c.phoneDigits[6:]
	case SharedTablet:
		s.People = append(s.People, g.Contact(b))
		s.AnonymousID = c.tablet
	}
	return s
}

// Contact returns what identifies person i.
func (g *Generator) Contact(i int) Contact {
	c := &g.contacts[i]
	out := Contact{Person: i, Name: c.first + " " + c.last, Phone: c.phone, WebPhone: c.webPhone, Card: c.card}
	if c.kind != visitor && (c.kind != storeOnly || c.emailPOS) {
		out.Emails = []string{c.email}
		if c.email2 != "" {
			out.Emails = append(out.Emails, c.email2)
		}
	}
	if c.kind != visitor && c.kind != storeOnly && c.kind != regular {
		out.UserID, out.Email, out.AnonymousID = c.userID, c.email, c.webAnon
	}
	return out
}

func favouriteCategories(r *rand.Rand, female bool) [2]int {
	// Fashion for the person, and one home category.
	fashion := []float64{6, 1, 3, 4}
	if !female {
		fashion = []float64{0.5, 6, 3, 2}
	}
	return [2]int{weighted(r, fashion), 4 + r.IntN(4)}
}

// ean13 appends the EAN-13 check digit to 12 digits.
func ean13(d string) string {
	sum := 0
	for i, c := range d {
		n := int(c - '0')
		if i%2 == 1 {
			n *= 3
		}
		sum += n
	}
	return d + fmt.Sprint((10-sum%10)%10)
}

// Ways a phone number is written: in the web account, and at the care desk.
var (
	webPhoneFormats  = []string{"+39 AAA BBBCCCC", "+39AAABBBCCCC", "AAABBBCCCC", "AAA BBBCCCC"}
	carePhoneFormats = []string{"AAA BBB CCCC", "+39 AAA BBB CCCC", "0039 AAA BBBCCCC", "39AAABBBCCCC"}
)

// phoneFormat writes the 10 national digits in one of formats, where
// AAA/BBB/CCCC stand for the digit groups.
func phoneFormat(r *rand.Rand, digits string, formats []string) string {
	return strings.NewReplacer("AAA", digits[:3], "BBB", digits[3:6], "CCCC", digits[6:]).Replace(pick(r, formats))
}

// uniqueEmail draws an e-mail address not used yet.
func uniqueEmail(r *rand.Rand, first, last string, born int, used map[string]bool) string {
	f := strings.ToLower(strings.ReplaceAll(asciiFold(first), " ", ""))
	l := strings.ToLower(strings.ReplaceAll(asciiFold(last), " ", ""))
	yy := fmt.Sprintf("%02d", born%100)
	for attempt := 0; ; attempt++ {
		var local string
		switch weighted(r, []float64{30, 12, 14, 8, 6, 6, 8, 16}) {
		case 0:
			local = f + "." + l
		case 1:
			local = f + l
		case 2:
			local = f + "." + l + yy
		case 3:
			local = f[:1] + "." + l
		case 4:
			local = f + "_" + l
		case 5:
			local = l + "." + f
		case 6:
			local = f + l[:1] + yy
		default:
			local = fmt.Sprintf("%s.%s%d", f, l, 1+r.IntN(999))
		}
		if attempt > 8 {
			local = fmt.Sprintf("%s.%s.%d", f, l, 1000+r.IntN(9_000_000))
		}
		e := local + "@" + emailDomains[weighted(r, emailDomainWeights)]
		if !used[e] {
			used[e] = true
			return e
		}
	}
}
