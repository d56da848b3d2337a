package event

import (
	"context"
	"sync"
	"time"
)

// Ingester parses requests and stores their events through a Committer.
type Ingester struct {
	committer *Committer
	limits    Limits
	now       func() time.Time
	parsers   sync.Pool
}

// NewIngester returns an Ingester storing through c. now is the clock.
func NewIngester(c *Committer, limits Limits, now func() time.Time) *Ingester {
	ig := &Ingester{committer: c, limits: limits, now: now}
	ig.parsers.New = func() any { return NewParser(limits) }
	return ig
}

// Limits returns the limits the Ingester enforces.
func (ig *Ingester) Limits() Limits { return ig.limits }

// Parse parses a request body: a /v1/batch body when typ is empty, else a
// single call of type typ. Bodies that are not JSON, empty or too large are
// refused with a fault error; events that break a rule are quarantined in the
// returned Request.
func (ig *Ingester) Parse(typ string, body []byte) (*Request, time.Time, error) {
	now := ig.now().UTC()
	p := ig.parsers.Get().(*Parser)
	defer ig.parsers.Put(p)
	var (
		req *Request
		err error
	)
	if typ == "" {
		req, err = p.ParseBatch(body, now)
	} else {
		req, err = p.ParseSingle(typ, body, now)
	}
	return req, now, err
}

// Store commits a parsed request's events and quarantined events for a
// source. It returns once they are durable.
func (ig *Ingester) Store(ctx context.Context, sourceID string, receivedAt time.Time, req *Request) (Outcome, error) {
	for i := range req.Events {
		req.Events[i].SourceID = sourceID
	}
	return ig.committer.Submit(ctx, sourceID, receivedAt, req.Events, req.Quarantined)
}
