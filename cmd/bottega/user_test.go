package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

var shownPassword = regexp.MustCompile(`shown only now:\n(\S+)\n$`)

// The user and apikey commands end to end, on both engines: passwords from
// standard input or generated and shown once, the role rules the operator
// is held to, and keys with owners and scopes.
func TestUserAndAPIKeyCommands(t *testing.T) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			dsn := sqldbtest.DSN(t, d)
			cmd := func(stdin string, args ...string) (string, error) {
				t.Helper()
				out, _, err := importRun(t, stdin, append(args, "--db", dsn)...)
				return out, err
			}
			must := func(stdin string, args ...string) string {
				t.Helper()
				out, err := cmd(stdin, args...)
				if err != nil {
					t.Fatalf("bottega %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return out
			}
			ctx := context.Background()
			db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			store := auth.NewStore(db, time.Now)
			login := func(email, pw string) error {
				_, _, err := store.Login(ctx, email, pw, auth.LoginMeta{})
				return err
			}

			// Nothing on standard input: a password is generated and shown once.
			out := must("", "user", "create", "Owner@Shop.it", "--role", "owner", "--name", "Olga Owner")
			m := shownPassword.FindStringSubmatch(out)
			if !strings.HasPrefix(out, "Created owner owner@shop.it (id ") || m == nil {
				t.Fatalf("create output:\n%s", out)
			}
			if err := login("owner@shop.it", m[1]); err != nil {
				t.Fatalf("the generated password does not sign in: %v", err)
			}
			// A password on standard input is used and not shown.
			out = must("a long enough password\nsecond line\n", "user", "create", "analyst@shop.it", "--role", "analyst")
			if strings.Contains(out, "password") || strings.Contains(out, "second line") {
				t.Errorf("create with a given password printed:\n%s", out)
			}
			if err := login("analyst@shop.it", "a long enough password"); err != nil {
				t.Fatalf("the given password does not sign in: %v", err)
			}
			for _, bad := range []struct {
				stdin string
				args  []string
				code  fault.Code
			}{
				{"", []string{"user", "create", "owner@shop.it", "--role", "admin"}, fault.Conflict},
				{"", []string{"user", "create", "x@shop.it", "--role", "boss"}, fault.Invalid},
				{"short\n", []string{"user", "create", "x@shop.it", "--role", "care"}, fault.Invalid},
				{"", []string{"user", "disable", "owner@shop.it"}, fault.Conflict}, // the last owner
				{"", []string{"user", "role", "owner@shop.it", "admin"}, fault.Conflict},
				{"", []string{"user", "role", "nobody@shop.it", "admin"}, fault.NotFound},
				{"", []string{"apikey", "create", "wide", "--user", "analyst@shop.it", "--scopes", "settings:write"}, fault.Forbidden},
				{"", []string{"apikey", "create", "ghost", "--user", "nobody@shop.it"}, fault.NotFound},
				{"", []string{"apikey", "create", "odd", "--scopes", "root"}, fault.Invalid},
			} {
				if _, err := cmd(bad.stdin, bad.args...); !fault.Is(err, bad.code) {
					t.Errorf("bottega %s: %v, want %s", strings.Join(bad.args, " "), err, bad.code)
				}
			}

			if out := must("", "user", "role", "analyst@shop.it", "marketer"); out != "analyst@shop.it is now marketer.\n" {
				t.Errorf("role: %q", out)
			}
			must("", "user", "disable", "analyst@shop.it")
			if err := login("analyst@shop.it", "a long enough password"); !fault.Is(err, fault.Unauthorized) {
				t.Errorf("a disabled member signed in: %v", err)
			}
			out = must("", "user", "list")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "EMAIL") ||
				!regexp.MustCompile(`^analyst@shop\.it\s+marketer\s+disabled \d{4}-\d\d-\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d`).MatchString(lines[1]) ||
				!regexp.MustCompile(`^owner@shop\.it\s+Olga Owner\s+owner\s+enabled\s+\d{4}-\d\d-\d\d \d\d:\d\d`).MatchString(lines[2]) {
				t.Errorf("list:\n%s", out)
			}
			must("", "user", "enable", "analyst@shop.it")
			out = must("", "user", "password", "analyst@shop.it")
			m = shownPassword.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("password output:\n%s", out)
			}
			if err := login("analyst@shop.it", m[1]); err != nil {
				t.Errorf("the new password: %v", err)
			}
			if err := login("analyst@shop.it", "a long enough password"); !fault.Is(err, fault.Unauthorized) {
				t.Errorf("the old password still signs in: %v", err)
			}

			// API keys: service keys with scopes, personal keys within the role.
			out = must("", "apikey", "create", "bi", "--scopes", "analytics:read,pipeline:read")
			if !strings.Contains(out, "a service key, with scopes analytics:read,pipeline:read") {
				t.Errorf("service key output:\n%s", out)
			}
			svc := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n"):])
			if p, err := store.APIKeyByToken(ctx, svc); err != nil || !p.Can(auth.AnalyticsRead) || p.Can(auth.CustomersRead) {
				t.Errorf("service key: %v %v", p.Permissions(), err)
			}
			out = must("", "apikey", "create", "mine", "--user", "ANALYST@shop.it")
			if !strings.Contains(out, "acting as analyst@shop.it, with scopes pipeline:read,customers:read,customers:pii,analytics:read") {
				t.Errorf("personal key output:\n%s", out)
			}
			must("", "apikey", "create", "all")
			out = must("", "apikey", "list")
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^all\s+bak_\S+\s+\S+\s+\(service\)\s+all\s`),
				regexp.MustCompile(`(?m)^mine\s+bak_\S+\s+\S+\s+analyst@shop\.it\s+pipeline:read,customers:read,customers:pii,analytics:read,analytics:write,sources:read,sources:write\s`),
				regexp.MustCompile(`(?m)^bi\s+bak_\S+\s+\S+\s+\(service\)\s+analytics:read,pipeline:read\s+\S+\s+active$`),
			} {
				if !want.MatchString(out) {
					t.Errorf("apikey list lacks %s:\n%s", want, out)
				}
			}
		})
	}
}
