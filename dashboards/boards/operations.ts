import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common'
import { panels, grid, dashboard, networkVariable, zoneVariable, dayOf, coloured, duration, isoTime, oneOf } from '../parts.ts'

export function operations() {
  const p = panels()
  const networks = oneOf('network', 'network')
  return dashboard(
    'social-kpi-operations',
    'social-kpi · Operations',
    "Is the data flowing: each account's health, the freshness of each metric, quota resets, API errors and collection lag. Sources: source_health, source_metric_freshness, alerts, observations.",
  )
    .withVariable(networkVariable({ multi: true }))
    .withVariable(zoneVariable())
    .withPanel(
      p
        .table({
          title: 'Source health',
          description:
            'Per account, as of the latest collection: healthy, degraded (collects, but the API refuses metrics a KPI needs), throttled (waits for its quota), unhealthy (token refused) or failing; when collection last succeeded and what failed last. Problems first. Source: source_health.',
          at: grid(0, 0, 24, 8),
          sql: `
SELECT
    network AS "Network",
    account_id AS "Account",
    status AS "Status",
    last_success_at AS "Last success",
    last_error_at AS "Last error at",
    last_error_code AS "Code",
    last_error AS "Last error",
    arrayStringConcat(refused_metrics, ', ') AS "Refused metrics"
FROM source_health FINAL
WHERE ${networks}
ORDER BY status = 'healthy', network, account_id`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('Last success', isoTime)
        .overrideByName('Last error at', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Freshness per account and metric',
          description:
            'Per account and metric: when data was last collected and the newest time it describes, how old that is at the end of the time range, and how many observations are stored. The stalest first; an account whose data is older than its schedule allows also raises a freshness alert. Source: source_metric_freshness.',
          at: grid(0, 8, 16, 9),
          sql: `
SELECT
    network AS "Network",
    account_id AS "Account",
    metric AS "Metric",
    last_collected_at AS "Last collected",
    last_observed_at AS "Newest data",
    greatest(dateDiff('second', last_collected_at, $__toTime_ms), 0) AS "Age",
    observations AS "Observations"
FROM source_metric_freshness
WHERE ${networks}
ORDER BY "Age" DESC, network, account_id, metric`,
        })
        .overrideByName('Age', duration)
        .overrideByName('Last collected', isoTime)
        .overrideByName('Newest data', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Quota resets',
          description:
            "Accounts waiting for an API quota (a throttle, a daily quota such as YouTube's units): when they may call again, and how long that is after the end of the time range (0 once passed). Source: source_health.",
          at: grid(16, 8, 8, 9),
          sql: `
SELECT network AS "Network", account_id AS "Account", status AS "Status", quota_resets_at AS "Resets at", greatest(dateDiff('second', $__toTime_ms, quota_resets_at), 0) AS "In"
FROM source_health FINAL
WHERE quota_resets_at IS NOT NULL AND ${networks}
ORDER BY quota_resets_at DESC`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('In', duration)
        .overrideByName('Resets at', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'API errors',
          description:
            "The last error of each account whose last error falls in the time range: the API's code and message (secrets redacted), and whether the account has recovered since. Source: source_health.",
          at: grid(0, 17, 12, 8),
          sql: `
SELECT network AS "Network", account_id AS "Account", last_error_at AS "At", last_error_code AS "Code", last_error AS "Error", if(last_success_at > last_error_at, 'recovered', status) AS "Now"
FROM source_health FINAL
WHERE last_error_at IS NOT NULL AND $__timeFilter_ms(last_error_at) AND ${networks}
ORDER BY last_error_at DESC`,
        })
        .overrideByName('Now', coloured)
        .overrideByName('At', isoTime),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Source problems per day',
          description:
            "Per day in the plan's time zone (Days in) and kind of problem: how many times an account turned failing (refused token, throttled, failing, degraded, stale data, expiring token). Source: alerts (subject kind source).",
          at: grid(12, 17, 12, 8),
          sql: `
SELECT ${dayOf('at')} AS time, splitByChar('.', alert_key)[1] AS problem, count() AS changes
FROM alerts FINAL
WHERE subject_kind = 'source' AND to_status IN ('pending', 'firing') AND from_status = 'ok' AND $__timeFilter_ms(at)
  AND ${oneOf("splitByChar('/', subject_id)[1]", 'network')}
GROUP BY time, problem
ORDER BY time, problem`,
        })
        .displayName('${__field.labels.problem}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Collection lag',
          description:
            "Per network: how long after its round's time a reading was stored (collected_at − observed_at; levels and post counters only, daily counts describe a whole day), the worst in each interval. A round collected late after an outage shows here. Source: observations.",
          at: grid(0, 25, 12, 8),
          sql: `
SELECT $__timeInterval(collected_at) AS time, network, max(greatest(dateDiff('second', observed_at, collected_at), 0)) AS lag
FROM observations FINAL
WHERE shape != 'daily' AND $__timeFilter_ms(collected_at) AND ${networks}
GROUP BY time, network
ORDER BY time, network`,
        })
        .displayName('${__field.labels.network}')
        .unit('s'),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Observations stored',
          description: 'Per network: how many readings were stored in each interval (by collection time), after de-duplication. A gap means no collection. Source: observations.',
          at: grid(12, 25, 12, 8),
          sql: `
SELECT $__timeInterval(collected_at) AS time, network, count() AS observations
FROM observations FINAL
WHERE $__timeFilter_ms(collected_at) AND ${networks}
GROUP BY time, network
ORDER BY time, network`,
        })
        .displayName('${__field.labels.network}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
}
