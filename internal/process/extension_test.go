package process_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// recorder is an extension that writes what it sees to a table, inside the
// batch's transaction.
type recorder struct {
	events   []string
	merges   int
	changed  [][]string
	acquired [][]string
	rebuilt  [][]string
}

func (r *recorder) Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (process.Hook, error) {
	return &recHook{r: r, ctx: ctx, tx: tx}, nil
}

func (r *recorder) Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error {
	r.rebuilt = append(r.rebuilt, roots)
	return nil
}

type recHook struct {
	r   *recorder
	ctx context.Context
	tx  *sqldb.Tx
}

func (h *recHook) Event(a process.Applied) error {
	h.r.events = append(h.r.events, a.Event.Type+":"+a.Event.Name)
	_, err := h.tx.Exec(h.ctx, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (name) DO NOTHING", "seen-"+a.Event.MessageID, a.Root)
	return err
}

func (h *recHook) Flush(c process.Changes) error {
	h.r.merges += len(c.Merges)
	slices.Sort(c.Customers)
	h.r.changed = append(h.r.changed, c.Customers)
	h.r.acquired = append(h.r.acquired, c.Acquired)
	for _, id := range c.Customers {
		if root, err := c.RootOf(id); err != nil || root != id {
			return err
		}
	}
	return nil
}

// Extensions see every event, the merges, the customers whose orders
// changed and whose first touch changed, and rebuild after an unmerge; their
// writes commit with the batch.
func TestExtensions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		rec := &recorder{}
		h.Proc = process.New(db, process.Options{BaseCurrency: "EUR", Extensions: []process.Extension{rec}})
		h.send("web",
			ev("type", q("page"), "messageId", q("e1"), "anonymousId", q("a"), "name", q("Home"), "timestamp", at(1), "context", `{"campaign":{"source":"ig","name":"spring"}}`),
			ev("type", q("track"), "messageId", q("e2"), "userId", q("u"), "event", q("Order Completed"), "timestamp", at(2), "properties", `{"order_id":"X","total":10}`))
		h.send("web", ev("type", q("track"), "messageId", q("e3"), "userId", q("u"), "anonymousId", q("a"), "event", q("Signed In"), "timestamp", at(3)))
		u := h.root(identity.UserID, "u")
		if want := []string{"page:Home", "track:Order Completed", "track:Signed In"}; !slices.Equal(rec.events, want) {
			t.Fatalf("events %v", rec.events)
		}
		if rec.merges != 1 || len(rec.changed) != 2 || !slices.Equal(rec.changed[0], []string{u}) || !slices.Equal(rec.changed[1], []string{u}) {
			t.Fatalf("merges %d, changed %v (want the customer in both batches)", rec.merges, rec.changed)
		}
		if len(rec.acquired[0]) != 1 || len(rec.acquired[1]) != 1 || rec.acquired[1][0] != u {
			t.Fatalf("acquired %v: the first touch is new in batch 1 and moves to the survivor in batch 2", rec.acquired)
		}
		var n int
		if err := db.QueryRow(h.ctx, "SELECT COUNT(*) FROM settings WHERE name LIKE 'seen-%'").Scan(&n); err != nil || n != 3 {
			t.Fatalf("extension rows %d, err %v", n, err)
		}
		ms, err := identity.Merges(h.ctx, db, u)
		if err != nil || len(ms) != 1 {
			t.Fatalf("merges %v %v", ms, err)
		}
		if _, err := process.Unmerge(h.ctx, db, ms[0].ID, "EUR", time.Now(), rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.rebuilt) != 1 || len(rec.rebuilt[0]) != 2 {
			t.Fatalf("rebuilt %v", rec.rebuilt)
		}
	})
}
