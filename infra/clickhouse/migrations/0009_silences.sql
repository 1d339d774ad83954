-- Silences: planned pauses of alerts (`social-kpi silence add|list|expire`, alerts/silences.ts).
-- One row per silence id; expiring a silence writes the row again with `expired_at` set and a
-- higher `version`, so under FINAL the latest write wins (ReplacingMergeTree as an update).
-- Matchers: exactly one of kpi_id, objective_id, account_id is set, the others are ''.
-- Cost: a new, small table; nothing else changes. Verify: SELECT * FROM silences FINAL.
CREATE TABLE IF NOT EXISTS silences
(
    id           String,
    kpi_id       String,
    objective_id String,
    account_id   String,
    starts_at    DateTime64(3, 'UTC'),
    ends_at      DateTime64(3, 'UTC'),
    reason       String,
    created_by   String,
    created_at   DateTime64(3, 'UTC'),
    expired_at   Nullable(DateTime64(3, 'UTC')),
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
