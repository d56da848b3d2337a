// Package processtest drives the real ingestion and processing path in tests
// of packages that keep derived data beside processing (process.Extension):
// events are parsed and committed by the real ingester, then applied by the
// real processor with the extensions under test.
package processtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Harness ingests events from one source per channel (web, app, pos, care)
// and processes them.
type Harness struct {
	T        testing.TB
	Ctx      context.Context
	DB       *sqldb.DB
	Proc     *process.Processor
	Exts     []process.Extension
	ingester *event.Ingester
	sources  map[string]string // channel → source id
}

// New returns a harness on db whose processor runs exts.
func New(t testing.TB, db *sqldb.DB, exts ...process.Extension) *Harness {
	t.Helper()
	ctx := context.Background()
	c := event.NewCommitter(db, event.CommitterOptions{})
	go c.Run()
	t.Cleanup(c.Close)
	h := &Harness{T: t, Ctx: ctx, DB: db, Exts: exts, sources: map[string]string{},
		ingester: event.NewIngester(c, event.DefaultLimits(), time.Now),
		Proc:     process.New(db, process.Options{BaseCurrency: "EUR", PhoneRegion: "IT", Extensions: exts}),
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

// Send ingests events (JSON objects) from the source of the given channel and
// processes everything pending.
func (h *Harness) Send(channel string, events ...string) {
	h.T.Helper()
	h.Ingest(channel, events...)
	h.Drain()
}

// Ingest stores events (JSON objects) from the source of the given channel,
// as one batch request, without processing them.
func (h *Harness) Ingest(channel string, events ...string) {
	h.T.Helper()
	body := `{"batch":[` + strings.Join(events, ",") + `]}`
	req, at, err := h.ingester.Parse("", []byte(body))
	if err != nil {
		h.T.Fatalf("parse: %v", err)
	}
	if len(req.Quarantined) > 0 {
		h.T.Fatalf("quarantined: %+v", req.Quarantined)
	}
	if _, err := h.ingester.Store(h.Ctx, h.sources[channel], at, req); err != nil {
		h.T.Fatalf("store: %v", err)
	}
}

// Drain processes every pending event.
func (h *Harness) Drain() {
	h.T.Helper()
	for {
		n, err := h.Proc.Step(h.Ctx)
		if err != nil {
			h.T.Fatalf("process: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// Root returns the canonical profile holding an identifier.
func (h *Harness) Root(typ, value string) string {
	h.T.Helper()
	rules := identity.DefaultRules("IT")
	r, err := identity.Lookup(h.Ctx, h.DB, &rules, typ, value)
	if err != nil {
		h.T.Fatalf("lookup %s %s: %v", typ, value, err)
	}
	return r
}

// Errors returns the processing errors recorded so far, by event message id.
func (h *Harness) Errors() map[string]string {
	h.T.Helper()
	rows, err := h.DB.Query(h.Ctx, "SELECT e.message_id, p.error FROM processing_errors p JOIN events e ON e.seq = p.seq")
	if err != nil {
		h.T.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, msg string
		if err := rows.Scan(&id, &msg); err != nil {
			h.T.Fatal(err)
		}
		out[id] = msg
	}
	if err := rows.Err(); err != nil {
		h.T.Fatal(err)
	}
	return out
}

// Unmerge undoes the merge of a profile (its only merge), running the
// extensions' rebuild.
func (h *Harness) Unmerge(root string) identity.Split {
	h.T.Helper()
	ms, err := identity.Merges(h.Ctx, h.DB, root)
	if err != nil || len(ms) == 0 {
		h.T.Fatalf("merges of %s: %v %v", root, ms, err)
	}
	s, err := process.Unmerge(h.Ctx, h.DB, ms[0].ID, "EUR", time.Now(), h.Exts...)
	if err != nil {
		h.T.Fatal(err)
	}
	return s
}

// Ev builds an event JSON object from alternating key, raw-JSON-value pairs.
func Ev(kv ...string) string {
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

// Q quotes s as a JSON string.
func Q(s string) string { return fmt.Sprintf("%q", s) }

// At returns, as a JSON string, the time that is minutes after midnight UTC
// of day (YYYY-MM-DD).
func At(day string, minutes float64) string {
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		panic(err)
	}
	return Q(d.Add(time.Duration(minutes * float64(time.Minute))).Format(time.RFC3339Nano))
}
