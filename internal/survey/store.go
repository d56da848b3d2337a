package survey

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/days"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Recorder is the process.Extension that records survey answers.
type Recorder struct{}

// NewRecorder returns the extension that records survey answers as events
// are processed.
func NewRecorder() *Recorder { return &Recorder{} }

// Begin starts a batch.
func (*Recorder) Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (process.Hook, error) {
	return &hook{ctx: ctx, tx: tx}, nil
}

// Rebuild has nothing to do: answers belong to raw profiles, and reports
// find their canonical profile when they read.
func (*Recorder) Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error { return nil }

type queued struct {
	seq     int64
	profile string
	at      int64
	channel string // the event's channel
	a       Answer
}

type hook struct {
	ctx   context.Context
	tx    *sqldb.Tx
	queue []queued
}

func (h *hook) Event(a process.Applied) error {
	e := a.Event
	if e.Type != event.Track || !Responded(e.Name) {
		return nil
	}
	ans, ok, err := Read(a.Body.Properties)
	if err != nil {
		return fault.New(fault.Invalid, "%s not recorded: %v", e.Name, err)
	}
	if !ok {
		return nil
	}
	h.queue = append(h.queue, queued{seq: e.Seq, profile: a.Profile, at: e.Timestamp.UnixMilli(), channel: a.Body.Channel(e.Channel), a: ans})
	return nil
}

var rowTypes = []sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Text}

func (h *hook) Flush(process.Changes) error {
	if len(h.queue) == 0 {
		return nil
	}
	// Answers about an order rate the order's channel and store.
	type place struct{ channel, store string }
	orders := map[string]place{}
	var ids [][]any
	for _, q := range h.queue {
		if id := q.a.OrderID; id != "" && (q.a.Channel == "" || q.a.StoreID == "") {
			if _, ok := orders[id]; !ok {
				orders[id] = place{}
				ids = append(ids, []any{id})
			}
		}
	}
	if len(ids) > 0 {
		err := h.tx.Bulk(h.ctx, `WITH v(id) AS (VALUES VALUES_LIST) SELECT o.order_id, o.channel, o.store_id FROM v JOIN orders o ON o.order_id = v.id`,
			[]sqldb.Type{sqldb.Text}, ids, func(rows *sql.Rows) error {
				var id string
				var p place
				if err := rows.Scan(&id, &p.channel, &p.store); err != nil {
					return err
				}
				orders[id] = p
				return nil
			})
		if err != nil {
			return err
		}
	}
	rows := make([][]any, 0, len(h.queue))
	for _, q := range h.queue {
		a := q.a
		o := orders[a.OrderID]
		channel := a.Channel
		if channel == "" {
			channel = o.channel
		}
		if channel == "" {
			channel = q.channel
		}
		store := a.StoreID
		if store == "" {
			store = o.store
		}
		rows = append(rows, []any{q.seq, q.profile, a.Type, int64(a.Score), a.Comment, channel, store, q.at, a.SurveyID, a.OrderID})
	}
	h.queue = h.queue[:0]
	// Only answers recorded now count in the daily rollup, so an event seen
	// again never counts twice.
	type cell struct {
		day                 int64
		channel, store, typ string
		score               int64
	}
	counts := map[cell]int64{}
	var order []cell
	err := h.tx.Bulk(h.ctx, `INSERT INTO survey_responses (event_seq, profile_id, survey_type, score, comment, channel, store_id, responded_at, survey_id, order_id)
		VALUES VALUES_LIST ON CONFLICT (event_seq) DO NOTHING RETURNING survey_type, score, channel, store_id, responded_at`, rowTypes, rows, func(rs *sql.Rows) error {
		var (
			c  cell
			at int64
		)
		if err := rs.Scan(&c.typ, &c.score, &c.channel, &c.store, &at); err != nil {
			return err
		}
		c.day = days.Start(time.UnixMilli(at)).UnixMilli()
		if _, ok := counts[c]; !ok {
			order = append(order, c)
		}
		counts[c]++
		return nil
	})
	if err != nil || len(order) == 0 {
		return err
	}
	daily := make([][]any, 0, len(order))
	for _, c := range order {
		daily = append(daily, []any{c.day, c.channel, c.store, c.typ, c.score, counts[c]})
	}
	return h.tx.Bulk(h.ctx, `INSERT INTO survey_daily (day, channel, store_id, survey_type, score, n) VALUES VALUES_LIST
		ON CONFLICT (day, channel, store_id, survey_type, score) DO UPDATE SET n = survey_daily.n + excluded.n`,
		[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int}, daily, nil)
}

// Breakdowns a report can be split by.
const (
	ByChannel = "channel"
	ByStore   = "store"
	ByMonth   = "month"
)

// NoKey is the group of answers without a channel or store.
const NoKey = "none"

// CheckBy returns a fault.Invalid error unless by is "", channel, store or
// month.
func CheckBy(by string) error {
	switch by {
	case "", ByChannel, ByStore, ByMonth:
		return nil
	}
	return fault.New(fault.Invalid, "by must be channel, store or month, not %q", by)
}

// Scores are the NPS and CSAT figures of a set of answers.
type Scores struct {
	NPS  NPSScores  `json:"nps"`
	CSAT CSATScores `json:"csat"`
}

// addN counts n answers of one type and score.
func (s *Scores) addN(typ string, score, n int) {
	if typ == NPS {
		s.NPS.addN(score, n)
	} else if score >= 1 && score <= 5 {
		s.CSAT.addN(score, n)
	}
}

func (s *Scores) finish() {
	s.NPS.finish()
	s.CSAT.finish()
}

// ScoreSlice is the figures of one channel, store or month.
type ScoreSlice struct {
	Key string `json:"key" doc:"Channel, store id or month (YYYY-MM); \"none\" for answers without a channel or store"`
	Scores
}

// NPSReport is the NPS and CSAT of a period.
type NPSReport struct {
	From string `json:"from"`
	To   string `json:"to"`
	Scores
	By     string       `json:"by,omitempty"`
	Groups []ScoreSlice `json:"groups,omitempty" doc:"The figures by the breakdown asked for"`
	Trend  []ScoreSlice `json:"trend" doc:"The figures month by month (months of the period with answers)"`
}

// Summarise reports on the answers of a period, split by a breakdown ("" for
// none).
func Summarise(ctx context.Context, c sqldb.Conn, p days.Period, by string) (NPSReport, error) {
	if err := CheckBy(by); err != nil {
		return NPSReport{}, err
	}
	start, end := p.Bounds()
	r := NPSReport{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), By: by}
	// The daily rollup, summed by day and by the breakdown's column.
	col, group := "''", ""
	switch by {
	case ByChannel:
		col, group = "channel", ", channel"
	case ByStore:
		col, group = "store_id", ", store_id"
	}
	rows, err := c.Query(ctx, `SELECT day, `+col+`, survey_type, score, SUM(n) FROM survey_daily
		WHERE day >= ? AND day < ? GROUP BY day, survey_type, score`+group, start, end)
	if err != nil {
		return r, sqldb.Classify(err)
	}
	defer rows.Close()
	groups, months := map[string]*Scores{}, map[string]*Scores{}
	get := func(m map[string]*Scores, k string) *Scores {
		if k == "" {
			k = NoKey
		}
		s := m[k]
		if s == nil {
			s = &Scores{}
			m[k] = s
		}
		return s
	}
	for rows.Next() {
		var (
			typ, k   string
			score, n int
			at       int64
		)
		if err := rows.Scan(&at, &k, &typ, &score, &n); err != nil {
			return r, sqldb.Classify(err)
		}
		month := time.UnixMilli(at).UTC().Format("2006-01")
		r.addN(typ, score, n)
		get(months, month).addN(typ, score, n)
		switch by {
		case ByChannel, ByStore:
			get(groups, k).addN(typ, score, n)
		case ByMonth:
			get(groups, month).addN(typ, score, n)
		}
	}
	if err := rows.Err(); err != nil {
		return r, sqldb.Classify(err)
	}
	r.finish()
	r.Groups = sorted(groups)
	r.Trend = sorted(months)
	return r, nil
}

func sorted(m map[string]*Scores) []ScoreSlice {
	out := make([]ScoreSlice, 0, len(m))
	for k, s := range m {
		s.finish()
		out = append(out, ScoreSlice{Key: k, Scores: *s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// ResponseComment is an answer with a comment.
type ResponseComment struct {
	Profile     string    `json:"profile_id" doc:"The customer's canonical profile"`
	SurveyType  string    `json:"survey_type"`
	Score       int       `json:"score"`
	Comment     string    `json:"comment"`
	Channel     string    `json:"channel"`
	StoreID     string    `json:"store_id,omitempty"`
	OrderID     string    `json:"order_id,omitempty"`
	RespondedAt time.Time `json:"responded_at"`
}

// Comments is a page of comments.
type Comments struct {
	Comments []ResponseComment `json:"comments"`
	Next     string            `json:"next,omitempty" doc:"Pass as comments_before for the next page; absent on the last"`
}

// MaxComments is the most comments a page holds.
const MaxComments = 200

// ListComments returns the comments of a period, newest first, at most limit
// (1-200), before a cursor from a previous page ("" for the first).
func ListComments(ctx context.Context, c sqldb.Conn, p days.Period, limit int, before string) (Comments, error) {
	out := Comments{Comments: []ResponseComment{}}
	if limit < 1 || limit > MaxComments {
		return out, fault.New(fault.Invalid, "the comments limit must be 1-%d, not %d", MaxComments, limit)
	}
	start, end := p.Bounds()
	// The cursor is responded_at.event_seq of the last comment shown.
	at, seq := end, int64(0)
	if before != "" {
		a, s, ok := strings.Cut(before, ".")
		var err1, err2 error
		at, err1 = strconv.ParseInt(a, 10, 64)
		seq, err2 = strconv.ParseInt(s, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return out, fault.New(fault.Invalid, "comments_before %q is not a cursor from a previous page", before)
		}
	}
	rows, err := c.Query(ctx, `SELECT r.event_seq, p.canonical_id, r.survey_type, r.score, r.comment, r.channel, r.store_id, r.order_id, r.responded_at
		FROM survey_responses r JOIN profiles p ON p.id = r.profile_id
		WHERE r.responded_at >= ? AND r.comment <> '' AND (r.responded_at < ? OR r.responded_at = ? AND r.event_seq < ?) AND r.responded_at < ?
		ORDER BY r.responded_at DESC, r.event_seq DESC LIMIT ?`, start, at, at, seq, end, limit+1)
	if err != nil {
		return out, sqldb.Classify(err)
	}
	defer rows.Close()
	var last [2]int64
	for rows.Next() {
		var (
			cm    ResponseComment
			s, ms int64
		)
		if err := rows.Scan(&s, &cm.Profile, &cm.SurveyType, &cm.Score, &cm.Comment, &cm.Channel, &cm.StoreID, &cm.OrderID, &ms); err != nil {
			return out, sqldb.Classify(err)
		}
		if len(out.Comments) == limit {
			out.Next = fmt.Sprintf("%d.%d", last[0], last[1])
			break
		}
		cm.RespondedAt = time.UnixMilli(ms).UTC()
		out.Comments = append(out.Comments, cm)
		last = [2]int64{ms, s}
	}
	return out, sqldb.Classify(rows.Err())
}

// LatestNPS returns the most recent NPS score of each canonical profile
// answering up to asOf (zero: ever), for features that want one score per
// person.
func LatestNPS(ctx context.Context, c sqldb.Conn, asOf time.Time) (map[string]int, error) {
	limit := int64(1) << 62
	if !asOf.IsZero() {
		limit = asOf.UnixMilli()
	}
	rows, err := c.Query(ctx, `SELECT p.canonical_id, r.score FROM survey_responses r JOIN profiles p ON p.id = r.profile_id
		WHERE r.survey_type = 'nps' AND r.responded_at <= ? ORDER BY r.responded_at, r.event_seq`, limit)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var score int
		if err := rows.Scan(&id, &score); err != nil {
			return nil, sqldb.Classify(err)
		}
		out[id] = score
	}
	return out, sqldb.Classify(rows.Err())
}
