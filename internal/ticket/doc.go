// Package ticket records customer care tickets and measures how fast the care
// desk responds and resolves them.
//
// Tickets come from the track events Ticket Created, Ticket Replied and
// Ticket Resolved (Ticket Solved is read as Ticket Resolved). Properties read:
//
//   - ticket_id (required): the desk's ticket id; an event without one is
//     recorded as a processing failure.
//   - author on Ticket Replied: "customer" (also end_user, end-user, user,
//     requester, contact) marks the customer's own message, which is not a
//     response; any other author, or none, is the desk replying.
//   - channel: the desk's channel (whatsapp, email, phone…); without it the
//     event's channel.
//
// Guarantees:
//   - Events may arrive in any order and more than once: a ticket's creation,
//     first response (earliest desk reply) and resolution (earliest Ticket
//     Resolved) are each the earliest time seen, so reprocessing changes
//     nothing. Each is recorded in the processing transaction.
//   - A ticket belongs to the raw profile of its Ticket Created event; reports
//     join canonical profiles when they read, so merges need no rewrite.
//   - First-response time = first desk reply − creation; resolution time =
//     first resolution − creation; negative differences (clock skew) count as
//     0. Median and 90th percentile interpolate linearly between the two
//     nearest ranks (as spreadsheets' PERCENTILE.INC), in minutes to one
//     decimal.
//   - A period holds the tickets created in it (UTC calendar days, both ends
//     included, event time).
package ticket
