package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// runProcess measures how fast bottega's processor turns stored events into
// profiles, against the raw driver loop on the same events.
func runProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("process", flag.ContinueOnError)
	var o options
	addOptions(fs, &o, 0)
	n := fs.Int("events", 200_000, "events to load and process")
	batchSize := fs.Int("batch-size", 20000, "most events per processing transaction (bottega's --batch-size, default 20,000, and the baseline's)")
	people := fs.Int("people", 0, "distinct people the events are about (default: events/10)")
	if err := parseFlags(fs, &o, args, stderr); err != nil {
		return err
	}
	if *people <= 0 {
		*people = max(*n/10, 1)
	}
	return eachEngine(ctx, o, stdout, stderr, func(h *harness, engine string) (*Result, error) {
		return processFigure(ctx, h, engine, *n, *batchSize, *people)
	})
}

// leaseHolder is the name the benchmark holds bottega's processing lease
// under, as a second bottega node would, to keep the processor idle.
const leaseHolder = "bottega-bench"

// holdLease takes bottega's processing lease for an hour: a server started
// afterwards stores events but does not process them until releaseLease.
func holdLease(ctx context.Context, db *sqldb.DB) error {
	_, err := db.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES ('processor', ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
		leaseHolder, time.Now().Add(time.Hour).UnixMilli())
	return err
}

func releaseLease(ctx context.Context, db *sqldb.DB) error {
	_, err := db.Exec(ctx, "DELETE FROM leases WHERE name = 'processor' AND holder = ?", leaseHolder)
	return err
}

// loadEvents sends n events of the usual mix as /v1/batch requests of
// perRequest events from clients in parallel.
func loadEvents(ctx context.Context, c *client, clients, n, perRequest, people int, runID string) (*tally, time.Duration) {
	requests := (n + perRequest - 1) / perRequest
	return sendAll(ctx, clients, requests, func(i int) func(context.Context, int) (answer, int, error) {
		g := newGenerator(runID, i, people, uint64(i)+1)
		last, body := -1, []byte(nil)
		return func(ctx context.Context, k int) (answer, int, error) {
			m := min(perRequest, n-k*perRequest)
			if k != last { // a retry sends the same events again
				body, last = g.batch(m, time.Now()), k
			}
			a, err := c.ingest(ctx, "/v1/batch", body)
			return a, m, err
		}
	})
}

func processFigure(ctx context.Context, h *harness, engine string, n, batchSize, people int) (*Result, error) {
	dsn, err := h.freshDatabase(ctx, engine, "process")
	if err != nil {
		return nil, err
	}
	creds, err := h.setup(ctx, dsn)
	if err != nil {
		return nil, err
	}
	r := newResult(ctx, h, "process", engine, dsn)
	r.Params = map[string]string{"events": strconv.Itoa(n), "batch_size": strconv.Itoa(batchSize), "people": strconv.Itoa(people)}
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := holdLease(ctx, db); err != nil {
		return nil, err
	}
	p, err := h.startBottega(ctx, dsn, "--batch-size", strconv.Itoa(batchSize))
	if err != nil {
		return nil, err
	}
	defer p.kill()
	c := newClient(p.url, 8, creds)
	defer c.close()

	h.logf("%s: loading %d events with the processor paused", engine, n)
	t, took := loadEvents(ctx, c, 8, n, 100, people, fmt.Sprintf("%08x", rand.Uint32()))
	if t.okEvents != int64(n) {
		return nil, fmt.Errorf("loading: %d of %d events acknowledged: %s", t.okEvents, n, t.errorSummary())
	}
	st, err := c.stats(ctx)
	if err != nil {
		return nil, err
	}
	r.check("events_stored = events acknowledged", st.Stored == t.stored && t.stored == int64(n),
		"events_stored %d, acknowledged %d of %d sent", st.Stored, t.stored, n)
	r.check("the processor stayed paused while loading", st.Processed == 0, "events_processed %d", st.Processed)
	r.Notes = append(r.Notes, fmt.Sprintf("loading (ingestion alone, processor paused): %d events in %.1f s = %.0f events/s",
		n, took.Seconds(), float64(n)/took.Seconds()))

	before, err := c.metrics(ctx)
	if err != nil {
		return nil, err
	}
	h.logf("%s: releasing the processor", engine)
	cpuNow := h.sampler(ctx, engine, p.pid())
	cpu0 := cpuNow()
	stopAnalyze := h.analyzeLoop(ctx, engine, dsn)
	released := time.Now()
	if err := releaseLease(ctx, db); err != nil {
		return nil, err
	}
	var (
		t1 time.Time // the first reading that showed progress
		p1 int64     // events processed then
	)
	st, err = c.waitProcessed(ctx, 100*time.Millisecond, time.Hour, func(at time.Time, s pipeline) {
		if s.Processed > 0 && t1.IsZero() {
			t1, p1 = at, s.Processed
		}
	})
	done := time.Now()
	if note := h.analyzeNote(ctx, engine, dsn, stopAnalyze(), "while processing"); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if err != nil {
		return nil, err
	}
	cpu := cpuNow().sub(cpu0)
	after, err := c.metrics(ctx)
	if err != nil {
		return nil, err
	}
	batchSecs0, _ := sample(before, "bottega_processor_batch_seconds_sum")
	batchSecs1, _ := sample(after, "bottega_processor_batch_seconds_sum")
	batches0, _ := sample(before, "bottega_processor_batch_seconds_count")
	batches1, _ := sample(after, "bottega_processor_batch_seconds_count")
	inside := float64(n) / (batchSecs1 - batchSecs0)
	// The rate counts from the first reading that saw progress to the one
	// that saw nothing pending, so the wait for the processor to notice the
	// lease is free is left out (and the first batch with it). When the
	// first reading already saw everything done, only the time inside the
	// processing transactions is known.
	secs := done.Sub(t1).Seconds()
	rate := float64(int64(n)-p1) / secs
	if p1 >= int64(n) || secs <= 0 {
		secs, rate = batchSecs1-batchSecs0, inside
		r.Notes = append(r.Notes, "processing ended before a second reading: the rate is the one inside processing transactions")
	}
	target := Run{Name: "bottega processor", Role: "target", Events: int64(n), Seconds: secs,
		EventsPerS: rate, Extra: map[string]float64{
			"batches":                         batches1 - batches0,
			"events_per_s_inside_batches":     inside,
			"seconds_until_first_progress":    t1.Sub(released).Seconds(),
			"events_done_at_first_progress":   float64(p1),
			"events_failed_processing":        float64(st.Failed),
			"profiles":                        float64(st.Profiles),
			"seconds_from_release_to_drained": done.Sub(released).Seconds(),
		}}
	target.setCPU(cpu, engine)
	r.Runs = append(r.Runs, target)
	r.check("every event processed, none failed", st.Processed == int64(n) && st.Failed == 0,
		"events_processed %d of %d, events_failed %d", st.Processed, n, st.Failed)
	if err := p.stop(); err != nil {
		return nil, err
	}
	r.serverProblems(p)

	h.logf("%s: baseline: raw driver loop", engine)
	self := h.sampler(ctx, engine, os.Getpid())
	for _, multi := range []bool{false, true} {
		c0 := self()
		run, err := rawLoop(ctx, db, batchSize, multi)
		if err != nil {
			return nil, err
		}
		run.setCPU(self().sub(c0), engine) // the benchmark process itself runs the loop
		r.check(run.Name+" copied every event", run.Events == int64(n), "%d rows of %d", run.Events, n)
		r.Runs = append(r.Runs, run)
	}
	for _, b := range r.Runs[1:] {
		r.ratio("bottega / "+b.Name, target.EventsPerS/b.EventsPerS, "", 0)
	}
	r.Goals = append(r.Goals, Goal{Name: "processing events/s", Value: target.EventsPerS, Goal: "≥ 20,000", Met: target.EventsPerS >= 20000})
	r.LoadAfter = loadavg()
	return r, nil
}

// rawLoop is the baseline of the processing figure: read the events in seq
// order, batchSize at a time, and write one row per event into a scratch
// table, one transaction per batch together with a cursor, through the same
// driver and connection settings as bottega. multi writes the rows with
// multi-row INSERTs (as bottega's processor does) instead of one statement
// per row.
func rawLoop(ctx context.Context, db *sqldb.DB, batchSize int, multi bool) (Run, error) {
	table, name := "bench_rows", "raw loop, one INSERT per event"
	if multi {
		table, name = "bench_rows_multi", "raw loop, multi-row INSERTs"
	}
	for _, q := range []string{
		"CREATE TABLE " + table + " (seq BIGINT PRIMARY KEY, who TEXT NOT NULL, ts BIGINT NOT NULL, size BIGINT NOT NULL)",
		"CREATE TABLE IF NOT EXISTS bench_cursor (name TEXT PRIMARY KEY, seq BIGINT NOT NULL)",
		"INSERT INTO bench_cursor (name, seq) VALUES ('" + table + "', 0)",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			return Run{}, fmt.Errorf("baseline: %s: %v", q, err)
		}
	}
	type row struct {
		seq, ts    int64
		who        string
		user, anon string
		payload    string
	}
	var (
		cursor, total int64
		rows          = make([]row, 0, batchSize)
	)
	start := time.Now()
	for {
		rs, err := db.Query(ctx, "SELECT seq, user_id, anonymous_id, ts, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?", cursor, batchSize)
		if err != nil {
			return Run{}, err
		}
		rows = rows[:0]
		for rs.Next() {
			var x row
			if err := rs.Scan(&x.seq, &x.user, &x.anon, &x.ts, &x.payload); err != nil {
				rs.Close()
				return Run{}, err
			}
			x.who = x.user
			if x.who == "" {
				x.who = x.anon
			}
			rows = append(rows, x)
		}
		if err := closeRows(rs); err != nil {
			return Run{}, err
		}
		if len(rows) == 0 {
			break
		}
		from, to := cursor, rows[len(rows)-1].seq
		err = db.InTx(ctx, func(tx *sqldb.Tx) error {
			if multi {
				vals := make([][]any, len(rows))
				for i, x := range rows {
					vals[i] = []any{x.seq, x.who, x.ts, int64(len(x.payload))}
				}
				if err := tx.Bulk(ctx, "INSERT INTO "+table+" (seq, who, ts, size) VALUES VALUES_LIST",
					[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Int, sqldb.Int}, vals, nil); err != nil {
					return err
				}
			} else {
				for _, x := range rows {
					if _, err := tx.Exec(ctx, "INSERT INTO "+table+" (seq, who, ts, size) VALUES (?, ?, ?, ?)",
						x.seq, x.who, x.ts, int64(len(x.payload))); err != nil {
						return err
					}
				}
			}
			_, err := tx.Exec(ctx, "UPDATE bench_cursor SET seq = ? WHERE name = ? AND seq = ?", to, table, from)
			return err
		})
		if err != nil {
			return Run{}, err
		}
		cursor = to
		total += int64(len(rows))
	}
	el := time.Since(start).Seconds()
	return Run{Name: name, Role: "baseline", Events: total, Seconds: el, EventsPerS: float64(total) / el}, nil
}

func closeRows(rs *sql.Rows) error {
	err := rs.Err()
	if cerr := rs.Close(); err == nil {
		err = cerr
	}
	return err
}
