-- Notifications that did not get through are recorded and sent again.
-- Why: a notify job whose tries ran out (an SMTP server dropping the connection) left no row in
-- alert_notifications while alert_state said "notified", so the alert was lost without a word.
-- Now every job that ends writes a row: delivery `sent`, `failed` (refused for good, SMTP 5xx: not
-- retried), `undelivered` (tries ran out: the next evaluation sends it again as a new job), or
-- `retrying` (sent again, on its way). The latest row per notification wins under FINAL.
-- attempt_id: the notify job the row is about (the notification id for the first job, then
-- `<notification id>-retry-<evaluation time>`); attempts: how many tries it made; payload: the
-- job's data as JSON while not sent, so it can be sent again even when Redis lost its jobs.
-- Cost: metadata-only ALTERs; rows written before read '' and 0.
-- Verify: DESCRIBE TABLE alert_notifications lists attempt_id, attempts and payload.
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS attempt_id String DEFAULT '';
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS attempts UInt32 DEFAULT 0;
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS payload String DEFAULT '';
