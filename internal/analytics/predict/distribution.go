package predict

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bottega-crm/bottega/internal/analytics/clv"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Risks are the churn-risk bands, least risk first.
var Risks = []clv.Risk{clv.RiskLow, clv.RiskMedium, clv.RiskHigh, clv.RiskVeryHigh}

// Distribution is how the stored predictions spread over the customers:
// how many are in each churn-risk band and in each bucket of 12-month CLV.
type Distribution struct {
	Customers int64              `json:"customers"`
	Currency  string             `json:"currency"`
	Risks     map[clv.Risk]int64 `json:"risks" doc:"Customers per churn-risk band (every band, 0 included)"`
	CLV       []Bucket           `json:"clv" doc:"From the lowest to the highest bucket holding a customer"`
}

// Bucket is a range of 12-month CLV, [From, To) in minor units; the first
// bucket has no lower bound (From is nil), the last no upper bound (To is
// nil).
type Bucket struct {
	From      *int64 `json:"from_minor"`
	To        *int64 `json:"to_minor"`
	Customers int64  `json:"customers"`
}

// clvEdges are the bucket edges in major units: 1, 2.5, 5, 10, 25, … up to
// 500 million.
func clvEdges(currency string) []int64 {
	scale := math.Pow10(order.Digits(currency))
	var out []int64
	for p := 1.0; p <= 1e8; p *= 10 {
		for _, m := range []float64{1, 2.5, 5} {
			out = append(out, int64(math.Round(m*p*scale)))
		}
	}
	return out
}

// Distribute returns how the current model's predictions spread: counted
// when the model was written, so it costs one row. For a model written
// before bottega kept the counts, it counts the stored predictions in one
// aggregate query.
func Distribute(ctx context.Context, c sqldb.Conn, currency string) (Distribution, error) {
	var stored string
	err := c.QueryRow(ctx, `SELECT distribution FROM prediction_models WHERE status = 'ok'
		ORDER BY fitted_at DESC, id DESC LIMIT 1`).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Distribution{}, sqldb.Classify(err)
	}
	if stored != "" {
		var d Distribution
		if err := json.Unmarshal([]byte(stored), &d); err != nil {
			return Distribution{}, fmt.Errorf("predict: stored distribution: %w", err)
		}
		if d.Currency == currency {
			return d, nil
		}
	}
	return countDistribution(ctx, c, currency)
}

// distributionOf counts rows about to be written as a model's predictions.
func distributionOf(currency string, rows []row) Distribution {
	edges := clvEdges(currency)
	counts := make([]int64, len(edges)+1)
	d := newDistribution(currency)
	for _, r := range rows {
		d.Customers++
		d.Risks[clv.RiskOf(r.f.PAlive)]++
		i, _ := slices.BinarySearch(edges, r.clvV+1) // the first edge > clv
		counts[i]++
	}
	d.CLV = buckets(edges, counts)
	return d
}

func newDistribution(currency string) Distribution {
	d := Distribution{Currency: currency, Risks: map[clv.Risk]int64{}}
	for _, r := range Risks {
		d.Risks[r] = 0
	}
	return d
}

// countDistribution counts the stored predictions by churn-risk band and CLV
// bucket in one aggregate query. Like the profile views (ForProfile), it
// counts every stored row: after a fit they are all the current model's.
func countDistribution(ctx context.Context, c sqldb.Conn, currency string) (Distribution, error) {
	edges := clvEdges(currency)
	var b strings.Builder
	args := make([]any, 0, len(edges))
	b.WriteString("SELECT churn_risk, CASE")
	for i, e := range edges {
		b.WriteString(" WHEN clv_minor < ? THEN " + strconv.Itoa(i))
		args = append(args, e)
	}
	b.WriteString(" ELSE " + strconv.Itoa(len(edges)) + " END AS bucket, COUNT(*) FROM predictions GROUP BY churn_risk, bucket")
	d := newDistribution(currency)
	counts := make([]int64, len(edges)+1)
	rows, err := c.Query(ctx, b.String(), args...)
	if err != nil {
		return d, sqldb.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			risk      string
			bucket, n int64
		)
		if err := rows.Scan(&risk, &bucket, &n); err != nil {
			return d, sqldb.Classify(err)
		}
		d.Customers += n
		d.Risks[clv.Risk(risk)] += n
		counts[bucket] += n
	}
	if err := rows.Err(); err != nil {
		return d, sqldb.Classify(err)
	}
	d.CLV = buckets(edges, counts)
	return d, nil
}

// buckets turns counts per bucket into the buckets from the lowest to the
// highest holding a customer.
func buckets(edges, counts []int64) []Bucket {
	var out []Bucket
	lo, hi := -1, -1
	for i, n := range counts {
		if n > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	for i := lo; lo >= 0 && i <= hi; i++ {
		bk := Bucket{Customers: counts[i]}
		if i > 0 {
			bk.From = &edges[i-1]
		}
		if i < len(edges) {
			bk.To = &edges[i]
		}
		out = append(out, bk)
	}
	return out
}
