package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// shown returns the text of the element with the given data-testid, or "".
func shown(body, testid string) string {
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(testid) + `"[^>]*>([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// htmxPost posts a form as htmx does.
func (f *fixture) htmxPost(c *http.Client, path string, form url.Values) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("HX-Request", "true")
	return f.do(c, req)
}

// htmxGet fetches path as htmx does.
func (f *fixture) htmxGet(c *http.Client, path string) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	return f.do(c, req)
}

func TestSourcesKeysAreShownOnceAndWork(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, 0)
		c := f.client(auth.Marketer)

		r := f.get(c, "/sources")
		if r.StatusCode != 200 || !strings.Contains(r.Body, `data-testid="create-source"`) {
			t.Fatalf("sources page: %d", r.StatusCode)
		}

		// Created: the answer is the page with the key, not a redirect.
		r = f.post(c, "/sources", url.Values{"name": {"shop-web"}, "channel": {"web"}, "rate_limit": {"25"}})
		key := shown(r.Body, "write-key")
		if r.StatusCode != 200 || r.Header.Get("Location") != "" || !strings.HasPrefix(key, "bwk_") {
			t.Fatalf("create: %d %q key %q", r.StatusCode, r.Header.Get("Location"), key)
		}
		if !strings.Contains(r.Body, `data-testid="source-row" data-source="shop-web"`) || !strings.Contains(r.Body, "25/s") {
			t.Error("the new source is not listed with its rate limit")
		}
		for _, snippet := range []string{"&#34;" + key + "&#34;", `/v1/`, "@segment/analytics-node", "analytics.Config{Endpoint: &#34;" + f.srv.URL + "&#34;}"} {
			if !strings.Contains(r.Body, snippet) {
				t.Errorf("the snippets lack %q", snippet)
			}
		}
		src, err := f.auth.SourceByWriteKey(ctx, key)
		if err != nil || src.Name != "shop-web" || src.Channel != "web" || src.RateLimit != 25 {
			t.Fatalf("the shown key does not authenticate the source: %+v %v", src, err)
		}
		// Shown once: the page does not show it again.
		if r := f.get(c, "/sources"); strings.Contains(r.Body, key) || strings.Contains(r.Body, `data-testid="write-key"`) {
			t.Fatal("the write key is shown again")
		}

		// A name taken, in the staff member's language.
		r = f.post(c, "/sources", url.Values{"name": {"shop-web"}, "channel": {"web"}})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "A source named shop-web already exists.") {
			t.Fatalf("duplicate: %d", r.StatusCode)
		}
		if r := f.post(c, "/sources", url.Values{"name": {"bad name!"}, "channel": {"web"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `value="bad name!"`) {
			t.Fatalf("bad name: %d (or the form forgot what was typed)", r.StatusCode)
		}

		// Rotated without grace: the old key stops at once.
		r = f.post(c, "/sources/shop-web/rotate", url.Values{"grace": {"0"}})
		key2 := shown(r.Body, "write-key")
		if r.StatusCode != 200 || key2 == "" || key2 == key {
			t.Fatalf("rotate: %d %q", r.StatusCode, key2)
		}
		if _, err := f.auth.SourceByWriteKey(ctx, key); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("old key after rotation without grace: %v", err)
		}
		if _, err := f.auth.SourceByWriteKey(ctx, key2); err != nil {
			t.Fatal(err)
		}
		// With a grace period the old key keeps working for it.
		r = f.htmxPost(c, "/sources/shop-web/rotate", url.Values{"grace": {"1h"}})
		key3 := shown(r.Body, "write-key")
		if r.StatusCode != 200 || key3 == "" || strings.Contains(r.Body, "<html") {
			t.Fatalf("rotate with htmx: %d %q", r.StatusCode, key3)
		}
		for _, k := range []string{key2, key3} {
			if _, err := f.auth.SourceByWriteKey(ctx, k); err != nil {
				t.Fatalf("key during the grace period: %v", err)
			}
		}
		if r := f.post(c, "/sources/shop-web/rotate", url.Values{"grace": {"87600h"}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("grace not offered: %d", r.StatusCode)
		}

		// Disabled: refused; enabled: accepted again.
		r = f.post(c, "/sources/shop-web/disable", nil)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/sources?done=disabled&name=shop-web" {
			t.Fatalf("disable: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if _, err := f.auth.SourceByWriteKey(ctx, key3); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("key of a disabled source: %v", err)
		}
		if r := f.get(c, "/sources?done=disabled&name=shop-web"); !strings.Contains(shown(r.Body, "flash-ok"), "shop-web disabled") ||
			!strings.Contains(r.Body, `data-testid="enable-source"`) {
			t.Fatal("the page does not show the source disabled")
		}
		if r := f.post(c, "/sources/shop-web/enable", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("enable: %d", r.StatusCode)
		}
		if _, err := f.auth.SourceByWriteKey(ctx, key3); err != nil {
			t.Fatalf("key of a re-enabled source: %v", err)
		}
		if r := f.post(c, "/sources/nope/disable", nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown source: %d", r.StatusCode)
		}
	})
}

func TestSourcesFollowPermissions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		analyst := f.client(auth.Analyst)
		r := f.get(analyst, "/sources")
		if r.StatusCode != 200 {
			t.Fatalf("analyst /sources: %d", r.StatusCode)
		}
		for _, w := range []string{`data-testid="create-source"`, `data-testid="rotate-source"`, `data-testid="disable-source"`} {
			if strings.Contains(r.Body, w) {
				t.Errorf("analyst sees %s", w)
			}
		}
		if !strings.Contains(r.Body, `data-testid="source-row" data-source="src-web"`) || !strings.Contains(r.Body, `data-testid="debugger"`) {
			t.Error("analyst does not see the sources and the debugger")
		}
		if r := f.post(analyst, "/sources", url.Values{"name": {"x"}, "channel": {"web"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("analyst POST /sources: %d", r.StatusCode)
		}
		if r := f.post(analyst, "/sources/src-web/disable", nil); r.StatusCode != http.StatusForbidden {
			t.Fatalf("analyst disables: %d", r.StatusCode)
		}
		care := f.client(auth.Care)
		if r := f.get(care, "/sources"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("care /sources: %d", r.StatusCode)
		}
		if r := f.htmxGet(care, "/sources/events"); r.StatusCode == 200 && strings.Contains(r.Body, "event-row") {
			t.Fatal("care agent reads the debugger")
		}
	})
}

func TestDebuggerShowsEventsEscaped(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		f.h.Send("web",
			`{"type":"identify","messageId":"m1","userId":"u-ada","traits":{"email":"ada@example.com","name":"Ada"}}`,
			`{"type":"track","messageId":"m2","userId":"u-ada","event":"<script>alert(1)</script>","properties":{"note":"</code><b>x</b>"}}`,
		)
		quarantine(t, db, "src-web", `{"type":"track","messageId":"m3","event":"<img src=x onerror=alert(2)>"}`) // no identity
		root := f.h.Root("user_id", "u-ada")

		owner := f.client(auth.Owner)
		r := f.htmxGet(owner, "/sources/events?part=rows")
		if r.StatusCode != 200 {
			t.Fatalf("events: %d", r.StatusCode)
		}
		if n := strings.Count(r.Body, `data-testid="event-row"`); n != 2 {
			t.Errorf("%d event rows, want 2", n)
		}
		if n := strings.Count(r.Body, `data-testid="quarantine-row" data-reason="no_identity"`); n != 1 {
			t.Errorf("%d quarantine rows, want 1", n)
		}
		for _, raw := range []string{"<script>alert(1)", "<img src=x", "<b>x</b>"} {
			if strings.Contains(r.Body, raw) {
				t.Errorf("the debugger shows %q unescaped", raw)
			}
		}
		for _, esc := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "No userId or anonymousId"} {
			if !strings.Contains(r.Body, esc) {
				t.Errorf("the debugger lacks %q", esc)
			}
		}
		if !strings.Contains(r.Body, `href="/customers/`+root+`"`) {
			t.Error("no link to the profile of a processed event")
		}
		if !strings.Contains(r.Body, "ada@example.com") {
			t.Error("the owner does not see the contact details")
		}

		// Without customers:pii, contact details are masked.
		r = f.htmxGet(f.client(auth.Analyst), "/sources/events?part=rows")
		if r.StatusCode != 200 || strings.Contains(r.Body, "ada@example.com") || !strings.Contains(r.Body, auth.MaskEmail("ada@example.com")) {
			t.Fatalf("analyst: %d, e-mail not masked", r.StatusCode)
		}

		// Live, the panel polls; paused, it does not.
		if r := f.htmxGet(owner, "/sources/events"); !strings.Contains(r.Body, `hx-trigger="load, every 2s"`) || !strings.Contains(r.Body, `data-testid="debugger-pause"`) {
			t.Error("the live panel does not poll")
		}
		if r := f.htmxGet(owner, "/sources/events?paused=1"); strings.Contains(r.Body, "hx-trigger") || !strings.Contains(r.Body, `data-testid="debugger-resume"`) {
			t.Error("the paused panel polls")
		}
		if r := f.get(owner, "/sources/events"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("without htmx: %d", r.StatusCode)
		}
	})
}

// quarantine ingests events that break a rule through the real parser and
// committer (the harness refuses them).
func quarantine(t *testing.T, db *sqldb.DB, source string, events ...string) {
	t.Helper()
	ctx := context.Background()
	src, err := auth.NewStore(db, time.Now).SourceByName(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	c := event.NewCommitter(db, event.CommitterOptions{})
	go c.Run()
	defer c.Close()
	ig := event.NewIngester(c, event.DefaultLimits(), time.Now)
	req, at, err := ig.Parse("", []byte(`{"batch":[`+strings.Join(events, ",")+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Quarantined) != len(events) {
		t.Fatalf("%d of %d events quarantined", len(req.Quarantined), len(events))
	}
	if _, err := ig.Store(ctx, src.ID, at, req); err != nil {
		t.Fatal(err)
	}
}

func TestSnippetsQuoteTheirValues(t *testing.T) {
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	sn := makeSnippets(`https://x.example/"';rm -rf /`, "bwk_abc", cat.locale("en", "EUR", nil))
	if !strings.Contains(sn.Browser, `("https://x.example/\"';rm -rf /", "bwk_abc")`) {
		t.Errorf("browser snippet: %s", sn.Browser)
	}
	if !strings.Contains(sn.Curl, `'https://x.example/"'\'';rm -rf //v1/track'`) || !strings.Contains(sn.Curl, `-u 'bwk_abc:'`) {
		t.Errorf("curl snippet: %s", sn.Curl)
	}
	if !strings.Contains(makeSnippets("http://h", "", cat.locale("en", "EUR", nil)).Node, placeholderKey) {
		t.Error("no placeholder without a key")
	}
}

// TestRefusalMessagesExist checks the message keys this area's Go code
// names outside .T calls (refusals, notes after redirects).
func TestRefusalMessagesExist(t *testing.T) {
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"((?:sources|settings)\.[a-z0-9_.:]+[a-z_])"`)
	for _, f := range []string{"sources.go", "settings.go", "account.go", "debugger.go"} {
		b, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			k := string(m[1])
			if strings.HasSuffix(k, ".html") {
				continue
			}
			if _, ok := cat["en"][k]; !ok {
				t.Errorf("%s names message %q, which no locale file defines", f, k)
			}
		}
	}
	for _, r := range []string{"not_an_object", "too_large", "duplicate_key", "ambiguous_key", "too_deep", "too_many_keys", "key_too_long",
		"number_out_of_range", "invalid_identifier", "invalid_field", "unknown_type", "no_identity", "missing_event", "missing_previous_id", "missing_group_id"} {
		if _, ok := cat["en"]["sources.reason."+r]; !ok {
			t.Errorf("quarantine reason %s has no message", r)
		}
	}
	for _, p := range auth.Permissions {
		if _, ok := cat["en"]["settings.perm."+string(p)]; !ok {
			t.Errorf("permission %s has no message", p)
		}
	}
	for _, ch := range auth.Channels {
		if _, ok := cat["en"]["sources.channel."+ch]; !ok {
			t.Errorf("channel %s has no message", ch)
		}
	}
}
