package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
)

// The generated bodies must be what the figures claim: valid Segment calls
// that bottega accepts whole, with unique messageIds, of the stated size.
func TestGeneratedEventsAreAcceptedWhole(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	g := newGenerator("run1", 3, 1000, 1)
	p := event.NewParser(event.DefaultLimits())
	seen := map[string]bool{}
	types := map[string]int{}
	total := 0
	for range 20 {
		body := g.batch(100, now)
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %.200s", body)
		}
		req, err := p.ParseBatch(body, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Quarantined) > 0 || len(req.Events) != 100 {
			t.Fatalf("%d events accepted, quarantined: %+v", len(req.Events), req.Quarantined)
		}
		for _, e := range req.Events {
			if seen[e.MessageID] {
				t.Fatalf("messageId %q repeated", e.MessageID)
			}
			seen[e.MessageID] = true
			key := e.Type
			if e.Type == "track" {
				key += " " + e.Name
			}
			types[key]++
			if n := len(e.Payload); n < 300 || n > 420 {
				t.Errorf("a %s event of %d bytes: %s", key, n, e.Payload)
			}
		}
		total += len(body)
	}
	for _, k := range []string{"page", "track Product Viewed", "identify", "track Order Completed"} {
		if types[k] == 0 {
			t.Errorf("no %s in 2,000 events: %v", k, types)
		}
	}
	if avg := total / 2000; avg < 330 || avg > 400 {
		t.Errorf("average %d bytes per event in a batch", avg)
	}

	single := g.single(now)
	req, err := p.ParseSingle("track", single, now)
	if err != nil || len(req.Events) != 1 || len(req.Quarantined) != 0 {
		t.Fatalf("single: %v %+v", err, req)
	}
}

func TestIdentifyBatchNamesEachPersonOnce(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	g := newGenerator("run1", 0, 1, 1)
	body := g.identifyBatch(500, 3, now)
	req, err := event.NewParser(event.DefaultLimits()).ParseBatch(body, now)
	if err != nil || len(req.Events) != 3 || len(req.Quarantined) != 0 {
		t.Fatalf("%v %+v", err, req)
	}
	for i, e := range req.Events {
		want := email(500 + i)
		if e.Type != "identify" || !strings.Contains(string(e.Payload), `"email":"`+want+`"`) {
			t.Errorf("event %d: %s, want e-mail %s", i, e.Payload, want)
		}
	}
}

func TestQuantileInterpolatesInsideBuckets(t *testing.T) {
	text := `# HELP x
bottega_processor_lag_seconds_bucket{le="0.1"} 50
bottega_processor_lag_seconds_bucket{le="0.2"} 90
bottega_processor_lag_seconds_bucket{le="0.4"} 100
bottega_processor_lag_seconds_bucket{le="+Inf"} 100
bottega_processor_lag_seconds_sum 12
bottega_processor_lag_seconds_count 100
`
	before := `bottega_processor_lag_seconds_bucket{le="0.1"} 10
bottega_processor_lag_seconds_bucket{le="0.2"} 10
bottega_processor_lag_seconds_bucket{le="0.4"} 10
bottega_processor_lag_seconds_bucket{le="+Inf"} 10
`
	hs := histogram(text, "bottega_processor_lag_seconds")
	if len(hs) != 4 || !math.IsInf(hs[3].le, 1) || hs[1].count != 90 {
		t.Fatalf("parsed %+v", hs)
	}
	if n, ok := sample(text, "bottega_processor_lag_seconds_count"); !ok || n != 100 {
		t.Fatalf("count %v %v", n, ok)
	}
	// 100 observations: the median (rank 50) is the top of the first bucket;
	// rank 99 falls 9/10 of the way into (0.2, 0.4].
	cases := []struct {
		q, want, lo, hi float64
	}{
		{0.5, 0.1, 0, 0.1},
		{0.25, 0.05, 0, 0.1},
		{0.99, 0.38, 0.2, 0.4},
		{0.7, 0.15, 0.1, 0.2},
	}
	for _, c := range cases {
		v, lo, hi := quantile(c.q, hs)
		if math.Abs(v-c.want) > 1e-9 || lo != c.lo || hi != c.hi {
			t.Errorf("q%.2f = %v in (%v, %v], want %v in (%v, %v]", c.q, v, lo, hi, c.want, c.lo, c.hi)
		}
	}
	// After subtracting an earlier scrape: 90 observations, 40 ≤ 0.1 s, 80
	// ≤ 0.2 s; rank 45 falls 5/40 of the way into (0.1, 0.2].
	d := subtract(hs, histogram(before, "bottega_processor_lag_seconds"))
	if v, _, _ := quantile(0.5, d); math.Abs(v-0.1125) > 1e-9 {
		t.Errorf("median of the difference %v, want 0.1125", v)
	}
	over := []bucket{{0.1, 1}, {math.Inf(1), 10}}
	if v, lo, _ := quantile(0.99, over); !math.IsInf(v, 1) || lo != 0.1 {
		t.Errorf("beyond the last bucket: %v from %v", v, lo)
	}
}

func TestSummarizePercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	l := summarize(lat)
	if l.p50 != 50 || l.p99 != 99 || l.max != 100 {
		t.Errorf("%+v", l)
	}
	if l := summarize(nil); l != (latencies{}) {
		t.Errorf("empty: %+v", l)
	}
}
