-- Why: a KPI without a verdict (`unknown`) now says why (kpi/statuses.ts STATUS_REASONS: no_data,
-- incomplete, data_problem, no_history, too_early) and which accounts' data is missing or stale, so
-- that the renderings, the dashboards and analysts tell a missing account from a KPI with nothing
-- to count (issue 21: partial data had been judged and alerted on as if complete).
-- Cost: columns with defaults are a metadata-only change (no rewrite of existing parts); older
-- rows read as '' (no reason recorded) and [].
-- Verify: DESCRIBE TABLE kpi_evaluations and DESCRIBE TABLE kpi_verdicts list status_reason and missing_accounts.
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS status_reason LowCardinality(String) DEFAULT '' AFTER status_basis;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS missing_accounts Array(String) AFTER status_reason;
ALTER TABLE kpi_verdicts ADD COLUMN IF NOT EXISTS status_reason LowCardinality(String) DEFAULT '' AFTER status;
ALTER TABLE kpi_verdicts ADD COLUMN IF NOT EXISTS missing_accounts Array(String) AFTER status_reason;
