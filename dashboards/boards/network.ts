import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common'
import { panels, grid, dashboard, variable, networkVariable, zoneVariable, dayStart, daysInRange, METRICS_DAILY, API_DAYS, isoTime, oneOf } from '../parts.ts'

export function perNetwork() {
  const p = panels()
  const accounts = oneOf('account_id', 'account')
  return dashboard(
    'social-kpi-network',
    'social-kpi · Per network',
    "One network at a time: followers, likes, clicks and conversions per account, per day in the plan's time zone, and the top posts published in the time range. Sources: metrics_daily_local, observations.",
  )
    .withVariable(networkVariable({ multi: false }))
    .withVariable(zoneVariable())
    .withVariable(
      variable(
        'account',
        'Account',
        "The network's accounts (the plan's account ids).",
        `SELECT DISTINCT account_id FROM (SELECT network, account_id FROM plan_accounts UNION ALL SELECT network, account_id FROM source_health FINAL) WHERE network = \${network:singlequote} ORDER BY account_id`,
        { multi: true },
      ),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Followers per account',
          description:
            "Followers (or subscribers) of each account at the end of each day in the plan's time zone (Days in). Networks without a follower count (ads, analytics) show nothing here. Source: metrics_daily_local.",
          at: grid(0, 0, 12, 9),
          sql: `
SELECT ${dayStart('day')} AS time, account_id AS account, value AS followers
FROM ${METRICS_DAILY}
WHERE network = \${network:singlequote} AND metric = 'followers' AND ${daysInRange('day')} AND ${accounts}
ORDER BY time, account`,
        })
        .displayName('${__field.labels.account}')
        .decimals(0),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Likes, clicks and conversions per day',
          description: `Per account and day in the plan's time zone (Days in): likes, clicks and conversions, where the network reports them (Facebook and Instagram posts' likes and clicks; conversions from Meta ads and GA4 key events). A post's likes count on the day they were gained. ${API_DAYS} Source: metrics_daily_local.`,
          at: grid(12, 0, 12, 9),
          sql: `
SELECT ${dayStart('day')} AS time, concat(account_id, ' · ', metric) AS series, value
FROM ${METRICS_DAILY}
WHERE network = \${network:singlequote} AND metric IN ('likes', 'clicks', 'conversions') AND ${daysInRange('day')} AND ${accounts}
ORDER BY time, series`,
        })
        .displayName('${__field.labels.series}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
    .withPanel(
      p.table({
        title: 'Totals per account',
        description: `Per account over the days of the time range in the plan's time zone (Days in): followers at the end, and the likes, clicks and conversions gained (0 where the network does not report one). ${API_DAYS} Source: metrics_daily_local.`,
        at: grid(0, 9, 24, 6),
        sql: `
SELECT
    account_id AS "Account",
    argMaxIf(value, day, metric = 'followers') AS "Followers",
    sumIf(value, metric = 'likes') AS "Likes",
    sumIf(value, metric = 'clicks') AS "Clicks",
    sumIf(value, metric = 'conversions') AS "Conversions"
FROM ${METRICS_DAILY}
WHERE network = \${network:singlequote} AND ${daysInRange('day')} AND ${accounts}
GROUP BY account_id
ORDER BY account_id`,
      }),
    )
    .withPanel(
      p
        .table({
          title: 'Top posts of the period',
          description:
            'Posts and videos published in the time range (by the time the network gives, else when first seen), with their likes, comments, shares, clicks and views at the end of the range, the most engaging first (likes + comments + shares). At most 20. Source: observations.',
          at: grid(0, 15, 24, 9),
          sql: `
SELECT *
FROM
(
    SELECT
        account_id AS "Account",
        object_type AS "Type",
        object_id AS "Post",
        min(ifNull(object_created_at, observed_at)) AS "Published",
        maxIf(value, metric = 'likes') AS "Likes",
        maxIf(value, metric = 'comments') AS "Comments",
        maxIf(value, metric = 'shares') AS "Shares",
        maxIf(value, metric = 'clicks') AS "Clicks",
        maxIf(value, metric = 'views') AS "Views"
    FROM observations FINAL
    WHERE network = \${network:singlequote} AND shape = 'counter' AND observed_at <= $__toTime_ms AND ${accounts}
    GROUP BY account_id, object_type, object_id
)
WHERE "Published" >= $__fromTime_ms AND "Published" <= $__toTime_ms
ORDER BY "Likes" + "Comments" + "Shares" DESC, "Post"
LIMIT 20`,
        })
        .overrideByName('Published', isoTime),
    )
}
