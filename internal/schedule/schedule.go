// Package schedule runs periodic jobs (model refits, score refreshes) on one
// node at a time.
//
// Guarantees: a job runs at most once per interval across all nodes sharing
// a database (a lease row in the leases table elects the node); a job that
// fails is retried at its next turn and its error is logged; a job can also
// be run at once (Trigger), for example when an operator asks for it.
package schedule

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Job is a periodic job.
type Job struct {
	Name  string        // unique; also the lease's name
	Every time.Duration // how often it runs
	Run   func(ctx context.Context) error
}

// Scheduler runs jobs.
type Scheduler struct {
	db     *sqldb.DB
	log    *slog.Logger
	holder string
	mu     sync.Mutex
	jobs   []Job
	poke   map[string]chan struct{}
}

// New returns a Scheduler on db.
func New(db *sqldb.DB, log *slog.Logger) *Scheduler {
	return &Scheduler{db: db, log: log, holder: uuid.Must(uuid.NewV7()).String(), poke: map[string]chan struct{}{}}
}

// Add registers a job; call it before Run.
func (s *Scheduler) Add(j Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, j)
	s.poke[j.Name] = make(chan struct{}, 1)
}

// Trigger asks for a job to run now on this node (if it holds the job's
// turn, see Run). It reports whether the job exists.
func (s *Scheduler) Trigger(name string) bool {
	s.mu.Lock()
	ch, ok := s.poke[name]
	s.mu.Unlock()
	if ok {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return ok
}

// RunNow runs the named job on this node at once and waits for it; its next
// turn comes one interval later.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	s.mu.Lock()
	i := slices.IndexFunc(s.jobs, func(j Job) bool { return j.Name == name })
	var j Job
	if i >= 0 {
		j = s.jobs[i]
	}
	s.mu.Unlock()
	if i < 0 {
		return fault.New(fault.NotFound, "no job named %q", name)
	}
	if _, err := s.claim(ctx, j, true); err != nil {
		return err
	}
	return j.Run(ctx)
}

// Run runs every job until ctx is done.
func (s *Scheduler) Run(ctx context.Context) {
	s.mu.Lock()
	jobs := append([]Job(nil), s.jobs...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); s.loop(ctx, j) }()
	}
	wg.Wait()
}

// loop runs one job: when its interval has passed since the last run on any
// node (the lease's expiry marks it), or when triggered.
func (s *Scheduler) loop(ctx context.Context, j Job) {
	s.mu.Lock()
	poke := s.poke[j.Name]
	s.mu.Unlock()
	for ctx.Err() == nil {
		forced := false
		select {
		case <-ctx.Done():
			return
		case <-poke:
			forced = true
		case <-time.After(time.Minute):
		}
		ok, err := s.claim(ctx, j, forced)
		if err != nil {
			s.log.Warn("schedule: lease", "job", j.Name, "err", err)
			continue
		}
		if !ok {
			continue
		}
		start := time.Now()
		if err := j.Run(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Error("schedule: job failed", "job", j.Name, "err", err)
			}
			continue
		}
		s.log.Info("schedule: job done", "job", j.Name, "took", time.Since(start).Round(time.Millisecond))
	}
}

// claim takes the job's turn: the lease row named "job:<name>" expires one
// interval after the last run started; whoever finds it expired (or is
// forced) runs the job and sets the next expiry.
func (s *Scheduler) claim(ctx context.Context, j Job, forced bool) (bool, error) {
	now := time.Now()
	// Forced, the turn is taken whenever it is due.
	due := now.UnixMilli()
	if forced {
		due = math.MaxInt64
	}
	res, err := s.db.Exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.expires_at < ?`,
		"job:"+j.Name, s.holder, now.Add(j.Every).UnixMilli(), due)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
