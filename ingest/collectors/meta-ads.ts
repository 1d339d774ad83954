import type { AxiosResponse } from 'axios'
import { DateTime, IANAZone } from 'luxon'
import { z } from 'zod'
import { ApiError, ConfigError } from '../../core/errors.ts'
import { metaAdsSegment } from '../../core/networks/meta_ads.ts'
import { createGraphDialect, graphError, graphTokenAdviceFor, graphPaging } from '../graph-api.ts'
import type { ApiDialect } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { defineCollector } from './define.ts'
import { isCurrencyCode, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * Meta ads through the Marketing API's Ads Insights (social-apis.md §7.1): one row per day for
 * the ad account (`level=account`, `time_increment=1`), in the ad account's own time zone. The
 * conversions are the `actions` of the ONE purchase action type the plan names for the account
 * (`settings.purchaseActionType`): Meta reports the same purchases under several types, so adding
 * them up would double count. Insights change for 28 days, so that many days are re-read.
 */

/**
 * The answers' shapes: the fields read here. Insights numbers come as strings; Graph edges always
 * carry `data`. The ad account's `currency` ("the currency used for the account, based on the
 * corresponding value in the account settings": Marketing API reference, Ad Account,
 * https://developers.facebook.com/docs/marketing-api/reference/ad-account) is the currency of its
 * `spend` and `action_values`; it comes with the time zone, in the call already made.
 */
const adAccountNode = z.object({ id: z.string(), timezone_name: z.string().optional(), currency: z.string().optional() })

const actionStats = z.array(z.object({ action_type: z.string(), value: z.string() })).optional()

const insightsRow = z.object({
  date_start: z.string(),
  date_stop: z.string().optional(),
  impressions: z.string().optional(),
  inline_link_clicks: z.string().optional(),
  spend: z.string().optional(),
  actions: actionStats,
  action_values: actionStats,
})
type InsightsRow = z.output<typeof insightsRow>

const insightsPage = z.object({
  data: z.array(insightsRow),
  paging: graphPaging,
})

const INSIGHTS_FIELDS = 'date_start,date_stop,impressions,inline_link_clicks,spend,actions,action_values'
/** Meta revises insights (late conversions, attribution) for up to 28 days. */
const ADS_LATE_DAYS = 28
const DEFAULT_PAGE_SIZE = 100
/** Halving the page size stops here; then the time range is halved instead. */
const MIN_PAGE_SIZE = 10
/** Insights reach back 37 months (error 3018 beyond); 1,120 days stays inside that. */
const RETENTION_DAYS = 1_120

const metaAdsTokenAdvice = graphTokenAdviceFor({ network: 'meta_ads', permissions: ['ads_read'] })

/**
 * The Graph dialect, plus one rule of Ads Insights: HTTP 500 with code 1 on an insights request
 * means "Please reduce the amount of data you're asking for" (social-apis.md §7.1). Asking the
 * same again would fail the same way, so it is not retried as it is: the collector asks for less.
 */
const adsDialect: ApiDialect = (() => {
  const graph = createGraphDialect('meta_ads')
  return {
    ...graph,
    classify(response: AxiosResponse, now: Date) {
      const error = graphError(response)
      if (response.status === 500 && error?.code === 1 && /\/insights$/.test(response.config?.url ?? '')) {
        return { kind: 'permanent', apiCode: '1', message: `Graph API error 1: the insights request asked for too much data (${error.message ?? 'no message'})` }
      }
      return graph.classify(response, now)
    },
  }
})()

function isTooMuchData(error: unknown): boolean {
  return error instanceof ApiError && !error.retryable && error.status === 500 && error.apiCode === '1'
}

export interface MetaAdsTuning {
  /** Rows asked per insights page; halved when Meta answers that it is too much. */
  pageSize?: number
}

export const createMetaAdsCollector = defineCollector<'meta_ads', MetaAdsTuning>('meta_ads', {
  apis: { graph: { dialect: () => adsDialect, path: (config) => `/${config.FACEBOOK_GRAPH_VERSION}` } },
  apiVersion: (config) => config.FACEBOOK_GRAPH_VERSION,
  build({ session }, tuning) {
    const pageSize = tuning.pageSize ?? DEFAULT_PAGE_SIZE

    function open(context: CollectContext) {
      const s = session(context)
      // The plan requires it; an account built elsewhere without it must not count every action type as zero.
      if (!s.settings.purchaseActionType) throw new ConfigError(`account ${context.account.id}: settings.purchaseActionType must name the one purchase action type to count`)
      const apiId = s.accountId.startsWith('act_') ? s.accountId : `act_${s.accountId}`
      const prefix = metaAdsSegment('')
      const actionTypes = [...new Set((context.segments ?? []).filter((segment) => segment.startsWith(prefix)).map((segment) => segment.slice(prefix.length)))]
      return { ...s, api: s.api.graph, apiId, actionTypes, path: `/${encodeURIComponent(apiId)}` }
    }
    type Session = ReturnType<typeof open>

    /** The ad account's time zone (insights days are its local days), and its currency, kept in the summary's facts. */
    async function timeZone(s: Session): Promise<string> {
      const node = await s.api.get(s.path, adAccountNode, { params: { fields: 'id,timezone_name,currency' } })
      const zone = node.timezone_name
      if (!zone || !IANAZone.isValidZone(zone)) throw new ApiError(`the ad account ${s.apiId} has no usable timezone_name (${String(zone)})`, { retryable: false })
      if (isCurrencyCode(node.currency)) s.summary.facts = [{ fact: 'currency', value: node.currency, sourceField: 'adaccount.currency' }]
      else s.summary.skipped.push(`the ad account's currency: ${JSON.stringify(node.currency ?? null)} is no currency code`)
      return zone
    }

    /**
     * Daily account rows for the local days [since, until] (inclusive, as `time_range` is), paged
     * by cursor until `next` is absent. When Meta says the request is too much, the page size is
     * halved, and below MIN_PAGE_SIZE the time range is split in two (rows already stored are
     * simply stored again with the same key).
     */
    async function readDays(s: Session, zone: string, since: DateTime, until: DateTime): Promise<void> {
      let limit = pageSize
      // At level=account with time_increment=1 there is one row per day with delivery: even a row
      // a page, the range's days are its pages; twice that allows for short or empty pages.
      const days = Math.round(until.diff(since, 'days').days) + 1
      const walk = pageWalk({ api: s.api, url: `${s.path}/insights`, maxPages: 2 * days + 2 })
      let after: string | undefined
      for (;;) {
        let page: z.output<typeof insightsPage>
        try {
          page = await s.api.get(`${s.path}/insights`, insightsPage, {
            params: {
              level: 'account',
              time_increment: 1,
              time_range: JSON.stringify({ since: since.toISODate(), until: until.toISODate() }),
              fields: INSIGHTS_FIELDS,
              limit,
              after,
            },
          })
        } catch (error) {
          if (!isTooMuchData(error)) throw error
          if (limit > MIN_PAGE_SIZE) {
            limit = Math.max(MIN_PAGE_SIZE, Math.floor(limit / 2))
            continue
          }
          if (days < 2) throw new ApiError(`Meta refused even one day of insights at ${limit} rows a page; trying again later`, { status: 500, apiCode: '1', retryable: true })
          const middle = since.plus({ days: Math.floor(days / 2) - 1 })
          await readDays(s, zone, since, middle)
          await readDays(s, zone, middle.plus({ days: 1 }), until)
          return
        }
        await s.emit(page.data.flatMap((row) => rowsOf(s, zone, row)))
        const cursor = page.paging?.cursors?.after
        if (!page.paging?.next || !cursor) return
        after = walk.next(cursor)
      }
    }

    /** Observations of one daily row. A row exists only for a day with delivery; a type missing from `actions` is then zero. */
    function rowsOf(s: Session, zone: string, row: InsightsRow): ObservationRow[] {
      if (!row.date_start || (row.date_stop && row.date_stop !== row.date_start)) return []
      const day = DateTime.fromISO(row.date_start, { zone })
      if (!day.isValid) return []
      const observedAt = day.toJSDate()
      const out: ObservationRow[] = []
      const add = (metric: string, text: string | undefined, sourceField: string, segment?: string) => {
        if (text === undefined) return
        const value = Number(text)
        if (text.trim() === '' || !Number.isFinite(value)) {
          s.summary.skipped.push(`${sourceField} of ${row.date_start}: not a number (${JSON.stringify(text)})`)
          return
        }
        out.push(s.observe({ objectType: segment ? 'segment' : 'account', objectId: segment ?? s.apiId, metric, observedAt, dayZone: zone, value, sourceField }))
      }
      const type = s.settings.purchaseActionType
      add('conversions', (row.actions ?? []).find((a) => a.action_type === type)?.value ?? '0', `actions.${type}`)
      add('conversion_value', (row.action_values ?? []).find((a) => a.action_type === type)?.value ?? '0', `action_values.${type}`)
      // The action types KPIs narrow this account to (kpis[].filter): from the same row, per segment.
      for (const other of s.actionTypes) {
        add('conversions', (row.actions ?? []).find((a) => a.action_type === other)?.value ?? '0', `actions.${other}`, metaAdsSegment(other))
        add('conversion_value', (row.action_values ?? []).find((a) => a.action_type === other)?.value ?? '0', `action_values.${other}`, metaAdsSegment(other))
      }
      add('clicks', row.inline_link_clicks, 'inline_link_clicks')
      add('impressions', row.impressions, 'impressions')
      add('spend', row.spend, 'spend')
      return out
    }

    return {
      tokenAdvice: metaAdsTokenAdvice,
      history: {
        maxWindowDays: 90,
        maxAgeDays: RETENTION_DAYS,
        notes: [],
        async backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary> {
          const s = open(context)
          const zone = await timeZone(s)
          const since = DateTime.fromISO(window.from, { zone })
          const until = DateTime.fromISO(window.to, { zone }).minus({ days: 1 })
          if (until >= since) await readDays(s, zone, since, until)
          return s.summary
        },
      },
      async collect(context: CollectContext): Promise<CollectSummary> {
        const s = open(context)
        const zone = await timeZone(s)
        // Today so far, and the days before it that Meta may still revise.
        const today = DateTime.fromJSDate(context.now(), { zone }).startOf('day')
        await readDays(s, zone, today.minus({ days: Math.max(ADS_LATE_DAYS, context.lookbackDays) }), today)
        return s.summary
      },
    }
  },
})
