-- Survey answers, care tickets and the shop funnel (conversion, upselling and
-- cross-selling). Every row is attributed to the raw profile its event was
-- applied to: queries join profiles.canonical_id, so merges and unmerges need
-- no rewrite. Times are Unix milliseconds UTC (event time).

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

-- Product views (Product Viewed), the raw material of product-viewing sessions.
CREATE TABLE funnel_views (
    event_seq  BIGINT PRIMARY KEY,
    profile_id TEXT NOT NULL,
    channel    TEXT NOT NULL,
    viewed_at  BIGINT NOT NULL
);
CREATE INDEX funnel_views_time ON funnel_views(viewed_at);

-- Checkouts started (Checkout Started), one row per checkout: checkout_id,
-- else order_id, else the event.
CREATE TABLE funnel_checkouts (
    checkout_key TEXT PRIMARY KEY,
    profile_id   TEXT NOT NULL,
    order_id     TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    store_id     TEXT NOT NULL DEFAULT '',
    started_at   BIGINT NOT NULL,            -- the earliest Checkout Started
    event_seq    BIGINT NOT NULL
);
CREATE INDEX funnel_checkouts_started ON funnel_checkouts(started_at);

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

-- Per order: the value of its lines and of those added from a
-- recommendation or as an upgrade, from its last Order Completed. Status,
-- time, channel and store are the order's (orders table).
CREATE TABLE funnel_orders (
    order_id     TEXT PRIMARY KEY,
    lines_minor  BIGINT NOT NULL,            -- sum of price x quantity of every line
    cross_minor  BIGINT NOT NULL,            -- ... of lines from a recommendation
    upsell_minor BIGINT NOT NULL,            -- ... of lines added as an upgrade
    cross_lines  BIGINT NOT NULL,
    upsell_lines BIGINT NOT NULL,
    event_seq    BIGINT NOT NULL
);
