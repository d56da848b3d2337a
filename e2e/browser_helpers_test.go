package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb/sqldbtest"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds every browser step: a navigation, a click, a wait.
const stepTimeout = 30 * time.Second

// chromiumPath finds the browser: $BOTTEGA_CHROMIUM, else /usr/bin/chromium
// (Debian's package), else chromium on PATH. It skips the test, or fails it
// under BOTTEGA_TEST_STRICT, when there is none.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BOTTEGA_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("BOTTEGA_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	sqldbtest.Missing(t, "Chromium (install Debian's chromium package, or set BOTTEGA_CHROMIUM to a Chrome or Chromium binary)")
	return ""
}

// startDemo runs bottega demo on a fresh SQLite database and returns once
// the demo shop is loaded and processed. The returned Server has an API key
// made with the CLI; it is stopped with SIGTERM when the test ends.
func startDemo(t *testing.T, people int) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{
		t: t, DSN: filepath.Join(dir, "b.db"), logPath: filepath.Join(dir, "demo.log"),
		HTTP: &http.Client{Timeout: 60 * time.Second},
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "demo", "--people", strconv.Itoa(people), "--db", s.DSN, "--addr", "127.0.0.1:0")
	cmd.Env = processEnv()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 1)
	loaded := make(chan struct{})
	serving := regexp.MustCompile(`serving (http://[0-9.:]+)`)
	go func() {
		sc := bufio.NewScanner(stdout)
		var once sync.Once
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, "stdout: "+line)
			if m := serving.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
			// The summary follows the load, the scoring jobs and the costs.
			if strings.HasPrefix(line, "Demo shop loaded") {
				once.Do(func() { close(loaded) })
			}
		}
		p.err = cmd.Wait()
		fmt.Fprintf(logf, "=== e2e: exited: %v\n", p.err)
		logf.Close()
		close(p.done)
	}()
	s.proc = p
	t.Cleanup(func() {
		if s.Running() {
			s.Stop()
		}
		if t.Failed() {
			t.Logf("bottega demo log (tail):\n%s", s.LogTail(12000))
		}
	})
	select {
	case u := <-urls:
		s.Addr = strings.TrimPrefix(u, "http://")
	case <-p.done:
		t.Fatalf("bottega demo exited before serving: %v\n%s", p.err, s.LogTail(8000))
	case <-time.After(2 * time.Minute):
		t.Fatalf("bottega demo did not print its serving line\n%s", s.LogTail(8000))
	}
	select {
	case <-loaded:
	case <-p.done:
		t.Fatalf("bottega demo exited while loading: %v\n%s", p.err, s.LogTail(8000))
	case <-time.After(5 * time.Minute):
		t.Fatalf("bottega demo did not finish loading %d people\n%s", people, s.LogTail(8000))
	}
	s.APIKey = createAPIKey(t, s.DSN)
	return s
}

// createUser makes a staff user with the CLI, the password on standard
// input as an operator would type it.
func createUser(t testing.TB, dsn, email, role, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "user", "create", email, "--role", role, "--db", dsn)
	cmd.Env = processEnv()
	cmd.Stdin = strings.NewReader(password + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bottega user create %s --role %s: %v\nstdout:\n%s\nstderr:\n%s", email, role, err, stdout.String(), stderr.String())
	}
}

// getJSONWith GETs an API path with the given API key and decodes a 200
// answer into out.
func getJSONWith(t testing.TB, s *Server, key, path string, out any) Reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	r := s.Do(req)
	if r.Err == nil && r.Status == http.StatusOK && out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("GET %s: decoding %s: %v", path, r.Body, err)
		}
	}
	return r
}

// browser is one headless Chromium, started once for a test and its
// subtests.
type browser struct {
	ctx  context.Context // the browser's first tab; the browser lives as long as it
	base string          // the dashboard's address
}

// startBrowser starts Chromium with a fresh profile and a 1280×900 window;
// it is closed when the test ends.
func startBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromiumPath(t)
	profile, err := os.MkdirTemp("", "bottega-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "chromium.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(logf),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{base: base}
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		bcancel()
		acancel() // waits for Chromium to exit
		logf.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			if len(out) > 8000 {
				out = out[len(out)-8000:]
			}
			var keep []string
			for _, l := range strings.Split(string(out), "\n") {
				if !strings.Contains(l, "dbus") {
					keep = append(keep, l)
				}
			}
			t.Logf("chromium output (tail, without D-Bus noise):\n%s", strings.Join(keep, "\n"))
		}
		// Chromium's helpers can still be closing files in the profile.
		for range 20 {
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first action starts the browser and binds its life to the
	// context it gets, so it carries no timeout; the wait for it is bounded
	// here instead.
	if err := firstRun(bctx, bcancel, time.Minute); err != nil {
		out, _ := os.ReadFile(logPath)
		t.Fatalf("starting %s: %v\n%s", exe, err, out)
	}
	b.ctx = bctx
	return b
}

// tab is a browser tab that watches its page: an uncaught exception, a
// console error or a JavaScript dialog in it fails the test using the tab
// (a dialog is dismissed, except the confirm dialogs the test expects).
type tab struct {
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
	confirms int // confirm dialogs the test expects and accepts
}

// newTab opens a tab in the browser; the tab closes when t ends.
func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	tb := &tab{base: b.base}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(tb.listen))
	tb.ctx = ctx
	t.Cleanup(cancel)
	if err := firstRun(ctx, cancel, stepTimeout); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tb
}

// firstRun runs the first (empty) action on a chromedp context, which
// starts the browser or opens the tab for the context's whole life, and
// gives up (cancelling the context) after limit.
func firstRun(ctx context.Context, cancel context.CancelFunc, limit time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		cancel()
		<-done
		return fmt.Errorf("no answer within %v", limit)
	}
}

// use makes t the test that reports the tab's problems from now on: when
// t ends, every problem the page showed meanwhile fails it.
func (tb *tab) use(t *testing.T) {
	t.Helper()
	tb.flush(nil)
	t.Cleanup(func() { tb.flush(t) })
}

// flush reports the recorded problems to t (drops them if t is nil).
func (tb *tab) flush(t *testing.T) {
	tb.mu.Lock()
	ps := tb.problems
	tb.problems, tb.confirms = nil, 0
	tb.mu.Unlock()
	if t == nil {
		return
	}
	for _, p := range ps {
		t.Errorf("in the browser: %s", p)
	}
}

func (tb *tab) problem(format string, args ...any) {
	tb.mu.Lock()
	tb.problems = append(tb.problems, fmt.Sprintf(format, args...))
	tb.mu.Unlock()
}

// expectConfirm accepts the next confirm dialog (hx-confirm) instead of
// failing the test.
func (tb *tab) expectConfirm() {
	tb.mu.Lock()
	tb.confirms++
	tb.mu.Unlock()
}

// listen runs on the tab's event loop: it records, and answers dialogs from
// another goroutine (a listener must not send commands).
func (tb *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		tb.problem("uncaught JavaScript exception at %s:%d: %s", d.URL, d.LineNumber+1, msg)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			tb.problem("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError {
			return
		}
		// A page answered with an error status is logged by the network
		// source; tests that visit error pages check their statuses
		// themselves. A failed asset is a fault in any case.
		if e.Source == log.EntrySourceNetwork && !strings.Contains(e.URL, "/assets/") {
			return
		}
		tb.problem("browser log (%s) %s: %s", e.Source, e.URL, e.Text)
	case *page.EventJavascriptDialogOpening:
		tb.mu.Lock()
		accept := ev.Type == page.DialogTypeConfirm && tb.confirms > 0
		if accept {
			tb.confirms--
		}
		tb.mu.Unlock()
		if !accept {
			tb.problem("a JavaScript %s dialog opened on %s (an injected script?): %q", ev.Type, ev.URL, ev.Message)
		}
		go func() {
			ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
			defer cancel()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
		}()
	}
}

// step runs actions with the step timeout and fails the test on an error.
func (tb *tab) step(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v%s", what, err, tb.where())
	}
}

// where describes the page for failure messages.
func (tb *tab) where() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	return fmt.Sprintf("\n  page %s shows:\n%s", loc, indent(text))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// open navigates to path (relative to the server) and returns the HTTP
// status of the page it ends on (after redirects).
func (tb *tab) open(t testing.TB, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(tb.base+path))
	if err != nil {
		t.Fatalf("opening %s: %v%s", path, err, tb.where())
	}
	if res == nil {
		return 0
	}
	return int(res.Status)
}

// follow runs steps that make the page navigate (a click on a link, a form
// submission) and returns the status of the page loaded.
func (tb *tab) follow(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("%s: %v%s", what, err, tb.where())
	}
	if res == nil {
		return 0
	}
	return int(res.Status)
}

// location is the page's URL.
func (tb *tab) location(t testing.TB) string {
	t.Helper()
	return evalJS[string](t, tb, `location.href`)
}

// path is the page's path and query, without the server.
func (tb *tab) path(t testing.TB) string {
	t.Helper()
	return evalJS[string](t, tb, `location.pathname + location.search`)
}

// evalJS evaluates a JavaScript expression in the page and decodes its
// value.
func evalJS[T any](t testing.TB, tb *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v%s", expr, err, tb.where())
	}
	return v
}

// waitJS waits until a JavaScript expression is truthy (polled in the page
// on animation frames and DOM changes), failing after the step timeout.
func (tb *tab) waitJS(t testing.TB, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	var last error
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingMutation()))
		if err == nil {
			return
		}
		last = err
		// A poll dies with its document (htmx's HX-Redirect, a form post):
		// poll again in the new one, until the step's time is up.
		if ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		t.Fatalf("waiting until %s (%s): %v (last error: %v)%s", what, expr, err, last, tb.where())
	}
}

// has reports whether an element matches the CSS selector now.
func (tb *tab) has(t testing.TB, sel string) bool {
	t.Helper()
	return evalJS[bool](t, tb, fmt.Sprintf(`document.querySelector(%s) !== null`, jsString(sel)))
}

// count is the number of elements matching the CSS selector now.
func (tb *tab) count(t testing.TB, sel string) int {
	t.Helper()
	return evalJS[int](t, tb, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// text is the visible text of the first element matching sel.
func (tb *tab) text(t testing.TB, sel string) string {
	t.Helper()
	tb.step(t, "waiting for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	return evalJS[string](t, tb, fmt.Sprintf(`document.querySelector(%s).innerText`, jsString(sel)))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// login signs in through the form and checks that it worked.
func (tb *tab) login(t testing.TB, email, password string) {
	t.Helper()
	tb.clearCookies(t, false)
	tb.open(t, "/login")
	tb.fill(t, "email", email)
	tb.fill(t, "password", password)
	tb.follow(t, "submitting the sign-in form", chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	if p := tb.path(t); strings.HasPrefix(p, "/login") {
		t.Fatalf("signing in as %s failed: still on %s%s", email, p, tb.where())
	}
	tb.step(t, "waiting for the signed-in layout", chromedp.WaitReady(chromedp.CSS(`[data-testid="logout"]`)))
}

// fill types value into the empty input with the given id, as a user
// would.
func (tb *tab) fill(t testing.TB, id, value string) {
	t.Helper()
	tb.step(t, "typing into #"+id,
		chromedp.WaitVisible(chromedp.ID(id)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			clear := chromedp.Evaluate[bool](fmt.Sprintf(`(e => { e.value = ''; return true })(document.getElementById(%s))`, jsString(id)))
			_, err := clear(ctx, tg)
			return err
		}),
		chromedp.SendKeys(chromedp.ID(id), value),
	)
}

// logout clicks "Sign out" and waits for the sign-in page.
func (tb *tab) logout(t testing.TB) {
	t.Helper()
	tb.openNavIfCollapsed(t)
	tb.follow(t, "signing out", chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)))
	if p := tb.path(t); !strings.HasPrefix(p, "/login") {
		t.Fatalf("after signing out the page is %s, not /login", p)
	}
}

// openNavIfCollapsed opens the navigation on a narrow screen, where it
// hides behind the menu button.
func (tb *tab) openNavIfCollapsed(t testing.TB) {
	t.Helper()
	if evalJS[bool](t, tb, `(() => { const b = document.querySelector('[data-nav-toggle]');
		return !!b && b.offsetParent !== null && b.getAttribute('aria-expanded') !== 'true' })()`) {
		tb.step(t, "opening the navigation", chromedp.Click(chromedp.CSS(`[data-nav-toggle]`)))
	}
}

// clearCookies forgets every cookie; keepLang keeps the language cookie.
func (tb *tab) clearCookies(t testing.TB, keepLang bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	var keep []*network.Cookie
	if keepLang {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base + "/"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Cookies {
			if c.Name != "bottega_session" {
				keep = append(keep, c)
			}
		}
	}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("clearing cookies: %v", err)
	}
	for _, c := range keep {
		tb.setCookie(t, c)
	}
}

// cookie returns the named cookie of the server, or nil.
func (tb *tab) cookie(t testing.TB, name string) *network.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base + "/"}})
	if err != nil {
		t.Fatalf("reading cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// setCookie puts a cookie (back) into the browser.
func (tb *tab) setCookie(t testing.TB, c *network.Cookie) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	httpOnly, secure := c.HTTPOnly, c.Secure
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: c.Name, Value: c.Value, URL: tb.base + "/", Path: c.Path,
		HTTPOnly: &httpOnly, Secure: &secure, SameSite: c.SameSite,
	})
	if err != nil {
		t.Fatalf("setting cookie %s: %v", c.Name, err)
	}
}

// waitFor polls fn (an HTTP check, say) until it reports done, failing the
// test after the step timeout with fn's last word.
func waitFor(t testing.TB, what string, fn func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ok, last := fn()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %v; last: %s", what, stepTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
