-- Raw observations, exactly as collected, so that any period's change can be derived later.
-- Why ReplacingMergeTree: re-delivery of a batch (a retried job, a re-read look-back window) writes
-- rows with the same key again; the newest `collected_at` wins, and readers use FINAL.
-- Batches also carry an insert_deduplication_token, so an identical re-insert is dropped at once.
-- shape: gauge   = a level at observed_at (followers)
--        counter = a cumulative count of one object at observed_at (a post's likes so far)
--        daily   = a count for the day that starts at observed_at (an insights day bucket)
CREATE TABLE IF NOT EXISTS observations
(
    network           LowCardinality(String),
    account_id        String,
    object_type       LowCardinality(String),
    object_id         String,
    metric            LowCardinality(String),
    shape             Enum8('gauge' = 1, 'counter' = 2, 'daily' = 3),
    observed_at       DateTime64(3, 'UTC'),
    value             Float64,
    object_created_at Nullable(DateTime64(3, 'UTC')),
    source_field      LowCardinality(String),
    api_version       LowCardinality(String),
    collected_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(collected_at)
PARTITION BY toYYYYMM(observed_at)
ORDER BY (network, account_id, metric, object_type, object_id, observed_at)
SETTINGS non_replicated_deduplication_window = 1000;
