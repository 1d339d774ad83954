import { Resvg } from '@resvg/resvg-js'
import { speaker as speakerOf } from '../core/i18n/index.ts'
import type { KpiChart } from '../core/queues.ts'

/** The Content-ID of the chart attached to a KPI email; the HTML shows it as `cid:CHART_CID`. */
export const CHART_CID = 'kpi-chart@social-kpi'

const WIDTH = 640
const HEIGHT = 280
const M = { left: 70, right: 20, top: 40, bottom: 34 }
const COLORS = { actual: '#1f6feb', pace: '#8b949e', target: '#cf222e', forecast: '#d97706', band: '#fcd9a8', grid: '#e5e7eb', text: '#374151' }

export const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)

/** Short axis labels: 8.4k, 1.2M, 0.035. */
function compact(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`
  if (abs >= 1e4) return `${+(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`
  if (abs >= 10 || abs === 0) return Math.round(value).toLocaleString('en-US')
  return String(+value.toPrecision(2))
}

/**
 * The chart of a KPI email as SVG: actual so far (blue), the pace line (grey, dashed), the target
 * (red, dashed), and the forecast from now to the period end with its 80 % band (orange).
 */
function kpiChartSvg(chart: KpiChart): string {
  const speaker = speakerOf(chart.language ?? 'en', chart.timezone)
  const word = (key: string) => speaker.t(`email.chart.${key}`)
  const axis = (value: number) => (chart.percent ? speaker.percent(value, 1) : compact(value))
  const values = [chart.target, ...chart.pace.map((p) => p[1]), ...chart.actual.map((p) => p[1])]
  if (chart.forecast) values.push(chart.forecast.low, chart.forecast.high, chart.forecast.current)
  let lo = Math.min(...values)
  let hi = Math.max(...values)
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1]
  const pad = (hi - lo) * 0.08
  lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad
  hi += pad
  const span = Math.max(1, chart.end - chart.start)
  const x = (t: number) => M.left + ((Math.min(chart.end, Math.max(chart.start, t)) - chart.start) / span) * (WIDTH - M.left - M.right)
  const y = (v: number) => M.top + (1 - (v - lo) / (hi - lo)) * (HEIGHT - M.top - M.bottom)
  const line = (points: Array<[number, number]>) => points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const day = new Intl.DateTimeFormat(speaker.locale, { timeZone: chart.timezone, day: 'numeric', month: 'short' })
  const date = (t: number) => day.format(t)
  const parts: string[] = []
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`)
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4
    parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${COLORS.grid}"/>`)
    parts.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="${COLORS.text}">${escapeXml(axis(v))}</text>`)
  }
  parts.push(`<text x="${M.left}" y="${HEIGHT - 12}" font-size="11" fill="${COLORS.text}">${escapeXml(date(chart.start))}</text>`)
  parts.push(`<text x="${WIDTH - M.right}" y="${HEIGHT - 12}" text-anchor="end" font-size="11" fill="${COLORS.text}">${escapeXml(date(chart.end))}</text>`)
  parts.push(`<line x1="${x(chart.at).toFixed(1)}" x2="${x(chart.at).toFixed(1)}" y1="${M.top}" y2="${HEIGHT - M.bottom}" stroke="${COLORS.grid}" stroke-width="1.5"/>`)
  parts.push(`<text x="${x(chart.at).toFixed(1)}" y="${HEIGHT - 12}" text-anchor="middle" font-size="11" fill="${COLORS.text}">${escapeXml(word('now'))}</text>`)
  if (chart.forecast) {
    const f = chart.forecast
    parts.push(
      `<polygon points="${line([
        [f.from, f.current],
        [chart.end, f.high],
        [chart.end, f.low],
      ])}" fill="${COLORS.band}" opacity="0.7"/>`,
    )
    parts.push(
      `<polyline points="${line([
        [f.from, f.current],
        [chart.end, f.end],
      ])}" fill="none" stroke="${COLORS.forecast}" stroke-width="2" stroke-dasharray="6 4"/>`,
    )
  }
  parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${y(chart.target).toFixed(1)}" y2="${y(chart.target).toFixed(1)}" stroke="${COLORS.target}" stroke-width="1.5" stroke-dasharray="3 3"/>`)
  if (chart.pace.length > 1) parts.push(`<polyline points="${line(chart.pace)}" fill="none" stroke="${COLORS.pace}" stroke-width="1.5" stroke-dasharray="5 4"/>`)
  if (chart.actual.length > 1) parts.push(`<polyline points="${line(chart.actual)}" fill="none" stroke="${COLORS.actual}" stroke-width="2.5"/>`)
  const last = chart.actual[chart.actual.length - 1]
  if (last) parts.push(`<circle cx="${x(last[0]).toFixed(1)}" cy="${y(last[1]).toFixed(1)}" r="3.5" fill="${COLORS.actual}"/>`)
  const legend: Array<[string, string, string]> = [
    [word('actual'), COLORS.actual, ''],
    [word('pace'), COLORS.pace, '5 4'],
    [word(chart.comparator === 'at_least' ? 'target' : 'limit'), COLORS.target, '3 3'],
    ...(chart.forecast ? [[word('forecast'), COLORS.forecast, '6 4'] as [string, string, string]] : []),
  ]
  let lx = M.left
  for (const [label, color, dash] of legend) {
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${M.top - 14}" y2="${M.top - 14}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
    parts.push(`<text x="${lx + 22}" y="${M.top - 10}" font-size="11" fill="${COLORS.text}">${escapeXml(label)}</text>`)
    lx += 30 + label.length * 6.5
  }
  parts.push(`<text x="${WIDTH - M.right}" y="14" text-anchor="end" font-size="11" fill="${COLORS.text}">${escapeXml(chart.title)}</text>`)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${parts.join('')}</svg>`
}

/** Renders the chart to PNG (twice the SVG size, for sharp text on high-density screens). */
export function renderKpiChartPng(chart: KpiChart): Buffer {
  return svgToPng(kpiChartSvg(chart), WIDTH)
}

/** An email chart's SVG as PNG, at twice its width (`width`), with the system fonts. */
export function svgToPng(svg: string, width: number): Buffer {
  const resvg = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'width', value: width * 2 } })
  return resvg.render().asPng()
}
