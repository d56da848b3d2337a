package event_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// batchBody returns a /v1/batch body of n realistic events with unique
// messageIds.
func batchBody(n int, seq *atomic.Int64) []byte {
	var b strings.Builder
	b.WriteString(`{"sentAt":"2026-03-10T12:00:00Z","batch":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := seq.Add(1)
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, `{"type":"page","messageId":"m-%d","anonymousId":"a-%d","name":"Product","timestamp":"2026-03-10T11:59:59.123Z","context":{"page":{"url":"https://shop.example/p/%d","title":"Maglia"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"10.1.2.3","library":{"name":"analytics.js","version":"4.1.0"}},"properties":{"path":"/p/1","referrer":"https://google.com"}}`, id, id%5000, id%150)
		case 1:
			fmt.Fprintf(&b, `{"type":"track","messageId":"m-%d","userId":"u-%d","event":"Product Added","timestamp":"2026-03-10T11:59:59.123Z","properties":{"product_id":"p-%d","sku":"SKU-1","name":"Maglia di lana","price":49.9,"quantity":1,"category":"Donna"},"context":{"library":{"name":"analytics-go","version":"3.3.0"}}}`, id, id%5000, id%150)
		default:
			fmt.Fprintf(&b, `{"type":"identify","messageId":"m-%d","userId":"u-%d","anonymousId":"a-%d","timestamp":"2026-03-10T11:59:59.123Z","traits":{"email":"user%d@example.it","name":"Persona %d","phone":"+39 333 %07d"}}`, id, id%5000, id%5000, id%5000, id%5000, id%5000)
		}
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkIngest measures parse + durable group commit of 100-event batches
// from 8 goroutines, against decoding the same bodies with encoding/json.
func BenchmarkIngest(b *testing.B) {
	var seq atomic.Int64
	bodies := make([][]byte, 400)
	for i := range bodies {
		bodies[i] = batchBody(100, &seq)
	}
	run := func(b *testing.B, fn func(body []byte) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		n := int64(b.N)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= n {
						return
					}
					if err := fn(bodies[i%int64(len(bodies))]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
	}
	b.Run("decode-only", func(b *testing.B) {
		run(b, func(body []byte) error {
			var v map[string]any
			return json.Unmarshal(body, &v)
		})
	})
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		b.Run(d.String(), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			c := event.NewCommitter(db, event.CommitterOptions{})
			go c.Run()
			defer c.Close()
			src, _, err := auth.NewStore(db, time.Now).CreateSource(context.Background(), "web", "web", 0)
			if err != nil {
				b.Fatal(err)
			}
			ig := event.NewIngester(c, event.DefaultLimits(), time.Now)
			var round atomic.Int64
			b.ResetTimer()
			run(b, func(body []byte) error {
				// Each pass over the bodies gets fresh messageIds, so every
				// event is new (a replay would be cheaper).
				r := round.Add(1) / int64(len(bodies))
				if r > 0 {
					body = []byte(strings.ReplaceAll(string(body), `"messageId":"m-`, fmt.Sprintf(`"messageId":"r%d-`, r)))
				}
				req, at, err := ig.Parse("", body)
				if err != nil {
					return err
				}
				_, err = ig.Store(context.Background(), src.ID, at, req)
				return err
			})
		})
	}
}
