-- KPI rollups (internal/analytics/kpi), kept in step with processing by the
-- kpi extension. Days are whole UTC days since 1970-01-01; months are
-- year*12 + month-1. dim names the breakdown a row belongs to: 0 the whole
-- shop (key ''), 1 channel, 2 store, 3 acquisition campaign.

-- What each customer contributes to the rollups, encoded; subtracted and
-- added back whenever the customer's orders or membership change.
CREATE TABLE kpi_customers (
    profile_id TEXT PRIMARY KEY,
    facts      BLOB NOT NULL
) WITHOUT ROWID;

-- Additive figures per day and group.
CREATE TABLE kpi_daily (
    dim          INTEGER NOT NULL,
    day          INTEGER NOT NULL,
    key          TEXT NOT NULL,
    orders       INTEGER NOT NULL, -- completed, uncancelled orders placed that day
    base_orders  INTEGER NOT NULL, -- of which in the base currency
    gross_minor  INTEGER NOT NULL, -- their value, base currency
    refund_minor INTEGER NOT NULL, -- refunds made that day, base currency
    firsts       INTEGER NOT NULL, -- customers whose first order day in the group is this day
    seconds      INTEGER NOT NULL, -- customers whose second order day in the group is this day
    lost         INTEGER NOT NULL, -- customers lost this day (churn window after an order day)
    PRIMARY KEY (dim, day, key)
) WITHOUT ROWID;

-- Order days of customers in a group, counted by the month of the
-- customer's previous order day in the group (-1000000: none).
CREATE TABLE kpi_gaps_month (
    dim        INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    key        TEXT NOT NULL,
    prev_month INTEGER NOT NULL,
    second     INTEGER NOT NULL, -- 1: the customer's second order day in the group
    n          INTEGER NOT NULL,
    PRIMARY KEY (dim, day, key, prev_month, second)
) WITHOUT ROWID;

-- The same order days by the exact previous order day (only those that
-- have one).
CREATE TABLE kpi_gaps_day (
    dim      INTEGER NOT NULL,
    prev_day INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    key      TEXT NOT NULL,
    second   INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (dim, prev_day, day, key, second)
) WITHOUT ROWID;

-- Customers by month of first order (cohort) and months since (k).
CREATE TABLE kpi_cohorts (
    cohort        INTEGER NOT NULL,
    k             INTEGER NOT NULL,
    customers     INTEGER NOT NULL, -- cohort customers with an order in month cohort+k
    revenue_minor INTEGER NOT NULL, -- their net revenue in that month, base currency
    PRIMARY KEY (cohort, k)
) WITHOUT ROWID;

-- Costs entered through the API, spread evenly over their days.
CREATE TABLE kpi_costs (
    id           TEXT PRIMARY KEY,
    from_day     INTEGER NOT NULL,
    to_day       INTEGER NOT NULL,
    category     TEXT NOT NULL,   -- acquisition, retention, care, other
    campaign     TEXT NOT NULL DEFAULT '',
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
CREATE INDEX kpi_costs_days ON kpi_costs(from_day, to_day);
