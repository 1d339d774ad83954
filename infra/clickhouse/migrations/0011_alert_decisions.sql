-- The newest evaluation time the alert engine has decided on, per plan. An evaluation older than
-- it (a backlog of retried jobs, `evaluate --once --at` in the past) is judged and stored, but
-- decides no alert: judged on older data it would resolve alerts that are still failing and send
-- false RESOLVED emails. ReplacingMergeTree(decided_at) keeps the newest whatever order rows
-- arrive in. Cost: one tiny row per evaluation, merged away.
-- Verify: SELECT plan_key, max(decided_at) FROM alert_decisions GROUP BY plan_key
CREATE TABLE IF NOT EXISTS alert_decisions
(
    plan_key   String,
    decided_at DateTime64(3, 'UTC'),
    written_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(decided_at)
ORDER BY plan_key;
