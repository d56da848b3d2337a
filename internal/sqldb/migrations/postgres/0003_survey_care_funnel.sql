-- Survey answers, care tickets and the shop funnel (conversion, upselling and
-- cross-selling). Survey and care rows are attributed to the raw profile their
-- event was applied to: queries join profiles.canonical_id, so merges and
-- unmerges need no rewrite. Times are Unix milliseconds UTC (event time).

-- One row per valid Survey Responded event (NPS 0-10, CSAT 1-5).
CREATE TABLE survey_responses (
    event_seq    BIGINT PRIMARY KEY,
    profile_id   TEXT NOT NULL,
    survey_type  TEXT NOT NULL,               -- 'nps' or 'csat'
    score        BIGINT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',    -- the channel of the experience rated
    store_id     TEXT NOT NULL DEFAULT '',
    responded_at BIGINT NOT NULL,            -- event time
    survey_id    TEXT NOT NULL DEFAULT '',
    order_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX survey_responses_profile ON survey_responses(profile_id);
CREATE INDEX survey_responses_time ON survey_responses(responded_at);

-- Daily answer counts, kept in step with survey_responses by the recorder in
-- the same transaction; NPS and CSAT summaries sum them.
CREATE TABLE survey_daily (
    day         BIGINT NOT NULL,               -- UTC midnight of responded_at
    channel     TEXT NOT NULL,
    store_id    TEXT NOT NULL,
    survey_type TEXT NOT NULL,
    score       BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (day, channel, store_id, survey_type, score)
);

-- One row per care ticket, from Ticket Created / Replied / Resolved events in
-- any order; each time is the earliest seen.
CREATE TABLE care_tickets (
    ticket_id         TEXT PRIMARY KEY,
    profile_id        TEXT NOT NULL,
    channel           TEXT NOT NULL DEFAULT '', -- the desk's channel (whatsapp, email, phone…), else the event's
    created_at        BIGINT,                  -- NULL until Ticket Created is seen
    first_response_at BIGINT,                  -- earliest reply by the desk
    resolved_at       BIGINT,                  -- earliest Ticket Resolved
    created_seq       BIGINT NOT NULL          -- the Ticket Created event, else the first event seen
);
CREATE INDEX care_tickets_created ON care_tickets(created_at);
CREATE INDEX care_tickets_profile ON care_tickets(profile_id);

-- The funnel is decided when events are processed and kept as daily counts
-- (funnel_daily); the tables before it hold the state that deciding needs.
-- Profiles are canonical profiles as processed (root_id).

-- Checkouts started (Checkout Started), one row per checkout: checkout_id,
-- else order_id, else the event; the first processed counts. Pending
-- (converted = 0) until their order is completed: the order named by
-- order_id, else an order of the same customer in the next 24 hours.
CREATE TABLE funnel_checkouts (
    checkout_key TEXT PRIMARY KEY,
    root_id      TEXT NOT NULL,
    order_id     TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    store_id     TEXT NOT NULL DEFAULT '',
    started_at   BIGINT NOT NULL,
    converted    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX funnel_checkouts_order ON funnel_checkouts(order_id) WHERE converted = 0 AND order_id <> '';
CREATE INDEX funnel_checkouts_pending ON funnel_checkouts(root_id, started_at) WHERE converted = 0 AND order_id = '';

-- The open product-viewing session of each canonical profile.
CREATE TABLE funnel_sessions (
    root_id      TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,              -- its first view
    last_view_at BIGINT NOT NULL,
    channel      TEXT NOT NULL,               -- its first view's
    converted    BIGINT NOT NULL
);

-- Products added to a cart from a recommendation (cross-sell) or as an
-- upgrade (upsell), as the shop marks them on Product Added.
CREATE TABLE funnel_adds (
    event_seq  BIGINT PRIMARY KEY,
    profile_id TEXT NOT NULL,
    product    TEXT NOT NULL,                 -- product_id, else sku
    kind       TEXT NOT NULL,                 -- 'cross' or 'upsell'
    added_at   BIGINT NOT NULL
);
CREATE INDEX funnel_adds_profile ON funnel_adds(profile_id, added_at);

-- Per order with an Order Completed: the value of its lines and of those added
-- from a recommendation or as an upgrade (its last Order Completed), and the
-- funnel_daily row it counts in while completed and not cancelled.
CREATE TABLE funnel_orders (
    order_id     TEXT PRIMARY KEY,
    root_id      TEXT NOT NULL,               -- canonical profile of its Order Completed
    completed_at BIGINT NOT NULL,              -- that event's time
    lines_minor  BIGINT NOT NULL,              -- sum of price x quantity of every line
    cross_minor  BIGINT NOT NULL,              -- ... of lines from a recommendation
    upsell_minor BIGINT NOT NULL,              -- ... of lines added as an upgrade
    cross_lines  BIGINT NOT NULL,
    upsell_lines BIGINT NOT NULL,
    counted      BIGINT NOT NULL,              -- 1 while it counts in funnel_daily
    day          BIGINT NOT NULL,              -- the order's placed_at day, channel, store and currency
    channel      TEXT NOT NULL,
    store_id     TEXT NOT NULL,
    currency     TEXT NOT NULL
);
CREATE INDEX funnel_orders_root ON funnel_orders(root_id, completed_at);

-- Daily funnel counts by (UTC day, channel, store, currency); conversion rows
-- have currency ''. Checkouts count on the day they start, sessions on the
-- day of their first view (store ''), orders on the day they are placed.
CREATE TABLE funnel_daily (
    day                 BIGINT NOT NULL,
    channel             TEXT NOT NULL,
    store_id            TEXT NOT NULL,
    currency            TEXT NOT NULL,
    checkouts           BIGINT NOT NULL,
    checkouts_converted BIGINT NOT NULL,
    sessions            BIGINT NOT NULL,
    sessions_converted  BIGINT NOT NULL,
    orders              BIGINT NOT NULL,   -- completed, not cancelled
    cross_orders        BIGINT NOT NULL,
    upsell_orders       BIGINT NOT NULL,
    attach_orders       BIGINT NOT NULL,
    lines_minor         BIGINT NOT NULL,   -- in the currency of the row
    cross_minor         BIGINT NOT NULL,
    upsell_minor        BIGINT NOT NULL,
    PRIMARY KEY (day, channel, store_id, currency)
);
