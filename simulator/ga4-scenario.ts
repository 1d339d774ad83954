/**
 * The simulated GA4 world: sessions and key events of a property per day, channel group, source
 * and medium, as pure functions of (seed, property id, day), anchored to `today`.
 * simulator/ga4-api.ts turns it into runReport answers.
 *
 * Demo property 412345678 "Kopi Nusantara — toko online" (time zone Asia/Jakarta, IDR), created
 * 730 days ago. Sessions per day (means; each day varies ±20 %, each source ±15 %, weekends +15 %
 * for social), and key events (purchase 55 %, generate_lead 30 %, sign_up 15 %) per session:
 *
 * | channel group  | sessions/day | key events per session | sources (share of the group) |
 * |----------------|-------------:|-----------------------:|------------------------------|
 * | Organic Social | 260 (+10 %/year) | 1.6 % | facebook.com 22 %, m.facebook.com 18 %, l.facebook.com 5 %, instagram.com 25 %, l.instagram.com 8 %, t.co 5 %, youtube.com 7 %, tiktok.com 10 % |
 * | Paid Social    | 420 while a campaign runs (21 days on, 9 off) | 2.4 % | facebook.com 45 %, instagram.com 35 %, tiktok.com 20 % |
 * | Organic Search | 650 | 3.1 % | google 88 %, bing 8 %, duckduckgo 4 % |
 * | Direct         | 380 | 3.6 % | (direct) |
 * | Referral       | 90  | 1.8 % | tokopedia.com 60 %, kompas.com 40 % |
 * | Email          | 45  | 4.5 % | newsletter |
 *
 * Per 30 days (measured with seed 42) that is ≈ 17,000 social sessions (Organic ≈ 7,800, Paid
 * ≈ 9,200 with the campaign's pause) and ≈ 360 social key events (≈ 190 purchases); source
 * facebook.com alone ≈ 5,800 sessions and ≈ 130 key events (≈ 7,600 sessions with m.facebook.com).
 * Any other numeric property id gets a hashed profile (time zone, volumes; 30 % run no Paid Social).
 *
 * Late data: a day's numbers show while it runs (85 % of the elapsed share), then 93 % for the
 * first 24 h after it ends, 98 % until 48 h, then final. Rows whose metrics are all zero are left
 * out, as GA4 does unless `keepEmptyRows` is set.
 */
import { DateTime } from 'luxon'
import { intBetween, unit } from './random.ts'
import { DAY_MS, HOUR_MS } from './time.ts'

export const KEY_EVENTS = { purchase: 0.55, generate_lead: 0.3, sign_up: 0.15 } as const
export type KeyEventName = keyof typeof KEY_EVENTS

export const DEMO_PROPERTIES: ReadonlyArray<{ id: string; name: string }> = [{ id: '412345678', name: 'Kopi Nusantara — toko online' }]

const PROPERTY_ID = /^\d{6,12}$/
/** A day's numbers are final this long after it ends. */
const FINAL_AFTER_MS = 48 * HOUR_MS

interface GroupProfile {
  sessionsPerDay: number
  keyEventRate: number
  /** Share of sessions by `source / medium`. */
  sources: ReadonlyArray<readonly [string, string, number]>
  social?: boolean
  yearlyGrowth?: number
  campaign?: { onDays: number; offDays: number }
}

export interface PropertyProfile {
  id: string
  name: string
  timeZone: string
  currencyCode: string
  createdMs: number
  groups: Record<string, GroupProfile>
}

/** One row of the world: a day, a channel group and a source/medium. */
export interface Ga4Cell {
  date: string
  sessionDefaultChannelGroup: string
  sessionSource: string
  sessionMedium: string
  sessions: number
  keyEvents: Record<KeyEventName, number>
}

export interface Ga4Scenario {
  property(id: string): PropertyProfile | undefined
  /** The property's cells for its calendar day `isoDate` (YYYY-MM-DD), as GA4 shows them at `nowMs`. */
  cells(id: string, isoDate: string, nowMs: number): Ga4Cell[]
}

const DEMO_GROUPS: Record<string, GroupProfile> = {
  'Organic Social': {
    sessionsPerDay: 260,
    keyEventRate: 0.016,
    social: true,
    yearlyGrowth: 0.1,
    sources: [
      ['facebook.com', 'referral', 0.22],
      ['m.facebook.com', 'referral', 0.18],
      ['l.facebook.com', 'referral', 0.05],
      ['instagram.com', 'referral', 0.25],
      ['l.instagram.com', 'referral', 0.08],
      ['t.co', 'referral', 0.05],
      ['youtube.com', 'referral', 0.07],
      ['tiktok.com', 'referral', 0.1],
    ],
  },
  'Paid Social': {
    sessionsPerDay: 420,
    keyEventRate: 0.024,
    social: true,
    campaign: { onDays: 21, offDays: 9 },
    sources: [
      ['facebook.com', 'cpc', 0.45],
      ['instagram.com', 'cpc', 0.35],
      ['tiktok.com', 'cpc', 0.2],
    ],
  },
  'Organic Search': {
    sessionsPerDay: 650,
    keyEventRate: 0.031,
    sources: [
      ['google', 'organic', 0.88],
      ['bing', 'organic', 0.08],
      ['duckduckgo', 'organic', 0.04],
    ],
  },
  Direct: { sessionsPerDay: 380, keyEventRate: 0.036, sources: [['(direct)', '(none)', 1]] },
  Referral: {
    sessionsPerDay: 90,
    keyEventRate: 0.018,
    sources: [
      ['tokopedia.com', 'referral', 0.6],
      ['kompas.com', 'referral', 0.4],
    ],
  },
  Email: { sessionsPerDay: 45, keyEventRate: 0.045, sources: [['newsletter', 'email', 1]] },
}

const ZONES = ['Asia/Jakarta', 'America/New_York', 'Europe/Berlin', 'UTC', 'Australia/Sydney']

export function createGa4Scenario(options: { seed: number; today: number }): Ga4Scenario {
  const { seed, today } = options
  const profiles = new Map<string, PropertyProfile>()

  function property(id: string): PropertyProfile | undefined {
    if (!PROPERTY_ID.test(id)) return undefined
    let profile = profiles.get(id)
    if (!profile) {
      const demo = DEMO_PROPERTIES.find((p) => p.id === id)
      profile = demo ? { id, name: demo.name, timeZone: 'Asia/Jakarta', currencyCode: 'IDR', createdMs: today - 730 * DAY_MS, groups: DEMO_GROUPS } : derivedProfile(id)
      if (profiles.size >= 1_000) profiles.clear()
      profiles.set(id, profile)
    }
    return profile
  }

  function derivedProfile(id: string): PropertyProfile {
    const scale = 0.05 + unit(seed, id, 'scale') * 0.6
    const groups: Record<string, GroupProfile> = {}
    for (const [name, group] of Object.entries(DEMO_GROUPS)) {
      if (name === 'Paid Social' && unit(seed, id, 'paid') < 0.3) continue
      groups[name] = { ...group, sessionsPerDay: Math.max(1, Math.round(group.sessionsPerDay * scale)) }
    }
    return {
      id,
      name: `Property ${id}`,
      timeZone: ZONES[intBetween(0, ZONES.length - 1, seed, id, 'zone')]!,
      currencyCode: 'USD',
      createdMs: today - intBetween(100, 1_500, seed, id, 'created') * DAY_MS,
      groups,
    }
  }

  /** The share of a day's final numbers GA4 shows at `nowMs`. */
  function completeness(dayStart: number, dayEnd: number, nowMs: number): number {
    if (nowMs < dayStart) return 0
    if (nowMs < dayEnd) return (0.85 * (nowMs - dayStart)) / (dayEnd - dayStart)
    if (nowMs < dayEnd + 24 * HOUR_MS) return 0.93
    if (nowMs < dayEnd + FINAL_AFTER_MS) return 0.98
    return 1
  }

  /**
   * A final day never changes again, so it is computed once (bounded; recomputable). It is used
   * only from the time it became final: a test clock may go back.
   */
  const finalDays = new Map<string, { cells: Ga4Cell[]; finalFrom: number }>()

  function cells(id: string, isoDate: string, nowMs: number): Ga4Cell[] {
    const cached = finalDays.get(`${id}|${isoDate}`)
    if (cached && nowMs >= cached.finalFrom) return cached.cells
    const computed = computeCells(id, isoDate, nowMs)
    if (computed.finalFrom !== undefined && nowMs >= computed.finalFrom) {
      if (finalDays.size >= 20_000) finalDays.clear()
      finalDays.set(`${id}|${isoDate}`, { cells: computed.cells, finalFrom: computed.finalFrom })
    }
    return computed.cells
  }

  function computeCells(id: string, isoDate: string, nowMs: number): { cells: Ga4Cell[]; finalFrom?: number } {
    const profile = property(id)
    if (!profile) return { cells: [] }
    const day = DateTime.fromISO(isoDate, { zone: profile.timeZone })
    if (!day.isValid) return { cells: [] }
    const dayStart = day.toMillis()
    const dayEnd = day.plus({ days: 1 }).toMillis()
    if (dayEnd <= profile.createdMs) return { cells: [] }
    const share = completeness(dayStart, dayEnd, nowMs)
    if (share === 0) return { cells: [] }
    const dayNumber = Math.floor((dayStart - profile.createdMs) / DAY_MS)
    const weekend = day.weekday >= 6
    const out: Ga4Cell[] = []
    for (const [group, g] of Object.entries(profile.groups)) {
      if (g.campaign && dayNumber % (g.campaign.onDays + g.campaign.offDays) >= g.campaign.onDays) continue
      const growth = 1 + (g.yearlyGrowth ?? 0) * ((dayStart - today) / (365 * DAY_MS))
      const daily = g.sessionsPerDay * growth * (0.8 + 0.4 * unit(seed, id, group, isoDate)) * (g.social && weekend ? 1.15 : 1)
      for (const [source, medium, part] of g.sources) {
        const draw = (label: string) => unit(seed, id, group, source, isoDate, label)
        const finalSessions = Math.round(daily * part * (0.85 + 0.3 * draw('sessions')))
        const keyEvents = {} as Record<KeyEventName, number>
        for (const [event, split] of Object.entries(KEY_EVENTS) as Array<[KeyEventName, number]>) {
          const expected = finalSessions * g.keyEventRate * split * (0.7 + 0.6 * draw(event))
          // Seeded rounding after the completeness share, so small counts grow 0 → 1 rather than vanish.
          keyEvents[event] = Math.floor(expected * share + draw(`${event}-round`))
        }
        out.push({
          date: isoDate.replace(/-/g, ''),
          sessionDefaultChannelGroup: group,
          sessionSource: source,
          sessionMedium: medium,
          sessions: Math.floor(finalSessions * share),
          keyEvents,
        })
      }
    }
    return { cells: out, finalFrom: dayEnd + FINAL_AFTER_MS }
  }

  return { property, cells }
}
