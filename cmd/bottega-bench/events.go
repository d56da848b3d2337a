package main

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// generator writes realistic Segment events cheaply: fixed templates with
// numbers appended, no encoding/json. Target and baselines receive bodies
// from the same generator. A generator is not safe for concurrent use: make
// one per client.
//
// The mix is a shop's: 40% page views, 38% product views, 15% identify calls
// (e-mail, name, phone), 7% orders; each event 330–390 bytes. messageIds are
// unique per run (prefix) and per generator (counter).
type generator struct {
	r      *rand.Rand
	prefix string // messageId prefix: run and client
	people int    // people events are drawn from
	n      int    // events written
	ts     []byte // the timestamp of the current request
	buf    []byte
}

// newGenerator returns a generator for client of a run.
func newGenerator(run string, client int, people int, seed uint64) *generator {
	return &generator{
		r:      rand.New(rand.NewPCG(seed, uint64(client))),
		prefix: run + "-" + strconv.Itoa(client) + "-",
		people: max(people, 1),
	}
}

// stamp sets the timestamp of the events of the next request.
func (g *generator) stamp(now time.Time) {
	g.ts = now.UTC().AppendFormat(g.ts[:0], "2006-01-02T15:04:05.000Z")
}

// batch returns a /v1/batch body of n events of the usual mix. The returned
// slice is valid until the next call.
func (g *generator) batch(n int, now time.Time) []byte {
	g.stamp(now)
	b := append(g.buf[:0], `{"batch":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.mixed(b)
	}
	b = append(b, `],"sentAt":"`...)
	b = append(b, g.ts...)
	b = append(b, `"}`...)
	g.buf = b
	return b
}

// single returns a /v1/track body: one product view.
func (g *generator) single(now time.Time) []byte {
	g.stamp(now)
	g.buf = g.productViewed(g.buf[:0], g.r.IntN(g.people))
	return g.buf
}

// identifyBatch returns a /v1/batch body of identify calls for people
// first, first+1, … first+n-1, one each.
func (g *generator) identifyBatch(first, n int, now time.Time) []byte {
	g.stamp(now)
	b := append(g.buf[:0], `{"batch":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.identify(b, first+i)
	}
	b = append(b, `]}`...)
	g.buf = b
	return b
}

func (g *generator) mixed(b []byte) []byte {
	p := g.r.IntN(g.people)
	switch k := g.r.IntN(100); {
	case k < 40:
		return g.page(b, p)
	case k < 78:
		return g.productViewed(b, p)
	case k < 93:
		return g.identify(b, p)
	default:
		return g.order(b, p)
	}
}

func (g *generator) head(b []byte, typ string) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","messageId":"`...)
	b = append(b, g.prefix...)
	b = strconv.AppendInt(b, int64(g.n), 10)
	g.n++
	b = append(b, `","timestamp":"`...)
	b = append(b, g.ts...)
	return append(b, '"')
}

func appendID(b []byte, name, prefix string, p int) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":"`...)
	b = append(b, prefix...)
	b = strconv.AppendInt(b, int64(p), 10)
	return append(b, '"')
}

func (g *generator) ip(b []byte) []byte {
	b = append(b, `"ip":"10.`...)
	b = strconv.AppendInt(b, int64(g.r.IntN(256)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(g.r.IntN(256)), 10)
	b = append(b, `.7"`...)
	return b
}

func (g *generator) page(b []byte, p int) []byte {
	b = g.head(b, "page")
	b = appendID(b, "anonymousId", "anon-", p)
	prod := g.r.IntN(5000)
	b = append(b, `,"name":"Product","properties":{"url":"https://shop.example/p/`...)
	b = strconv.AppendInt(b, int64(prod), 10)
	b = append(b, `","title":"Maglia in cotone"},"context":{`...)
	b = g.ip(b)
	b = append(b, `,"campaign":{"source":"google","medium":"cpc","name":"saldi"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}}`...)
	return b
}

func (g *generator) productViewed(b []byte, p int) []byte {
	b = g.head(b, "track")
	b = appendID(b, "anonymousId", "anon-", p)
	prod := g.r.IntN(5000)
	b = append(b, `,"event":"Product Viewed","properties":{"product_id":"p-`...)
	b = strconv.AppendInt(b, int64(prod), 10)
	b = append(b, `","sku":"SKU-`...)
	b = strconv.AppendInt(b, int64(prod), 10)
	b = append(b, `","name":"Maglia in cotone","price":19.9,"currency":"EUR","category":"Donna"},"context":{`...)
	b = g.ip(b)
	b = append(b, `,"userAgent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}}`...)
	return b
}

func (g *generator) identify(b []byte, p int) []byte {
	b = g.head(b, "identify")
	b = appendID(b, "anonymousId", "anon-", p)
	b = appendID(b, "userId", "user-", p)
	b = append(b, `,"traits":{"email":"person`...)
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, `@example.com","name":"Persona `...)
	b = strconv.AppendInt(b, int64(p), 10)
	b = append(b, `","phone":"+39 333 `...)
	b = appendPadded(b, p%10_000_000, 7)
	b = append(b, `","city":"Milano"},"context":{`...)
	b = g.ip(b)
	b = append(b, `,"library":{"name":"analytics.js","version":"4.1.0"}}}`...)
	return b
}

func (g *generator) order(b []byte, p int) []byte {
	b = g.head(b, "track")
	b = appendID(b, "userId", "user-", p)
	b = append(b, `,"event":"Order Completed","properties":{"order_id":"o-`...)
	b = append(b, g.prefix...)
	b = strconv.AppendInt(b, int64(g.n), 10)
	b = append(b, `","total":59.8,"revenue":49.02,"currency":"EUR","products":[{"product_id":"p-`...)
	b = strconv.AppendInt(b, int64(g.r.IntN(5000)), 10)
	b = append(b, `","price":19.9,"quantity":2},{"product_id":"p-`...)
	b = strconv.AppendInt(b, int64(g.r.IntN(5000)), 10)
	b = append(b, `","price":20,"quantity":1}]},"context":{`...)
	b = g.ip(b)
	b = append(b, `}}`...)
	return b
}

// appendPadded appends v with leading zeros to width digits.
func appendPadded(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
