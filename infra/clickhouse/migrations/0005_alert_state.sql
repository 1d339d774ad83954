-- Alert state that must survive a restart: one row per alert key (a KPI, or an account's health).
-- `version` grows with every change, so the latest decision wins under FINAL.
CREATE TABLE IF NOT EXISTS alert_state
(
    alert_key         String,
    subject_kind      LowCardinality(String),
    subject_id        String,
    status            LowCardinality(String),
    since             DateTime64(3, 'UTC'),
    last_notified_at  Nullable(DateTime64(3, 'UTC')),
    last_status_label String,
    version           UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY alert_key;

-- Every notification decided, for the record: what was sent, to whom, and how delivery went.
CREATE TABLE IF NOT EXISTS alert_notifications
(
    notification_id String,
    alert_key       String,
    event           LowCardinality(String),
    decided_at      DateTime64(3, 'UTC'),
    recipients      Array(String),
    subject         String,
    delivery        LowCardinality(String),
    delivered_to    String,
    written_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (alert_key, decided_at, notification_id);
