package event

import (
	"context"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// pending is one request waiting for its commit.
type pending struct {
	ctx         context.Context
	sourceID    string
	receivedAt  time.Time
	events      []Event
	quarantined []Quarantined
	out         Outcome
	done        chan error
}

func (p *pending) size() int { return len(p.events) + len(p.quarantined) }

// CommitStats describe one group commit, for metrics.
type CommitStats struct {
	Requests int
	Events   int
	Duration time.Duration
	Err      error
}

// Committer appends the events of concurrent requests to the log in shared
// transactions: while one transaction commits, the requests that arrive queue
// up and go together in the next. A request's Submit returns only when its
// transaction has committed (or failed).
type Committer struct {
	db        *sqldb.DB
	queue     chan *pending
	maxEvents int
	observe   func(CommitStats)
	notify    func()

	mu      sync.RWMutex
	closed  bool
	stopped chan struct{}
}

// CommitterOptions tune a Committer.
type CommitterOptions struct {
	// MaxEvents bounds the events of one transaction (default 10,000).
	MaxEvents int
	// Observe, if set, is called after every commit.
	Observe func(CommitStats)
	// Notify, if set, is called after a commit that stored new events.
	Notify func()
}

// NewCommitter returns a Committer on db. Run must be running for Submit to
// make progress.
func NewCommitter(db *sqldb.DB, opts CommitterOptions) *Committer {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 10000
	}
	return &Committer{
		db:        db,
		queue:     make(chan *pending, 4096),
		maxEvents: opts.MaxEvents,
		observe:   opts.Observe,
		notify:    opts.Notify,
		stopped:   make(chan struct{}),
	}
}

// Submit queues a request's events and waits until they are committed. The
// Outcome says how many were new and how many were replays.
func (c *Committer) Submit(ctx context.Context, sourceID string, receivedAt time.Time, events []Event, quarantined []Quarantined) (Outcome, error) {
	p := &pending{ctx: ctx, sourceID: sourceID, receivedAt: receivedAt, events: events, quarantined: quarantined, done: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return Outcome{}, fault.New(fault.Unavailable, "the server is shutting down")
	}
	select {
	case c.queue <- p:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		return Outcome{}, fault.Wrap(ctx.Err(), fault.Unavailable, "storage is busy; retry")
	}
	select {
	case err := <-p.done:
		return p.out, err
	case <-ctx.Done():
		// The events may still be committed; a retry is deduplicated by
		// messageId, so telling the client to retry is safe.
		return Outcome{}, fault.Wrap(ctx.Err(), fault.Unavailable, "storage did not commit in time; retry")
	}
}

// Run commits queued requests until Close is called and the queue is empty.
func (c *Committer) Run() {
	defer close(c.stopped)
	var group []*pending
	for p := range c.queue {
		group = append(group[:0], p)
		n := p.size()
	gather:
		for n < c.maxEvents {
			select {
			case q, ok := <-c.queue:
				if !ok {
					break gather
				}
				group = append(group, q)
				n += q.size()
			default:
				break gather
			}
		}
		c.commit(group)
	}
}

// Close stops accepting requests, commits those already queued and waits for
// Run to return.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	<-c.stopped
}

func (c *Committer) commit(group []*pending) {
	// Requests whose caller already gave up are not committed: the caller
	// answered 503 and the client will retry.
	live := group[:0]
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.done <- fault.Wrap(err, fault.Unavailable, "storage did not commit in time; retry")
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	err := c.tx(live)
	if err != nil && len(live) > 1 && !fault.Is(err, fault.Unavailable) {
		// Something in one request broke the shared transaction; commit each
		// on its own so one bad request cannot fail the others.
		for _, p := range live {
			p.done <- retryable(c.tx([]*pending{p}))
		}
		return
	}
	for _, p := range live {
		p.done <- retryable(err)
	}
}

// retryable reports any failure to commit as Unavailable: nothing of the
// request was stored, and the client should retry it.
func retryable(err error) error {
	if err == nil || fault.Is(err, fault.Unavailable) {
		return err
	}
	return fault.Wrap(err, fault.Unavailable, "storage failed; retry")
}

func (c *Committer) tx(group []*pending) error {
	start := time.Now()
	// The transaction must finish even if a client disconnects meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.db.InTx(ctx, func(tx *sqldb.Tx) error { return appendAll(ctx, tx, group) })
	stored, events := 0, 0
	for _, p := range group {
		stored += p.out.Stored
		events += p.size()
	}
	if err != nil {
		for _, p := range group {
			p.out = Outcome{}
		}
		stored = 0
	}
	if c.observe != nil {
		c.observe(CommitStats{Requests: len(group), Events: events, Duration: time.Since(start), Err: err})
	}
	if err == nil && stored > 0 && c.notify != nil {
		c.notify()
	}
	return err
}
