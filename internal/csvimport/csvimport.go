package csvimport

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Kind says what a file holds.
type Kind string

// The kinds of file bottega imports.
const (
	Customers Kind = "customers"
	Orders    Kind = "orders"
)

// Defaults of Options.
const (
	DefaultMaxFileBytes   = 2 << 30
	DefaultMaxRecordBytes = 1 << 20
	DefaultKeep           = 20
)

// Options configure an import.
type Options struct {
	Kind          Kind
	SourceID      string // the source the events are stored under
	SourceChannel string // its channel (web, app, pos, import…)

	// Channel is context.channel of orders without a channel column: web,
	// app or pos. Empty: the source's channel when it is app or pos, else web.
	Channel string
	// CustomerIDType is the identifier type of the customer id column:
	// user_id (the default) sends it as userId; another type (such as
	// pos_customer_id) sends it in context.externalIds.
	CustomerIDType string
	// Location is the time zone of dates written without one (default UTC).
	Location *time.Location
	// Encoding of the file: utf-8 (default), windows-1252, iso-8859-1 or
	// iso-8859-15.
	Encoding string
	// Delimiter between cells; 0 detects ',' ';' or tab from the header.
	Delimiter rune
	// Map names the column of a field (field → header), overriding aliases.
	Map map[string]string
	// PhoneRegion is the country of phone numbers written without +prefix,
	// used to check identifiers when the database holds no identity rules.
	PhoneRegion string

	MaxFileBytes   int64 // default 2 GiB
	MaxRecordBytes int64 // default 1 MiB
	BatchEvents    int   // events per /v1/batch body (default 500)
	InFlight       int   // batches being stored at once (default 4)

	// DryRun reads, converts and validates everything but stores nothing.
	DryRun bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Progress, if set, is called after every stored batch.
	Progress func(Progress)
	// Rejects, if set, receives a CSV file of every rejected row: the
	// file's header and cells unchanged (same delimiter, BOM if the file had
	// one) plus a reject_reason column, in line order. A corrected copy can
	// be imported again as it is (reject_reason is ignored on import).
	Rejects io.Writer
	// Keep is how many rejections Summary.Rejections keeps (default 20).
	Keep int
}

func (o *Options) defaults() error {
	switch o.Kind {
	case Customers, Orders:
	default:
		return fault.New(fault.Invalid, "kind %q is not orders or customers", o.Kind)
	}
	switch o.Channel {
	case "", "web", "app", "pos":
	default:
		return fault.New(fault.Invalid, "channel %q is not web, app or pos", o.Channel)
	}
	if o.CustomerIDType == "" {
		o.CustomerIDType = identity.UserID
	}
	if o.CustomerIDType != normalizeName(o.CustomerIDType) || o.CustomerIDType == identity.AnonymousID {
		return fault.New(fault.Invalid, "customer id type %q must be lower_snake_case, such as user_id or pos_customer_id", o.CustomerIDType)
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.BatchEvents <= 0 {
		o.BatchEvents = 500
	}
	if o.InFlight <= 0 {
		o.InFlight = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	return nil
}

// Progress is how far an import has got.
type Progress struct {
	Bytes int64 // bytes of the file read
	Rows  int   // data rows done (stored or rejected)
}

// Rejection is a row, or the rows of one order, that was not imported.
type Rejection struct {
	Line, LastLine int // lines in the file (the header is line 1)
	Reason         string
	Lines          []int      // the line of each record
	Records        [][]string // the rows as read (cells trimmed)
}

// Summary reports an import.
type Summary struct {
	Header    []string
	Delimiter rune
	BOM       bool
	Fields    map[string]string // field → the header of its column
	Extras    []string          // headers kept as traits or properties

	Rows        int // data rows read
	Orders      int // orders read (orders files)
	Events      int // events handed to ingestion
	Imported    int // new events stored
	Duplicates  int // events already imported before
	Rejected    int // rows rejected
	Quarantined int // events quarantined by ingestion (their rows are rejected too)
	Rejections  []Rejection
}

// Run imports r, a CSV file of o.Kind, into db through the ingestion path:
// the rows become Segment events in /v1/batch bodies that are parsed,
// validated, deduplicated and committed exactly like live traffic. It
// returns what happened; an error means the import stopped early (what was
// stored before stays stored, and running the import again completes it).
func Run(ctx context.Context, db *sqldb.DB, r io.Reader, o Options) (Summary, error) {
	if err := o.defaults(); err != nil {
		return Summary{}, err
	}
	check := identity.DefaultRules("")
	check.PhoneRegion = o.PhoneRegion
	if err := check.Compile(); err != nil {
		return Summary{}, err
	}
	rules, err := identity.LoadRules(ctx, db, check.PhoneRegion)
	if err != nil {
		return Summary{}, err
	}
	committer := event.NewCommitter(db, event.CommitterOptions{})
	done := make(chan struct{})
	go func() { defer close(done); committer.Run() }()
	defer func() { committer.Close(); <-done }()
	ig := event.NewIngester(committer, event.DefaultLimits(), o.Now)
	return run(ctx, ig, &rules, r, o)
}

// chunk is one /v1/batch body and the units it carries, in line order.
type chunk struct {
	units  []*unit
	body   []byte
	events int
	owner  []int // per event of the body: its unit
	rows   int
	bytes  int64
	result chan chunkResult
}

type chunkResult struct {
	out         event.Outcome
	quarantined map[int]string // unit → reason
	err         error
}

func (c *chunk) add(u *unit) {
	for _, ev := range u.events {
		if c.events == 0 {
			c.body = append(c.body, `{"batch":[`...)
		} else {
			c.body = append(c.body, ',')
		}
		c.body = append(c.body, ev...)
		c.owner = append(c.owner, len(c.units))
		c.events++
	}
	c.units = append(c.units, u)
}

func run(ctx context.Context, ig *event.Ingester, rules *identity.Rules, r io.Reader, o Options) (Summary, error) {
	var sum Summary
	rd, err := newReader(r, &o)
	if err != nil {
		return sum, err
	}
	cols, err := mapColumns(o.Kind, rd.header, o.Map)
	if err != nil {
		return sum, err
	}
	sum.Header, sum.Delimiter, sum.BOM, sum.Fields = rd.header, rd.delim, rd.bom, map[string]string{}
	for f, i := range cols.index {
		sum.Fields[string(f)] = rd.header[i]
	}
	for _, x := range cols.extras {
		sum.Extras = append(sum.Extras, rd.header[x.index])
	}
	var rw *rejectsWriter
	if o.Rejects != nil {
		if rw, err = newRejectsWriter(o.Rejects, rd.header, rd.delim, rd.bom); err != nil {
			return sum, err
		}
	}
	limits := ig.Limits()
	conv := newConverter(o.Kind, cols, rules, &o, limits.MaxEventBytes)
	maxBody := limits.MaxBatchBytes - limits.MaxEventBytes - 64

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		pending = make(chan *chunk, o.InFlight+1)
		sem     = make(chan struct{}, o.InFlight)
		workers sync.WaitGroup
		rows    int
		readErr error
	)
	defer workers.Wait()
	go func() {
		defer close(pending)
		cur := &chunk{}
		flush := func() bool {
			if len(cur.units) == 0 {
				return true
			}
			c := cur
			cur = &chunk{}
			c.bytes = rd.count.n
			c.result = make(chan chunkResult, 1)
			if c.events > 0 {
				c.body = append(c.body, "]}"...)
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return false
				}
				workers.Add(1)
				go func() {
					defer workers.Done()
					defer func() { <-sem }()
					c.result <- store(ctx, ig, &o, c)
				}()
			} else {
				c.result <- chunkResult{}
			}
			select {
			case pending <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		add := func(us []*unit) bool {
			for _, u := range us {
				size := 0
				for _, ev := range u.events {
					size += len(ev) + 1
				}
				if cur.events > 0 && (cur.events+len(u.events) > o.BatchEvents || len(cur.body)+size > maxBody) {
					if !flush() {
						return false
					}
				}
				cur.add(u)
				cur.rows += len(u.records)
				if len(cur.units) >= 4*o.BatchEvents && !flush() {
					return false
				}
			}
			return true
		}
		for {
			line, rec, problem, err := rd.next()
			if err == io.EOF {
				if add(conv.end()) {
					flush()
				}
				return
			}
			if err != nil {
				// The order being gathered may be incomplete: it is left out.
				readErr = err
				flush()
				return
			}
			if problem == "" && blank(rec) {
				continue // spreadsheets leave rows of empty cells at the end
			}
			rows++
			if !add(conv.row(line, rec, problem)) {
				return
			}
		}
	}()

	var firstErr error
	done := 0
	for c := range pending {
		res := <-c.result
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
				cancel()
			}
			continue
		}
		sum.Events += c.events
		sum.Imported += res.out.Stored
		sum.Duplicates += res.out.Duplicates
		for i, u := range c.units {
			if u.order {
				sum.Orders++
			}
			reason := u.reason
			if q, ok := res.quarantined[i]; ok {
				reason = q
				sum.Quarantined++
			}
			if reason == "" {
				continue
			}
			rej := Rejection{Line: u.first, LastLine: u.last, Reason: reason, Lines: u.lines, Records: u.records}
			sum.Rejected += len(u.records)
			if len(sum.Rejections) < o.Keep {
				sum.Rejections = append(sum.Rejections, rej)
			}
			if rw != nil && firstErr == nil {
				if err := rw.write(rej); err != nil {
					firstErr = err
					cancel()
				}
			}
		}
		done += c.rows
		if o.Progress != nil {
			o.Progress(Progress{Bytes: c.bytes, Rows: done})
		}
	}
	sum.Rows = rows
	if rw != nil && firstErr == nil {
		if err := rw.flush(); err != nil {
			firstErr = err
		}
	}
	sort.SliceStable(sum.Rejections, func(i, j int) bool { return sum.Rejections[i].Line < sum.Rejections[j].Line })
	if err := parent.Err(); err != nil {
		return sum, fault.Wrap(err, fault.Unavailable, "the import was interrupted")
	}
	for _, q := range []error{readErr, firstErr} {
		if q != nil {
			return sum, q
		}
	}
	return sum, nil
}

// store parses a chunk's body with the ingester, as /v1/batch would, and
// commits its events; a storage failure is retried a few times (the events'
// messageIds make retries safe).
func store(ctx context.Context, ig *event.Ingester, o *Options, c *chunk) chunkResult {
	req, received, err := ig.Parse("", c.body)
	if err != nil {
		// The importer wrote a body the ingester refuses: a bug, not a row.
		return chunkResult{err: fault.Wrap(err, fault.Internal, "ingestion refused an import batch: %s", fault.MessageOf(err))}
	}
	res := chunkResult{}
	for _, q := range req.Quarantined {
		if q.Index < 0 || q.Index >= len(c.owner) {
			continue
		}
		if res.quarantined == nil {
			res.quarantined = map[int]string{}
		}
		u := c.owner[q.Index]
		if _, seen := res.quarantined[u]; !seen {
			res.quarantined[u] = fmt.Sprintf("ingestion quarantined the %s event (%s): %s", q.Type, q.Reason, q.Detail)
		}
	}
	if o.DryRun {
		return res
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := ig.Store(ctx, o.SourceID, received, req)
		if err == nil {
			res.out = out
			return res
		}
		if !fault.Is(err, fault.Unavailable) || attempt == 5 || ctx.Err() != nil {
			res.err = err
			return res
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff *= 2
	}
}

func blank(rec []string) bool {
	for _, c := range rec {
		if c != "" {
			return false
		}
	}
	return true
}
