package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// demoCostNote marks the costs bottega demo enters.
const demoCostNote = "bottega demo"

// costPerVisitor is what the demo shop pays, in cents by utm_medium, for
// each person whose first touch a campaign was (a demo profile stands for
// the many clicks it took to bring one person in).
var costPerVisitor = map[string]int64{"cpc": 1800, "shopping": 1400, "social": 900, "paid_social": 1600, "affiliate": 2200, "email": 50}

// seedDemoCosts enters the demo shop's costs through the same store
// function as POST /api/v1/costs: per month, each campaign's acquisition
// cost (the visitors whose first touch it was, at the medium's price), and
// the fixed monthly costs of e-mail (retention), customer care and the rest.
// It does nothing if the demo's costs are there already.
func seedDemoCosts(ctx context.Context, db *sqldb.DB, currency string, end time.Time) error {
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kpi_costs WHERE note = ?", demoCostNote).Scan(&n); err != nil || n > 0 {
		return err
	}
	rows, err := db.Query(ctx, "SELECT acquisition FROM profiles WHERE canonical_id = id AND acquisition <> '{}'")
	if err != nil {
		return err
	}
	type key struct {
		month        kpi.Month
		name, medium string
	}
	visitors := map[key]int64{}
	first, last := kpi.Month(1<<30), kpi.Month(0)
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			rows.Close()
			return err
		}
		var t struct {
			Name   string `json:"name"`
			Medium string `json:"medium"`
			At     int64  `json:"at"`
		}
		if json.Unmarshal([]byte(raw), &t) != nil || t.Name == "" {
			continue
		}
		m := kpi.MonthOf(kpi.DayOfMillis(t.At))
		visitors[key{m, t.Name, t.Medium}]++
		first, last = min(first, m), max(last, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var costs []kpi.NewCost
	money := func(cents int64) string { return order.FormatMinor(cents, currency) }
	perCampaign := map[[2]any]int64{}
	for k, v := range visitors {
		perCampaign[[2]any{k.month, k.name}] += v * costPerVisitor[k.medium]
	}
	keys := make([][2]any, 0, len(perCampaign))
	for k := range perCampaign {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a[0] != b[0] {
			return a[0].(kpi.Month) < b[0].(kpi.Month)
		}
		return a[1].(string) < b[1].(string)
	})
	for _, k := range keys {
		m := k[0].(kpi.Month)
		if cents := perCampaign[k]; cents > 0 {
			costs = append(costs, kpi.NewCost{From: m.First().String(), To: m.Last().String(), Category: "acquisition", Campaign: k[1].(string), Amount: money(cents)})
		}
	}
	lastDay := kpi.DayOf(end) - 1
	for m := first; m <= last && m.First() <= lastDay; m++ {
		to := min(m.Last(), lastDay)
		for _, c := range []struct {
			category string
			cents    int64
		}{{"retention", 180_00}, {"care", 2_400_00}, {"other", 900_00}} {
			costs = append(costs, kpi.NewCost{From: m.First().String(), To: to.String(), Category: c.category, Amount: money(c.cents)})
		}
	}
	now := time.Now()
	for _, c := range costs {
		c.Currency, c.Note = currency, demoCostNote
		if _, err := kpi.AddCost(ctx, db, currency, c, now); err != nil {
			return fmt.Errorf("demo costs: %w", err)
		}
	}
	return nil
}
