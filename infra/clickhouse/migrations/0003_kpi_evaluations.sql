-- One row per KPI per evaluation time. Re-running an evaluation for the same time replaces it.
CREATE TABLE IF NOT EXISTS kpi_evaluations
(
    evaluated_at     DateTime64(3, 'UTC'),
    kpi_id           LowCardinality(String),
    kpi_name         String,
    objective_id     LowCardinality(String),
    network          LowCardinality(String),
    metric           LowCardinality(String),
    kind             LowCardinality(String),
    comparator       LowCardinality(String),
    period_start     DateTime64(3, 'UTC'),
    period_end       DateTime64(3, 'UTC'),
    actual           Nullable(Float64),
    expected_to_date Nullable(Float64),
    target           Float64,
    attainment       Nullable(Float64),
    status           LowCardinality(String),
    written_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(written_at)
PARTITION BY toYYYYMM(evaluated_at)
ORDER BY (kpi_id, evaluated_at)
SETTINGS non_replicated_deduplication_window = 1000;
