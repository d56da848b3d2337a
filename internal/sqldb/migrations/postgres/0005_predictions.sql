-- Predictions: BG/NBD and Gamma-Gamma fits and what they say about each
-- customer (see docs/predictions.md). Times are Unix milliseconds UTC; money
-- is integer minor units of the model's currency.

-- Every fit attempt; the current model is the latest with status 'ok'.
CREATE TABLE prediction_models (
    id               TEXT PRIMARY KEY,            -- UUIDv7
    fitted_at        BIGINT NOT NULL,
    status           TEXT NOT NULL,               -- 'ok' or 'not_enough_data'
    message          TEXT NOT NULL DEFAULT '',    -- why, when not ok
    calibration_end  TEXT NOT NULL,               -- YYYY-MM-DD, inclusive
    time_unit        TEXT NOT NULL,               -- 'day' or 'week'
    currency         TEXT NOT NULL,
    customers        BIGINT NOT NULL,
    repeat_customers BIGINT NOT NULL,
    value_customers  BIGINT NOT NULL,            -- used by the Gamma-Gamma fit
    fit_ms           BIGINT NOT NULL,
    r DOUBLE PRECISION, alpha DOUBLE PRECISION, a DOUBLE PRECISION, b DOUBLE PRECISION, bgnbd_ll DOUBLE PRECISION,
    p DOUBLE PRECISION, q DOUBLE PRECISION, gamma DOUBLE PRECISION, gg_ll DOUBLE PRECISION,
    margin           DOUBLE PRECISION NOT NULL,
    discount_rate    DOUBLE PRECISION NOT NULL                -- yearly
);
CREATE INDEX prediction_models_fitted ON prediction_models(fitted_at);

-- Per canonical profile, as of the model that wrote the row.
CREATE TABLE predictions (
    profile_id           TEXT PRIMARY KEY REFERENCES profiles(id),
    model_id             TEXT NOT NULL,
    x                    BIGINT NOT NULL,        -- repeat purchase days up to the calibration end
    t_x                  DOUBLE PRECISION NOT NULL,           -- first to last purchase, in time units
    t                    DOUBLE PRECISION NOT NULL,           -- first purchase to calibration end, in time units
    expected_purchases   DOUBLE PRECISION NOT NULL,           -- within 12 months
    p_alive              DOUBLE PRECISION NOT NULL,
    expected_value_minor BIGINT NOT NULL,        -- of one future order
    clv_minor            BIGINT NOT NULL,        -- 12 months, discounted, times the margin
    churn_risk           TEXT NOT NULL,           -- low, medium, high, very_high
    next_order_on        TEXT                     -- YYYY-MM-DD; NULL: not expected within 24 months
);
CREATE INDEX predictions_model ON predictions(model_id);
