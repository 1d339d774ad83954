-- Analyst-facing: one value per UTC day, network, account and metric.
-- Gauges (followers): the level at the end of the day. Daily counts: the API's value for the day.
-- Counters (a post's likes so far): the rise during the day, summed over the account's posts.
-- What a post had gained before we first saw it is put on the day it was created (when the API
-- gave its creation time), so the first collection of a Page does not pile years of likes onto
-- one day. The KPI engine uses the same attribution (kpi/clickhouse-source.ts).
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
