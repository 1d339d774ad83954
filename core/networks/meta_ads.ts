import { z } from 'zod'
import { defineNetwork } from './types.ts'

/**
 * The purchase action types Meta reports. They count the same purchases from different angles
 * (pixel, on-site, app, offline, all of them), so summing two of them double counts: an account
 * names exactly one.
 */
const PURCHASE_ACTION_TYPES = [
  'offsite_conversion.fb_pixel_purchase',
  'omni_purchase',
  'purchase',
  'onsite_web_purchase',
  'onsite_web_app_purchase',
  'onsite_conversion.purchase',
  'web_in_store_purchase',
  'app_custom_event.fb_mobile_purchase',
  'offline_conversion.purchase',
] as const

/** A custom conversion is reported as `offsite_conversion.custom.<id>`. */
const CUSTOM_CONVERSION = /^offsite_conversion\.custom\.\d+$/

/** ISO 4217 codes the platform knows (Intl): IDR, USD, … */
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'))

const settings = z.strictObject(
  {
    /**
     * The ad account's currency, when the plan wants to say it: the collector reads it from the
     * ad account (`currency`), and the API's answer wins. It lets `plan validate` refuse a KPI
     * that would add amounts in two currencies before anything is collected.
     */
    currency: z
      .string({ error: 'must be a currency code such as IDR or USD' })
      .refine((code) => CURRENCIES.has(code), { message: 'must be an ISO 4217 currency code in capitals, such as IDR or USD' })
      .optional(),
    purchaseActionType: z
      .string({ error: `must name one action type, such as offsite_conversion.fb_pixel_purchase` })
      .refine((value) => (PURCHASE_ACTION_TYPES as readonly string[]).includes(value) || CUSTOM_CONVERSION.test(value), {
        message: `must be one of ${PURCHASE_ACTION_TYPES.join(', ')}, or a custom conversion offsite_conversion.custom.<id> (never several: they count the same purchases)`,
      }),
  },
  { error: 'must be a map with purchaseActionType (and currency, optionally)' },
)

const actionType = settings.shape.purchaseActionType

/** A KPI's narrowing of its ad account's conversions: another action type than the account's own. */
const metaAdsKpiFilter = z.strictObject({ actionType }, { error: 'must be a map with actionType' })

/** The metrics an action type narrows: those read from `actions` and `action_values`. */
const ACTION_METRICS = ['conversions', 'conversion_value']

/** A segment of an ad account's daily conversions: one action type. */
export const metaAdsSegment = (type: string) => `action_type=${type}`

/** Meta ads (Facebook and Instagram ads) through the Marketing API's Ads Insights (social-apis.md §7.1). */
export const meta_ads = defineNetwork({
  label: 'Meta ads',
  apis: { graph: { urlEnv: 'FACEBOOK_GRAPH_URL', defaultUrl: 'https://graph.facebook.com' } },
  apiId: 'the ad account id (act_N or N)',
  // Long-lived tokens: debug_token tells when they expire, so the owner is warned ahead.
  auth: { expiryCheck: 'meta_debug_token' },
  quota: {
    limit: 600,
    windowMs: 3_600_000,
    scope: 'account',
    source: 'ads insights limits depend on the access tier and are reported in X-FB-Ads-Insights-Throttle (honoured too); 600 per hour per ad account is a conservative floor',
  },
  metrics: {
    conversions: {
      shape: 'daily',
      source: 'insights `actions`, the one action type named by settings.purchaseActionType (level=account, time_increment=1)',
      description: "Purchases attributed to the ads that day, by the account's attribution setting, in the ad account's time zone.",
    },
    conversion_value: {
      shape: 'daily',
      source: 'insights `action_values`, the same action type',
      description: 'Value of those purchases, in the ad account currency.',
      money: true,
    },
    clicks: { shape: 'daily', source: 'insights `inline_link_clicks`', description: 'Clicks on links in the ads that lead to destinations on or off Meta.', partOf: 'impressions' },
    impressions: { shape: 'daily', source: 'insights `impressions`', description: 'Times the ads were on screen.' },
    spend: { shape: 'daily', source: 'insights `spend`', description: 'Amount spent, in the ad account currency.', money: true },
  },
  settings,
  kpiFilter: {
    schema: metaAdsKpiFilter,
    segments(filter, _settings, metric) {
      if (!ACTION_METRICS.includes(metric)) return { problem: `only ${ACTION_METRICS.join(' and ')} can be narrowed by action type` }
      return { segments: [metaAdsSegment((filter as z.output<typeof metaAdsKpiFilter>).actionType)] }
    },
  },
})
