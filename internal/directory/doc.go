// Package directory is the customer directory: the read model behind the
// customer list, its CSV export and the customer 360.
//
// Guarantees:
//   - List returns canonical profiles only (merged_into IS NULL), filtered
//     by text (search terms and exact identifiers), RFM segment, persona,
//     churn band, order channel, order store and NPS group, in one of five
//     sorts. Pages are keyed by an opaque cursor: walking Next to the end
//     returns every matching customer exactly once, in a stable order
//     (ties broken by profile id), however many customers there are.
//   - A page costs a walk of one index in sort order that LIMIT stops;
//     filters are primary-key lookups of each visited customer. No page
//     counts the whole table: Page.Total is given only when a summary
//     already holds it (an RFM segment, a persona).
//   - Sorts by a figure that only some customers have (spend, orders, CLV,
//     name) list those customers first and then the rest, most recently
//     seen first, so every sort lists the same customers.
//   - Export writes the whole filtered list as CSV, a page at a time; cells
//     that a spreadsheet would run as a formula are defused with a leading
//     quote, and contact details are masked unless asked for.
//   - View assembles everything known about one customer (profile,
//     identities, statistics, scores, predictions, answers, orders with
//     items and refunds, merges) with a fixed number of queries, whatever
//     the number of orders.
package directory
