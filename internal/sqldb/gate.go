package sqldb

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Priority orders the write transactions waiting for SQLite's single writer.
// Foreground work (a client waiting for its answer: ingestion, the API)
// goes before background work (event processing), which catches up when the
// writer is free.
type Priority int

const (
	Foreground Priority = iota
	Background
)

// gate hands SQLite's writer to one transaction at a time, foreground
// transactions first.
type gate struct {
	mu     sync.Mutex
	busy   bool
	queues [2][]chan struct{}
	// waited is when a foreground transaction last had to wait (Unix ns).
	waited atomic.Int64
}

func (g *gate) acquire(ctx context.Context, p Priority) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.queues[p] = append(g.queues[p], ch)
	if p == Foreground {
		g.waited.Store(time.Now().UnixNano())
	}
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		for i, c := range g.queues[p] {
			if c == ch {
				g.queues[p] = append(g.queues[p][:i], g.queues[p][i+1:]...)
				g.mu.Unlock()
				return ctx.Err()
			}
		}
		g.mu.Unlock()
		g.release() // granted meanwhile: pass it on
		return ctx.Err()
	}
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p := range g.queues {
		if q := g.queues[p]; len(q) > 0 {
			g.queues[p] = q[1:]
			close(q[0])
			return
		}
	}
	g.busy = false
}

// ForegroundWaitedWithin reports whether, on SQLite, a foreground write
// transaction had to wait for the writer within the last d: background work
// should then keep its transactions short.
func (db *DB) ForegroundWaitedWithin(d time.Duration) bool {
	if db.gate == nil {
		return false
	}
	return time.Since(time.Unix(0, db.gate.waited.Load())) < d
}
