package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// runIngest measures ingestion: /v1/batch of 100 events from 8 clients
// against a handler that only decodes the JSON (and one that runs bottega's
// parser), or single /v1/track calls from 64 clients against a no-op
// handler.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 20*time.Second)
	mode := fs.String("mode", "batch", "batch: POST /v1/batch; track: single POST /v1/track calls")
	clients := fs.Int("clients", 0, "concurrent clients (default: 8 for batch, 64 for track)")
	perBatch := fs.Int("batch", 100, "events per /v1/batch request")
	people := fs.Int("people", 100_000, "distinct people the events are about")
	alsoPaused := fs.Bool("also-paused", false, "diagnostic: also measure bottega with its processor paused (on a fresh database)")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	if *mode != "batch" && *mode != "track" {
		fmt.Fprintf(stderr, "--mode must be batch or track, not %q\n", *mode)
		return exitCode(2)
	}
	if *clients <= 0 {
		*clients = 8
		if *mode == "track" {
			*clients = 64
		}
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return ingestFigure(ctx, h, engine, *mode, *clients, *perBatch, *people, *alsoPaused)
	})
}

func ingestFigure(ctx context.Context, h *harness, engine, mode string, clients, perBatch, people int, alsoPaused bool) (*Result, error) {
	o := h.opts
	dsn, err := h.freshDatabase(ctx, engine, "ingest")
	if err != nil {
		return nil, err
	}
	creds, err := h.setup(ctx, dsn)
	if err != nil {
		return nil, err
	}
	r := newResult(ctx, h, "ingest-"+mode, engine, dsn)
	r.Params["clients"] = strconv.Itoa(clients)
	r.Params["people"] = strconv.Itoa(people)
	runID := fmt.Sprintf("%08x", rand.Uint32())
	path, eventsPerCall := "/v1/track", 1
	if mode == "batch" {
		path, eventsPerCall = "/v1/batch", perBatch
		r.Params["events_per_request"] = strconv.Itoa(perBatch)
	}
	sampleGen := newGenerator(runID, 0, people, 1)
	if mode == "batch" {
		b := sampleGen.batch(1000, time.Now())
		r.Params["event_bytes_avg"] = strconv.Itoa(len(b) / 1000)
		r.Params["request_bytes_avg"] = strconv.Itoa(len(b) * perBatch / 1000)
	} else {
		r.Params["request_bytes_avg"] = strconv.Itoa(len(sampleGen.single(time.Now())))
	}

	// measure loads one server and returns its run.
	measure := func(p *process, creds credentials, name, role, phase string) (Run, *tally) {
		c := newClient(p.url, clients, creds)
		defer c.close()
		pgEngine := ""
		if role != "baseline" {
			pgEngine = engine
		}
		cpu := windowCPU(h.sampler(ctx, pgEngine, p.pid()), o.warmup, o.duration)
		t := closedLoop(ctx, clients, o.warmup, o.duration, func(i int) call {
			g := newGenerator(runID+phase, i, people, uint64(i)+1)
			return func(ctx context.Context) (answer, int, error) {
				var body []byte
				if mode == "batch" {
					body = g.batch(perBatch, time.Now())
				} else {
					body = g.single(time.Now())
				}
				a, err := c.ingest(ctx, path, body)
				return a, eventsPerCall, err
			}
		})
		secs := o.duration.Seconds()
		l := summarize(t.lat)
		run := Run{Name: name, Role: role, Requests: t.requests, Events: t.events, Seconds: secs,
			RequestsPerS: float64(t.requests) / secs, EventsPerS: float64(t.events) / secs,
			P50Ms: l.p50, P99Ms: l.p99, MaxMs: l.max, Failures: t.failures}
		run.setCPU(<-cpu, pgEngine)
		if s := t.errorSummary(); s != "" {
			r.Notes = append(r.Notes, name+": failed requests: "+s)
		}
		return run, t
	}

	kinds := []struct{ kind, name string }{{"noop", "no-op handler"}}
	if mode == "batch" {
		kinds = []struct{ kind, name string }{{"decode", "encoding/json decode"}, {"parse", "bottega parser, no storage"}}
	}
	for _, k := range kinds {
		h.logf("%s: baseline %s", engine, k.name)
		p, err := h.startBaseline(ctx, k.kind)
		if err != nil {
			return nil, err
		}
		run, _ := measure(p, creds, k.name, "baseline", "-"+k.kind)
		if err := p.stop(); err != nil {
			return nil, err
		}
		r.Runs = append(r.Runs, run)
	}

	// bottega itself, as it runs: its processor works on the events while
	// they arrive.
	target, err := ingestTarget(ctx, h, r, engine, dsn, creds, "bottega", "target", false, measure)
	if err != nil {
		return nil, err
	}
	for _, b := range r.Runs[:len(r.Runs)-1] {
		goal, atLeast := "", 0.0
		switch {
		case mode == "batch" && b.Name == "encoding/json decode":
			goal, atLeast = "≥ 0.4×", 0.4
		case mode == "track":
			goal, atLeast = "≥ 0.25×", 0.25
		}
		r.ratio("bottega / "+b.Name, target.EventsPerS/b.EventsPerS, goal, atLeast)
	}
	if alsoPaused {
		// Diagnostic: the same with the processor paused, on a fresh
		// database, to show what concurrent processing costs ingestion.
		dsn, err := h.freshDatabase(ctx, engine, "ingest-paused")
		if err != nil {
			return nil, err
		}
		creds, err := h.setup(ctx, dsn)
		if err != nil {
			return nil, err
		}
		paused, err := ingestTarget(ctx, h, r, engine, dsn, creds, "bottega, processor paused", "diagnostic", true, measure)
		if err != nil {
			return nil, err
		}
		r.ratio("bottega / bottega with its processor paused", target.EventsPerS/paused.EventsPerS, "", 0)
	}
	r.LoadAfter = loadavg()
	return r, nil
}

// ingestTarget measures bottega on dsn and checks that every acknowledged
// event was stored. paused holds the processing lease during the load.
func ingestTarget(ctx context.Context, h *harness, r *Result, engine, dsn string, creds credentials, name, role string, paused bool,
	measure func(p *process, creds credentials, name, role, phase string) (Run, *tally)) (Run, error) {
	if paused {
		db, err := sqldb.Open(ctx, dsn, sqldb.Options{ReadConns: 1})
		if err != nil {
			return Run{}, err
		}
		err = holdLease(ctx, db)
		db.Close()
		if err != nil {
			return Run{}, err
		}
	}
	h.logf("%s: %s", engine, name)
	p, err := h.startBottega(ctx, dsn)
	if err != nil {
		return Run{}, err
	}
	defer p.kill()
	c := newClient(p.url, 2, creds)
	defer c.close()
	before, err := c.metrics(ctx)
	if err != nil {
		return Run{}, err
	}
	run, t := measure(p, creds, name, role, "-"+role)
	if err := p.alive(); err != nil {
		return Run{}, err
	}
	after, err := c.metrics(ctx)
	if err != nil {
		return Run{}, err
	}
	st, err := c.stats(ctx)
	if err != nil {
		return Run{}, err
	}
	for k, v := range commitExtra(before, after) {
		if run.Extra == nil {
			run.Extra = map[string]float64{}
		}
		run.Extra[k] = v
	}
	run.Extra["events_processed_meanwhile"] = float64(st.Processed)
	r.Runs = append(r.Runs, run)

	// Every acknowledged event must be stored, once. A request that failed
	// (503) may have been committed all the same, so then events_stored may
	// be larger.
	consistent := t.stored == t.okEvents-t.duplicates-t.quarantined
	ok := consistent && (st.Stored == t.stored || len(t.statuses) > 0 && st.Stored > t.stored)
	r.check(name+": events_stored = events acknowledged", ok,
		"events_stored %d; acknowledged as stored %d in %d answers carrying %d events (%d duplicates, %d quarantined); %d requests failed",
		st.Stored, t.stored, t.okRequests, t.okEvents, t.duplicates, t.quarantined, sumStatuses(t))
	r.check(name+": no request failed", len(t.statuses) == 0, "%s", orNone(t.errorSummary()))
	if err := p.stop(); err != nil {
		return Run{}, err
	}
	r.serverProblems(p)
	return run, nil
}

// windowCPU samples CPU time at the end of the warm-up and at the end of the
// window; the difference arrives on the channel.
func windowCPU(sample func() cpuSample, warmup, window time.Duration) <-chan cpuSample {
	out := make(chan cpuSample, 1)
	go func() {
		time.Sleep(warmup)
		c0 := sample()
		time.Sleep(window)
		out <- sample().sub(c0)
	}()
	return out
}

// setCPU records CPU time in a run.
func (run *Run) setCPU(c cpuSample, engine string) {
	run.ServerCPU = c.process
	if engine == "postgres" && c.postgres > 0 {
		if run.Extra == nil {
			run.Extra = map[string]float64{}
		}
		run.Extra["postgres_cpu_s"] = c.postgres
	}
}

// commitExtra describes the group commits between two scrapes of /metrics.
func commitExtra(before, after string) map[string]float64 {
	n0, _ := sample(before, "bottega_ingest_commit_events_count")
	n1, _ := sample(after, "bottega_ingest_commit_events_count")
	e0, _ := sample(before, "bottega_ingest_commit_events_sum")
	e1, _ := sample(after, "bottega_ingest_commit_events_sum")
	s0, _ := sample(before, "bottega_ingest_commit_seconds_sum")
	s1, _ := sample(after, "bottega_ingest_commit_seconds_sum")
	x := map[string]float64{"commits": n1 - n0}
	if n1 > n0 {
		x["events_per_commit"] = (e1 - e0) / (n1 - n0)
		x["commit_ms_avg"] = (s1 - s0) / (n1 - n0) * 1000
	}
	return x
}

func sumStatuses(t *tally) int64 {
	var n int64
	for _, v := range t.statuses {
		n += v
	}
	return n
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
