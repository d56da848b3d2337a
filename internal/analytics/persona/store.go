package persona

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// TopCategories is how many product categories (by spend across the base)
// become features.
const TopCategories = 5

// Load reads every customer's features as of now: the population and RFM
// inputs of customer_stats, channel and discount use from completed,
// uncancelled orders, category spend from their items (base currency), and
// the latest NPS answer (survey_responses, survey_type 'nps') of any of the
// customer's profiles. Customers are ordered by profile.
func Load(ctx context.Context, c sqldb.Conn, now time.Time, currency string) ([]Customer, []string, error) {
	rows, err := c.Query(ctx, `SELECT profile_id, orders, revenue_minor, first_order_at, last_order_at FROM customer_stats
		WHERE orders > 0 AND last_order_at IS NOT NULL ORDER BY profile_id`)
	if err != nil {
		return nil, nil, err
	}
	var cs []Customer
	at := map[string]int{}
	err = each(rows, func(r *sql.Rows) error {
		var (
			x           Customer
			first, last int64
		)
		if err := r.Scan(&x.Profile, &x.Orders, &x.Monetary, &first, &last); err != nil {
			return err
		}
		x.Recency = rfm.RecencyDays(last, now)
		if x.Orders > 1 {
			x.GapDays = float64(last-first) / 86_400_000 / float64(x.Orders-1)
		}
		x.NoNPS = true
		at[x.Profile] = len(cs)
		cs = append(cs, x)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Channel mix and discount use.
	counts := make([]float64, len(cs))
	rows, err = c.Query(ctx, `SELECT p.canonical_id, o.channel, COUNT(*),
			SUM(CASE WHEN COALESCE(o.discount_minor, 0) > 0 OR o.coupon <> '' THEN 1 ELSE 0 END)
		FROM orders o JOIN profiles p ON p.id = o.profile_id
		WHERE o.completed = 1 AND o.cancelled_at IS NULL GROUP BY p.canonical_id, o.channel`)
	if err != nil {
		return nil, nil, err
	}
	err = each(rows, func(r *sql.Rows) error {
		var (
			id, ch  string
			n, disc int64
		)
		if err := r.Scan(&id, &ch, &n, &disc); err != nil {
			return err
		}
		i, ok := at[id]
		if !ok {
			return nil
		}
		x := &cs[i]
		switch ch {
		case "web":
			x.Channel[0] += float64(n)
		case "app":
			x.Channel[1] += float64(n)
		case "pos":
			x.Channel[2] += float64(n)
		}
		x.Discount += float64(disc)
		counts[i] += float64(n)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range cs {
		if counts[i] > 0 {
			for j := range cs[i].Channel {
				cs[i].Channel[j] /= counts[i]
			}
			cs[i].Discount /= counts[i]
		}
	}
	// Category spend: the top categories across the base, then each
	// customer's share of item spend in each.
	type spend struct {
		i   int
		cat string
		v   int64
	}
	var spends []spend
	totals := map[string]int64{}
	itemTotal := make([]float64, len(cs))
	rows, err = c.Query(ctx, `SELECT p.canonical_id, i.category, SUM(i.price_minor * i.quantity)
		FROM order_items i JOIN orders o ON o.order_id = i.order_id JOIN profiles p ON p.id = o.profile_id
		WHERE o.completed = 1 AND o.cancelled_at IS NULL AND o.currency = ? GROUP BY p.canonical_id, i.category`, currency)
	if err != nil {
		return nil, nil, err
	}
	err = each(rows, func(r *sql.Rows) error {
		var s spend
		var id string
		if err := r.Scan(&id, &s.cat, &s.v); err != nil {
			return err
		}
		i, ok := at[id]
		if !ok || s.v <= 0 {
			return nil
		}
		s.i = i
		itemTotal[i] += float64(s.v)
		if s.cat != "" {
			totals[s.cat] += s.v
			spends = append(spends, s)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var cats []string
	for cat := range totals {
		cats = append(cats, cat)
	}
	slices.SortFunc(cats, func(a, b string) int {
		if totals[a] != totals[b] {
			if totals[a] > totals[b] {
				return -1
			}
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	})
	cats = cats[:min(len(cats), TopCategories)]
	col := map[string]int{}
	for j, cat := range cats {
		col[cat] = j
	}
	for i := range cs {
		cs[i].Categories = make([]float64, len(cats))
	}
	for _, s := range spends {
		if j, ok := col[s.cat]; ok {
			cs[s.i].Categories[j] += float64(s.v) / itemTotal[s.i]
		}
	}
	// The latest NPS answer of each customer (any of its profiles).
	rows, err = c.Query(ctx, `SELECT p.canonical_id, s.score FROM survey_responses s JOIN profiles p ON p.id = s.profile_id
		WHERE s.survey_type = 'nps' ORDER BY p.canonical_id, s.responded_at, s.event_seq`)
	if err != nil {
		return nil, nil, err
	}
	err = each(rows, func(r *sql.Rows) error {
		var (
			id    string
			score float64
		)
		if err := r.Scan(&id, &score); err != nil {
			return err
		}
		if i, ok := at[id]; ok {
			cs[i].NPS, cs[i].NoNPS = score, false // later answers come later
		}
		return nil
	})
	return cs, cats, err
}

func each(rows *sql.Rows, fn func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return sqldb.Classify(err)
		}
	}
	return sqldb.Classify(rows.Err())
}

// PersonaReport is a persona run as the API shows it.
type PersonaReport struct {
	AsOf        time.Time         `json:"as_of"`
	ComputedAt  time.Time         `json:"computed_at"`
	Customers   int64             `json:"customers"`
	K           int               `json:"k" doc:"Personas found (0: too few customers)"`
	Silhouettes []SilhouetteScore `json:"silhouettes"`
	Sampled     int               `json:"sampled" doc:"Customers the centroids were fitted on"`
	Features    []string          `json:"features"`
	Scale       []FeatureScale    `json:"scale"`
	Personas    []PersonaView     `json:"personas"`
	Note        string            `json:"note,omitempty"`
}

// PersonaView is one persona with its value in money.
type PersonaView struct {
	ID          int              `json:"id" doc:"1 is the persona of most total value"`
	Description string           `json:"description"`
	Customers   int64            `json:"customers"`
	Share       float64          `json:"share" doc:"Share of the customers, 0-1"`
	AvgRevenue  order.Money      `json:"avg_revenue" doc:"Revenue net of refunds per customer"`
	TotalValue  order.Money      `json:"total_value" doc:"Revenue net of refunds of all its customers"`
	NPSImputed  int64            `json:"nps_imputed" doc:"Customers without an NPS answer (given the mean)"`
	Cadence     string           `json:"cadence" doc:"one-time, weekly, monthly, quarterly or occasional"`
	Channel     string           `json:"channel" doc:"web, app, store or multichannel"`
	Profile     []PersonaFeature `json:"profile" doc:"Each feature's mean in its own units (days, orders, minor units, shares, NPS points) and the centroid's z-score"`
}

// Refresh computes the personas as of now and replaces the stored ones.
func Refresh(ctx context.Context, db *sqldb.DB, now time.Time, currency string, opts Options) (PersonaReport, error) {
	cs, cats, err := Load(ctx, db, now, currency)
	if err != nil {
		return PersonaReport{}, err
	}
	res := Clusters(cs, cats, opts)
	opts.defaults()
	asOf := now.UTC().Truncate(time.Millisecond)
	sum := PersonaReport{AsOf: asOf, ComputedAt: time.Now().UTC().Truncate(time.Millisecond), Customers: int64(len(cs)), K: res.K,
		Silhouettes: res.Silhouettes, Sampled: res.Sampled, Features: res.Features, Scale: res.Scale, Personas: []PersonaView{}}
	if res.K == 0 {
		sum.Note = fmt.Sprintf("not enough customers yet: personas need at least %d customers with a completed order", opts.MinCustomer)
	}
	if sum.Silhouettes == nil {
		sum.Silhouettes = []SilhouetteScore{}
	}
	var clusters [][]any
	for _, c := range res.Clusters {
		v := PersonaView{ID: c.ID, Description: c.Description, Customers: c.Customers, Share: c.Share,
			AvgRevenue: order.NewMoney(c.Revenue/max(1, c.Customers), currency), TotalValue: order.NewMoney(c.Revenue, currency),
			NPSImputed: c.NoNPS, Cadence: c.Cadence, Channel: c.Channel, Profile: c.Profile}
		sum.Personas = append(sum.Personas, v)
		detail, err := json.Marshal(v)
		if err != nil {
			return PersonaReport{}, err
		}
		clusters = append(clusters, []any{c.ID, c.Description, c.Customers, c.Revenue, string(detail)})
	}
	members := make([][]any, 0, len(res.Labels))
	for i, l := range res.Labels {
		imputed := 0
		if cs[i].NoNPS {
			imputed = 1
		}
		members = append(members, []any{cs[i].Profile, l, imputed})
	}
	js, err := json.Marshal(sum)
	if err != nil {
		return PersonaReport{}, err
	}
	err = db.InTxAs(ctx, sqldb.Background, func(tx *sqldb.Tx) error {
		for _, q := range []string{"DELETE FROM persona_members", "DELETE FROM persona_clusters"} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		if err := tx.Bulk(ctx, "INSERT INTO persona_clusters (cluster, description, customers, revenue_minor, detail) VALUES VALUES_LIST",
			[]sqldb.Type{sqldb.Int, sqldb.Text, sqldb.Int, sqldb.Int, sqldb.Text}, clusters, nil); err != nil {
			return err
		}
		if err := tx.Bulk(ctx, "INSERT INTO persona_members (profile_id, cluster, nps_imputed) VALUES VALUES_LIST",
			[]sqldb.Type{sqldb.Text, sqldb.Int, sqldb.Int}, members, nil); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO persona_runs (id, as_of, computed_at, customers, summary) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET as_of = excluded.as_of, computed_at = excluded.computed_at,
				customers = excluded.customers, summary = excluded.summary`,
			asOf.UnixMilli(), sum.ComputedAt.UnixMilli(), len(cs), string(js))
		return err
	})
	return sum, err
}

// Current returns the last run, or a fault.NotFound error when personas
// were never computed.
func Current(ctx context.Context, c sqldb.Conn) (PersonaReport, error) {
	var js string
	err := c.QueryRow(ctx, "SELECT summary FROM persona_runs WHERE id = 1").Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return PersonaReport{}, fault.New(fault.NotFound, "personas have not been computed yet; they are computed at start and every day")
	}
	if err != nil {
		return PersonaReport{}, sqldb.Classify(err)
	}
	var s PersonaReport
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return PersonaReport{}, fmt.Errorf("persona: stored summary: %w", err)
	}
	return s, nil
}

// Computed reports whether personas were ever computed.
func Computed(ctx context.Context, c sqldb.Conn) (bool, error) {
	_, err := Current(ctx, c)
	if fault.Is(err, fault.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// ProfilePersona is a customer's persona as the API shows it.
type ProfilePersona struct {
	ID          int       `json:"id"`
	Description string    `json:"description"`
	NPSImputed  bool      `json:"nps_imputed" doc:"The customer never answered an NPS survey; the mean stood in"`
	AsOf        time.Time `json:"as_of"`
}

// Get returns the persona of canonical profile root, or nil when it has
// none (no completed order at the last run, or too few customers).
func Get(ctx context.Context, c sqldb.Conn, root string) (*ProfilePersona, error) {
	var (
		p       ProfilePersona
		imputed int
		asOf    int64
	)
	err := c.QueryRow(ctx, `SELECT m.cluster, c.description, m.nps_imputed, r.as_of FROM persona_members m
		JOIN persona_clusters c ON c.cluster = m.cluster CROSS JOIN persona_runs r WHERE m.profile_id = ?`, root).
		Scan(&p.ID, &p.Description, &imputed, &asOf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	p.NPSImputed, p.AsOf = imputed == 1, time.UnixMilli(asOf).UTC()
	return &p, nil
}
