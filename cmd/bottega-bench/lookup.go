package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// runLookup measures GET /api/v1/profiles/lookup?type=email among many
// profiles, against the same lookup as a raw SQL query.
func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 20*time.Second)
	profiles := fs.Int("profiles", 1_000_000, "profiles to create, one identify call each, through the ingestion API")
	clients := fs.Int("clients", 8, "concurrent clients")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return lookupFigure(ctx, h, engine, *profiles, *clients)
	})
}

// lookupSQL is the query bottega's lookup runs to find the profile
// (internal/identity.Lookup); the baseline runs it alone.
const lookupSQL = `SELECT p.canonical_id FROM identities i JOIN profiles p ON p.id = i.profile_id WHERE i.type = ? AND i.value = ?`

func email(p int) string { return "person" + strconv.Itoa(p) + "@example.com" }

func lookupFigure(ctx context.Context, h *harness, engine string, profiles, clients int) (*Result, error) {
	o := h.opts
	dsn, err := h.freshDatabase(ctx, engine, "lookup")
	if err != nil {
		return nil, err
	}
	creds, err := h.setup(ctx, dsn)
	if err != nil {
		return nil, err
	}
	r := newResult(ctx, h, "lookup", engine, dsn)
	r.Params["profiles"] = strconv.Itoa(profiles)
	r.Params["clients"] = strconv.Itoa(clients)
	r.Params["fill"] = "one identify call per person through POST /v1/batch (500 per request, 4 clients), processed by bottega"

	p, err := h.startBottega(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer p.kill()
	c := newClient(p.url, clients, creds)
	defer c.close()

	// Fill: every person through the whole path.
	const perReq, fillClients = 500, 4
	h.logf("%s: creating %d profiles through the ingestion API", engine, profiles)
	runID := fmt.Sprintf("%08x", rand.Uint32())
	requests := (profiles + perReq - 1) / perReq
	start := time.Now()
	stopAnalyze := h.analyzeLoop(ctx, engine, dsn)
	t, ingestTook := sendAll(ctx, fillClients, requests, func(i int) func(context.Context, int) (answer, int, error) {
		g := newGenerator(runID, i, 1, uint64(i)+1)
		last, body := -1, []byte(nil)
		return func(ctx context.Context, k int) (answer, int, error) {
			m := min(perReq, profiles-k*perReq)
			if k != last {
				body, last = g.identifyBatch(k*perReq, m, time.Now()), k
			}
			a, err := c.ingest(ctx, "/v1/batch", body)
			return a, m, err
		}
	})
	if t.okEvents != int64(profiles) {
		return nil, fmt.Errorf("fill: %d of %d identify calls acknowledged: %s", t.okEvents, profiles, t.errorSummary())
	}
	lastLog := time.Now()
	st, err := c.waitProcessed(ctx, 250*time.Millisecond, 2*time.Hour, func(at time.Time, s pipeline) {
		if at.Sub(lastLog) >= 15*time.Second {
			h.logf("%s: %d of %d processed", engine, s.Processed, s.Stored)
			lastLog = at
		}
	})
	if err != nil {
		return nil, err
	}
	filled := time.Since(start)
	if note := h.analyzeNote(ctx, engine, dsn, stopAnalyze(), "during the fill"); note != "" {
		r.Notes = append(r.Notes, note)
	}
	note, err := h.analyze(ctx, engine, dsn, "after the fill")
	if err != nil {
		return nil, err
	}
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	r.Notes = append(r.Notes, fmt.Sprintf("fill: %d identify calls acknowledged in %.1f s (%.0f events/s) and processed %.1f s after the first was sent (%.0f events/s end to end)",
		profiles, ingestTook.Seconds(), float64(profiles)/ingestTook.Seconds(), filled.Seconds(), float64(profiles)/filled.Seconds()))
	r.check("one profile per person", st.Profiles == int64(profiles) && st.Failed == 0,
		"profiles %d of %d, events_failed %d", st.Profiles, profiles, st.Failed)

	// bottega: 8 clients looking up random e-mails.
	h.logf("%s: bottega lookups", engine)
	cpu := windowCPU(h.sampler(ctx, engine, p.pid()), o.warmup, o.duration)
	tt := closedLoop(ctx, clients, o.warmup, o.duration, func(i int) call {
		rnd := rand.New(rand.NewPCG(uint64(i), 7))
		return func(ctx context.Context) (answer, int, error) {
			status, body, err := c.get(ctx, "/api/v1/profiles/lookup?type=email&value="+url.QueryEscape(email(rnd.IntN(profiles))))
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("lookup: %d %s", status, clip(string(body), 200))
			}
			return answer{status: status, stored: -1}, 1, err
		}
	})
	target := lookupRun("bottega GET /api/v1/profiles/lookup", "target", tt, o.duration)
	target.setCPU(<-cpu, engine)
	r.check("every lookup answered 200", len(tt.statuses) == 0, "%s", orNone(tt.errorSummary()))
	if err := p.stop(); err != nil {
		return nil, err
	}
	r.serverProblems(p)

	// Baseline: the same lookups as a raw SQL query.
	h.logf("%s: baseline raw SQL lookups", engine)
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	bcpu := windowCPU(h.sampler(ctx, engine, os.Getpid()), o.warmup, o.duration)
	bt := closedLoop(ctx, clients, o.warmup, o.duration, func(i int) call {
		rnd := rand.New(rand.NewPCG(uint64(i), 7))
		return func(ctx context.Context) (answer, int, error) {
			var id string
			err := db.QueryRow(ctx, lookupSQL, "email", email(rnd.IntN(profiles))).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				err = errors.New("raw lookup: no profile")
			}
			return answer{status: http.StatusOK, stored: -1}, 1, err
		}
	})
	baseline := lookupRun("raw SQL query, same driver", "baseline", bt, o.duration)
	baseline.setCPU(<-bcpu, engine) // the benchmark process itself: the load is the query loop
	r.check("every raw lookup found its profile", len(bt.statuses) == 0, "%s", orNone(bt.errorSummary()))
	r.Runs = append(r.Runs, target, baseline)
	r.ratio("bottega p99 / raw SQL p99", target.P99Ms/baseline.P99Ms, "", 0)
	r.ratio("bottega p50 / raw SQL p50", target.P50Ms/baseline.P50Ms, "", 0)
	r.ratio("bottega lookups/s / raw SQL lookups/s", target.RequestsPerS/baseline.RequestsPerS, "", 0)
	r.Goals = append(r.Goals, Goal{Name: "lookup p99 ms", Value: target.P99Ms, Goal: "≤ 5", Met: target.P99Ms <= 5})
	r.LoadAfter = loadavg()
	return r, nil
}

func lookupRun(name, role string, t *tally, window time.Duration) Run {
	l := summarize(t.lat)
	secs := window.Seconds()
	return Run{Name: name, Role: role, Requests: t.requests, Events: t.events, Seconds: secs,
		RequestsPerS: float64(t.requests) / secs, EventsPerS: float64(t.events) / secs,
		P50Ms: l.p50, P99Ms: l.p99, MaxMs: l.max, Failures: t.failures}
}
