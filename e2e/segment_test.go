package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
	analytics "github.com/segmentio/analytics-go/v3"
)

// A customer journey sent by a real Segment client library, in three phases
// each flushed before the next starts:
//  1. anonymous browsing: page "Home", track "Product Viewed";
//  2. identify (e-mail, phone, name), track "Order Completed" with two
//     products, page "Checkout", screen "Cart", group;
//  3. alias from the anonymous id to the user id.
//
// The Go and Node.js tests send the same journey with their own prefix.

// journey names the identifiers of one library's journey.
type journey struct {
	Prefix    string
	Library   string // context.library.name the library adds
	Source    string // source name
	AnonID    string
	UserID    string
	Email     string // as sent
	EmailKey  string // normalised
	Phone     string // as sent
	PhoneE164 string
	OrderID   string
	GroupID   string
}

func newJourney(prefix, library string) journey {
	return journey{
		Prefix: prefix, Library: library, Source: prefix + "-shop",
		AnonID: prefix + "-anon-7f3a", UserID: prefix + "-user-1001",
		Email: "Maria.Rossi+" + prefix + "@Example.COM", EmailKey: "maria.rossi+" + prefix + "@example.com",
		Phone: "347 123 4567", PhoneE164: "+393471234567",
		OrderID: prefix + "-order-1", GroupID: prefix + "-acme",
	}
}

// id returns the fixed messageId of one call of the journey.
func (j journey) id(call string) string { return j.Prefix + "-" + call }

// The calls of each phase, by the suffix of their messageId, with their type.
var journeyPhases = [][]struct{ call, typ string }{
	{{"page-anon", "page"}, {"track-viewed", "track"}},
	{{"identify", "identify"}, {"track-order", "track"}, {"page", "page"}, {"screen", "screen"}, {"group", "group"}},
	{{"alias", "alias"}},
}

// sentCall is one call as the library sent it.
type sentCall struct {
	Type      string
	Timestamp time.Time // the event's timestamp as the library sent it
}

// TestSegmentGo drives github.com/segmentio/analytics-go/v3 against the
// running binary and checks, through the API and the database, that every
// call was stored once and processed into one customer with an order.
func TestSegmentGo(t *testing.T) {
	eachEngine(t, func(t *testing.T, dsn string) {
		j := newJourney("go", "analytics-go")
		writeKey := createSource(t, dsn, j.Source, "web")
		srv := startServer(t, dsn)

		// What each call is and the timestamp it carries (zero: the library
		// chooses it).
		now := time.Now().UTC().Truncate(time.Millisecond)
		sent := map[string]sentCall{
			j.id("page-anon"):    {"page", now.Add(-3 * time.Hour)},
			j.id("track-viewed"): {"track", now.Add(-3*time.Hour + time.Minute)},
			j.id("identify"):     {"identify", now.Add(-2 * time.Hour)},
			j.id("track-order"):  {"track", now.Add(-48 * time.Hour)},
			j.id("page"):         {"page", now.Add(-time.Hour)},
			j.id("screen"):       {"screen", time.Time{}},
			j.id("group"):        {"group", now.Add(-15 * time.Minute)},
			j.id("alias"):        {"alias", now.Add(-time.Minute)},
		}
		at := func(call string) time.Time { return sent[j.id(call)].Timestamp }

		// send runs one phase on a fresh client and closes it, which flushes
		// and waits for delivery; every message must be reported delivered.
		send := func(msgs ...analytics.Message) {
			t.Helper()
			cb := &callbacks{}
			c, err := analytics.NewWithConfig(writeKey, analytics.Config{
				Endpoint:   srv.URL(),
				BatchSize:  3,
				Interval:   50 * time.Millisecond,
				Callback:   cb,
				Logger:     testLogger{t},
				RetryAfter: func(int) time.Duration { return 200 * time.Millisecond },
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if err := c.Enqueue(m); err != nil {
					t.Fatalf("Enqueue(%+v): %v", m, err)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if len(cb.failed) > 0 {
				t.Fatalf("the library reported failures: %v", cb.failed)
			}
			if len(cb.ok) != len(msgs) {
				t.Fatalf("the library reported %d of %d messages delivered", len(cb.ok), len(msgs))
			}
		}

		// Phase 1: anonymous browsing.
		send(
			analytics.Page{
				MessageId: j.id("page-anon"), Timestamp: at("page-anon"), AnonymousId: j.AnonID, Name: "Home",
				Properties: analytics.NewProperties().SetURL("https://shop.example/").SetTitle("Bottega Shop"),
			},
			analytics.Track{
				MessageId: j.id("track-viewed"), Timestamp: at("track-viewed"), AnonymousId: j.AnonID, Event: "Product Viewed",
				Properties: analytics.NewProperties().Set("product_id", "p-1").SetSKU("SKU-1").SetPrice(19.95),
			},
		)
		// The anonymous visitor has a profile of their own before the alias.
		srv.WaitProcessed(t)
		var anon profileView
		srv.MustGetJSON(t, "/api/v1/profiles/lookup?type=anonymous_id&value="+url.QueryEscape(j.AnonID), &anon)

		// Phase 2: sign-up and purchase.
		send(
			analytics.Identify{
				MessageId: j.id("identify"), Timestamp: at("identify"), UserId: j.UserID,
				Traits: analytics.NewTraits().SetEmail(j.Email).SetPhone(j.Phone).SetName("Maria Rossi").SetFirstName("Maria").SetLastName("Rossi"),
			},
			analytics.Track{
				MessageId: j.id("track-order"), Timestamp: at("track-order"), UserId: j.UserID, Event: "Order Completed",
				Properties: analytics.Properties{
					"order_id": j.OrderID, "total": 59.90, "currency": "EUR",
					"products": []map[string]any{
						{"product_id": "p-1", "sku": "SKU-1", "name": "Espresso cups", "price": 19.95, "quantity": 2},
						{"product_id": "p-2", "sku": "SKU-2", "name": "Moka pot", "price": 20, "quantity": 1},
					},
				},
			},
			analytics.Page{
				MessageId: j.id("page"), Timestamp: at("page"), UserId: j.UserID, Name: "Checkout",
				Properties: analytics.NewProperties().SetURL("https://shop.example/checkout"),
			},
			analytics.Screen{MessageId: j.id("screen"), UserId: j.UserID, Name: "Cart", Properties: analytics.Properties{"items": 2}},
			analytics.Group{
				MessageId: j.id("group"), Timestamp: at("group"), UserId: j.UserID, GroupId: j.GroupID,
				Traits: analytics.NewTraits().SetName("ACME Srl").Set("industry", "retail"),
			},
		)
		// Phase 3: alias the anonymous id to the user.
		send(analytics.Alias{MessageId: j.id("alias"), Timestamp: at("alias"), PreviousId: j.AnonID, UserId: j.UserID})

		checkJourney(t, srv, j, sent, anon.ID)
	})
}

// callbacks records what analytics-go reports.
type callbacks struct {
	mu     sync.Mutex
	ok     []analytics.Message
	failed []string
}

func (c *callbacks) Success(m analytics.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok = append(c.ok, m)
}

func (c *callbacks) Failure(m analytics.Message, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = append(c.failed, fmt.Sprintf("%T: %v", m, err))
}

// testLogger sends the library's log to the test log.
type testLogger struct{ t testing.TB }

func (l testLogger) Logf(format string, args ...any) { l.t.Logf("analytics-go: "+format, args...) }
func (l testLogger) Errorf(format string, args ...any) {
	l.t.Logf("analytics-go error: "+format, args...)
}

// profileView is a profile as the API returns it.
type profileView struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Email  string         `json:"email"`
	Phone  string         `json:"phone"`
	Traits map[string]any `json:"traits"`
	Idents []struct {
		Type     string `json:"type"`
		Value    string `json:"value"`
		Original string `json:"original"`
		Profile  string `json:"profile"`
	} `json:"identities"`
	Stats struct {
		Orders  int64 `json:"orders"`
		Revenue struct {
			Minor    int64  `json:"amount_minor"`
			Currency string `json:"currency"`
		} `json:"revenue"`
		FirstOrderAt *time.Time `json:"first_order_at"`
		LastOrderAt  *time.Time `json:"last_order_at"`
	} `json:"stats"`
	Merged []string `json:"merged_profiles"`
}

// hasIdentity reports whether the profile holds identifier typ=value.
func (p profileView) hasIdentity(typ, value string) bool {
	for _, id := range p.Idents {
		if id.Type == typ && id.Value == value {
			return true
		}
	}
	return false
}

// timelineEvent is one entry of GET /api/v1/profiles/{id}/timeline.
type timelineEvent struct {
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	Event     string          `json:"event"`
	Timestamp time.Time       `json:"timestamp"`
	Channel   string          `json:"channel"`
	MessageID string          `json:"message_id"`
	Profile   string          `json:"profile"`
	Payload   json.RawMessage `json:"payload"`
}

// timeline returns a profile's whole timeline; ok is false (and the test
// failed) if the API would not give it.
func timeline(t testing.TB, srv *Server, id string) (_ []timelineEvent, ok bool) {
	t.Helper()
	var out []timelineEvent
	next := ""
	for {
		var page struct {
			Events []timelineEvent `json:"events"`
			Next   string          `json:"next"`
		}
		path := "/api/v1/profiles/" + url.PathEscape(id) + "/timeline?limit=500"
		if next != "" {
			path += "&before=" + url.QueryEscape(next)
		}
		if r := srv.GetJSON(t, path, &page); r.Err != nil || r.Status != 200 {
			t.Errorf("GET %s: %s; want 200", path, r)
			return out, false
		}
		out = append(out, page.Events...)
		if page.Next == "" {
			return out, true
		}
		next = page.Next
	}
}

// storedEvent is an events row, read directly.
type storedEvent struct {
	Seq        int64
	Type       string
	TS         int64 // ms
	ReceivedAt int64
	SentAt     *int64
	Original   string
	Payload    string
}

func readEvent(t testing.TB, db *sqldb.DB, messageID string) (storedEvent, bool) {
	t.Helper()
	var e storedEvent
	err := db.QueryRow(context.Background(), `SELECT seq, type, ts, received_at, sent_at, original_ts, payload FROM events WHERE message_id = ?`, messageID).
		Scan(&e.Seq, &e.Type, &e.TS, &e.ReceivedAt, &e.SentAt, &e.Original, &e.Payload)
	if err != nil {
		t.Errorf("reading event %s back: %v", messageID, err)
		return e, false
	}
	return e, true
}

// checkJourney checks what the server made of a journey: every call stored
// once with the timestamp the library meant, processed into one profile
// found by e-mail, holding the order and its statistics, with the anonymous
// profile (anonID) merged in by the alias.
func checkJourney(t *testing.T, srv *Server, j journey, sent map[string]sentCall, anonProfile string) {
	t.Helper()
	st := srv.WaitProcessed(t)
	n := int64(len(sent))
	if st.Stored != n || st.Duplicates != 0 || st.Quarantined != 0 || st.Failed != 0 || st.Received != n {
		t.Errorf("stats = %+v; want %d events received and stored, none duplicate, quarantined or failed", st, n)
	}

	// Every call is in the log exactly once, as the type it was sent as,
	// with its time corrected for clock skew: ts = receivedAt − (sentAt − timestamp).
	db := openDB(t, srv.DSN)
	ids := storedIDs(t, db, j.Source)
	if len(ids) != len(sent) {
		t.Errorf("the log holds %d message ids for %s; want %d: %v", len(ids), j.Source, len(sent), ids)
	}
	stored := map[string]storedEvent{}
	for id, call := range sent {
		if ids[id] != 1 {
			t.Errorf("message %s is stored %d times; want 1", id, ids[id])
			continue
		}
		e, ok := readEvent(t, db, id)
		if !ok {
			continue
		}
		stored[id] = e
		if e.Type != call.Type {
			t.Errorf("message %s is stored as %q; want %q", id, e.Type, call.Type)
		}
		var payload struct {
			Context struct {
				Library struct {
					Name string `json:"name"`
				} `json:"library"`
			} `json:"context"`
		}
		if err := json.Unmarshal([]byte(e.Payload), &payload); err != nil || payload.Context.Library.Name != j.Library {
			t.Errorf("message %s: payload context.library.name = %q (%v); want %q: %s", id, payload.Context.Library.Name, err, j.Library, e.Payload)
		}
		orig, err := time.Parse(time.RFC3339Nano, e.Original)
		if err != nil {
			t.Errorf("message %s: original timestamp %q is not the RFC 3339 time the library sent: %v", id, e.Original, err)
			continue
		}
		if !call.Timestamp.IsZero() && !orig.Equal(call.Timestamp) {
			t.Errorf("message %s: original timestamp %s; the library sent %s", id, orig, call.Timestamp)
		}
		if e.SentAt == nil {
			t.Errorf("message %s: sentAt was not kept (the library sends it on every batch)", id)
			continue
		}
		// Columns are whole milliseconds, so allow their rounding.
		want := e.ReceivedAt - (*e.SentAt - orig.UnixMilli())
		if d := e.TS - want; d < -2 || d > 2 {
			t.Errorf("message %s: ts %d; want receivedAt − (sentAt − timestamp) = %d − (%d − %d) = %d",
				id, e.TS, e.ReceivedAt, *e.SentAt, orig.UnixMilli(), want)
		}
		// Client and server share a clock here, so the correction is only
		// the time in transit: the event keeps the time the library gave it.
		if e.TS < orig.UnixMilli()-2 {
			t.Errorf("message %s: ts %s is before the timestamp the library sent, %s", id, time.UnixMilli(e.TS).UTC(), orig)
		}
	}

	// The customer, found by e-mail (as sent, in any case).
	var p profileView
	srv.MustGetJSON(t, "/api/v1/profiles/lookup?type=email&value="+url.QueryEscape(j.Email), &p)
	var byKey profileView
	srv.MustGetJSON(t, "/api/v1/profiles/lookup?type=email&value="+url.QueryEscape(j.EmailKey), &byKey)
	if byKey.ID != p.ID {
		t.Errorf("lookup by the normalised e-mail found %s; by the e-mail as sent %s", byKey.ID, p.ID)
	}
	for _, id := range []struct{ typ, value string }{
		{"user_id", j.UserID}, {"email", j.EmailKey}, {"phone", j.PhoneE164}, {"anonymous_id", j.AnonID},
	} {
		if !p.hasIdentity(id.typ, id.value) {
			t.Errorf("profile %s lacks identity %s=%s: %+v", p.ID, id.typ, id.value, p.Idents)
		}
		var q profileView
		srv.MustGetJSON(t, "/api/v1/profiles/lookup?type="+id.typ+"&value="+url.QueryEscape(id.value), &q)
		if q.ID != p.ID {
			t.Errorf("lookup %s=%s found profile %s; want %s (the e-mail's)", id.typ, id.value, q.ID, p.ID)
		}
	}
	if p.Name != "Maria Rossi" || p.Traits["email"] != j.Email || p.Traits["phone"] != j.Phone || p.Traits["firstName"] != "Maria" {
		t.Errorf("profile name %q, traits %v; want Maria Rossi with the e-mail and phone as sent", p.Name, p.Traits)
	}
	if _, ok := p.Traits["industry"]; ok {
		t.Errorf("the group's traits leaked into the person's: %v", p.Traits)
	}

	// The order and the customer's statistics.
	order := stored[j.id("track-order")]
	if p.Stats.Orders != 1 || p.Stats.Revenue.Minor != 5990 || p.Stats.Revenue.Currency != "EUR" {
		t.Errorf("stats = %+v; want 1 order, revenue 5990 EUR minor units", p.Stats)
	}
	if p.Stats.FirstOrderAt == nil || p.Stats.FirstOrderAt.UnixMilli() != order.TS {
		t.Errorf("first order at %v; want the order event's time %s", p.Stats.FirstOrderAt, time.UnixMilli(order.TS).UTC())
	}
	var orders struct {
		Orders []struct {
			OrderID string `json:"order_id"`
			Channel string `json:"channel"`
			Status  string `json:"status"`
			Value   struct {
				Minor    int64  `json:"amount_minor"`
				Currency string `json:"currency"`
			} `json:"value"`
			PlacedAt time.Time `json:"placed_at"`
			Items    []struct {
				ProductID string `json:"product_id"`
				SKU       string `json:"sku"`
				Name      string `json:"name"`
				Price     int64  `json:"price_minor"`
				Quantity  int64  `json:"quantity"`
			} `json:"items"`
		} `json:"orders"`
	}
	if r := srv.GetJSON(t, "/api/v1/profiles/"+p.ID+"/orders", &orders); r.Err != nil || r.Status != 200 {
		t.Errorf("GET /api/v1/profiles/%s/orders: %s; want 200", p.ID, r)
	} else if len(orders.Orders) != 1 {
		t.Errorf("orders = %+v; want exactly %s", orders.Orders, j.OrderID)
	} else {
		o := orders.Orders[0]
		if o.OrderID != j.OrderID || o.Channel != "web" || o.Status != "completed" || o.Value.Minor != 5990 || o.Value.Currency != "EUR" || o.PlacedAt.UnixMilli() != order.TS {
			t.Errorf("order = %+v; want %s, web, completed, 5990 EUR, placed at %s", o, j.OrderID, time.UnixMilli(order.TS).UTC())
		}
		if len(o.Items) != 2 || o.Items[0].SKU != "SKU-1" || o.Items[0].Price != 1995 || o.Items[0].Quantity != 2 ||
			o.Items[1].SKU != "SKU-2" || o.Items[1].Price != 2000 || o.Items[1].Quantity != 1 {
			t.Errorf("order items = %+v; want SKU-1 2×1995 and SKU-2 1×2000", o.Items)
		}
	}

	// The alias merged the anonymous visitor's profile into the customer.
	members := append([]string{p.ID}, p.Merged...)
	if !slices.Contains(members, anonProfile) || len(members) < 2 {
		t.Errorf("profile %s with members %v; want the anonymous visitor's profile %s merged in", p.ID, members, anonProfile)
	}
	var viaAnon profileView
	srv.MustGetJSON(t, "/api/v1/profiles/"+url.PathEscape(anonProfile), &viaAnon)
	if viaAnon.ID != p.ID {
		t.Errorf("GET /api/v1/profiles/%s (the anonymous profile) returned %s; want the surviving %s", anonProfile, viaAnon.ID, p.ID)
	}
	var merges struct {
		Merges []struct {
			Survivor string     `json:"survivor_id"`
			Merged   string     `json:"merged_id"`
			EventSeq int64      `json:"event_seq"`
			UndoneAt *time.Time `json:"undone_at"`
		} `json:"merges"`
	}
	srv.MustGetJSON(t, "/api/v1/profiles/"+p.ID+"/merges", &merges)
	aliasSeq := stored[j.id("alias")].Seq
	merged := false
	for _, m := range merges.Merges {
		if m.EventSeq == aliasSeq && m.UndoneAt == nil && (m.Merged == anonProfile || m.Survivor == anonProfile) {
			merged = true
		}
	}
	if !merged {
		t.Errorf("merges = %+v; want one caused by the alias (seq %d) involving the anonymous profile %s", merges.Merges, aliasSeq, anonProfile)
	}

	// The timeline holds every call once, at its stored time, newest first,
	// including the anonymous browsing from before the alias.
	tl, ok := timeline(t, srv, p.ID)
	if !ok {
		return
	}
	seen := map[string]int{}
	for i, e := range tl {
		seen[e.MessageID]++
		if s, ok := stored[e.MessageID]; ok && e.Timestamp.UnixMilli() != s.TS {
			t.Errorf("timeline %s at %s; the log says %s", e.MessageID, e.Timestamp, time.UnixMilli(s.TS).UTC())
		}
		if e.Channel != "web" {
			t.Errorf("timeline %s channel %q; want web (the source's)", e.MessageID, e.Channel)
		}
		if i > 0 && e.Timestamp.After(tl[i-1].Timestamp) {
			t.Errorf("timeline is not newest first at %s", e.MessageID)
		}
	}
	for id := range sent {
		if seen[id] != 1 {
			t.Errorf("the timeline holds %s %d times; want 1 (timeline: %d events)", id, seen[id], len(tl))
		}
	}
	if len(tl) != len(sent) {
		t.Errorf("the timeline has %d events; want %d", len(tl), len(sent))
	}
}
