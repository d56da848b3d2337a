package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
)

// bin is the bottega binary that TestMain builds for every test.
var bin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bottega-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// BOTTEGA_E2E_BIN tests a binary built elsewhere (a release, say).
	if bin = os.Getenv("BOTTEGA_E2E_BIN"); bin != "" {
		return m.Run()
	}
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: finding the module root:", err)
		return 1
	}
	bin = filepath.Join(dir, "bottega")
	build := exec.Command("go", "build", "-o", bin, "./cmd/bottega")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/bottega: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("the tests do not run inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// eachEngine runs fn as subtests "sqlite" and "postgres", each with the DSN
// of a fresh empty database. The PostgreSQL subtest is skipped (failed under
// BOTTEGA_TEST_STRICT) when BOTTEGA_TEST_POSTGRES is not set.
func eachEngine(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, d := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			fn(t, sqldbtest.DSN(t, d))
		})
	}
}

// processEnv is the environment of every bottega process: the test's own
// without BOTTEGA_* settings, which would change what a test asks for, plus
// extra.
func processEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOTTEGA_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cli runs a bottega command to completion and returns its standard output.
func cli(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = processEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bottega %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// createSource creates a source with the CLI and returns its write key.
func createSource(t testing.TB, dsn, name, channel string) string {
	t.Helper()
	key := lastLine(cli(t, "source", "create", name, "--channel", channel, "--db", dsn))
	if !strings.HasPrefix(key, "bwk_") || strings.ContainsAny(key, " \t") {
		t.Fatalf("source create %s: the last line %q is not a write key", name, key)
	}
	return key
}

// createAPIKey creates an API key with the CLI and returns it.
func createAPIKey(t testing.TB, dsn string) string {
	t.Helper()
	key := lastLine(cli(t, "apikey", "create", "e2e", "--db", dsn))
	if !strings.HasPrefix(key, "bak_") || strings.ContainsAny(key, " \t") {
		t.Fatalf("apikey create: the last line %q is not an API key", key)
	}
	return key
}

// Server is a bottega serve subprocess.
type Server struct {
	t       testing.TB
	DSN     string // the --db the server is given
	Addr    string // host:port it listens on, fixed by the first start
	APIKey  string // an API key created for the test
	HTTP    *http.Client
	env     []string
	logPath string

	mu   sync.Mutex
	proc *process
	runs int
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // its exit status, once done is closed
}

// startServer creates an API key on dsn and starts bottega serve on a free
// port, with env added to its environment (BOTTEGA_… settings). It returns
// once /healthz answers 200. The server is stopped with SIGTERM when the
// test ends, and must then exit with status 0.
func startServer(t testing.TB, dsn string, env ...string) *Server {
	t.Helper()
	s := &Server{
		t: t, DSN: dsn, env: env, logPath: filepath.Join(t.TempDir(), "server.log"),
		HTTP: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
	s.APIKey = createAPIKey(t, dsn)
	t.Cleanup(func() {
		if s.Running() {
			s.Stop()
		}
		if t.Failed() {
			t.Logf("server log (tail):\n%s", s.LogTail(12000))
		}
	})
	s.start("127.0.0.1:0")
	return s
}

var servingLine = regexp.MustCompile(`^bottega \S+ serving .* on (http://\S+) \((sqlite|postgres)\)$`)

// start runs bottega serve on addr and waits until it is ready.
func (s *Server) start(addr string) {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		err := s.tryStart(addr)
		if err == nil {
			return
		}
		// A port just released by a killed server can be slow to free.
		if attempt < 20 && strings.Contains(s.LogTail(2000), "address already in use") {
			time.Sleep(250 * time.Millisecond)
			continue
		}
		s.t.Fatalf("starting bottega serve --addr %s: %v\nserver log (tail):\n%s", addr, err, s.LogTail(8000))
	}
}

func (s *Server) tryStart(addr string) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.runs++
	fmt.Fprintf(logf, "=== e2e: start %d: bottega serve --addr %s\n", s.runs, addr)
	s.mu.Unlock()
	cmd := exec.Command(bin, "serve", "--db", s.DSN, "--addr", addr)
	cmd.Env = processEnv(s.env...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, "stdout: "+line)
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case url <- m[1]:
				default:
				}
			}
		}
		p.err = cmd.Wait() // after the last read from stdout, as exec requires
		fmt.Fprintf(logf, "=== e2e: exited: %v\n", p.err)
		logf.Close()
		close(p.done)
	}()
	select {
	case u := <-url:
		s.mu.Lock()
		s.Addr = strings.TrimPrefix(u, "http://")
		s.proc = p
		s.mu.Unlock()
	case <-p.done:
		return fmt.Errorf("bottega exited before serving: %v", p.err)
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-p.done
		return errors.New("bottega did not print its serving line")
	}
	// The serving line comes once requests are accepted; /healthz must agree.
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := s.HTTP.Get(s.URL() + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-p.done
			return fmt.Errorf("/healthz did not answer 200 (last: %v)", errOrStatus(res, err))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func errOrStatus(res *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return res.Status
}

// URL is the server's base URL.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.Addr
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// PID is the server process id.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc.cmd.Process.Pid
}

// Stop sends SIGTERM and waits for the process to exit; anything but a clean
// exit with status 0 fails the test.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.Terminate(); err != nil {
		s.t.Errorf("after SIGTERM bottega exited with %v; want status 0", err)
	}
}

// Terminate sends SIGTERM, waits for the process to exit and returns its
// exit error (nil for status 0).
func (s *Server) Terminate() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(90 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("no exit within 90 s of SIGTERM; killed")
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Restart starts the server again on the same address and database.
func (s *Server) Restart() {
	s.t.Helper()
	if s.Running() {
		s.t.Fatal("Restart: the server is still running")
	}
	s.start(s.Addr)
}

// LogTail returns the end of the server's log (stderr, stdout, exits).
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Reply is an HTTP answer, or the error that stood in its way.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

func (r Reply) String() string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// Post sends body to path with writeKey as the HTTP Basic user (none when
// writeKey is empty) and Content-Type application/json unless hdr says
// otherwise (an empty value removes a header).
func (s *Server) Post(path, writeKey string, body []byte, hdr map[string]string) Reply {
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		return Reply{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if writeKey != "" {
		req.SetBasicAuth(writeKey, "")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return s.Do(req)
}

// Do sends a request and reads the whole answer.
func (s *Server) Do(req *http.Request) Reply {
	res, err := s.HTTP.Do(req)
	if err != nil {
		return Reply{Err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Reply{Status: res.StatusCode, Header: res.Header, Body: b, Err: err}
}

// GetJSON GETs an API path with the API key and decodes the JSON answer into
// out when the status is 200. It returns the reply.
func (s *Server) GetJSON(t testing.TB, path string, out any) Reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	r := s.Do(req)
	if r.Err == nil && r.Status == http.StatusOK && out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("GET %s: decoding %s: %v", path, r.Body, err)
		}
	}
	return r
}

// MustGetJSON is GetJSON that fails the test unless the answer is 200.
func (s *Server) MustGetJSON(t testing.TB, path string, out any) {
	t.Helper()
	if r := s.GetJSON(t, path, out); r.Err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET %s: %s; want 200", path, r)
	}
}

// Stats is GET /api/v1/stats.
type Stats struct {
	Received    int64   `json:"events_received"`
	Stored      int64   `json:"events_stored"`
	Duplicates  int64   `json:"events_duplicate"`
	Quarantined int64   `json:"events_quarantined"`
	Processed   int64   `json:"events_processed"`
	Failed      int64   `json:"events_failed"`
	Pending     int64   `json:"events_pending"`
	Profiles    int64   `json:"profiles"`
	Cursor      int64   `json:"cursor"`
	LagSeconds  float64 `json:"lag_seconds"`
}

// Stats reads /api/v1/stats.
func (s *Server) Stats(t testing.TB) Stats {
	t.Helper()
	var st Stats
	s.MustGetJSON(t, "/api/v1/stats", &st)
	return st
}

// WaitProcessed waits until every stored event is processed (pending 0 and
// processed == stored) and returns the stats then. It fails the test if that
// does not happen within a few minutes: a liveness bound, not a speed test.
func (s *Server) WaitProcessed(t testing.TB) Stats {
	t.Helper()
	start := time.Now()
	deadline := start.Add(5 * time.Minute)
	report := start.Add(15 * time.Second)
	var st Stats
	for {
		r := s.GetJSON(t, "/api/v1/stats", &st)
		if r.Err == nil && r.Status == http.StatusOK && st.Pending == 0 && st.Processed == st.Stored && st.LagSeconds == 0 {
			return st
		}
		now := time.Now()
		if now.After(deadline) {
			t.Fatalf("events were not all processed after %v: last stats %+v (%s)", now.Sub(start).Round(time.Second), st, r)
		}
		if now.After(report) {
			t.Logf("waiting for processing (%v): %d of %d processed, lag %.1f s", now.Sub(start).Round(time.Second), st.Processed, st.Stored, st.LagSeconds)
			report = now.Add(15 * time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// IngestResult is the body of a 200 from the ingestion API.
type IngestResult struct {
	Success     bool          `json:"success"`
	Stored      int           `json:"stored"`
	Duplicates  int           `json:"duplicates"`
	Quarantined []Quarantined `json:"quarantined"`
}

// Quarantined is an event the ingestion API reports as kept aside.
type Quarantined struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
}

// Problem is an error body.
type Problem struct {
	Title       string        `json:"title"`
	Status      int           `json:"status"`
	Detail      string        `json:"detail"`
	Code        string        `json:"code"`
	Quarantined []Quarantined `json:"quarantined"`
}

// openDB opens the server's database directly, for checks the API does not
// offer. It is closed when the test ends (or earlier by the caller).
func openDB(t testing.TB, dsn string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn, sqldb.Options{ReadConns: 2})
	if err != nil {
		t.Fatalf("opening %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// storedIDs returns, for every event of the named source in the events log,
// its message id and how many rows hold it.
func storedIDs(t testing.TB, db *sqldb.DB, source string) map[string]int {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT e.message_id, COUNT(*) FROM events e JOIN sources s ON s.id = e.source_id
		WHERE s.name = ? GROUP BY e.message_id`, source)
	if err != nil {
		t.Fatalf("reading the events log: %v", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			id string
			n  int
		)
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// countEvents returns COUNT(*) and COUNT(DISTINCT message_id) of a source's
// events.
func countEvents(t testing.TB, db *sqldb.DB, source string) (rowsN, distinct int64) {
	t.Helper()
	err := db.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT e.message_id) FROM events e JOIN sources s ON s.id = e.source_id
		WHERE s.name = ?`, source).Scan(&rowsN, &distinct)
	if err != nil {
		t.Fatalf("counting events: %v", err)
	}
	return rowsN, distinct
}

// scalar runs a query returning one integer.
func scalar(t testing.TB, db *sqldb.DB, query string, args ...any) int64 {
	t.Helper()
	var n sqlNullInt
	if err := db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return int64(n)
}

// sqlNullInt scans an integer, NULL as 0.
type sqlNullInt int64

func (n *sqlNullInt) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n = 0
	case int64:
		*n = sqlNullInt(x)
	case int32:
		*n = sqlNullInt(x)
	case float64:
		*n = sqlNullInt(x)
	case []byte:
		i, err := strconv.ParseInt(string(x), 10, 64)
		*n = sqlNullInt(i)
		return err
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		*n = sqlNullInt(i)
		return err
	default:
		return fmt.Errorf("cannot scan %T as an integer", v)
	}
	return nil
}

// rssKB returns the resident set size (VmRSS) and its peak (VmHWM) of a
// process, in KiB.
func rssKB(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm, nil
}
