package kpi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// harness ingests events through the real parser and committer and applies
// them with the real processor running the KPI extension.
type harness struct {
	t        testing.TB
	ctx      context.Context
	db       *sqldb.DB
	ext      *kpi.Extension
	ingester *event.Ingester
	proc     *process.Processor
	sources  map[string]string
}

func newHarness(t testing.TB, db *sqldb.DB, opts kpi.Options) *harness {
	t.Helper()
	ctx := context.Background()
	if _, err := kpi.Prepare(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	c := event.NewCommitter(db, event.CommitterOptions{})
	go c.Run()
	t.Cleanup(c.Close)
	h := &harness{t: t, ctx: ctx, db: db, ext: kpi.NewExtension(opts), sources: map[string]string{},
		ingester: event.NewIngester(c, event.DefaultLimits(), time.Now)}
	h.proc = process.New(db, process.Options{BaseCurrency: "EUR", PhoneRegion: "IT", Extensions: []process.Extension{h.ext}})
	store := auth.NewStore(db, time.Now)
	for _, ch := range []string{"web", "app", "pos"} {
		src, _, err := store.CreateSource(ctx, "src-"+ch, ch, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.sources[ch] = src.ID
	}
	return h
}

func (h *harness) send(channel string, events ...string) {
	h.t.Helper()
	req, at, err := h.ingester.Parse("", []byte(`{"batch":[`+strings.Join(events, ",")+`]}`))
	if err != nil || len(req.Quarantined) > 0 {
		h.t.Fatalf("parse: %v %+v", err, req.Quarantined)
	}
	if _, err := h.ingester.Store(h.ctx, h.sources[channel], at, req); err != nil {
		h.t.Fatalf("store: %v", err)
	}
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

var msg int

// track returns a track event of who (userId, or anonymousId when it starts
// with "anon") at a day of 2025 (noon UTC).
func track(who, name, day, props string) string {
	msg++
	id := `"userId":"` + who + `"`
	if strings.HasPrefix(who, "anon") {
		id = `"anonymousId":"` + who + `"`
	}
	return fmt.Sprintf(`{"type":"track","messageId":"m%d",%s,"event":%q,"timestamp":"%sT12:00:00Z","properties":%s}`, msg, id, name, day, props)
}
