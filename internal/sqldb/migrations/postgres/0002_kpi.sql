-- KPI rollups (internal/analytics/kpi), kept in step with processing by the
-- kpi extension. Days are whole UTC days since 1970-01-01; months are
-- year*12 + month-1. dim names the breakdown a row belongs to: 0 the whole
-- shop (key ''), 1 channel, 2 store, 3 acquisition campaign.

-- What each customer contributes to the rollups, encoded; subtracted and
-- added back whenever the customer's orders or membership change.
CREATE TABLE kpi_customers (
    profile_id TEXT PRIMARY KEY,
    facts      BYTEA NOT NULL
);

-- Additive figures per day and group.
CREATE TABLE kpi_daily (
    dim          BIGINT NOT NULL,
    day          BIGINT NOT NULL,
    key          TEXT NOT NULL,
    orders       BIGINT NOT NULL, -- completed, uncancelled orders placed that day
    base_orders  BIGINT NOT NULL, -- of which in the base currency
    gross_minor  BIGINT NOT NULL, -- their value, base currency
    refund_minor BIGINT NOT NULL, -- refunds made that day, base currency
    firsts       BIGINT NOT NULL, -- customers whose first order day in the group is this day
    seconds      BIGINT NOT NULL, -- customers whose second order day in the group is this day
    lost         BIGINT NOT NULL, -- customers lost this day (churn window after an order day)
    PRIMARY KEY (dim, day, key)
);

-- Order days of customers in a group, counted by the month of the
-- customer's previous order day in the group (-1000000: none).
CREATE TABLE kpi_gaps_month (
    dim        BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    key        TEXT NOT NULL,
    prev_month BIGINT NOT NULL,
    second     BIGINT NOT NULL, -- 1: the customer's second order day in the group
    n          BIGINT NOT NULL,
    PRIMARY KEY (dim, day, key, prev_month, second)
);

-- The same order days by the exact previous order day (only those that
-- have one).
CREATE TABLE kpi_gaps_day (
    dim      BIGINT NOT NULL,
    prev_day BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    key      TEXT NOT NULL,
    second   BIGINT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (dim, prev_day, day, key, second)
);

-- Customers by month of first order (cohort) and months since (k).
CREATE TABLE kpi_cohorts (
    cohort        BIGINT NOT NULL,
    k             BIGINT NOT NULL,
    customers     BIGINT NOT NULL, -- cohort customers with an order in month cohort+k
    revenue_minor BIGINT NOT NULL, -- their net revenue in that month, base currency
    PRIMARY KEY (cohort, k)
);

-- Costs entered through the API, spread evenly over their days.
CREATE TABLE kpi_costs (
    id           TEXT PRIMARY KEY,
    from_day     BIGINT NOT NULL,
    to_day       BIGINT NOT NULL,
    category     TEXT NOT NULL,   -- acquisition, retention, care, other
    campaign     TEXT NOT NULL DEFAULT '',
    amount_minor BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX kpi_costs_days ON kpi_costs(from_day, to_day);
