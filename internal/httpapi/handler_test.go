package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/httpapi"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

type env struct {
	t        *testing.T
	db       *sqldb.DB
	srv      *httptest.Server
	store    *auth.Store
	proc     *process.Processor
	writeKey string
	apiKey   string
}

func newEnv(t *testing.T, db *sqldb.DB) *env {
	t.Helper()
	c := event.NewCommitter(db, event.CommitterOptions{})
	go c.Run()
	t.Cleanup(c.Close)
	store := auth.NewStore(db, time.Now)
	e := &env{t: t, db: db, store: store, proc: process.New(db, process.Options{})}
	h := httpapi.NewHandler(httpapi.Deps{
		DB: db, Auth: store, Sources: auth.NewSourceCache(store, 0), Ingester: event.NewIngester(c, event.DefaultLimits(), time.Now),
		Metrics: httpapi.NewMetrics(db), BaseCurrency: "EUR", PhoneRegion: "IT", Version: "test", IngestTimeout: 2 * time.Second,
	})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	var err error
	if _, e.writeKey, err = store.CreateSource(context.Background(), "web", "web", 0); err != nil {
		t.Fatal(err)
	}
	if _, e.apiKey, err = store.CreateAPIKey(context.Background(), "test", "", nil); err != nil {
		t.Fatal(err)
	}
	return e
}

type call struct {
	method, path, body string
	header             map[string]string
	basic              string // write key as Basic user; "-" for none
	raw                []byte // body bytes, instead of body
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	text   string
}

func (e *env) do(c call) answer {
	e.t.Helper()
	var r io.Reader = strings.NewReader(c.body)
	if c.raw != nil {
		r = bytes.NewReader(c.raw)
	}
	req, err := http.NewRequest(c.method, e.srv.URL+c.path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case c.basic == "" && strings.HasPrefix(c.path, "/v1/"):
		req.SetBasicAuth(e.writeKey, "")
	case c.basic != "" && c.basic != "-":
		req.SetBasicAuth(c.basic, "")
	}
	if strings.HasPrefix(c.path, "/api/") && c.header["Authorization"] == "" {
		req.Header.Set("Authorization", "Bearer "+e.apiKey)
	}
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, text: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func (e *env) drain() {
	e.t.Helper()
	for {
		n, err := e.proc.Step(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

const track = `{"type":"track","userId":"u1","event":"Clicked"}`

// Every ingestion input gets its clear answer, on both engines.
func TestIngestionAnswers(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		disabled, disabledKey, _ := e.store.CreateSource(context.Background(), "off", "app", 0)
		if err := e.store.SetSourceDisabled(context.Background(), disabled.Name, true); err != nil {
			t.Fatal(err)
		}
		bomb := gz(bytes.Repeat([]byte(" "), 10<<20))
		for _, tc := range []struct {
			name   string
			c      call
			status int
			code   string
		}{
			{"batch", call{method: "POST", path: "/v1/batch", body: `{"batch":[` + track + `]}`}, 200, ""},
			{"no key", call{method: "POST", path: "/v1/batch", body: `{"batch":[` + track + `]}`, basic: "-"}, 401, "unauthorized"},
			{"forged key", call{method: "POST", path: "/v1/batch", body: `{"batch":[` + track + `]}`, basic: "bwk_forged"}, 401, "unauthorized"},
			{"disabled source", call{method: "POST", path: "/v1/batch", body: `{"batch":[` + track + `]}`, basic: disabledKey}, 401, "unauthorized"},
			{"key in body", call{method: "POST", path: "/v1/batch", body: `{"writeKey":"` + e.writeKey + `","batch":[` + track + `]}`, basic: "-"}, 200, ""},
			{"forged key in body", call{method: "POST", path: "/v1/batch", body: `{"writeKey":"nope","batch":[` + track + `]}`, basic: "-"}, 401, "unauthorized"},
			{"text/plain (sendBeacon)", call{method: "POST", path: "/v1/track", body: track, header: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}}, 200, ""},
			{"no content type", call{method: "POST", path: "/v1/track", body: track, header: map[string]string{"Content-Type": ""}}, 200, ""},
			{"form content type", call{method: "POST", path: "/v1/track", body: track, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415, "unsupported"},
			{"gzip", call{method: "POST", path: "/v1/batch", raw: gz([]byte(`{"batch":[` + track + `]}`)), header: map[string]string{"Content-Encoding": "gzip"}}, 200, ""},
			{"gzip bomb", call{method: "POST", path: "/v1/batch", raw: bomb, header: map[string]string{"Content-Encoding": "gzip"}}, 400, "too_large"},
			{"broken gzip", call{method: "POST", path: "/v1/batch", raw: []byte("\x1f\x8b\x08garbage"), header: map[string]string{"Content-Encoding": "gzip"}}, 400, "invalid"},
			{"brotli", call{method: "POST", path: "/v1/batch", body: "x", header: map[string]string{"Content-Encoding": "br"}}, 415, "unsupported"},
			{"oversize batch", call{method: "POST", path: "/v1/batch", body: `{"batch":[{"type":"track","userId":"u","event":"` + strings.Repeat("x", 500<<10) + `"}]}`}, 400, "too_large"},
			{"oversize single", call{method: "POST", path: "/v1/track", body: `{"userId":"u","event":"` + strings.Repeat("x", 32<<10) + `"}`}, 400, "too_large"},
			{"empty", call{method: "POST", path: "/v1/batch", body: ""}, 400, "invalid"},
			{"malformed", call{method: "POST", path: "/v1/batch", body: `{"batch":[{"type":`}, 400, "invalid"},
			{"single quarantined", call{method: "POST", path: "/v1/track", body: `{"userId":"u"}`}, 400, "invalid"},
			{"wrong method", call{method: "GET", path: "/v1/batch"}, 405, "invalid"},
			{"unknown path", call{method: "POST", path: "/v1/purchase", body: "{}"}, 404, "not_found"},
			{"identify", call{method: "POST", path: "/v1/identify", body: `{"userId":"u1","traits":{"email":"u1@example.it"}}`}, 200, ""},
			{"alias", call{method: "POST", path: "/v1/alias", body: `{"userId":"u1","previousId":"a-1"}`}, 200, ""},
			{"group", call{method: "POST", path: "/v1/group", body: `{"userId":"u1","groupId":"g-1","traits":{"name":"Famiglia"}}`}, 200, ""},
			{"page", call{method: "POST", path: "/v1/page", body: `{"anonymousId":"a-1","name":"Home"}`}, 200, ""},
			{"screen", call{method: "POST", path: "/v1/screen", body: `{"anonymousId":"a-1","name":"Home"}`}, 200, ""},
		} {
			a := e.do(tc.c)
			if a.status != tc.status {
				t.Errorf("%s: status %d, want %d (%s)", tc.name, a.status, tc.status, a.text)
				continue
			}
			if tc.code != "" && (a.body["code"] != tc.code || a.body["detail"] == "" || a.header.Get("Content-Type") != "application/json") {
				t.Errorf("%s: body %s, want code %q and a detail", tc.name, a.text, tc.code)
			}
			if tc.status == 200 && a.body["success"] != true {
				t.Errorf("%s: body %s", tc.name, a.text)
			}
		}
		if a := e.do(call{method: "GET", path: "/v1/batch"}); a.header.Get("Allow") != "POST" {
			t.Errorf("405 without Allow: %v", a.header)
		}
		// A batch mixing good and bad events stores the good ones and lists
		// the bad ones with their reasons.
		a := e.do(call{method: "POST", path: "/v1/batch", body: `{"batch":[` + track + `,{"type":"track","event":"x"},{"type":"nope","userId":"u"}]}`})
		q, _ := a.body["quarantined"].([]any)
		if a.status != 200 || a.body["stored"] != 1.0 || len(q) != 2 || q[0].(map[string]any)["reason"] != "no_identity" || q[1].(map[string]any)["index"] != 2.0 {
			t.Fatalf("mixed batch: %s", a.text)
		}
		// A replay is acknowledged and not stored again.
		replay := `{"batch":[{"type":"track","userId":"u","event":"x","messageId":"m-1"},{"type":"track","userId":"u","event":"x","messageId":"m-1"}]}`
		a1, a2 := e.do(call{method: "POST", path: "/v1/batch", body: replay}), e.do(call{method: "POST", path: "/v1/batch", body: replay})
		if a1.body["stored"] != 1.0 || a1.body["duplicates"] != 1.0 || a2.body["stored"] != 0.0 || a2.body["duplicates"] != 2.0 {
			t.Fatalf("replay: %s then %s", a1.text, a2.text)
		}
		e.drain()
		st := e.do(call{method: "GET", path: "/api/v1/stats"})
		if st.body["events_stored"] != 12.0 || st.body["events_duplicate"] != 3.0 || st.body["events_quarantined"] != 3.0 || st.body["events_processed"] != 12.0 {
			t.Fatalf("stats %s", st.text)
		}
		qa := e.do(call{method: "GET", path: "/api/v1/quarantine"})
		if evs, _ := qa.body["events"].([]any); len(evs) != 3 {
			t.Fatalf("quarantine %s", qa.text)
		}
	})
}

// A source over its rate gets 429 with Retry-After, and nothing of the
// refused request is stored.
func TestRateLimit(t *testing.T) {
	db := sqldbtest.Open(t, sqldb.SQLite)
	e := newEnv(t, db)
	_, key, _ := e.store.CreateSource(context.Background(), "slow", "pos", 1)
	var b strings.Builder
	b.WriteString(`{"batch":[`)
	for i := range 3000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","userId":"u","event":"e","messageId":"r-%d"}`, i)
	}
	b.WriteString(`]}`)
	if a := e.do(call{method: "POST", path: "/v1/batch", body: b.String(), basic: key}); a.status != 200 {
		t.Fatalf("first batch: %d %s", a.status, a.text)
	}
	a := e.do(call{method: "POST", path: "/v1/batch", body: strings.ReplaceAll(b.String(), `"r-`, `"s-`), basic: key})
	if a.status != 429 || a.body["code"] != "rate_limited" || a.header.Get("Retry-After") == "" {
		t.Fatalf("second batch: %d %v %s", a.status, a.header, a.text)
	}
	st := e.do(call{method: "GET", path: "/api/v1/stats"})
	if st.body["events_stored"] != 3000.0 {
		t.Fatalf("stored %v, want only the first batch", st.body["events_stored"])
	}
}

// When storage cannot commit, ingestion answers 503 with Retry-After and
// the events are not stored; once it can, the retry succeeds.
func TestStorageUnavailableAnswers503(t *testing.T) {
	ctx := context.Background()
	path := sqldbtest.DSN(t, sqldb.SQLite)
	db, err := sqldb.Open(ctx, path, sqldb.Options{BusyTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db)
	other, err := sqldb.Open(ctx, path, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	release, held := make(chan struct{}), make(chan struct{})
	go other.InTx(ctx, func(tx *sqldb.Tx) error { close(held); <-release; return nil })
	<-held
	body := `{"batch":[{"type":"track","userId":"u","event":"x","messageId":"held-1"}]}`
	a := e.do(call{method: "POST", path: "/v1/batch", body: body})
	close(release)
	if a.status != 503 || a.body["code"] != "unavailable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("while locked: %d %v %s", a.status, a.header, a.text)
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM events").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d events stored during the outage (err %v)", n, err)
	}
	if a := e.do(call{method: "POST", path: "/v1/batch", body: body}); a.status != 200 || a.body["stored"] != 1.0 {
		t.Fatalf("retry: %d %s", a.status, a.text)
	}
}

func TestRouteTableMatchesOpenAPI(t *testing.T) {
	e := newEnv(t, sqldbtest.Open(t, sqldb.SQLite))
	a := e.do(call{method: "GET", path: "/openapi.json"})
	if a.status != 200 || a.body["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %d %.200s", a.status, a.text)
	}
	paths := a.body["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for _, r := range httpapi.Routes() {
		key := r.Method + " " + r.Path
		if (r.Credential == httpapi.APIKey) != (r.Permission != "") {
			t.Errorf("route %s: API routes, and only they, name a permission", key)
		}
		if r.Credential == httpapi.Public {
			continue
		}
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", key)
		}
		delete(documented, key)
	}
	for k := range documented {
		t.Errorf("the OpenAPI document has %s, which the route table lacks", k)
	}
}

// A browser on another site may send events to /v1/ (web shops do), but
// not change anything through the JSON API; servers, which send no
// Sec-Fetch-Site or Origin, are not affected.
func TestCrossOriginProtection(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://shop.example"}
		if a := e.do(call{method: "POST", path: "/v1/track", body: `{"userId":"u1","event":"Viewed"}`, header: cross}); a.status != 200 {
			t.Errorf("cross-site ingestion: %d %s", a.status, a.text)
		}
		cost := `{"from":"2026-01-01","to":"2026-01-31","category":"acquisition","amount":"10.00","currency":"EUR"}`
		a := e.do(call{method: "POST", path: "/api/v1/costs", body: cost, header: cross})
		if a.status != 403 || a.body["code"] != "forbidden" {
			t.Errorf("cross-site POST /api/v1/costs: %d %s", a.status, a.text)
		}
		if a := e.do(call{method: "GET", path: "/api/v1/stats", header: cross}); a.status != 200 {
			t.Errorf("cross-site GET: %d", a.status)
		}
		if a := e.do(call{method: "POST", path: "/api/v1/costs", body: cost}); a.status == 403 {
			t.Errorf("server POST /api/v1/costs refused: %s", a.text)
		}
	})
}
