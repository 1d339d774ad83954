-- Why: source_metric_freshness counted raw rows, so a re-run round (a retried job, a restart after
-- a crash) showed more observations than there are until ClickHouse merged the copies. It reads
-- observations FINAL now, like every other reader; the times it reports were right either way.
-- Cost: the view only; FINAL merges at read time (the view is read per account and metric).
-- Verify: SELECT sum(observations) FROM source_metric_freshness = SELECT count() FROM observations FINAL
CREATE OR REPLACE VIEW source_metric_freshness AS
SELECT network, account_id, metric,
       max(collected_at) AS last_collected_at,
       max(observed_at) AS last_observed_at,
       count() AS observations
FROM observations FINAL
GROUP BY network, account_id, metric;
