package ticket

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Recorder is the process.Extension that records care tickets.
type Recorder struct{}

// NewRecorder returns the extension that records care tickets as events are
// processed.
func NewRecorder() *Recorder { return &Recorder{} }

// Begin starts a batch.
func (*Recorder) Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (process.Hook, error) {
	return &hook{ctx: ctx, tx: tx, tickets: map[string]*row{}}, nil
}

// Rebuild has nothing to do: tickets belong to raw profiles, and reports find
// their canonical profile when they read.
func (*Recorder) Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error { return nil }

// row is what a batch learnt of one ticket; times are Unix ms, 0 for none.
type row struct {
	id, profile, channel        string
	created, response, resolved int64
	seq                         int64
}

type hook struct {
	ctx     context.Context
	tx      *sqldb.Tx
	tickets map[string]*row
	order   []string
}

func earliest(cur, t int64) int64 {
	if cur == 0 || t < cur {
		return t
	}
	return cur
}

func (h *hook) Event(a process.Applied) error {
	e := a.Event
	k := kind(e.Name)
	if e.Type != event.Track || k == "" {
		return nil
	}
	p := a.Body.Properties
	id, _ := p.String("ticket_id")
	if id = strings.TrimSpace(id); id == "" {
		return fault.New(fault.Invalid, "%s not recorded: the event has no ticket_id", e.Name)
	}
	if len(id) > 255 {
		return fault.New(fault.Invalid, "%s not recorded: ticket_id is longer than 255 bytes", e.Name)
	}
	channel, _ := p.String("channel")
	if channel = strings.ToLower(strings.TrimSpace(channel)); channel == "" || len(channel) > 64 {
		channel = a.Body.Channel(e.Channel)
	}
	at := e.Timestamp.UnixMilli()
	r := h.tickets[id]
	if r == nil {
		r = &row{id: id, profile: a.Profile, channel: channel, seq: e.Seq}
		h.tickets[id] = r
		h.order = append(h.order, id)
	}
	switch k {
	case Created:
		if r.created == 0 || at < r.created {
			r.profile, r.channel, r.seq = a.Profile, channel, e.Seq
		}
		r.created = earliest(r.created, at)
	case Replied:
		if author, _ := p.String("author"); byDesk(author) {
			r.response = earliest(r.response, at)
		}
	case Resolved:
		r.resolved = earliest(r.resolved, at)
	}
	return nil
}

func null(t int64) any {
	if t == 0 {
		return nil
	}
	return t
}

func (h *hook) Flush(process.Changes) error {
	if len(h.order) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(h.order))
	for _, id := range h.order {
		r := h.tickets[id]
		rows = append(rows, []any{r.id, r.profile, r.channel, null(r.created), null(r.response), null(r.resolved), r.seq})
	}
	h.order, h.tickets = nil, map[string]*row{}
	// Each time is the earliest seen; the profile and channel are those of
	// the earliest Ticket Created.
	return h.tx.Bulk(h.ctx, `INSERT INTO care_tickets (ticket_id, profile_id, channel, created_at, first_response_at, resolved_at, created_seq)
		VALUES VALUES_LIST ON CONFLICT (ticket_id) DO UPDATE SET
		profile_id = CASE WHEN excluded.created_at IS NOT NULL AND (care_tickets.created_at IS NULL OR excluded.created_at < care_tickets.created_at)
			THEN excluded.profile_id ELSE care_tickets.profile_id END,
		channel = CASE WHEN excluded.created_at IS NOT NULL AND (care_tickets.created_at IS NULL OR excluded.created_at < care_tickets.created_at)
			THEN excluded.channel ELSE care_tickets.channel END,
		created_seq = CASE WHEN excluded.created_at IS NOT NULL AND (care_tickets.created_at IS NULL OR excluded.created_at < care_tickets.created_at)
			THEN excluded.created_seq ELSE care_tickets.created_seq END,
		created_at = CASE WHEN excluded.created_at IS NOT NULL AND (care_tickets.created_at IS NULL OR excluded.created_at < care_tickets.created_at)
			THEN excluded.created_at ELSE care_tickets.created_at END,
		first_response_at = CASE WHEN excluded.first_response_at IS NOT NULL AND (care_tickets.first_response_at IS NULL OR excluded.first_response_at < care_tickets.first_response_at)
			THEN excluded.first_response_at ELSE care_tickets.first_response_at END,
		resolved_at = CASE WHEN excluded.resolved_at IS NOT NULL AND (care_tickets.resolved_at IS NULL OR excluded.resolved_at < care_tickets.resolved_at)
			THEN excluded.resolved_at ELSE care_tickets.resolved_at END`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int}, rows, nil)
}

// Breakdowns a report can be split by.
const (
	ByChannel = "channel"
	ByMonth   = "month"
)

// CheckBy returns a fault.Invalid error unless by is "", channel or month.
func CheckBy(by string) error {
	switch by {
	case "", ByChannel, ByMonth:
		return nil
	}
	return fault.New(fault.Invalid, "care figures can be split by channel or month, not %q", by)
}

// CareSlice is the figures of one channel or month.
type CareSlice struct {
	Key string `json:"key" doc:"Care channel (whatsapp, email, phone…) or month (YYYY-MM)"`
	Times
}

// CareReport is the care figures of the tickets created in a period.
type CareReport struct {
	Times
	By     string      `json:"by,omitempty"`
	Groups []CareSlice `json:"groups,omitempty"`
}

// Summarise measures the tickets created in a period, split by a breakdown
// ("" for none).
func Summarise(ctx context.Context, c sqldb.Conn, p days.Period, by string) (CareReport, error) {
	r := CareReport{By: by}
	if err := CheckBy(by); err != nil {
		return r, err
	}
	lo, hi := p.Bounds()
	rows, err := c.Query(ctx, `SELECT channel, created_at, first_response_at, resolved_at FROM care_tickets
		WHERE created_at >= ? AND created_at < ?`, lo, hi)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	defer rows.Close()
	groups := map[string]*Times{}
	for rows.Next() {
		var (
			channel              string
			created              int64
			response, resolution sql.NullInt64
		)
		if err := rows.Scan(&channel, &created, &response, &resolution); err != nil {
			return r, sqldb.Classify(err)
		}
		minutes := func(t sql.NullInt64) float64 {
			if !t.Valid {
				return -1
			}
			return float64(max(0, t.Int64-created)) / 60000
		}
		a, b := minutes(response), minutes(resolution)
		r.add(a, b)
		key := ""
		switch by {
		case ByChannel:
			key = channel
		case ByMonth:
			key = time.UnixMilli(created).UTC().Format("2006-01")
		default:
			continue
		}
		g := groups[key]
		if g == nil {
			g = &Times{}
			groups[key] = g
		}
		g.add(a, b)
	}
	if err := rows.Err(); err != nil {
		return r, sqldb.Classify(err)
	}
	r.finish()
	for k, g := range groups {
		g.finish()
		r.Groups = append(r.Groups, CareSlice{Key: k, Times: *g})
	}
	sort.Slice(r.Groups, func(i, j int) bool { return r.Groups[i].Key < r.Groups[j].Key })
	return r, nil
}
