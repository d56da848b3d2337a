// Package kpi computes a shop's key performance indicators for any period of
// days, compared with the period of the same length just before it, for the
// whole shop and broken down by channel, store, acquisition campaign or
// month; the cohort retention matrix; and the costs behind cost per customer
// and customer acquisition cost. docs/kpis.md defines every figure; the
// definitions in definitions.go are the same text and travel with each
// number.
//
// Guarantees:
//   - The figures are exact: rollups are kept in step with processing by an
//     Extension, inside each batch's transaction (so exactly once), by
//     subtracting what a changed customer contributed before and adding what
//     the customer contributes now. Merges, unmerges, late refunds and
//     cancellations therefore leave the rollups equal to a computation from
//     the orders table (a test checks both against hand-computed values).
//   - The sales, customer, cost and value sections read only small rollups:
//     days × groups, and the order days of customers indexed by the previous
//     order day, so their cost does not grow with the number of orders. The
//     NPS, care, conversion and upselling sections are computed by the
//     survey, ticket and funnel packages from their own tables (the rows of
//     the period and the previous one), so both the API and bottega report
//     show every KPI.
//   - Money is summed in the base currency only, as customer statistics are;
//     orders in other currencies count as orders and customers, not revenue.
package kpi
