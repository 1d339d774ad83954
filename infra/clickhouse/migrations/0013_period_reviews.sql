-- Period reviews: when a week, month, quarter or year has ended and its final verdicts have
-- settled (kpi_verdicts.settles_at), one review per plan and kind of period is built, stored here
-- and emailed through the notify queue (delivery recorded in alert_notifications, as alerts).
-- `review` is the whole review as JSON (kpi/review.ts periodReviewSchema), so `social-kpi report`
-- renders exactly what was sent; the counts beside it are for dashboards and analysts.
-- One row per plan, kind and period: the evaluation that finds a review due checks this table
-- under a Redis lock before building one, and the notify job's id is derived from the period, so
-- a retried or doubled evaluation sends no second review. built_at is the version.
-- Cost: a new, small table (one row per period); nothing else changes.
-- Verify: SELECT period_kind, period_label, kpis, achieved, missed, notification_id FROM period_reviews FINAL ORDER BY period_start
CREATE TABLE IF NOT EXISTS period_reviews
(
    plan_key        String,
    period_kind     LowCardinality(String),
    period_start    DateTime64(3, 'UTC'),
    period_end      DateTime64(3, 'UTC'),
    period_label    String,
    kpis            UInt16,
    achieved        UInt16,
    missed          UInt16,
    unknown         UInt16,
    objectives      UInt16,
    objectives_met  UInt16,
    review          String,
    notification_id String,
    recipients      Array(String),
    known_at        DateTime64(3, 'UTC'),
    built_at        DateTime64(3, 'UTC'),
    written_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(built_at)
ORDER BY (plan_key, period_kind, period_start);
