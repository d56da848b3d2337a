package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
)

// Sources are the demo's event sources: name and channel. Every event goes
// through the source of its Event.Source channel.
func Sources() []SourceSpec {
	return []SourceSpec{{"demo-web", "web"}, {"demo-app", "app"}, {"demo-pos", "pos"}, {"demo-care", "care"}}
}

// SourceSpec names a source the demo needs.
type SourceSpec struct {
	Name    string
	Channel string
}

// Target is a running bottega to load the demo into through its ingestion
// API (/v1/batch).
type Target struct {
	URL       string            // base URL, e.g. http://127.0.0.1:8080
	WriteKeys map[string]string // channel of each demo source → its write key
	Client    *http.Client      // nil: a client of the Loader's own
}

// LoadOptions tune a Loader. Zero values pick the defaults.
type LoadOptions struct {
	Senders     int           // concurrent requests (default 4)
	BatchEvents int           // events per request (default 400)
	BatchBytes  int           // a request's body stays under this size (default 450,000; the server takes 500 KB)
	MaxAttempts int           // tries per request before giving up (default 30)
	Backoff     time.Duration // first wait before a retry (default 100 ms; doubles up to 5 s)
}

// Progress is how far a load has come.
type Progress struct {
	People      int   // people whose events were generated
	PeopleTotal int   // people in the demo
	Sent        int64 // events acknowledged by the server
	Stored      int64 // of which stored
	Duplicates  int64 // of which already stored (a re-run, or a retried request)
	Quarantined int64 // of which refused and kept aside
	Retries     int64 // requests sent again after a 429, a 503 or a network error
}

// Loader sends a demo shop to a running bottega, through the same HTTP
// ingestion path as any client: batches per source with the source's write
// key, a few requests at a time, retried with the same messageIds until
// acknowledged.
type Loader struct {
	g      *Generator
	target Target
	opts   LoadOptions

	people                                         atomic.Int64
	sent, stored, duplicates, quarantined, retries atomic.Int64
}

// NewLoader returns a Loader of g's events into target.
func NewLoader(g *Generator, target Target, opts LoadOptions) *Loader {
	if opts.Senders <= 0 {
		opts.Senders = 4
	}
	if opts.BatchEvents <= 0 {
		opts.BatchEvents = 400
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 450_000
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 30
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	target.URL = strings.TrimSuffix(target.URL, "/")
	return &Loader{g: g, target: target, opts: opts}
}

// Progress returns how far the load has come; it may be called at any time
// from any goroutine.
func (l *Loader) Progress() Progress {
	return Progress{
		People: int(l.people.Load()), PeopleTotal: l.g.People(),
		Sent: l.sent.Load(), Stored: l.stored.Load(), Duplicates: l.duplicates.Load(),
		Quarantined: l.quarantined.Load(), Retries: l.retries.Load(),
	}
}

type batch struct {
	channel string
	body    []byte
	events  int
}

// Run generates and sends every event. It returns once all are
// acknowledged, or with the first error (ctx's when it is cancelled).
func (l *Loader) Run(ctx context.Context) (Progress, error) {
	for _, s := range Sources() {
		if l.target.WriteKeys[s.Channel] == "" {
			return l.Progress(), fault.New(fault.Invalid, "no write key for the demo's %s source", s.Channel)
		}
	}
	client := l.target.Client
	if client == nil {
		tr := &http.Transport{MaxIdleConnsPerHost: l.opts.Senders, IdleConnTimeout: 30 * time.Second}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan batch, l.opts.Senders)
	var wg sync.WaitGroup
	for range l.opts.Senders {
		wg.Go(func() {
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain, so that the producer never blocks
				}
				if err := l.send(ctx, client, b); err != nil {
					cancel(err)
				}
			}
		})
	}
	err := l.produce(ctx, batches)
	close(batches)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	return l.Progress(), err
}

// produce generates the events person by person and cuts them into one
// stream of batches per source.
func (l *Loader) produce(ctx context.Context, out chan<- batch) error {
	open := map[string]*batch{}
	var scratch []byte
	flush := func(b *batch) error {
		if b.events == 0 {
			return nil
		}
		b.body = append(b.body, "]}"...)
		select {
		case out <- *b:
		case <-ctx.Done():
			return ctx.Err()
		}
		*b = batch{channel: b.channel}
		return nil
	}
	for _, evs := range l.g.Events() {
		for k := range evs {
			e := &evs[k]
			scratch = e.AppendJSON(scratch[:0])
			b := open[e.Source]
			if b == nil {
				b = &batch{channel: e.Source}
				open[e.Source] = b
			}
			if b.events > 0 && (b.events >= l.opts.BatchEvents || len(b.body)+len(scratch)+3 > l.opts.BatchBytes) {
				if err := flush(b); err != nil {
					return err
				}
			}
			if b.events == 0 {
				b.body = append(make([]byte, 0, l.opts.BatchBytes), `{"batch":[`...)
			} else {
				b.body = append(b.body, ',')
			}
			b.body = append(b.body, scratch...)
			b.events++
		}
		l.people.Add(1)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	for _, s := range Sources() {
		if b := open[s.Channel]; b != nil {
			if err := flush(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// ingestResult is the answer of /v1/batch.
type ingestResult struct {
	Stored      int               `json:"stored"`
	Duplicates  int               `json:"duplicates"`
	Quarantined []json.RawMessage `json:"quarantined"`
}

// send posts one batch until the server acknowledges it. 429, 503 and
// network errors are retried with the same body (so the same messageIds:
// the server never counts an event twice); any other answer is an error.
func (l *Loader) send(ctx context.Context, client *http.Client, b batch) error {
	wait := l.opts.Backoff
	var last error
	for attempt := 1; attempt <= l.opts.MaxAttempts; attempt++ {
		if attempt > 1 {
			l.retries.Add(1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			wait = min(2*wait, 5*time.Second)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target.URL+"/v1/batch", bytes.NewReader(b.body))
		if err != nil {
			return err
		}
		req.SetBasicAuth(l.target.WriteKeys[b.channel], "")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "bottega-demo")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = err
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		switch {
		case err != nil:
			last = err
			continue
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			last = fmt.Errorf("%s: %s", resp.Status, clipBody(body))
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			continue
		case resp.StatusCode != http.StatusOK:
			return fault.New(fault.Internal, "the server refused a batch of demo events from source %s (%s): %s", b.channel, resp.Status, clipBody(body))
		}
		var res ingestResult
		if err := json.Unmarshal(body, &res); err != nil {
			return fault.Wrap(err, fault.Internal, "the server's answer to a demo batch is not an ingestion result")
		}
		l.sent.Add(int64(b.events))
		l.stored.Add(int64(res.Stored))
		l.duplicates.Add(int64(res.Duplicates))
		l.quarantined.Add(int64(len(res.Quarantined)))
		return nil
	}
	return fault.Wrap(last, fault.Unavailable, "the server did not accept a batch of demo events after %d attempts: %v", l.opts.MaxAttempts, last)
}

func clipBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
