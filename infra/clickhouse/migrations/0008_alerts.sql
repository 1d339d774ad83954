-- The alert history: one row per transition of an alert (ok → pending → firing → ok, a repeat,
-- a change of failing status), with the group it went out in, who was notified and under which
-- notification, or that a silence held it. Delivery status stays in alert_notifications (join on
-- notification_id). A retried evaluation re-decides the same transitions at the same time, so
-- the sorting key makes the repeated rows collapse under FINAL.
-- Also: alert_state learns when a firing alert's condition cleared (keep_firing_for). Adding a
-- Nullable column is a metadata-only change; old rows read as NULL (not clearing).
-- Verify: SELECT * FROM alerts FINAL ORDER BY at; DESCRIBE TABLE alert_state lists clear_since.
CREATE TABLE IF NOT EXISTS alerts
(
    at              DateTime64(3, 'UTC'),
    alert_key       String,
    subject_kind    LowCardinality(String),
    subject_id      String,
    objective_id    String,
    from_status     LowCardinality(String),
    to_status       LowCardinality(String),
    label           String,
    event           LowCardinality(String),
    group_key       String,
    recipients      Array(String),
    notification_id String,
    silenced        Bool,
    written_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (alert_key, at, to_status, event);

ALTER TABLE alert_state ADD COLUMN IF NOT EXISTS clear_since Nullable(DateTime64(3, 'UTC')) AFTER version;
