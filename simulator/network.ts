import type { IncomingHttpHeaders } from 'node:http'
import type { ApiName, Network } from '../core/metrics.ts'
import type { GraphFamily } from './graph-common.ts'

/**
 * What the server hands a simulated network and what it gets back. Each simulated API answers
 * the paths under its prefix.
 */
export interface SimRequest {
  method: string
  pathname: string
  /** The query string, in the order the client sent it. */
  query: URLSearchParams
  headers: IncomingHttpHeaders
  /** `http://127.0.0.1:<port>`, for absolute paging links. */
  baseUrl: string
  now: Date
  /** A random-looking, deterministic id for this request (Graph's fbtrace_id). */
  traceId: string
  /** The request body as text ('' for GET). */
  body: string
}

export interface SimResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** An error a test asks the simulator to return, in the network's own error format. */
export interface InjectedError {
  message: string
  type?: string
  code: number
  error_subcode?: number
}

export interface SimulatedNetwork {
  /** The path prefix this network answers under; the longest matching prefix wins. */
  prefix: string
  /** The credential the request carries, for the request log. */
  tokenOf(request: SimRequest): string | undefined
  handle(request: SimRequest): SimResponse
  /** The network's error body for an injected or unexpected failure. */
  errorBody(error: InjectedError, traceId: string): string
  /**
   * For a paging fault (SimulatedFault.paging): turns a parsed answer of one of its cursor-paged
   * lists into a page that has a next one, at a cursor made from `page.step`, with no items unless
   * `page.keepItems`. False when the answer is not such a list (it is then sent as it was).
   */
  continueList?(body: Record<string, unknown>, request: SimRequest, page: FaultPage): boolean
}

/** Which page of a paging fault is being answered. */
export interface FaultPage {
  /** The same step gives the same cursor (a repeated cursor); each new step a new one. */
  step: number
  /** The clock when the fault answered its first page: the base of cursors that are times (TikTok Display). */
  anchorMs: number
  /** The first page keeps the list's own items; the endless ones after it are empty. */
  keepItems: boolean
}

/** What every simulated network gets: the seed, the world's anchor day, and the call budget. */
export interface NetworkContext {
  seed: number
  /** UTC midnight (ms) of the day the simulator started: the world's "today". */
  today: number
  callsPerHour: number
}

/**
 * A network's simulator module, listed in the registry (simulator/networks.ts). `mounts` says
 * where each API of the network's descriptor is served, as a path under the simulator's URL: the
 * environment points the API's base-URL variable there. What serves it is either routes of its
 * own or a node family of the Graph API, which Facebook, Instagram and Meta ads share.
 */
export interface SimulatorModule<N extends Network = Network> {
  network: N
  mounts: Record<ApiName<N>, string>
  serve(context: NetworkContext): { routes: SimulatedNetwork[] } | { graphFamily: GraphFamily }
}
