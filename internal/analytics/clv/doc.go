// Package clv holds the customer-base models behind bottega's predictions:
// BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way")
// for repeat purchases and the probability that a customer is still active,
// and Gamma-Gamma (Fader & Hardie 2013, note 025) for the value of a
// customer's orders; from both, customer lifetime value over a horizon,
// churn risk bands and the expected date of the next order.
//
// It is pure mathematics: no database, no clock. Guarantees:
//   - Customers are summarised as the papers do: x repeat purchases (purchases
//     on the same day count as one), t_x the time from the first to the last
//     purchase, T the time from the first purchase to the end of the
//     calibration window, in a unit of one day or one week (Summarise).
//   - The models are fitted by maximum likelihood on sufficient statistics:
//     customers are grouped by (x, t_x, T) (Gamma-Gamma: by (x, z̄)), so the
//     cost of an evaluation grows with the number of distinct groups, not of
//     customers. Parameters are kept positive by optimising their logarithms
//     (gonum/optimize BFGS with the analytic gradient, then Newton steps on a
//     Hessian differenced from that gradient).
//   - On the CDNOW sample the fits reproduce the published parameters and
//     log-likelihoods (see the tests).
//   - Functions of fitted parameters never return NaN for valid inputs; a fit
//     that does not converge, or whose parameters make an expectation
//     infinite (Gamma-Gamma q ≤ 1), is an error, never a number.
package clv
