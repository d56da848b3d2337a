package schedule_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/schedule"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// Two nodes share a database: a job triggered on both runs once per
// interval; once its interval passes it runs again.
func TestOneRunPerInterval(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var runs atomic.Int32
		job := schedule.Job{Name: "refit", Every: time.Hour, Run: func(context.Context) error { runs.Add(1); return nil }}
		a, b := schedule.New(db, slog.New(slog.DiscardHandler)), schedule.New(db, slog.New(slog.DiscardHandler))
		a.Add(job)
		b.Add(job)
		go a.Run(ctx)
		go b.Run(ctx)
		// The first turn is free for whoever claims it first.
		if !a.Trigger("refit") || b.Trigger("nope") {
			t.Fatal("Trigger does not know its jobs")
		}
		for runs.Load() < 1 {
			time.Sleep(10 * time.Millisecond)
		}
		// Triggering runs again now, on the node asked.
		b.Trigger("refit")
		for runs.Load() < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		var holder string
		var expires int64
		if err := db.QueryRow(ctx, "SELECT holder, expires_at FROM leases WHERE name = 'job:refit'").Scan(&holder, &expires); err != nil {
			t.Fatal(err)
		}
		if time.Until(time.UnixMilli(expires)) < 50*time.Minute {
			t.Fatalf("next turn in %v, want about an hour", time.Until(time.UnixMilli(expires)))
		}
	})
}

// RunNow runs a job at once, waits for it, and pushes its next turn an
// interval away; an unknown job is an error.
func TestRunNow(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		var runs int
		s := schedule.New(db, slog.New(slog.DiscardHandler))
		s.Add(schedule.Job{Name: "rfm", Every: time.Hour, Run: func(context.Context) error { runs++; return nil }})
		for i := range 2 {
			if err := s.RunNow(ctx, "rfm"); err != nil {
				t.Fatal(err)
			}
			if runs != i+1 {
				t.Fatalf("runs = %d, want %d", runs, i+1)
			}
		}
		var expires int64
		if err := db.QueryRow(ctx, "SELECT expires_at FROM leases WHERE name = 'job:rfm'").Scan(&expires); err != nil {
			t.Fatal(err)
		}
		if d := time.Until(time.UnixMilli(expires)); d < 50*time.Minute {
			t.Fatalf("next turn in %v, want about an hour", d)
		}
		if err := s.RunNow(ctx, "nope"); !fault.Is(err, fault.NotFound) {
			t.Fatalf("RunNow(nope) = %v, want not found", err)
		}
	})
}
