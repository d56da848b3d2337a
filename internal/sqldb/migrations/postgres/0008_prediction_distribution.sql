-- How a model's predictions spread over the customers (churn-risk bands and
-- CLV buckets, JSON), counted when the model is written, so that the
-- dashboard reads one row instead of a million.
ALTER TABLE prediction_models ADD COLUMN distribution TEXT NOT NULL DEFAULT '';
