// Package event receives events in the Segment Tracking API format, checks
// them, and appends them durably to the events log.
//
// Guarantees:
//   - Parse never loses a well-formed event: each element of a batch is either
//     accepted (possibly sanitised, with the bytes as received kept beside it)
//     or quarantined with a reason. Only a request that is not JSON at all, too
//     large, or empty is refused as a whole.
//   - Store returns only after every event of the request is committed: in the
//     events log, in quarantine, or recognised as a replay of an event already
//     stored. Concurrent requests share one transaction (group commit).
//   - (source, messageId) is unique: a replayed event is acknowledged and not
//     stored twice. An event without a messageId gets a server-made one.
//   - Event times are corrected for client clock skew as Segment does:
//     timestamp = receivedAt − (sentAt − timestamp). Without sentAt the
//     client's timestamp is kept (historical imports); times more than 24 h in
//     the future are clamped to receivedAt and flagged.
//   - The log is ordered: a reader that has seen seq n never later finds a
//     newly committed event with a smaller seq.
package event
