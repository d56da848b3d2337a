-- The customer directory (internal/directory): indexes that let each sort
-- of the list walk one index in order, LIMIT stopping the walk, while the
-- filters are primary-key lookups.

-- Sort by net revenue and by orders.
CREATE INDEX customer_stats_revenue ON customer_stats(revenue_minor, profile_id);
CREATE INDEX customer_stats_orders ON customer_stats(orders, profile_id);

-- Sort by predicted lifetime value.
CREATE INDEX predictions_clv ON predictions(clv_minor, profile_id);

-- Sort by name: canonical profiles only.
CREATE INDEX profiles_directory_name ON profiles(name, id) WHERE merged_into IS NULL;

-- A profile's latest NPS answer in one seek (covering).
CREATE INDEX survey_responses_latest ON survey_responses(profile_id, survey_type, responded_at, event_seq, score);

-- Channel and store filters: a profile's order channels and stores (covering).
CREATE INDEX orders_profile_channel ON orders(profile_id, channel, store_id);

-- The stores orders were placed in, one seek per store.
CREATE INDEX orders_store ON orders(store_id) WHERE store_id <> '';

-- Rare filter values (a small churn band, an RFM cell) are where the list
-- starts: counted and read through these.
CREATE INDEX predictions_churn ON predictions(churn_risk, profile_id);
CREATE INDEX rfm_scores_cell ON rfm_scores(r, fm, profile_id);
