// Package survey records answers to NPS and CSAT surveys and reports on them.
//
// Answers come from Survey Responded track events (Survey Submitted is read
// as the same). Properties read:
//
//   - score (required): an integer, as a JSON number or numeric string; 0-10
//     for NPS, 1-5 for CSAT. Anything else (11, 7.5, "great", missing) is
//     recorded as a processing failure with the reason and never counted.
//   - survey_type: "nps" or "csat" (case-insensitive); missing means nps.
//     Other types (ces…) are not recorded and are not failures.
//   - comment: the free-text answer (trimmed, at most 2,000 characters).
//   - channel: the channel of the experience rated, when it names one of
//     web, app, pos, email, ads, care; else the channel of the order named
//     by order_id; else the event's channel.
//   - store_id: the store rated; else the store of the order named by
//     order_id.
//   - survey_id, order_id: kept with the answer.
//
// Guarantees:
//   - Each valid event is recorded once (keyed by its event sequence), in the
//     processing transaction, attributed to the raw profile it was applied
//     to; reports join profiles.canonical_id when they read, so answers of a
//     merged profile count for the survivor and an unmerge needs no rewrite.
//   - Every response counts, as Delighted and Segment count them: a person
//     who answers twice in a period is counted twice. Use LatestNPS for one
//     score per person.
//   - NPS = % promoters (9-10) − % detractors (0-6), computed from the exact
//     counts and rounded to one decimal; CSAT = % of answers scoring 4 or 5.
//   - Periods are UTC calendar days, both ends included, on event time.
//   - Summaries sum daily counts (survey_daily: day, channel, store, survey
//     type, score), added in the same transaction as the answers they count;
//     comments are read from survey_responses a page at a time.
package survey
