/**
 * The simulated world behind the LinkedIn simulator: pure functions of (seed, organization id,
 * time). Nothing here knows HTTP; simulator/linkedin-api.ts turns it into Rest.li answers.
 *
 * Volumes (means of one UTC day; weekdays busier than weekends by the factor below, each day
 * varies ±30 % by the seed):
 *
 * | organization              | followers a year ago | growth/day | paid share | impressions | likes | clicks | comments | shares |
 * |---------------------------|---------------------:|-----------:|-----------:|------------:|------:|-------:|---------:|-------:|
 * | 90000001 Kopi Nusantara   |                8,000 |         +9 |       10 % |       1,800 |    45 |     60 |        5 |      3 |
 * | any other numeric id      |          300–30,000  |      +1–15 |       0 %  |   likes×40  |  3–80 | likes×1.3 | likes/9 | likes/15 |
 *
 * Weekend days (Saturday, Sunday UTC) carry 45 % of a weekday's activity; follower growth is even.
 *
 * Late data: a day is reported once it is over (UTC), at 60 % of its final counts, rising
 * linearly to 100 % two days after its end (followerGains too). A re-read of recent days
 * therefore returns other (larger) numbers for the same days.
 */
import { audienceOnTheHour, intBetween, unit } from './random.ts'
import { DAY_MS } from './time.ts'

/** Days are complete two days after they end. */
const LINKEDIN_LATE_MS = 2 * DAY_MS
const FIRST_REPORT_SHARE = 0.6
const WEEKEND_FACTOR = 0.45

export const DEMO_LINKEDIN_ORGANIZATIONS: ReadonlyArray<{ id: string; name: string; vanityName: string }> = [{ id: '90000001', name: 'Kopi Nusantara', vanityName: 'kopi-nusantara' }]

export interface OrganizationProfile {
  id: string
  name: string
  followersYearAgo: number
  followersPerDay: number
  paidShare: number
  impressionsPerDay: number
  likesPerDay: number
  clicksPerDay: number
  commentsPerDay: number
  sharesPerDay: number
}

export interface DayStatistics {
  organicFollowerGain: number
  paidFollowerGain: number
  impressionCount: number
  uniqueImpressionsCount: number
  likeCount: number
  clickCount: number
  commentCount: number
  shareCount: number
}

export interface LinkedInScenario {
  readonly today: number
  organization(id: string): OrganizationProfile
  followers(id: string, atMs: number): number
  /** The statistics of the UTC day starting at `dayStart`, as LinkedIn reports them at `atMs` (undefined before the day ends). */
  day(id: string, dayStart: number, atMs: number): DayStatistics | undefined
}

const DEMO_PROFILES: Record<string, Omit<OrganizationProfile, 'id' | 'name'>> = {
  '90000001': {
    followersYearAgo: 8_000,
    followersPerDay: 9,
    paidShare: 0.1,
    impressionsPerDay: 1_800,
    likesPerDay: 45,
    clicksPerDay: 60,
    commentsPerDay: 5,
    sharesPerDay: 3,
  },
}

export function createLinkedInScenario(options: { seed: number; today: number }): LinkedInScenario {
  const { seed, today } = options
  const yearAgo = today - 365 * DAY_MS
  const profiles = new Map<string, OrganizationProfile>()

  function organization(id: string): OrganizationProfile {
    let profile = profiles.get(id)
    if (profile) return profile
    const demo = DEMO_PROFILES[id]
    const named = DEMO_LINKEDIN_ORGANIZATIONS.find((o) => o.id === id)
    if (demo && named) profile = { id, name: named.name, ...demo }
    else {
      const likes = intBetween(3, 80, seed, id, 'likes')
      profile = {
        id,
        name: `Organization ${id}`,
        followersYearAgo: intBetween(3, 300, seed, id, 'followers') * 100,
        followersPerDay: intBetween(1, 15, seed, id, 'growth'),
        paidShare: 0,
        impressionsPerDay: likes * 40,
        likesPerDay: likes,
        clicksPerDay: Math.round(likes * 1.3),
        commentsPerDay: Math.max(1, Math.round(likes / 9)),
        sharesPerDay: Math.max(1, Math.round(likes / 15)),
      }
    }
    profiles.set(id, profile)
    return profile
  }

  /** Growth g/day plus a wobble of amplitude g/4, on the hour. */
  function followers(id: string, atMs: number): number {
    const profile = organization(id)
    return audienceOnTheHour(seed, id, atMs, { startMs: yearAgo, start: profile.followersYearAgo, perDay: profile.followersPerDay })
  }

  function finalDay(id: string, dayStart: number): DayStatistics {
    const profile = organization(id)
    const weekday = new Date(dayStart).getUTCDay()
    const activity = (weekday === 0 || weekday === 6 ? WEEKEND_FACTOR : 1) * (0.7 + 0.6 * unit(seed, id, 'activity', dayStart))
    const draw = (mean: number, label: string) => Math.max(0, Math.round(mean * activity * (0.85 + 0.3 * unit(seed, id, label, dayStart))))
    const gain = followers(id, dayStart + DAY_MS) - followers(id, dayStart)
    const paid = Math.round(gain * profile.paidShare * 2 * unit(seed, id, 'paid', dayStart))
    const impressions = draw(profile.impressionsPerDay, 'impressions')
    return {
      organicFollowerGain: gain - paid,
      paidFollowerGain: paid,
      impressionCount: impressions,
      uniqueImpressionsCount: Math.floor(impressions * (0.55 + 0.2 * unit(seed, id, 'unique', dayStart))),
      likeCount: draw(profile.likesPerDay, 'likes'),
      clickCount: draw(profile.clicksPerDay, 'clicks'),
      commentCount: draw(profile.commentsPerDay, 'comments'),
      shareCount: draw(profile.sharesPerDay, 'shares'),
    }
  }

  function day(id: string, dayStart: number, atMs: number): DayStatistics | undefined {
    const dayEnd = dayStart + DAY_MS
    if (atMs < dayEnd) return undefined
    const final = finalDay(id, dayStart)
    const share = Math.min(1, FIRST_REPORT_SHARE + (1 - FIRST_REPORT_SHARE) * ((atMs - dayEnd) / LINKEDIN_LATE_MS))
    if (share >= 1) return final
    const part = (value: number) => Math.floor(value * share)
    return {
      organicFollowerGain: part(final.organicFollowerGain),
      paidFollowerGain: part(final.paidFollowerGain),
      impressionCount: part(final.impressionCount),
      uniqueImpressionsCount: part(final.uniqueImpressionsCount),
      likeCount: part(final.likeCount),
      clickCount: part(final.clickCount),
      commentCount: part(final.commentCount),
      shareCount: part(final.shareCount),
    }
  }

  return { today, organization, followers, day }
}
