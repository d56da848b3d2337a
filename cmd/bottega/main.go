// Command bottega is a self-hosted CRM for shops that sell online and in
// stores: one binary that collects every touchpoint of a customer, knows each
// person behind their many accounts, and serves it all over HTTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/fault"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "bottega:", fault.MessageOrText(err))
		os.Exit(1)
	}
}

// exitCode ends the program with a status and no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// run parses args and runs the command they name. getenv supplies BOTTEGA_*
// settings; nothing else is read from the process environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cli CLI
	exit := -1
	parser, err := kong.New(&cli,
		kong.Name("bottega"),
		kong.Description("The self-hosted CRM for shops that sell online and in stores.\n\nEvery flag can also be set in the environment as BOTTEGA_<FLAG>, e.g. BOTTEGA_DB or BOTTEGA_ADDR."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		kong.UsageOnError(),
		kong.Resolvers(kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
			if v := getenv(config.EnvName(flag.Name)); v != "" {
				return v, nil
			}
			return nil, nil
		})),
		kong.Vars{"version": version},
	)
	if err != nil {
		return err
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 { // --help or --version
		if exit == 0 {
			return nil
		}
		return exitCode(exit)
	}
	if err != nil {
		parser.Errorf("%s", err)
		return exitCode(2)
	}
	env := &Env{Ctx: ctx, Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv}
	return kctx.Run(env)
}
