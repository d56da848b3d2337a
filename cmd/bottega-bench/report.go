package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Result is one figure measured on one engine.
type Result struct {
	Figure     string            `json:"figure"` // ingest-batch, ingest-track, process, lag, lookup
	Engine     string            `json:"engine"`
	Date       string            `json:"date"` // RFC 3339, when the measurement started
	Command    string            `json:"command"`
	Bottega    string            `json:"bottega"` // bottega --version of the binary measured
	Machine    Machine           `json:"machine"`
	LoadBefore string            `json:"load_before"` // /proc/loadavg before and after
	LoadAfter  string            `json:"load_after"`
	Params     map[string]string `json:"params"`
	Runs       []Run             `json:"runs"`
	Ratios     []Ratio           `json:"ratios"`
	Goals      []Goal            `json:"goals"`
	Checks     []Check           `json:"checks"`
	Notes      []string          `json:"notes,omitempty"`
}

// Run is one measured thing: bottega or a baseline.
type Run struct {
	Name         string             `json:"name"`
	Role         string             `json:"role"` // target or baseline
	Requests     int64              `json:"requests,omitempty"`
	Events       int64              `json:"events"`
	Seconds      float64            `json:"seconds"`
	RequestsPerS float64            `json:"requests_per_s,omitempty"`
	EventsPerS   float64            `json:"events_per_s"`
	P50Ms        float64            `json:"p50_ms,omitempty"`
	P95Ms        float64            `json:"p95_ms,omitempty"`
	P99Ms        float64            `json:"p99_ms,omitempty"`
	MaxMs        float64            `json:"max_ms,omitempty"`
	Failures     int64              `json:"failures"`
	ServerCPU    float64            `json:"server_cpu_s,omitempty"` // CPU seconds the server process used in the window
	Extra        map[string]float64 `json:"extra,omitempty"`
}

// Ratio compares bottega with a baseline.
type Ratio struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Goal  string  `json:"goal,omitempty"`
	Met   *bool   `json:"met,omitempty"`
}

// Goal is an absolute target of the issue.
type Goal struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Goal  string  `json:"goal"`
	Met   bool    `json:"met"`
}

// Check is a correctness check made after a load; a failed one is a bug.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Machine describes where the figures were measured.
type Machine struct {
	CPUs     int     `json:"cpus"`
	MemGiB   float64 `json:"mem_gib"`
	Go       string  `json:"go"`
	OS       string  `json:"os"`
	Kernel   string  `json:"kernel,omitempty"`
	SQLite   string  `json:"sqlite,omitempty"`
	Postgres string  `json:"postgres,omitempty"`
}

// newResult starts a result and records the machine and its load.
func newResult(ctx context.Context, h *harness, figure, engine, dsn string) *Result {
	o := h.opts
	r := &Result{Bottega: h.version(ctx),
		Figure: figure, Engine: engine, Date: time.Now().Format(time.RFC3339),
		Command: strings.Join(o.args, " "), Machine: machine(), LoadBefore: loadavg(),
		Params: map[string]string{"duration": o.duration.String(), "warmup": o.warmup.String()},
	}
	r.Machine.SQLite, r.Machine.Postgres = engineVersion(ctx, engine, dsn)
	return r
}

func (r *Result) ratio(name string, v float64, goal string, atLeast float64) {
	x := Ratio{Name: name, Value: v, Goal: goal}
	if goal != "" {
		met := v >= atLeast
		x.Met = &met
	}
	r.Ratios = append(r.Ratios, x)
}

func (r *Result) check(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// serverProblems records the warnings and errors a server logged.
func (r *Result) serverProblems(p *process) {
	lines := p.problems()
	detail := "none"
	if len(lines) > 0 {
		detail = fmt.Sprintf("%d lines, first: %s", len(lines), clip(lines[0], 400))
	}
	r.check(p.name+" logged no warnings or errors", len(lines) == 0, "%s", detail)
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				m.MemGiB = math.Round(kb/1024/1024*10) / 10
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// engineVersion asks the database for its version.
func engineVersion(ctx context.Context, engine, dsn string) (sqlite, postgres string) {
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{ReadConns: 1})
	if err != nil {
		return "", ""
	}
	defer db.Close()
	var v string
	if engine == "sqlite" {
		_ = db.QueryRow(ctx, "SELECT sqlite_version()").Scan(&v)
		return "SQLite " + v + " (modernc.org/sqlite)", ""
	}
	_ = db.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return "", "PostgreSQL " + v + " (pgx)"
}

// loadavg is the first three fields of /proc/loadavg, as uptime shows them.
func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// print writes a result as a short table.
func (r *Result) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s on %s (%s) — %s — %s — load average %s → %s\n", r.Figure, r.Engine, r.size(), r.Bottega, r.Date, r.LoadBefore, r.LoadAfter)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trole\treq/s\tevents/s\tp50 ms\tp99 ms\tmax ms\tfailed\tserver CPU s\t")
	for _, run := range r.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", run.Name, run.Role,
			num(run.RequestsPerS, 0), num(run.EventsPerS, 0), num(run.P50Ms, 2), num(run.P99Ms, 2), num(run.MaxMs, 1),
			run.Failures, num(run.ServerCPU, 1))
	}
	tw.Flush()
	for _, run := range r.Runs {
		if len(run.Extra) == 0 {
			continue
		}
		var parts []string
		for _, k := range sortedKeys(run.Extra) {
			parts = append(parts, k+"="+short(run.Extra[k]))
		}
		fmt.Fprintf(w, "  %s: %s\n", run.Name, strings.Join(parts, " "))
	}
	for _, x := range r.Ratios {
		verdict := ""
		if x.Met != nil {
			verdict = "  goal " + x.Goal + ": " + metWord(*x.Met)
		}
		fmt.Fprintf(w, "ratio %-40s %7.3f×%s\n", x.Name, x.Value, verdict)
	}
	for _, g := range r.Goals {
		fmt.Fprintf(w, "goal  %-40s %10s  (%s): %s\n", g.Name, num(g.Value, 2), g.Goal, metWord(g.Met))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(w, "check %-40s %s  %s\n", c.Name, okWord(c.OK), c.Detail)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note  %s\n", n)
	}
}

func metWord(b bool) string {
	if b {
		return "met"
	}
	return "NOT met"
}

func okWord(b bool) string {
	if b {
		return "ok  "
	}
	return "FAIL"
}

func num(v float64, prec int) string {
	if v == 0 || math.IsNaN(v) {
		return "-"
	}
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if prec == 0 && v >= 10000 {
		// Thousands separators for big counts.
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		s = b.String()
	}
	return s
}

// short formats a value with the precision it deserves.
func short(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case v == math.Trunc(v) || math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeJSON writes the results of a command to path.
func writeJSON(path string, results []*Result) error {
	for _, r := range results {
		r.sanitize()
	}
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// sanitize makes a result encodable as JSON: a value that is not a number
// (nothing measured) becomes 0 and an infinite one (beyond the last
// histogram bucket, or a division by zero) becomes -1, with a note.
func (r *Result) sanitize() {
	changed := false
	fix := func(v *float64) {
		switch {
		case math.IsNaN(*v):
			*v, changed = 0, true
		case math.IsInf(*v, 0):
			*v, changed = -1, true
		}
	}
	for i := range r.Runs {
		run := &r.Runs[i]
		for _, v := range []*float64{&run.Seconds, &run.RequestsPerS, &run.EventsPerS, &run.P50Ms, &run.P99Ms, &run.MaxMs, &run.ServerCPU} {
			fix(v)
		}
		for k, v := range run.Extra {
			fix(&v)
			run.Extra[k] = v
		}
	}
	for i := range r.Ratios {
		fix(&r.Ratios[i].Value)
	}
	for i := range r.Goals {
		fix(&r.Goals[i].Value)
	}
	if changed {
		r.Notes = append(r.Notes, "in this JSON, -1 stands for an infinite value (beyond the last histogram bucket, or a division by zero) and 0 for nothing measured")
	}
}

// eachEngine runs a command's figure on every engine asked for, printing
// each result as it comes, then saves them all (finish).
func eachEngine(ctx context.Context, o options, stdout, stderr io.Writer, figure func(h *harness, engine string) (*Result, error)) error {
	h, err := newHarness(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer h.close()
	var results []*Result
	for _, engine := range o.engines {
		r, err := figure(h, engine)
		if err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
		r.print(stdout)
		results = append(results, r)
	}
	return finish(results, o)
}

// finish saves a command's results; a failed check makes the command fail
// after everything is written.
func finish(results []*Result, o options) error {
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, results); err != nil {
			return err
		}
	}
	var failed []string
	for _, r := range results {
		for _, c := range r.Checks {
			if !c.OK {
				failed = append(failed, r.Engine+": "+c.Name)
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("checks failed (a bug in bottega, or a broken run): %s", strings.Join(failed, "; "))
	}
	return nil
}

// runMarkdown prints the results table of docs/benchmarks.md from JSON files
// written with --json.
func runMarkdown(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: bottega-bench markdown FILE.json…")
		return exitCode(2)
	}
	var all []*Result
	for _, path := range args {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var rs []*Result
		if err := json.Unmarshal(data, &rs); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		all = append(all, rs...)
	}
	fmt.Fprintln(stdout, "| figure | engine | size | bottega | baselines | ratios | goal | load avg before → after | date, bottega |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range all {
		target, baselines := "", []string{}
		for _, run := range r.Runs {
			s := run.summary(r.Figure)
			if run.Role == "target" {
				target = s
			} else {
				baselines = append(baselines, run.Name+": "+s)
			}
		}
		var ratios, goals []string
		for _, x := range r.Ratios {
			s := fmt.Sprintf("%s **%.3f×**", x.Name, x.Value)
			if x.Met != nil {
				s += fmt.Sprintf(" (goal %s: %s)", x.Goal, metWord(*x.Met))
			}
			ratios = append(ratios, s)
		}
		for _, g := range r.Goals {
			goals = append(goals, fmt.Sprintf("%s %s %s: %s", g.Name, num(g.Value, 2), g.Goal, metWord(g.Met)))
		}
		for _, c := range r.Checks {
			if !c.OK {
				goals = append(goals, "CHECK FAILED: "+c.Name)
			}
		}
		date := r.Date
		if t, err := time.Parse(time.RFC3339, r.Date); err == nil {
			date = t.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s | %s | %s | %s → %s | %s, %s |\n", r.Figure, r.Engine, r.size(), target,
			strings.Join(baselines, "<br>"), strings.Join(ratios, "<br>"), strings.Join(goals, "<br>"), r.LoadBefore, r.LoadAfter, date, r.Bottega)
	}
	return nil
}

// size says how much a result measured.
func (r *Result) size() string {
	p := r.Params
	switch r.Figure {
	case "process":
		return p["events"] + " events"
	case "lookup":
		return p["profiles"] + " profiles, " + p["duration"]
	case "lag":
		return p["rate"] + " events/s, " + p["duration"]
	case "pages":
		return p["customers"] + " customers"
	}
	return p["clients"] + " clients, " + p["duration"]
}

// summary is a run's figures in a few words.
func (run Run) summary(figure string) string {
	switch figure {
	case "lookup":
		return fmt.Sprintf("p50 %s ms, p99 %s ms (%s/s)", num(run.P50Ms, 2), num(run.P99Ms, 2), num(run.RequestsPerS, 0))
	case "process":
		return fmt.Sprintf("%s events/s", num(run.EventsPerS, 0))
	case "pages":
		return fmt.Sprintf("p50 %s ms, p95 %s ms, max %s ms", num(run.P50Ms, 1), num(run.P95Ms, 1), num(run.MaxMs, 1))
	case "lag":
		return fmt.Sprintf("%s events/s; ack p50 %s ms, p99 %s ms; lag p50 %s ms, p99 %s ms", num(run.EventsPerS, 0),
			num(run.P50Ms, 1), num(run.P99Ms, 1), num(run.Extra["lag_p50_ms"], 0), num(run.Extra["lag_p99_ms"], 0))
	}
	return fmt.Sprintf("%s req/s, %s events/s, p50 %s ms, p99 %s ms", num(run.RequestsPerS, 0), num(run.EventsPerS, 0),
		num(run.P50Ms, 1), num(run.P99Ms, 1))
}
