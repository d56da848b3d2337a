package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A load is a list of /v1/batch requests with client-made messageIds, sent by
// a client that retries each request, with the same messageIds, until it is
// acknowledged with a 200: the way Segment's libraries are meant to behave.

// loadBatch is one request of a load.
type loadBatch struct {
	Index int
	IDs   []string
	Body  []byte
}

// loadSpec describes a load's events. Event k (counted across batches) is
// from user k % Users; every OrderEvery-th event is an "Order Completed"
// worth 10.00 EUR with its own order_id, the others "Product Viewed".
type loadSpec struct {
	Prefix     string
	Batches    int
	PerBatch   int
	Users      int
	OrderEvery int
}

func (s loadSpec) events() int { return s.Batches * s.PerBatch }

func (s loadSpec) orders() int {
	if s.OrderEvery <= 0 {
		return 0
	}
	return (s.events() + s.OrderEvery - 1) / s.OrderEvery
}

// batchOfID returns the index of the batch a messageId of this load belongs
// to, or -1.
func (s loadSpec) batchOfID(id string) int {
	rest, ok := strings.CutPrefix(id, s.Prefix+"-b")
	if !ok {
		return -1
	}
	i, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(i)
	if err != nil {
		return -1
	}
	return n
}

func (s loadSpec) build() []loadBatch {
	out := make([]loadBatch, s.Batches)
	sentAt := time.Now().UTC().Format(time.RFC3339Nano)
	for b := range out {
		events := make([]map[string]any, s.PerBatch)
		ids := make([]string, s.PerBatch)
		for i := range events {
			k := b*s.PerBatch + i
			id := fmt.Sprintf("%s-b%05d-e%03d", s.Prefix, b, i)
			ids[i] = id
			ev := map[string]any{
				"type": "track", "messageId": id, "userId": fmt.Sprintf("%s-u%05d", s.Prefix, k%max(1, s.Users)),
				"timestamp": sentAt,
			}
			if s.OrderEvery > 0 && k%s.OrderEvery == 0 {
				ev["event"] = "Order Completed"
				ev["properties"] = map[string]any{"order_id": fmt.Sprintf("%s-o%07d", s.Prefix, k), "total": 10, "currency": "EUR",
					"products": []any{map[string]any{"product_id": "p-" + strconv.Itoa(k%50), "price": 10, "quantity": 1}}}
			} else {
				ev["event"] = "Product Viewed"
				ev["properties"] = map[string]any{"product_id": "p-" + strconv.Itoa(k%50), "price": 19.9, "url": "https://shop.example/p/" + strconv.Itoa(k%50)}
			}
			events[i] = ev
		}
		body, err := json.Marshal(map[string]any{"batch": events, "sentAt": sentAt})
		if err != nil {
			panic(err)
		}
		out[b] = loadBatch{Index: b, IDs: ids, Body: body}
	}
	return out
}

// attempt is one request of a load and its answer.
type attempt struct {
	Batch int
	Start time.Time
	End   time.Time
	Reply Reply
}

// loader sends loads and keeps account of what was acknowledged.
type loader struct {
	srv      *Server
	writeKey string
	// OnReply, if set, sees every attempt as it completes.
	OnReply func(attempt)
	// Pace is how long each client waits between batches.
	Pace time.Duration
	// MaxWait caps the wait before a retry, whatever Retry-After says
	// (default 500 ms).
	MaxWait time.Duration

	acked     sync.Map // batch index → true
	nAcked    atomic.Int64
	attempts  atomic.Int64
	retries   atomic.Int64
	duplicate atomic.Int64 // events a 200 reported as replays

	mu       sync.Mutex
	statuses map[string]int // status code or "error" → count
	bad      []string       // answers that are neither success nor retryable
}

func newLoader(srv *Server, writeKey string) *loader {
	return &loader{srv: srv, writeKey: writeKey, statuses: map[string]int{}}
}

// run sends batches from workers goroutines, each batch until acknowledged,
// and returns when all are acknowledged, one got an answer that must not be
// retried, or ctx is done.
func (l *loader) run(ctx context.Context, workers int, batches []loadBatch) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	next := make(chan loadBatch)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if !l.send(ctx, b) {
					stop() // an answer that must not be retried: give up
					return
				}
				if l.Pace > 0 {
					time.Sleep(l.Pace)
				}
			}
		}()
	}
	defer wg.Wait()
	defer close(next)
	for _, b := range batches {
		select {
		case next <- b:
		case <-ctx.Done():
			return
		}
	}
}

// send posts one batch until a 200 comes back. It returns false if it gave
// up: an answer that must not be retried, or ctx done.
func (l *loader) send(ctx context.Context, b loadBatch) bool {
	backoff := 10 * time.Millisecond
	for try := 0; ; try++ {
		if ctx.Err() != nil {
			return false
		}
		if try > 0 {
			l.retries.Add(1)
		}
		start := time.Now()
		r := l.srv.Post("/v1/batch", l.writeKey, b.Body, nil)
		l.attempts.Add(1)
		if l.OnReply != nil {
			l.OnReply(attempt{Batch: b.Index, Start: start, End: time.Now(), Reply: r})
		}
		key := "error"
		if r.Err == nil {
			key = strconv.Itoa(r.Status)
		}
		l.mu.Lock()
		l.statuses[key]++
		l.mu.Unlock()
		switch {
		case r.Err == nil && r.Status == http.StatusOK:
			var res IngestResult
			if err := json.Unmarshal(r.Body, &res); err != nil || !res.Success || res.Stored+res.Duplicates != len(b.IDs) || len(res.Quarantined) != 0 {
				l.fail("batch %d: 200 with body %s; want success with %d events stored or duplicate (%v)", b.Index, r.Body, len(b.IDs), err)
				return false
			}
			l.duplicate.Add(int64(res.Duplicates))
			if _, dup := l.acked.LoadOrStore(b.Index, true); !dup {
				l.nAcked.Add(1)
			}
			return true
		case r.Err == nil && (r.Status >= 500 || r.Status == http.StatusTooManyRequests):
			// Retryable: the server said nothing was stored, or might be.
		case r.Err != nil:
			// The server is down or went down: the batch may or may not be
			// stored; the retry finds out.
		default:
			l.fail("batch %d: %s; want 200, or a retryable 5xx/429", b.Index, r)
			return false
		}
		maxWait := l.MaxWait
		if maxWait <= 0 {
			maxWait = 500 * time.Millisecond
		}
		wait := min(backoff, maxWait)
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && r.Err == nil {
			wait = min(max(wait, time.Duration(ra)*time.Second), maxWait)
		}
		wait += time.Duration(rand.Int64N(int64(wait)/2 + 1))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		}
		backoff = min(2*backoff, 300*time.Millisecond)
	}
}

func (l *loader) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bad = append(l.bad, fmt.Sprintf(format, args...))
}

// ackedIDs returns every messageId acknowledged so far.
func (l *loader) ackedIDs(batches []loadBatch) []string {
	var out []string
	l.acked.Range(func(k, _ any) bool {
		out = append(out, batches[k.(int)].IDs...)
		return true
	})
	return out
}

func (l *loader) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d batches acknowledged after %d requests (%d retries); answers %v; %d events reported duplicate",
		l.nAcked.Load(), l.attempts.Load(), l.retries.Load(), l.statuses, l.duplicate.Load())
}

// problems returns the answers that should not have come.
func (l *loader) problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bad...)
}

// checkLog checks the events log of source against a load: no messageId
// stored twice, every acknowledged batch stored whole, and every batch stored
// whole or not at all (a request is committed in one transaction). When
// complete is set, every batch must be stored. It returns how many events
// of the load are stored.
func checkLog(t testing.TB, stored map[string]int, spec loadSpec, batches []loadBatch, acked []string, complete bool) int {
	t.Helper()
	perBatch := make([]int, len(batches))
	total := 0
	for id, n := range stored {
		if n != 1 {
			t.Errorf("messageId %s is stored %d times; want once", id, n)
		}
		b := spec.batchOfID(id)
		if b < 0 || b >= len(batches) {
			t.Errorf("the log holds messageId %q, which the load never sent", id)
			continue
		}
		perBatch[b]++
		total++
	}
	missing := 0
	for _, id := range acked {
		if stored[id] == 0 {
			if missing < 10 {
				t.Errorf("acknowledged messageId %s is not stored", id)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d acknowledged events are not stored", missing)
	}
	partial, absent := 0, 0
	for b, n := range perBatch {
		switch {
		case n != 0 && n != spec.PerBatch:
			if partial < 10 {
				t.Errorf("batch %d is stored in part: %d of %d events", b, n, spec.PerBatch)
			}
			partial++
		case n == 0 && complete:
			if absent < 10 {
				t.Errorf("batch %d is not stored; want every batch", b)
			}
			absent++
		}
	}
	if partial+absent > 0 {
		t.Errorf("%d batches stored in part, %d missing", partial, absent)
	}
	return total
}
