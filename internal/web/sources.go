package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
)

// The sources page: every source with its key prefix and state, a form to
// add one, rotation and disabling, the snippets that send events to
// bottega, and (for staff with pipeline:read) the live event debugger.
//
// A write key is shown once: the answer to the POST that created or rotated
// it is the page itself (never a redirect carrying the key), and the key is
// kept nowhere else.

type sourcesData struct {
	notes
	Sources   []sourceRow
	Channels  []string
	Graces    []graceOption
	Form      sourceForm
	Shown     *shownKey // the key just created or rotated, shown once
	Snippets  snippets  // with a placeholder key, for existing sources
	IngestURL string
	Debug     *debugData // the live event debugger (nil without pipeline:read)
	CanWrite  bool
}

type sourceRow struct {
	Name, Channel, KeyPrefix string
	RateLimit                int
	CreatedAt                time.Time
	Disabled                 bool
	DisabledAt               time.Time
}

// sourceForm keeps what was typed when a creation is refused.
type sourceForm struct {
	Name, Channel, RateLimit string
}

type shownKey struct {
	Source   string
	Channel  string
	Key      string
	Rotated  bool
	Grace    string // message key of the grace period chosen (rotation)
	Snippets snippets
}

type graceOption struct {
	Value string // form value
	Label string // message key
	d     time.Duration
}

var graces = []graceOption{
	{Value: "0", Label: "sources.grace.none", d: 0},
	{Value: "1h", Label: "sources.grace.hour", d: time.Hour},
	{Value: "24h", Label: "sources.grace.day", d: 24 * time.Hour},
}

// sourceMessages are the success notes after a redirect (?done=…&name=…).
var sourceMessages = map[string]string{
	"disabled": "sources.done.disabled",
	"enabled":  "sources.done.enabled",
}

func (s *server) sources(rq *request) error {
	data, err := s.sourcesPage(rq)
	if err != nil {
		return err
	}
	if k, ok := sourceMessages[rq.r.URL.Query().Get("done")]; ok {
		data.Flash = rq.L.T(k, rq.r.URL.Query().Get("name"))
	}
	s.render(rq, http.StatusOK, "sources.html", data)
	return nil
}

// sourcesPage loads what the page shows.
func (s *server) sourcesPage(rq *request) (*sourcesData, error) {
	list, err := s.Auth.ListSources(rq.ctx)
	if err != nil {
		return nil, err
	}
	d := &sourcesData{Channels: auth.Channels, Graces: graces, IngestURL: s.ingestURL(rq),
		CanWrite: rq.who.Can(auth.SourcesWrite)}
	if rq.who.Can(auth.PipelineRead) {
		if d.Debug, err = s.debugger(rq); err != nil {
			return nil, err
		}
	}
	for _, x := range list {
		row := sourceRow{Name: x.Name, Channel: x.Channel, KeyPrefix: x.KeyPrefix, RateLimit: x.RateLimit, CreatedAt: x.CreatedAt, Disabled: x.Disabled()}
		if x.DisabledAt != nil {
			row.DisabledAt = *x.DisabledAt
		}
		d.Sources = append(d.Sources, row)
	}
	d.Snippets = makeSnippets(d.IngestURL, "", rq.L)
	d.Form.Channel = "web"
	return d, nil
}

// ingestURL is where sources send events: the configured address, or the
// one this page was asked on.
func (s *server) ingestURL(rq *request) string {
	if s.IngestURL != "" {
		return strings.TrimRight(s.IngestURL, "/")
	}
	scheme := "http"
	if s.secure(rq.r) {
		scheme = "https"
	}
	return scheme + "://" + rq.r.Host
}

func (s *server) createSource(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	f := sourceForm{
		Name:      strings.TrimSpace(rq.r.PostForm.Get("name")),
		Channel:   rq.r.PostForm.Get("channel"),
		RateLimit: strings.TrimSpace(rq.r.PostForm.Get("rate_limit")),
	}
	refuse := func(err error) error {
		return s.refuse(rq, err, "sources.html", func() (noted, error) {
			d, err := s.sourcesPage(rq)
			if d != nil {
				d.Form = f
			}
			return d, err
		})
	}
	rate := 0
	if f.RateLimit != "" {
		n, err := strconv.Atoi(f.RateLimit)
		if err != nil || n < 0 {
			return refuse(rq.refusal(fault.Invalid, "sources.err.rate"))
		}
		rate = n
	}
	src, key, err := s.Auth.CreateSource(rq.ctx, f.Name, f.Channel, rate)
	switch {
	case fault.Is(err, fault.Conflict):
		return refuse(rq.refusal(fault.Conflict, "sources.err.exists", f.Name))
	case fault.Is(err, fault.Invalid) && !auth.ValidChannel(f.Channel):
		return refuse(rq.refusal(fault.Invalid, "sources.err.channel"))
	case fault.Is(err, fault.Invalid):
		return refuse(rq.refusal(fault.Invalid, "sources.err.name"))
	case err != nil:
		return err
	}
	return s.showKey(rq, shownKey{Source: src.Name, Channel: src.Channel, Key: key})
}

func (s *server) rotateSource(rq *request) error {
	if err := parseForm(rq); err != nil {
		return err
	}
	name := rq.r.PathValue("name")
	g, ok := graceOf(rq.r.PostForm.Get("grace"))
	if !ok {
		return s.refuse(rq, rq.refusal(fault.Invalid, "sources.err.grace"), "sources.html", s.sourcesLoader(rq))
	}
	src, err := s.Auth.SourceByName(rq.ctx, name)
	if err != nil {
		return s.refuse(rq, err, "sources.html", s.sourcesLoader(rq))
	}
	key, err := s.Auth.RotateSourceKey(rq.ctx, name, g.d)
	if err != nil {
		return err
	}
	s.Sources.Forget()
	return s.showKey(rq, shownKey{Source: src.Name, Channel: src.Channel, Key: key, Rotated: true, Grace: g.Label})
}

func graceOf(v string) (graceOption, bool) {
	if v == "" {
		return graces[0], true
	}
	for _, g := range graces {
		if g.Value == v {
			return g, true
		}
	}
	return graceOption{}, false
}

// showKey answers a creation or rotation with the page holding the new
// key: the only time anyone sees it.
func (s *server) showKey(rq *request, k shownKey) error {
	d, err := s.sourcesPage(rq)
	if err != nil {
		return err
	}
	k.Snippets = makeSnippets(d.IngestURL, k.Key, rq.L)
	d.Shown = &k
	s.show(rq, "sources.html", d)
	return nil
}

func (s *server) disableSource(rq *request) error { return s.setSourceDisabled(rq, true) }
func (s *server) enableSource(rq *request) error  { return s.setSourceDisabled(rq, false) }

func (s *server) setSourceDisabled(rq *request, disabled bool) error {
	name := rq.r.PathValue("name")
	if err := s.Auth.SetSourceDisabled(rq.ctx, name, disabled); err != nil {
		return s.refuse(rq, err, "sources.html", s.sourcesLoader(rq))
	}
	s.Sources.Forget()
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	return s.redirect(rq, "/sources?done="+done+"&name="+url.QueryEscape(name))
}

func (s *server) sourcesLoader(rq *request) func() (noted, error) {
	return func() (noted, error) { return s.sourcesPage(rq) }
}

// snippets are copy-paste code that sends events to this bottega.
type snippets struct {
	Browser, Curl, Node, Go string
}

// placeholderKey stands for the write key in snippets shown without one.
const placeholderKey = "YOUR_WRITE_KEY"

// makeSnippets writes the snippets for an ingestion address and write key
// ("" for a placeholder). Values enter JavaScript and Go as quoted string
// literals and the shell in single quotes, whatever the Host header said.
//
// The browser snippet calls /v1/{type} directly rather than loading
// Segment's analytics.js: analytics.js posts to /v1/t, /v1/p… and fetches
// its settings from Segment's CDN. It sends JSON as text/plain with the
// write key in the body and mode no-cors: a "simple" request, which needs
// no CORS preflight (bottega's ingestion API answers none), and keepalive
// lets events leave with a page being closed.
func makeSnippets(ingest, key string, l *Locale) snippets {
	if key == "" {
		key = placeholderKey
	}
	js := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	sh := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	var sn snippets
	sn.Browser = `<script>
window.bottega = (function (host, writeKey) {
  function id() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2)); }
  function load(k) { try { return localStorage.getItem(k); } catch (e) { return null; } }
  function save(k, v) { try { localStorage.setItem(k, v); } catch (e) {} }
  var anonymousId = load("bottega_aid") || id();
  save("bottega_aid", anonymousId);
  var userId = load("bottega_uid");
  function send(type, call) {
    call.type = type;
    call.writeKey = writeKey;
    call.messageId = id();
    call.anonymousId = anonymousId;
    if (userId) call.userId = userId;
    call.timestamp = call.sentAt = new Date().toISOString();
    call.context = { page: { url: location.href, path: location.pathname, referrer: document.referrer, title: document.title },
      userAgent: navigator.userAgent, locale: navigator.language };
    return fetch(host + "/v1/" + type, { method: "POST", mode: "no-cors", keepalive: true,
      headers: { "Content-Type": "text/plain" }, body: JSON.stringify(call) });
  }
  return {
    page: function (name, properties) { return send("page", { name: name || document.title, properties: properties || {} }); },
    track: function (event, properties) { return send("track", { event: event, properties: properties || {} }); },
    identify: function (id, traits) { userId = String(id); save("bottega_uid", userId); return send("identify", { traits: traits || {} }); }
  };
})(` + js(ingest) + `, ` + js(key) + `);
bottega.page();
// ` + l.T("sources.snippet.browser_usage") + `
// bottega.identify("customer-42", { email: "ada@example.com", name: "Ada" });
// bottega.track("Order Completed", { order_id: "1001", total: 59.90, currency: "EUR" });
</script>`
	sn.Curl = `curl -u ` + sh(key+":") + ` -H 'Content-Type: application/json' \
  ` + sh(ingest+"/v1/track") + ` \
  -d '{"userId": "customer-42", "event": "Order Completed", "properties": {"order_id": "1001", "total": 59.90, "currency": "EUR"}}'`
	sn.Node = `// npm install @segment/analytics-node
import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({ writeKey: ` + js(key) + `, host: ` + js(ingest) + ` })

analytics.track({ userId: 'customer-42', event: 'Order Completed',
  properties: { order_id: '1001', total: 59.90, currency: 'EUR' } })
await analytics.closeAndFlush()`
	sn.Go = `// go get github.com/segmentio/analytics-go/v3
client, err := analytics.NewWithConfig(` + js(key) + `, analytics.Config{Endpoint: ` + js(ingest) + `})
if err != nil {
	log.Fatal(err)
}
defer client.Close()
client.Enqueue(analytics.Track{UserId: "customer-42", Event: "Order Completed",
	Properties: analytics.NewProperties().Set("order_id", "1001").Set("total", 59.90).Set("currency", "EUR")})`
	return sn
}
