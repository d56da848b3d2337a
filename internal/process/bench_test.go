package process_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// synthetic returns n events of a shop's usual mix for about n/20 people:
// anonymous page views, logins, product views, orders.
func synthetic(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	people := max(n/20, 1)
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		p := r.IntN(people)
		anon, user := fmt.Sprintf("anon-%d-%d", p, r.IntN(3)), fmt.Sprintf("user-%d", p)
		ts := at(i / 10)
		switch k := r.IntN(100); {
		case k < 50:
			out = append(out, ev("type", q("page"), "anonymousId", q(anon), "name", q("Product"), "timestamp", ts,
				"context", `{"page":{"url":"https://shop.example/p/1","title":"Maglia"},"userAgent":"Mozilla/5.0","ip":"10.0.0.1","campaign":{"source":"google","medium":"cpc","name":"saldi"}}`,
				"properties", `{"url":"https://shop.example/p/1","path":"/p/1"}`))
		case k < 75:
			out = append(out, ev("type", q("track"), "anonymousId", q(anon), "event", q("Product Viewed"), "timestamp", ts,
				"properties", `{"product_id":"p1","sku":"S1","name":"Maglia","price":19.9,"category":"Donna"}`))
		case k < 88:
			out = append(out, ev("type", q("identify"), "anonymousId", q(anon), "userId", q(user), "timestamp", ts,
				"traits", fmt.Sprintf(`{"email":"user%d@example.it","name":"Persona %d","phone":"+39 333 %07d"}`, p, p, p)))
		default:
			out = append(out, ev("type", q("track"), "userId", q(user), "event", q("Order Completed"), "timestamp", ts,
				"properties", fmt.Sprintf(`{"order_id":"o-%d","total":%d.90,"currency":"EUR","products":[{"product_id":"p1","price":19.9,"quantity":1},{"product_id":"p2","price":10,"quantity":2}]}`, i, 20+r.IntN(100))))
		}
	}
	return out
}

// BenchmarkProcess measures how many events per second the processor applies,
// against a baseline that only reads the same events and writes one
// timeline row each (the least any processor must do).
func BenchmarkProcess(b *testing.B) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		b.Run(d.String(), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			h := newHarness(b, db)
			const n = 50000
			evs := synthetic(n, 7)
			for i := 0; i < len(evs); i += 500 {
				h.Ingest("web", evs[i:min(i+500, len(evs))]...)
			}
			b.ResetTimer()
			start := time.Now()
			total := 0
			for {
				k, err := h.Proc.Step(h.ctx)
				if err != nil {
					b.Fatal(err)
				}
				if k == 0 {
					break
				}
				total += k
			}
			el := time.Since(start)
			b.ReportMetric(float64(total)/el.Seconds(), "events/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
