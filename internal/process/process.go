// Package process turns the events log into customers: the identity graph,
// profiles with their traits, consent and timeline, and orders with
// per-customer statistics.
//
// Guarantees:
//   - One ordered consumer: events are applied in log order, in batches, each
//     batch in one transaction together with the persisted cursor. A crash or
//     restart resumes after the last committed batch, so every event is
//     applied exactly once.
//   - Several nodes may run a Processor on one database: a lease elects the
//     one that works, and the cursor is advanced by compare-and-set, so a node
//     that lost its lease cannot apply a batch twice.
//   - An event whose effects cannot be applied (no usable identifier, an order
//     without order_id) is recorded in processing_errors with the reason and
//     never blocks the events after it.
//   - Everything here is derived from the events log, except operator
//     decisions (identity rules, unmerges).
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// processingLock serialises, on PostgreSQL, the transactions that rewrite
// profiles: processing batches and unmerges.
const processingLock = 0x70726f63 // "proc"

// Options tune a Processor.
type Options struct {
	BatchSize    int           // most events per transaction (default 20,000)
	BaseCurrency string        // currency of per-customer revenue (default EUR)
	PhoneRegion  string        // default phone region when no rules are saved
	Poll         time.Duration // how often to look for new events without a wake-up (default 250 ms)
	LeaseTTL     time.Duration // how long the processing lease lasts without renewal (default 15 s)
	Now          func() time.Time
	Logger       *slog.Logger
	Observe      func(BatchStats) // called after every committed batch
	Extensions   []Extension      // derived data kept by other packages
}

// BatchStats describe one committed batch, for metrics.
type BatchStats struct {
	Events   int
	Failed   int
	Duration time.Duration
	Lags     []time.Duration // per event: commit time − received time
	LastSeq  int64
}

// Processor applies stored events.
type Processor struct {
	db     *sqldb.DB
	log    *event.Log
	opts   Options
	holder string
	wake   chan struct{}

	// What this processor knows of identities and profiles, kept between
	// batches; valid while the graph version and the cursor are those it
	// last saw (nobody else wrote).
	ids     *identity.Cache
	states  *profile.Cache
	version int64 // graph_version the caches match; -1: none
	cursor  int64 // cursor this processor last committed

	// behind is set when the last batch was full: more events are waiting.
	behind bool
	// analyzing is set while a refresh of planner statistics runs.
	analyzing atomic.Bool

	// Events applied since this processor last refreshed PostgreSQL's
	// planner statistics, and the threshold for the next refresh.
	sinceAnalyze, analyzeAt int
}

// contendedBatch is the batch size while clients wait for SQLite's writer:
// short enough not to keep them waiting long, long enough to be efficient.
const contendedBatch = 1000

// cacheLimit bounds the caches: past it they are emptied.
const cacheLimit = 1_000_000

// New returns a Processor on db.
func New(db *sqldb.DB, opts Options) *Processor {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 20000
	}
	if opts.BaseCurrency == "" {
		opts.BaseCurrency = "EUR"
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Processor{db: db, log: event.NewLog(db), opts: opts, holder: uuid.Must(uuid.NewV7()).String(), wake: make(chan struct{}, 1),
		ids: identity.NewCache(), states: profile.NewCache(), version: -1, analyzeAt: 5000}
}

// Wake tells the processor new events were committed.
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes events until ctx is cancelled.
func (p *Processor) Run(ctx context.Context) error {
	var (
		leader    bool
		renewedAt time.Time
		backoff   = 100 * time.Millisecond
	)
	for ctx.Err() == nil {
		if !leader || time.Since(renewedAt) > p.opts.LeaseTTL/3 {
			ok, err := p.lease(ctx)
			if err != nil {
				p.opts.Logger.Warn("processor: lease", "err", err)
			}
			if ok && !leader {
				p.opts.Logger.Info("processor: leading", "holder", p.holder)
			}
			leader = ok
			if ok {
				renewedAt = time.Now()
			} else {
				sleep(ctx, p.opts.LeaseTTL/3)
				continue
			}
		}
		start := time.Now()
		n, err := p.Step(ctx)
		if took := time.Since(start); p.behind && p.db.ForegroundWaitedWithin(took) {
			// A backlog builds up while clients wait for SQLite's writer
			// (a burst of ingestion): leave them two thirds of the writer's
			// time until it passes, so ingestion keeps its pace and
			// processing its progress. Under a load it can follow, the
			// processor never pauses.
			sleep(ctx, min(2*took, time.Second))
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			p.opts.Logger.Warn("processor: batch failed; retrying", "err", err, "backoff", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n == 0 {
			select {
			case <-ctx.Done():
			case <-p.wake:
			case <-time.After(p.opts.Poll):
			}
		}
	}
	p.release()
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// lease takes or renews the processing lease.
func (p *Processor) lease(ctx context.Context) (bool, error) {
	now := time.Now()
	res, err := p.db.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES ('processor', ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?`,
		p.holder, now.Add(p.opts.LeaseTTL).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (p *Processor) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = p.db.Exec(ctx, "DELETE FROM leases WHERE name = 'processor' AND holder = ?", p.holder)
}

// Step applies the next batch of events and returns how many it applied.
func (p *Processor) Step(ctx context.Context) (int, error) {
	var cursor int64
	if err := p.db.QueryRow(ctx, "SELECT seq FROM cursors WHERE name = 'processor'").Scan(&cursor); err != nil {
		return 0, sqldb.Classify(err)
	}
	// When clients are waiting for SQLite's writer, keep batches short so
	// that ingestion commits come between them; catch up with full batches
	// once it is quiet.
	limit := p.opts.BatchSize
	if p.db.ForegroundWaitedWithin(time.Second) {
		limit = min(limit, contendedBatch)
	}
	evs, err := p.log.After(ctx, p.db, cursor, limit)
	p.behind = len(evs) == limit
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	start := time.Now()
	stats, err := p.apply(ctx, cursor, evs)
	if err != nil && !fault.Is(err, fault.Unavailable) && !errors.Is(err, errMoved) && len(evs) > 1 {
		// Something in this batch breaks processing: apply the events one by
		// one so that only the culprit is set aside.
		p.opts.Logger.Error("processor: batch failed; isolating events", "from", evs[0].Seq, "to", evs[len(evs)-1].Seq, "err", err)
		return p.isolate(ctx, cursor, evs)
	}
	if err != nil {
		return 0, err
	}
	stats.Duration = time.Since(start)
	p.observe(stats, evs)
	p.analyze(ctx, len(evs))
	return len(evs), nil
}

// analyze keeps PostgreSQL's planner statistics in step with tables that
// grow fast (a first import, a demo): without them the planner takes large
// tables for small ones and scans them. Autovacuum does the same eventually;
// this refreshes them after 5,000 events, then each time the events applied
// since the last refresh double, up to every million. It runs beside
// processing (ANALYZE does not block writes), one at a time.
func (p *Processor) analyze(ctx context.Context, n int) {
	if p.db.Dialect() != sqldb.Postgres {
		return
	}
	if p.sinceAnalyze += n; p.sinceAnalyze < p.analyzeAt || !p.analyzing.CompareAndSwap(false, true) {
		return
	}
	p.analyzeAt = min(2*p.analyzeAt, 1_000_000)
	p.sinceAnalyze = 0
	go func() {
		defer p.analyzing.Store(false)
		start := time.Now()
		if _, err := p.db.Exec(ctx, `ANALYZE events, profiles, profile_activity, identities, timeline, profile_terms, orders, order_items, order_refunds, customer_stats`); err != nil {
			if ctx.Err() == nil {
				p.opts.Logger.Warn("processor: analyze", "err", err)
			}
			return
		}
		p.opts.Logger.Debug("processor: analyzed", "took", time.Since(start))
	}()
}

// errMoved means another processor advanced the cursor first.
var errMoved = errors.New("the cursor moved: another processor applied these events")

func (p *Processor) observe(stats BatchStats, evs []event.Stored) {
	if p.opts.Observe == nil {
		return
	}
	now := p.opts.Now()
	stats.Lags = stats.Lags[:0]
	for _, e := range evs {
		stats.Lags = append(stats.Lags, now.Sub(e.ReceivedAt))
	}
	stats.Events = len(evs)
	stats.LastSeq = evs[len(evs)-1].Seq
	p.opts.Observe(stats)
}

// isolate applies events one transaction each, recording any that fail.
func (p *Processor) isolate(ctx context.Context, cursor int64, evs []event.Stored) (int, error) {
	for _, e := range evs {
		start := time.Now()
		stats, err := p.apply(ctx, cursor, []event.Stored{e})
		if err != nil && (fault.Is(err, fault.Unavailable) || errors.Is(err, errMoved)) {
			return 0, err
		}
		if err != nil {
			err = p.db.InTx(ctx, func(tx *sqldb.Tx) error {
				if err := advance(ctx, tx, cursor, e.Seq); err != nil {
					return err
				}
				if err := recordError(ctx, tx, e.Seq, err.Error(), p.opts.Now()); err != nil {
					return err
				}
				return event.AddCounters(ctx, tx, map[string]int{"events_processed": 1, "events_failed": 1})
			})
			if err != nil {
				return 0, err
			}
			stats = BatchStats{Failed: 1}
		}
		stats.Duration = time.Since(start)
		p.observe(stats, []event.Stored{e})
		cursor = e.Seq
	}
	return len(evs), nil
}

func advance(ctx context.Context, tx *sqldb.Tx, from, to int64) error {
	res, err := tx.Exec(ctx, "UPDATE cursors SET seq = ? WHERE name = 'processor' AND seq = ?", to, from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errMoved
	}
	return nil
}

func recordError(ctx context.Context, tx *sqldb.Tx, seq int64, msg string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO processing_errors (seq, error, created_at) VALUES (?, ?, ?)
		ON CONFLICT (seq) DO UPDATE SET error = excluded.error`, seq, msg, now.UnixMilli())
	return err
}

// decoded is an event read for processing.
type decoded struct {
	event.Stored
	body     event.Body
	ids      []identity.Identifier
	rejected []identity.Rejected
	err      error // the payload could not be read
}

// apply applies evs (which follow cursor) in one transaction.
func (p *Processor) apply(ctx context.Context, cursor int64, evs []event.Stored) (BatchStats, error) {
	var stats BatchStats
	now := p.opts.Now()
	rules, err := identity.LoadRules(ctx, p.db, p.opts.PhoneRegion)
	if err != nil {
		return stats, err
	}
	// Reading payloads is pure work: do it before taking the write lock.
	ds := make([]decoded, len(evs))
	lists := make([][]identity.Identifier, 0, len(evs))
	for i, e := range evs {
		d := &ds[i]
		d.Stored = e
		if d.body, d.err = event.DecodeBody(e.Payload); d.err != nil {
			continue
		}
		d.ids, d.rejected = rules.Candidates(identity.FromEvent(e, d.body))
		lists = append(lists, d.ids)
	}
	err = p.db.InTxAs(ctx, sqldb.Background, func(tx *sqldb.Tx) error {
		if err := tx.Lock(ctx, processingLock); err != nil {
			return err
		}
		if err := advance(ctx, tx, cursor, evs[len(evs)-1].Seq); err != nil {
			return err
		}
		var version int64
		if err := tx.QueryRow(ctx, "SELECT value FROM counters WHERE name = 'graph_version'").Scan(&version); err != nil {
			return sqldb.Classify(err)
		}
		if version != p.version || cursor != p.cursor || p.ids.Len() > cacheLimit || p.states.Len() > cacheLimit/4 {
			p.ids.Reset()
			p.states.Reset()
			p.version = version
		}
		g := identity.NewGraph(ctx, tx, &rules, now, p.ids)
		if err := g.Prefetch(lists); err != nil {
			return err
		}
		b := &batch{ctx: ctx, tx: tx, graph: g, profiles: profile.NewBatch(ctx, tx, p.states), orders: order.NewRecorder(ctx, tx, p.opts.BaseCurrency)}
		if err := b.profiles.Prefetch(g.Roots(lists)); err != nil {
			return err
		}
		for _, x := range p.opts.Extensions {
			h, err := x.Begin(ctx, tx, now)
			if err != nil {
				return err
			}
			b.hooks = append(b.hooks, h)
		}
		for i := range ds {
			if err := b.apply(&ds[i]); err != nil {
				if !fault.Is(err, fault.Invalid) {
					return fmt.Errorf("event %d: %w", ds[i].Seq, err)
				}
				if err := recordError(ctx, tx, ds[i].Seq, fault.MessageOf(err), now); err != nil {
					return err
				}
				stats.Failed++
			}
		}
		if err := g.Flush(); err != nil {
			return err
		}
		if err := b.profiles.Flush(); err != nil {
			return err
		}
		if err := b.orders.Flush(g.Root); err != nil {
			return err
		}
		if len(b.hooks) > 0 {
			c := Changes{Merges: b.merges, Customers: b.orders.Changed(), Acquired: b.profiles.AcquisitionChanged(), RootOf: g.Root}
			for i, id := range c.Acquired {
				if c.Acquired[i], err = g.Root(id); err != nil {
					return err
				}
			}
			for _, h := range b.hooks {
				if err := h.Flush(c); err != nil {
					return err
				}
			}
		}
		return event.AddCounters(ctx, tx, map[string]int{
			"events_processed": len(evs),
			"events_failed":    stats.Failed,
			"profiles":         g.ProfilesCreated - g.Merges,
		})
	})
	if err != nil {
		p.version = -1 // the caches hold what was rolled back
	} else {
		p.cursor = evs[len(evs)-1].Seq
	}
	return stats, err
}

// batch is the working state of one processing transaction.
type batch struct {
	ctx      context.Context
	tx       *sqldb.Tx
	graph    *identity.Graph
	profiles *profile.Batch
	orders   *order.Recorder
	hooks    []Hook
	merges   []identity.Merge
}

// apply applies one event. A fault.Invalid error means the event's effects
// could not be applied and it should be recorded as failed; any other error
// aborts the batch.
func (b *batch) apply(d *decoded) error {
	if d.err != nil {
		return fault.Wrap(d.err, fault.Invalid, "the payload cannot be read: %v", d.err)
	}
	previous := ""
	if d.Type == event.Alias {
		previous = d.body.PreviousID
	}
	res, err := b.graph.Resolve(d.Seq, d.ids, previous, d.Timestamp)
	if err != nil {
		if fault.Is(err, fault.Invalid) && len(d.rejected) > 0 {
			return fault.New(fault.Invalid, "no usable identifier: %s", d.rejected[0].Reason)
		}
		return err
	}
	if res.Created {
		b.profiles.New(res.Root)
	}
	for _, m := range res.Merged {
		if err := b.profiles.Merge(m.Survivor, m.Merged); err != nil {
			return err
		}
		b.orders.Merged(m.Survivor, m.Merged)
	}
	b.merges = append(b.merges, res.Merged...)
	for _, r := range d.rejected {
		b.graph.Decide(d.Seq, res.Root, r.Type, r.Original, r.Reason)
	}
	st, err := b.profiles.Get(res.Root)
	if err != nil {
		return err
	}
	st.Apply(d.Stored, d.body)
	b.profiles.AddTimeline(res.Profile, d.Timestamp.UnixMilli(), d.Seq)
	var failed error
	if d.Type == event.Track && order.Touches(d.Name) {
		if err := b.orders.Add(d.Stored, d.body, res.Profile); err != nil {
			if !fault.Is(err, fault.Invalid) {
				return err
			}
			failed = err
		}
	}
	for _, h := range b.hooks {
		if err := h.Event(Applied{Event: d.Stored, Body: d.body, Profile: res.Profile, Root: res.Root}); err != nil {
			if !fault.Is(err, fault.Invalid) {
				return err
			}
			failed = err
		}
	}
	return failed
}

// Unmerge undoes a merge and rebuilds both customers' profiles and
// statistics from their events and orders.
func Unmerge(ctx context.Context, db *sqldb.DB, mergeID, baseCurrency string, now time.Time, exts ...Extension) (identity.Split, error) {
	var split identity.Split
	err := db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.Lock(ctx, processingLock); err != nil {
			return err
		}
		var err error
		if split, err = identity.Unmerge(ctx, tx, mergeID, now); err != nil {
			return err
		}
		// Processors must forget what they cached of these profiles.
		if err := event.AddCounters(ctx, tx, map[string]int{"graph_version": 1}); err != nil {
			return err
		}
		for _, root := range []string{split.Kept, split.Restored} {
			if err := profile.Rebuild(ctx, tx, root); err != nil {
				return err
			}
			if err := order.Recompute(ctx, tx, root, baseCurrency); err != nil {
				return err
			}
		}
		for _, x := range exts {
			if err := x.Rebuild(ctx, tx, []string{split.Kept, split.Restored}); err != nil {
				return err
			}
		}
		return nil
	})
	return split, err
}
