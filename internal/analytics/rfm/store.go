package rfm

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Load reads the RFM inputs of every customer as they stand now, from the
// per-customer statistics, ordered by profile.
func Load(ctx context.Context, c sqldb.Conn) ([]Customer, error) {
	rows, err := c.Query(ctx, `SELECT profile_id, orders, revenue_minor, last_order_at FROM customer_stats
		WHERE orders > 0 AND last_order_at IS NOT NULL ORDER BY profile_id`)
	if err != nil {
		return nil, err
	}
	return scanCustomers(rows)
}

// LoadAsOf reads the RFM inputs of every customer as they stood at the end
// of asOf's UTC day, from the orders themselves, by the rules of
// customer_stats: completed orders not cancelled by then, revenue in the
// base currency net of the refunds made by then (at most the order's
// value), customers with at least one such order; ordered by profile.
func LoadAsOf(ctx context.Context, c sqldb.Conn, asOf time.Time, baseCurrency string) ([]Customer, error) {
	end := (Day(asOf.UnixMilli()) + 1) * 86_400_000
	rows, err := c.Query(ctx, `SELECT p.canonical_id, COUNT(*),
			COALESCE(SUM(CASE WHEN o.currency = ? THEN o.value_minor - CASE WHEN r.refunded > o.value_minor THEN o.value_minor ELSE COALESCE(r.refunded, 0) END ELSE 0 END), 0),
			MAX(o.placed_at)
		FROM orders o JOIN profiles p ON p.id = o.profile_id
		LEFT JOIN (SELECT r.order_id, SUM(COALESCE(r.amount_minor, o2.value_minor)) AS refunded
			FROM order_refunds r JOIN orders o2 ON o2.order_id = r.order_id
			WHERE r.refunded_at < ? AND r.currency = o2.currency GROUP BY r.order_id) r ON r.order_id = o.order_id
		WHERE o.completed = 1 AND o.placed_at < ? AND (o.cancelled_at IS NULL OR o.cancelled_at >= ?)
		GROUP BY p.canonical_id ORDER BY p.canonical_id`, baseCurrency, end, end, end)
	if err != nil {
		return nil, err
	}
	return scanCustomers(rows)
}

func scanCustomers(rows *sql.Rows) ([]Customer, error) {
	defer rows.Close()
	var out []Customer
	for rows.Next() {
		var c Customer
		if err := rows.Scan(&c.Profile, &c.Orders, &c.Monetary, &c.LastOrderAt); err != nil {
			return nil, sqldb.Classify(err)
		}
		out = append(out, c)
	}
	return out, sqldb.Classify(rows.Err())
}

// GridReport is an RFM run at a glance: customers and revenue by segment and
// by (R, FM) cell, and the values where each score starts.
type GridReport struct {
	AsOf       time.Time       `json:"as_of"`
	ComputedAt time.Time       `json:"computed_at"`
	Customers  int64           `json:"customers"`
	Revenue    order.Money     `json:"revenue" doc:"Revenue net of refunds of the customers scored"`
	Segments   []SegmentTotals `json:"segments" doc:"The 11 segments, best first"`
	Cells      []GridCell      `json:"cells" doc:"The 25 cells of the R × FM grid"`
	Edges      ScoreEdges      `json:"edges" doc:"Where each score 2..5 starts"`
}

// SegmentTotals is one segment's share of the base.
type SegmentTotals struct {
	Segment   string      `json:"segment"`
	Customers int64       `json:"customers"`
	Share     float64     `json:"share" doc:"Share of the customers scored, 0-1"`
	Revenue   order.Money `json:"revenue"`
}

// GridCell is one cell of the R × FM grid.
type GridCell struct {
	R         int         `json:"r"`
	FM        int         `json:"fm"`
	Segment   string      `json:"segment"`
	Customers int64       `json:"customers"`
	Revenue   order.Money `json:"revenue"`
}

// ScoreEdges hold each measure's Edges: the least value (for recency the
// most days) that scores 2, 3, 4 and 5; null where no customer reaches a
// score.
type ScoreEdges struct {
	RecencyDays   Edges `json:"recency_days"`
	Frequency     Edges `json:"frequency"`
	MonetaryMinor Edges `json:"monetary_minor"`
}

// Summarise builds the summary of scored customers.
func Summarise(scored []Scored, edges [3]Edges, asOf, computed time.Time, currency string) GridReport {
	var cells [5][5]struct{ n, rev int64 }
	segs := map[string]*struct{ n, rev int64 }{}
	var total int64
	for _, s := range scored {
		c := &cells[s.FM-1][s.R-1]
		c.n++
		c.rev += s.Monetary
		total += s.Monetary
	}
	for fm := 1; fm <= 5; fm++ {
		for r := 1; r <= 5; r++ {
			c := cells[fm-1][r-1]
			g := segs[Segment(r, fm)]
			if g == nil {
				g = &struct{ n, rev int64 }{}
				segs[Segment(r, fm)] = g
			}
			g.n += c.n
			g.rev += c.rev
		}
	}
	out := GridReport{AsOf: asOf.UTC(), ComputedAt: computed.UTC().Truncate(time.Millisecond), Customers: int64(len(scored)),
		Revenue: order.NewMoney(total, currency), Edges: ScoreEdges{edges[0], edges[1], edges[2]}}
	for _, seg := range Segments {
		g := segs[seg]
		share := 0.0
		if len(scored) > 0 {
			share = float64(g.n) / float64(len(scored))
		}
		out.Segments = append(out.Segments, SegmentTotals{Segment: seg, Customers: g.n, Share: share, Revenue: order.NewMoney(g.rev, currency)})
	}
	for fm := 5; fm >= 1; fm-- {
		for r := 1; r <= 5; r++ {
			c := cells[fm-1][r-1]
			out.Cells = append(out.Cells, GridCell{R: r, FM: fm, Segment: Segment(r, fm), Customers: c.n, Revenue: order.NewMoney(c.rev, currency)})
		}
	}
	return out
}

// Refresh scores every customer as of now and replaces the stored scores
// and summary.
func Refresh(ctx context.Context, db *sqldb.DB, now time.Time, currency string) (GridReport, error) {
	cs, err := Load(ctx, db)
	if err != nil {
		return GridReport{}, err
	}
	asOf := now.UTC().Truncate(time.Millisecond)
	scored, edges := Score(cs, asOf)
	sum := Summarise(scored, edges, asOf, time.Now(), currency)
	js, err := json.Marshal(sum)
	if err != nil {
		return GridReport{}, err
	}
	rows := make([][]any, len(scored))
	for i, s := range scored {
		rows[i] = []any{s.Profile, asOf.UnixMilli(), s.RecencyDays, s.Orders, s.Monetary, s.LastOrderAt, s.R, s.F, s.M, s.FM, s.Segment}
	}
	err = db.InTxAs(ctx, sqldb.Background, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM rfm_scores"); err != nil {
			return err
		}
		if err := tx.Bulk(ctx, `INSERT INTO rfm_scores (profile_id, as_of, recency_days, frequency, monetary_minor, last_order_at, r, f, m, fm, segment)
			VALUES VALUES_LIST`, scoreTypes, rows, nil); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO rfm_runs (id, as_of, computed_at, customers, summary) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, computed_at = excluded.computed_at,
				customers = excluded.customers, summary = excluded.summary`,
			asOf.UnixMilli(), sum.ComputedAt.UnixMilli(), len(scored), string(js))
		return err
	})
	return sum, err
}

var scoreTypes = []sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Text}

// Current returns the summary of the last run, or a fault.NotFound error
// when scores were never computed.
func Current(ctx context.Context, c sqldb.Conn) (GridReport, error) {
	var js string
	err := c.QueryRow(ctx, "SELECT summary FROM rfm_runs WHERE id = 1").Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return GridReport{}, fault.New(fault.NotFound, "RFM scores have not been computed yet; they are computed at start and every hour")
	}
	if err != nil {
		return GridReport{}, sqldb.Classify(err)
	}
	var s GridReport
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return GridReport{}, fmt.Errorf("rfm: stored summary: %w", err)
	}
	return s, nil
}

// Computed reports whether scores were ever computed.
func Computed(ctx context.Context, c sqldb.Conn) (bool, error) {
	_, err := Current(ctx, c)
	if fault.Is(err, fault.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// CustomerScore is a customer's RFM score as the API shows it.
type CustomerScore struct {
	AsOf        time.Time   `json:"as_of"`
	Segment     string      `json:"segment"`
	R           int         `json:"r" minimum:"1" maximum:"5"`
	F           int         `json:"f" minimum:"1" maximum:"5"`
	M           int         `json:"m" minimum:"1" maximum:"5"`
	FM          int         `json:"fm" minimum:"1" maximum:"5" doc:"⌈(F+M)/2⌉"`
	RecencyDays int64       `json:"recency_days"`
	Frequency   int64       `json:"frequency"`
	Monetary    order.Money `json:"monetary"`
	LastOrderAt time.Time   `json:"last_order_at"`
}

const scoreColumns = "s.as_of, s.segment, s.r, s.f, s.m, s.fm, s.recency_days, s.frequency, s.monetary_minor, s.last_order_at"

func scanScore(sc interface{ Scan(...any) error }, currency string, extra ...any) (CustomerScore, error) {
	var (
		p             CustomerScore
		asOf, last, m int64
	)
	err := sc.Scan(append([]any{&asOf, &p.Segment, &p.R, &p.F, &p.M, &p.FM, &p.RecencyDays, &p.Frequency, &m, &last}, extra...)...)
	p.AsOf, p.LastOrderAt = time.UnixMilli(asOf).UTC(), time.UnixMilli(last).UTC()
	p.Monetary = order.NewMoney(m, currency)
	return p, err
}

// Get returns the stored score of canonical profile root, or nil when it
// has none (no completed order at the last run).
func Get(ctx context.Context, c sqldb.Conn, root, currency string) (*CustomerScore, error) {
	p, err := scanScore(c.QueryRow(ctx, "SELECT "+scoreColumns+" FROM rfm_scores s WHERE s.profile_id = ?", root), currency)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	return &p, nil
}

// SegmentMember is a customer of a segment.
type SegmentMember struct {
	Profile string `json:"profile_id"`
	Name    string `json:"name"`
	CustomerScore
}

// SegmentPage is a page of a segment's customers, highest monetary value first.
type SegmentPage struct {
	Segment   string          `json:"segment"`
	Customers []SegmentMember `json:"customers"`
	Next      string          `json:"next,omitempty" doc:"Cursor of the next page"`
}

// List returns a page of the customers of a segment (by their stored
// scores), highest monetary value first, then by profile id. cursor is the
// Next of the previous page.
func List(ctx context.Context, c sqldb.Conn, segment, cursor string, limit int, currency string) (SegmentPage, error) {
	seg, ok := ParseSegment(segment)
	if !ok {
		return SegmentPage{}, fault.New(fault.Invalid, "segment %q is not one of %s", segment, strings.Join(Segments, ", "))
	}
	q := "SELECT " + scoreColumns + ", s.profile_id, p.name FROM rfm_scores s JOIN profiles p ON p.id = s.profile_id WHERE s.segment = ?"
	args := []any{seg}
	if cursor != "" {
		m, id, err := parseCursor(cursor)
		if err != nil {
			return SegmentPage{}, err
		}
		q += " AND (s.monetary_minor < ? OR s.monetary_minor = ? AND s.profile_id > ?)"
		args = append(args, m, m, id)
	}
	q += " ORDER BY s.monetary_minor DESC, s.profile_id LIMIT ?"
	args = append(args, limit+1)
	rows, err := c.Query(ctx, q, args...)
	if err != nil {
		return SegmentPage{}, err
	}
	defer rows.Close()
	out := SegmentPage{Segment: seg, Customers: []SegmentMember{}}
	for rows.Next() {
		var m SegmentMember
		if m.CustomerScore, err = scanScore(rows, currency, &m.Profile, &m.Name); err != nil {
			return SegmentPage{}, sqldb.Classify(err)
		}
		out.Customers = append(out.Customers, m)
	}
	if err := rows.Err(); err != nil {
		return SegmentPage{}, sqldb.Classify(err)
	}
	if len(out.Customers) > limit {
		out.Customers = out.Customers[:limit]
		last := out.Customers[limit-1]
		out.Next = fmt.Sprintf("%d_%s", last.Monetary.Minor, last.Profile)
	}
	return out, nil
}

func parseCursor(cursor string) (int64, string, error) {
	a, id, ok := strings.Cut(cursor, "_")
	m, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", fault.New(fault.Invalid, "cursor %q is not one this API returned", cursor)
	}
	return m, id, nil
}

// At scores every customer as of the end of day's UTC day, from the orders,
// without storing anything.
func At(ctx context.Context, c sqldb.Conn, day time.Time, currency string) ([]Scored, GridReport, error) {
	d := time.UnixMilli(Day(day.UnixMilli()) * 86_400_000).UTC()
	cs, err := LoadAsOf(ctx, c, d, currency)
	if err != nil {
		return nil, GridReport{}, err
	}
	scored, edges := Score(cs, d)
	return scored, Summarise(scored, edges, d, time.Now(), currency), nil
}

// ListScored returns a page of the customers of a segment among scored
// customers (from At, as of asOf), in the order of List.
func ListScored(ctx context.Context, c sqldb.Conn, scored []Scored, asOf time.Time, segment, cursor string, limit int, currency string) (SegmentPage, error) {
	seg, ok := ParseSegment(segment)
	if !ok {
		return SegmentPage{}, fault.New(fault.Invalid, "segment %q is not one of %s", segment, strings.Join(Segments, ", "))
	}
	var (
		after   bool
		cm      int64
		cid     string
		members []Scored
		err     error
	)
	if cursor != "" {
		if cm, cid, err = parseCursor(cursor); err != nil {
			return SegmentPage{}, err
		}
		after = true
	}
	for _, s := range scored {
		if s.Segment == seg && (!after || s.Monetary < cm || s.Monetary == cm && s.Profile > cid) {
			members = append(members, s)
		}
	}
	slices.SortFunc(members, func(a, b Scored) int {
		if a.Monetary != b.Monetary {
			return cmp.Compare(b.Monetary, a.Monetary)
		}
		return strings.Compare(a.Profile, b.Profile)
	})
	out := SegmentPage{Segment: seg, Customers: []SegmentMember{}}
	if len(members) > limit {
		members = members[:limit]
		last := members[limit-1]
		out.Next = fmt.Sprintf("%d_%s", last.Monetary, last.Profile)
	}
	names := map[string]string{}
	if len(members) > 0 {
		args := make([]any, len(members))
		for i, m := range members {
			args[i] = m.Profile
		}
		rows, err := c.Query(ctx, "SELECT id, name FROM profiles WHERE id IN ("+sqldb.Placeholders(len(args))+")", args...)
		if err != nil {
			return SegmentPage{}, err
		}
		defer rows.Close()
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				return SegmentPage{}, sqldb.Classify(err)
			}
			names[id] = name
		}
		if err := rows.Err(); err != nil {
			return SegmentPage{}, sqldb.Classify(err)
		}
	}
	for _, m := range members {
		out.Customers = append(out.Customers, SegmentMember{Profile: m.Profile, Name: names[m.Profile], CustomerScore: CustomerScore{
			AsOf: asOf, Segment: m.Segment, R: m.R, F: m.F, M: m.M, FM: m.FM, RecencyDays: m.RecencyDays, Frequency: m.Orders,
			Monetary: order.NewMoney(m.Monetary, currency), LastOrderAt: time.UnixMilli(m.LastOrderAt).UTC()}})
	}
	return out, nil
}
