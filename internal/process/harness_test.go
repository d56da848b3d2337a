package process_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// harness ingests events through the real parser and committer and
// processes them with the real processor (processtest.Harness, under the
// short names these tests use).
type harness struct {
	*processtest.Harness
	t   testing.TB
	ctx context.Context
	db  *sqldb.DB
}

func newHarness(t testing.TB, db *sqldb.DB) *harness {
	t.Helper()
	h := processtest.New(t, db)
	return &harness{Harness: h, t: t, ctx: h.Ctx, db: db}
}

// send ingests events (JSON objects) from the source of the given channel
// and processes everything pending.
func (h *harness) send(channel string, events ...string) {
	h.t.Helper()
	h.Send(channel, events...)
}

func (h *harness) drain() {
	h.t.Helper()
	h.Drain()
}

// root returns the canonical profile holding an identifier, failing the
// test if there is none.
func (h *harness) root(typ, value string) string {
	h.t.Helper()
	return h.Root(typ, value)
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
