package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop the benchmark database
)

// options are the flags every measuring command shares.
type options struct {
	engines      []string
	engine       string
	duration     time.Duration
	warmup       time.Duration
	jsonPath     string
	bottega      string // a prebuilt bottega binary; empty: build ./cmd/bottega
	postgres     string // a URL of the PostgreSQL server, used to create the benchmark database
	pgName       string // the benchmark database, dropped and created for every run
	keep         bool
	analyze      bool          // PostgreSQL: ANALYZE after bulk loads
	analyzeEvery time.Duration // PostgreSQL: also ANALYZE this often while bottega processes
	args         []string      // the command line, for the record
}

// addOptions declares the shared flags on fs.
func addOptions(fs *flag.FlagSet, o *options, duration time.Duration) {
	pg := os.Getenv("BOTTEGA_BENCH_POSTGRES")
	if pg == "" {
		pg = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	fs.StringVar(&o.engine, "engine", "both", "database engine: sqlite, postgres or both")
	fs.DurationVar(&o.duration, "duration", duration, "how long each measurement lasts")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before each measurement, not counted")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.bottega, "bottega", "", "use this bottega binary instead of building ./cmd/bottega")
	fs.StringVar(&o.postgres, "postgres", pg, "PostgreSQL server URL (env BOTTEGA_BENCH_POSTGRES); the benchmark creates its own database there")
	fs.StringVar(&o.pgName, "pg-database", "bottega_bench", "name of the PostgreSQL database dropped and re-created for each run")
	fs.BoolVar(&o.analyze, "analyze", true, "PostgreSQL: run ANALYZE after loading data, as autovacuum would (the local server may have autovacuum off)")
	fs.DurationVar(&o.analyzeEvery, "analyze-every", 10*time.Second, "PostgreSQL: run ANALYZE this often while bottega processes, standing in for autovacuum (0: never)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (databases, server logs) and the PostgreSQL database")
}

// parseFlags parses a command's flags and checks the shared ones.
func parseFlags(fs *flag.FlagSet, o *options, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitCode(0)
		}
		return exitCode(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		return exitCode(2)
	}
	switch o.engine {
	case "sqlite", "postgres":
		o.engines = []string{o.engine}
	case "both":
		o.engines = []string{"sqlite", "postgres"}
	default:
		fmt.Fprintf(stderr, "--engine must be sqlite, postgres or both, not %q\n", o.engine)
		return exitCode(2)
	}
	// The name is spliced into SQL.
	if !regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`).MatchString(o.pgName) {
		fmt.Fprintf(stderr, "--pg-database %q: use lower-case letters, digits and _\n", o.pgName)
		return exitCode(2)
	}
	o.args = append([]string{"bottega-bench", fs.Name()}, args...)
	return nil
}

// harness builds and runs the processes of a benchmark.
type harness struct {
	opts   options
	dir    string // temporary directory
	bin    string // the bottega binary
	self   string // this binary, for baseline servers
	log    io.Writer
	pgUsed bool
}

// newHarness prepares a temporary directory and the bottega binary.
func newHarness(ctx context.Context, o options, log io.Writer) (*harness, error) {
	dir, err := os.MkdirTemp("", "bottega-bench-")
	if err != nil {
		return nil, err
	}
	h := &harness{opts: o, dir: dir, log: log}
	if h.self, err = os.Executable(); err != nil {
		h.close()
		return nil, err
	}
	if o.bottega != "" {
		h.bin = o.bottega
		return h, nil
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		h.close()
		return nil, err
	}
	h.bin = filepath.Join(dir, "bottega")
	rev := gitRevision(ctx, root)
	h.logf("building bottega %s from %s", rev, root)
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X main.version="+rev, "-o", h.bin, "./cmd/bottega")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.close()
		return nil, fmt.Errorf("go build ./cmd/bottega: %v\n%s", err, out)
	}
	return h, nil
}

// moduleRoot finds the bottega checkout around the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the bottega module: run from the checkout or pass --bottega PATH")
	}
	data, err := os.ReadFile(mod)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(data, []byte("module github.com/bottega-crm/bottega\n")) {
		return "", fmt.Errorf("%s is not bottega's go.mod: run from the checkout or pass --bottega PATH", mod)
	}
	return filepath.Dir(mod), nil
}

// gitRevision names the checkout's commit, marked +dirty when the working
// tree has changes, or "unknown" outside git.
func gitRevision(ctx context.Context, root string) string {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	rev, err := git("rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "unknown"
	}
	if st, err := git("status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
		rev += "+dirty"
	}
	return rev
}

// version asks the bottega binary for its version.
func (h *harness) version(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, h.bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// close removes what the harness made, unless --keep.
func (h *harness) close() {
	if h.opts.keep {
		h.logf("kept %s", h.dir)
		return
	}
	if h.pgUsed {
		if err := h.dropPostgres(); err != nil {
			h.logf("dropping database %s: %v", h.opts.pgName, err)
		}
	}
	os.RemoveAll(h.dir)
}

// freshDatabase returns the DSN of a new, empty database of the engine.
func (h *harness) freshDatabase(ctx context.Context, engine, name string) (string, error) {
	if engine == "sqlite" {
		path := filepath.Join(h.dir, name+".db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
		return path, nil
	}
	h.pgUsed = true
	admin, err := sql.Open("pgx", h.opts.postgres)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	for _, q := range []string{
		"DROP DATABASE IF EXISTS " + h.opts.pgName + " WITH (FORCE)",
		"CREATE DATABASE " + h.opts.pgName,
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("postgres %s: %v", h.opts.postgres, err)
		}
	}
	u, err := url.Parse(h.opts.postgres)
	if err != nil {
		return "", err
	}
	u.Path = "/" + h.opts.pgName
	return u.String(), nil
}

// migratedDatabase opens a fresh, migrated database for a figure that
// fills it directly rather than through a bottega server.
func (h *harness) migratedDatabase(ctx context.Context, engine, name string) (*sqldb.DB, string, error) {
	dsn, err := h.freshDatabase(ctx, engine, name)
	if err != nil {
		return nil, "", err
	}
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		return nil, "", err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, "", err
	}
	return db, dsn, nil
}

func (h *harness) dropPostgres() error {
	admin, err := sql.Open("pgx", h.opts.postgres)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+h.opts.pgName+" WITH (FORCE)")
	return err
}

// bottegaCLI runs a bottega command and returns the last line it printed.
func (h *harness) bottegaCLI(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bottega %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// credentials are what the load generator sends to bottega.
type credentials struct {
	writeKey string
	apiKey   string
}

// setup creates a source and an API key through bottega's command line.
func (h *harness) setup(ctx context.Context, dsn string) (credentials, error) {
	var c credentials
	var err error
	if c.writeKey, err = h.bottegaCLI(ctx, "source", "create", "bench", "--channel", "web", "--db", dsn); err != nil {
		return c, err
	}
	if c.apiKey, err = h.bottegaCLI(ctx, "apikey", "create", "bench", "--db", dsn); err != nil {
		return c, err
	}
	return c, nil
}

// cleanEnv is the environment without BOTTEGA_* settings, so that only the
// flags the benchmark passes configure the server — except
// BOTTEGA_PPROF_ADDR, which lets you profile the server under load.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOTTEGA_") || strings.HasPrefix(kv, "BOTTEGA_PPROF_ADDR=") {
			env = append(env, kv)
		}
	}
	return env
}

// process is a server under test: bottega or a baseline.
type process struct {
	name    string
	cmd     *exec.Cmd
	url     string
	logPath string
	exited  chan struct{}
	err     error // set when exited is closed
	stopped bool
}

// startBottega runs bottega serve on dsn.
func (h *harness) startBottega(ctx context.Context, dsn string, extra ...string) (*process, error) {
	args := append([]string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, extra...)
	return h.start(ctx, "bottega", h.bin, args)
}

// startBaseline runs this binary's baseline server of the given kind.
func (h *harness) startBaseline(ctx context.Context, kind string) (*process, error) {
	return h.start(ctx, "baseline-"+kind, h.self, []string{"baseline-server", "--kind", kind, "--addr", "127.0.0.1:0"})
}

// start runs a server, reads its URL from the first line of its output that
// holds one, and waits until /healthz answers 200.
func (h *harness) start(ctx context.Context, name, bin string, args []string) (*process, error) {
	logPath := filepath.Join(h.dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	found := make(chan string, 1)
	serverURL := regexp.MustCompile(`http://[0-9.]+:[0-9]+`)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if m := serverURL.FindString(sc.Text()); m != "" && !sent {
				found <- m
				sent = true
			}
		}
		close(found)
	}()
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			<-p.exited
			return nil, fmt.Errorf("%s exited before serving: %v\n%s", name, p.err, tail(logPath, 20))
		}
		p.url = u
	case <-time.After(60 * time.Second):
		p.kill()
		return nil, fmt.Errorf("%s did not start within 60 s\n%s", name, tail(logPath, 20))
	case <-ctx.Done():
		p.kill()
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("%s: /healthz did not answer 200 within 30 s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p, nil
}

// alive reports an error if the process has exited.
func (p *process) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited unexpectedly: %v\n%s", p.name, p.err, tail(p.logPath, 30))
	default:
		return nil
	}
}

// stop sends SIGTERM and waits for the process to drain and exit.
func (p *process) stop() error {
	if p.stopped {
		return nil
	}
	p.stopped = true
	if err := p.alive(); err != nil {
		return err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			return fmt.Errorf("%s exited with %v after SIGTERM\n%s", p.name, p.err, tail(p.logPath, 20))
		}
		return nil
	case <-time.After(60 * time.Second):
		p.kill()
		return fmt.Errorf("%s did not stop within 60 s of SIGTERM", p.name)
	}
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// cpuSecondsOf reads utime+stime of a process from /proc (Linux; 0
// elsewhere). Clock ticks are taken to be 100 per second, Linux's USER_HZ.
func cpuSecondsOf(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

// problems returns the warning and error lines of the process's log.
func (p *process) problems() []string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, "panic") {
			out = append(out, line)
		}
	}
	return out
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// PostgreSQL keeps its planner statistics current with autovacuum, which
// the local test server may have turned off. Without statistics bottega's
// queries are planned as if its tables were tiny, so the benchmark stands in
// for autovacuum: ANALYZE every --analyze-every while bottega processes
// (analyzeLoop), and once after a bulk load (analyze). --analyze=false and
// --analyze-every 0 measure a server without statistics instead.

// autovacuum says whether autovacuum is on for the PostgreSQL database.
func autovacuum(ctx context.Context, dsn string) string {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "unknown"
	}
	defer db.Close()
	av := "unknown"
	_ = db.QueryRowContext(ctx, "SHOW autovacuum").Scan(&av)
	return av
}

// analyze runs ANALYZE on a PostgreSQL database unless --analyze=false, and
// returns a note saying what it did. On SQLite it does nothing.
func (h *harness) analyze(ctx context.Context, engine, dsn, when string) (string, error) {
	if engine != "postgres" {
		return "", nil
	}
	note := "autovacuum is " + autovacuum(ctx, dsn) + " on this PostgreSQL server"
	if !h.opts.analyze {
		return note + "; --analyze=false: no ANALYZE " + when, nil
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	start := time.Now()
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s; the benchmark ran ANALYZE %s (%.1f s), as autovacuum would", note, when, time.Since(start).Seconds()), nil
}

// analyzeNote says how many times analyzeLoop ran ANALYZE.
func (h *harness) analyzeNote(ctx context.Context, engine, dsn string, n int, when string) string {
	if engine != "postgres" {
		return ""
	}
	if h.opts.analyzeEvery <= 0 {
		return "autovacuum is " + autovacuum(ctx, dsn) + " on this PostgreSQL server; --analyze-every 0: no ANALYZE " + when
	}
	return fmt.Sprintf("autovacuum is %s on this PostgreSQL server; standing in for it, the benchmark ran ANALYZE %d times %s (every %s)",
		autovacuum(ctx, dsn), n, when, h.opts.analyzeEvery)
}

// analyzeLoop runs ANALYZE every --analyze-every on a PostgreSQL database
// until the returned function is called, which reports how many ran.
func (h *harness) analyzeLoop(ctx context.Context, engine, dsn string) func() int {
	if engine != "postgres" || h.opts.analyzeEvery <= 0 {
		return func() int { return 0 }
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer db.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(h.opts.analyzeEvery):
			}
			if _, err := db.ExecContext(ctx, "ANALYZE"); err == nil {
				n++
			}
		}
	}()
	return func() int { cancel(); return <-done }
}

// cpuSample is CPU time used so far, in seconds: by the process under test
// and, on PostgreSQL, by the backends connected to the benchmark database
// (read from /proc, so only for a PostgreSQL on this machine).
type cpuSample struct {
	process, postgres float64
}

func (a cpuSample) sub(b cpuSample) cpuSample {
	return cpuSample{process: a.process - b.process, postgres: a.postgres - b.postgres}
}

// sampler returns a function sampling the CPU time of pid and, for
// postgres, of the benchmark database's backends.
func (h *harness) sampler(ctx context.Context, engine string, pid int) func() cpuSample {
	return func() cpuSample {
		s := cpuSample{process: cpuSecondsOf(pid)}
		if engine == "postgres" {
			s.postgres = h.postgresCPU(ctx)
		}
		return s
	}
}

// postgresCPU sums the CPU time of the backends connected to the benchmark
// database. A backend that exits between two samples takes its time with it;
// bottega's and the baselines' pools keep theirs open.
func (h *harness) postgresCPU(ctx context.Context) float64 {
	admin, err := sql.Open("pgx", h.opts.postgres)
	if err != nil {
		return 0
	}
	defer admin.Close()
	rows, err := admin.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", h.opts.pgName)
	if err != nil {
		return 0
	}
	defer rows.Close()
	total := 0.0
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			total += cpuSecondsOf(pid)
		}
	}
	return total
}
