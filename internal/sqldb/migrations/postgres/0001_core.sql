-- bottega core schema (PostgreSQL). Times are Unix milliseconds UTC; money is
-- integer minor units with its currency; ids are UUIDv7 text made in Go.

CREATE TABLE sources (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    channel     TEXT NOT NULL,
    rate_limit  BIGINT NOT NULL DEFAULT 0,   -- events per second; 0 = unlimited
    created_at  BIGINT NOT NULL,
    disabled_at BIGINT
);

CREATE TABLE source_keys (
    hash       TEXT PRIMARY KEY,              -- SHA-256 of the write key, hex
    source_id  TEXT NOT NULL REFERENCES sources(id),
    prefix     TEXT NOT NULL,                 -- first characters, for display
    created_at BIGINT NOT NULL,
    expires_at BIGINT                        -- NULL: valid until rotated
);
CREATE INDEX source_keys_source ON source_keys(source_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

-- The events log: append-only, one row per accepted event.
CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources(id),
    message_id   TEXT NOT NULL,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',    -- track event, page or screen name
    user_id      TEXT NOT NULL DEFAULT '',
    anonymous_id TEXT NOT NULL DEFAULT '',
    ts           BIGINT NOT NULL,            -- event time, clock skew corrected
    received_at  BIGINT NOT NULL,
    sent_at      BIGINT,
    original_ts  TEXT NOT NULL DEFAULT '',    -- timestamp as the client sent it
    flags        BIGINT NOT NULL DEFAULT 0,
    payload      TEXT NOT NULL,               -- the event as received (sanitised if it had to be)
    raw          BYTEA                         -- the bytes as received, when payload differs
);
CREATE UNIQUE INDEX events_message ON events(source_id, message_id);

-- Events that could not be accepted, kept with their reason.
CREATE TABLE quarantine (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   TEXT NOT NULL REFERENCES sources(id),
    received_at BIGINT NOT NULL,
    message_id  TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    raw         BYTEA NOT NULL
);
CREATE UNIQUE INDEX quarantine_message ON quarantine(source_id, message_id) WHERE message_id <> '';
CREATE INDEX quarantine_received ON quarantine(received_at);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES
    ('events_stored', 0), ('events_duplicate', 0), ('events_quarantined', 0),
    ('events_processed', 0), ('events_failed', 0), ('profiles', 0),
    ('graph_version', 0); -- bumped by unmerges: processors drop their caches

CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO cursors (name, seq) VALUES ('processor', 0);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Profiles. A profile merged into another keeps its row: merged_into points
-- at the profile it was merged into and canonical_id at the surviving root.
CREATE TABLE profiles (
    id           TEXT PRIMARY KEY,
    canonical_id TEXT NOT NULL,
    merged_into  TEXT REFERENCES profiles(id),
    created_at   BIGINT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    traits       JSONB NOT NULL DEFAULT '{}',
    trait_times  JSONB NOT NULL DEFAULT '{}',
    consent      JSONB NOT NULL DEFAULT '{}',
    acquisition  JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX profiles_canonical ON profiles(canonical_id);
CREATE INDEX profiles_merged_into ON profiles(merged_into) WHERE merged_into IS NOT NULL;

-- When each canonical profile was first and last seen (event time). Apart
-- from profiles because it changes with almost every event: narrow rows keep
-- those writes small.
CREATE TABLE profile_activity (
    profile_id TEXT PRIMARY KEY REFERENCES profiles(id),
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX profile_activity_last_seen ON profile_activity(last_seen, profile_id);

-- Words of profile names, for prefix search.
CREATE TABLE profile_terms (
    term       TEXT COLLATE "C" NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    PRIMARY KEY (term, profile_id)
);
CREATE INDEX profile_terms_profile ON profile_terms(profile_id);

CREATE TABLE identities (
    type       TEXT NOT NULL,
    value      TEXT NOT NULL,                 -- normalised
    profile_id TEXT NOT NULL REFERENCES profiles(id),
    original   TEXT NOT NULL,                 -- as first seen
    first_seen BIGINT NOT NULL,              -- event time
    event_seq  BIGINT NOT NULL,
    PRIMARY KEY (type, value)
);
CREATE INDEX identities_profile ON identities(profile_id);

-- Identifiers an event carried that the rules kept off a profile.
CREATE TABLE identity_decisions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_seq  BIGINT NOT NULL,
    profile_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    value      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX identity_decisions_profile ON identity_decisions(profile_id);

CREATE TABLE merges (
    id          TEXT PRIMARY KEY,
    survivor_id TEXT NOT NULL REFERENCES profiles(id),
    merged_id   TEXT NOT NULL REFERENCES profiles(id),
    event_seq   BIGINT NOT NULL,
    identifiers TEXT NOT NULL,                -- JSON [{type, value}] that linked the two
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    undone_at   BIGINT
);
CREATE INDEX merges_survivor ON merges(survivor_id);
CREATE INDEX merges_merged ON merges(merged_id);

-- Pairs of profiles an operator split apart: never merged again automatically.
CREATE TABLE merge_blocks (
    a          TEXT NOT NULL,
    b          TEXT NOT NULL,
    merge_id   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (a, b)
);
CREATE INDEX merge_blocks_b ON merge_blocks(b);

CREATE TABLE timeline (
    profile_id TEXT NOT NULL,
    ts         BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (profile_id, ts, seq)
);

CREATE TABLE orders (
    order_id       TEXT PRIMARY KEY,
    profile_id     TEXT NOT NULL REFERENCES profiles(id),
    source_id      TEXT NOT NULL,
    channel        TEXT NOT NULL,
    store_id       TEXT NOT NULL DEFAULT '',
    currency       TEXT NOT NULL,
    value_minor    BIGINT NOT NULL,          -- total, else revenue, else sum of items
    total_minor    BIGINT,
    revenue_minor  BIGINT,
    shipping_minor BIGINT,
    tax_minor      BIGINT,
    discount_minor BIGINT,
    coupon         TEXT NOT NULL DEFAULT '',
    campaign       TEXT NOT NULL DEFAULT '',
    placed_at      BIGINT NOT NULL,
    completed      BIGINT NOT NULL DEFAULT 0, -- an Order Completed was seen
    cancelled_at   BIGINT,
    event_seq      BIGINT NOT NULL,
    properties     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX orders_profile ON orders(profile_id, placed_at);
CREATE INDEX orders_placed ON orders(placed_at);

CREATE TABLE order_items (
    order_id    TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE,
    line        BIGINT NOT NULL,
    product_id  TEXT NOT NULL DEFAULT '',
    sku         TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    brand       TEXT NOT NULL DEFAULT '',
    variant     TEXT NOT NULL DEFAULT '',
    price_minor BIGINT NOT NULL DEFAULT 0,
    quantity    BIGINT NOT NULL DEFAULT 1,
    coupon      TEXT NOT NULL DEFAULT '',
    properties  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (order_id, line)
);

-- One row per Order Refunded event (or per refund_id); amount NULL means the whole order.
CREATE TABLE order_refunds (
    event_seq    BIGINT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    refund_id    TEXT NOT NULL DEFAULT '',    -- the shop's, when given: a later event replaces the refund
    amount_minor BIGINT,
    currency     TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    refunded_at  BIGINT NOT NULL,
    items        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX order_refunds_order ON order_refunds(order_id);
CREATE UNIQUE INDEX order_refunds_id ON order_refunds(order_id, refund_id) WHERE refund_id <> '';

-- Per-customer statistics, kept for canonical profiles only.
CREATE TABLE customer_stats (
    profile_id     TEXT PRIMARY KEY REFERENCES profiles(id),
    orders         BIGINT NOT NULL,
    revenue_minor  BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL,
    first_order_at BIGINT,
    last_order_at  BIGINT
);

-- Events the processor could not apply, with the reason; skipped, not retried.
CREATE TABLE processing_errors (
    seq        BIGINT PRIMARY KEY,
    error      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
