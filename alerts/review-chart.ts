import type { Speaker } from '../core/i18n/index.ts'
import type { ReviewChart } from '../core/queues.ts'
import { kpiKind } from '../kpi/kinds/index.ts'
import type { ObjectiveReview, PeriodReview } from '../kpi/review.ts'
import { escapeXml, svgToPng } from './chart.ts'

/**
 * One small chart per objective of a period review: each KPI's progress towards its target over
 * the period (1 = the target; a level counts from where it started), the pace line the plan
 * expected, and the target. KPIs in different units share one chart this way. A rate has no
 * day-by-day history and is left out; an objective with nothing to draw has no chart.
 */

const WIDTH = 640
const PLOT_HEIGHT = 220
const M = { left: 56, right: 20, top: 16, bottom: 30 }
const LEGEND_LINE = 18
const COLORS = ['#1f6feb', '#d97706', '#059669', '#9333ea', '#dc2626', '#0891b2', '#65a30d', '#db2777']
const GREY = { pace: '#8b949e', target: '#cf222e', grid: '#e5e7eb', text: '#374151' }

/** The Content-ID of an objective's chart in a review email. */
export const reviewChartCid = (objectiveId: string) => `review-${objectiveId.replace(/[^\w-]/g, '_')}@social-kpi`

/** The chart numbers of one objective, or null when none of its KPIs has a history to draw; its legend in the speaker's language. */
export function objectiveChart(review: PeriodReview, objective: ObjectiveReview, speaker: Speaker): ReviewChart | null {
  const start = new Date(review.period.start).getTime()
  const end = new Date(review.period.end).getTime()
  const series = objective.kpis.flatMap((kpi) => {
    if (kpi.history.length < 2) return []
    const target = kpi.verdict.target
    // Progress counts from where a level started; an amount from zero.
    const from = kpiKind(kpi.kind).origin === 'start' && kpi.baseline !== null && target !== kpi.baseline ? kpi.baseline : 0
    const points = kpi.history.map(([t, v]): [number, number] => [t, (v - from) / (target - from)])
    return points.every(([, v]) => Number.isFinite(v)) ? [{ name: kpi.name, points }] : []
  })
  if (series.length === 0) return null
  const curve = objective.kpis.find((k) => k.history.length >= 2)?.pace ?? [1]
  const pace: Array<[number, number]> = [[start, 0], ...curve.map((share, i): [number, number] => [start + ((i + 1) / curve.length) * (end - start), share])]
  const legend = { pace: speaker.t('review.chart.pace'), target: speaker.t('review.chart.target', { value: speaker.percent(1, 0) }) }
  return { title: `${objective.name} · ${review.period.label}`, timezone: review.timezone, locale: speaker.locale, start, end, pace, series: series.slice(0, 12), legend }
}

/** The chart as SVG: progress lines, the pace (grey, dashed) and the target at 100 % (red, dashed); a legend line per KPI. Dates and percentages in the chart's locale and zone. */
function reviewChartSvg(chart: ReviewChart): string {
  const height = PLOT_HEIGHT + LEGEND_LINE * (chart.series.length + 1) + 8
  const values = [1, ...chart.series.flatMap((s) => s.points.map(([, v]) => v))]
  const lo = Math.min(0, ...values)
  const hi = Math.max(1.1, ...values) * 1.05
  const span = Math.max(1, chart.end - chart.start)
  const x = (t: number) => M.left + ((Math.min(chart.end, Math.max(chart.start, t)) - chart.start) / span) * (WIDTH - M.left - M.right)
  const y = (v: number) => M.top + (1 - (v - lo) / (hi - lo)) * (PLOT_HEIGHT - M.top - M.bottom)
  const line = (points: Array<[number, number]>) => points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const day = new Intl.DateTimeFormat(chart.locale, { day: 'numeric', month: 'short', timeZone: chart.timezone })
  const date = (t: number) => day.format(t)
  const percent = (v: number) => new Intl.NumberFormat(chart.locale, { style: 'percent', maximumFractionDigits: 0 }).format(v)
  const parts: string[] = [`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`]
  const step = hi - lo > 2.5 ? 1 : hi - lo > 1.2 ? 0.5 : 0.25
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${GREY.grid}"/>`)
    parts.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="${GREY.text}">${escapeXml(percent(v))}</text>`)
  }
  parts.push(`<text x="${M.left}" y="${PLOT_HEIGHT - 10}" font-size="11" fill="${GREY.text}">${escapeXml(date(chart.start))}</text>`)
  parts.push(`<text x="${WIDTH - M.right}" y="${PLOT_HEIGHT - 10}" text-anchor="end" font-size="11" fill="${GREY.text}">${escapeXml(date(chart.end - 1))}</text>`)
  parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="${GREY.target}" stroke-width="1.5" stroke-dasharray="3 3"/>`)
  parts.push(`<polyline points="${line(chart.pace)}" fill="none" stroke="${GREY.pace}" stroke-width="1.5" stroke-dasharray="5 4"/>`)
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!
    parts.push(`<polyline points="${line(s.points)}" fill="none" stroke="${color}" stroke-width="2.5"/>`)
    const last = s.points[s.points.length - 1]!
    parts.push(`<circle cx="${x(last[0]).toFixed(1)}" cy="${y(last[1]).toFixed(1)}" r="3.5" fill="${color}"/>`)
  })
  const legend: Array<[string, string, string]> = [
    ...chart.series.map((s, i): [string, string, string] => [`${s.name} (${percent(s.points[s.points.length - 1]![1])})`, COLORS[i % COLORS.length]!, '']),
    // Two legend entries side by side: the pace, and the target (its text carries the 100 %).
    [`${chart.legend.pace} · ${chart.legend.target}`, GREY.pace, '5 4'],
  ]
  legend.forEach(([label, color, dash], i) => {
    const ly = PLOT_HEIGHT + 4 + i * LEGEND_LINE
    parts.push(`<line x1="${M.left}" x2="${M.left + 18}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
    const text = label.length > 80 ? `${label.slice(0, 79)}…` : label
    parts.push(`<text x="${M.left + 24}" y="${ly + 4}" font-size="11" fill="${GREY.text}">${escapeXml(text)}</text>`)
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${parts.join('')}</svg>`
}

/** The chart as PNG, for the email (rendered by the notify worker) and the standalone HTML report. */
export function renderReviewChartPng(chart: ReviewChart): Buffer {
  return svgToPng(reviewChartSvg(chart), WIDTH)
}

/** The chart's size in the HTML. */
export const reviewChartSize = (chart: ReviewChart) => ({ width: WIDTH, height: PLOT_HEIGHT + LEGEND_LINE * (chart.series.length + 1) + 8 })
