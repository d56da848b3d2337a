// Package persona groups customers into buyer personas with k-means and
// describes each persona in plain words.
//
// Guarantees:
//   - Every canonical profile with at least one completed order is placed in
//     exactly one persona, from standardised features: recency, frequency
//     and monetary value (log-scaled), channel mix (shares of orders on web,
//     app and in store), product-category mix (shares of spend in the top
//     categories), the latest NPS score (the mean of those who answered when
//     a customer never did, and flagged) and discount use (share of orders
//     with a discount or a coupon).
//   - Results are reproducible: k-means++ seeding and sampling use a fixed
//     seed, inputs are ordered by profile, ties break towards the lower
//     index; the same data always gives the same personas.
//   - k is the one of 3..8 with the best mean silhouette (ties: the smaller
//     k). On a large base k is chosen and the centroids fitted on a
//     deterministic sample, then every customer is assigned to its nearest
//     centroid.
//   - A run replaces the stored personas, their members and summary in one
//     transaction.
package persona
