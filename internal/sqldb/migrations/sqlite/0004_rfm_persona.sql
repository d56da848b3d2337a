-- RFM scores and buyer personas (internal/analytics/rfm, internal/analytics/persona).
-- Both are derived data, recomputed whole by periodic jobs; a run replaces
-- its rows and its summary in one transaction.

-- The last RFM run: as of when, and its summary (grid, segments, edges) as JSON.
CREATE TABLE rfm_runs (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    as_of       INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    customers   INTEGER NOT NULL,
    summary     TEXT NOT NULL
);

-- RFM scores of canonical profiles with at least one completed order.
CREATE TABLE rfm_scores (
    profile_id     TEXT PRIMARY KEY,          -- canonical profile
    as_of          INTEGER NOT NULL,
    recency_days   INTEGER NOT NULL,          -- UTC days from the last order to as_of
    frequency      INTEGER NOT NULL,          -- completed orders
    monetary_minor INTEGER NOT NULL,          -- revenue net of refunds, base currency
    last_order_at  INTEGER NOT NULL,
    r              INTEGER NOT NULL,
    f              INTEGER NOT NULL,
    m              INTEGER NOT NULL,
    fm             INTEGER NOT NULL,
    segment        TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX rfm_scores_segment ON rfm_scores(segment, monetary_minor, profile_id);

-- The last persona run: as of when, the chosen k, features and silhouettes as JSON.
CREATE TABLE persona_runs (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    as_of       INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    customers   INTEGER NOT NULL,
    summary     TEXT NOT NULL
);

CREATE TABLE persona_clusters (
    cluster       INTEGER PRIMARY KEY,        -- 1..k, by total value, largest first
    description   TEXT NOT NULL,
    customers     INTEGER NOT NULL,
    revenue_minor INTEGER NOT NULL,
    detail        TEXT NOT NULL               -- JSON: centroid in raw units and z-scores
);

CREATE TABLE persona_members (
    profile_id  TEXT PRIMARY KEY,             -- canonical profile
    cluster     INTEGER NOT NULL,
    nps_imputed INTEGER NOT NULL              -- 1: no NPS answer, the mean was used
) WITHOUT ROWID;
CREATE INDEX persona_members_cluster ON persona_members(cluster, profile_id);
