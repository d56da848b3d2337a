package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

func TestSignInAndOut(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		c := f.anonymous()

		// Without a session every page leads to the sign-in page, and back.
		r := f.get(c, "/customers?segment=Champions")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+url.QueryEscape("/customers?segment=Champions") {
			t.Fatalf("anonymous /customers: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if r := f.get(c, "/login"); r.StatusCode != 200 || !strings.Contains(r.Body, `name="password"`) {
			t.Fatalf("login page: %d", r.StatusCode)
		}

		// Unknown user and wrong password get the same answer.
		unknown := f.post(c, "/login", url.Values{"email": {"nobody@staff.test"}, "password": {"whatever-it-is"}})
		wrong := f.post(c, "/login", url.Values{"email": {"owner@staff.test"}, "password": {"whatever-it-is"}})
		if unknown.StatusCode != 401 || wrong.StatusCode != 401 || messageOf(unknown.Body) != messageOf(wrong.Body) {
			t.Fatalf("unknown user %d %q, wrong password %d %q", unknown.StatusCode, messageOf(unknown.Body), wrong.StatusCode, messageOf(wrong.Body))
		}

		// Signing in lands on the page asked for; only an on-site one.
		ok := f.post(c, "/login", url.Values{"email": {"OWNER@staff.test "}, "password": {fixturePassword}, "next": {"//evil.example/x"}})
		if ok.StatusCode != http.StatusSeeOther || ok.Header.Get("Location") != "/" {
			t.Fatalf("login: %d %q", ok.StatusCode, ok.Header.Get("Location"))
		}
		if r := f.get(c, "/account"); r.StatusCode != 200 {
			t.Fatalf("account after login: %d", r.StatusCode)
		}

		// Signing out ends the session on the server: the old cookie is dead.
		u, _ := url.Parse(f.srv.URL)
		old := c.Jar.Cookies(u)
		if r := f.post(c, "/logout", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.StatusCode)
		}
		replay := f.anonymous()
		replay.Jar.SetCookies(u, old)
		if r := f.get(replay, "/account"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("old session after logout: %d", r.StatusCode)
		}
	})
}

// messageOf returns the sign-in page's error message.
func messageOf(body string) string {
	_, after, ok := strings.Cut(body, `data-testid="login-error">`)
	if !ok {
		return ""
	}
	msg, _, _ := strings.Cut(after, "<")
	return msg
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		c := f.client(auth.Owner)
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if r := f.do(c, req); r.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site logout: %d", r.StatusCode)
		}
		if r := f.get(c, "/account"); r.StatusCode != 200 {
			t.Fatalf("session after refused cross-site post: %d", r.StatusCode)
		}
	})
}

func TestNavigationFollowsRole(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		for role, want := range map[auth.Role][]string{
			auth.Owner:   {`href="/"`, `href="/customers"`, `href="/sources"`, `href="/settings"`},
			auth.Analyst: {`href="/"`, `href="/customers"`, `href="/sources"`},
			auth.Care:    {`href="/customers"`},
		} {
			r := f.get(f.client(role), "/account")
			nav, _, _ := strings.Cut(r.Body, "</nav>")
			for _, w := range want {
				if !strings.Contains(nav, w) {
					t.Errorf("%s: nav lacks %s", role, w)
				}
			}
			if role != auth.Owner && strings.Contains(nav, `href="/settings"`) {
				t.Errorf("%s sees settings in the nav", role)
			}
		}
		if r := f.get(f.client(auth.Analyst), "/settings"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("analyst /settings: %d", r.StatusCode)
		}
		if r := f.get(f.client(auth.Care), "/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/customers" {
			t.Fatalf("care agent's home: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
	})
}

func TestLanguageIsRemembered(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, 0)
		c := f.client(auth.Owner)
		if r := f.get(c, "/account"); !strings.Contains(r.Body, `<html lang="en">`) {
			t.Fatal("default language is not English")
		}
		if r := f.post(c, "/locale", url.Values{"lang": {"it"}, "back": {"/account"}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("switch: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		// A new session (another browser, no cookie) keeps the choice.
		r := f.get(f.client(auth.Owner), "/account")
		if !strings.Contains(r.Body, `<html lang="it">`) || !strings.Contains(r.Body, "Esci") {
			t.Fatal("the Italian choice was not remembered on the user")
		}
		if r := f.post(c, "/locale", url.Values{"lang": {"xx"}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("unknown language: %d", r.StatusCode)
		}
	})
}

func TestLocaleFormats(t *testing.T) {
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	en, it := cat.locale("en", "EUR", nil), cat.locale("it", "EUR", nil)
	for _, c := range []struct{ got, want string }{
		{en.Money(123456), "€1,234.56"},
		{it.Money(123456), "1.234,56\u00a0€"},
		{it.Money(-5), "−0,05\u00a0€"},
		{en.Int(1234567), "1,234,567"},
		{it.Int(1234567), "1.234.567"},
		{en.Pct(0.125), "12.5%"},
		{it.Pct(0.125), "12,5\u00a0%"},
		{it.T("nav.customers"), "Clienti"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
