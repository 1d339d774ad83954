-- Why: an account can collect while the API refuses one part of it (LinkedIn follower statistics,
-- a TikTok video list). Such an account is `degraded`, not healthy: status says so, and
-- refused_metrics names the metrics it gets no data for (last_error says why and what to do).
-- Cost: metadata only. Rows written before have an empty list.
-- Verify: SELECT account_id, status, refused_metrics, last_error FROM source_health FINAL
ALTER TABLE source_health ADD COLUMN IF NOT EXISTS refused_metrics Array(String) DEFAULT [] AFTER last_error;
