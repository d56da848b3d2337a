// Package rfm scores customers by recency, frequency and monetary value and
// places them in the 11 usual RFM segments.
//
// Guarantees:
//   - Every canonical profile with at least one completed, uncancelled order
//     gets scores R, F and M from 1 to 5 by quintile of the customer base, as
//     of a date: recency is whole UTC days since the last order, frequency
//     the number of orders, monetary the revenue in the base currency net of
//     refunds (exactly what customer_stats holds).
//   - Ties are deterministic: a customer's score is 1 + ⌊5·w/n⌋ where w is the
//     number of customers with a strictly worse value and n the number of
//     customers, so customers with equal values always share a score, the
//     lower one their tie spans.
//   - The segment is a pure function of R and FM = ⌈(F+M)/2⌉ through the grid
//     in Grid (every one of the 11 segments is reachable).
//   - The stored scores (rfm_scores) and their summary are replaced together
//     in one transaction: readers see one run or the next, never a mix.
//     Profiles merged away have no row of their own; their survivor's row is
//     theirs.
package rfm
