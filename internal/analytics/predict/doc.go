// Package predict fits bottega's customer-base models (BG/NBD and
// Gamma-Gamma, package clv) to the shop's orders and keeps, for every
// customer, the predictions they make: expected purchases and discounted
// lifetime value over 12 months, the probability of still being active, its
// churn risk band, the expected value of the next order and its expected
// date.
//
// Guarantees:
//   - Customers are canonical profiles. Their purchases are their completed,
//     uncancelled orders (those of every merged profile), placed up to the
//     end of the calibration day (UTC); orders on the same UTC day are one
//     transaction. Order values count in the base currency, net of refunds;
//     a day with an order in another currency counts as a purchase of
//     unknown value.
//   - Below the documented minimum history (Minimums) a fit answers
//     fault.Conflict with a "not enough data yet" message, records why, and
//     leaves the previous model and its predictions in place; profiles
//     without predictions say why.
//   - A fit stores its model and replaces the predictions of every customer
//     with bulk statements; each row names the model that wrote it, and the
//     model becomes current (GET model, profile views) only once all its rows
//     are written. Rows of profiles that are no longer customers are removed.
//   - Fits are serialised on a node; on PostgreSQL the final switch to a new
//     model is also serialised across nodes.
package predict
