package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// TestBadInput sends the bad-input catalogue (reliability.md §6, issue item
// 10) to the running binary and checks each answer: its status, its error
// code or the quarantine reasons it lists, and what it stored. It ends by
// checking the log as a whole: every valid event of the table stored exactly
// once, nothing of a refused request stored, every quarantined event kept
// with its reason, and the counters agreeing.
func TestBadInput(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		const source = "bad"
		key := createSource(t, dsn, source, "web")
		offKey := createSource(t, dsn, "bad-off", "app")
		srv := startServer(t, dsn)
		env := &badEnv{srv: srv, key: key, valid: map[string]bool{}, refused: map[string]bool{}}

		// First, while the server's peak memory is still its start-up one.
		t.Run("gzip bombs leave memory alone", func(t *testing.T) { env.gzipBombs(t) })
		cases := badCases(key)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { env.run(t, c) })
		}
		t.Run("disabled write key", func(t *testing.T) { env.disabledKey(t, dsn, offKey) })

		// The table as a whole.
		st := srv.WaitProcessed(t)
		db := openDB(t, dsn)
		stored := storedIDs(t, db, source)
		for id := range env.valid {
			if stored[id] != 1 {
				t.Errorf("valid event %s is stored %d times; want exactly once", id, stored[id])
			}
		}
		for id := range env.refused {
			if stored[id] != 0 && !env.valid[id] {
				t.Errorf("event %s of a refused request is stored", id)
			}
		}
		for id, n := range stored {
			if n != 1 {
				t.Errorf("messageId %s is stored %d times", id, n)
			}
			if !env.valid[id] {
				t.Errorf("messageId %s is stored but no case expects it", id)
			}
		}
		quarantine := readQuarantine(t, db, source)
		for _, q := range env.quarantined {
			found := false
			for _, row := range quarantine {
				if row.reason == q.reason && bytes.Contains(row.raw, []byte(q.marker)) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("no quarantined event with reason %s holding %q (case %s)", q.reason, q.marker, q.name)
			}
		}
		if len(quarantine) != len(env.quarantined) {
			t.Errorf("the quarantine holds %d events; the table quarantined %d", len(quarantine), len(env.quarantined))
		}
		offStored := scalar(t, db, "SELECT COUNT(*) FROM events e JOIN sources s ON s.id = e.source_id WHERE s.name = 'bad-off'")
		if want := int64(len(env.valid)) + offStored; st.Stored != want || st.Quarantined != int64(len(env.quarantined)) || st.Duplicates != int64(env.duplicates) {
			t.Errorf("stats %+v; want %d stored (%d of them bad-off's), %d quarantined, %d duplicates",
				st, want, offStored, len(env.quarantined), env.duplicates)
		}
		if st.Failed != 0 {
			t.Errorf("stats %+v: %d events failed processing", st, st.Failed)
		}

		// What the accepted odd events became.
		for _, c := range cases {
			if c.after != nil {
				t.Run("after/"+c.name, func(t *testing.T) { c.after(t, env, db) })
			}
		}
		t.Logf("%d valid events stored once, %d quarantined, %d duplicates acknowledged; %d requests refused",
			len(env.valid), len(env.quarantined), env.duplicates, env.refusedRequests)
	})
}

// badCase is one input of the table and the answer it must get.
type badCase struct {
	name    string
	method  string // default POST
	path    string // default /v1/batch
	key     string // HTTP Basic user; "" sends none
	hdr     map[string]string
	body    []byte
	chunked bool // hide the length: Transfer-Encoding chunked

	status int    // the expected status
	code   string // for an error: the expected code
	// For a 200 (or a single call refused with its quarantined event): the
	// events it must report quarantined, in order.
	quarantine []wantQ
	stored     int // for a 200: events newly stored
	duplicates int // for a 200: events recognised as replays

	valid   []string // messageIds that must end up stored exactly once
	refused []string // messageIds that must not be stored by this request
	// after checks what an accepted event became, once processed.
	after func(t *testing.T, env *badEnv, db *sqldb.DB)
}

// wantQ is an event a response must list as quarantined.
type wantQ struct {
	index  int
	reason string
	marker string // a string its raw bytes contain (its messageId)
}

// badEnv accumulates what the table expects of the log.
type badEnv struct {
	srv *Server
	key string

	mu              sync.Mutex
	valid           map[string]bool
	refused         map[string]bool
	quarantined     []expectedQ
	duplicates      int
	refusedRequests int
}

type expectedQ struct{ name, reason, marker string }

func (e *badEnv) run(t *testing.T, c badCase) {
	method, path := c.method, c.path
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/v1/batch"
	}
	var body io.Reader = bytes.NewReader(c.body)
	if c.chunked {
		body = io.MultiReader(bytes.NewReader(c.body)) // no length known: chunked
	}
	req, err := http.NewRequest(method, e.srv.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.SetBasicAuth(c.key, "")
	}
	for k, v := range c.hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	r := e.srv.Do(req)
	e.record(c)
	if r.Err != nil {
		t.Fatalf("%s %s: %v", method, path, r.Err)
	}
	if r.Status != c.status {
		t.Fatalf("%s %s (%d bytes): %s; want %d %s", method, path, len(c.body), r, c.status, c.code)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q; want JSON", ct)
	}
	var got []Quarantined
	if c.status == http.StatusOK {
		var res IngestResult
		if err := json.Unmarshal(r.Body, &res); err != nil {
			t.Fatalf("200 with body %s: %v", r.Body, err)
		}
		if !res.Success || res.Stored != c.stored || res.Duplicates != c.duplicates {
			t.Errorf("200 %s; want success with %d stored, %d duplicates", r.Body, c.stored, c.duplicates)
		}
		got = res.Quarantined
	} else {
		var p Problem
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatalf("%d with body %s: %v; want a JSON problem", r.Status, r.Body, err)
		}
		if p.Code != c.code || p.Status != c.status || p.Detail == "" {
			t.Errorf("%d %s; want code %q, the status and a detail naming the problem", r.Status, r.Body, c.code)
		}
		got = p.Quarantined
	}
	if len(got) != len(c.quarantine) {
		t.Errorf("quarantined %+v; want %+v", got, c.quarantine)
	} else {
		for i, q := range c.quarantine {
			if got[i].Index != q.index || got[i].Reason != q.reason || got[i].Detail == "" {
				t.Errorf("quarantined[%d] = %+v; want index %d, reason %s, with a detail", i, got[i], q.index, q.reason)
			}
		}
	}
}

// record notes what a case expects of the log. A case whose answer is wrong
// still records it: the final checks then say what became of its events.
func (e *badEnv) record(c badCase) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range c.valid {
		e.valid[id] = true
	}
	for _, id := range c.refused {
		e.refused[id] = true
	}
	for _, q := range c.quarantine {
		e.quarantined = append(e.quarantined, expectedQ{c.name, q.reason, q.marker})
	}
	e.duplicates += c.duplicates
	if c.status != http.StatusOK {
		e.refusedRequests++
	}
}

// Event builders. Bodies are written as text so that every byte is the
// test's choice.

// ev is a track event with messageId id from user bad-user, plus extra
// members (text starting with a comma).
func ev(id, extra string) string {
	return `{"type":"track","event":"Product Viewed","userId":"bad-user","messageId":"` + id + `"` + extra + `}`
}

func batchText(events ...string) []byte {
	return []byte(`{"batch":[` + strings.Join(events, ",") + `]}`)
}

// padded returns a batch of n events, with ids prefix-0…, exactly size bytes
// long (each event well under 32 KB).
func padded(prefix string, n, size int) ([]byte, []string) {
	var ids []string
	var events []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		ids = append(ids, id)
		events = append(events, ev(id, `,"properties":{"pad":"`+"PAD"+`"}`))
	}
	base := len(batchText(events...)) - 3*n
	pad := size - base
	for i := range events {
		k := pad / n
		if i == n-1 {
			k = pad - (n-1)*(pad/n)
		}
		events[i] = strings.Replace(events[i], "PAD", strings.Repeat("x", k), 1)
	}
	b := batchText(events...)
	if len(b) != size {
		panic(fmt.Sprintf("padded: %d bytes, want %d", len(b), size))
	}
	return b, ids
}

// paddedEvent returns a single track call exactly size bytes long.
func paddedEvent(id string, size int) []byte {
	e := `{"type":"track","event":"Product Viewed","userId":"bad-user","messageId":"` + id + `","properties":{"pad":"`
	tail := `"}}`
	return []byte(e + strings.Repeat("y", size-len(e)-len(tail)) + tail)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// gzipBomb returns a gzip body of about 100 KB that expands to 100 MB: the
// start of a valid call with messageId b-bomb, then 'a' for ever.
var gzipBomb = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = io.WriteString(w, `{"batch":[{"type":"track","event":"e","userId":"bad-user","messageId":"b-bomb","properties":{"pad":"`)
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 100 {
		_, _ = w.Write(chunk)
	}
	_ = w.Close()
	return buf.Bytes()
})

// nested returns depth nested arrays.
func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// nestedObject returns an object nested depth levels deep.
func nestedObject(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

const (
	kb = 1024
	// The limits bottega takes from Segment.
	maxBatch = 500 * kb
	maxEvent = 32 * kb
)

func badCases(key string) []badCase {
	invalid := func(name, path string, body []byte, refused ...string) badCase {
		return badCase{name: name, path: path, key: key, body: body, status: 400, code: "invalid", refused: refused}
	}
	tooLarge := func(name, path string, body []byte, refused ...string) badCase {
		return badCase{name: name, path: path, key: key, body: body, status: 400, code: "too_large", refused: refused}
	}
	ok := func(name string, body []byte, valid ...string) badCase {
		return badCase{name: name, key: key, body: body, status: 200, stored: len(valid), valid: valid}
	}
	// quarantined is a 200 batch of a valid event and one that must be
	// quarantined with reason.
	quarantined := func(name, reason, badEvent, badID, goodID string) badCase {
		return badCase{name: name, key: key, body: batchText(ev(goodID, ""), badEvent), status: 200, stored: 1,
			valid: []string{goodID}, refused: []string{badID}, quarantine: []wantQ{{1, reason, badID}}}
	}
	single := func(name, path, reason string, body []byte, id string) badCase {
		return badCase{name: name, path: path, key: key, body: body, status: 400, code: "invalid",
			refused: []string{id}, quarantine: []wantQ{{0, reason, id}}}
	}

	exactBatch, exactBatchIDs := padded("b-exact500k", 20, maxBatch)
	overBatch, overBatchIDs := padded("b-over500k", 20, maxBatch+1)
	overChunked, overChunkedIDs := padded("b-over500k-chunked", 20, maxBatch+1)
	okBody := batchText(ev("b-trunc-1", ""), ev("b-trunc-2", ""))
	now := time.Now().UTC()
	year := 365 * 24 * time.Hour
	iso := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	manyEvents := make([]string, 5001)
	for i := range manyEvents {
		manyEvents[i] = "{}"
	}
	tooBig := ev("b-40k", `,"properties":{"pad":"`+strings.Repeat("z", 40*kb)+`"}`)

	return []badCase{
		// Malformed JSON and wrong shapes: the whole request is refused.
		invalid("truncated JSON", "", okBody[:len(okBody)/2], "b-trunc-1", "b-trunc-2"),
		invalid("truncated JSON on /v1/track", "/v1/track", []byte(ev("b-trunc-track", "")[:40]), "b-trunc-track"),
		invalid("trailing garbage", "", append(batchText(ev("b-trailing", "")), " xyz"...), "b-trailing"),
		invalid("single quotes", "", []byte(`{'batch':[{'type':'track','event':'e','userId':'u','messageId':'b-quotes'}]}`), "b-quotes"),
		invalid("NaN", "", batchText(ev("b-nan", `,"properties":{"x":NaN}`)), "b-nan"),
		invalid("comment", "", []byte(`{"batch":[/* hi */`+ev("b-comment", "")+`]}`), "b-comment"),
		invalid("byte order mark", "", append([]byte("\xef\xbb\xbf"), batchText(ev("b-bom", ""))...), "b-bom"),
		invalid("raw NUL byte inside a string", "", batchText(ev("b-rawnul", `,"properties":{"x":"a`+"\x00"+`b"}`)), "b-rawnul"),
		invalid("empty body", "", nil),
		invalid("empty batch", "", []byte(`{"batch":[]}`)),
		invalid("no batch member", "", []byte(`{"events":[`+ev("b-nobatch", "")+`]}`), "b-nobatch"),
		invalid("batch is an object", "", []byte(`{"batch":{"0":`+ev("b-batchobj", "")+`}}`), "b-batchobj"),
		invalid("top-level array", "", []byte(`[`+ev("b-array", "")+`]`), "b-array"),
		invalid("batch member twice", "", []byte(`{"batch":[`+ev("b-twice-1", "")+`],"batch":[`+ev("b-twice-2", "")+`]}`), "b-twice-1", "b-twice-2"),
		invalid("a single call that is not an object", "/v1/track", []byte(`"hello"`)),
		{name: "GET /v1/batch", method: http.MethodGet, key: key, status: 405, code: "invalid"},

		// Sizes: Segment's 500 KB a request, 32 KB an event.
		tooLarge("/v1/batch 500 KB + 1", "", overBatch, overBatchIDs...),
		{name: "/v1/batch 500 KB + 1 chunked", key: key, body: overChunked, chunked: true, status: 400, code: "too_large", refused: overChunkedIDs},
		ok("/v1/batch exactly 500 KB", exactBatch, exactBatchIDs...),
		tooLarge("/v1/track 32 KB + 1", "/v1/track", paddedEvent("b-over32k", maxEvent+1), "b-over32k"),
		{name: "/v1/track exactly 32 KB", path: "/v1/track", key: key, body: paddedEvent("b-exact32k", maxEvent), status: 200, stored: 1, valid: []string{"b-exact32k"}},
		quarantined("one 40 KB event in a batch", "too_large", tooBig, "b-40k", "b-40k-neighbour"),
		tooLarge("5,001 events in one batch", "", batchText(manyEvents...)),

		// Encodings and media types.
		{name: "gzip body", key: key, hdr: map[string]string{"Content-Encoding": "gzip"}, body: gz(batchText(ev("b-gzip", ""))), status: 200, stored: 1, valid: []string{"b-gzip"}},
		{name: "gzip bomb on /v1/batch", key: key, hdr: map[string]string{"Content-Encoding": "gzip"}, body: gzipBomb(), status: 400, code: "too_large", refused: []string{"b-bomb"}},
		{name: "gzip bomb on /v1/track", path: "/v1/track", key: key, hdr: map[string]string{"Content-Encoding": "gzip"}, body: gzipBomb(), status: 400, code: "too_large", refused: []string{"b-bomb"}},
		{name: "corrupt gzip", key: key, hdr: map[string]string{"Content-Encoding": "gzip"}, body: gz(batchText(ev("b-badgzip", "")))[:30], status: 400, code: "invalid", refused: []string{"b-badgzip"}},
		{name: "Content-Encoding br", key: key, hdr: map[string]string{"Content-Encoding": "br"}, body: batchText(ev("b-br", "")), status: 415, code: "unsupported", refused: []string{"b-br"}},
		{name: "Content-Type text/plain carrying JSON", key: key, hdr: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, body: batchText(ev("b-textplain", "")), status: 200, stored: 1, valid: []string{"b-textplain"}},
		{name: "Content-Type form-urlencoded", key: key, hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: batchText(ev("b-form", "")), status: 415, code: "unsupported", refused: []string{"b-form"}},

		// Invalid UTF-8, lone surrogates and NUL characters.
		{name: "invalid UTF-8, a lone surrogate and NUL in traits", key: key, status: 200, stored: 1, valid: []string{"b-utf8-traits"},
			body: batchText(`{"type":"identify","userId":"bad-utf8-user","messageId":"b-utf8-traits","traits":{"name":"x` + "\xff" + `y","nul":"a\u0000b","lone":"\ud800z"}}`),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				p := env.lookup(t, "user_id", "bad-utf8-user")
				if p.Name != "x\uFFFDy" || p.Traits["name"] != "x\uFFFDy" || p.Traits["nul"] != "ab" || p.Traits["lone"] != "\uFFFDz" {
					t.Errorf("traits %q (name %q); want name x\uFFFDy, nul ab, lone \uFFFDz", p.Traits, p.Name)
				}
				e, _ := readEvent(t, db, "b-utf8-traits")
				if !json.Valid([]byte(e.Payload)) || strings.Contains(e.Payload, `\u0000`) || !strings.Contains(e.Payload, "x\uFFFDy") {
					t.Errorf("stored payload %q; want valid JSON with U+FFFD and no NUL", e.Payload)
				}
			}},
		quarantined("invalid UTF-8 in userId", "invalid_identifier", `{"type":"track","event":"e","userId":"u`+"\xff"+`x","messageId":"b-utf8-userid"}`, "b-utf8-userid", "b-utf8-userid-neighbour"),
		quarantined("NUL in userId", "invalid_identifier", `{"type":"track","event":"e","userId":"u\u0000x","messageId":"b-nul-userid"}`, "b-nul-userid", "b-nul-userid-neighbour"),
		quarantined("lone surrogate in anonymousId", "invalid_identifier", `{"type":"track","event":"e","anonymousId":"a\udc00","messageId":"b-surrogate-anon"}`, "b-surrogate-anon", "b-surrogate-anon-neighbour"),
		quarantined("NUL in traits.email", "invalid_identifier", `{"type":"identify","userId":"bad-nul-email","traits":{"email":"x\u0000@shop.example"},"messageId":"b-nul-email"}`, "b-nul-email", "b-nul-email-neighbour"),
		single("invalid UTF-8 in userId on /v1/identify", "/v1/identify", "invalid_identifier", []byte(`{"userId":"u`+"\xff"+`x","messageId":"b-utf8-identify"}`), "b-utf8-identify"),

		// Deep nesting.
		quarantined("traits nested 100 levels", "too_deep", `{"type":"identify","userId":"bad-deep","traits":{"x":`+nestedObject(100)+`},"messageId":"b-deep100"}`, "b-deep100", "b-deep100-neighbour"),
		quarantined("10,001 nested arrays", "too_deep", ev("b-deep10001", `,"properties":{"x":`+nested(10001)+`}`), "b-deep10001", "b-deep10001-neighbour"),

		// Numbers.
		{name: "integer beyond 2^53", key: key, status: 200, stored: 1, valid: []string{"b-bigint"},
			body: batchText(`{"type":"track","event":"Points Earned","userId":"bad-num-user","messageId":"b-bigint","properties":{"points":12345678901234567891,"tiny":1E-400,"negzero":-0}}`),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				e, _ := readEvent(t, db, "b-bigint")
				for _, n := range []string{`12345678901234567891`, `1E-400`, `-0`} {
					if !strings.Contains(e.Payload, n) {
						t.Errorf("stored payload %s; want the number %s verbatim", e.Payload, n)
					}
				}
				p := env.lookup(t, "user_id", "bad-num-user")
				tl, ok := timeline(t, env.srv, p.ID)
				if !ok {
					return
				}
				for _, te := range tl {
					if te.MessageID != "b-bigint" {
						continue
					}
					d := json.NewDecoder(bytes.NewReader(te.Payload))
					d.UseNumber()
					var payload struct {
						Properties map[string]json.Number `json:"properties"`
					}
					if err := d.Decode(&payload); err != nil || payload.Properties["points"] != "12345678901234567891" {
						t.Errorf("timeline payload %s: points = %q (%v); want 12345678901234567891", te.Payload, payload.Properties["points"], err)
					}
					return
				}
				t.Errorf("the timeline of bad-num-user lacks b-bigint: %+v", tl)
			}},
		quarantined("1e400", "number_out_of_range", ev("b-1e400", `,"properties":{"x":1e400}`), "b-1e400", "b-1e400-neighbour"),
		single("1e400 on /v1/track", "/v1/track", "number_out_of_range", []byte(ev("b-1e400-track", `,"properties":{"x":-1e400}`)), "b-1e400-track"),

		// Repeated and case-folded keys.
		quarantined("userId twice", "duplicate_key", `{"type":"track","event":"e","userId":"a","userId":"b","messageId":"b-dup-userid"}`, "b-dup-userid", "b-dup-userid-neighbour"),
		quarantined("userId and USERID", "ambiguous_key", `{"type":"track","event":"e","userId":"a","USERID":"b","messageId":"b-case-userid"}`, "b-case-userid", "b-case-userid-neighbour"),
		quarantined("traits email and EMAIL", "ambiguous_key", `{"type":"identify","userId":"bad-case-email","traits":{"email":"a@shop.example","EMAIL":"b@shop.example"},"messageId":"b-case-email"}`, "b-case-email", "b-case-email-neighbour"),
		quarantined("a property twice", "duplicate_key", ev("b-dup-prop", `,"properties":{"x":1,"x":2}`), "b-dup-prop", "b-dup-prop-neighbour"),

		// Script and SQL are data.
		{name: "script and SQL in traits", key: key, status: 200, stored: 1, valid: []string{"b-script"},
			body: batchText(`{"type":"identify","userId":"bad-xss-user","messageId":"b-script","traits":{"name":"<img src=x onerror=alert(1)>","bio":"</title><script>alert(1)</script>","note":"'; DROP TABLE events;--","a\"->>'b":"$where","{{7*7}}":"${7*7}"}}`),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				p := env.lookup(t, "user_id", "bad-xss-user")
				want := map[string]any{"name": "<img src=x onerror=alert(1)>", "bio": "</title><script>alert(1)</script>", "note": "'; DROP TABLE events;--", `a"->>'b`: "$where", "{{7*7}}": "${7*7}"}
				for k, v := range want {
					if p.Traits[k] != v {
						t.Errorf("trait %q = %#v; want %#v verbatim", k, p.Traits[k], v)
					}
				}
				if p.Name != want["name"] {
					t.Errorf("name %q; want %q", p.Name, want["name"])
				}
				if n := scalar(t, db, "SELECT COUNT(*) FROM events"); n == 0 {
					t.Error("the events table is empty")
				}
			}},

		// Write keys.
		{name: "no write key", body: batchText(ev("b-nokey", "")), status: 401, code: "unauthorized", refused: []string{"b-nokey"}},
		{name: "forged write key", key: "bwk_" + strings.Repeat("A", 32), body: batchText(ev("b-forged", "")), status: 401, code: "unauthorized", refused: []string{"b-forged"}},
		{name: "forged write key, text/plain", key: "bwk_forged", hdr: map[string]string{"Content-Type": "text/plain"}, body: batchText(ev("b-forged-text", "")), status: 401, code: "unauthorized", refused: []string{"b-forged-text"}},
		{name: "unknown write key in the body", body: []byte(`{"writeKey":"bwk_unknown","batch":[` + ev("b-bodykey-bad", "") + `]}`), status: 401, code: "unauthorized", refused: []string{"b-bodykey-bad"}},
		{name: "write key in the body", body: []byte(`{"writeKey":"` + key + `","batch":[` + ev("b-bodykey", "") + `]}`), status: 200, stored: 1, valid: []string{"b-bodykey"}},
		{name: "write key as a password", hdr: map[string]string{"Authorization": "Basic " + basic("", key)}, body: batchText(ev("b-keypassword", "")), status: 401, code: "unauthorized", refused: []string{"b-keypassword"}},

		// Replays.
		ok("a batch", batchText(ev("b-replay-1", ""), ev("b-replay-2", ""), ev("b-replay-3", "")), "b-replay-1", "b-replay-2", "b-replay-3"),
		{name: "the same batch again", key: key, body: batchText(ev("b-replay-1", ""), ev("b-replay-2", ""), ev("b-replay-3", "")), status: 200, stored: 0, duplicates: 3},
		{name: "one of them on /v1/track", path: "/v1/track", key: key, body: []byte(ev("b-replay-2", "")), status: 200, stored: 0, duplicates: 1},
		ok("a messageId first sent", batchText(ev("b-replay-changed", `,"properties":{"version":1}`)), "b-replay-changed"),
		{name: "the same messageId with another body", key: key, body: batchText(ev("b-replay-changed", `,"properties":{"version":2}`)), status: 200, stored: 0, duplicates: 1,
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				e, _ := readEvent(t, db, "b-replay-changed")
				if !strings.Contains(e.Payload, `"version":1`) {
					t.Errorf("payload %s; want the first copy (version 1)", e.Payload)
				}
			}},
		{name: "a messageId twice in one batch", key: key, body: batchText(ev("b-twice-in-batch", ""), ev("b-twice-in-batch", "")), status: 200, stored: 1, duplicates: 1, valid: []string{"b-twice-in-batch"}},

		// Clocks a year off.
		{name: "client clock a year ahead, with sentAt", key: key, status: 200, stored: 1, valid: []string{"b-clock-ahead"},
			body:  []byte(`{"sentAt":"` + iso(now.Add(year)) + `","batch":[` + ev("b-clock-ahead", `,"timestamp":"`+iso(now.Add(year-10*time.Minute))+`"`) + `]}`),
			after: skewCorrected("b-clock-ahead", 10*time.Minute)},
		{name: "client clock a year behind, with sentAt", key: key, status: 200, stored: 1, valid: []string{"b-clock-behind"},
			body:  batchText(ev("b-clock-behind", `,"timestamp":"`+iso(now.Add(-year-10*time.Minute))+`","sentAt":"`+iso(now.Add(-year))+`"`)),
			after: skewCorrected("b-clock-behind", 10*time.Minute)},
		{name: "client clock a year ahead, on /v1/track with sentAt", path: "/v1/track", key: key, status: 200, stored: 1, valid: []string{"b-clock-track"},
			body:  []byte(ev("b-clock-track", `,"timestamp":"`+iso(now.Add(year-time.Hour))+`","sentAt":"`+iso(now.Add(year))+`"`)),
			after: skewCorrected("b-clock-track", time.Hour)},
		{name: "timestamp a year ahead, no sentAt", key: key, status: 200, stored: 1, valid: []string{"b-future"},
			body: batchText(ev("b-future", `,"timestamp":"`+iso(now.Add(year))+`"`)),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				e, _ := readEvent(t, db, "b-future")
				if e.TS != e.ReceivedAt || e.Original != iso(now.Add(year)) {
					t.Errorf("ts %s, received %s, original %q; want the time clamped to receivedAt and the original kept",
						time.UnixMilli(e.TS).UTC(), time.UnixMilli(e.ReceivedAt).UTC(), e.Original)
				}
			}},
		{name: "timestamp a year behind, no sentAt", key: key, status: 200, stored: 1, valid: []string{"b-past"},
			body: batchText(ev("b-past", `,"timestamp":"`+iso(now.Add(-year).Truncate(time.Millisecond))+`"`)),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				e, _ := readEvent(t, db, "b-past")
				if e.TS != now.Add(-year).UnixMilli() {
					t.Errorf("ts %s; want the historical timestamp %s kept", time.UnixMilli(e.TS).UTC(), now.Add(-year))
				}
			}},
		{name: "unparseable timestamp", key: key, status: 200, stored: 1, valid: []string{"b-badtime"},
			body: batchText(ev("b-badtime", `,"timestamp":"yesterday at noon"`)),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				e, _ := readEvent(t, db, "b-badtime")
				if e.TS != e.ReceivedAt || e.Original != "yesterday at noon" {
					t.Errorf("ts %d, received %d, original %q; want receivedAt and the original kept", e.TS, e.ReceivedAt, e.Original)
				}
			}},

		// Events that break Segment's rules are quarantined, not lost.
		quarantined("neither userId nor anonymousId", "no_identity", `{"type":"track","event":"e","messageId":"b-noid"}`, "b-noid", "b-noid-neighbour"),
		single("neither userId nor anonymousId on /v1/track", "/v1/track", "no_identity", []byte(`{"event":"e","messageId":"b-noid-track"}`), "b-noid-track"),
		quarantined("track without event", "missing_event", `{"type":"track","userId":"u","messageId":"b-noevent"}`, "b-noevent", "b-noevent-neighbour"),
		quarantined("unknown type", "unknown_type", `{"type":"purchase","userId":"u","messageId":"b-badtype"}`, "b-badtype", "b-badtype-neighbour"),
		quarantined("an event that is a string", "not_an_object", `"b-string-event"`, "b-string-event", "b-string-neighbour"),
		quarantined("userId an object", "invalid_identifier", `{"type":"track","event":"e","userId":{"id":1},"messageId":"b-objuserid"}`, "b-objuserid", "b-objuserid-neighbour"),
		{name: "numeric userId", key: key, status: 200, stored: 1, valid: []string{"b-numuserid"},
			body: batchText(`{"type":"identify","userId":12345,"messageId":"b-numuserid","traits":{"name":"Numero"}}`),
			after: func(t *testing.T, env *badEnv, db *sqldb.DB) {
				if p := env.lookup(t, "user_id", "12345"); p.Name != "Numero" {
					t.Errorf("user 12345: %+v; want the profile named Numero", p)
				}
			}},
	}
}

// skewCorrected checks that an event's time is receivedAt − (sentAt −
// timestamp): the client's clock was off, the event happened ago before it
// was sent.
func skewCorrected(id string, ago time.Duration) func(t *testing.T, env *badEnv, db *sqldb.DB) {
	return func(t *testing.T, env *badEnv, db *sqldb.DB) {
		e, ok := readEvent(t, db, id)
		if !ok {
			return
		}
		if e.SentAt == nil || e.Original == "" {
			t.Errorf("sentAt %v, original %q; want both kept", e.SentAt, e.Original)
		}
		if want := e.ReceivedAt - ago.Milliseconds(); e.TS < want-1 || e.TS > want+1 {
			t.Errorf("ts %s; want receivedAt %s − %v = %s",
				time.UnixMilli(e.TS).UTC(), time.UnixMilli(e.ReceivedAt).UTC(), ago, time.UnixMilli(want).UTC())
		}
	}
}

func basic(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// lookup returns the profile holding an identifier.
func (e *badEnv) lookup(t *testing.T, typ, value string) profileView {
	t.Helper()
	var p profileView
	e.srv.MustGetJSON(t, "/api/v1/profiles/lookup?type="+typ+"&value="+url.QueryEscape(value), &p)
	return p
}

// gzipBombs sends four gzip bombs at once and checks that the server's peak
// memory grows by far less than one bomb's expansion (100 MB).
func (e *badEnv) gzipBombs(t *testing.T) {
	pid := e.srv.PID()
	_, before, err := rssKB(pid)
	if err != nil {
		t.Skipf("cannot read the server's memory: %v", err)
	}
	var wg sync.WaitGroup
	replies := make([]Reply, 4)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = e.srv.Post("/v1/batch", e.key, gzipBomb(), map[string]string{"Content-Encoding": "gzip"})
		}()
	}
	wg.Wait()
	for i, r := range replies {
		var p Problem
		if r.Err != nil || r.Status != 400 || json.Unmarshal(r.Body, &p) != nil || p.Code != "too_large" {
			t.Errorf("bomb %d: %s; want 400 too_large", i, r)
		}
	}
	_, after, err := rssKB(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak RSS %d KiB before four 100 MB gzip bombs, %d KiB after", before, after)
	if after-before > 50*1024 {
		t.Errorf("peak RSS grew by %d KiB; want under 50 MiB (each bomb expands to 100 MiB)", after-before)
	}
	e.mu.Lock()
	e.refusedRequests += len(replies)
	e.mu.Unlock()
}

// disabledKey disables a source with the CLI while the server runs: within
// the key cache's few seconds its write key must get 401, and events sent
// with it from then on are not stored.
func (e *badEnv) disabledKey(t *testing.T, dsn, offKey string) {
	one := func(id string) []byte { return batchText(ev(id, "")) }
	if r := e.srv.Post("/v1/batch", offKey, one("off-before"), nil); r.Status != 200 {
		t.Fatalf("before disabling: %s; want 200", r)
	}
	cli(t, "source", "disable", "bad-off", "--db", dsn)
	// The server caches keys for about 2 s: until then a 200 is allowed
	// (and what it acknowledged must be stored).
	var acked []string
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		id := fmt.Sprintf("off-poll-%d", i)
		r := e.srv.Post("/v1/batch", offKey, one(id), nil)
		if r.Err == nil && r.Status == 200 {
			acked = append(acked, id)
		} else {
			var p Problem
			if r.Err != nil || r.Status != 401 || json.Unmarshal(r.Body, &p) != nil || p.Code != "unauthorized" {
				t.Fatalf("a disabled source's key: %s; want 401 unauthorized", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the disabled source's key still works after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, path := range []string{"/v1/batch", "/v1/track"} {
		body := one("off-after")
		if path == "/v1/track" {
			body = []byte(ev("off-after-track", ""))
		}
		if r := e.srv.Post(path, offKey, body, nil); r.Status != 401 {
			t.Errorf("%s with a disabled source's key: %s; want 401", path, r)
		}
	}
	db := openDB(t, dsn)
	stored := storedIDs(t, db, "bad-off")
	if stored["off-before"] != 1 || stored["off-after"] != 0 || stored["off-after-track"] != 0 {
		t.Errorf("bad-off's log: %v; want off-before, never off-after", stored)
	}
	for _, id := range acked {
		if stored[id] != 1 {
			t.Errorf("%s was acknowledged before the key cache expired but is not stored", id)
		}
	}
	t.Logf("%d events acknowledged between disabling and the first 401", len(acked))
}

// quarantineRow is a row of the quarantine table.
type quarantineRow struct {
	messageID, reason string
	raw               []byte
}

func readQuarantine(t testing.TB, db *sqldb.DB, source string) []quarantineRow {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT q.message_id, q.reason, q.raw FROM quarantine q JOIN sources s ON s.id = q.source_id WHERE s.name = ?`, source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []quarantineRow
	for rows.Next() {
		var r quarantineRow
		if err := rows.Scan(&r.messageID, &r.reason, &r.raw); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
