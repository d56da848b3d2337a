// Package auth holds the credentials that open bottega's doors and says what
// each may do: source write keys (for the Segment-compatible ingestion API),
// staff users with their roles and dashboard sessions, and API keys (for the
// /api/v1 JSON API) with their scopes.
//
// Guarantees:
//   - Keys and session tokens are random 192-bit secrets shown once, when
//     created or rotated; only their SHA-256 and a short display prefix are
//     stored. A disabled source, an expired key and a revoked API key
//     authenticate nothing.
//   - Passwords are stored as argon2id PHC strings (19 MiB, 2 passes, 1 lane)
//     and compared in constant time; a stored hash keeps its parameters.
//     Sign-in failures all say "wrong e-mail or password", and an unknown
//     e-mail is checked against a dummy hash so that timing does not tell.
//   - A session ends after an hour unused or twelve hours in all (settable),
//     when its user signs out, is disabled, or has their password reset.
//   - What anyone may do is a set of permissions (permission.go): a staff
//     member's role's, narrowed by an API key's scopes; a service key's
//     scopes alone. Only an owner manages owners; there is always an enabled
//     owner; nobody disables themselves.
//   - Contact details are masked for principals without CustomersPII
//     (MaskEmail, MaskPhone, MaskJSON).
//   - LoginLimiter counts sign-in attempts in memory, per node.
package auth
