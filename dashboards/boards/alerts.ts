import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common'
import { panels, grid, dashboard, variable, zoneVariable, dayOf, coloured, duration, isoTime, oneOf } from '../parts.ts'

export function alertsAndCrises() {
  const p = panels()
  const kinds = oneOf('subject_kind', 'kind')
  return dashboard(
    'social-kpi-alerts',
    'social-kpi · Alerts and crises',
    'What is firing now, what fired and resolved in the time range, how long alerts took to resolve, how each notification went, crises, and silences. Sources: alert_state, alerts, alert_notifications, silences.',
  )
    .withVariable(
      variable(
        'kind',
        'Alert kind',
        'What alerts are about: kpi (a KPI at risk or missed), source (an account failing, stale or with an expiring token), crisis (a crisis trigger).',
        `SELECT DISTINCT subject_kind FROM (SELECT subject_kind FROM alert_state FINAL UNION ALL SELECT subject_kind FROM alerts FINAL) ORDER BY subject_kind`,
        { multi: true },
      ),
    )
    .withVariable(zoneVariable())
    .withPanel(
      p
        .table({
          title: 'Open now',
          description:
            "Alerts firing or pending (failing, waiting for the plan's `for` before they fire) at the latest evaluation, with what they say (label), since when, and when a notification last went out. Source: alert_state.",
          at: grid(0, 0, 24, 7),
          sql: `
SELECT
    alert_key AS "Alert",
    subject_kind AS "Kind",
    subject_id AS "Subject",
    status AS "Status",
    last_status_label AS "Label",
    since AS "Since",
    last_notified_at AS "Last notified"
FROM alert_state FINAL
WHERE status IN ('firing', 'pending') AND ${kinds}
ORDER BY status = 'firing' DESC, since`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('Since', isoTime)
        .overrideByName('Last notified', isoTime),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Alerts fired per day',
          description: "Per day in the plan's time zone (Days in) and kind: how many alerts fired (a first notification), and how many resolved. Source: alerts.",
          at: grid(0, 7, 12, 8),
          sql: `
SELECT ${dayOf('at')} AS time, concat(subject_kind, ' · ', if(event = 'resolved', 'resolved', 'fired')) AS series, count() AS alerts
FROM alerts FINAL
WHERE $__timeFilter_ms(at) AND event IN ('firing', 'resolved') AND ${kinds}
GROUP BY time, series
ORDER BY time, series`,
        })
        .displayName('${__field.labels.series}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
    .withPanel(
      p
        .table({
          title: 'Time to resolve',
          description:
            'Per alert, over the episodes that started firing in the time range: how many, how many resolved (so far), the median and the longest time from firing to resolved. An episode still open counts in Episodes only. Source: alerts.',
          at: grid(12, 7, 12, 8),
          sql: `
SELECT
    s.alert_key AS "Alert",
    any(s.subject_kind) AS "Kind",
    count() AS "Episodes",
    countIf(r.at > s.at) AS "Resolved",
    medianIf(dateDiff('second', s.at, r.at), r.at > s.at) AS "Median time to resolve",
    maxIf(dateDiff('second', s.at, r.at), r.at > s.at) AS "Longest"
FROM
(
    SELECT alert_key, subject_kind, at FROM alerts FINAL
    WHERE to_status = 'firing' AND from_status != 'firing' AND $__timeFilter_ms(at) AND ${kinds}
) AS s
ASOF LEFT JOIN
(
    SELECT alert_key, at FROM alerts FINAL WHERE from_status = 'firing' AND to_status = 'ok'
) AS r ON r.alert_key = s.alert_key AND r.at > s.at
GROUP BY s.alert_key
ORDER BY "Median time to resolve" DESC, "Alert"`,
        })
        .overrideByName('Median time to resolve', duration)
        .overrideByName('Longest', duration),
    )
    .withPanel(
      p
        .table({
          title: 'Alert history',
          description:
            'Every change of an alert in the time range, newest first: from and to status, what it said, whether it notified (firing, repeat, resolved) or was held by a silence, and how that notification was delivered. Source: alerts, alert_notifications.',
          at: grid(0, 15, 24, 9),
          sql: `
SELECT
    a.at AS "At",
    a.alert_key AS "Alert",
    a.subject_kind AS "Kind",
    a.from_status AS "From",
    a.to_status AS "To",
    a.label AS "Label",
    if(a.silenced, 'silenced', a.event) AS "Event",
    arrayStringConcat(a.recipients, ', ') AS "Notified",
    n.delivery AS "Delivery"
FROM (SELECT * FROM alerts FINAL WHERE $__timeFilter_ms(at) AND ${kinds}) AS a
LEFT JOIN (SELECT notification_id, argMax(delivery, written_at) AS delivery FROM alert_notifications FINAL GROUP BY notification_id) AS n
    ON n.notification_id = a.notification_id
ORDER BY a.at DESC, a.alert_key
LIMIT 500`,
        })
        .overrideByName('To', coloured)
        .overrideByName('Delivery', coloured)
        .overrideByName('At', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Crises',
          description: "Crisis triggers (the plan's crisis.triggers) that fired or resolved in the time range, with the accounts involved, and who was notified. Source: alerts.",
          at: grid(0, 24, 12, 8),
          sql: `
SELECT at AS "At", subject_id AS "Trigger", from_status AS "From", to_status AS "To", label AS "Accounts", arrayStringConcat(recipients, ', ') AS "Notified"
FROM alerts FINAL
WHERE subject_kind = 'crisis' AND $__timeFilter_ms(at)
ORDER BY at DESC`,
        })
        .overrideByName('To', coloured)
        .overrideByName('At', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Notifications',
          description:
            'Every notification decided in the time range and how its delivery ended: sent; retrying; undelivered (its tries ran out: sent again at the next evaluation); failed (refused for good, not retried). "Delivered to" says where it went, or why not. Source: alert_notifications.',
          at: grid(12, 24, 12, 8),
          sql: `
SELECT decided_at AS "Decided at", alert_key AS "Alert", event AS "Event", subject AS "Subject", arrayStringConcat(recipients, ', ') AS "To", delivery AS "Delivery", delivered_to AS "Delivered to", attempts AS "Tries"
FROM alert_notifications FINAL
WHERE $__timeFilter_ms(decided_at)
ORDER BY decided_at DESC
LIMIT 500`,
        })
        .overrideByName('Delivery', coloured)
        .overrideByName('Decided at', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Silences',
          description:
            'Silences (social-kpi silence add) that overlap the time range or start after it: what they match, from and until when, why and by whom, and whether they are active, upcoming or ended at the end of the range. Source: silences.',
          at: grid(0, 32, 24, 7),
          sql: `
SELECT
    id AS "Id",
    multiIf(kpi_id != '', concat('KPI ', kpi_id), objective_id != '', concat('objective ', objective_id), concat('account ', account_id)) AS "Matches",
    starts_at AS "From",
    ifNull(least(ends_at, expired_at), ends_at) AS "Until",
    reason AS "Reason",
    created_by AS "By",
    multiIf(expired_at IS NOT NULL AND expired_at <= $__toTime_ms, 'ended', starts_at > $__toTime_ms, 'upcoming', ends_at <= $__toTime_ms, 'ended', 'active') AS "State"
FROM silences FINAL
WHERE ifNull(least(ends_at, expired_at), ends_at) >= $__fromTime_ms
ORDER BY starts_at DESC`,
        })
        .overrideByName('State', coloured)
        .overrideByName('From', isoTime)
        .overrideByName('Until', isoTime),
    )
}
