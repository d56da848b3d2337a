package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client talks to one server under test with keep-alive connections.
type client struct {
	http  *http.Client
	base  string
	creds credentials
}

// newClient returns a client for base keeping up to conns idle connections.
func newClient(base string, conns int, creds credentials) *client {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, base: base, creds: creds}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// answer is what an ingestion call answered.
type answer struct {
	status      int
	stored      int
	duplicates  int
	quarantined int
}

// ingest posts a body to an ingestion endpoint such as /v1/batch.
func (c *client) ingest(ctx context.Context, path string, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(c.creds.writeKey, "")
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if err != nil {
		return a, err
	}
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("%s: %d %s", path, resp.StatusCode, bytes.TrimSpace(data))
	}
	var out struct {
		Stored      *int              `json:"stored"`
		Duplicates  int               `json:"duplicates"`
		Quarantined []json.RawMessage `json:"quarantined"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return a, fmt.Errorf("%s: unreadable answer %q: %v", path, data, err)
	}
	a.stored, a.duplicates, a.quarantined = -1, out.Duplicates, len(out.Quarantined)
	if out.Stored != nil {
		a.stored = *out.Stored
	}
	return a, nil
}

// get fetches an API path with the API key and returns status and body.
func (c *client) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.creds.apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// pipeline is bottega's /api/v1/stats.
type pipeline struct {
	Stored      int64   `json:"events_stored"`
	Duplicates  int64   `json:"events_duplicate"`
	Quarantined int64   `json:"events_quarantined"`
	Processed   int64   `json:"events_processed"`
	Failed      int64   `json:"events_failed"`
	Pending     int64   `json:"events_pending"`
	Profiles    int64   `json:"profiles"`
	LagSeconds  float64 `json:"lag_seconds"`
}

func (c *client) stats(ctx context.Context) (pipeline, error) {
	status, data, err := c.get(ctx, "/api/v1/stats")
	if err != nil {
		return pipeline{}, err
	}
	if status != http.StatusOK {
		return pipeline{}, fmt.Errorf("/api/v1/stats: %d %s", status, data)
	}
	var p pipeline
	return p, json.Unmarshal(data, &p)
}

// waitProcessed polls the stats until nothing is pending, calling each with
// every reading.
func (c *client) waitProcessed(ctx context.Context, every time.Duration, timeout time.Duration, each func(time.Time, pipeline)) (pipeline, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := c.stats(ctx)
		if err != nil {
			return st, err
		}
		if each != nil {
			each(time.Now(), st)
		}
		if st.Pending == 0 {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%d events still pending after %s", st.Pending, timeout)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(every):
		}
	}
}

// metrics fetches /metrics.
func (c *client) metrics(ctx context.Context) (string, error) {
	status, data, err := c.get(ctx, "/metrics")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("/metrics: %d", status)
	}
	return string(data), nil
}

// tally counts what a load produced. Counts "in the window" are of requests
// completed inside the measured window, whenever they started; the others
// cover every request, warm-up and tail included, for the durability checks.
type tally struct {
	requests int64 // succeeded in the window
	events   int64 // events of those requests
	failures int64 // failed in the window
	lat      []time.Duration

	okRequests  int64 // succeeded, any time
	okEvents    int64 // events sent in requests that succeeded, any time
	stored      int64 // events the answers said were stored, any time
	duplicates  int64
	quarantined int64
	statuses    map[int]int64 // failed requests by status (0: transport error)
	firstError  string
	late        int64 // open loop: sends skipped because too many were in flight
}

func (t *tally) record(a answer, events int, err error, inWindow bool, lat time.Duration) {
	if err != nil {
		if t.statuses == nil {
			t.statuses = map[int]int64{}
		}
		t.statuses[a.status]++
		if t.firstError == "" {
			t.firstError = err.Error()
		}
		if inWindow {
			t.failures++
		}
		return
	}
	t.okRequests++
	t.okEvents += int64(events)
	if a.stored >= 0 {
		t.stored += int64(a.stored)
	}
	t.duplicates += int64(a.duplicates)
	t.quarantined += int64(a.quarantined)
	if inWindow {
		t.requests++
		t.events += int64(events)
		t.lat = append(t.lat, lat)
	}
}

func (t *tally) merge(o *tally) {
	t.requests += o.requests
	t.events += o.events
	t.failures += o.failures
	t.lat = append(t.lat, o.lat...)
	t.okRequests += o.okRequests
	t.okEvents += o.okEvents
	t.stored += o.stored
	t.duplicates += o.duplicates
	t.quarantined += o.quarantined
	t.late += o.late
	for k, v := range o.statuses {
		if t.statuses == nil {
			t.statuses = map[int]int64{}
		}
		t.statuses[k] += v
	}
	if t.firstError == "" {
		t.firstError = o.firstError
	}
}

// errorSummary says which requests failed, or "".
func (t *tally) errorSummary() string {
	if len(t.statuses) == 0 {
		return ""
	}
	codes := make([]int, 0, len(t.statuses))
	for c := range t.statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		name := strconv.Itoa(c)
		if c == 0 {
			name = "transport error"
		}
		parts = append(parts, fmt.Sprintf("%d× %s", t.statuses[c], name))
	}
	return strings.Join(parts, ", ") + "; first: " + clip(t.firstError, 300)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// call is one request of a load: it returns the answer and how many events
// the request carried.
type call func(ctx context.Context) (answer, int, error)

// closedLoop runs clients that each send a request as soon as the previous
// one is answered: warm-up first, then the measured window.
func closedLoop(ctx context.Context, clients int, warmup, window time.Duration, newCall func(client int) call) *tally {
	start := time.Now()
	from, to := start.Add(warmup), start.Add(warmup+window)
	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	for i := range clients {
		do := newCall(i)
		wg.Go(func() {
			t := &tallies[i]
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(to) {
					return
				}
				a, n, err := do(ctx)
				t1 := time.Now()
				t.record(a, n, err, !t1.Before(from) && !t1.After(to), t1.Sub(t0))
				if err != nil && a.status == 0 {
					// A transport error: do not spin.
					time.Sleep(10 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	var all tally
	for i := range tallies {
		all.merge(&tallies[i])
	}
	return &all
}

// openLoop sends a request every interval for window, whatever the answers,
// and measures each latency from the moment the request was due (so a slow
// answer cannot hide the requests it delayed: no coordinated omission).
// next is called in order, from one goroutine, to make each request;
// the request itself runs in its own goroutine. At most maxInFlight
// requests are outstanding; a request due when that many are in flight is
// skipped and counted as late.
func openLoop(ctx context.Context, interval, window time.Duration, maxInFlight int, next func(i int) call) *tally {
	start := time.Now()
	end := start.Add(window)
	sem := make(chan struct{}, maxInFlight)
	var (
		mu  sync.Mutex
		all tally
		wg  sync.WaitGroup
	)
	for i := 0; ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(end) {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		do := next(i)
		select {
		case sem <- struct{}{}:
		default:
			mu.Lock()
			all.late++
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			a, n, err := do(ctx)
			lat := time.Since(due)
			mu.Lock()
			all.record(a, n, err, true, lat)
			mu.Unlock()
		})
	}
	wg.Wait()
	return &all
}

// latencies summarises a sample of durations in milliseconds.
type latencies struct {
	p50, p95, p99, max float64
}

func summarize(lat []time.Duration) latencies {
	if len(lat) == 0 {
		return latencies{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	return latencies{p50: q(0.50), p95: q(0.95), p99: q(0.99), max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sendAll sends requests numbered 0…n-1 from clients in parallel, each
// request as soon as the client's previous one is answered, and returns the
// tally and how long it took. A failed request is retried (the server
// deduplicates by messageId) up to 5 times.
func sendAll(ctx context.Context, clients, n int, newCall func(client int) func(ctx context.Context, k int) (answer, int, error)) (*tally, time.Duration) {
	start := time.Now()
	var next atomic.Int64
	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	for i := range clients {
		do := newCall(i)
		wg.Go(func() {
			t := &tallies[i]
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				for attempt := 0; ; attempt++ {
					t0 := time.Now()
					a, events, err := do(ctx, k)
					t.record(a, events, err, true, time.Since(t0))
					if err == nil || attempt == 5 || ctx.Err() != nil {
						break
					}
					time.Sleep(100 * time.Millisecond << attempt)
				}
			}
		})
	}
	wg.Wait()
	var all tally
	for i := range tallies {
		all.merge(&tallies[i])
	}
	return &all, time.Since(start)
}
