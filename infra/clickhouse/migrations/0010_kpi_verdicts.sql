-- Final verdicts get a table of their own, one row per KPI and period.
-- Why: a period's verdict is judged as of its end, and the end of one calendar period is the
-- start of the next, so in kpi_evaluations the verdict and the next period's first running
-- evaluation shared the key (kpi_id, evaluated_at) and one silently replaced the other.
-- A verdict is re-judged during the grace window as late data arrives; the version column is
-- `judged_at` (when it was judged), so the verdict judged with the most knowledge wins, whatever
-- order the evaluations ran in.
-- Cost: the verdict rows kept in kpi_evaluations by earlier versions (evaluated at their period's
-- end, with status achieved or missed) are copied here and then removed there by a mutation
-- (a few rows per KPI and period; the mutation rewrites only the parts that hold them).
-- Verify: SELECT count() FROM kpi_evaluations WHERE evaluated_at = period_end  -- 0
--         SELECT kpi_id, period_label, status FROM kpi_verdicts FINAL ORDER BY period_start
CREATE TABLE IF NOT EXISTS kpi_verdicts
(
    kpi_id           LowCardinality(String),
    period_start     DateTime64(3, 'UTC'),
    period_end       DateTime64(3, 'UTC'),
    period_label     String,
    kpi_name         String,
    objective_id     LowCardinality(String),
    network          LowCardinality(String),
    metric           LowCardinality(String),
    kind             LowCardinality(String),
    comparator       LowCardinality(String),
    actual           Nullable(Float64),
    target           Float64,
    attainment       Nullable(Float64),
    status           LowCardinality(String),
    judged_at        DateTime64(3, 'UTC'),
    settles_at       DateTime64(3, 'UTC'),
    written_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(judged_at)
PARTITION BY toYYYYMM(period_start)
ORDER BY (kpi_id, period_start, period_end)
SETTINGS non_replicated_deduplication_window = 1000;

INSERT INTO kpi_verdicts
SELECT kpi_id, period_start, period_end, '' AS period_label, kpi_name, objective_id, network, metric, kind, comparator,
       actual, target, attainment, status, written_at AS judged_at, period_end + INTERVAL 3 DAY AS settles_at, written_at
FROM kpi_evaluations FINAL
WHERE evaluated_at = period_end AND status IN ('achieved', 'missed', 'unknown');

ALTER TABLE kpi_evaluations DELETE WHERE evaluated_at = period_end SETTINGS mutations_sync = 2;
