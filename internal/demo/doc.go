// Package demo makes the demo shop: a deterministic, synthetic Italian
// retailer (fashion and home goods, a web shop, an app, three stores in
// Milano, Torino and Roma, and a customer care desk) whose customers'
// Segment calls are sent to bottega through its real ingestion API.
//
// Guarantees:
//   - Deterministic: the same Options (seed, people, end) give byte-identical
//     events, messageIds included, so loading twice stores nothing twice. Any
//     other options give other messageIds. Randomness comes from PCG streams
//     (math/rand/v2) derived from the options; nothing reads the clock.
//   - Lazy: people are drawn one at a time; only their identities (names,
//     e-mails, phones, cards: a few megabytes for 20,000 people) are held.
//   - Valid: every event passes bottega's ingestion parser untouched and
//     keeps its historical timestamp (no sentAt is sent, so nothing is
//     skew-corrected). Events fall within [End-Span, End).
//   - Safe: e-mail addresses use the reserved .example domains and the
//     shop's URLs bottega.example; phone numbers are valid Italian mobiles
//     (as identity resolution requires), so channels must never send to
//     demo data for real.
//
// Behaviour follows what analytics expects of a real shop: each customer's
// purchase rate is drawn from a Gamma distribution and the chance of
// stopping after a purchase from a Beta distribution (BG/NBD-style
// heterogeneity: one-time buyers beside weekly store regulars); customers
// arrive over the two years (and some before them), more in busy seasons;
// sales in January and July, Black Friday and Christmas raise activity and
// August lowers it; about 5-8% of orders are returned and 2% cancelled;
// late deliveries, returns and care tickets lower NPS answers and raise
// churn.
//
// Identity scenarios (Scenarios lists a few people of each, for tests and
// documentation): anonymous browsing then sign-up on the same browser; a
// loyalty card at the till (context.externalIds, no user id) linked later to
// the web account; a phone number written differently by the WhatsApp care
// desk; two people of a household logging in on one tablet; a customer
// who changed e-mail address.
package demo
