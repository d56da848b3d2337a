package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// signsIn reports whether email and password open a session.
func (f *fixture) signsIn(email, password string) bool {
	f.t.Helper()
	return f.post(f.anonymous(), "/login", url.Values{"email": {email}, "password": {password}}).StatusCode == http.StatusSeeOther
}

func TestSettingsManageStaff(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, 0)
		owner := f.client(auth.Owner)

		r := f.get(owner, "/settings")
		if r.StatusCode != 200 || strings.Count(r.Body, `data-testid="user-row"`) != len(auth.Roles) || !strings.Contains(r.Body, `data-testid="roles-table"`) {
			t.Fatalf("settings: %d", r.StatusCode)
		}

		// A typed password: back to the page; the new user signs in.
		r = f.post(owner, "/settings/users", url.Values{"email": {" Nina@Staff.test "}, "name": {"Nina"}, "role": {"marketer"},
			"password_mode": {"type"}, "password": {"typed password 1"}})
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/settings?done=user_created") {
			t.Fatalf("create user: %d %q", r.StatusCode, r.Header.Get("Location"))
		}
		if !f.signsIn("nina@staff.test", "typed password 1") {
			t.Fatal("the new user cannot sign in")
		}
		// A generated password: shown once on the answer.
		r = f.post(owner, "/settings/users", url.Values{"email": {"otto@staff.test"}, "role": {"care"}, "password_mode": {"generate"}})
		pw := shown(r.Body, "new-password")
		if r.StatusCode != 200 || len(pw) < auth.MinPasswordChars || !f.signsIn("otto@staff.test", pw) {
			t.Fatalf("generated password: %d %q", r.StatusCode, pw)
		}
		if r := f.get(owner, "/settings"); strings.Contains(r.Body, pw) {
			t.Fatal("the generated password is shown again")
		}
		// Refusals, in the staff member's language, keeping what was typed.
		r = f.post(owner, "/settings/users", url.Values{"email": {"nina@staff.test"}, "name": {"Nina 2"}, "role": {"analyst"}, "password_mode": {"generate"}})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "already exists") || !strings.Contains(r.Body, `value="Nina 2"`) {
			t.Fatalf("e-mail taken: %d", r.StatusCode)
		}
		r = f.post(owner, "/settings/users", url.Values{"email": {"short@staff.test"}, "role": {"analyst"}, "password_mode": {"type"}, "password": {"short"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "at least 10 characters") {
			t.Fatalf("short password: %d", r.StatusCode)
		}

		// Role changes and disabling.
		nina, err := f.auth.UserByEmail(ctx, "nina@staff.test")
		if err != nil {
			t.Fatal(err)
		}
		if r := f.post(owner, "/settings/users/"+nina.ID+"/role", url.Values{"role": {"analyst"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("role: %d", r.StatusCode)
		}
		if u, _ := f.auth.UserByID(ctx, nina.ID); u.Role != auth.Analyst {
			t.Fatalf("role after change: %s", u.Role)
		}
		_, token, err := f.auth.CreateAPIKey(ctx, "nina-key", nina.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := f.post(owner, "/settings/users/"+nina.ID+"/disable", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", r.StatusCode)
		}
		if f.signsIn("nina@staff.test", "typed password 1") {
			t.Fatal("a disabled user signs in")
		}
		if _, err := f.auth.APIKeyByToken(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("key of a disabled user: %v", err)
		}
		if r := f.post(owner, "/settings/users/"+nina.ID+"/enable", nil); r.StatusCode != http.StatusSeeOther || !f.signsIn("nina@staff.test", "typed password 1") {
			t.Fatalf("enable: %d", r.StatusCode)
		}

		// Nobody disables themselves.
		me := f.users[auth.Owner]
		r = f.post(owner, "/settings/users/"+me.ID+"/disable", nil)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "You cannot disable yourself.") {
			t.Fatalf("disable self: %d", r.StatusCode)
		}
	})
}

func TestSettingsRefusalsAreLocalized(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, 0)
		admin := f.client(auth.Admin)
		owner := f.users[auth.Owner]

		r := f.post(admin, "/settings/users/"+owner.ID+"/disable", nil)
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, `data-testid="flash-error"`) ||
			!strings.Contains(r.Body, "Only an owner can manage owners") || !strings.Contains(r.Body, `data-testid="users-table"`) {
			t.Fatalf("admin disables owner: %d", r.StatusCode)
		}
		// With htmx: the shell's flash, in Italian for an Italian admin.
		if r := f.post(admin, "/locale", url.Values{"lang": {"it"}, "back": {"/settings"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatal(r.StatusCode)
		}
		r = f.htmxPost(admin, "/settings/users/"+owner.ID+"/disable", nil)
		if r.Header.Get("HX-Retarget") != "#flash" || !strings.Contains(r.Body, "Solo un proprietario può gestire") {
			t.Fatalf("admin disables owner with htmx: %d %q %s", r.StatusCode, r.Header.Get("HX-Retarget"), r.Body)
		}
		if u, _ := f.auth.UserByID(ctx, owner.ID); u.Disabled() {
			t.Fatal("the admin disabled the owner")
		}
		// Admins are offered no owner role, and cannot give it.
		r = f.get(admin, "/settings")
		if strings.Contains(r.Body, `<option value="owner"`) {
			t.Error("an admin is offered the owner role")
		}
		marketer := f.users[auth.Marketer]
		if r := f.post(admin, "/settings/users/"+marketer.ID+"/role", url.Values{"role": {"owner"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("admin makes an owner: %d", r.StatusCode)
		}
		// The last owner stays owner.
		r = f.post(f.client(auth.Owner), "/settings/users/"+owner.ID+"/role", url.Values{"role": {"admin"}})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "last active owner") {
			t.Fatalf("last owner demoted: %d", r.StatusCode)
		}

		analyst := f.client(auth.Analyst)
		if r := f.get(analyst, "/settings"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("analyst /settings: %d", r.StatusCode)
		}
		if r := f.post(analyst, "/settings/users", url.Values{"email": {"x@staff.test"}, "role": {"owner"}, "password_mode": {"generate"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("analyst creates a user: %d", r.StatusCode)
		}
		if _, err := f.auth.UserByEmail(ctx, "x@staff.test"); !fault.Is(err, fault.NotFound) {
			t.Fatal("the analyst created a user")
		}
	})
}

func TestSettingsRevokeAnyKey(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, 0)
		k, token, err := f.auth.CreateAPIKey(ctx, "nightly-export", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		admin := f.client(auth.Admin)
		r := f.get(admin, "/settings")
		if !strings.Contains(r.Body, `data-testid="apikey-row" data-key="`+k.ID+`"`) || !strings.Contains(r.Body, "Service key") {
			t.Fatal("the service key is not listed")
		}
		if r := f.post(admin, "/settings/keys/"+k.ID+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.StatusCode)
		}
		if _, err := f.auth.APIKeyByToken(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("revoked key: %v", err)
		}
		if r := f.post(admin, "/settings/keys/"+k.ID+"/revoke", nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("revoked twice: %d", r.StatusCode)
		}
	})
}

func TestSettingsIdentityRules(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, 0)
		owner := f.client(auth.Owner)
		r := f.get(owner, "/settings")
		if n := strings.Count(r.Body, `data-testid="rule-row"`); n != len(identity.DefaultRules("IT").Types)+1 {
			t.Fatalf("%d rule rows", n)
		}
		// The form as the page shows it, with e-mails limited to 2 a person,
		// a new type and a blocked value.
		form := rulesFormOf(r.Body)
		for i, typ := range form["type"] {
			if typ == "email" {
				form["limit"][i] = "2"
			}
		}
		n := len(form["type"]) - 1 // the empty row
		form["type"][n], form["priority"][n], form["limit"][n], form["window"][n] = "shop_account", "3", "1", "720h"
		form.Set("blocked_values", form.Get("blocked_values")+"\r\nnoreply@shop.test\r\n")
		if r := f.post(owner, "/settings/rules", form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.StatusCode, shown(r.Body, "flash-error"))
		}
		rules, err := identity.LoadRules(ctx, db, "IT")
		if err != nil {
			t.Fatal(err)
		}
		if rules.Rule("email").Limit != 2 || rules.Rule("shop_account").Priority != 3 || rules.Rule("shop_account").Window != identity.Duration(720*3600e9) ||
			!slices.Contains(rules.BlockedValues, "noreply@shop.test") || rules.Rule("anonymous_id").Window != identity.Duration(168*3600e9) {
			t.Fatalf("saved rules: %+v", rules)
		}
		if r := f.get(owner, "/settings"); !strings.Contains(r.Body, `value="shop_account"`) || !strings.Contains(r.Body, `value="168h"`) {
			t.Fatal("the page does not show the saved rules")
		}

		// Invalid rules are refused as the API refuses them, and nothing changes.
		bad := rulesFormOf(f.get(owner, "/settings").Body)
		for i, typ := range bad["type"] {
			if typ == "anonymous_id" {
				bad["type"][i] = ""
			}
		}
		r = f.post(owner, "/settings/rules", bad)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "The rules were not saved") || !strings.Contains(r.Body, "anonymous_id") {
			t.Fatalf("invalid rules: %d", r.StatusCode)
		}
		bad = rulesFormOf(f.get(owner, "/settings").Body)
		bad.Set("blocked_patterns", "([")
		if r := f.post(owner, "/settings/rules", bad); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("invalid pattern: %d", r.StatusCode)
		}
		if again, _ := identity.LoadRules(ctx, db, "IT"); again.Rule("shop_account").Priority != 3 || len(again.BlockedPatterns) != 1 {
			t.Fatal("refused rules changed the saved ones")
		}
		if r := f.post(f.client(auth.Analyst), "/settings/rules", form); r.StatusCode != http.StatusForbidden {
			t.Fatalf("analyst saves rules: %d", r.StatusCode)
		}
	})
}

// rulesFormOf reads the identity rules form of the settings page.
func rulesFormOf(body string) url.Values {
	_, form, _ := strings.Cut(body, `data-testid="rules-form"`)
	form, _, _ = strings.Cut(form, "</form>")
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input name="([a-z_]+)"[^>]*?value="([^"]*)"`).FindAllStringSubmatch(form, -1) {
		v.Add(m[1], unescape(m[2]))
	}
	for _, m := range regexp.MustCompile(`<input id="[a-z-]+" name="([a-z_]+)"[^>]*?value="([^"]*)"`).FindAllStringSubmatch(form, -1) {
		v.Add(m[1], unescape(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<textarea[^>]*name="([a-z_]+)"[^>]*>(.*?)</textarea>`).FindAllStringSubmatch(form, -1) {
		v.Add(m[1], unescape(m[2]))
	}
	return v
}

func unescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

func TestAccountKeysAndPassword(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, 0)
		c := f.client(auth.Analyst)

		// The scopes offered are the role's, no more.
		r := f.get(c, "/account")
		var offered []auth.Permission
		for _, m := range regexp.MustCompile(`name="scope" value="([a-z:]+)"`).FindAllStringSubmatch(r.Body, -1) {
			offered = append(offered, auth.Permission(m[1]))
		}
		if !slices.Equal(offered, auth.Analyst.Permissions()) {
			t.Fatalf("offered %v, the role has %v", offered, auth.Analyst.Permissions())
		}
		if !strings.Contains(r.Body, "analyst@staff.test") || !strings.Contains(r.Body, `action="/locale"`) {
			t.Fatal("the account page lacks the e-mail or the language form")
		}
		if r := f.post(c, "/account/keys", url.Values{"name": {"too-strong"}, "scope": {"analytics:read", "customers:pii"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("a scope beyond the role: %d", r.StatusCode)
		}
		if r := f.post(c, "/account/keys", url.Values{"name": {"none"}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("no scope: %d", r.StatusCode)
		}

		// Created: shown once; it acts as its owner, within its scopes.
		r = f.post(c, "/account/keys", url.Values{"name": {"weekly-report"}, "scope": {"analytics:read"}})
		token := shown(r.Body, "new-apikey")
		if r.StatusCode != 200 || !strings.HasPrefix(token, "bak_") {
			t.Fatalf("create key: %d %q", r.StatusCode, token)
		}
		p, err := f.auth.APIKeyByToken(ctx, token)
		if err != nil || p.UserID != f.users[auth.Analyst].ID || !p.Can(auth.AnalyticsRead) || p.Can(auth.PipelineRead) {
			t.Fatalf("the key acts as %+v (%v)", p, err)
		}
		r = f.get(c, "/account")
		if strings.Contains(r.Body, token) || strings.Count(r.Body, `data-testid="apikey-row"`) != 1 {
			t.Fatal("the key is shown again, or not listed")
		}
		id := regexp.MustCompile(`data-testid="apikey-row" data-key="([^"]+)"`).FindStringSubmatch(r.Body)[1]

		// Nobody else revokes it from their account page.
		if r := f.post(f.client(auth.Owner), "/account/keys/"+id+"/revoke", nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("someone else's key from /account: %d", r.StatusCode)
		}
		if r := f.post(c, "/account/keys/"+id+"/revoke", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", r.StatusCode)
		}
		if _, err := f.auth.APIKeyByToken(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("revoked key: %v", err)
		}

		// Password: the current one is checked, the new one twice; other
		// sessions end, this one stays.
		other := f.client(auth.Analyst)
		if r := f.post(c, "/account/password", url.Values{"current": {"wrong password"}, "new": {"a new password"}, "confirm": {"a new password"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, "The current password is wrong.") {
			t.Fatalf("wrong current: %d", r.StatusCode)
		}
		if r := f.post(c, "/account/password", url.Values{"current": {fixturePassword}, "new": {"a new password"}, "confirm": {"another one"}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("mismatch: %d", r.StatusCode)
		}
		if r := f.post(c, "/account/password", url.Values{"current": {fixturePassword}, "new": {"a new password"}, "confirm": {"a new password"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("change: %d", r.StatusCode)
		}
		if r := f.get(c, "/account"); r.StatusCode != 200 {
			t.Fatalf("this session after the change: %d", r.StatusCode)
		}
		if r := f.get(other, "/account"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("another session after the change: %d", r.StatusCode)
		}
		if f.signsIn("analyst@staff.test", fixturePassword) || !f.signsIn("analyst@staff.test", "a new password") {
			t.Fatal("the password did not change")
		}
	})
}
