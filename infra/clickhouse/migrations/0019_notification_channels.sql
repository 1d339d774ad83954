-- Alerts go to channels besides email (Slack, signed webhooks): each delivery names its channel.
-- alert_notifications.channel: `email`, or the plan's channel name (alerting.channels); one row
-- per notification and channel, as every channel's notification has its own id.
-- alerts.channels: the channels a transition was sent to besides email (names, never URLs).
-- Cost: metadata-only ALTERs; rows written before read `email` and [].
-- Verify: DESCRIBE TABLE alert_notifications lists channel; DESCRIBE TABLE alerts lists channels.
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS channel LowCardinality(String) DEFAULT 'email' AFTER event;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS channels Array(String) DEFAULT [] AFTER recipients;
