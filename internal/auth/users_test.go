package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

const pw = "correct horse battery"

// clock is a settable time for the store.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func mustUser(t *testing.T, s *auth.Store, email string, role auth.Role) auth.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), email, "", role, pw)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// as returns the principal of a signed-in user.
func as(u auth.User) auth.Principal { return auth.NewPrincipal(u, "", nil) }

func TestUsersAndRoleRules(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := auth.NewStore(db, newClock().now)
		owner, err := s.CreateUser(ctx, "  Anna.Owner@Shop.IT ", " Anna ", auth.Owner, pw)
		if err != nil || owner.Email != "anna.owner@shop.it" || owner.Name != "Anna" || owner.Role != auth.Owner || owner.ID == "" {
			t.Fatalf("create: %+v %v", owner, err)
		}
		for _, bad := range []struct {
			email, pw string
			role      auth.Role
			code      fault.Code
		}{
			{"ANNA.owner@shop.it", pw, auth.Admin, fault.Conflict},
			{"no-at-sign", pw, auth.Admin, fault.Invalid},
			{"a b@shop.it", pw, auth.Admin, fault.Invalid},
			{strings.Repeat("x", 250) + "@shop.it", pw, auth.Admin, fault.Invalid},
			{"new@shop.it", "short", auth.Admin, fault.Invalid},
			{"new@shop.it", strings.Repeat("é", 129), auth.Admin, fault.Invalid}, // 258 bytes
			{"new@shop.it", pw, "boss", fault.Invalid},
		} {
			if _, err := s.CreateUser(ctx, bad.email, "", bad.role, bad.pw); !fault.Is(err, bad.code) {
				t.Errorf("create %q/%q/%s: %v, want %s", bad.email, bad.pw, bad.role, err, bad.code)
			}
		}
		// Only the argon2id hash is stored, with its parameters.
		var hash string
		if err := db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", owner.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, pw) {
			t.Fatalf("stored hash %q", hash)
		}

		admin, err := s.CreateUserAs(ctx, as(owner), "admin@shop.it", "", auth.Admin, pw)
		if err != nil {
			t.Fatal(err)
		}
		analyst := mustUser(t, s, "analyst@shop.it", auth.Analyst)
		if _, err := s.CreateUserAs(ctx, as(admin), "o2@shop.it", "", auth.Owner, pw); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an admin created an owner: %v", err)
		}
		if _, err := s.CreateUserAs(ctx, as(analyst), "m@shop.it", "", auth.Marketer, pw); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an analyst created a user: %v", err)
		}
		marketer, err := s.CreateUserAs(ctx, as(admin), "marketer@shop.it", "", auth.Marketer, pw)
		if err != nil {
			t.Fatal(err)
		}

		// Roles: only owners touch owners; the last enabled owner stays.
		if err := s.SetUserRole(ctx, as(admin), owner.ID, auth.Analyst); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an admin demoted an owner: %v", err)
		}
		if err := s.SetUserRole(ctx, as(admin), marketer.ID, auth.Owner); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an admin made an owner: %v", err)
		}
		if err := s.SetUserRole(ctx, as(analyst), marketer.ID, auth.Care); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an analyst changed a role: %v", err)
		}
		if err := s.SetUserRole(ctx, as(owner), owner.ID, auth.Admin); !fault.Is(err, fault.Conflict) || !strings.Contains(fault.MessageOf(err), "last enabled owner") {
			t.Errorf("the last owner demoted themselves: %v", err)
		}
		if err := s.SetUserDisabled(ctx, auth.Operator(), owner.ID, true); !fault.Is(err, fault.Conflict) {
			t.Errorf("the last owner was disabled: %v", err)
		}
		if err := s.SetUserRole(ctx, as(admin), marketer.ID, auth.Care); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUserRole(ctx, as(owner), admin.ID, auth.Owner); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUserRole(ctx, as(owner), owner.ID, auth.Admin); err != nil {
			t.Fatalf("with another owner, stepping down is fine: %v", err)
		}
		if err := s.SetUserDisabled(ctx, as(admin), admin.ID, true); !fault.Is(err, fault.Forbidden) {
			t.Errorf("disabled themselves: %v", err)
		}
		if err := s.SetUserRole(ctx, as(owner), "nobody", auth.Care); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown user: %v", err)
		}
		// owner is an admin now: they may not disable the owner.
		owner, _ = s.UserByID(ctx, owner.ID)
		if err := s.SetUserDisabled(ctx, as(owner), admin.ID, true); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an admin disabled an owner: %v", err)
		}
		if err := s.SetUserDisabled(ctx, as(owner), analyst.ID, true); err != nil {
			t.Fatal(err)
		}

		list, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range list {
			state := "on"
			if u.Disabled() {
				state = "off"
			}
			got = append(got, u.Email+":"+string(u.Role)+":"+state)
		}
		want := []string{"admin@shop.it:owner:on", "analyst@shop.it:analyst:off", "anna.owner@shop.it:admin:on", "marketer@shop.it:care:on"}
		if !slices.Equal(got, want) {
			t.Errorf("users %v\nwant %v", got, want)
		}
		if u, err := s.UserByEmail(ctx, " MARKETER@shop.it"); err != nil || u.ID != marketer.ID {
			t.Errorf("by e-mail: %+v %v", u, err)
		}
		if _, err := s.UserByEmail(ctx, "x@shop.it"); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown e-mail: %v", err)
		}

		if err := s.SetLocale(ctx, marketer.ID, "fr"); !fault.Is(err, fault.Invalid) {
			t.Errorf("locale fr: %v", err)
		}
		if err := s.SetLocale(ctx, marketer.ID, "it"); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.UserByID(ctx, marketer.ID); u.Locale != "it" {
			t.Errorf("locale %q", u.Locale)
		}
	})
}

func TestSessions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		c := newClock()
		s := auth.NewStore(db, c.now)
		care := mustUser(t, s, "care@shop.it", auth.Care)
		mustUser(t, s, "boss@shop.it", auth.Owner)
		off := mustUser(t, s, "off@shop.it", auth.Analyst)
		if err := s.SetUserDisabled(ctx, auth.Operator(), off.ID, true); err != nil {
			t.Fatal(err)
		}
		meta := auth.LoginMeta{IP: "192.0.2.1", UserAgent: "test"}

		// Every failure says the same.
		for _, bad := range [][2]string{{"care@shop.it", "wrong password!"}, {"nobody@shop.it", pw}, {"off@shop.it", pw}, {"care@shop.it", strings.Repeat("x", 300)}} {
			_, _, err := s.Login(ctx, bad[0], bad[1], meta)
			if !fault.Is(err, fault.Unauthorized) || fault.MessageOf(err) != "wrong e-mail or password" {
				t.Errorf("login %s: %v", bad[0], err)
			}
		}
		u, token, err := s.Login(ctx, " CARE@shop.it", pw, meta)
		if err != nil || u.ID != care.ID || !strings.HasPrefix(token, "bss_") || len(token) != 36 || u.LastLoginAt == nil || !u.LastLoginAt.Equal(c.t) {
			t.Fatalf("login: %+v %q %v", u, token, err)
		}
		if _, token2, _ := s.Login(ctx, "care@shop.it", pw, meta); token2 == token {
			t.Fatal("two logins gave the same token")
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM sessions WHERE hash = ? OR ip = ? OR user_agent = ?", token, token, token).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the token is stored in clear (%d, %v)", n, err)
		}
		if stored, _ := s.UserByID(ctx, care.ID); stored.LastLoginAt == nil {
			t.Error("last_login_at not stored")
		}

		p, sess, err := s.SessionPrincipal(ctx, token)
		if err != nil || p.UserID != care.ID || p.Role != auth.Care || !p.Can(auth.CustomersPII) || p.Can(auth.AnalyticsRead) || p.KeyID != "" ||
			sess.IP != "192.0.2.1" || sess.UserAgent != "test" || !sess.ExpiresAt.Equal(c.t.Add(time.Hour)) {
			t.Fatalf("session: %+v %+v %v", p, sess, err)
		}
		lastSeen := func() time.Time {
			var v int64
			if err := db.QueryRow(ctx, "SELECT last_seen_at FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC LIMIT 1", care.ID).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return time.UnixMilli(v).UTC()
		}
		// Used within a minute: not written; later: written.
		start := c.t
		c.advance(30 * time.Second)
		if _, _, err := s.SessionPrincipal(ctx, token); err != nil || !lastSeen().Equal(start) {
			t.Fatalf("touched within a minute: %v %v", lastSeen(), err)
		}
		c.advance(40 * time.Second)
		if _, sess, err := s.SessionPrincipal(ctx, token); err != nil || !lastSeen().Equal(c.t) || !sess.LastSeenAt.Equal(c.t) {
			t.Fatalf("not touched after 70 s: %v %v", lastSeen(), err)
		}
		// Idle for exactly the timeout: still valid; a moment more: ended and deleted.
		c.advance(time.Hour)
		if _, _, err := s.SessionPrincipal(ctx, token); err != nil {
			t.Fatalf("at the idle limit: %v", err)
		}
		c.advance(time.Hour + time.Millisecond)
		if _, _, err := s.SessionPrincipal(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("idle: %v", err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM sessions WHERE hash = ?", sessionHash(token)).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the idle session was kept: %d %v", n, err)
		}

		// Absolute lifetime: used every 50 minutes, it still ends after 12 hours.
		_, token, _ = s.Login(ctx, "care@shop.it", pw, meta)
		began := c.t
		for c.t.Sub(began) <= 12*time.Hour-50*time.Minute {
			c.advance(50 * time.Minute)
			if _, _, err := s.SessionPrincipal(ctx, token); err != nil {
				t.Fatalf("after %v: %v", c.t.Sub(began), err)
			}
		}
		c.advance(50 * time.Minute)
		if _, _, err := s.SessionPrincipal(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("after %v: %v", c.t.Sub(began), err)
		}

		// Shorter timeouts can be set.
		s.SetSessionTimeouts(10*time.Minute, time.Hour)
		_, token, _ = s.Login(ctx, "care@shop.it", pw, meta)
		c.advance(11 * time.Minute)
		if _, _, err := s.SessionPrincipal(ctx, token); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("custom idle timeout: %v", err)
		}
		s.SetSessionTimeouts(time.Hour, 12*time.Hour)

		// Logout, EndSessions, disabling and password changes end sessions.
		if n, err := s.PurgeSessions(ctx); err != nil || n != 1 { // the second login's, never used
			t.Fatalf("purge: %d %v", n, err)
		}
		_, a, _ := s.Login(ctx, "care@shop.it", pw, meta)
		_, b, _ := s.Login(ctx, "care@shop.it", pw, meta)
		if err := s.Logout(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionPrincipal(ctx, a); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("after logout: %v", err)
		}
		if _, _, err := s.SessionPrincipal(ctx, b); err != nil {
			t.Fatalf("the other session: %v", err)
		}
		if n, err := s.EndSessions(ctx, care.ID); err != nil || n != 1 {
			t.Fatalf("end sessions: %d %v", n, err)
		}
		if _, _, err := s.SessionPrincipal(ctx, b); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("after EndSessions: %v", err)
		}
		_, a, _ = s.Login(ctx, "care@shop.it", pw, meta)
		if err := s.SetUserDisabled(ctx, auth.Operator(), care.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionPrincipal(ctx, a); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("disabled user's session: %v", err)
		}
		if err := s.SetUserDisabled(ctx, auth.Operator(), care.ID, false); err != nil {
			t.Fatal(err)
		}
		_, a, _ = s.Login(ctx, "care@shop.it", pw, meta)
		_, b, _ = s.Login(ctx, "care@shop.it", pw, meta)
		const pw2 = "another long password"
		if err := s.ChangePassword(ctx, a, "not the password", pw2); !fault.Is(err, fault.Invalid) {
			t.Fatalf("change with a wrong current password: %v", err)
		}
		if err := s.ChangePassword(ctx, a, pw, pw2); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionPrincipal(ctx, a); err != nil {
			t.Fatalf("ChangePassword ended the current session: %v", err)
		}
		if _, _, err := s.SessionPrincipal(ctx, b); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("ChangePassword kept another session: %v", err)
		}
		if _, _, err := s.Login(ctx, "care@shop.it", pw, meta); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("the old password still works: %v", err)
		}
		if err := s.SetPassword(ctx, care.ID, pw); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionPrincipal(ctx, a); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("SetPassword kept a session: %v", err)
		}
		if err := s.SetPassword(ctx, care.ID, "short"); !fault.Is(err, fault.Invalid) {
			t.Fatalf("short password: %v", err)
		}

		// Purge: only expired sessions go.
		if _, err := db.Exec(ctx, "DELETE FROM sessions"); err != nil {
			t.Fatal(err)
		}
		_, old, _ := s.Login(ctx, "care@shop.it", pw, meta)
		c.advance(90 * time.Minute)
		_, fresh, _ := s.Login(ctx, "care@shop.it", pw, meta)
		if n, err := s.PurgeSessions(ctx); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if _, _, err := s.SessionPrincipal(ctx, fresh); err != nil {
			t.Fatalf("purge ended a live session: %v", err)
		}
		if _, _, err := s.SessionPrincipal(ctx, old); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("purged session: %v", err)
		}
		for _, forged := range []string{"", "bss_forged", "bak_x"} {
			if _, _, err := s.SessionPrincipal(ctx, forged); !fault.Is(err, fault.Unauthorized) {
				t.Errorf("token %q: %v", forged, err)
			}
		}
	})
}

func TestAPIKeyScopes(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := auth.NewStore(db, newClock().now)
		owner := mustUser(t, s, "owner@shop.it", auth.Owner)
		marketer := mustUser(t, s, "marketer@shop.it", auth.Marketer)
		analyst := mustUser(t, s, "analyst@shop.it", auth.Analyst)

		// A personal key: its owner's role by default, narrower on request.
		full, fullTok, err := s.CreateAPIKey(ctx, "mine", marketer.ID, nil)
		if err != nil || full.UserID != marketer.ID || !slices.Equal(full.Scopes, auth.Marketer.Permissions()) {
			t.Fatalf("personal key: %+v %v", full, err)
		}
		p, err := s.APIKeyByToken(ctx, fullTok)
		if err != nil || p.UserID != marketer.ID || p.Email != "marketer@shop.it" || p.KeyID != full.ID || !p.Can(auth.CustomersPII) || p.Can(auth.SettingsRead) {
			t.Fatalf("personal principal: %+v %v", p, err)
		}
		_, narrowTok, err := s.CreateAPIKey(ctx, "narrow", marketer.ID, []auth.Permission{auth.CustomersRead, auth.CustomersRead})
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := s.APIKeyByToken(ctx, narrowTok); !slices.Equal(p.Permissions(), []auth.Permission{auth.CustomersRead}) {
			t.Fatalf("narrow key: %v", p.Permissions())
		}
		if _, _, err := s.CreateAPIKey(ctx, "wide", marketer.ID, []auth.Permission{auth.SettingsWrite}); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a key beyond the role: %v", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, "odd", "", []auth.Permission{"root"}); !fault.Is(err, fault.Invalid) {
			t.Errorf("unknown scope: %v", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, "ghost", "nobody", nil); !fault.Is(err, fault.NotFound) {
			t.Errorf("unknown owner: %v", err)
		}

		// A service key may do what its scopes say, and nothing else.
		svc, svcTok, err := s.CreateAPIKey(ctx, "bi", "", []auth.Permission{auth.AnalyticsRead})
		if err != nil || !svc.Service() {
			t.Fatal(err)
		}
		if p, _ := s.APIKeyByToken(ctx, svcTok); p.UserID != "" || p.Role != "" || !p.Can(auth.AnalyticsRead) || p.Can(auth.CustomersRead) {
			t.Fatalf("service principal: %+v %v", p, p.Permissions())
		}
		_, allTok, _ := s.CreateAPIKey(ctx, "all", "", nil)
		if p, _ := s.APIKeyByToken(ctx, allTok); !slices.Equal(p.Permissions(), auth.Permissions) {
			t.Fatalf("service key without scopes: %v", p.Permissions())
		}

		// A lowered role lowers the keys at once.
		if err := s.SetUserRole(ctx, auth.Operator(), marketer.ID, auth.Analyst); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.APIKeyByToken(ctx, fullTok); p.Can(auth.CustomersPII) || !p.Can(auth.AnalyticsRead) {
			t.Fatalf("after demotion: %v", p.Permissions())
		}
		// A disabled owner's keys stop working, and work again once enabled.
		if err := s.SetUserDisabled(ctx, as(owner), marketer.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyByToken(ctx, fullTok); !fault.Is(err, fault.Unauthorized) {
			t.Fatalf("disabled owner's key: %v", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, "late", marketer.ID, nil); !fault.Is(err, fault.Conflict) {
			t.Errorf("a key for a disabled user: %v", err)
		}
		if err := s.SetUserDisabled(ctx, as(owner), marketer.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyByToken(ctx, fullTok); err != nil {
			t.Fatalf("enabled again: %v", err)
		}

		// The dashboard's rules: own keys within one's permissions; service keys with SettingsWrite.
		if _, _, err := s.CreateAPIKeyAs(ctx, as(analyst), "svc", "", nil); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an analyst made a service key: %v", err)
		}
		if _, _, err := s.CreateAPIKeyAs(ctx, as(analyst), "theirs", marketer.ID, nil); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an analyst made a key for someone else: %v", err)
		}
		if _, _, err := s.CreateAPIKeyAs(ctx, as(analyst), "pii", analyst.ID, []auth.Permission{auth.CustomersPII}); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an analyst made a PII key: %v", err)
		}
		own, ownTok, err := s.CreateAPIKeyAs(ctx, as(analyst), "own", analyst.ID, nil)
		if err != nil || !slices.Equal(own.Scopes, auth.Analyst.Permissions()) {
			t.Fatalf("own key: %+v %v", own, err)
		}
		// A key acting as actor cannot mint a wider one.
		narrowP, _ := s.APIKeyByToken(ctx, narrowTok)
		if _, _, err := s.CreateAPIKeyAs(ctx, narrowP, "wider", marketer.ID, []auth.Permission{auth.AnalyticsRead}); !fault.Is(err, fault.Forbidden) {
			t.Errorf("a narrow key minted a wider one: %v", err)
		}
		if _, _, err := s.CreateAPIKeyAs(ctx, as(owner), "ops", "", []auth.Permission{auth.PipelineRead}); err != nil {
			t.Errorf("an owner's service key: %v", err)
		}

		keys, err := s.ListAPIKeys(ctx, marketer.ID)
		if err != nil || len(keys) != 2 || keys[0].Name != "narrow" || keys[0].UserEmail != "marketer@shop.it" || keys[1].Name != "mine" {
			t.Fatalf("marketer's keys: %+v %v", keys, err)
		}
		all, _ := s.ListAPIKeys(ctx, "")
		if len(all) != 6 {
			t.Fatalf("%d keys in all", len(all))
		}

		// Revoking from the dashboard: one's own, or anyone's with SettingsWrite.
		if err := s.RevokeAPIKeyAs(ctx, as(analyst), full.ID); !fault.Is(err, fault.Forbidden) {
			t.Errorf("an analyst revoked someone else's key: %v", err)
		}
		if err := s.RevokeAPIKeyAs(ctx, as(analyst), own.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyByToken(ctx, ownTok); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("revoked own key: %v", err)
		}
		if err := s.RevokeAPIKeyAs(ctx, as(owner), full.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKeyAs(ctx, as(owner), full.ID); !fault.Is(err, fault.NotFound) {
			t.Errorf("revoked twice: %v", err)
		}
	})
}

// Keys made before scopes existed keep every permission.
func TestMigrationGivesOldKeysEveryPermission(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			ctx := context.Background()
			db, err := sqldb.Open(ctx, sqldbtest.DSN(t, d), sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ms, err := sqldb.Migrations(d)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(ms, func(m sqldb.Migration) bool { return m.Name == "staff" })
			if i < 0 {
				t.Fatal("no staff migration")
			}
			// The schema as it was before, with a key.
			err = db.InTx(ctx, func(tx *sqldb.Tx) error {
				if _, err := tx.Exec(ctx, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"); err != nil {
					return err
				}
				for _, m := range ms[:i] {
					if _, err := tx.Exec(ctx, m.SQL); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations VALUES (?, ?, 0)", m.Version, m.Name); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, "INSERT INTO api_keys (id, name, hash, prefix, created_at) VALUES ('k1', 'old', ?, 'bak_…', 0)", sessionHash("bak_old-key"))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			p, err := auth.NewStore(db, time.Now).APIKeyByToken(ctx, "bak_old-key")
			if err != nil || !slices.Equal(p.Permissions(), auth.Permissions) || p.UserID != "" {
				t.Fatalf("old key: %+v %v %v", p, p.Permissions(), err)
			}
		})
	}
}

// sessionHash is how tokens are stored: hex SHA-256.
func sessionHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
