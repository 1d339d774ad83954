-- Why: daily counts may now also be stored per segment (object_type 'segment': one value of an
-- API dimension, such as a GA4 channel group, so a KPI can narrow its account's data), beside the
-- account's own total. metrics_daily shows the totals, as before: segments would count twice.
-- Cost: the view only. Verify: SELECT object_type, count() FROM observations GROUP BY object_type
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
    WHERE shape = 'daily' AND object_type != 'segment'
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
