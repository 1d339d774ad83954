-- Collection rounds: one row per round when it is evaluated. A round is evaluated when every
-- account's job has ended or at its deadline (collection.roundDeadline, default half the
-- interval), whichever comes first; `pending` names the accounts whose job had not ended then
-- (throttled, retrying, slow), `evaluated_by` says which came first, and the counters say how the
-- others ended. `coalesced` counts accounts whose job from an earlier round (held back by a
-- throttle) collected for this round too, instead of a job of its own.
-- A round evaluated again (a retried job) replaces its row: evaluated_at is the version.
-- Cost: a new, small table (one row per round); nothing else changes.
-- Verify: SELECT round_at, accounts, collected, failed, pending, evaluated_by FROM collection_rounds FINAL ORDER BY round_at DESC LIMIT 10
CREATE TABLE IF NOT EXISTS collection_rounds
(
    plan_key      String,
    round_at      DateTime64(3, 'UTC'),
    accounts      UInt32,
    collected     UInt32,
    degraded      UInt32,
    failing       UInt32,
    unhealthy     UInt32,
    failed        UInt32,
    coalesced     UInt32,
    pending       Array(String),
    evaluated_by  LowCardinality(String),
    evaluated_at  DateTime64(3, 'UTC'),
    written_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(evaluated_at)
ORDER BY (plan_key, round_at);
