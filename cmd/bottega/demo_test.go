package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/demo"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// demoOutput collects what a command writes, safely for concurrent reads.
type demoOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *demoOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *demoOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// runningDemo is a `bottega demo` started by a test.
type runningDemo struct {
	out  *demoOutput
	base string // http://127.0.0.1:port
	key  string // the API key it printed last
	stop func() error
}

var (
	demoKeyLine = regexp.MustCompile(`(?m)^(bak_\S+)\n`)
	demoServing = regexp.MustCompile(`serving (http://127\.0\.0\.1:\d+)`)
)

// startDemo runs `bottega args…` and waits for it to print its API key,
// the last line of the demo's summary.
func startDemo(t *testing.T, args ...string) runningDemo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &demoOutput{}, &demoOutput{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(string) string { return "" }, strings.NewReader(""), out, errOut)
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatalf("bottega demo did not stop within 60 s of cancellation")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if m := demoKeyLine.FindStringSubmatch(out.String()); m != nil {
			s := demoServing.FindStringSubmatch(out.String())
			if s == nil {
				t.Fatalf("no URL in the output:\n%s", out)
			}
			return runningDemo{out: out, base: s[1], key: m[1], stop: stop}
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("bottega demo ended early: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("bottega demo printed no API key within 3 minutes\nstdout:\n%s\nstderr:\n%s", out, errOut)
		}
	}
}

// get calls the JSON API and decodes the answer into v; it returns the status.
func (d runningDemo) get(t *testing.T, path string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

type demoProfile struct {
	ID         string `json:"id"`
	Identities []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"identities"`
	Stats struct {
		Orders int `json:"orders"`
	} `json:"stats"`
}

func (p demoProfile) count(typ string) int {
	n := 0
	for _, id := range p.Identities {
		if id.Type == typ {
			n++
		}
	}
	return n
}

// lookup returns the profile holding an identifier, failing the test if none does.
func (d runningDemo) lookup(t *testing.T, typ, value string) demoProfile {
	t.Helper()
	var p demoProfile
	if st := d.get(t, "/api/v1/profiles/lookup?type="+typ+"&value="+url.QueryEscape(value), &p); st != http.StatusOK {
		t.Fatalf("lookup %s %q: status %d", typ, value, st)
	}
	return p
}

// channels returns the channels of a profile's timeline and of its orders.
func (d runningDemo) channels(t *testing.T, id string) (timeline, orders map[string]int) {
	t.Helper()
	timeline, orders = map[string]int{}, map[string]int{}
	next := ""
	for {
		var page struct {
			Events []struct {
				Channel string `json:"channel"`
			} `json:"events"`
			Next string `json:"next"`
		}
		if st := d.get(t, "/api/v1/profiles/"+id+"/timeline?limit=500&before="+next, &page); st != http.StatusOK {
			t.Fatalf("GET /api/v1/profiles/%s/timeline: status %d", id, st)
		}
		for _, e := range page.Events {
			timeline[e.Channel]++
		}
		if page.Next == "" {
			break
		}
		next = page.Next
	}
	var list struct {
		Orders []struct {
			Channel string `json:"channel"`
		} `json:"orders"`
	}
	if st := d.get(t, "/api/v1/profiles/"+id+"/orders?limit=200", &list); st != http.StatusOK {
		t.Fatalf("GET /api/v1/profiles/%s/orders: status %d", id, st)
	}
	for _, o := range list.Orders {
		orders[o.Channel]++
	}
	return timeline, orders
}

type demoStats struct {
	Stored      int64 `json:"events_stored"`
	Duplicates  int64 `json:"events_duplicate"`
	Quarantined int64 `json:"events_quarantined"`
	Processed   int64 `json:"events_processed"`
	Failed      int64 `json:"events_failed"`
	Pending     int64 `json:"events_pending"`
	Profiles    int64 `json:"profiles"`
}

// TestDemo loads a 300-person demo shop through the real server on each
// engine, checks that the identity scenarios resolved as they must, stops,
// and starts again on the loaded database.
func TestDemo(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			testDemo(t, sqldbtest.DSN(t, d))
		})
	}
}

func testDemo(t *testing.T, dsn string) {
	args := []string{"demo", "--people", "300", "--db", dsn, "--addr", "127.0.0.1:0"}
	d := startDemo(t, args...)
	if !strings.Contains(d.out.String(), "Demo shop loaded in") || !strings.Contains(d.out.String(), "/api/v1/stats") {
		t.Errorf("the summary is missing:\n%s", d.out)
	}

	// What was loaded is exactly what the generator makes for the marker's options.
	ctx := context.Background()
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, ok, err := demo.ReadMarker(ctx, db)
	if !ok || err != nil || m.LoadedAt == nil || m.People != 300 || m.Seed != 1 || m.End.Hour() != 0 {
		t.Fatalf("demo marker %+v, %v, %v", m, ok, err)
	}
	g, err := demo.New(demo.Options{People: m.People, Seed: m.Seed, End: m.End})
	if err != nil {
		t.Fatal(err)
	}
	// The demo's staff sign in with the passwords it printed.
	owner := demoLogin(t, db, d.out.String(), d.base)
	var events int64
	for _, evs := range g.Events() {
		events += int64(len(evs))
	}
	var st demoStats
	d.get(t, "/api/v1/stats", &st)
	if st.Stored != events || st.Quarantined != 0 || st.Duplicates != 0 || st.Pending != 0 || st.Processed != events || st.Failed != 0 {
		t.Errorf("stats %+v; want all %d events stored and processed, none quarantined or failed", st, events)
	}
	if st.Profiles < 200 || st.Profiles > 400 {
		t.Errorf("%d profiles for 300 people", st.Profiles)
	}
	if !strings.Contains(d.out.String(), fmt.Sprintf("300 people, %s events (0 quarantined)", thousands(events))) {
		t.Errorf("the summary does not give the counts:\n%s", d.out)
	}

	for _, sc := range g.Scenarios() {
		c := sc.People[0]
		switch sc.Kind {
		case demo.AnonymousThenLogin:
			byAnon, byUser := d.lookup(t, "anonymous_id", sc.AnonymousID), d.lookup(t, "user_id", c.UserID)
			if byAnon.ID != byUser.ID {
				t.Errorf("%s: the anonymous browsing (%s) and the customer (%s) are two profiles", sc.Kind, byAnon.ID, byUser.ID)
			}
		case demo.LoyaltyCardWeb:
			byEmail, byCard := d.lookup(t, "email", c.Email), d.lookup(t, "loyalty_card", c.Card)
			if byEmail.ID != byCard.ID {
				t.Errorf("%s: the web customer (%s) and the loyalty card (%s) are two profiles", sc.Kind, byEmail.ID, byCard.ID)
				continue
			}
			timeline, orders := d.channels(t, byEmail.ID)
			if timeline["pos"] < 2 || timeline["web"] < 5 || orders["pos"] < 2 || orders["web"] < 1 {
				t.Errorf("%s: profile %s lacks one of the histories: timeline %v, orders %v", sc.Kind, byEmail.ID, timeline, orders)
			}
			if byEmail.Stats.Orders < orders["pos"] || byEmail.Stats.Orders > orders["pos"]+orders["web"]+orders["app"] {
				t.Errorf("%s: the statistics count %d orders, the list %v", sc.Kind, byEmail.Stats.Orders, orders)
			}
		case demo.WhatsAppPhone:
			byPhone, byEmail := d.lookup(t, "phone", sc.CarePhone), d.lookup(t, "email", c.Email)
			if byPhone.ID != byEmail.ID {
				t.Errorf("%s: the WhatsApp number %q landed on %s, the customer is %s", sc.Kind, sc.CarePhone, byPhone.ID, byEmail.ID)
				continue
			}
			if byPhone.count("phone") != 1 {
				t.Errorf("%s: %q and %q should be one phone identity: %+v", sc.Kind, sc.CarePhone, c.WebPhone, byPhone.Identities)
			}
			if timeline, _ := d.channels(t, byPhone.ID); timeline["care"] < 3 || timeline["web"] < 3 {
				t.Errorf("%s: timeline %v; want the care conversation beside the web visits", sc.Kind, timeline)
			}
		case demo.SharedTablet:
			a, b := d.lookup(t, "user_id", c.UserID), d.lookup(t, "user_id", sc.People[1].UserID)
			tablet := d.lookup(t, "anonymous_id", sc.AnonymousID)
			if a.ID == b.ID {
				t.Errorf("%s: the two people of the household were merged into %s", sc.Kind, a.ID)
			}
			if a.count("user_id") != 1 || b.count("user_id") != 1 {
				t.Errorf("%s: user ids per profile: %d and %d", sc.Kind, a.count("user_id"), b.count("user_id"))
			}
			if tablet.ID != a.ID && tablet.ID != b.ID {
				t.Errorf("%s: the tablet belongs to %s, neither %s nor %s", sc.Kind, tablet.ID, a.ID, b.ID)
			}
		case demo.TwoEmails:
			first, second := d.lookup(t, "email", c.Emails[0]), d.lookup(t, "email", c.Emails[1])
			if first.ID != second.ID || first.count("email") != 2 {
				t.Errorf("%s: %s and %s are on %s and %s", sc.Kind, c.Emails[0], c.Emails[1], first.ID, second.ID)
			}
		}
	}
	if err := d.stop(); err != nil {
		t.Fatalf("bottega demo returned %v after cancellation", err)
	}

	// A second run serves the loaded demo with a new key.
	again := startDemo(t, args...)
	if again.key == d.key || !strings.Contains(again.out.String(), "This database holds the demo shop") || strings.Contains(again.out.String(), "Loading") {
		t.Errorf("second run, key %s (first %s):\n%s", again.key, d.key, again.out)
	}
	if pw2 := demoLogin(t, db, again.out.String(), again.base); pw2 == owner {
		t.Errorf("the second run printed the same owner password")
	}
	if _, _, err := auth.NewStore(db, time.Now).Login(ctx, "owner@demo.bottega.shop", owner, auth.LoginMeta{}); !fault.Is(err, fault.Unauthorized) {
		t.Errorf("the first run's owner password still signs in: %v", err)
	}
	var st2 demoStats
	again.get(t, "/api/v1/stats", &st2)
	if st2.Stored != st.Stored || st2.Profiles != st.Profiles {
		t.Errorf("the second run changed the data: %+v, then %+v", st, st2)
	}
	if status := again.get(t, "/api/v1/stats", nil); status != http.StatusOK {
		t.Errorf("the new key is refused: %d", status)
	}
	if err := again.stop(); err != nil {
		t.Fatalf("the second bottega demo returned %v", err)
	}
}

var demoStaffLines = regexp.MustCompile(`(?m)^Dashboard: (\S+)/login — owner@demo\.bottega\.shop / (\S+)\n\s+analyst@demo\.bottega\.shop / (\S+) \(analyst[^)]*\)\n\s+care@demo\.bottega\.shop / (\S+) \(customer care\)\n`)

// demoLogin checks that the demo printed its staff with their passwords,
// that each signs in with their role, and returns the owner's password.
func demoLogin(t *testing.T, db *sqldb.DB, out, base string) string {
	t.Helper()
	m := demoStaffLines.FindStringSubmatch(out)
	if m == nil || m[1] != base {
		t.Fatalf("no dashboard sign-in lines for %s in the output:\n%s", base, out)
	}
	store := auth.NewStore(db, time.Now)
	for i, want := range []auth.Role{auth.Owner, auth.Analyst, auth.Care} {
		email := string(want) + "@demo.bottega.shop"
		u, _, err := store.Login(context.Background(), email, m[2+i], auth.LoginMeta{})
		if err != nil || u.Role != want {
			t.Errorf("%s signs in with %q: %+v %v", email, m[2+i], u, err)
		}
	}
	return m[2]
}

// TestDemoResumes: a load that was interrupted (the marker says loading,
// a demo source exists) resumes with the marker's options.
func TestDemoResumes(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			dsn := sqldbtest.DSN(t, d)
			ctx := context.Background()
			db, err := openDB(ctx, config.Database{DB: dsn})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			opts := demo.Options{People: 120, Seed: 9, End: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
			if err := demo.WriteMarker(ctx, db, demo.Marker{Seed: opts.Seed, People: opts.People, End: opts.End}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, _, err := auth.NewStore(db, time.Now).CreateSource(ctx, "demo-web", "web", 0); err != nil {
				t.Fatal(err)
			}
			dm := startDemo(t, "demo", "--people", "300", "--seed", "1", "--db", dsn, "--addr", "127.0.0.1:0")
			if !strings.Contains(dm.out.String(), "Resuming an interrupted load of the demo shop (seed 9, 120 people, data up to 2025-03-01)") {
				t.Errorf("no resumption:\n%s", dm.out)
			}
			g, err := demo.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			var events int64
			for _, evs := range g.Events() {
				events += int64(len(evs))
			}
			var st demoStats
			dm.get(t, "/api/v1/stats", &st)
			if st.Stored != events || st.Pending != 0 || st.Quarantined != 0 {
				t.Errorf("stats %+v; want the %d events of the marker's demo", st, events)
			}
			if m, ok, err := demo.ReadMarker(ctx, db); !ok || err != nil || m.LoadedAt == nil || m.People != 120 {
				t.Errorf("marker after resuming: %+v, %v, %v", m, ok, err)
			}
			if err := dm.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDemoRefusesOtherData: the demo never mixes into a database in use.
func TestDemoRefusesOtherData(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			dsn := sqldbtest.DSN(t, d)
			var out, errOut bytes.Buffer
			getenv := func(string) string { return "" }
			if err := run(context.Background(), []string{"source", "create", "shop", "--channel", "web", "--db", dsn}, getenv, strings.NewReader(""), &out, &errOut); err != nil {
				t.Fatal(err)
			}
			err := run(context.Background(), []string{"demo", "--people", "300", "--db", dsn, "--addr", "127.0.0.1:0"}, getenv, strings.NewReader(""), &out, &errOut)
			if !fault.Is(err, fault.Conflict) || !strings.Contains(fault.MessageOf(err), "not the demo shop") {
				t.Fatalf("demo on a database with a source: %v", err)
			}
			if strings.Contains(out.String(), "bak_") {
				t.Errorf("an API key was made:\n%s", out.String())
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
