package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

const shopURL = "https://www.bottega.example"

// walker draws one person's life in the shop, in time order. Follow-ups
// (refunds, tickets, surveys) are drawn when their cause happens and dated
// later; Person sorts everything at the end.
type walker struct {
	g      *Generator
	c      *contact
	i      int
	r      *rand.Rand
	end    time.Time
	events []Event

	registered   bool      // has a web account (user id)
	signedUpAt   time.Time // when the account was opened
	traitsKnown  bool      // the account's traits were sent within the data's window
	cardKnown    bool      // the loyalty card's owner was sent within the data's window
	birthday     string
	loggedIn     map[string]bool // anonymousId → the account is logged in on that browser or device
	guestEmail   bool            // the e-mail is known from a guest checkout
	cardIssued   bool
	appInstalled bool
	emailNow     string // the account's current address
	emailChanged bool
	consent      *Consent  // preferences first given
	withdrawn    *Consent  // the same with marketing withdrawn, from consentFlip on
	consentFlip  time.Time // when marketing consent is withdrawn (zero: never)
	subscribed   bool      // reads the newsletter (while marketing consent lasts)
	carePhone    string    // the phone as the care desk writes it
	careChannel  string    // whatsapp, email or phone
	satisfaction float64   // latent: what the person thinks of the shop
	churnBoost   float64   // raised by bad experiences
	orders       int
	tickets      int
	lastEnd      time.Time // end of the last session: sessions never overlap
}

// Person returns person i's events in time order.
func (g *Generator) Person(i int) []Event {
	c := &g.contacts[i]
	w := &walker{g: g, c: c, i: i, r: newRand(streamBehaviour, g.behaviour, uint64(i)), end: g.opts.End, loggedIn: map[string]bool{}}
	r := w.r
	w.satisfaction = 8.4 + 1.1*r.NormFloat64()
	w.careChannel = []string{"whatsapp", "email", "phone"}[weighted(r, []float64{35, 45, 20})]
	prefs := map[string]bool{"necessary": true, "analytics": chance(r, 0.82), "marketing": chance(r, 0.55), "personalization": chance(r, 0.6)}
	w.consent = &Consent{CategoryPreferences: prefs}
	w.subscribed = prefs["marketing"] && chance(r, 0.6)
	if prefs["marketing"] && chance(r, 0.1) {
		w.consentFlip = g.start.Add(time.Duration(r.Float64() * float64(Span)))
		off := map[string]bool{}
		for _, k := range []string{"necessary", "analytics", "marketing", "personalization"} {
			off[k] = prefs[k]
		}
		off["marketing"] = false
		w.withdrawn = &Consent{CategoryPreferences: off}
	}
	w.emailNow = c.email
	w.birthday = fmt.Sprintf("%d-%02d-%02d", c.birthYear, 1+r.IntN(12), 1+r.IntN(28))
	if c.phoneDigits != "" {
		w.carePhone = phoneFormat(r, c.phoneDigits, carePhoneFormats)
	}
	switch c.kind {
	case visitor:
		w.visitor()
	case browser:
		w.browser()
	default:
		w.customer()
	}
	slices.SortStableFunc(w.events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return w.events
}

// acquisition draws when the person first meets the shop: more often
// recently (the shop grows) and in busy seasons.
func (w *walker) acquisition() time.Time {
	for {
		f := w.r.Float64()
		t := w.g.start.Add(time.Duration(f * float64(Span)))
		if w.r.Float64() < (0.55+0.9*f)/1.45*season(t)/seasonPeak {
			return t
		}
	}
}

// after returns the next instant after t of a process of perYear events a
// year, modulated by season and weekday (thinning).
func (w *walker) after(t time.Time, perYear float64, channel string) time.Time {
	peak := seasonPeak * 1.7
	for {
		gap := w.r.ExpFloat64() / (perYear * peak) * 365
		if gap > 1000 || math.IsNaN(gap) { // a rate so low the person never comes back
			return w.end
		}
		t = t.Add(days(gap))
		if !t.Before(w.end) || w.r.Float64() < season(t)*weekday(channel, t)/peak {
			return t
		}
	}
}

// hour draws a local time of day for a session on a channel.
func (w *walker) hour(channel string) float64 {
	r := w.r
	if channel == "pos" {
		if chance(r, 0.4) {
			return math.Min(19.4, math.Max(10, 17.5+1.2*r.NormFloat64()))
		}
		return 10 + 9.4*r.Float64()
	}
	switch weighted(r, []float64{25, 30, 45}) {
	case 0:
		return 8 + 15*r.Float64()
	case 1:
		return math.Min(23.5, math.Max(7, 12.8+r.NormFloat64()))
	}
	return math.Min(23.9, math.Max(7, 21+1.3*r.NormFloat64()))
}

// sessionStart places a session on the day of t, after the previous one.
func (w *walker) sessionStart(t time.Time, channel string) time.Time {
	at := atLocal(localDay(t), w.hour(channel))
	if at.Before(w.lastEnd) {
		at = w.lastEnd.Add(time.Duration(5+w.r.IntN(120)) * time.Minute)
	}
	return at
}

// emit adds an event at time at, if it falls within the demo's window.
func (w *walker) emit(at time.Time, source string, m Message) {
	m.MessageID = uuid(w.r)
	w.emitAs(at, source, m)
}

// emitAs adds an event whose messageId is already set, drawing nothing
// random (so the events after it stay as they were).
func (w *walker) emitAs(at time.Time, source string, m Message) {
	at = at.UTC().Truncate(time.Millisecond)
	if !at.Before(w.end) || at.Before(w.g.start) {
		return
	}
	m.Timestamp = timestamp(at)
	w.events = append(w.events, Event{Person: w.i, Source: source, Time: at, Message: m})
}

// consentAt returns the consent preferences in force at t.
func (w *walker) consentAt(t time.Time) *Consent {
	if w.withdrawn != nil && !t.Before(w.consentFlip) {
		return w.withdrawn
	}
	return w.consent
}

// subscriber reports whether the person reads the newsletter at t.
func (w *walker) subscriber(t time.Time) bool {
	return w.subscribed && (w.withdrawn == nil || t.Before(w.consentFlip))
}

// --- sessions on the web shop and in the app ---------------------------------

// visit is a session on the web shop or in the app.
type visit struct {
	channel  string // web or app
	anon     string
	agent    string
	t        time.Time
	campaign *Campaign
	referrer string
	landing  bool
}

func (v *visit) tick(r *rand.Rand) {
	v.t = v.t.Add(time.Duration((3 + lognormal(r, 30, 0.8)) * float64(time.Second)))
}

// opts steer a session for scripted scenarios.
type opts struct {
	anon        string // use this browser
	tablet      bool   // use the household tablet
	signup      bool   // sign up in this session
	link        bool   // add the loyalty card to the web account
	emailChange bool   // change the account's e-mail address
	late        bool   // the order arrives late
	care        string // care channel of the tickets it causes
	acquisition bool
}

func (w *walker) startVisit(at time.Time, channel string, o opts) *visit {
	v := &visit{channel: channel, t: w.sessionStart(at, channel), landing: true}
	switch {
	case channel == "app":
		v.anon = w.c.appAnon
	case o.anon != "":
		v.anon, v.agent = o.anon, userAgents[w.c.agent]
	case o.tablet || w.c.tablet != "" && chance(w.r, 0.4):
		v.anon, v.agent = w.c.tablet, tabletAgent
	case w.c.webAnon2 != "" && v.t.After(w.g.start.Add(Span/2)) && chance(w.r, 0.6):
		v.anon, v.agent = w.c.webAnon2, userAgents[(w.c.agent+1)%len(userAgents)]
	default:
		v.anon, v.agent = w.c.webAnon, userAgents[w.c.agent]
	}
	v.campaign, v.referrer = w.campaign(v.t, o.acquisition)
	return v
}

// campaign draws the UTM campaign (if any) that brought the person in.
func (w *walker) campaign(t time.Time, acquisition bool) (*Campaign, string) {
	r := w.r
	if w.subscriber(t) && w.registered && chance(r, 0.3) {
		return &Campaign{Name: newsletter.name, Source: newsletter.source, Medium: newsletter.medium}, ""
	}
	p := 0.3
	if acquisition {
		p = 0.6
	}
	if !chance(r, p) {
		return nil, pick(r, referrers)
	}
	month := int(localDay(t).Month())
	var live []campaign
	for _, c := range campaigns {
		if c.months == nil || slices.Contains(c.months, month) {
			live = append(live, c)
		}
	}
	c := pick(r, live)
	name := c.name
	if c.yearly {
		name = fmt.Sprintf("%s-%d", c.name, localDay(t).Year())
	}
	ref := map[string]string{"google": "https://www.google.com/", "instagram": "https://l.instagram.com/", "facebook": "https://l.facebook.com/",
		"pinterest": "https://www.pinterest.it/", "awin": "https://www.awin1.com/"}[c.source]
	return &Campaign{Name: name, Source: c.source, Medium: c.medium}, ref
}

func (w *walker) userID(v *visit) string {
	if w.loggedIn[v.anon] {
		return w.c.userID
	}
	return ""
}

func appVersion(t time.Time, start time.Time) (string, string) {
	q := int(t.Sub(start) / (91 * 24 * time.Hour))
	return fmt.Sprintf("3.%d.%d", q, q%3), fmt.Sprintf("3%02d%d", q, q%3)
}

func (w *walker) context(v *visit, page *Page) Context {
	ctx := Context{Channel: v.channel, Locale: "it-IT", Timezone: "Europe/Rome", Consent: w.consentAt(v.t)}
	if v.channel == "app" {
		d := devices[w.c.device]
		version, build := appVersion(v.t, w.g.start)
		ctx.App = &App{Name: "Bottega", Version: version, Build: build, Namespace: "it.bottega.app"}
		ctx.Device = &Device{ID: w.c.appAnon, Manufacturer: d.manufacturer, Model: d.model, Type: d.typ}
		ctx.OS = &OS{Name: d.os, Version: d.osVersion}
		if d.typ == "ios" {
			ctx.Library = &Library{Name: "analytics-swift", Version: "1.5.11"}
		} else {
			ctx.Library = &Library{Name: "analytics-kotlin", Version: "1.15.0"}
		}
	} else {
		ctx.Library = &Library{Name: "analytics.js", Version: "next-1.70.0"}
		ctx.UserAgent = v.agent
		ctx.Page = page
	}
	if v.landing {
		ctx.Campaign = v.campaign
		v.landing = false
	}
	return ctx
}

func (w *walker) track(v *visit, name string, props map[string]any) {
	w.emit(v.t, v.channel, Message{Type: "track", Event: name, UserID: w.userID(v), AnonymousID: v.anon, Properties: props, Context: w.context(v, w.currentPage(v))})
	v.tick(w.r)
}

// currentPage is context.page for track calls on the web: the page they happen on.
func (w *walker) currentPage(v *visit) *Page {
	if v.channel != "web" {
		return nil
	}
	return &Page{Path: "/", URL: shopURL + "/"}
}

func (w *walker) page(v *visit, name, path, title string) {
	p := &Page{Path: path, URL: shopURL + path, Title: title + " | Bottega", Referrer: v.referrer}
	props := map[string]any{"path": p.Path, "url": p.URL, "title": p.Title}
	if p.Referrer != "" {
		props["referrer"] = p.Referrer
	}
	w.emit(v.t, "web", Message{Type: "page", Name: name, UserID: w.userID(v), AnonymousID: v.anon, Properties: props, Context: w.context(v, p)})
	v.referrer = shopURL + path
	v.tick(w.r)
}

func (w *walker) screen(v *visit, name string, props map[string]any) {
	w.emit(v.t, "app", Message{Type: "screen", Name: name, UserID: w.userID(v), AnonymousID: v.anon, Properties: props, Context: w.context(v, nil)})
	v.tick(w.r)
}

func (w *walker) identify(v *visit, userID string, traits map[string]any) {
	w.emit(v.t, v.channel, Message{Type: "identify", UserID: userID, AnonymousID: v.anon, Traits: traits, Context: w.context(v, w.currentPage(v))})
	v.tick(w.r)
}

// signup opens the web account on this browser or device.
func (w *walker) signup(v *visit) {
	w.registered, w.loggedIn[v.anon], w.emailNow, w.signedUpAt = true, true, w.c.email, v.t
	w.identify(v, w.c.userID, w.accountTraits())
	w.traitsKnown = !v.t.Before(w.g.start)
	w.track(v, "Signed Up", map[string]any{"method": "email", "newsletter": w.subscriber(v.t)})
}

// accountTraits are the traits of the web account.
func (w *walker) accountTraits() map[string]any {
	c := w.c
	traits := map[string]any{
		"first_name": c.first, "last_name": c.last, "email": w.emailNow, "city": c.city.name, "country": "IT",
		"created_at": timestamp(w.signedUpAt), "birthday": w.birthday, "gender": "male",
	}
	if c.female {
		traits["gender"] = "female"
	}
	if c.webPhone != "" {
		traits["phone"] = c.webPhone
	}
	return traits
}

// login logs the account in on this browser or device.
func (w *walker) login(v *visit) {
	w.loggedIn[v.anon] = true
	w.identify(v, w.c.userID, map[string]any{"email": w.emailNow})
}

// guest leaves an e-mail address at a guest checkout.
func (w *walker) guest(v *visit) {
	w.identify(v, "", map[string]any{"email": w.c.email, "first_name": w.c.first, "last_name": w.c.last})
	w.guestEmail = true
}

// shop runs a session on the web shop or in the app; buy says whether it
// ends with an order. It returns how much the experience raised the chance
// that the person stops buying.
func (w *walker) shop(at time.Time, channel string, buy bool, o opts) float64 {
	r := w.r
	v := w.startVisit(at, channel, o)
	cat := w.category()
	if channel == "web" {
		switch {
		case v.campaign != nil || chance(r, 0.2):
			w.page(v, "Categoria", "/c/"+w.g.catSlugs[cat], categoryNames[cat])
		default:
			w.page(v, "Home", "/", "Moda e casa made in Italy")
		}
	} else {
		version, build := appVersion(v.t, w.g.start)
		if !w.appInstalled {
			w.track(v, "Application Installed", map[string]any{"version": version, "build": build})
			w.appInstalled = true
		}
		w.track(v, "Application Opened", map[string]any{"from_background": false, "version": version, "build": build})
		w.screen(v, "Home", nil)
	}
	if w.registered && !w.loggedIn[v.anon] && (channel == "app" || chance(r, 0.3)) {
		w.login(v)
	}
	if w.registered && w.loggedIn[v.anon] && !w.traitsKnown && !v.t.Before(w.g.start) {
		// An account opened before the data starts: the site sends its
		// traits again, as analytics.js does on a new session.
		w.identify(v, w.c.userID, w.accountTraits())
		w.traitsKnown = true
	}
	if o.link && w.registered {
		w.identify(v, w.c.userID, map[string]any{"loyalty_card": w.c.card})
	}
	if o.emailChange && w.registered && w.c.email2 != "" {
		w.emailNow, w.emailChanged = w.c.email2, true
		w.identify(v, w.c.userID, map[string]any{"email": w.c.email2})
	}
	if o.signup && !buy && !w.registered {
		w.signup(v)
	}
	w.track(v, "Product List Viewed", map[string]any{"list_id": w.g.catSlugs[cat], "category": categoryNames[cat]})
	n := 1
	for n < 5 && chance(r, 0.45) {
		n++
	}
	viewed := make([]Product, 0, n)
	for range n {
		p := w.product(cat)
		viewed = append(viewed, p)
		if channel == "app" {
			w.screen(v, "Prodotto", map[string]any{"product_id": p.ID})
		}
		w.track(v, "Product Viewed", w.productProps(p, v.t))
	}
	cart := uuid(r)
	if !buy {
		if chance(r, 0.22) { // an abandoned cart
			props := w.productProps(viewed[0], v.t)
			props["cart_id"], props["quantity"] = cart, 1
			w.track(v, "Product Added", props)
			if cart[0] < '8' { // half of these carts reach the checkout and are abandoned there
				w.emitAs(v.t, v.channel, Message{MessageID: "checkout-" + cart, Type: "track", Event: "Checkout Started", UserID: w.userID(v), AnonymousID: v.anon,
					Properties: map[string]any{"checkout_id": cart, "value": props["price"], "currency": "EUR"}, Context: w.context(v, w.currentPage(v))})
			}
		}
		w.lastEnd = v.t
		return 0
	}

	// The cart: viewed products, some recommended or upsold.
	items := []Item{w.item(viewed[r.IntN(len(viewed))], v.t)}
	for len(items) < 5 && chance(r, 0.42) {
		switch {
		case chance(r, 0.15):
			it := w.item(w.product(r.IntN(len(categoryNames))), v.t)
			it.Recommended = true
			items = append(items, it)
		case chance(r, 0.08):
			it := w.item(w.cheapProduct(), v.t)
			it.Upsell = true
			items = append(items, it)
		default:
			items = append(items, w.item(w.product(w.category()), v.t))
		}
	}
	for k := range items {
		items[k].Position = k + 1
		props := map[string]any{"cart_id": cart, "product_id": items[k].ProductID, "sku": items[k].SKU, "name": items[k].Name,
			"category": items[k].Category, "brand": items[k].Brand, "variant": items[k].Variant, "price": items[k].Price,
			"quantity": items[k].Quantity, "currency": "EUR", "position": k + 1}
		if items[k].Recommended {
			props["recommended"] = true
		}
		if items[k].Upsell {
			props["upsell"] = true
		}
		w.track(v, "Product Added", props)
	}
	if channel == "web" {
		w.page(v, "Carrello", "/carrello", "Carrello")
	} else {
		w.screen(v, "Carrello", nil)
	}
	if !w.loggedIn[v.anon] {
		switch {
		case w.registered:
			w.login(v)
		case o.signup || channel == "app" || v.anon == w.c.tablet || chance(r, 0.8):
			w.signup(v)
		default:
			w.guest(v)
		}
	}
	w.orders++
	prefix := "W"
	if channel == "app" {
		prefix = "A"
	}
	ord := w.newOrder(orderID(prefix, w.i, w.orders), channel, "", v.t, items, v.campaign)
	ord.userID, ord.anon = w.userID(v), v.anon
	w.track(v, "Checkout Started", map[string]any{"order_id": ord.id, "value": ord.subtotal, "revenue": ord.subtotal - ord.discount,
		"currency": "EUR", "products": items})
	if channel == "web" {
		w.page(v, "Checkout", "/checkout", "Pagamento")
	}
	ord.at = v.t
	w.track(v, "Order Completed", ord.properties())
	w.lastEnd = v.t
	return w.afterOnlineOrder(ord, o)
}

func (w *walker) category() int {
	x := w.r.Float64()
	switch {
	case x < 0.5:
		return w.c.favourite[0]
	case x < 0.75:
		return w.c.favourite[1]
	}
	return w.r.IntN(len(categoryNames))
}

// product draws a product of a category; the first articles sell most.
func (w *walker) product(cat int) Product {
	list := w.g.byCategory[cat]
	return w.g.catalogue[list[int(float64(len(list))*math.Pow(w.r.Float64(), 1.7))]]
}

func (w *walker) cheapProduct() Product {
	for {
		p := w.g.catalogue[w.r.IntN(len(w.g.catalogue))]
		if p.Price <= 4000 {
			return p
		}
	}
}

// price is what a product costs on a day: fashion is 30% off during the
// January and July sales.
func price(p Product, t time.Time) Money {
	d := localDay(t)
	m, day := d.Month(), d.Day()
	if p.Fashion && (m == time.January && day >= 2 || m == time.February || m == time.July || m == time.August) {
		return p.Price * 7 / 100 * 10
	}
	return p.Price
}

func (w *walker) productProps(p Product, t time.Time) map[string]any {
	return map[string]any{"product_id": p.ID, "sku": p.SKU, "name": p.Name, "category": p.Category, "brand": p.Brand,
		"variant": p.Variant, "price": price(p, t), "currency": "EUR", "url": shopURL + "/p/" + p.Slug}
}

func (w *walker) item(p Product, t time.Time) Item {
	q := 1
	if chance(w.r, 0.07) || !p.Fashion && chance(w.r, 0.08) {
		q = 2
	}
	return Item{ProductID: p.ID, SKU: p.SKU, Name: p.Name, Category: p.Category, Brand: p.Brand, Variant: p.Variant,
		Price: price(p, t), Quantity: q, URL: shopURL + "/p/" + p.Slug}
}

// --- orders ------------------------------------------------------------------

// order is an order being placed, and who placed it.
type order struct {
	id       string
	channel  string // web, app or pos
	store    string
	at       time.Time
	items    []Item
	subtotal Money
	discount Money
	shipping Money
	total    Money
	coupon   string
	payment  string
	fashion  float64 // share of the value in fashion articles
	userID   string
	anon     string
}

func (w *walker) newOrder(id, channel, store string, at time.Time, items []Item, camp *Campaign) *order {
	r := w.r
	o := &order{id: id, channel: channel, store: store, at: at, items: items}
	var fashion Money
	for _, it := range items {
		o.subtotal += it.Price * Money(it.Quantity)
		if isFashion(it.Category) {
			fashion += it.Price * Money(it.Quantity)
		}
	}
	o.fashion = float64(fashion) / float64(max(1, o.subtotal))
	d := localDay(at)
	percent := 0
	switch {
	case d.Month() == time.November && d.Day() >= 24 || d.Month() == time.December && d.Day() == 1:
		if chance(r, 0.5) {
			o.coupon, percent = "BLACKFRIDAY20", 20
		}
	case channel != "pos" && w.orders == 1 && chance(r, 0.35):
		o.coupon, percent = "BENVENUTO10", 10
	case camp != nil && camp.Medium == "email" && chance(r, 0.3):
		o.coupon, percent = "NEWS15", 15
	}
	o.discount = o.subtotal * Money(percent) / 100
	if channel != "pos" && o.subtotal-o.discount < 4900 {
		o.shipping = 590
	}
	o.total = o.subtotal - o.discount + o.shipping
	if channel == "pos" {
		o.payment = []string{"carta", "contanti", "satispay"}[weighted(r, []float64{70, 25, 5})]
	} else {
		o.payment = []string{"carta di credito", "paypal", "satispay", "contrassegno"}[weighted(r, []float64{55, 30, 8, 7})]
	}
	return o
}

func isFashion(category string) bool {
	for _, c := range categoryNames[:4] {
		if c == category {
			return true
		}
	}
	return false
}

func (o *order) properties() map[string]any {
	p := map[string]any{"order_id": o.id, "total": o.total, "revenue": o.subtotal - o.discount, "shipping": o.shipping,
		"tax": o.total * 22 / 122, "currency": "EUR", "products": o.items, "payment_method": o.payment}
	if o.discount > 0 {
		p["discount"], p["coupon"] = o.discount, o.coupon
	}
	if o.store != "" {
		p["store_id"] = o.store
	}
	return p
}

// backend sends an event about an order from the shop's systems, with the
// identity the order was placed under.
func (w *walker) backend(o *order, at time.Time, name string, props map[string]any) {
	ctx := Context{Channel: o.channel, Library: &Library{Name: "analytics-node", Version: "2.1.0"}}
	source := o.channel
	if o.channel == "pos" {
		ctx = w.posContext(o.store, nil)
		props["store_id"] = o.store
	}
	w.emit(at, source, Message{Type: "track", Event: name, UserID: o.userID, AnonymousID: o.anon, Properties: props, Context: ctx})
}

// afterOnlineOrder draws what happens after a web or app order: a
// cancellation, late delivery, a return, care tickets, an NPS answer.
func (w *walker) afterOnlineOrder(o *order, opt opts) float64 {
	r := w.r
	if o.at.Before(w.g.start) {
		return 0 // before the data starts
	}
	if !opt.late && chance(r, 0.055) {
		w.backend(o, o.at.Add(time.Duration(1+9*r.Float64())*time.Hour), "Order Cancelled", map[string]any{
			"order_id": o.id, "total": o.total, "currency": "EUR",
			"reason": pick(r, []string{"il cliente ha cambiato idea", "indirizzo errato", "pagamento non riuscito"})})
		return 0.05
	}
	late := opt.late || chance(r, 0.09)
	promised := o.at.Add(days(4))
	delivered := o.at.Add(days(1 + 2.5*r.Float64()))
	if late {
		delivered = promised.Add(days(2 + 6*r.Float64()))
	}
	bad := 0.0
	ticketed := false
	if late {
		bad += 0.12
		if opt.late || chance(r, 0.5) {
			ticketed = w.ticket(promised.Add(days(0.5+r.Float64())), "Ordine in ritardo", o.id, opt.care, false)
		}
	}
	refunded := chance(r, 0.03+0.09*o.fashion+map[bool]float64{true: 0.05}[late])
	if refunded {
		returned := o.items
		if len(o.items) > 1 && chance(r, 0.5) {
			returned = []Item{o.items[r.IntN(len(o.items))]}
		}
		var amount Money
		for _, it := range returned {
			amount += it.Price * Money(it.Quantity)
		}
		at := delivered.Add(days(3 + 15*r.Float64()))
		if chance(r, 0.35) {
			ticketed = w.ticket(at.Add(-days(2)), "Richiesta di reso", o.id, opt.care, false) || ticketed
		}
		w.backend(o, at, "Order Refunded", map[string]any{"order_id": o.id, "total": amount, "currency": "EUR",
			"products": returned, "reason": pick(r, refundReasons)})
		bad += 0.08
	}
	if !ticketed && chance(r, 0.02) {
		ticketed = w.ticket(delivered.Add(-days(r.Float64())), pick(r, questionSubjects), o.id, opt.care, false)
	}
	if chance(r, 0.2) {
		w.nps(o, delivered.Add(days(2+5*r.Float64())), late, refunded, ticketed)
	}
	return bad
}

// nps records an answer to the post-purchase NPS e-mail: the score follows
// the person's experience.
func (w *walker) nps(o *order, at time.Time, late, refunded, ticketed bool) {
	r := w.r
	s := w.satisfaction + 0.9*r.NormFloat64()
	if late {
		s -= 3.5
	}
	if refunded {
		s -= 2.5
	}
	if ticketed {
		s -= 1.2
	}
	score := int(math.Round(math.Max(0, math.Min(10, s))))
	props := map[string]any{"survey_type": "nps", "survey_id": "nps-post-acquisto", "score": score, "order_id": o.id,
		"question": "Quanto è probabile che consiglieresti Bottega a un amico o a un collega?"}
	if chance(r, 0.65) {
		band := 0
		if score >= 9 {
			band = 2
		} else if score >= 7 {
			band = 1
		}
		props["comment"] = pick(r, npsComments[band])
	}
	if score <= 6 {
		w.churnBoost += 0.08
	}
	m := Message{Type: "track", Event: "Survey Responded", Properties: props,
		Context: Context{Channel: "web", Library: &Library{Name: "analytics.js", Version: "next-1.70.0"}, Locale: "it-IT",
			Page: &Page{Path: "/sondaggio/nps", URL: shopURL + "/sondaggio/nps"}, Consent: w.consentAt(at)}}
	switch {
	case o.userID != "":
		m.UserID, m.AnonymousID = o.userID, o.anon
	case o.anon != "" && o.channel != "pos":
		m.AnonymousID = o.anon
	case w.registered:
		m.UserID, m.AnonymousID = w.c.userID, w.c.webAnon
	default:
		return
	}
	w.emit(at, "web", m)
}

// --- customer care -----------------------------------------------------------

// ticket opens a care ticket at time at, answered and resolved by the care
// desk, maybe followed by a CSAT answer. It reports false when the desk has
// no way to know who the customer is (nothing is recorded then).
func (w *walker) ticket(at time.Time, subject, orderID, channel string, oldEmail bool) bool {
	r := w.r
	c := w.c
	if channel == "" {
		channel = w.careChannel
	}
	phoneKnown := c.phone != "" && (c.webPhone != "" && w.registered || c.phonePOS && w.cardIssued)
	emailKnown := w.registered || w.guestEmail || c.emailPOS && w.cardIssued
	if channel != "email" && !phoneKnown {
		channel = "email"
	}
	if channel == "email" && !emailKnown {
		if !phoneKnown {
			return false
		}
		channel = "whatsapp"
	}
	traits := map[string]any{}
	if channel == "email" {
		switch {
		case oldEmail || w.emailChanged && chance(r, 0.5):
			traits["email"] = c.email
		default:
			traits["email"] = w.emailNow
		}
	} else {
		traits["phone"] = w.carePhone
		if c.role == WhatsAppPhone {
			traits["phone"] = c.phoneDigits[:3] + " " + c.phoneDigits[3:6] + " " + c.phoneDigits[6:]
		}
	}
	w.tickets++
	id := fmt.Sprintf("T%d-%02d", 100000+w.i, w.tickets)
	send := func(t time.Time, name string, props map[string]any) {
		props["ticket_id"], props["channel"], props["subject"] = id, channel, subject
		w.emit(t, "care", Message{Type: "track", Event: name, AnonymousID: c.careAnon, Properties: props,
			Context: Context{Channel: "care", Library: &Library{Name: "bottega-care", Version: "1.4.0"}, Traits: traits}})
	}
	created := map[string]any{"priority": []string{"normale", "alta"}[weighted(r, []float64{80, 20})]}
	if orderID != "" {
		created["order_id"] = orderID
	}
	send(at, "Ticket Created", created)
	var first, resolve float64 // minutes
	switch channel {
	case "whatsapp":
		first, resolve = lognormal(r, 14, 1.0), lognormal(r, 200, 1.0)
	case "phone":
		first, resolve = 0.5+3*r.Float64(), lognormal(r, 25, 1.2)
	default:
		first, resolve = lognormal(r, 300, 0.9), lognormal(r, 1500, 0.8)
	}
	resolve = math.Max(resolve, first+5)
	firstAt := at.Add(time.Duration(first * float64(time.Minute)))
	send(firstAt, "Ticket Replied", map[string]any{"author": "agent", "first_response": true, "response_minutes": math.Round(first)})
	if chance(r, 0.3) && resolve > first+30 {
		mid := firstAt.Add(time.Duration((resolve - first) / 3 * float64(time.Minute)))
		send(mid, "Ticket Replied", map[string]any{"author": "customer"})
		send(mid.Add(time.Duration((resolve-first)/3*float64(time.Minute))), "Ticket Replied", map[string]any{"author": "agent", "first_response": false})
	}
	doneAt := at.Add(time.Duration(resolve * float64(time.Minute)))
	send(doneAt, "Ticket Resolved", map[string]any{"resolution": pick(r, []string{"risolto", "rimborso emesso", "spedizione sollecitata", "informazioni fornite"}),
		"first_response_minutes": math.Round(first), "resolution_hours": math.Round(resolve/60*10) / 10})
	if chance(r, 0.45) {
		s := 4.4 + 0.7*r.NormFloat64()
		if first > 240 {
			s -= 0.8
		}
		if resolve > 48*60 {
			s -= 1.0
		}
		score := int(math.Round(math.Max(1, math.Min(5, s))))
		props := map[string]any{"survey_type": "csat", "survey_id": "csat-assistenza", "score": score,
			"question": "Quanto sei soddisfatto dell'assistenza ricevuta?"}
		if chance(r, 0.4) {
			props["comment"] = pick(r, csatComments)
		}
		w.emit(doneAt.Add(time.Duration(10+r.IntN(600))*time.Minute), "care", Message{Type: "track", Event: "Survey Responded", AnonymousID: c.careAnon,
			Properties: props, Context: Context{Channel: "care", Library: &Library{Name: "bottega-care", Version: "1.4.0"}, Traits: traits}})
	}
	w.churnBoost += 0.02
	return true
}

// --- stores ------------------------------------------------------------------

func (w *walker) posContext(store string, traits map[string]any) Context {
	return Context{Channel: "pos", Library: &Library{Name: "bottega-pos", Version: "2.3.1"}, Traits: traits,
		ExternalIDs: []ExternalID{{ID: w.c.card, Type: "loyalty_card", Collection: "users", Encoding: "none"}}}
}

// store runs a visit to a store that ends with a purchase.
func (w *walker) store(at time.Time) float64 {
	r := w.r
	c := w.c
	at = w.sessionStart(at, "pos")
	store := c.city.store
	if store == "" || chance(r, 0.08) {
		store = pick(r, Stores())
	}
	if !w.cardIssued || !w.cardKnown && !at.Before(w.g.start) {
		// The card is issued, or (for a card from before the data
		// starts) the till sends its owner's details when it is scanned.
		traits := map[string]any{"first_name": c.first, "last_name": c.last, "loyalty_card": c.card, "city": c.city.name}
		if c.phonePOS {
			traits["phone"] = c.phoneDigits
		}
		if c.emailPOS {
			traits["email"] = c.email
		}
		w.emit(at, "pos", Message{Type: "identify", AnonymousID: c.posAnon, Traits: traits, Context: w.posContext(store, nil)})
		w.cardIssued, w.cardKnown = true, !at.Before(w.g.start)
		at = at.Add(time.Duration(30+r.IntN(120)) * time.Second)
	}
	n := 1
	for n < 6 && chance(r, 0.45) {
		n++
	}
	items := make([]Item, n)
	for k := range items {
		items[k] = w.item(w.product(w.category()), at)
		items[k].Position = k + 1
		items[k].URL = ""
	}
	w.orders++
	ord := w.newOrder(orderID(map[string]string{storeMilano: "MI", storeTorino: "TO", storeRoma: "RM"}[store], w.i, w.orders), "pos", store, at, items, nil)
	ord.anon = c.posAnon
	var traits map[string]any
	if c.role != LoyaltyCardWeb && chance(r, 0.08) {
		traits = map[string]any{"email": w.emailNow} // the customer asks for an e-receipt
	}
	w.emit(at, "pos", Message{Type: "track", Event: "Order Completed", AnonymousID: c.posAnon, Properties: ord.properties(), Context: w.posContext(store, traits)})
	w.lastEnd = at.Add(10 * time.Minute)
	bad := 0.0
	if at.Before(w.g.start) {
		return 0 // before the data starts
	}
	if chance(r, 0.02+0.06*ord.fashion) {
		returned := []Item{items[r.IntN(len(items))]}
		amount := returned[0].Price * Money(returned[0].Quantity)
		w.backend(ord, atLocal(localDay(at.Add(days(2+20*r.Float64()))), w.hour("pos")), "Order Refunded", map[string]any{
			"order_id": ord.id, "total": amount, "currency": "EUR", "products": returned, "reason": pick(r, refundReasons)})
		bad += 0.05
	}
	if w.registered && chance(r, 0.05) {
		w.nps(ord, at.Add(days(1+3*r.Float64())), false, false, false)
	}
	return bad
}

// --- lives -------------------------------------------------------------------

// visitor browses a few times and never says who they are.
func (w *walker) visitor() {
	t := w.acquisition()
	n := 1
	for n < 4 && chance(w.r, 0.4) {
		n++
	}
	for k := range n {
		if k > 0 {
			t = t.Add(days(w.r.ExpFloat64() * 8))
		}
		if !t.Before(w.end) {
			return
		}
		w.shop(t, "web", false, opts{acquisition: k == 0})
	}
}

// browser opens an account (or subscribes) but never buys.
func (w *walker) browser() {
	t := w.acquisition()
	n := 2 + w.r.IntN(4)
	at := w.r.IntN(n)
	for k := range n {
		if k > 0 {
			t = t.Add(days(w.r.ExpFloat64() * 25))
		}
		if !t.Before(w.end) {
			return
		}
		ch := "web"
		if w.registered && chance(w.r, 0.2) {
			ch = "app"
		}
		w.shop(t, ch, false, opts{acquisition: k == 0, signup: k == at})
	}
}

// parameters draws the person's purchase rate (a year) and the chance of
// stopping after each purchase: BG/NBD-style heterogeneity.
func (w *walker) parameters() (rate, dropout, browse float64) {
	r := w.r
	switch w.c.kind {
	case regular:
		rate, dropout = gamma(r, 10, 4.5), beta(r, 1, 60)
		return rate, dropout, 0.5
	case storeOnly:
		rate, dropout = gamma(r, 1.3, 2.4), beta(r, 1.1, 2.2)
		return rate, dropout, 0
	case omni:
		rate, dropout = gamma(r, 1.3, 2.6), beta(r, 1, 2.6)
		return rate, dropout, 0.6*rate + 1.5
	}
	rate, dropout = gamma(r, 1.1, 2.4), beta(r, 1.1, 2.0)
	return rate, dropout, 1.3*rate + 2.5
}

func (w *walker) purchaseChannel() string {
	r := w.r
	switch w.c.kind {
	case appBuyer:
		return []string{"app", "web"}[weighted(r, []float64{70, 30})]
	case storeOnly:
		return "pos"
	case omni:
		return []string{"pos", "web", "app"}[weighted(r, []float64{55, 35, 10})]
	case regular:
		return []string{"pos", "web"}[weighted(r, []float64{94, 6})]
	}
	return "web"
}

func (w *walker) browseChannel() string {
	switch w.c.kind {
	case appBuyer:
		return []string{"app", "web"}[weighted(w.r, []float64{70, 30})]
	case omni:
		if w.appInstalled && chance(w.r, 0.3) {
			return "app"
		}
	}
	return "web"
}

func (w *walker) purchase(at time.Time, channel string, o opts) float64 {
	if channel == "pos" {
		return w.store(at)
	}
	return w.shop(at, channel, true, o)
}

// customer buys according to their rate until they stop or the data ends;
// scenario people first live their script. After every purchase, the first
// included, the person may stop buying (more likely after a bad experience).
func (w *walker) customer() {
	r := w.r
	rate, dropout, browse := w.parameters()
	var t time.Time
	bad := 0.0
	if w.c.role != "" {
		t = w.script()
	} else {
		t = w.acquisition()
		if chance(r, 0.25) {
			// A customer from before the data starts: what they did
			// earlier is not in the demo, only what they do next.
			t = w.g.start.Add(-days(365 * r.Float64()))
		}
		first := w.purchaseChannel()
		switch {
		case first == "pos":
			bad = w.store(t)
		case chance(r, 0.35): // buys on the first visit, often from a campaign
			bad = w.shop(t, first, true, opts{acquisition: true})
		default:
			w.shop(t, first, false, opts{acquisition: true})
			if chance(r, 0.12) { // never comes back to buy
				return
			}
			t = t.Add(days(w.r.ExpFloat64() * 6))
			if !t.Before(w.end) {
				return
			}
			bad = w.purchase(t, first, opts{})
		}
	}
	for {
		// Customers from before the data starts are those still buying then.
		if w.c.role == "" && !t.Before(w.g.start) && chance(r, math.Min(0.95, dropout+bad+w.churnBoost)) {
			// Gone: a last look or two, then silence.
			if browse > 0 && chance(r, 0.4) {
				w.shop(t.Add(days(10+50*r.Float64())), w.browseChannel(), false, opts{})
			}
			return
		}
		next := w.after(t, rate, w.purchaseChannel())
		if browse > 0 {
			for s := w.after(t, browse, "web"); s.Before(next) && s.Before(w.end); s = w.after(s, browse, "web") {
				w.shop(s, w.browseChannel(), false, opts{link: w.cardIssued && w.registered && chance(r, 0.15)})
			}
		}
		if !next.Before(w.end) {
			return
		}
		bad = w.purchase(next, w.purchaseChannel(), opts{link: w.c.kind == omni && w.cardIssued && w.registered && chance(r, 0.1)})
		t = next
	}
}

// script lives a scenario person's fixed start and returns when it ends.
func (w *walker) script() time.Time {
	c := w.c
	t := w.g.start.Add(time.Duration(c.scriptFrac * float64(Span)))
	switch c.role {
	case AnonymousThenLogin:
		w.shop(t, "web", false, opts{anon: c.webAnon, acquisition: true})
		t = t.Add(days(2))
		w.shop(t, "web", true, opts{anon: c.webAnon, signup: true})
	case LoyaltyCardWeb:
		w.store(t)
		t = t.Add(days(15))
		w.store(t)
		t = t.Add(days(15))
		w.shop(t, "web", true, opts{anon: c.webAnon, signup: true})
		t = t.Add(days(15))
		w.shop(t, "web", false, opts{anon: c.webAnon, link: true})
		t = t.Add(days(10))
		w.store(t)
	case WhatsAppPhone:
		w.shop(t, "web", true, opts{anon: c.webAnon, signup: true, late: true, care: "whatsapp"})
		w.careChannel = "whatsapp"
	case SharedTablet:
		w.shop(t, "web", true, opts{tablet: true, signup: true})
		t = t.Add(days(20))
		w.shop(t, "web", true, opts{tablet: true})
	case TwoEmails:
		w.shop(t, "web", true, opts{anon: c.webAnon, signup: true})
		t = t.Add(days(60))
		w.shop(t, "web", false, opts{anon: c.webAnon, emailChange: true})
		t = t.Add(days(30))
		w.ticket(atLocal(localDay(t), 10.5), "Fattura per l'ordine", "", "email", true)
	}
	return t
}
