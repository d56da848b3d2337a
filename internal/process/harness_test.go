package process_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// harness ingests events through the real parser and committer and
// processes them with the real processor.
type harness struct {
	t         testing.TB
	ctx       context.Context
	db        *sqldb.DB
	ingester  *event.Ingester
	committer *event.Committer
	proc      *process.Processor
	sources   map[string]string // channel → source id
}

func newHarness(t testing.TB, db *sqldb.DB) *harness {
	t.Helper()
	ctx := context.Background()
	c := event.NewCommitter(db, event.CommitterOptions{})
	go c.Run()
	t.Cleanup(c.Close)
	h := &harness{t: t, ctx: ctx, db: db, committer: c, sources: map[string]string{},
		ingester: event.NewIngester(c, event.DefaultLimits(), time.Now),
		proc:     process.New(db, process.Options{BaseCurrency: "EUR", PhoneRegion: "IT"}),
	}
	store := auth.NewStore(db, time.Now)
	for _, ch := range []string{"web", "app", "pos", "care"} {
		src, _, err := store.CreateSource(ctx, "src-"+ch, ch, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.sources[ch] = src.ID
	}
	return h
}

// send ingests events (JSON objects) from the source of the given channel
// and processes everything pending.
func (h *harness) send(channel string, events ...string) {
	h.t.Helper()
	body := `{"batch":[` + strings.Join(events, ",") + `]}`
	req, at, err := h.ingester.Parse("", []byte(body))
	if err != nil {
		h.t.Fatalf("parse: %v", err)
	}
	if len(req.Quarantined) > 0 {
		h.t.Fatalf("quarantined: %+v", req.Quarantined)
	}
	if _, err := h.ingester.Store(h.ctx, h.sources[channel], at, req); err != nil {
		h.t.Fatalf("store: %v", err)
	}
	h.drain()
}

func (h *harness) drain() {
	h.t.Helper()
	for {
		n, err := h.proc.Step(h.ctx)
		if err != nil {
			h.t.Fatalf("process: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// root returns the canonical profile holding an identifier, failing the
// test if there is none.
func (h *harness) root(typ, value string) string {
	h.t.Helper()
	rules := identity.DefaultRules("IT")
	r, err := identity.Lookup(h.ctx, h.db, &rules, typ, value)
	if err != nil {
		h.t.Fatalf("lookup %s %s: %v", typ, value, err)
	}
	return r
}

func (h *harness) profile(root string) profile.Profile {
	h.t.Helper()
	p, err := profile.Get(h.ctx, h.db, root)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) stats(root string) order.Stats {
	h.t.Helper()
	s, err := order.GetStats(h.ctx, h.db, root, "EUR")
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) timeline(root string) []int64 {
	h.t.Helper()
	es, err := profile.Timeline(h.ctx, h.db, root, 0, 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var seqs []int64
	for _, e := range es {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

func (h *harness) status() process.Status {
	h.t.Helper()
	st, err := process.ReadStatus(h.ctx, h.db, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// ev builds an event JSON object from alternating key, raw-JSON-value pairs.
func ev(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", kv[i], kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

func q(s string) string { return fmt.Sprintf("%q", s) }

// at returns a timestamp n hours after a fixed origin, as JSON.
func at(hours int) string {
	return q(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(hours) * time.Hour).Format(time.RFC3339))
}
