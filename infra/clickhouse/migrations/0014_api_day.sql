-- Why: a daily count is the API's value for the API's own day, and the API's day is not the UTC
-- date of its start. GA4 days are the property's, Meta ads days the ad account's, Graph and
-- YouTube Analytics days Pacific: a Jakarta day starts at 17:00 UTC the day before, so
-- toDate(observed_at) put every such value under the previous date. Daily rows now keep the day
-- as the API labels it (api_day) and its zone (api_day_zone), and metrics_daily shows that day.
-- Gauges and counters stay on UTC days, as before.
-- Cost: adding the columns is metadata only; rows written before have NULL and keep the UTC date.
-- Verify: SELECT api_day, api_day_zone, observed_at FROM observations WHERE shape = 'daily' LIMIT 5
ALTER TABLE observations ADD COLUMN IF NOT EXISTS api_day Nullable(Date) AFTER observed_at;
ALTER TABLE observations ADD COLUMN IF NOT EXISTS api_day_zone LowCardinality(String) DEFAULT '' AFTER api_day;

-- Analyst-facing: one value per day, network, account and metric. Daily counts: the API's value
-- for the API's day. Gauges (followers): the level at the end of the UTC day. Counters: the rise
-- during the UTC day (see 0002_metrics_daily.sql for how earlier gains are attributed).
CREATE OR REPLACE VIEW metrics_daily AS
SELECT day, network, account_id, metric, sum(day_value) AS value
FROM
(
    SELECT toDate(observed_at) AS day, network, account_id, metric, argMax(value, observed_at) AS day_value
    FROM observations FINAL
    WHERE shape = 'gauge'
    GROUP BY day, network, account_id, metric, object_id
    UNION ALL
    SELECT ifNull(api_day, toDate(observed_at)) AS day, network, account_id, metric, sum(value) AS day_value
    FROM observations FINAL
    WHERE shape = 'daily'
    GROUP BY day, network, account_id, metric
    UNION ALL
    SELECT part.1 AS day, network, account_id, metric, part.2 AS day_value
    FROM
    (
        SELECT network, account_id, metric,
               arrayJoin(
                   if(seen_before > 0,
                      [(day, day_end - previous_end)],
                      if(created IS NULL,
                         [(day, 0.)],
                         if(toDate(created) < day,
                            [(toDate(created), day_first), (day, day_end - day_first)],
                            [(day, day_end)])))
               ) AS part
        FROM
        (
            SELECT day, network, account_id, metric, object_id, day_first, day_end, created,
                   lagInFrame(day_end) OVER w AS previous_end,
                   row_number() OVER w - 1 AS seen_before
            FROM
            (
                SELECT toDate(observed_at) AS day, network, account_id, metric, object_id,
                       argMin(value, observed_at) AS day_first,
                       argMax(value, observed_at) AS day_end,
                       any(object_created_at) AS created
                FROM observations FINAL
                WHERE shape = 'counter'
                GROUP BY day, network, account_id, metric, object_id
            )
            WINDOW w AS (PARTITION BY network, account_id, metric, object_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
    )
)
GROUP BY day, network, account_id, metric;
