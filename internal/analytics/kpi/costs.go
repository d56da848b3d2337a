package kpi

import (
	"context"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Cost categories.
var categories = []string{"acquisition", "retention", "care", "other"}

// Cost is money spent over a period of days, in the base currency.
type Cost struct {
	ID          string `json:"id"`
	From        string `json:"from" doc:"First day the cost covers (YYYY-MM-DD)"`
	To          string `json:"to" doc:"Last day the cost covers (YYYY-MM-DD), inclusive"`
	Category    string `json:"category" enum:"acquisition,retention,care,other"`
	Campaign    string `json:"campaign" doc:"Acquisition campaign (utm_campaign) the cost is for, or empty"`
	Amount      string `json:"amount" doc:"Decimal amount in the currency"`
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Note        string `json:"note"`
	CreatedAt   string `json:"created_at"`
}

// NewCost is a cost to record.
type NewCost struct {
	From, To, Category, Campaign, Amount, Currency, Note string
}

// AddCost validates and records a cost. Its currency must be the base
// currency (empty means the base currency).
func AddCost(ctx context.Context, db *sqldb.DB, base string, c NewCost, now time.Time) (Cost, error) {
	from, err := ParseDay(strings.TrimSpace(c.From))
	if err != nil {
		return Cost{}, fault.New(fault.Invalid, "from %q is not a date (YYYY-MM-DD)", c.From)
	}
	to, err := ParseDay(strings.TrimSpace(c.To))
	if err != nil {
		return Cost{}, fault.New(fault.Invalid, "to %q is not a date (YYYY-MM-DD)", c.To)
	}
	if to < from {
		return Cost{}, fault.New(fault.Invalid, "to (%s) is before from (%s)", to, from)
	}
	cat := strings.ToLower(strings.TrimSpace(c.Category))
	ok := false
	for _, x := range categories {
		ok = ok || x == cat
	}
	if !ok {
		return Cost{}, fault.New(fault.Invalid, "category %q is not one of %s", c.Category, strings.Join(categories, ", "))
	}
	cur := strings.ToUpper(strings.TrimSpace(c.Currency))
	if cur == "" {
		cur = base
	}
	if cur != base {
		return Cost{}, fault.New(fault.Invalid, "currency %s: costs are entered in the base currency, %s", cur, base)
	}
	amount, err := order.ParseAmount(c.Amount, cur)
	if err != nil {
		return Cost{}, fault.New(fault.Invalid, "amount: %v", err)
	}
	if amount < 0 {
		return Cost{}, fault.New(fault.Invalid, "amount %s is negative", c.Amount)
	}
	campaign := strings.TrimSpace(c.Campaign)
	if len(campaign) > 255 || len(c.Note) > 1000 {
		return Cost{}, fault.New(fault.Invalid, "campaign (255 bytes) or note (1,000 bytes) is too long")
	}
	out := Cost{ID: uuid.Must(uuid.NewV7()).String(), From: from.String(), To: to.String(), Category: cat, Campaign: campaign,
		Amount: order.FormatMinor(amount, cur), AmountMinor: amount, Currency: cur, Note: c.Note, CreatedAt: now.UTC().Format(time.RFC3339)}
	_, err = db.Exec(ctx, `INSERT INTO kpi_costs (id, from_day, to_day, category, campaign, amount_minor, currency, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, out.ID, int64(from), int64(to), cat, campaign, amount, cur, c.Note, now.UnixMilli())
	if err != nil {
		return Cost{}, sqldb.Classify(err)
	}
	return out, nil
}

// Costs lists the costs that overlap [from, to], by first day.
func Costs(ctx context.Context, db *sqldb.DB, from, to Day) ([]Cost, error) {
	rows, err := db.Query(ctx, `SELECT id, from_day, to_day, category, campaign, amount_minor, currency, note, created_at
		FROM kpi_costs WHERE from_day <= ? AND to_day >= ? ORDER BY from_day, id`, int64(to), int64(from))
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	out := []Cost{}
	for rows.Next() {
		var (
			c      Cost
			f, t   int64
			create int64
		)
		if err := rows.Scan(&c.ID, &f, &t, &c.Category, &c.Campaign, &c.AmountMinor, &c.Currency, &c.Note, &create); err != nil {
			return nil, sqldb.Classify(err)
		}
		c.From, c.To = Day(f).String(), Day(t).String()
		c.Amount = order.FormatMinor(c.AmountMinor, c.Currency)
		c.CreatedAt = time.UnixMilli(create).UTC().Format(time.RFC3339)
		out = append(out, c)
	}
	return out, sqldb.Classify(rows.Err())
}

// costShare is the part of costs falling in a period, in minor units (not
// rounded yet).
type costShare struct {
	all, acquisition float64
}

// shareOf spreads each cost evenly over its days and sums the shares that
// fall in [from, to]: in total, and per campaign (key "": costs for no
// campaign).
func shareOf(costs []Cost, from, to Day) (costShare, map[string]costShare) {
	var total costShare
	by := map[string]costShare{}
	for _, c := range costs {
		cf, _ := ParseDay(c.From)
		ct, _ := ParseDay(c.To)
		lo, hi := max(cf, from), min(ct, to)
		if hi < lo {
			continue
		}
		v := float64(c.AmountMinor) * float64(hi-lo+1) / float64(ct-cf+1)
		s := by[c.Campaign]
		s.all += v
		total.all += v
		if c.Category == "acquisition" {
			s.acquisition += v
			total.acquisition += v
		}
		by[c.Campaign] = s
	}
	return total, by
}
