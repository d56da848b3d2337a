package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/term"
)

// UserCmd groups the staff user commands. The command line acts as the
// machine's operator: it may do anything but leave no enabled owner.
type UserCmd struct {
	Create   UserCreateCmd   `cmd:"" help:"Add a staff member. The password is the first line of standard input; on a terminal, or with nothing on standard input, one is generated and printed once."`
	List     UserListCmd     `cmd:"" help:"List staff members."`
	Disable  UserDisableCmd  `cmd:"" help:"Stop a staff member signing in; ends their sessions and their API keys stop working."`
	Enable   UserEnableCmd   `cmd:"" help:"Let a disabled staff member sign in again."`
	Role     UserRoleCmd     `cmd:"" help:"Change a staff member's role."`
	Password UserPasswordCmd `cmd:"" help:"Set a staff member's password (read or generated as for create); ends their sessions."`
}

// readPassword returns the first line of stdin, or, when stdin is a
// terminal or empty, a generated password (generated reports which).
func readPassword(stdin io.Reader) (pw string, generated bool, err error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return auth.GeneratePassword(), true, nil
	}
	if stdin == nil {
		return auth.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" && err == io.EOF {
		return auth.GeneratePassword(), true, nil
	}
	return line, false, nil
}

// withStore opens the database and runs fn with an auth store on it.
func withStore(env *Env, d config.Database, fn func(*auth.Store) error) error {
	db, err := openDB(env.Ctx, d)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(auth.NewStore(db, time.Now))
}

// UserCreateCmd adds a staff member.
type UserCreateCmd struct {
	config.Database
	Email string `arg:"" help:"E-mail address, used to sign in."`
	Role  string `help:"Role: owner, admin, marketer, analyst or care." required:""`
	Name  string `help:"Full name shown in the dashboard."`
}

func (c *UserCreateCmd) Run(env *Env) error {
	role, err := auth.ParseRole(c.Role)
	if err != nil {
		return err
	}
	pw, generated, err := readPassword(env.Stdin)
	if err != nil {
		return err
	}
	return withStore(env, c.Database, func(s *auth.Store) error {
		u, err := s.CreateUser(env.Ctx, c.Email, c.Name, role, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Created %s %s (id %s).\n", u.Role, u.Email, u.ID)
		if generated {
			fmt.Fprintf(env.Stdout, "Their password, shown only now:\n%s\n", pw)
		}
		return nil
	})
}

// UserListCmd lists staff members.
type UserListCmd struct {
	config.Database
}

func (c *UserListCmd) Run(env *Env) error {
	return withStore(env, c.Database, func(s *auth.Store) error {
		list, err := s.ListUsers(env.Ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tLAST SIGN-IN\tCREATED")
		for _, u := range list {
			status, last := "enabled", "never"
			if u.Disabled() {
				status = "disabled " + u.DisabledAt.Format(time.DateOnly)
			}
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status, last, u.CreatedAt.Format(time.DateOnly))
		}
		return tw.Flush()
	})
}

// UserDisableCmd disables a staff member.
type UserDisableCmd struct {
	config.Database
	Email string `arg:"" help:"The staff member's e-mail."`
}

func (c *UserDisableCmd) Run(env *Env) error { return setUserDisabled(env, c.Database, c.Email, true) }

// UserEnableCmd enables a staff member.
type UserEnableCmd struct {
	config.Database
	Email string `arg:"" help:"The staff member's e-mail."`
}

func (c *UserEnableCmd) Run(env *Env) error { return setUserDisabled(env, c.Database, c.Email, false) }

func setUserDisabled(env *Env, d config.Database, email string, disabled bool) error {
	return withStore(env, d, func(s *auth.Store) error {
		u, err := s.UserByEmail(env.Ctx, email)
		if err != nil {
			return err
		}
		if err := s.SetUserDisabled(env.Ctx, auth.Operator(), u.ID, disabled); err != nil {
			return err
		}
		if disabled {
			fmt.Fprintf(env.Stdout, "%s is disabled: their sessions are ended and their API keys refused (by running servers within a few seconds).\n", u.Email)
		} else {
			fmt.Fprintf(env.Stdout, "%s is enabled and may sign in again.\n", u.Email)
		}
		return nil
	})
}

// UserRoleCmd changes a staff member's role.
type UserRoleCmd struct {
	config.Database
	Email string `arg:"" help:"The staff member's e-mail."`
	Role  string `arg:"" help:"New role: owner, admin, marketer, analyst or care."`
}

func (c *UserRoleCmd) Run(env *Env) error {
	role, err := auth.ParseRole(c.Role)
	if err != nil {
		return err
	}
	return withStore(env, c.Database, func(s *auth.Store) error {
		u, err := s.UserByEmail(env.Ctx, c.Email)
		if err != nil {
			return err
		}
		if err := s.SetUserRole(env.Ctx, auth.Operator(), u.ID, role); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s is now %s.\n", u.Email, role)
		return nil
	})
}

// UserPasswordCmd sets a staff member's password.
type UserPasswordCmd struct {
	config.Database
	Email string `arg:"" help:"The staff member's e-mail."`
}

func (c *UserPasswordCmd) Run(env *Env) error {
	pw, generated, err := readPassword(env.Stdin)
	if err != nil {
		return err
	}
	return withStore(env, c.Database, func(s *auth.Store) error {
		u, err := s.UserByEmail(env.Ctx, c.Email)
		if err != nil {
			return err
		}
		if err := s.SetPassword(env.Ctx, u.ID, pw); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Set the password of %s; their sessions are ended.\n", u.Email)
		if generated {
			fmt.Fprintf(env.Stdout, "The new password, shown only now:\n%s\n", pw)
		}
		return nil
	})
}

// apiKeyOwner returns the id of the staff member with the given e-mail, or
// "" for none.
func apiKeyOwner(env *Env, s *auth.Store, email string) (string, error) {
	if email == "" {
		return "", nil
	}
	u, err := s.UserByEmail(env.Ctx, email)
	if fault.Is(err, fault.NotFound) {
		return "", fault.New(fault.NotFound, "no staff member with e-mail %q: see bottega user list", email)
	}
	return u.ID, err
}
