package e2e

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// seed returns the seed of a randomised test: BOTTEGA_E2E_SEED if set (to
// replay a failure), else a fresh one. It is logged either way.
func seed(t *testing.T) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("BOTTEGA_E2E_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("BOTTEGA_E2E_SEED=%q: %v", v, err)
		}
		s = n
	}
	t.Logf("seed %d (replay with BOTTEGA_E2E_SEED=%d)", s, s)
	return s
}

// TestKill9DuringLoad is reliability test 1 (and issue item 10): 8 clients
// push 100,000 events in 1,000 /v1/batch requests of 100, each retried with
// the same messageIds until acknowledged, while the server is killed with
// SIGKILL 2 or 3 times at random moments and restarted on the same port and
// database. After each kill, with the server down, every acknowledged event
// must be in the log, none twice, and every request stored whole or not at
// all. At the end all 100,000 are stored exactly once and processed exactly
// once (order counts and revenue add up, one profile per user).
func TestKill9DuringLoad(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		rng := rand.New(rand.NewPCG(seed(t), 0x6b696c6c))
		spec := loadSpec{Prefix: "k9", Batches: 1000, PerBatch: 100, Users: 2000, OrderEvery: 10}
		batches := spec.build()
		const source = "kill-load"
		writeKey := createSource(t, dsn, source, "web")
		srv := startServer(t, dsn)
		l := newLoader(srv, writeKey)

		// When to kill: after a random number of acknowledged batches, plus
		// a random delay, so each kill lands amid requests and commits.
		kills := 2 + rng.IntN(2)
		var at []int64
		for len(at) < kills {
			n := int64(spec.Batches/10 + rng.IntN(spec.Batches*8/10))
			if !slices.Contains(at, n) {
				at = append(at, n)
			}
		}
		slices.Sort(at)
		delays := make([]time.Duration, kills)
		for i := range delays {
			delays[i] = time.Duration(rng.IntN(40)) * time.Millisecond
		}
		t.Logf("killing after %v acknowledged batches (+%v)", at, delays)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.run(ctx, 8, batches)
		}()

		for i, n := range at {
			for l.nAcked.Load() < n {
				select {
				case <-done:
					t.Fatalf("the load ended before kill %d: %s; problems %v", i+1, l.summary(), l.problems())
				case <-time.After(2 * time.Millisecond):
				}
			}
			time.Sleep(delays[i])
			srv.Kill()
			acked := l.ackedIDs(batches)
			db := openDB(t, dsn)
			stored := storedIDs(t, db, source)
			db.Close()
			got := checkLog(t, stored, spec, batches, acked, false)
			t.Logf("kill %d after %d acknowledged batches: %d events stored, %d acknowledged", i+1, l.nAcked.Load(), got, len(acked))
			if t.Failed() {
				cancel()
				<-done
				t.FailNow()
			}
			srv.Restart()
		}
		<-done
		loadTime := time.Since(start)
		if p := l.problems(); len(p) > 0 {
			t.Fatalf("unexpected answers: %v", p)
		}
		if l.nAcked.Load() != int64(spec.Batches) {
			t.Fatalf("only %s", l.summary())
		}
		t.Logf("load: %s in %v", l.summary(), loadTime.Round(time.Millisecond))

		// Exactly once in the log.
		db := openDB(t, dsn)
		rows, distinct := countEvents(t, db, source)
		if rows != int64(spec.events()) || distinct != rows {
			t.Errorf("COUNT(*) = %d, COUNT(DISTINCT message_id) = %d; want both %d", rows, distinct, spec.events())
		}
		checkLog(t, storedIDs(t, db, source), spec, batches, l.ackedIDs(batches), true)

		// Exactly once through processing.
		st := srv.WaitProcessed(t)
		t.Logf("processed %d events %v after the load ended", st.Processed, time.Since(start.Add(loadTime)).Round(time.Millisecond))
		if st.Stored != int64(spec.events()) || st.Processed != st.Stored || st.Failed != 0 || st.Quarantined != 0 {
			t.Errorf("stats %+v; want %d stored and processed, none failed or quarantined", st, spec.events())
		}
		if st.Duplicates != l.duplicate.Load() {
			t.Errorf("stats count %d duplicates; the answers reported %d", st.Duplicates, l.duplicate.Load())
		}
		if st.Profiles != int64(spec.Users) {
			t.Errorf("%d profiles; want one per user, %d", st.Profiles, spec.Users)
		}
		orders := scalar(t, db, "SELECT COUNT(*) FROM orders")
		statOrders := scalar(t, db, "SELECT SUM(orders) FROM customer_stats")
		revenue := scalar(t, db, "SELECT SUM(revenue_minor) FROM customer_stats")
		if want := int64(spec.orders()); orders != want || statOrders != want || revenue != want*1000 {
			t.Errorf("%d orders, customer stats %d orders and %d revenue; want %d orders worth %d", orders, statOrders, revenue, want, want*1000)
		}
	})
}
