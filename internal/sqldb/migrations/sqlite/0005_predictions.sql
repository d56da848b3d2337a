-- Predictions: BG/NBD and Gamma-Gamma fits and what they say about each
-- customer (see docs/predictions.md). Times are Unix milliseconds UTC; money
-- is integer minor units of the model's currency.

-- Every fit attempt; the current model is the latest with status 'ok'.
CREATE TABLE prediction_models (
    id               TEXT PRIMARY KEY,            -- UUIDv7
    fitted_at        INTEGER NOT NULL,
    status           TEXT NOT NULL,               -- 'ok' or 'not_enough_data'
    message          TEXT NOT NULL DEFAULT '',    -- why, when not ok
    calibration_end  TEXT NOT NULL,               -- YYYY-MM-DD, inclusive
    time_unit        TEXT NOT NULL,               -- 'day' or 'week'
    currency         TEXT NOT NULL,
    customers        INTEGER NOT NULL,
    repeat_customers INTEGER NOT NULL,
    value_customers  INTEGER NOT NULL,            -- used by the Gamma-Gamma fit
    fit_ms           INTEGER NOT NULL,
    r REAL, alpha REAL, a REAL, b REAL, bgnbd_ll REAL,
    p REAL, q REAL, gamma REAL, gg_ll REAL,
    margin           REAL NOT NULL,
    discount_rate    REAL NOT NULL                -- yearly
);
CREATE INDEX prediction_models_fitted ON prediction_models(fitted_at);

-- Per canonical profile, as of the model that wrote the row.
CREATE TABLE predictions (
    profile_id           TEXT PRIMARY KEY REFERENCES profiles(id),
    model_id             TEXT NOT NULL,
    x                    INTEGER NOT NULL,        -- repeat purchase days up to the calibration end
    t_x                  REAL NOT NULL,           -- first to last purchase, in time units
    t                    REAL NOT NULL,           -- first purchase to calibration end, in time units
    expected_purchases   REAL NOT NULL,           -- within 12 months
    p_alive              REAL NOT NULL,
    expected_value_minor INTEGER NOT NULL,        -- of one future order
    clv_minor            INTEGER NOT NULL,        -- 12 months, discounted, times the margin
    churn_risk           TEXT NOT NULL,           -- low, medium, high, very_high
    next_order_on        TEXT                     -- YYYY-MM-DD; NULL: not expected within 24 months
);
CREATE INDEX predictions_model ON predictions(model_id);
