-- Analyst-facing: one value per UTC day, network, account and metric.
-- Gauges (followers): the level at the end of the day. Daily counts: the API's value for the day.
-- Counters (a post's likes so far): the rise during the day, summed over the account's posts; a
-- post seen for the first time counts from zero only if it was created at most a day before it
-- was first seen, otherwise its earlier history is unknown and its first day counts nothing.
CREATE VIEW IF NOT EXISTS metrics_daily AS
SELECT day, network, account_id, metric, sum(day_value) AS value
FROM
(
    SELECT toDate(observed_at) AS day, network, account_id, metric, argMax(value, observed_at) AS day_value
    FROM observations FINAL
    WHERE shape = 'gauge'
    GROUP BY day, network, account_id, metric, object_id
    UNION ALL
    SELECT toDate(observed_at) AS day, network, account_id, metric, sum(value) AS day_value
    FROM observations FINAL
    WHERE shape = 'daily'
    GROUP BY day, network, account_id, metric
    UNION ALL
    SELECT day, network, account_id, metric,
           day_end - if(seen_before = 0, if(ifNull(created, toDateTime64(0, 3, 'UTC')) >= first_seen - INTERVAL 1 DAY, 0, day_end), previous_end) AS day_value
    FROM
    (
        SELECT day, network, account_id, metric, object_id, day_end, first_seen, created,
               lagInFrame(day_end) OVER w AS previous_end,
               row_number() OVER w - 1 AS seen_before
        FROM
        (
            SELECT toDate(observed_at) AS day, network, account_id, metric, object_id,
                   argMax(value, observed_at) AS day_end,
                   min(observed_at) AS first_seen,
                   any(object_created_at) AS created
            FROM observations FINAL
            WHERE shape = 'counter'
            GROUP BY day, network, account_id, metric, object_id
        )
        WINDOW w AS (PARTITION BY network, account_id, metric, object_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )
)
GROUP BY day, network, account_id, metric;
