package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Env is what every command runs with.
type Env struct {
	Ctx            context.Context
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// CLI is bottega's command-line grammar.
type CLI struct {
	Version kong.VersionFlag `help:"Print the version and exit."`

	Serve  ServeCmd  `cmd:"" help:"Run the server: ingestion API, JSON API, processing."`
	Demo   DemoCmd   `cmd:"" help:"Load a realistic demo shop into an empty database, then serve it."`
	Source SourceCmd `cmd:"" help:"Manage event sources and their write keys."`
	Apikey APIKeyCmd `cmd:"" name:"apikey" help:"Manage API keys for the JSON API."`
	User   UserCmd   `cmd:"" help:"Manage staff users of the dashboard."`
	Import ImportCmd `cmd:"" help:"Import order or customer history from CSV."`
	Report ReportCmd `cmd:"" help:"Print the KPI overview of a period on the terminal."`
}

// openDB opens and migrates the database.
func openDB(ctx context.Context, d config.Database) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, d.DB, sqldb.Options{BusyTimeout: d.BusyTimeout})
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// SourceCmd groups the source commands.
type SourceCmd struct {
	Create  SourceCreateCmd  `cmd:"" help:"Create a source; prints its write key as the last line."`
	List    SourceListCmd    `cmd:"" help:"List sources."`
	Rotate  SourceRotateCmd  `cmd:"" help:"Issue a new write key; prints it as the last line."`
	Disable SourceDisableCmd `cmd:"" help:"Refuse the source's events (401) until enabled."`
	Enable  SourceEnableCmd  `cmd:"" help:"Accept the source's events again."`
	Limit   SourceLimitCmd   `cmd:"" help:"Set the source's rate limit in events per second (0: unlimited)."`
}

// SourceCreateCmd creates a source.
type SourceCreateCmd struct {
	config.Database
	Name    string `arg:"" help:"Source name: letters, digits, '-', '_' and '.'."`
	Channel string `help:"What the source is." enum:"web,app,pos,email,ads,care,import" required:""`
	Rate    int    `help:"Rate limit in events per second (0: unlimited)." default:"0"`
}

func (c *SourceCreateCmd) Run(env *Env) error {
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	src, key, err := auth.NewStore(db, time.Now).CreateSource(env.Ctx, c.Name, c.Channel, c.Rate)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Created source %q (channel %s, id %s). Its write key, shown only now:\n%s\n", src.Name, src.Channel, src.ID, key)
	return nil
}

// SourceListCmd lists sources.
type SourceListCmd struct {
	config.Database
}

func (c *SourceListCmd) Run(env *Env) error {
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := auth.NewStore(db, time.Now).ListSources(env.Ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCHANNEL\tKEY\tRATE\tSTATUS\tCREATED")
	for _, s := range list {
		status, rate := "enabled", "unlimited"
		if s.Disabled() {
			status = "disabled"
		}
		if s.RateLimit > 0 {
			rate = fmt.Sprintf("%d/s", s.RateLimit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Channel, s.KeyPrefix, rate, status, s.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

// SourceRotateCmd rotates a source's write key.
type SourceRotateCmd struct {
	config.Database
	Name  string        `arg:"" help:"Source name."`
	Grace time.Duration `help:"How long the old keys keep working (e.g. 24h)." default:"0s"`
}

func (c *SourceRotateCmd) Run(env *Env) error {
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := auth.NewStore(db, time.Now).RotateSourceKey(env.Ctx, c.Name, c.Grace)
	if err != nil {
		return err
	}
	when := "now"
	if c.Grace > 0 {
		when = "in " + c.Grace.String()
	}
	fmt.Fprintf(env.Stdout, "Rotated the write key of %q; older keys stop working %s (servers notice within a few seconds). The new key:\n%s\n", c.Name, when, key)
	return nil
}

// SourceDisableCmd disables a source.
type SourceDisableCmd struct {
	config.Database
	Name string `arg:"" help:"Source name."`
}

func (c *SourceDisableCmd) Run(env *Env) error {
	return setDisabled(env, c.Database, c.Name, true)
}

// SourceEnableCmd enables a source.
type SourceEnableCmd struct {
	config.Database
	Name string `arg:"" help:"Source name."`
}

func (c *SourceEnableCmd) Run(env *Env) error {
	return setDisabled(env, c.Database, c.Name, false)
}

func setDisabled(env *Env, d config.Database, name string, disabled bool) error {
	db, err := openDB(env.Ctx, d)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := auth.NewStore(db, time.Now).SetSourceDisabled(env.Ctx, name, disabled); err != nil {
		return err
	}
	state := "enabled"
	if disabled {
		state = "disabled: its events are refused with 401"
	}
	fmt.Fprintf(env.Stdout, "Source %q is %s.\n", name, state)
	return nil
}

// SourceLimitCmd sets a source's rate limit.
type SourceLimitCmd struct {
	config.Database
	Name string `arg:"" help:"Source name."`
	Rate int    `arg:"" help:"Events per second; 0 for unlimited."`
}

func (c *SourceLimitCmd) Run(env *Env) error {
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := auth.NewStore(db, time.Now).SetSourceRateLimit(env.Ctx, c.Name, c.Rate); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Source %q is limited to %d events per second (0: unlimited).\n", c.Name, c.Rate)
	return nil
}

// APIKeyCmd groups the API key commands.
type APIKeyCmd struct {
	Create APIKeyCreateCmd `cmd:"" help:"Create an API key; prints it as the last line."`
	List   APIKeyListCmd   `cmd:"" help:"List API keys."`
	Revoke APIKeyRevokeCmd `cmd:"" help:"Revoke an API key."`
}

// APIKeyCreateCmd creates an API key.
type APIKeyCreateCmd struct {
	config.Database
	Name   string `arg:"" help:"A name saying who or what uses the key."`
	Scopes string `help:"Comma-separated permissions the key may use (default: all; for --user, all their role grants): pipeline:read, customers:read, customers:pii, customers:write, analytics:read, analytics:write, sources:read, sources:write, settings:read, settings:write."`
	User   string `help:"E-mail of the staff member the key belongs to and acts as (default: none, a service key)." placeholder:"EMAIL"`
}

func (c *APIKeyCreateCmd) Run(env *Env) error {
	scopes, err := auth.ParsePermissions(c.Scopes)
	if err != nil {
		return err
	}
	return withStore(env, c.Database, func(s *auth.Store) error {
		owner, err := apiKeyOwner(env, s, c.User)
		if err != nil {
			return err
		}
		k, key, err := s.CreateAPIKey(env.Ctx, c.Name, owner, scopes)
		if err != nil {
			return err
		}
		whose := "a service key"
		if c.User != "" {
			whose = "acting as " + strings.ToLower(strings.TrimSpace(c.User))
		}
		fmt.Fprintf(env.Stdout, "Created API key %q (id %s), %s, with scopes %s.\nSend it as Authorization: Bearer <key>; it is shown only now:\n%s\n",
			k.Name, k.ID, whose, scopeList(k.Scopes), key)
		return nil
	})
}

// scopeList writes scopes comma-separated, or "all" when they are every
// permission.
func scopeList(scopes []auth.Permission) string {
	if len(scopes) == len(auth.Permissions) {
		return "all"
	}
	if len(scopes) == 0 {
		return "none"
	}
	s := make([]string, len(scopes))
	for i, p := range scopes {
		s[i] = string(p)
	}
	return strings.Join(s, ",")
}

// APIKeyListCmd lists API keys.
type APIKeyListCmd struct {
	config.Database
}

func (c *APIKeyListCmd) Run(env *Env) error {
	return withStore(env, c.Database, func(s *auth.Store) error {
		list, err := s.ListAPIKeys(env.Ctx, "")
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME	KEY	ID	OWNER	SCOPES	CREATED	STATUS")
		for _, k := range list {
			status, owner := "active", k.UserEmail
			if k.RevokedAt != nil {
				status = "revoked " + k.RevokedAt.Format(time.DateOnly)
			}
			if k.Service() {
				owner = "(service)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Name, k.Prefix, k.ID, owner, scopeList(k.Scopes), k.CreatedAt.Format(time.DateOnly), status)
		}
		return tw.Flush()
	})
}

// APIKeyRevokeCmd revokes an API key.
type APIKeyRevokeCmd struct {
	config.Database
	Key string `arg:"" help:"Name or id of the key."`
}

func (c *APIKeyRevokeCmd) Run(env *Env) error {
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := auth.NewStore(db, time.Now).RevokeAPIKey(env.Ctx, c.Key); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Revoked API key %q.\n", c.Key)
	return nil
}
