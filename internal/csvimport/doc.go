// Package csvimport imports order and customer history from CSV files, as
// exported by web shops (Shopify, WooCommerce, Magento…), tills and
// spreadsheets, through the same ingestion path as live traffic.
//
// Each customer row becomes a Segment identify call; each order (one row, or
// consecutive rows with the same order id, one per line item) becomes an
// eCommerce v2 Order Completed call, plus Order Cancelled and Order Refunded
// when the row says so. The events are written as /v1/batch bodies and handed
// to event.Ingester: they are validated, deduplicated and committed exactly
// like events received over HTTP, and processed by the processor like them.
//
// Guarantees:
//   - Streaming: the file is read record by record and never held in memory;
//     a file over the size limit (2 GiB) or a record over the record limit
//     (1 MiB) stops the import with an error saying so.
//   - Idempotent: every event's messageId is "import-" and a hash of what it
//     says, so importing a file again stores nothing new, and a corrected row
//     stores a new event that updates its order (orders are keyed by
//     order_id downstream, so nothing is counted twice).
//   - Bad rows do not stop good ones: a row (or every row of an order) that
//     cannot be imported is rejected with its line number and the reason;
//     the other rows are imported. Events quarantined by ingestion are
//     reported as rejections of the rows they came from.
//   - Cells are text: nothing is evaluated, so a cell starting with = + - @
//     reaches the events unchanged (spaces around cells are trimmed).
//
// docs/import.md describes the file formats for users.
package csvimport
