-- Source health, part two: when a throttled account may call again, and per account and metric
-- the newest data we hold. The view reads raw observations, so it is always current; it scans
-- one partition key at a time, which is cheap at our volumes (thousands of rows per account and day).
ALTER TABLE source_health ADD COLUMN IF NOT EXISTS quota_resets_at Nullable(DateTime64(3, 'UTC'));

CREATE VIEW IF NOT EXISTS source_metric_freshness AS
SELECT network, account_id, metric,
       max(collected_at) AS last_collected_at,
       max(observed_at) AS last_observed_at,
       count() AS observations
FROM observations
GROUP BY network, account_id, metric;
