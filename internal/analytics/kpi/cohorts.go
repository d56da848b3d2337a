package kpi

import (
	"context"
	"math"

	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Cohort is the customers whose first order was in one month, followed
// month by month.
type Cohort struct {
	Month     string  `json:"month" doc:"Month of the customers' first order (YYYY-MM)"`
	Customers int64   `json:"customers"`
	Revenue   float64 `json:"revenue" doc:"Net revenue of the cohort's customers so far, base currency"`
	// Per month k after the first (index 0 is the first month itself):
	Active    []int64   `json:"active" doc:"Customers of the cohort with an order in month k"`
	Retention []float64 `json:"retention" doc:"Active[k] ÷ customers: the share ordering again in month k"`
	Revenues  []float64 `json:"revenues" doc:"Net revenue of the cohort's customers in month k"`
}

// Cohorts is the cohort retention matrix.
type Cohorts struct {
	Currency   string   `json:"currency"`
	Definition string   `json:"definition"`
	Cohorts    []Cohort `json:"cohorts"`
}

// CohortDefinition is the definition of the cohort matrix, as in docs/kpis.md.
const CohortDefinition = "Customers are grouped by the month of their first order. For each month k after it (k = 0 is the first month), active is the number of the cohort's customers with an order in that month, retention is active ÷ the cohort's customers, and revenue is their net revenue in that month (orders placed minus refunds made in it, base currency)."

// ReadCohorts returns the cohorts whose first month is in [from, to] (zero
// values: no bound), oldest first; months run up to the month of asOf.
func ReadCohorts(ctx context.Context, db *sqldb.DB, base string, from, to Month, asOf Day) (Cohorts, error) {
	if base == "" {
		base = "EUR"
	}
	out := Cohorts{Currency: base, Definition: CohortDefinition, Cohorts: []Cohort{}}
	q := "SELECT cohort, k, customers, revenue_minor FROM kpi_cohorts"
	var args []any
	if from != 0 || to != 0 {
		q += " WHERE cohort BETWEEN ? AND ?"
		if to == 0 {
			to = math.MaxInt32
		}
		args = append(args, int64(from), int64(to))
	}
	rows, err := db.Query(ctx, q+" ORDER BY cohort, k", args...)
	if err != nil {
		return out, sqldb.Classify(err)
	}
	defer rows.Close()
	scale := math.Pow10(order.Digits(base))
	last := MonthOf(asOf)
	for rows.Next() {
		var c, k, n, rev int64
		if err := rows.Scan(&c, &k, &n, &rev); err != nil {
			return out, sqldb.Classify(err)
		}
		if len(out.Cohorts) == 0 || out.Cohorts[len(out.Cohorts)-1].Month != Month(c).String() {
			months := max(int(last)-int(c)+1, int(k)+1)
			out.Cohorts = append(out.Cohorts, Cohort{Month: Month(c).String(), Active: make([]int64, months), Retention: make([]float64, months), Revenues: make([]float64, months)})
		}
		co := &out.Cohorts[len(out.Cohorts)-1]
		for int(k) >= len(co.Active) {
			co.Active, co.Retention, co.Revenues = append(co.Active, 0), append(co.Retention, 0), append(co.Revenues, 0)
		}
		co.Active[k] = n
		co.Revenues[k] = float64(rev) / scale
		co.Revenue += float64(rev)
	}
	if err := rows.Err(); err != nil {
		return out, sqldb.Classify(err)
	}
	for i := range out.Cohorts {
		co := &out.Cohorts[i]
		co.Customers = co.Active[0]
		co.Revenue /= scale
		for k, n := range co.Active {
			if co.Customers > 0 {
				co.Retention[k] = float64(n) / float64(co.Customers)
			}
		}
	}
	return out, nil
}
