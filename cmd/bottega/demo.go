package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/demo"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"golang.org/x/term"
)

// DemoCmd loads the demo shop into an empty database, then serves it. Its
// database flags are config.Database's with a default of its own, so that
// trying the demo never touches bottega.db.
type DemoCmd struct {
	DB          string        `help:"SQLite file path, or a postgres:// URL (default: bottega-demo.db)." default:"bottega-demo.db" placeholder:"PATH|URL"`
	BusyTimeout time.Duration `help:"How long a SQLite writer waits for a lock held by another process." default:"10s" hidden:""`
	config.Server
	People int    `help:"How many people the demo shop has." default:"20000"`
	Seed   uint64 `help:"Seed of the demo's random choices: the same seed gives the same shop." default:"1"`
	End    string `help:"Day the demo's two years of data end, exclusive (YYYY-MM-DD; default: today, UTC)." placeholder:"DATE"`
}

func (c *DemoCmd) database() config.Database {
	return config.Database{DB: c.DB, BusyTimeout: c.BusyTimeout}
}

// demoPlan is what a run of bottega demo does with its database.
type demoPlan struct {
	marker  demo.Marker
	load    bool // send the events (a fresh database, or an interrupted load)
	resumed bool
}

func (c *DemoCmd) Run(env *Env) error {
	ctx := env.Ctx
	if err := demo.CheckPeople(c.People); err != nil {
		return err
	}
	log, err := newLogger(env.Stderr, c.LogLevel, c.LogFormat)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, c.database())
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := newApp(db, c.Server, log)
	if err != nil {
		return err
	}
	plan, err := c.plan(ctx, db)
	if err != nil {
		return err
	}
	m := plan.marker
	g, err := demo.New(demo.Options{People: m.People, Seed: m.Seed, End: m.End})
	if err != nil {
		return err
	}
	store := auth.NewStore(db, time.Now)
	if plan.load && !plan.resumed {
		if err := demo.WriteMarker(ctx, db, m, time.Now()); err != nil {
			return err
		}
	}
	keys := map[string]string{}
	if plan.load {
		for _, s := range demo.Sources() {
			_, key, err := store.CreateSource(ctx, s.Name, s.Channel, 0)
			if fault.Is(err, fault.Conflict) { // an interrupted load made it: take a new key
				key, err = store.RotateSourceKey(ctx, s.Name, 0)
			}
			if err != nil {
				return err
			}
			keys[s.Channel] = key
		}
	}
	_, apiKey, err := store.CreateAPIKey(ctx, "demo", "", nil)
	if err != nil {
		return err
	}
	staff, err := demoStaff(ctx, store)
	if err != nil {
		return err
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	urls := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- a.serve(sctx, func(u string) { urls <- u }) }()
	var base string
	select {
	case base = <-urls:
	case err := <-served:
		return err
	}
	out := env.Stdout
	fmt.Fprintf(out, "bottega %s demo shop on %s (%s), serving %s\n", version, db.Name(), db.Dialect(), base)
	// stopServing ends the server and returns its error, or err if there is one.
	stopServing := func(err error) error {
		stop()
		if serr := <-served; err == nil {
			err = serr
		}
		return err
	}

	began := time.Now()
	if plan.load {
		if plan.resumed {
			fmt.Fprintf(out, "Resuming an interrupted load of the demo shop (seed %d, %s people, data up to %s); events already stored are skipped.\n",
				m.Seed, thousands(int64(m.People)), m.End.Format(time.DateOnly))
		} else {
			fmt.Fprintf(out, "Loading the demo shop: %s people, two years of data up to %s (seed %d), sent to %s/v1/batch.\n",
				thousands(int64(m.People)), m.End.Format(time.DateOnly), m.Seed, base)
		}
		if err := c.load(ctx, sctx, env, db, g, base, keys, began); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(out, "Interrupted. Run the same command again to finish loading the demo shop.")
				return stopServing(nil)
			}
			return stopServing(err)
		}
		if err := seedDemoCosts(ctx, db, strings.ToUpper(c.Currency), m.End); err != nil {
			return stopServing(err)
		}
		// Scores and models now rather than at their next periodic turn, so
		// the demo shows them at once.
		for _, job := range []string{"rfm", "personas", "predictions"} {
			if err := a.jobs.RunNow(ctx, job); err != nil {
				if ctx.Err() != nil {
					return stopServing(nil)
				}
				fmt.Fprintf(out, "%s: %v\n", job, err)
			}
		}
		now := time.Now().UTC().Truncate(time.Second)
		m.LoadedAt = &now
		if err := demo.WriteMarker(ctx, db, m, now); err != nil {
			return stopServing(err)
		}
	}
	if err := c.summary(ctx, out, db, g, plan, base, apiKey, staff, time.Since(began)); err != nil {
		return stopServing(err)
	}
	return <-served // until ctx is cancelled (SIGTERM, Ctrl-C)
}

// plan reads the database's demo marker and decides what to do: serve a
// loaded demo, resume an interrupted load, or load into an empty database.
func (c *DemoCmd) plan(ctx context.Context, db *sqldb.DB) (demoPlan, error) {
	m, ok, err := demo.ReadMarker(ctx, db)
	if err != nil {
		return demoPlan{}, err
	}
	if ok {
		return demoPlan{marker: m, load: m.LoadedAt == nil, resumed: m.LoadedAt == nil}, nil
	}
	sources, events, err := demo.Contents(ctx, db)
	if err != nil {
		return demoPlan{}, err
	}
	if sources > 0 || events > 0 {
		return demoPlan{}, fault.New(fault.Conflict,
			"%s already holds sources or events that are not the demo shop: bottega demo loads only into an empty database (or one it loaded); give it another --db",
			db.Name())
	}
	end := time.Now().UTC().Truncate(24 * time.Hour)
	if c.End != "" {
		end, err = time.Parse(time.DateOnly, c.End)
		if err != nil {
			return demoPlan{}, fault.New(fault.Invalid, "--end %q is not a date such as 2025-06-01", c.End)
		}
		if end.After(time.Now().Add(24 * time.Hour)) {
			return demoPlan{}, fault.New(fault.Invalid, "--end %s is in the future: the demo's events must have happened", c.End)
		}
	}
	return demoPlan{marker: demo.Marker{Seed: c.Seed, People: c.People, End: end}, load: true}, nil
}

// load sends the demo's events to the server at base and waits until the
// processor has applied them all. ctx is the command's context; sctx the
// server's.
func (c *DemoCmd) load(ctx, sctx context.Context, env *Env, db *sqldb.DB, g *demo.Generator, base string, keys map[string]string, began time.Time) error {
	loader := demo.NewLoader(g, demo.Target{URL: base, WriteKeys: keys}, demo.LoadOptions{})
	p := newProgressLine(env.Stdout)
	var processed int64 // read and written by show only, on the progress goroutine
	show := func(final bool) {
		pr := loader.Progress()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if st, err := process.ReadStatus(rctx, db, time.Now()); err == nil {
			processed = st.Processed
		}
		cancel()
		elapsed := time.Since(began)
		p.show(fmt.Sprintf("people %s/%s · events sent %s · processed %s · %s events/s · %s",
			thousands(int64(pr.People)), thousands(int64(pr.PeopleTotal)), thousands(pr.Sent), thousands(processed),
			thousands(int64(float64(processed)/max(elapsed.Seconds(), 0.001))), elapsed.Round(time.Second)), final)
	}
	stopProgress := p.every(show)
	_, err := loader.Run(sctx)
	if err == nil {
		err = waitProcessed(sctx, db)
	}
	stopProgress()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

// waitProcessed returns once the processor has applied every stored event.
func waitProcessed(ctx context.Context, db *sqldb.DB) error {
	for {
		st, err := process.ReadStatus(ctx, db, time.Now())
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// summary prints what the database holds, where to look, and the API key
// as the last line.
func (c *DemoCmd) summary(ctx context.Context, out io.Writer, db *sqldb.DB, g *demo.Generator, plan demoPlan, base, apiKey string, staff []demoUser, took time.Duration) error {
	st, err := process.ReadStatus(ctx, db, time.Now())
	if err != nil {
		return err
	}
	orders, err := demo.CountOrders(ctx, db)
	if err != nil {
		return err
	}
	m := plan.marker
	failed := ""
	if st.Failed > 0 {
		failed = fmt.Sprintf(", %s not applicable", thousands(st.Failed))
	}
	counts := fmt.Sprintf("%s people, %s events (%s quarantined%s), %s customer profiles, %s orders",
		thousands(int64(m.People)), thousands(st.Stored), thousands(st.Quarantined), failed, thousands(st.Profiles), thousands(orders))
	if plan.load {
		fmt.Fprintf(out, "Demo shop loaded in %s: %s.\n", took.Round(100*time.Millisecond), counts)
	} else {
		fmt.Fprintf(out, "This database holds the demo shop (seed %d, data up to %s, loaded %s): %s.\n",
			m.Seed, m.End.Format(time.DateOnly), m.LoadedAt.Format(time.DateOnly), counts)
		if c.People != m.People || c.Seed != m.Seed {
			fmt.Fprintln(out, "(--people and --seed apply only when loading into an empty database.)")
		}
	}
	email := ""
	if s, ok := g.Scenario(demo.LoyaltyCardWeb); ok && len(s.People) > 0 {
		email = s.People[0].Email
	}
	fmt.Fprintf(out, "\nbottega is serving %s. Try it (%s shops in a store with a loyalty card and online):\n", base, email)
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' '%s/api/v1/profiles/lookup?type=email&value=%s'\n", apiKey, base, url.QueryEscape(email))
	fmt.Fprintf(out, "  curl -H 'Authorization: Bearer %s' %s/api/v1/stats\n", apiKey, base)
	for i, u := range staff {
		if i == 0 {
			fmt.Fprintf(out, "Dashboard: %s/login — %s / %s\n", base, u.email, u.password)
		} else {
			fmt.Fprintf(out, "           %s / %s (%s)\n", u.email, u.password, u.note)
		}
	}
	fmt.Fprintln(out, "Stop with Ctrl-C. The passwords above and the API key of this run (Authorization: Bearer) are shown only now:")
	fmt.Fprintln(out, apiKey)
	return nil
}

// demoUser is a staff member of the demo shop with the password of this run.
type demoUser struct {
	email, password, note string
}

// demoStaff makes the demo shop's staff, an owner, an analyst and a care
// agent, or gives them new passwords when they exist: every run prints
// passwords of its own.
func demoStaff(ctx context.Context, store *auth.Store) ([]demoUser, error) {
	var out []demoUser
	for _, m := range []struct {
		email, name, note string
		role              auth.Role
	}{
		{"owner@demo.bottega.shop", "Demo Owner", "owner", auth.Owner},
		{"analyst@demo.bottega.shop", "Demo Analyst", "analyst: contact details masked", auth.Analyst},
		{"care@demo.bottega.shop", "Demo Care", "customer care", auth.Care},
	} {
		pw := auth.GeneratePassword()
		u, err := store.UserByEmail(ctx, m.email)
		switch {
		case fault.Is(err, fault.NotFound):
			_, err = store.CreateUser(ctx, m.email, m.name, m.role, pw)
		case err == nil:
			if err = store.SetPassword(ctx, u.ID, pw); err == nil && u.Disabled() {
				err = store.SetUserDisabled(ctx, auth.Operator(), u.ID, false)
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, demoUser{m.email, pw, m.note})
	}
	return out, nil
}

// progressLine shows progress: one line rewritten in place on a terminal,
// else a line every few seconds.
type progressLine struct {
	w        io.Writer
	terminal bool
}

func newProgressLine(w io.Writer) *progressLine {
	f, ok := w.(*os.File)
	return &progressLine{w: w, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progressLine) show(line string, final bool) {
	switch {
	case p.terminal && final:
		fmt.Fprintf(p.w, "\r%s\x1b[K\n", line)
	case p.terminal:
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// every calls show(false) periodically until the returned function is
// called, which calls show(true) once more and returns when it is done.
func (p *progressLine) every(show func(final bool)) (stop func()) {
	interval := 3 * time.Second
	if p.terminal {
		interval = 250 * time.Millisecond
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				show(true)
				return
			case <-t.C:
				show(false)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// thousands writes n with ',' between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
