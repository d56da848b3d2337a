package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/csvimport"
	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/term"
)

// importRejectedExit is the exit status of an import that finished but
// rejected rows: scripts notice, and the summary says which and why.
const importRejectedExit = 3

// ImportCmd groups the import commands.
type ImportCmd struct {
	Orders    ImportOrdersCmd    `cmd:"" help:"Import orders: one row per order, or one row per line item with the rows of an order together."`
	Customers ImportCustomersCmd `cmd:"" help:"Import customers: one row per customer."`
}

// ImportFlags are the flags of both import commands.
type ImportFlags struct {
	config.Database
	File           string            `arg:"" help:"The CSV file ('-' reads standard input)." placeholder:"FILE.csv"`
	Source         string            `help:"Name of the source the events are stored under (create one with: bottega source create NAME --channel import)." required:""`
	Rejects        string            `help:"Write every rejected row, with a reject_reason column, to this CSV file." placeholder:"FILE.csv"`
	Map            map[string]string `help:"Name the column of a field when no alias matches, e.g. --map order_id=Name (repeatable)." mapsep:"none" placeholder:"FIELD=HEADER"`
	Encoding       string            `help:"Character encoding of the file." enum:"utf-8,windows-1252,iso-8859-1,iso-8859-15" default:"utf-8"`
	Delimiter      string            `help:"Cell delimiter: auto finds comma, semicolon or tab in the header line." enum:"auto,comma,semicolon,tab" default:"auto"`
	Timezone       string            `help:"Time zone of dates and times written without one (IANA name, e.g. Europe/Rome)." default:"UTC"`
	CustomerIDType string            `help:"What the customer id column holds: user_id (sent as userId) or another identifier type, e.g. pos_customer_id (sent in context.externalIds)." default:"user_id"`
	PhoneRegion    string            `help:"Country assumed for phone numbers written without +prefix (ISO 3166 code)." default:"IT"`
	MaxFileSize    string            `help:"Refuse files larger than this." default:"2GiB"`
	MaxLineSize    string            `help:"Refuse records (lines) longer than this." default:"1MiB"`
	DryRun         bool              `help:"Read and check the whole file, and store nothing."`
}

// ImportOrdersCmd imports orders.
type ImportOrdersCmd struct {
	ImportFlags
	Channel string `help:"Channel of orders without a channel column: web, app or pos (default: the source's channel when app or pos, else web)." placeholder:"web|app|pos"`
}

func (c *ImportOrdersCmd) Run(env *Env) error {
	return c.ImportFlags.run(env, csvimport.Orders, c.Channel)
}

// ImportCustomersCmd imports customers.
type ImportCustomersCmd struct {
	ImportFlags
}

func (c *ImportCustomersCmd) Run(env *Env) error {
	return c.ImportFlags.run(env, csvimport.Customers, "")
}

func (f *ImportFlags) run(env *Env, kind csvimport.Kind, channel string) error {
	maxFile, err := csvimport.ParseSize(f.MaxFileSize)
	if err != nil {
		return fault.New(fault.Invalid, "--max-file-size: %s", fault.MessageOf(err))
	}
	maxLine, err := csvimport.ParseSize(f.MaxLineSize)
	if err != nil {
		return fault.New(fault.Invalid, "--max-line-size: %s", fault.MessageOf(err))
	}
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return fault.New(fault.Invalid, "--timezone %q is not a time zone such as UTC or Europe/Rome", f.Timezone)
	}
	in, name, size, err := openImportFile(env, f.File, maxFile)
	if err != nil {
		return err
	}
	defer in.Close()

	db, err := openDB(env.Ctx, f.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	src, err := auth.NewStore(db, time.Now).SourceByName(env.Ctx, f.Source)
	if fault.Is(err, fault.NotFound) {
		return fault.New(fault.NotFound, "no source named %q; create it first with: bottega source create %s --channel import", f.Source, f.Source)
	}
	if err != nil {
		return err
	}
	if src.Disabled() {
		return fault.New(fault.Forbidden, "source %q is disabled; enable it with: bottega source enable %s", src.Name, src.Name)
	}

	var rejects *os.File
	if f.Rejects != "" {
		if rejects, err = os.Create(f.Rejects); err != nil {
			return fault.Wrap(err, fault.Invalid, "cannot create the rejects file %s", f.Rejects)
		}
	}
	progress := newImportProgress(env.Stderr, name, size)
	opts := csvimport.Options{
		Kind: kind, SourceID: src.ID, SourceChannel: src.Channel, Channel: channel,
		CustomerIDType: f.CustomerIDType, Location: loc, Encoding: f.Encoding,
		Delimiter: map[string]rune{"comma": ',', "semicolon": ';', "tab": '\t'}[f.Delimiter],
		Map:       f.Map, PhoneRegion: f.PhoneRegion, MaxFileBytes: maxFile, MaxRecordBytes: maxLine,
		DryRun: f.DryRun, Progress: progress.update,
	}
	if rejects != nil {
		opts.Rejects = rejects
	}
	sum, err := csvimport.Run(env.Ctx, db, in, opts)
	progress.clear()
	if rejects != nil {
		if cerr := rejects.Close(); cerr != nil && err == nil {
			err = fault.Wrap(cerr, fault.Unavailable, "writing the rejects file %s failed", f.Rejects)
		}
		if sum.Rejected == 0 {
			_ = os.Remove(f.Rejects) // nothing to fix: no stale file left behind
		}
	}
	if sum.Header != nil {
		f.printSummary(env.Stdout, kind, name, src.Name, sum, err)
	}
	if err != nil {
		return err
	}
	if sum.Rejected > 0 {
		return exitCode(importRejectedExit)
	}
	return nil
}

// openImportFile opens the file to import, refusing one over the size limit
// before reading it. size is -1 when unknown (standard input).
func openImportFile(env *Env, path string, maxFile int64) (io.ReadCloser, string, int64, error) {
	if path == "-" {
		return io.NopCloser(env.Stdin), "standard input", -1, nil
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, "", 0, fault.Wrap(err, fault.Invalid, "cannot open %s", path)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, "", 0, fault.Wrap(err, fault.Invalid, "cannot read %s", path)
	}
	if st.IsDir() {
		file.Close()
		return nil, "", 0, fault.New(fault.Invalid, "%s is a directory, not a CSV file", path)
	}
	size := int64(-1)
	if st.Mode().IsRegular() {
		size = st.Size()
		if size > maxFile {
			file.Close()
			return nil, "", 0, fault.New(fault.TooLarge, "%s is %s; the limit is %s (--max-file-size)", path, importBytes(size), importLimit(maxFile))
		}
	}
	return file, path, size, nil
}

func (f *ImportFlags) printSummary(w io.Writer, kind csvimport.Kind, name, source string, sum csvimport.Summary, runErr error) {
	delim := map[rune]string{',': "comma", ';': "semicolon", '\t': "tab"}[sum.Delimiter]
	enc := f.Encoding
	if sum.BOM {
		enc += " with BOM"
	}
	verb := "Imported"
	switch {
	case f.DryRun:
		verb = "Checked (dry run: nothing was stored)"
	case runErr != nil:
		verb = "Stopped importing"
	}
	fmt.Fprintf(w, "%s %s from %s into source %q (%s-separated, %s).\n", verb, kind, name, source, delim, enc)

	index := map[string]int{}
	for i, h := range sum.Header {
		if _, ok := index[h]; !ok {
			index[h] = i
		}
	}
	var mapped []string
	for field, h := range sum.Fields {
		mapped = append(mapped, fmt.Sprintf("%d\x00%q → %s", index[h], h, field))
	}
	sort.Slice(mapped, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.SplitN(mapped[i], "\x00", 2)[0])
		b, _ := strconv.Atoi(strings.SplitN(mapped[j], "\x00", 2)[0])
		return a < b
	})
	for i, m := range mapped {
		mapped[i] = strings.SplitN(m, "\x00", 2)[1]
	}
	fmt.Fprintf(w, "Columns: %s.\n", strings.Join(mapped, ", "))
	if len(sum.Extras) > 0 {
		as := "traits"
		if kind == csvimport.Orders {
			as = "order or line item properties"
		}
		quoted := make([]string, len(sum.Extras))
		for i, h := range sum.Extras {
			quoted[i] = strconv.Quote(h)
		}
		fmt.Fprintf(w, "Kept as %s: %s.\n", as, strings.Join(quoted, ", "))
	}

	rows := [][2]string{{"Rows read", importCount(sum.Rows)}}
	if kind == csvimport.Orders {
		rows = append(rows, [2]string{"Orders", importCount(sum.Orders)})
	}
	if f.DryRun {
		rows = append(rows, [2]string{"Events to import", importCount(sum.Events)})
	} else {
		dups := importCount(sum.Duplicates)
		if sum.Duplicates > 0 {
			dups += " (stored by an earlier import; nothing changed)"
		}
		rows = append(rows, [2]string{"Events imported", importCount(sum.Imported)}, [2]string{"Already imported", dups})
	}
	rejected := importCount(sum.Rejected)
	if sum.Quarantined > 0 {
		rejected += fmt.Sprintf(" (%s of them quarantined by ingestion)", importCount(sum.Quarantined))
	}
	rows = append(rows, [2]string{"Rows rejected", rejected})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-17s %s\n", r[0]+":", r[1])
	}

	if len(sum.Rejections) > 0 {
		fmt.Fprintln(w, "Rejected:")
		shown := 0
		for _, r := range sum.Rejections {
			where := fmt.Sprintf("line %d", r.Line)
			if r.LastLine != r.Line {
				where = fmt.Sprintf("lines %d-%d", r.Line, r.LastLine)
			}
			fmt.Fprintf(w, "  %s: %s\n", where, r.Reason)
			shown += len(r.Records)
		}
		if rest := sum.Rejected - shown; rest > 0 {
			fmt.Fprintf(w, "  … and %s more rejected rows", importCount(rest))
			if f.Rejects == "" {
				fmt.Fprint(w, "; write them all with --rejects FILE.csv")
			}
			fmt.Fprintln(w)
		}
		if f.Rejects != "" && runErr == nil {
			fmt.Fprintf(w, "All rejected rows are in %s, with a reject_reason column: fix them there and import that file.\n", f.Rejects)
		}
	}
	switch {
	case runErr != nil:
		fmt.Fprintln(w, "Run the same command again to finish: rows already imported are skipped.")
	case f.DryRun:
	case sum.Imported > 0:
		fmt.Fprintln(w, "The running server processes the new events (or the next `bottega serve` does).")
	}
}

// importProgress draws a one-line progress bar on a terminal and nothing
// elsewhere.
type importProgress struct {
	w          io.Writer
	name       string
	total      int64
	start      time.Time
	last       time.Time
	drawn      bool
	isTerminal bool
}

func newImportProgress(w io.Writer, name string, total int64) *importProgress {
	f, ok := w.(*os.File)
	return &importProgress{w: w, name: name, total: total, start: time.Now(), isTerminal: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *importProgress) update(pr csvimport.Progress) {
	if !p.isTerminal {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	rate := float64(pr.Rows) / max(now.Sub(p.start).Seconds(), 0.001)
	line := fmt.Sprintf("%s  %s", p.name, importBytes(pr.Bytes))
	if p.total > 0 {
		pct := min(100, int(pr.Bytes*100/p.total))
		const width = 24
		bar := strings.Repeat("█", pct*width/100) + strings.Repeat("░", width-pct*width/100)
		line = fmt.Sprintf("%s %3d%%  %s of %s", bar, pct, importBytes(pr.Bytes), importBytes(p.total))
	}
	fmt.Fprintf(p.w, "\r%s  %s rows  %s rows/s\x1b[K", line, importCount(pr.Rows), importCount(int(rate)))
	p.drawn = true
}

func (p *importProgress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// importLimit writes a size limit as it is usually set: "2 GiB".
func importLimit(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return importBytes(n)
}

// importBytes writes a size for people: "12.3 MB".
func importBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

// importCount writes n with ',' between groups of three digits.
func importCount(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
