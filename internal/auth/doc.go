// Package auth holds the credentials that open bottega's doors: source write
// keys (for the Segment-compatible ingestion API) and API keys (for the
// /api/v1 JSON API).
//
// Guarantees: keys are random 192-bit secrets shown once, when created or
// rotated; only their SHA-256 and a short display prefix are stored. A
// disabled source, an expired key and a revoked API key authenticate nothing.
package auth
