package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/funnel"
	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/demo"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/process/processtest"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/survey"
	"github.com/bottega-crm/bottega/internal/ticket"
)

// fixtureEnd is the instant the fixture's demo shop ends and the
// dashboard's clock stands.
var fixtureEnd = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fixture is the dashboard on a database holding a small demo shop, after
// the score jobs ran, with one staff member per role.
type fixture struct {
	t     *testing.T
	db    *sqldb.DB
	h     *processtest.Harness
	auth  *auth.Store
	gen   *demo.Generator
	srv   *httptest.Server
	users map[auth.Role]auth.User
}

const fixturePassword = "correct horse battery"

// newFixture loads a demo shop of the given size (0: no demo data, only the
// staff) and serves the dashboard on it.
func newFixture(t *testing.T, db *sqldb.DB, people int) *fixture {
	t.Helper()
	ctx := context.Background()
	now := func() time.Time { return fixtureEnd }
	kpiOpts := kpi.Options{BaseCurrency: "EUR"}
	if _, err := kpi.Prepare(ctx, db, kpiOpts); err != nil {
		t.Fatal(err)
	}
	exts := []process.Extension{survey.NewRecorder(), ticket.NewRecorder(), funnel.NewRecorder("EUR"), kpi.NewExtension(kpiOpts)}
	f := &fixture{t: t, db: db, h: processtest.New(t, db, exts...), auth: auth.NewStore(db, now), users: map[auth.Role]auth.User{}}
	preds := predict.NewService(db, predict.Config{BaseCurrency: "EUR"}, now)
	if people > 0 {
		g, err := demo.New(demo.Options{People: people, Seed: 7, End: fixtureEnd})
		if err != nil {
			t.Fatal(err)
		}
		f.gen = g
		byChannel := map[string][]string{}
		flush := func(ch string) {
			if len(byChannel[ch]) > 0 {
				f.h.Ingest(ch, byChannel[ch]...)
				byChannel[ch] = byChannel[ch][:0]
			}
		}
		for _, evs := range g.Events() {
			for _, e := range evs {
				byChannel[e.Source] = append(byChannel[e.Source], string(e.JSON()))
				if len(byChannel[e.Source]) == 200 {
					flush(e.Source)
				}
			}
		}
		for ch := range byChannel {
			flush(ch)
		}
		f.h.Drain()
		if _, err := rfm.Refresh(ctx, db, fixtureEnd, "EUR"); err != nil {
			t.Fatal(err)
		}
		if _, err := persona.Refresh(ctx, db, fixtureEnd, "EUR", persona.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := preds.Refit(ctx); err != nil {
			t.Logf("predictions: %v", err) // a small shop may have too few buyers
		}
	}
	for _, r := range auth.Roles {
		u, err := f.auth.CreateUser(ctx, string(r)+"@staff.test", "Staff "+string(r), r, fixturePassword)
		if err != nil {
			t.Fatal(err)
		}
		f.users[r] = u
	}
	h, err := New(Deps{DB: db, Auth: f.auth, Sources: auth.NewSourceCache(f.auth, 0), APIKeys: auth.NewAPIKeyCache(f.auth, 0),
		BaseCurrency: "EUR", PhoneRegion: "IT", Version: "test", Now: now, Extensions: exts, Predictions: preds})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// client returns an HTTP client signed in as the staff member of role r
// (no redirects are followed, so tests see them).
func (f *fixture) client(r auth.Role) *http.Client {
	f.t.Helper()
	c := f.anonymous()
	resp := f.post(c, "/login", url.Values{"email": {f.users[r].Email}, "password": {fixturePassword}})
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login as %s: %d %s", r, resp.StatusCode, resp.Body)
	}
	return c
}

// anonymous returns a client with an empty cookie jar.
func (f *fixture) anonymous() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// response is an answer read whole.
type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

// get fetches path.
func (f *fixture) get(c *http.Client, path string) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.do(c, req)
}

// post submits a form to path as a same-origin browser would.
func (f *fixture) post(c *http.Client, path string, form url.Values) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return f.do(c, req)
}

func (f *fixture) do(c *http.Client, req *http.Request) response {
	f.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(b)}
}
