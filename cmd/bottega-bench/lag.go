package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// runLag measures the time from an event's receipt to its profile being
// updated while events arrive at a constant rate, against the
// acknowledgement latency of the same requests.
func runLag(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lag", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 30*time.Second)
	rate := fs.Int("rate", 5000, "events per second, sent whatever the answers (open loop)")
	perReq := fs.Int("batch", 50, "events per /v1/batch request (the interval is batch/rate)")
	people := fs.Int("people", 100_000, "distinct people the events are about")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	if *rate <= 0 || *perReq <= 0 {
		fmt.Fprintln(stderr, "--rate and --batch must be positive")
		return exitCode(2)
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return lagFigure(ctx, h, engine, *rate, *perReq, *people)
	})
}

func lagFigure(ctx context.Context, h *harness, engine string, rate, perReq, people int) (*Result, error) {
	o := h.opts
	dsn, err := h.freshDatabase(ctx, engine, "lag")
	if err != nil {
		return nil, err
	}
	creds, err := h.setup(ctx, dsn)
	if err != nil {
		return nil, err
	}
	interval := time.Duration(float64(time.Second) * float64(perReq) / float64(rate))
	r := newResult(ctx, h, "lag", engine, dsn)
	r.Params["rate"] = strconv.Itoa(rate)
	r.Params["events_per_request"] = strconv.Itoa(perReq)
	r.Params["interval"] = interval.String()
	r.Params["people"] = strconv.Itoa(people)

	p, err := h.startBottega(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer p.kill()
	const maxInFlight = 1000
	c := newClient(p.url, 64, creds)
	defer c.close()
	g := newGenerator(fmt.Sprintf("%08x", rand.Uint32()), 0, people, 1)
	next := func(int) call {
		body := bytes.Clone(g.batch(perReq, time.Now()))
		return func(ctx context.Context) (answer, int, error) {
			a, err := c.ingest(ctx, "/v1/batch", body)
			return a, perReq, err
		}
	}
	if o.warmup > 0 {
		h.logf("%s: warm-up %s at %d events/s", engine, o.warmup, rate)
		openLoop(ctx, interval, o.warmup, maxInFlight, next)
		if _, err := c.waitProcessed(ctx, 50*time.Millisecond, 5*time.Minute, nil); err != nil {
			return nil, err
		}
	}
	note, err := h.analyze(ctx, engine, dsn, "after the warm-up")
	if err != nil {
		return nil, err
	}
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	st0, err := c.stats(ctx)
	if err != nil {
		return nil, err
	}
	before, err := settledMetrics(ctx, c, st0.Processed)
	if err != nil {
		return nil, err
	}
	h.logf("%s: %s at %d events/s", engine, o.duration, rate)
	cpu := windowCPU(h.sampler(ctx, engine, p.pid()), 0, o.duration)
	stopAnalyze := h.analyzeLoop(ctx, engine, dsn)
	t := openLoop(ctx, interval, o.duration, maxInFlight, next)
	_, err = c.waitProcessed(ctx, 50*time.Millisecond, 10*time.Minute, nil)
	if note := h.analyzeNote(ctx, engine, dsn, stopAnalyze(), "during the load"); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if err != nil {
		return nil, err
	}
	st1, err := c.stats(ctx)
	if err != nil {
		return nil, err
	}
	after, err := settledMetrics(ctx, c, st1.Processed)
	if err != nil {
		return nil, err
	}
	lag := subtract(histogram(after, "bottega_processor_lag_seconds"), histogram(before, "bottega_processor_lag_seconds"))
	p50, lo50, hi50 := quantile(0.50, lag)
	p99, lo99, hi99 := quantile(0.99, lag)
	observed := 0.0
	if len(lag) > 0 {
		observed = lag[len(lag)-1].count
	}
	secs := o.duration.Seconds()
	ack := summarize(t.lat)
	run := Run{Name: "bottega", Role: "target", Requests: t.requests, Events: t.events, Seconds: secs,
		RequestsPerS: float64(t.requests) / secs, EventsPerS: float64(t.events) / secs,
		P50Ms: ack.p50, P99Ms: ack.p99, MaxMs: ack.max, Failures: t.failures,
		Extra: map[string]float64{
			"lag_p50_ms": p50 * 1000, "lag_p50_bucket_lo_ms": lo50 * 1000, "lag_p50_bucket_hi_ms": hi50 * 1000,
			"lag_p99_ms": p99 * 1000, "lag_p99_bucket_lo_ms": lo99 * 1000, "lag_p99_bucket_hi_ms": hi99 * 1000,
			"lag_observations": observed,
		}}
	run.setCPU(<-cpu, engine)
	r.Runs = append(r.Runs, run)
	r.ratio("lag p99 / acknowledgement p99", p99*1000/ack.p99, "", 0)
	r.Goals = append(r.Goals, Goal{Name: "lag p99 ms", Value: p99 * 1000, Goal: "≤ 1000", Met: p99 <= 1})
	r.Notes = append(r.Notes, fmt.Sprintf("lag quantiles are interpolated linearly inside bottega_processor_lag_seconds buckets: p50 in (%s, %s] ms, p99 in (%s, %s] ms",
		num(lo50*1000, 0), num(hi50*1000, 0), num(lo99*1000, 0), num(hi99*1000, 0)))
	if hi99 > 0 && !math.IsInf(hi99, 1) && (hi99-lo99)/hi99 >= 0.5 {
		r.Notes = append(r.Notes, "the p99 bucket spans a factor of 2 or more: finer buckets would make this figure sharper")
	}
	stored := st1.Stored - st0.Stored
	r.check("lag observed for every event stored", observed == float64(stored),
		"%0.f lag observations, %d events stored in the window (%d acknowledged)", observed, stored, t.stored)
	r.check("events_stored = events acknowledged", stored == t.stored || len(t.statuses) > 0 && stored > t.stored,
		"%d stored, %d acknowledged", stored, t.stored)
	r.check("no request failed", len(t.statuses) == 0, "%s", orNone(t.errorSummary()))
	r.check("the load kept its schedule", t.late == 0, "%d requests skipped with %d in flight", t.late, maxInFlight)
	if err := p.stop(); err != nil {
		return nil, err
	}
	r.serverProblems(p)
	r.LoadAfter = loadavg()
	return r, nil
}

// settledMetrics scrapes /metrics once the lag histogram holds an
// observation for each of the processed events: the processor observes a
// batch just after committing it, so a scrape right after the stats show
// it processed may miss it. After 5 s it returns the last scrape as it is
// (the check on the number of observations then tells).
func settledMetrics(ctx context.Context, c *client, processed int64) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := c.metrics(ctx)
		if err != nil {
			return "", err
		}
		n, _ := sample(m, "bottega_processor_lag_seconds_count")
		if int64(n) >= processed || time.Now().After(deadline) {
			return m, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
