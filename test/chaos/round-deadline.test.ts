import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { parsePlan } from '../../plan/plan.ts'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { adminReader, adminRows, CHAOS_AT, describeInconsistencies, dropKeys, killLeftovers, rawVersusFinal, recordFigures, scratch, startProcess, writePlan, type StartedProcess } from './bed.ts'

/**
 * `social-kpi start` whose first round has an account slower than the round's deadline
 * (`collection.roundDeadline` 2 s, LinkedIn's follower count answering 3 s late) while the mail
 * server takes 2.5 s to accept each alert. The round is evaluated at its deadline without
 * LinkedIn, and that evaluation stands: nothing evaluates the round's instant again once LinkedIn
 * is in (before the fix, `start` judged it a second time to print its table and replaced the
 * stored verdicts, and decided alerts again on them). LinkedIn's rows are stored all the same.
 */
const REDIS_URL = 'redis://127.0.0.1:6379'
const ROUND = '2026-11-26 09:00:00.000'
const LINKEDIN_SIZE = /^\/linkedin\/rest\/networkSizes\//
let sim: RunningSimulator | undefined
let smtp: TestSmtp | undefined
let started: StartedProcess | undefined
const dirs = scratch('round-deadline')

afterAll(async () => {
  await started?.stop(15_000)
  killLeftovers()
  await sim?.close()
  await smtp?.close()
  await dropKeys(REDIS_URL, dirs.queuePrefix)
  dirs.cleanup()
})

describe('an account slower than the round deadline', () => {
  it("evaluates the round once, at its deadline, without it; that evaluation stands and the account's rows are stored", async () => {
    sim = await startSimulator({ now: () => new Date(CHAOS_AT), seed: 42 })
    smtp = await startTestSmtp()
    const { file } = writePlan(dirs.dataDir, { accounts: ['kopi-nusantara', 'kopi-nusantara-linkedin'], crisisTriggers: false })
    const document = parse(readFileSync(file, 'utf8')) as { collection: Record<string, unknown> }
    document.collection.roundDeadline = '2s'
    writeFileSync(file, stringify(document))
    const plan = parsePlan(document, file)
    sim.injectFault({ path: LINKEDIN_SIZE, delayMs: 3_000, times: 1 })
    // Every alert email accepted 2.5 s late: the round's emails end after LinkedIn's job.
    smtp.answerLate(100, 2_500)
    const app = (started = startProcess({
      planFile: file,
      plan,
      dataDir: dirs.dataDir,
      queuePrefix: dirs.queuePrefix,
      simulatorUrl: sim.url,
      smtpUrl: smtp.url,
      clockStart: CHAOS_AT,
      env: { SMTP_REPLY_TIMEOUT_MS: '10000' },
    }))
    await app.untilOutput('Running:')
    // LinkedIn is pending at the deadline by construction; the Page may be too on a busy machine (no
    // assertion here depends on how fast the Page is collected).
    expect(app.stdout()).toMatch(/Not finished by the round's deadline \(2 s\), evaluated without them: .*linkedin\/kopi-nusantara-linkedin/)

    const [round] = await adminRows<{ pending: string[]; evaluated_by: string; collected: number }>(
      dirs.dataDir,
      "SELECT pending, evaluated_by, collected FROM collection_rounds FINAL WHERE round_at = {at:DateTime64(3, 'UTC')}",
      { at: ROUND },
    )
    expect(round!.pending).toContain('linkedin/kopi-nusantara-linkedin')
    expect(round).toMatchObject({ evaluated_by: 'deadline', collected: 2 - round!.pending.length })
    // LinkedIn's job ended after the deadline and stored its rows.
    const [linkedin] = await adminRows<{ n: string }>(dirs.dataDir, "SELECT count() AS n FROM observations FINAL WHERE account_id = 'kopi-nusantara-linkedin'")
    expect(Number(linkedin!.n)).toBeGreaterThan(0)
    // The round's instant was judged once: each KPI has one row, LinkedIn's without a verdict, naming it.
    const judged = await adminRows<{ kpi_id: string; rows: string; status: string; status_reason: string; missing_accounts: string[] }>(
      dirs.dataDir,
      "SELECT kpi_id, count() AS rows, any(status) AS status, any(status_reason) AS status_reason, any(missing_accounts) AS missing_accounts FROM kpi_evaluations WHERE evaluated_at = {at:DateTime64(3, 'UTC')} GROUP BY kpi_id ORDER BY kpi_id",
      { at: ROUND },
    )
    expect(judged.map((k) => `${k.kpi_id} ${k.rows}`)).toEqual(plan.kpis.map((k) => `${k.id} 1`).sort())
    expect(judged.find((k) => k.kpi_id === 'linkedin-followers-gained-month')).toMatchObject({
      status: 'unknown',
      status_reason: 'incomplete',
      missing_accounts: ['kopi-nusantara-linkedin'],
    })
    // The table `start` printed is that evaluation.
    expect(app.stdout()).toMatch(/linkedin-followers-gained-month +no verdict \(incomplete data: kopi-nusantara-linkedin\)/)

    const notifications = await adminRows<{ subject: string }>(dirs.dataDir, "SELECT subject FROM alert_notifications FINAL WHERE delivery = 'sent' ORDER BY subject")
    const subjects = smtp.messages.map((m) => m.subject ?? '')
    expect([...subjects].sort()).toEqual(notifications.map((n) => n.subject))
    const raw = await rawVersusFinal(adminReader(dirs.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])
    recordFigures({
      scenario: '8 an account slower than the round deadline',
      rowsLost: 0,
      duplicates: subjects.length - new Set(subjects).size,
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: notifications.length,
      emailsSent: subjects.length,
      note: `roundDeadline 2 s, LinkedIn 3 s late: the round evaluated once at its deadline with LinkedIn pending (its KPI without a verdict), LinkedIn's ${linkedin!.n} rows stored after it`,
    })
    expect((await app.stop()).code).toBe(0)
  })
})
