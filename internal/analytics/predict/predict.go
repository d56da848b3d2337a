package predict

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Minimums are the least history a fit needs. Below them the models'
// numbers would be noise, so a fit answers "not enough data yet".
type Minimums struct {
	Customers       int // customers with a purchase up to the calibration end (default 100)
	RepeatCustomers int // of them, customers with a repeat purchase, and with a repeat purchase of known value (default 30)
	WindowDays      int // days from the earliest first purchase to the calibration end (default 56)
}

// DefaultMinimums are the minimums docs/predictions.md documents.
var DefaultMinimums = Minimums{Customers: 100, RepeatCustomers: 30, WindowDays: 56}

// Config sets how predictions are computed.
type Config struct {
	BaseCurrency string
	Margin       float64  // share of order value that is profit (0 < m ≤ 1); 0 means 1
	DiscountRate float64  // yearly, for the CLV (0 ≤ d < 1)
	Min          Minimums // zero fields take DefaultMinimums
}

// Horizon is the prediction horizon in months.
const Horizon = 12

// Service fits models and writes predictions.
type Service struct {
	db  *sqldb.DB
	cfg Config
	now func() time.Time
	mu  sync.Mutex
}

// NewService returns a Service on db. now is the clock (time.Now if nil).
func NewService(db *sqldb.DB, cfg Config, now func() time.Time) *Service {
	if cfg.Margin <= 0 {
		cfg.Margin = 1
	}
	d := DefaultMinimums
	if cfg.Min.Customers <= 0 {
		cfg.Min.Customers = d.Customers
	}
	if cfg.Min.RepeatCustomers <= 0 {
		cfg.Min.RepeatCustomers = d.RepeatCustomers
	}
	if cfg.Min.WindowDays <= 0 {
		cfg.Min.WindowDays = d.WindowDays
	}
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, cfg: cfg, now: now}
}

// Params of the BG/NBD model.
type BGNBDParams struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"log_likelihood"`
}

// GammaGammaParams of the Gamma-Gamma model; γ is in major units of the
// currency.
type GammaGammaParams struct {
	P             float64 `json:"p"`
	Q             float64 `json:"q"`
	Gamma         float64 `json:"gamma"`
	LogLikelihood float64 `json:"log_likelihood"`
	Customers     int     `json:"customers" doc:"Customers with repeat purchases of known value, which the fit used"`
}

// Model is a fitted model.
type Model struct {
	ID              string           `json:"id"`
	FittedAt        time.Time        `json:"fitted_at"`
	CalibrationEnd  string           `json:"calibration_end" doc:"Last day (UTC) of the calibration window"`
	TimeUnit        clv.Unit         `json:"time_unit" enum:"day,week"`
	Currency        string           `json:"currency"`
	Customers       int              `json:"customers" doc:"Customers with a purchase up to the calibration end"`
	RepeatCustomers int              `json:"repeat_customers" doc:"Of them, customers with a repeat purchase"`
	FitSeconds      float64          `json:"fit_seconds" doc:"Time to read the orders and fit both models"`
	BGNBD           BGNBDParams      `json:"bgnbd"`
	GammaGamma      GammaGammaParams `json:"gamma_gamma"`
	Margin          float64          `json:"margin"`
	DiscountRate    float64          `json:"discount_rate" doc:"Yearly"`
	Horizon         int              `json:"horizon_months"`
}

func (m Model) bg() clv.BGNBD {
	return clv.BGNBD{R: m.BGNBD.R, Alpha: m.BGNBD.Alpha, A: m.BGNBD.A, B: m.BGNBD.B}
}

func (m Model) gg() clv.GammaGamma {
	return clv.GammaGamma{P: m.GammaGamma.P, Q: m.GammaGamma.Q, Gamma: m.GammaGamma.Gamma}
}

// Request asks for a fit.
type Request struct {
	CalibrationEnd time.Time // its UTC date is the last day of the window
	Unit           clv.Unit
}

const dayMs = 86400000

func dayOf(t time.Time) int64 { return t.UTC().Unix() / 86400 }

func dateOf(day int64) string { return time.Unix(day*86400, 0).UTC().Format(time.DateOnly) }

func (s *Service) check(calEnd time.Time, unit clv.Unit) error {
	if unit != clv.Day && unit != clv.Week {
		return fault.New(fault.Invalid, "time_unit %q is not day or week", unit)
	}
	if dayOf(calEnd) > dayOf(s.now()) {
		return fault.New(fault.Invalid, "calibration_end %s is in the future", calEnd.UTC().Format(time.DateOnly))
	}
	return nil
}

// customer is a customer's summary with its profile.
type customer struct {
	profile string
	clv.History
}

// load summarises the purchases of every customer up to calEnd (a day),
// counting those after it up to holdoutEnd. The orders table is read in one
// plain scan, in whatever order the database finds cheapest, and gathered
// per canonical profile in memory: the few merged profiles and refunded
// orders are read first into maps, because joining them per order costs
// more than the fit (a profile merged between the reads counts on its own
// until the next refit).
func (s *Service) load(ctx context.Context, calEnd, holdoutEnd int64, unit clv.Unit) ([]customer, error) {
	canonical, err := pairs(ctx, s.db, `SELECT id, canonical_id FROM profiles WHERE canonical_id <> id`)
	if err != nil {
		return nil, err
	}
	refunds := map[string]int64{}
	rrows, err := s.db.Query(ctx, `SELECT r.order_id, SUM(COALESCE(r.amount_minor, o.value_minor))
		FROM order_refunds r JOIN orders o ON o.order_id = r.order_id AND o.currency = r.currency GROUP BY r.order_id`)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var id string
		var n int64
		if err := rrows.Scan(&id, &n); err != nil {
			return nil, sqldb.Classify(err)
		}
		refunds[id] = n
	}
	if err := rrows.Err(); err != nil {
		return nil, sqldb.Classify(err)
	}
	rows, err := s.db.Query(ctx, `SELECT profile_id, order_id, placed_at, currency, value_minor FROM orders
		WHERE completed = 1 AND cancelled_at IS NULL AND placed_at < ?`, (max(calEnd, holdoutEnd)+1)*dayMs)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	scale := math.Pow10(order.Digits(s.cfg.BaseCurrency))
	var (
		idx   = map[string]int{}
		ids   []string
		lists [][]clv.Purchase
		prof  sql.RawBytes
		oid   sql.RawBytes
	)
	for rows.Next() {
		var (
			placed, value int64
			currency      string
		)
		if err := rows.Scan(&prof, &oid, &placed, &currency, &value); err != nil {
			return nil, sqldb.Classify(err)
		}
		i, ok := idx[string(prof)]
		if !ok {
			id := string(prof)
			if root, merged := canonical[id]; merged {
				i, ok = idx[root]
				id = root
			}
			if !ok {
				i = len(ids)
				idx[id] = i
				ids = append(ids, id)
				lists = append(lists, nil)
			}
		}
		p := clv.Purchase{Day: placed / dayMs}
		if currency == s.cfg.BaseCurrency {
			net := value - min(value, max(refunds[string(oid)], 0))
			p.Value, p.HasValue = float64(net)/scale, true
		}
		lists[i] = append(lists[i], p)
	}
	if err := rows.Err(); err != nil {
		return nil, sqldb.Classify(err)
	}
	out := make([]customer, 0, len(ids))
	for i, ps := range lists {
		sort.Slice(ps, func(a, b int) bool { return ps[a].Day < ps[b].Day })
		if h, ok := clv.Summarise(ps, calEnd, holdoutEnd, unit); ok {
			out = append(out, customer{profile: ids[i], History: h})
		}
		lists[i] = nil
	}
	// A deterministic order: by profile.
	sort.Slice(out, func(a, b int) bool { return out[a].profile < out[b].profile })
	return out, nil
}

// notEnough returns the reason why the customers are too few to fit, or "".
func (s *Service) notEnough(cs []customer, calEnd int64) string {
	m := s.cfg.Min
	repeat, valued := 0, 0
	first := calEnd
	for _, c := range cs {
		if c.X > 0 {
			repeat++
		}
		if c.MeanN > 0 && c.Mean > 0 {
			valued++
		}
		first = min(first, c.First)
	}
	switch {
	case len(cs) < m.Customers:
		return fmt.Sprintf("not enough data yet: %d customers bought by %s; predictions need at least %d", len(cs), dateOf(calEnd), m.Customers)
	case repeat < m.RepeatCustomers:
		return fmt.Sprintf("not enough data yet: %d customers bought again by %s; predictions need at least %d", repeat, dateOf(calEnd), m.RepeatCustomers)
	case valued < m.RepeatCustomers:
		return fmt.Sprintf("not enough data yet: %d customers bought again in %s with a positive value; predictions need at least %d", valued, s.cfg.BaseCurrency, m.RepeatCustomers)
	case calEnd-first < int64(m.WindowDays):
		return fmt.Sprintf("not enough data yet: the orders span %d days up to %s; predictions need at least %d", calEnd-first, dateOf(calEnd), m.WindowDays)
	}
	return ""
}

// fit fits both models to the customers.
func (s *Service) fit(cs []customer) (clv.BGNBD, float64, clv.GammaGamma, float64, int, error) {
	plain := make([]clv.Customer, len(cs))
	for i, c := range cs {
		plain[i] = c.Customer
	}
	bg, ll, err := clv.FitBGNBD(clv.GroupCustomers(plain))
	if err != nil {
		return bg, 0, clv.GammaGamma{}, 0, 0, fmt.Errorf("not enough data yet: the purchase model cannot be fitted to these orders (%v)", err)
	}
	vg := clv.GroupValues(plain)
	gg, gll, err := clv.FitGammaGamma(vg)
	if err != nil {
		return bg, ll, gg, 0, 0, fmt.Errorf("not enough data yet: the order value model cannot be fitted to these orders (%v)", err)
	}
	n := 0.0
	for _, v := range vg {
		n += v.N
	}
	return bg, ll, gg, gll, int(n), nil
}

// Fit fits the models on the orders up to req.CalibrationEnd, stores the
// model and every customer's predictions, and returns the model. Below the
// minimums it records the attempt and answers fault.Conflict.
func (s *Service) Fit(ctx context.Context, req Request) (Model, error) {
	if err := s.check(req.CalibrationEnd, req.Unit); err != nil {
		return Model{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	calEnd := dayOf(req.CalibrationEnd)
	cs, err := s.load(ctx, calEnd, calEnd, req.Unit)
	if err != nil {
		return Model{}, err
	}
	m := Model{ID: uuid.Must(uuid.NewV7()).String(), FittedAt: s.now().UTC().Truncate(time.Millisecond), CalibrationEnd: dateOf(calEnd),
		TimeUnit: req.Unit, Currency: s.cfg.BaseCurrency, Customers: len(cs), Margin: s.cfg.Margin, DiscountRate: s.cfg.DiscountRate, Horizon: Horizon}
	for _, c := range cs {
		if c.X > 0 {
			m.RepeatCustomers++
		}
	}
	reason := s.notEnough(cs, calEnd)
	var (
		bg clv.BGNBD
		gg clv.GammaGamma
	)
	if reason == "" {
		var ll, gll float64
		bg, ll, gg, gll, m.GammaGamma.Customers, err = s.fit(cs)
		if err != nil {
			reason = err.Error()
		}
		m.BGNBD = BGNBDParams{R: bg.R, Alpha: bg.Alpha, A: bg.A, B: bg.B, LogLikelihood: ll}
		m.GammaGamma.P, m.GammaGamma.Q, m.GammaGamma.Gamma, m.GammaGamma.LogLikelihood = gg.P, gg.Q, gg.Gamma, gll
	}
	m.FitSeconds = time.Since(start).Seconds()
	if reason != "" {
		if err := s.db.InTx(ctx, func(tx *sqldb.Tx) error { return insertModel(ctx, tx, m, reason, nil) }); err != nil {
			return Model{}, err
		}
		return Model{}, fault.New(fault.Conflict, "%s", reason)
	}
	if err := s.write(ctx, m, cs); err != nil {
		return Model{}, err
	}
	return m, nil
}

// row is a customer's prediction as stored.
type row struct {
	profile     string
	x           int
	tx, t       float64
	f           clv.Forecast
	value, clvV int64 // minor units
}

// predict computes every customer's predictions, forecasting each
// distinct (x, t_x, T) once, on all processors.
func predictAll(m Model, cs []customer) []row {
	type key struct {
		x     int
		tx, t float64
	}
	idx := map[key]int{}
	var keys []key
	for _, c := range cs {
		k := key{c.X, c.Tx, c.T}
		if _, ok := idx[k]; !ok {
			idx[k] = len(keys)
			keys = append(keys, k)
		}
	}
	bg, gg := m.bg(), m.gg()
	val := clv.Valuation{Months: Horizon, Margin: m.Margin, DiscountRate: m.DiscountRate}
	fs := make([]clv.Forecast, len(keys))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += workers {
				k := keys[i]
				fs[i] = val.Forecast(bg, k.x, k.tx, k.t, m.TimeUnit)
			}
		}()
	}
	wg.Wait()
	scale := math.Pow10(order.Digits(m.Currency))
	out := make([]row, len(cs))
	for i, c := range cs {
		f := fs[idx[key{c.X, c.Tx, c.T}]]
		ev := gg.ExpectedValue(c.MeanN, c.Mean)
		out[i] = row{profile: c.profile, x: c.X, tx: c.Tx, t: c.T, f: f,
			value: int64(math.Round(ev * scale)), clvV: int64(math.Round(f.DiscountedPurchases * ev * m.Margin * scale))}
	}
	return out
}

// chunkRows is how many predictions one write transaction holds, so that
// ingestion is never kept off SQLite's writer for long.
const chunkRows = 20000

// lockKey serialises switching models across nodes (PostgreSQL).
const lockKey = 0x70726564 // "pred"

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func (s *Service) write(ctx context.Context, m Model, cs []customer) error {
	rows := predictAll(m, cs)
	dist, err := json.Marshal(distributionOf(m.Currency, rows))
	if err != nil {
		return err
	}
	calEnd, _ := time.Parse(time.DateOnly, m.CalibrationEnd)
	unitDays := m.TimeUnit.Days()
	types := []sqldb.Type{sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Text, sqldb.Text}
	const q = `INSERT INTO predictions (profile_id, model_id, x, t_x, t, expected_purchases, p_alive, expected_value_minor, clv_minor, churn_risk, next_order_on)
		SELECT column1, column2, column3, CAST(column4 AS DOUBLE PRECISION), CAST(column5 AS DOUBLE PRECISION), CAST(column6 AS DOUBLE PRECISION),
			CAST(column7 AS DOUBLE PRECISION), column8, column9, column10, column11
		FROM (VALUES VALUES_LIST) AS v WHERE true
		ON CONFLICT (profile_id) DO UPDATE SET model_id = excluded.model_id, x = excluded.x, t_x = excluded.t_x, t = excluded.t,
			expected_purchases = excluded.expected_purchases, p_alive = excluded.p_alive, expected_value_minor = excluded.expected_value_minor,
			clv_minor = excluded.clv_minor, churn_risk = excluded.churn_risk, next_order_on = excluded.next_order_on`
	batch := make([][]any, 0, min(chunkRows, len(rows)))
	for len(rows) > 0 {
		n := min(chunkRows, len(rows))
		batch = batch[:0]
		for _, r := range rows[:n] {
			var next any
			if r.f.NextPurchase >= 0 {
				next = calEnd.Add(time.Duration(math.Ceil(r.f.NextPurchase*unitDays)) * 24 * time.Hour).Format(time.DateOnly)
			}
			batch = append(batch, []any{r.profile, m.ID, r.x, num(r.tx), num(r.t), num(r.f.ExpectedPurchases), num(r.f.PAlive),
				r.value, r.clvV, string(clv.RiskOf(r.f.PAlive)), next})
		}
		rows = rows[n:]
		if err := s.db.InTxAs(ctx, sqldb.Background, func(tx *sqldb.Tx) error {
			return tx.Bulk(ctx, q, types, batch, nil)
		}); err != nil {
			return err
		}
	}
	return s.db.InTxAs(ctx, sqldb.Background, func(tx *sqldb.Tx) error {
		if err := tx.Lock(ctx, lockKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM predictions WHERE model_id <> ?", m.ID); err != nil {
			return err
		}
		return insertModel(ctx, tx, m, "", dist)
	})
}

func insertModel(ctx context.Context, tx *sqldb.Tx, m Model, reason string, dist []byte) error {
	status := "ok"
	var params []any
	if reason != "" {
		status = "not_enough_data"
		params = []any{nil, nil, nil, nil, nil, nil, nil, nil, nil}
	} else {
		b, g := m.BGNBD, m.GammaGamma
		params = []any{b.R, b.Alpha, b.A, b.B, b.LogLikelihood, g.P, g.Q, g.Gamma, g.LogLikelihood}
	}
	args := append([]any{m.ID, m.FittedAt.UnixMilli(), status, reason, m.CalibrationEnd, string(m.TimeUnit), m.Currency,
		m.Customers, m.RepeatCustomers, m.GammaGamma.Customers, int64(m.FitSeconds * 1000)}, params...)
	args = append(args, m.Margin, m.DiscountRate, string(dist))
	_, err := tx.Exec(ctx, `INSERT INTO prediction_models (id, fitted_at, status, message, calibration_end, time_unit, currency,
			customers, repeat_customers, value_customers, fit_ms, r, alpha, a, b, bgnbd_ll, p, q, gamma, gg_ll, margin, discount_rate, distribution)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	return err
}

// Current returns the current model: the latest fitted with enough data.
// Without one it answers fault.NotFound, or fault.Conflict with the reason
// the latest attempt gave.
func Current(ctx context.Context, c sqldb.Conn) (Model, error) {
	var (
		m              Model
		at, ms         int64
		unit           string
		r, al, a, b, l sql.NullFloat64
		p, q, g, gl    sql.NullFloat64
	)
	err := c.QueryRow(ctx, `SELECT id, fitted_at, calibration_end, time_unit, currency, customers, repeat_customers, value_customers, fit_ms,
			r, alpha, a, b, bgnbd_ll, p, q, gamma, gg_ll, margin, discount_rate
		FROM prediction_models WHERE status = 'ok' ORDER BY fitted_at DESC, id DESC LIMIT 1`).
		Scan(&m.ID, &at, &m.CalibrationEnd, &unit, &m.Currency, &m.Customers, &m.RepeatCustomers, &m.GammaGamma.Customers, &ms,
			&r, &al, &a, &b, &l, &p, &q, &g, &gl, &m.Margin, &m.DiscountRate)
	if err == sql.ErrNoRows {
		why, err := lastFailure(ctx, c)
		if err != nil {
			return Model{}, err
		}
		if why != "" {
			return Model{}, fault.New(fault.Conflict, "%s", why)
		}
		return Model{}, fault.New(fault.NotFound, "no prediction model has been fitted yet: POST /api/v1/predictions/fit")
	}
	if err != nil {
		return Model{}, sqldb.Classify(err)
	}
	m.FittedAt, m.TimeUnit, m.FitSeconds, m.Horizon = time.UnixMilli(at).UTC(), clv.Unit(unit), float64(ms)/1000, Horizon
	m.BGNBD = BGNBDParams{R: r.Float64, Alpha: al.Float64, A: a.Float64, B: b.Float64, LogLikelihood: l.Float64}
	m.GammaGamma.P, m.GammaGamma.Q, m.GammaGamma.Gamma, m.GammaGamma.LogLikelihood = p.Float64, q.Float64, g.Float64, gl.Float64
	return m, nil
}

// lastFailure returns the message of the latest fit attempt if it failed.
func lastFailure(ctx context.Context, c sqldb.Conn) (string, error) {
	var status, msg string
	err := c.QueryRow(ctx, `SELECT status, message FROM prediction_models ORDER BY fitted_at DESC, id DESC LIMIT 1`).Scan(&status, &msg)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", sqldb.Classify(err)
	}
	if status == "ok" {
		return "", nil
	}
	return msg, nil
}

// Refit is the periodic job: it fits on the orders up to yesterday (the
// last complete UTC day) in the time unit of the current model (weeks if
// there is none). Not having enough data yet is not a failure of the job.
func (s *Service) Refit(ctx context.Context) error {
	unit := clv.Week
	if m, err := Current(ctx, s.db); err == nil {
		unit = m.TimeUnit
	} else if !fault.Is(err, fault.NotFound) && !fault.Is(err, fault.Conflict) {
		return err
	}
	_, err := s.Fit(ctx, Request{CalibrationEnd: s.now().UTC().AddDate(0, 0, -1), Unit: unit})
	if fault.Is(err, fault.Conflict) {
		return nil
	}
	return err
}

// sortByPredicted orders holdout customers by predicted purchases, most
// first, then by profile.
func sortByPredicted(cs []HoldoutCustomer) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Predicted != cs[j].Predicted {
			return cs[i].Predicted > cs[j].Predicted
		}
		return cs[i].Profile < cs[j].Profile
	})
}

// pairs reads a two-column query into a map.
func pairs(ctx context.Context, db *sqldb.DB, query string) (map[string]string, error) {
	rows, err := db.Query(ctx, query)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, sqldb.Classify(err)
		}
		m[k] = v
	}
	return m, sqldb.Classify(rows.Err())
}
