package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Recorder is the process.Extension that records the funnel's events.
type Recorder struct {
	baseCurrency string
}

// NewRecorder returns the extension that records product views, checkouts,
// marked cart additions and order lines as events are processed.
// baseCurrency is the currency of orders that name none.
func NewRecorder(baseCurrency string) *Recorder {
	if baseCurrency == "" {
		baseCurrency = "EUR"
	}
	return &Recorder{baseCurrency: baseCurrency}
}

// Begin starts a batch.
func (x *Recorder) Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (process.Hook, error) {
	return &hook{ctx: ctx, tx: tx, base: x.baseCurrency, checkouts: map[string]int{}, orders: map[string]int{}}, nil
}

// Rebuild has nothing to do: rows belong to raw profiles, and queries find
// their canonical profile when they read.
func (*Recorder) Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error { return nil }

type queuedOrder struct {
	id, profile string
	at, seq     int64
	lines       []line
}

type hook struct {
	ctx       context.Context
	tx        *sqldb.Tx
	base      string
	views     [][]any
	adds      [][]any
	checkouts map[string]int // key → index in checkoutRows
	coRows    [][]any
	orders    map[string]int // order id → index in orderQ
	orderQ    []queuedOrder
}

func (h *hook) Event(a process.Applied) error {
	e := a.Event
	if e.Type != event.Track {
		return nil
	}
	k := kind(e.Name)
	if k == "" {
		return nil
	}
	p := a.Body.Properties
	at := e.Timestamp.UnixMilli()
	channel := a.Body.Channel(e.Channel)
	switch k {
	case "view":
		h.views = append(h.views, []any{e.Seq, a.Profile, channel, at})
	case "add":
		cross, upsell := marks(p)
		product := productKey(p)
		if product == "" || len(product) > 255 {
			return nil
		}
		if upsell {
			h.adds = append(h.adds, []any{e.Seq, a.Profile, product, Upsell, at})
		} else if cross {
			h.adds = append(h.adds, []any{e.Seq, a.Profile, product, Cross, at})
		}
	case "checkout":
		orderID, _ := p.String("order_id")
		orderID = strings.TrimSpace(orderID)
		key, _ := p.String("checkout_id")
		switch key = strings.TrimSpace(key); {
		case key != "":
			key = "checkout:" + key
		case orderID != "":
			key = "order:" + orderID
		default:
			key = fmt.Sprintf("event:%d", e.Seq)
		}
		if len(key) > 300 || len(orderID) > 255 {
			return fault.New(fault.Invalid, "%s not recorded: checkout_id or order_id is longer than 255 bytes", e.Name)
		}
		store, _ := p.String("store_id")
		row := []any{key, a.Profile, orderID, channel, store, at, e.Seq}
		if i, ok := h.checkouts[key]; ok {
			if at < h.coRows[i][5].(int64) {
				h.coRows[i] = row
			}
		} else {
			h.checkouts[key] = len(h.coRows)
			h.coRows = append(h.coRows, row)
		}
	case "order":
		id, ls, ok := lines(a.Body, h.base)
		if !ok {
			return nil // the order package records why
		}
		q := queuedOrder{id: id, profile: a.Profile, at: at, seq: e.Seq, lines: ls}
		if i, ok := h.orders[id]; ok {
			h.orderQ[i] = q
		} else {
			h.orders[id] = len(h.orderQ)
			h.orderQ = append(h.orderQ, q)
		}
	}
	return nil
}

// addWindow is how long before an order a marked Product Added marks its
// product's line.
const addWindow = 7 * 24 * time.Hour

func (h *hook) Flush(process.Changes) error {
	if err := h.tx.Bulk(h.ctx, `INSERT INTO funnel_views (event_seq, profile_id, channel, viewed_at) VALUES VALUES_LIST ON CONFLICT (event_seq) DO NOTHING`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int}, h.views, nil); err != nil {
		return err
	}
	if err := h.tx.Bulk(h.ctx, `INSERT INTO funnel_adds (event_seq, profile_id, product, kind, added_at) VALUES VALUES_LIST ON CONFLICT (event_seq) DO NOTHING`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int}, h.adds, nil); err != nil {
		return err
	}
	if err := h.tx.Bulk(h.ctx, `INSERT INTO funnel_checkouts (checkout_key, profile_id, order_id, channel, store_id, started_at, event_seq) VALUES VALUES_LIST
		ON CONFLICT (checkout_key) DO UPDATE SET profile_id = excluded.profile_id, order_id = excluded.order_id, channel = excluded.channel,
			store_id = excluded.store_id, started_at = excluded.started_at, event_seq = excluded.event_seq
		WHERE excluded.started_at < funnel_checkouts.started_at`,
		[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int}, h.coRows, nil); err != nil {
		return err
	}
	if len(h.orderQ) == 0 {
		return nil
	}
	// Lines not marked on the order may be marked on an earlier Product
	// Added of the same customer.
	var probes [][]any
	for i, o := range h.orderQ {
		for j, l := range o.lines {
			if l.product != "" && !l.upsell {
				probes = append(probes, []any{fmt.Sprintf("%d.%d", i, j), o.profile, l.product, o.at})
			}
		}
	}
	var anyAdds int
	if len(probes) > 0 {
		if err := h.tx.QueryRow(h.ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM funnel_adds LIMIT 1) a").Scan(&anyAdds); err != nil {
			return sqldb.Classify(err)
		}
	}
	if anyAdds > 0 {
		err := h.tx.Bulk(h.ctx, `WITH v(k, profile_id, product, placed_at) AS (VALUES VALUES_LIST)
			SELECT v.k, MAX(CASE WHEN a.kind = 'cross' THEN 1 ELSE 0 END), MAX(CASE WHEN a.kind = 'upsell' THEN 1 ELSE 0 END)
			FROM v JOIN profiles pv ON pv.id = v.profile_id
			JOIN profiles pa ON pa.canonical_id = pv.canonical_id
			JOIN funnel_adds a ON a.profile_id = pa.id AND a.product = v.product AND a.added_at <= v.placed_at AND a.added_at >= v.placed_at - `+fmt.Sprint(addWindow.Milliseconds())+`
			GROUP BY v.k`,
			[]sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int}, probes, func(rows *sql.Rows) error {
				var (
					k             string
					cross, upsell int
					i, j          int
				)
				if err := rows.Scan(&k, &cross, &upsell); err != nil {
					return err
				}
				if _, err := fmt.Sscanf(k, "%d.%d", &i, &j); err != nil {
					return err
				}
				l := &h.orderQ[i].lines[j]
				l.cross = l.cross || cross == 1
				l.upsell = l.upsell || upsell == 1
				return nil
			})
		if err != nil {
			return err
		}
	}
	rows := make([][]any, 0, len(h.orderQ))
	for _, o := range h.orderQ {
		var all, cross, upsell, nc, nu int64
		for _, l := range o.lines {
			if l.upsell {
				l.cross = false // a line marked both counts as upsold
			}
			all += l.minor
			if l.cross {
				cross += l.minor
				nc++
			}
			if l.upsell {
				upsell += l.minor
				nu++
			}
		}
		rows = append(rows, []any{o.id, all, cross, upsell, nc, nu, o.seq})
	}
	return h.tx.Bulk(h.ctx, `INSERT INTO funnel_orders (order_id, lines_minor, cross_minor, upsell_minor, cross_lines, upsell_lines, event_seq) VALUES VALUES_LIST
		ON CONFLICT (order_id) DO UPDATE SET lines_minor = excluded.lines_minor, cross_minor = excluded.cross_minor, upsell_minor = excluded.upsell_minor,
			cross_lines = excluded.cross_lines, upsell_lines = excluded.upsell_lines, event_seq = excluded.event_seq
		WHERE excluded.event_seq > funnel_orders.event_seq`,
		[]sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int, sqldb.Int}, rows, nil)
}
