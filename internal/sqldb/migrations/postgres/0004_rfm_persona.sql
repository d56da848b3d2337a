-- RFM scores and buyer personas (internal/analytics/rfm, internal/analytics/persona).
-- Both are derived data, recomputed whole by periodic jobs; a run replaces
-- its rows and its summary in one transaction.

-- The last RFM run: as of when, and its summary (grid, segments, edges) as JSON.
CREATE TABLE rfm_runs (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    as_of       BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    customers   BIGINT NOT NULL,
    summary     TEXT NOT NULL
);

-- RFM scores of canonical profiles with at least one completed order.
CREATE TABLE rfm_scores (
    profile_id     TEXT PRIMARY KEY,          -- canonical profile
    as_of          BIGINT NOT NULL,
    recency_days   BIGINT NOT NULL,          -- UTC days from the last order to as_of
    frequency      BIGINT NOT NULL,          -- completed orders
    monetary_minor BIGINT NOT NULL,          -- revenue net of refunds, base currency
    last_order_at  BIGINT NOT NULL,
    r              BIGINT NOT NULL,
    f              BIGINT NOT NULL,
    m              BIGINT NOT NULL,
    fm             BIGINT NOT NULL,
    segment        TEXT NOT NULL
);
CREATE INDEX rfm_scores_segment ON rfm_scores(segment, monetary_minor, profile_id);

-- The last persona run: as of when, the chosen k, features and silhouettes as JSON.
CREATE TABLE persona_runs (
    id          SMALLINT PRIMARY KEY CHECK (id = 1),
    as_of       BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    customers   BIGINT NOT NULL,
    summary     TEXT NOT NULL
);

CREATE TABLE persona_clusters (
    cluster       INTEGER PRIMARY KEY,        -- 1..k, by total value, largest first
    description   TEXT NOT NULL,
    customers     BIGINT NOT NULL,
    revenue_minor BIGINT NOT NULL,
    detail        TEXT NOT NULL               -- JSON: centroid in raw units and z-scores
);

CREATE TABLE persona_members (
    profile_id  TEXT PRIMARY KEY,             -- canonical profile
    cluster     BIGINT NOT NULL,
    nps_imputed BIGINT NOT NULL              -- 1: no NPS answer, the mean was used
);
CREATE INDEX persona_members_cluster ON persona_members(cluster, profile_id);
