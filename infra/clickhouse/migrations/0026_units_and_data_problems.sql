-- Why (issue 22): money is shown in its account's currency, as the API tells it, and never added
-- across currencies; a value that cannot be (a count below zero, a part above its whole) is a data
-- problem, not a verdict, and says what is wrong.
-- account_facts: what an account's API says of the account itself, one row per account and fact
-- (today `currency`: the Meta ad account's `currency`, GA4's report `metadata.currencyCode`),
-- replaced by the newest collection. The evaluator reads the currencies from here.
-- kpi_evaluations, kpi_verdicts: `unit` (percent, ratio, count, currency: how the KPI is shown),
-- `currency` (ISO 4217, for money), and for reason `data_problem` its `status_cause` (stale,
-- below_zero, above_whole, mixed_currencies) with the cause's numbers in `cause_facts`.
-- Cost: one small table (accounts × facts); the columns have defaults, a metadata-only change.
-- Rows written before read unit '' (shown as before), currency '', status_cause '' (a
-- data_problem then was always stale data) and {}.
-- Verify: SELECT network, account_id, fact, value, collected_at FROM account_facts FINAL;
-- DESCRIBE TABLE kpi_evaluations lists unit, currency, status_cause and cause_facts.
CREATE TABLE IF NOT EXISTS account_facts
(
    network      LowCardinality(String),
    account_id   String,
    fact         LowCardinality(String),
    value        String,
    source_field LowCardinality(String),
    collected_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(collected_at)
ORDER BY (network, account_id, fact);

ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS unit LowCardinality(String) DEFAULT '' AFTER target;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS currency LowCardinality(String) DEFAULT '' AFTER unit;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS status_cause LowCardinality(String) DEFAULT '' AFTER missing_accounts;
ALTER TABLE kpi_evaluations ADD COLUMN IF NOT EXISTS cause_facts Map(String, String) AFTER status_cause;
ALTER TABLE kpi_verdicts ADD COLUMN IF NOT EXISTS unit LowCardinality(String) DEFAULT '' AFTER target;
ALTER TABLE kpi_verdicts ADD COLUMN IF NOT EXISTS currency LowCardinality(String) DEFAULT '' AFTER unit;
ALTER TABLE kpi_verdicts ADD COLUMN IF NOT EXISTS status_cause LowCardinality(String) DEFAULT '' AFTER missing_accounts;
ALTER TABLE kpi_verdicts ADD COLUMN IF NOT EXISTS cause_facts Map(String, String) AFTER status_cause;
