-- Per account: is its token working, when did collection last succeed, what failed last.
-- Latest row per (network, account_id) wins; read with FINAL.
CREATE TABLE IF NOT EXISTS source_health
(
    network         LowCardinality(String),
    account_id      String,
    status          LowCardinality(String),
    last_success_at Nullable(DateTime64(3, 'UTC')),
    last_error_at   Nullable(DateTime64(3, 'UTC')),
    last_error_code String,
    last_error      String,
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (network, account_id);
