// Command bottega-bench measures bottega the way docs/benchmarks.md reports
// it: every figure is a ratio against a baseline measured in the same run,
// printed together with the absolute numbers, on SQLite and PostgreSQL.
//
// The real bottega binary is built into a temporary directory and run as a
// subprocess on a fresh database (a SQLite file in the temporary directory,
// or a PostgreSQL database dropped and created for the run); its source and
// API key are created through its own command line. HTTP baselines run as
// separate processes too (this binary re-executed with the hidden
// baseline-server subcommand), so target and baseline are served the same
// way and the load generator, which runs in this process with a keep-alive
// net/http client, costs both the same. Database baselines (the raw driver
// loop, the raw SQL query) run in this process on the same database.
//
// One command per figure:
//
//	bottega-bench ingest  --mode batch|track  /v1/batch of 100 events, or single /v1/track calls
//	bottega-bench process                     processing throughput
//	bottega-bench lag                         event-to-profile lag under a constant 5,000 events/s
//	bottega-bench lookup                      profile lookup by e-mail among 1,000,000 profiles
//	bottega-bench kpi                         one-year KPI overview among 1,000,000 customers, 10,000,000 orders
//	bottega-bench predict                     prediction refit (BG/NBD + Gamma-Gamma) for 1,000,000 customers
//	bottega-bench pages                       dashboard pages' render time (p95) on a shop of 1,000,000 customers
//	bottega-bench markdown FILE.json…         the results table of docs/benchmarks.md
//
// Each prints a table and, with --json FILE, writes its results as JSON.
// Speed is never asserted by tests: these numbers are for people to read.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "bottega-bench:", err)
		os.Exit(1)
	}
}

// exitCode ends the program with a status and no further message (the
// usage or the flag error has been printed already).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

const usage = `bottega-bench measures bottega against baselines run in the same way, in the same run.

Usage:
  bottega-bench ingest  --mode batch|track [--engine sqlite|postgres|both] [--duration 20s] [--json FILE]
  bottega-bench process [--engine …] [--events 200000] [--json FILE]
  bottega-bench lag     [--engine …] [--rate 5000] [--duration 30s] [--json FILE]
  bottega-bench lookup  [--engine …] [--profiles 1000000] [--duration 20s] [--json FILE]
  bottega-bench kpi     [--engine …] [--customers 1000000] [--orders 10000000] [--runs 50] [--json FILE]
  bottega-bench predict [--engine …] [--customers 1000000] [--json FILE]
  bottega-bench pages   [--engine …] [--customers 1000000] [--runs 40] [--json FILE]
  bottega-bench markdown FILE.json…

Run it from the bottega checkout (it builds ./cmd/bottega) or pass --bottega PATH.
"bottega-bench COMMAND -h" lists a command's flags.
`

// run parses args and runs the command they name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitCode(2)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "ingest":
		return runIngest(ctx, rest, stdout, stderr)
	case "process":
		return runProcess(ctx, rest, stdout, stderr)
	case "lag":
		return runLag(ctx, rest, stdout, stderr)
	case "lookup":
		return runLookup(ctx, rest, stdout, stderr)
	case "kpi":
		return runKPI(ctx, rest, stdout, stderr)
	case "predict":
		return runPredict(ctx, rest, stdout, stderr)
	case "pages":
		return runPages(ctx, rest, stdout, stderr)
	case "markdown":
		return runMarkdown(rest, stdout, stderr)
	case "baseline-server":
		return runBaselineServer(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return exitCode(2)
}
