-- Why: metrics_daily is keyed by the UTC date, so for a Jakarta team a dashboard's "day" ran from
-- 07:00 to 07:00 (issue 22). metrics_daily keeps its meaning (analysts' queries rely on it);
-- beside it, metrics_daily_local gives the same values per day in a zone the reader names:
--   SELECT * FROM metrics_daily_local(zone = 'Asia/Jakarta')
-- (the plan's zone is `SELECT timezone FROM plans FINAL`; the dashboards pass it as ${zone}).
-- Gauges (followers): the level at the end of the local day. Counters (a post's likes so far):
-- the rise during the local day, with what a post had gained before we first saw it put on the
-- local day it was created, as in metrics_daily. Both are read from observation_hours (per object
-- and UTC hour; kept after OBSERVATIONS_RETENTION_DAYS drops raw rows), so a day is whole hours:
-- exact in every zone whose offset is whole hours; in one with a half hour (Asia/Kolkata), the
-- hour that holds midnight counts on the day it starts in. Daily counts keep the day the API
-- gave them (api_day: a GA4 property's day, an ad account's, Pacific for Graph insights), read
-- from observations as in metrics_daily, so within the retention only.
-- Cost: a view, nothing stored; it reads observation_hours' states rather than every raw row.
-- Verify: SELECT day, metric, value FROM metrics_daily_local(zone = 'Asia/Jakarta') ORDER BY day DESC LIMIT 10
CREATE VIEW IF NOT EXISTS metrics_daily_local AS
SELECT day, network, account_id, metric, sum(day_value) AS value
FROM
(
    SELECT toDate(bucket, {zone:String}) AS day, network, account_id, metric, argMaxMerge(last) AS day_value
    FROM observation_hours
    WHERE shape = 'gauge'
    GROUP BY day, network, account_id, metric, object_type, object_id
    UNION ALL
    SELECT ifNull(api_day, toDate(observed_at, {zone:String})) AS day, network, account_id, metric, sum(value) AS day_value
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
                         if(toDate(created, {zone:String}) < day,
                            [(toDate(created, {zone:String}), day_first), (day, day_end - day_first)],
                            [(day, day_end)])))
               ) AS part
        FROM
        (
            SELECT day, network, account_id, metric, object_id, day_first, day_end, created,
                   lagInFrame(day_end) OVER w AS previous_end,
                   row_number() OVER w - 1 AS seen_before
            FROM
            (
                SELECT toDate(bucket, {zone:String}) AS day, network, account_id, metric, object_type, object_id,
                       argMinMerge(first) AS day_first,
                       argMaxMerge(last) AS day_end,
                       min(created) AS created
                FROM observation_hours
                WHERE shape = 'counter'
                GROUP BY day, network, account_id, metric, object_type, object_id
            )
            WINDOW w AS (PARTITION BY network, account_id, metric, object_type, object_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
    )
)
GROUP BY day, network, account_id, metric;
