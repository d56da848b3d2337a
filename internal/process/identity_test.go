package process_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"time"
)

func traitsOf(t *testing.T, h *harness, root string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(h.profile(root).Traits, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Browsing before login joins the known profile, and a later login on a new
// device merges the two anonymous histories.
func TestAnonymousHistoryJoinsOnLogin(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web",
			ev("type", q("page"), "anonymousId", q("anon-laptop"), "name", q("Home"), "timestamp", at(1)),
			ev("type", q("track"), "anonymousId", q("anon-laptop"), "event", q("Product Viewed"), "timestamp", at(2)))
		h.send("web", ev("type", q("identify"), "anonymousId", q("anon-laptop"), "userId", q("u-42"), "timestamp", at(3),
			"traits", `{"email":"Giulia.Bianchi@Example.it","name":"Giulia Bianchi"}`))
		root := h.root(identity.UserID, "u-42")
		if got := h.root(identity.AnonymousID, "anon-laptop"); got != root {
			t.Fatalf("anonymous id on %s, user on %s", got, root)
		}
		if n := len(h.timeline(root)); n != 3 {
			t.Fatalf("timeline has %d events, want 3", n)
		}
		// Same person on the app, anonymous, then logged in: two profiles become one.
		h.send("app", ev("type", q("screen"), "anonymousId", q("anon-phone"), "name", q("Catalogue"), "timestamp", at(10)))
		before := h.status().Profiles
		h.send("app", ev("type", q("track"), "anonymousId", q("anon-phone"), "userId", q("u-42"), "event", q("Signed In"), "timestamp", at(11)))
		if got := h.root(identity.AnonymousID, "anon-phone"); got != root {
			t.Fatalf("second device on %s, want %s", got, root)
		}
		if after := h.status().Profiles; after != before-1 {
			t.Fatalf("profiles %d → %d, want one fewer", before, after)
		}
		if n := len(h.timeline(root)); n != 5 {
			t.Fatalf("timeline has %d events, want 5", n)
		}
		if p := h.profile(root); p.Name != "Giulia Bianchi" || p.Email != "Giulia.Bianchi@Example.it" {
			t.Fatalf("profile %q %q", p.Name, p.Email)
		}
		merges, err := identity.Merges(h.ctx, db, root)
		if err != nil || len(merges) != 1 {
			t.Fatalf("merges %v, err %v", merges, err)
		}
	})
}

// A tablet shared by two family members who log in does not merge them: the
// second login keeps its own profile and the decision is logged.
func TestSharedDeviceDoesNotMergeTwoUsers(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("app",
			ev("type", q("identify"), "anonymousId", q("tablet"), "userId", q("dad"), "timestamp", at(1), "traits", `{"email":"dad@example.it"}`),
			ev("type", q("identify"), "anonymousId", q("tablet"), "userId", q("mum"), "timestamp", at(2), "traits", `{"email":"mum@example.it"}`),
			ev("type", q("track"), "anonymousId", q("tablet"), "userId", q("mum"), "event", q("Product Added"), "timestamp", at(3)))
		dad, mum := h.root(identity.UserID, "dad"), h.root(identity.UserID, "mum")
		if dad == mum {
			t.Fatal("dad and mum were merged")
		}
		if h.root(identity.Email, "mum@example.it") != mum || h.root(identity.Email, "dad@example.it") != dad {
			t.Fatal("e-mails landed on the wrong person")
		}
		if got := h.timeline(mum); len(got) != 2 {
			t.Fatalf("mum's timeline %v, want her 2 events", got)
		}
		ds, err := identity.Decisions(h.ctx, db, mum, 10)
		if err != nil || len(ds) == 0 || ds[0].Type != identity.AnonymousID {
			t.Fatalf("decisions %+v, err %v; want the tablet's anonymous id dropped", ds, err)
		}
	})
}

// A loyalty card at the till, an e-mail online and a phone on WhatsApp care
// end up as one customer once an event links them; phones match whatever
// their formatting.
func TestStoreWebAndCareJoinThroughIdentifiers(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("pos", ev("type", q("track"), "anonymousId", q("till-7"), "event", q("Order Completed"), "timestamp", at(1),
			"context", `{"externalIds":[{"id":"LC 0042 17","type":"loyalty_card","collection":"users"}]}`,
			"properties", `{"order_id":"S-1","total":30,"store_id":"milano-brera"}`))
		h.send("web", ev("type", q("identify"), "userId", q("c-9"), "timestamp", at(5), "traits", `{"email":"anna@example.it","phone":"+39 347 123 4567"}`))
		store, web := h.root(identity.LoyaltyCard, "LC004217"), h.root(identity.UserID, "c-9")
		if store == web {
			t.Fatal("merged before anything linked them")
		}
		h.send("care", ev("type", q("track"), "anonymousId", q("wa-1"), "event", q("Ticket Created"), "timestamp", at(6), "context", `{"traits":{"phone":"347 1234567"}}`))
		if got := h.root(identity.AnonymousID, "wa-1"); got != web {
			t.Fatalf("WhatsApp care landed on %s, want %s", got, web)
		}
		// At the till the cashier scans the card and types the e-mail.
		h.send("pos", ev("type", q("identify"), "anonymousId", q("till-7"), "timestamp", at(8), "traits", `{"email":" ANNA@example.it ","loyalty_card":"LC004217"}`))
		one := h.root(identity.LoyaltyCard, "lc-0042-17")
		if one != h.root(identity.UserID, "c-9") || one != h.root(identity.Phone, "3471234567") {
			t.Fatal("card, user and phone are not one customer")
		}
		if s := h.stats(one); s.Orders != 1 || s.Revenue.Minor != 3000 {
			t.Fatalf("stats %+v, want the store order", s)
		}
	})
}

// Unmerge restores both profiles with their identities, events, traits and
// orders, and the pair is not merged again by the next linking event.
func TestUnmergeRestoresBothProfiles(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web",
			ev("type", q("identify"), "userId", q("luca"), "timestamp", at(1), "traits", `{"name":"Luca","city":"Torino","email":"luca@example.it"}`),
			ev("type", q("track"), "userId", q("luca"), "event", q("Order Completed"), "timestamp", at(2), "properties", `{"order_id":"L1","total":"10.00"}`),
			ev("type", q("identify"), "anonymousId", q("kiosk"), "timestamp", at(3), "traits", `{"name":"Marta","city":"Roma","phone":"3331112222"}`),
			ev("type", q("track"), "anonymousId", q("kiosk"), "event", q("Order Completed"), "timestamp", at(4), "properties", `{"order_id":"M1","total":"25.50"}`))
		luca, marta := h.root(identity.UserID, "luca"), h.root(identity.AnonymousID, "kiosk")
		// A wrong link: Luca's e-mail typed on Marta's kiosk session.
		h.send("web", ev("type", q("identify"), "anonymousId", q("kiosk"), "timestamp", at(5), "traits", `{"email":"luca@example.it"}`))
		merged := h.root(identity.AnonymousID, "kiosk")
		if merged != h.root(identity.UserID, "luca") {
			t.Fatal("the linking event did not merge")
		}
		if s := h.stats(merged); s.Orders != 2 || s.Revenue.Minor != 3550 {
			t.Fatalf("merged stats %+v", s)
		}
		if tr := traitsOf(t, h, merged); tr["name"] != "Marta" || tr["city"] != "Roma" {
			t.Fatalf("merged traits %v: the newest values should win", tr)
		}
		ms, err := identity.Merges(h.ctx, db, merged)
		if err != nil || len(ms) != 1 {
			t.Fatalf("merges %v %v", ms, err)
		}
		split, err := process.Unmerge(h.ctx, db, ms[0].ID, "EUR", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains([]string{luca, marta}, split.Kept) || !slices.Contains([]string{luca, marta}, split.Restored) || split.Kept == split.Restored {
			t.Fatalf("split %+v, want %s and %s", split, luca, marta)
		}
		if h.root(identity.UserID, "luca") != luca || h.root(identity.AnonymousID, "kiosk") != marta {
			t.Fatal("identities did not go back")
		}
		if s := h.stats(luca); s.Orders != 1 || s.Revenue.Minor != 1000 {
			t.Fatalf("Luca's stats %+v", s)
		}
		if s := h.stats(marta); s.Orders != 1 || s.Revenue.Minor != 2550 {
			t.Fatalf("Marta's stats %+v", s)
		}
		if tr := traitsOf(t, h, luca); tr["name"] != "Luca" || tr["city"] != "Torino" {
			t.Fatalf("Luca's traits %v", tr)
		}
		// The linking event belongs to the owner of its strongest identifier
		// (the e-mail): Luca.
		if tr := traitsOf(t, h, marta); tr["name"] != "Marta" || tr["email"] != nil {
			t.Fatalf("Marta's traits %v", tr)
		}
		if n := len(h.timeline(luca)); n != 3 {
			t.Fatalf("Luca's timeline has %d events", n)
		}
		if n := len(h.timeline(marta)); n != 2 {
			t.Fatalf("Marta's timeline has %d events", n)
		}
		if _, err := process.Unmerge(h.ctx, db, ms[0].ID, "EUR", time.Now()); err == nil {
			t.Fatal("undoing twice succeeded")
		}
		// The same link again does not re-merge the split pair.
		h.send("web", ev("type", q("track"), "anonymousId", q("kiosk"), "userId", q("luca"), "event", q("Page Viewed"), "timestamp", at(6)))
		if h.root(identity.AnonymousID, "kiosk") == h.root(identity.UserID, "luca") {
			t.Fatal("the unmerged pair was merged again")
		}
	})
}

// Traits follow event time, not processing order.
func TestTraitsAppliedInEventTimeOrder(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web", ev("type", q("identify"), "userId", q("u"), "timestamp", at(10), "traits", `{"tier":"gold","city":"Milano"}`))
		h.send("web", ev("type", q("identify"), "userId", q("u"), "timestamp", at(5), "traits", `{"tier":"silver","zip":"20100"}`),
			ev("type", q("track"), "userId", q("u"), "event", q("x"), "timestamp", at(12), "context", `{"traits":{"city":"Bergamo"},"consent":{"categoryPreferences":{"Advertising":true,"Analytics":false}}}`),
			ev("type", q("track"), "userId", q("u"), "event", q("y"), "timestamp", at(11), "context", `{"consent":{"categoryPreferences":{"Advertising":false}}}`))
		root := h.root(identity.UserID, "u")
		tr := traitsOf(t, h, root)
		if tr["tier"] != "gold" || tr["zip"] != "20100" || tr["city"] != "Bergamo" {
			t.Fatalf("traits %v", tr)
		}
		c := h.profile(root).Consent
		if !c["Advertising"].Granted || c["Analytics"].Granted {
			t.Fatalf("consent %+v: the latest preference per category should win", c)
		}
	})
}

// Blocked and invalid identifiers never link anyone; an event left with no
// usable identifier is recorded as failed and does not stop the pipeline.
func TestBlockedIdentifiers(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		h.send("web",
			ev("type", q("identify"), "userId", q("null"), "anonymousId", q("a1"), "traits", `{"email":"not-an-email","phone":"000"}`),
			ev("type", q("identify"), "userId", q("null"), "anonymousId", q("a2")),
			ev("type", q("track"), "userId", q("-1"), "event", q("x")),
			ev("type", q("track"), "anonymousId", q("a3"), "event", q("after")))
		if h.root(identity.AnonymousID, "a1") == h.root(identity.AnonymousID, "a2") {
			t.Fatal(`two people merged through userId "null"`)
		}
		st := h.status()
		if st.Processed != 4 || st.Failed != 1 || st.Pending != 0 {
			t.Fatalf("status %+v, want 4 processed with 1 failed", st)
		}
		h.root(identity.AnonymousID, "a3")
	})
}

// Processing is restartable and exactly once: a new processor resumes at the
// cursor and a replayed event changes nothing.
func TestProcessingResumesAndIsIdempotent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		h := newHarness(t, db)
		order := ev("type", q("track"), "messageId", q("m-1"), "userId", q("u"), "event", q("Order Completed"), "timestamp", at(1), "properties", `{"order_id":"A","total":12.5}`)
		h.send("web", order)
		h.Proc = process.New(db, process.Options{BaseCurrency: "EUR"})
		h.send("web", order) // replay: deduplicated at ingestion
		h.send("web", ev("type", q("track"), "userId", q("u"), "event", q("Order Completed"), "timestamp", at(2), "properties", `{"order_id":"A","total":12.5}`))
		s := h.stats(h.root(identity.UserID, "u"))
		if s.Orders != 1 || s.Revenue.Minor != 1250 {
			t.Fatalf("stats %+v: the order was counted twice", s)
		}
		st := h.status()
		if st.Stored != 2 || st.Duplicates != 1 || st.Processed != 2 {
			t.Fatalf("status %+v", st)
		}
	})
}
