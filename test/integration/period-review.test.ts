import type { ParsedMail } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addSilence, clickHouseSilenceStore } from '../../alerts/silences.ts'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { waitForIdle } from '../../cli/wait.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { evaluateAll, type EvaluateDeps } from '../../workers/evaluate-worker.ts'
import { observation } from '../helpers/observations.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'

/**
 * A month driven through its end with the clock, on the real engine, Redis and SMTP: November
 * 2026 in Asia/Jakarta (UTC+7), [2026-10-31T17:00Z, 2026-11-30T17:00Z). Its verdicts settle at the
 * end of the 3-day grace window, 4 Dec 00:00 local (2026-12-03T17:00Z): exactly then, one review
 * email, whatever is retried or doubled. Every expected number is worked out in the comments.
 */
const plan: Plan = parsePlan(
  {
    company: { name: 'Review Co', timezone: 'Asia/Jakarta' },
    objectives: [
      { id: 'engagement', name: 'Engagement', actions: ['Ask a question in every caption.', 'Answer every comment within two hours.'] },
      { id: 'audience', name: 'Audience' },
    ],
    strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'main', name: 'Main Page', apiId: '1', tokenEnv: 'FB_TEST_TOKEN' }] }] },
    // One round a day, at 19:00 local (12:00Z), when the readings below are stamped: an account
    // read within two days is fresh (plan/schedule.ts).
    collection: { schedule: '0 19 * * *' },
    kpis: [
      { id: 'likes-month', name: 'Likes this month', objective: 'engagement', network: 'facebook', metric: 'likes', kind: 'total', target: 1000, period: 'month' },
      { id: 'clicks-month', name: 'Clicks this month', objective: 'engagement', network: 'facebook', metric: 'clicks', kind: 'total', target: 100, period: 'month' },
      { id: 'followers-month', name: 'Followers by month end', objective: 'audience', network: 'facebook', metric: 'followers', kind: 'level', target: 5000, period: 'month' },
      // Not a month KPI: not in the month's review.
      { id: 'comments-week', name: 'Comments this week', objective: 'engagement', network: 'facebook', metric: 'comments', kind: 'total', target: 10, period: 'week' },
    ],
    alerting: { recipients: ['team@example.com'] },
    review: { periods: ['month'], language: 'en', recipients: ['review@example.com'] },
  },
  'review-plan.yaml',
)

let runtime: Runtime
let smtp: TestSmtp
let cleanup: () => void
let clockAt = new Date('2026-10-31T17:05:00Z')

const jakarta = (local: string) => new Date(`${local}+07:00`)
const insert = (rows: ReturnType<typeof observation>[]) => runtime.ch!.client.insert({ table: 'observations', format: 'JSONEachRow', values: rows })
const evaluate = async (at: Date, deps: EvaluateDeps = runtime.evaluateDeps!) => {
  clockAt = at
  await evaluateAll(deps, at)
  await waitForIdle(runtime.queues.notify, 30_000)
}
const reviews = () => smtp.messages.filter((m) => m.subject?.startsWith('[social-kpi] Review of'))

// Posts (likes; clicks alongside): readings at 12:00Z (19:00 local) unless said otherwise.
const post = (id: string, created: string, readings: Array<[string, number]>, metric = 'likes') =>
  readings.map(([at, value]) => observation(metric, 'counter', id, at, value, { account: 'main', created }))

beforeAll(async () => {
  smtp = await startTestSmtp()
  const test = testConfig('period_review', { FB_TEST_TOKEN: 'not-used', SMTP_URL: smtp.url })
  cleanup = test.cleanup
  runtime = await startRuntime({ config: test.config, plan, logger: silentLogger, scheduler: false, workers: true, now: () => clockAt })
  await insert([
    // September: p-sep, 250 likes (created inside September).
    ...post('p-sep', '2026-09-10T03:00:00Z', [['2026-09-11T12:00:00Z', 250]]),
    // October: p0 300 (created 5 Oct) + p-oct 100 (created 25 Oct) = 400.
    ...post('p0', '2026-10-05T03:00:00Z', [
      ['2026-10-06T12:00:00Z', 200],
      ['2026-10-31T10:00:00Z', 300],
    ]),
    // November, likes: p-oct rises 100 → 180: 80; p1 (3 Nov) 400; p2 (10 Nov) 150; p3 (28 Nov) 12;
    // p4, created 30 Nov 20:00 local and first read on 1 Dec, brings its 30: 80 + 400 + 150 + 12 + 30 = 672.
    ...post('p-oct', '2026-10-25T03:00:00Z', [
      ['2026-10-30T12:00:00Z', 100],
      ['2026-11-15T12:00:00Z', 180],
      ['2026-12-02T12:00:00Z', 200],
    ]),
    ...post('p1', '2026-11-03T03:00:00Z', [
      ['2026-11-03T12:00:00Z', 50],
      ['2026-11-20T12:00:00Z', 400],
      ['2026-12-02T12:00:00Z', 450],
    ]),
    ...post('p2', '2026-11-10T03:00:00Z', [
      ['2026-11-10T12:00:00Z', 20],
      ['2026-11-25T12:00:00Z', 150],
    ]),
    ...post('p3', '2026-11-28T03:00:00Z', [
      ['2026-11-28T12:00:00Z', 5],
      ['2026-11-29T12:00:00Z', 12],
    ]),
    ...post('p4', '2026-11-30T13:00:00Z', [['2026-12-01T03:00:00Z', 30]]),
    // November, clicks: p1 70 + p2 40 = 110 of at least 100.
    ...post(
      'p1',
      '2026-11-03T03:00:00Z',
      [
        ['2026-11-03T12:00:00Z', 5],
        ['2026-11-20T12:00:00Z', 70],
      ],
      'clicks',
    ),
    ...post(
      'p2',
      '2026-11-10T03:00:00Z',
      [
        ['2026-11-10T12:00:00Z', 2],
        ['2026-11-25T12:00:00Z', 40],
      ],
      'clicks',
    ),
    // Followers, read daily at 12:00Z from 25 Oct, +25 a day: 4,400 on 31 Oct (October's level),
    // 5,150 on 30 Nov (November's). No reading on 8, 9 and 10 Nov: a gap the review names.
    ...Array.from({ length: 40 }, (_, d) => new Date(Date.UTC(2026, 9, 25 + d, 12)))
      .filter((t) => !['2026-11-08', '2026-11-09', '2026-11-10'].includes(t.toISOString().slice(0, 10)))
      .map((t) => observation('followers', 'gauge', '1', t.toISOString(), 4400 + 25 * Math.round((t.getTime() - Date.UTC(2026, 9, 31, 12)) / 86_400_000), { account: 'main' })),
  ])
})

afterAll(async () => {
  await runtime?.shutdown()
  await smtp?.close()
  cleanup?.()
})

describe('the period review', () => {
  it('drives November through its end: one review email once the verdicts settle, not before', async () => {
    // 1 Nov 00:05 local: October's verdicts are judged and stored (likes 400, followers 4,400).
    await evaluate(jakarta('2026-11-01T00:05:00'))
    // A silence on the clicks KPI from 12 to 14 Nov.
    clockAt = jakarta('2026-11-11T09:00:00')
    await addSilence(
      clickHouseSilenceStore(runtime.ch!),
      { matchers: { kpiId: 'clicks-month' }, startsAt: jakarta('2026-11-12T00:00:00'), endsAt: jakarta('2026-11-14T00:00:00'), reason: 'page relaunch', createdBy: 'dewi' },
      clockAt,
      plan,
    )
    // 20 Nov 12:00 local: 150 likes of the 650 expected: at risk, an alert email.
    await evaluate(jakarta('2026-11-20T12:00:00'))
    await evaluate(jakarta('2026-11-30T23:00:00'))
    // Through the grace window: the verdict is judged, and judged again as p4 arrives; no review yet.
    for (const local of ['2026-12-01T00:00:00', '2026-12-01T10:15:00', '2026-12-02T12:00:00', '2026-12-03T23:59:00']) await evaluate(jakarta(local))
    expect(reviews()).toHaveLength(0)
    expect(smtp.messages.some((m) => m.subject?.includes('AT RISK: Likes this month'))).toBe(true)

    // 4 Dec 00:00 local, the end of the grace window: the review, judged and sent at once. The
    // window is half-open: at settles_at the verdicts are settled, no longer judged (the last
    // judgement stays the one of 3 Dec 23:59), and the review reads them as they stand.
    await evaluate(jakarta('2026-12-04T00:00:00'))
    const judged = await runtime.ch!.rows<{ kpi_id: string; judged_at: string }>(
      "SELECT kpi_id, toString(judged_at) AS judged_at FROM kpi_verdicts FINAL WHERE period_label = '2026-11' ORDER BY kpi_id",
    )
    expect(judged.map((v) => v.judged_at)).toEqual(['2026-12-03 16:59:00.000', '2026-12-03 16:59:00.000', '2026-12-03 16:59:00.000'])
    await until('the review email arrived', () => reviews().length === 1, 20_000)
    expect(reviews()[0]!.subject).toBe('[social-kpi] Review of November 2026: 1 of 2 objectives met; 2 of 3 KPIs achieved, 1 missed')
    expect((reviews()[0]!.to as { text: string }).text).toBe('review@example.com')
  })

  it('sends no second review for a retried evaluation, two evaluators at once, or a crash before the review was stored', async () => {
    const settled = jakarta('2026-12-04T00:00:00')
    await evaluate(settled) // the same job retried
    const second: EvaluateDeps = { ...runtime.evaluateDeps!, alerts: { ...runtime.evaluateDeps!.alerts } }
    clockAt = jakarta('2026-12-04T00:15:00')
    await Promise.all([evaluateAll(runtime.evaluateDeps!, jakarta('2026-12-04T00:15:00')), evaluateAll(second, jakarta('2026-12-04T00:15:00'))])
    await evaluate(jakarta('2026-12-04T01:00:00'))
    // As if the process died after enqueueing the email but before storing the review: the next
    // evaluation builds it again, and its notify job (the same id) is dropped by BullMQ.
    await runtime.ch!.command('TRUNCATE TABLE period_reviews')
    await evaluate(jakarta('2026-12-04T02:00:00'))
    // And once Redis no longer holds the job (completed jobs are kept a week): the notify worker
    // finds the review already sent in alert_notifications and sends nothing.
    const reviewJob = (await runtime.queues.notify.getJobs(['completed'])).find((j) => j.data.event === 'review')!
    expect(reviewJob.id).toMatch(/^review-[0-9a-f]{16}-month-20261031T170000Z$/)
    await reviewJob.remove()
    await runtime.ch!.command('TRUNCATE TABLE period_reviews')
    await evaluate(jakarta('2026-12-04T03:00:00'))
    await until('the review job ran again', async () => (await runtime.queues.notify.getJob(reviewJob.id!))?.isCompleted() ?? false, 10_000)
    await pause(1_000)
    expect(reviews()).toHaveLength(1)
    const delivery = await runtime.ch!.rows<{ alert_key: string; event: string; delivery: string; recipients: string[] }>(
      "SELECT alert_key, event, delivery, recipients FROM alert_notifications FINAL WHERE event = 'review'",
    )
    expect(delivery).toEqual([{ alert_key: 'review.month', event: 'review', delivery: 'sent', recipients: ['review@example.com'] }])
    // Stored again by the evaluation that rebuilt it, and the same review.
    const stored = await runtime.ch!.rows<{ period_label: string; kpis: number; achieved: number; missed: number; objectives_met: number }>(
      'SELECT period_label, kpis, achieved, missed, objectives_met FROM period_reviews FINAL',
    )
    expect(stored).toEqual([{ period_label: '2026-11', kpis: 3, achieved: 2, missed: 1, objectives_met: 1 }])
  })

  describe('what the review says', () => {
    let mail: ParsedMail
    let text: string
    beforeAll(() => {
      mail = reviews()[0]!
      text = mail.text ?? ''
    })

    it('gives each KPI its final verdict, as stored in kpi_verdicts, with the change against October', async () => {
      const verdicts = await runtime.ch!.rows<{ kpi_id: string; actual: number; target: number; attainment: number; status: string }>(
        "SELECT kpi_id, actual, target, attainment, status FROM kpi_verdicts FINAL WHERE period_label = '2026-11' ORDER BY kpi_id",
      )
      expect(verdicts).toEqual([
        { kpi_id: 'clicks-month', actual: 110, target: 100, attainment: 1.1, status: 'achieved' },
        { kpi_id: 'followers-month', actual: 5150, target: 5000, attainment: 1.03, status: 'achieved' },
        { kpi_id: 'likes-month', actual: 672, target: 1000, attainment: 0.672, status: 'missed' },
      ])
      // The CSV attachment, one row per KPI, carries the same numbers.
      const csv = mail.attachments.find((a) => a.filename === 'social-kpi-review-2026-11.csv')!
      expect(csv.contentType).toBe('text/csv')
      const [header, ...rows] = csv.content
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trimEnd()
        .split('\r\n')
        .map((line) => line.split(','))
      const column = (name: string) => header!.indexOf(name)
      expect(rows.map((r) => [r[column('kpi_id')], Number(r[column('actual')]), Number(r[column('attainment')]), r[column('status')]]).sort()).toEqual(
        verdicts.map((v) => [v.kpi_id, v.actual, v.attainment, v.status]),
      )
      // October's verdicts were stored at 1 Nov 00:05: likes 400 (+272, +68 %), followers 4,400 (+750).
      expect(text).toContain('Likes this month: missed — 672 of at least 1,000 (67%); +272 (+68%) vs October 2026')
      expect(text).toContain('Followers by month end: achieved — 5,150 of at least 5,000 (103%); +750 (+17%) vs October 2026')
      expect(text).toContain('Clicks this month: achieved — 110 of at least 100 (110%)')
      expect(text).not.toContain('Comments this week')
      expect(text).toMatch(/Engagement — not met[\s\S]*Audience — met/)
    })

    it('says what the plan says to do about the missed KPI, and what December needs', () => {
      // December has 31 days: 1,000 ÷ 31 = 32.3 a day; November did 672 ÷ 30 = 22.4. September,
      // judged from the data (no verdict stored), has none: the account's one reading of it, on
      // 11 Sep, is stale at the month's end, and its 250 are not a month's likes. The line through
      // October 400 and November 672, extended a month: 672 + 272 = 944.
      expect(text).toContain('December 2026 needs 32/day to reach 1,000 (this period: 22/day).')
      expect(text).toContain('The trend of 2026-10 and 2026-11 supports a target of 944.')
      expect(text).toContain('What the plan says to do (Likes this month):\n    1. Ask a question in every caption.\n    2. Answer every comment within two hours.')
    })

    it('lists the posts that carried the month and those that fell flat, as the stored counters add up', async () => {
      // The top three by November's likes: p1 400, p2 150, p-oct 80; published in November and
      // least: p3 12, then p4 30 (first read in December). All five add up to the verdict's 672.
      expect(text).toContain(
        [
          'facebook · likes: 672 from 5 posts',
          '  Carried the period:',
          '    1. p1 (main, published 3 Nov 2026): 400',
          '    2. p2 (main, published 10 Nov 2026): 150',
          '    3. p-oct (main, published 25 Oct 2026): 80',
          '  Fell flat (published in the period):',
          '    1. p3 (main, published 28 Nov 2026): 12',
          '    2. p4 (main, published 30 Nov 2026): 30',
        ].join('\n'),
      )
      // The same posts straight from the observations: each one's last reading in November (or its
      // first, for p4) minus its last before November (0 for a post created in November).
      const raw = await runtime.ch!.rows<{ object_id: string; gained: number }>(
        `SELECT object_id, argMaxIf(value, observed_at, observed_at < '2026-11-30 17:00:00') - if(min(object_created_at) >= '2026-10-31 17:00:00', 0, argMaxIf(value, observed_at, observed_at < '2026-10-31 17:00:00')) AS gained
         FROM observations FINAL WHERE metric = 'likes' AND object_id IN ('p1', 'p2', 'p-oct', 'p3') GROUP BY object_id ORDER BY gained DESC`,
      )
      expect(raw).toEqual([
        { object_id: 'p1', gained: 400 },
        { object_id: 'p2', gained: 150 },
        { object_id: 'p-oct', gained: 80 },
        { object_id: 'p3', gained: 12 },
      ])
    })

    it('names the alerts, the silence and the data gap of the month', () => {
      // Fired at the 20 Nov evaluation; resolved when December's first likes looked fine (too early to tell).
      expect(text).toMatch(/- KPI Likes this month: at risk, from 20 Nov 2026, 12:00 GMT\+7 to 1 Dec 2026, \d\d:\d\d GMT\+7/)
      // 12 Nov 00:00 to 14 Nov 00:00 in Jakarta: two whole days, shown inclusively (Intl's range, thin spaces around the dash in English).
      expect(text).toContain('- kpi clicks-month, 12\u2009–\u200913 Nov 2026: page relaunch (by dewi)')
      expect(text).toContain('- facebook/main, followers: no reading on 8\u2009–\u200910 Nov (3 of 30 days); Followers by month end is less certain.')
    })

    it('is HTML with one inline chart per objective, and plain text', () => {
      const charts = mail.attachments.filter((a) => a.contentDisposition === 'inline')
      expect(charts.map((a) => a.cid).sort()).toEqual(['review-audience@social-kpi', 'review-engagement@social-kpi'])
      for (const chart of charts) {
        expect(chart.contentType).toBe('image/png')
        expect(chart.content.subarray(1, 4).toString()).toBe('PNG')
      }
      // mailparser puts each inline image where the HTML names its cid: both charts are shown.
      expect(String(mail.html).match(/<img src="data:image\/png;base64,/g)).toHaveLength(2)
      expect(mail.html).toContain('<h3 style="font-size:16px;margin:16px 0 4px">Engagement — <span style="color:#cf222e">not met</span></h3>')
      expect(text).toContain('The KPI table is attached as CSV (one row per KPI).')
    })
  })
})
