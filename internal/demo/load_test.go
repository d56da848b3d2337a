package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func testKeys() map[string]string {
	return map[string]string{"web": "key-web", "app": "key-app", "pos": "key-pos", "care": "key-care"}
}

// fakeIngest is a /v1/batch endpoint that parses like bottega and answers
// as told by its fail function (0: 200).
type fakeIngest struct {
	t    *testing.T
	fail func(attempt int, first string) int

	mu        sync.Mutex
	attempts  map[string]int    // first messageId of a batch → requests
	bodies    map[string][]byte // first messageId → body of the first request
	delivered map[string]int    // messageId → acknowledged requests holding it
	requests  int
}

func newFakeIngest(t *testing.T, fail func(attempt int, first string) int) (*fakeIngest, *httptest.Server) {
	f := &fakeIngest{t: t, fail: fail, attempts: map[string]int{}, bodies: map[string][]byte{}, delivered: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeIngest) serve(w http.ResponseWriter, r *http.Request) {
	key, _, ok := r.BasicAuth()
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil || !ok || r.URL.Path != "/v1/batch" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req, err := event.NewParser(event.DefaultLimits()).ParseBatch(body.Bytes(), testEnd)
	if err != nil || len(req.Quarantined) > 0 || len(req.Events) == 0 {
		f.t.Errorf("the loader sent a batch bottega would refuse: %v %v", err, req)
		http.Error(w, "refused", http.StatusBadRequest)
		return
	}
	channel := strings.TrimPrefix(key, "key-")
	for _, ev := range req.Events {
		if !bytes.Contains(ev.Payload, []byte(`"channel":"`+channel+`"`)) {
			f.t.Errorf("an event of another channel was sent with the %s key: %s", channel, ev.Payload)
		}
	}
	first := req.Events[0].MessageID
	f.mu.Lock()
	f.requests++
	f.attempts[first]++
	attempt := f.attempts[first]
	if attempt == 1 {
		f.bodies[first] = body.Bytes()
	} else if !bytes.Equal(f.bodies[first], body.Bytes()) {
		f.t.Errorf("batch %s was retried with another body", first)
	}
	status := f.fail(attempt, first)
	if status == 0 {
		for _, ev := range req.Events {
			f.delivered[ev.MessageID]++
		}
	}
	f.mu.Unlock()
	switch status {
	case 0:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"success":true,"stored":%d,"duplicates":0,"quarantined":[]}`, len(req.Events))
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"title":"Too Many Requests"}`, status)
	case -1: // the connection drops without an answer
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	default:
		http.Error(w, `{"title":"failed"}`, status)
	}
}

func TestLoaderRetriesWithTheSameMessageIDs(t *testing.T) {
	g, err := New(Options{People: 80, Seed: 3, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, evs := range g.Events() {
		for _, e := range evs {
			want[e.Message.MessageID] = true
		}
	}
	// Every batch fails once: with 503, 429 or a dropped connection.
	f, srv := newFakeIngest(t, func(attempt int, first string) int {
		if attempt > 1 {
			return 0
		}
		return []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, -1}[int(first[0])%3]
	})
	l := NewLoader(g, Target{URL: srv.URL + "/", WriteKeys: testKeys()}, LoadOptions{BatchEvents: 50, Backoff: time.Millisecond})
	pr, err := l.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.delivered) != len(want) {
		t.Errorf("%d events acknowledged, %d generated", len(f.delivered), len(want))
	}
	for id, n := range f.delivered {
		if !want[id] || n != 1 {
			t.Errorf("event %s acknowledged %d times (generated: %v)", id, n, want[id])
		}
	}
	batches := len(f.attempts)
	if batches < len(want)/50 || f.requests != 2*batches {
		t.Errorf("%d batches in %d requests; want each sent twice", batches, f.requests)
	}
	if pr.Sent != int64(len(want)) || pr.Stored != int64(len(want)) || pr.Retries != int64(batches) || pr.People != 80 || pr.PeopleTotal != 80 {
		t.Errorf("progress %+v; want %d events sent and stored, %d retries", pr, len(want), batches)
	}
}

func TestLoaderStopsOnRefusal(t *testing.T) {
	g, err := New(Options{People: 60, Seed: 3, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	f, srv := newFakeIngest(t, func(int, string) int { return http.StatusBadRequest })
	l := NewLoader(g, Target{URL: srv.URL, WriteKeys: testKeys()}, LoadOptions{BatchEvents: 20, Backoff: time.Millisecond})
	_, err = l.Run(context.Background())
	if !fault.Is(err, fault.Internal) || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Run = %v; want the refusal", err)
	}
	for first, n := range f.attempts {
		if n != 1 {
			t.Errorf("refused batch %s was sent %d times", first, n)
		}
	}
	if f.requests > 8 {
		t.Errorf("%d requests after the first refusal; the loader should stop", f.requests)
	}
}

func TestLoaderGivesUp(t *testing.T) {
	g, err := New(Options{People: 50, Seed: 3, End: testEnd})
	if err != nil {
		t.Fatal(err)
	}
	f, srv := newFakeIngest(t, func(int, string) int { return http.StatusServiceUnavailable })
	l := NewLoader(g, Target{URL: srv.URL, WriteKeys: testKeys()}, LoadOptions{Senders: 1, MaxAttempts: 3, Backoff: time.Millisecond})
	_, err = l.Run(context.Background())
	if !fault.Is(err, fault.Unavailable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Run = %v; want unavailable", err)
	}
	for first, n := range f.attempts {
		if n != 3 {
			t.Errorf("batch %s was tried %d times, want 3", first, n)
		}
	}
}

func TestLoaderNeedsEveryKey(t *testing.T) {
	g, _ := New(Options{People: 50, Seed: 3, End: testEnd})
	keys := testKeys()
	delete(keys, "care")
	_, err := NewLoader(g, Target{URL: "http://127.0.0.1:1", WriteKeys: keys}, LoadOptions{}).Run(context.Background())
	if !fault.Is(err, fault.Invalid) || !strings.Contains(err.Error(), "care") {
		t.Errorf("Run = %v; want the missing care key named", err)
	}
}

func TestLoaderCancelled(t *testing.T) {
	g, _ := New(Options{People: 2000, Seed: 3, End: testEnd})
	ctx, cancel := context.WithCancel(context.Background())
	_, srv := newFakeIngest(t, func(int, string) int { cancel(); return 0 })
	pr, err := NewLoader(g, Target{URL: srv.URL, WriteKeys: testKeys()}, LoadOptions{}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v; want context.Canceled", err)
	}
	if pr.People >= 2000 {
		t.Errorf("the loader went on generating after cancellation: %+v", pr)
	}
}

func TestMarker(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, ok, err := ReadMarker(ctx, db); ok || err != nil {
			t.Fatalf("ReadMarker on an empty database = %v, %v", ok, err)
		}
		if s, e, err := Contents(ctx, db); s != 0 || e != 0 || err != nil {
			t.Fatalf("Contents = %d, %d, %v", s, e, err)
		}
		m := Marker{Seed: 1<<63 + 5, People: 20000, End: testEnd}
		if err := WriteMarker(ctx, db, m, time.Now()); err != nil {
			t.Fatal(err)
		}
		got, ok, err := ReadMarker(ctx, db)
		if !ok || err != nil || got.Seed != m.Seed || got.People != m.People || !got.End.Equal(m.End) || got.LoadedAt != nil {
			t.Fatalf("ReadMarker = %+v, %v, %v; want %+v", got, ok, err, m)
		}
		at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
		m.LoadedAt = &at
		if err := WriteMarker(ctx, db, m, at); err != nil {
			t.Fatal(err)
		}
		got, _, _ = ReadMarker(ctx, db)
		if got.LoadedAt == nil || !got.LoadedAt.Equal(at) {
			t.Errorf("LoadedAt = %v, want %s", got.LoadedAt, at)
		}
		if _, err := db.Exec(ctx, "INSERT INTO sources (id, name, channel, created_at) VALUES ('s1', 'shop', 'web', 0)"); err != nil {
			t.Fatal(err)
		}
		if s, e, err := Contents(ctx, db); s != 1 || e != 0 || err != nil {
			t.Errorf("Contents = %d, %d, %v; want 1 source", s, e, err)
		}
		if n, err := CountOrders(ctx, db); n != 0 || err != nil {
			t.Errorf("CountOrders = %d, %v", n, err)
		}
	})
}
