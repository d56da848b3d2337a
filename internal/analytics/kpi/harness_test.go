package kpi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// harness ingests events through the real parser and committer and applies
// them with the real processor running the KPI extension.
type harness struct {
	*processtest.Harness
	t   testing.TB
	ctx context.Context
	db  *sqldb.DB
	ext *kpi.Extension
}

func newHarness(t testing.TB, db *sqldb.DB, opts kpi.Options) *harness {
	t.Helper()
	ctx := context.Background()
	if _, err := kpi.Prepare(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	ext := kpi.NewExtension(opts)
	return &harness{Harness: processtest.New(t, db, ext), t: t, ctx: ctx, db: db, ext: ext}
}

func (h *harness) send(channel string, events ...string) {
	h.t.Helper()
	h.Send(channel, events...)
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
