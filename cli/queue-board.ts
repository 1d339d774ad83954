import type { IncomingMessage, ServerResponse } from 'node:http'
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { ExpressAdapter } from '@bull-board/express'
import type { Queues } from '../core/queues.ts'

export type BoardHandler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * Bull Board over the collect, evaluate and notify queues, as a plain request handler for the
 * admin endpoint, which does the access control (cli/admin-server.ts) and hands over requests
 * under `basePath` with that prefix taken off.
 */
export function createQueueBoard(queues: Queues, basePath: string): BoardHandler {
  const adapter = new ExpressAdapter().setBasePath(basePath)
  createBullBoard({
    queues: [queues.collect, queues.evaluate, queues.notify].map((queue) => new BullMQAdapter(queue)),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'social-kpi queues' } },
  })
  return adapter.getRouter() as BoardHandler
}

/**
 * The changes the board may make: retry and promote (run a delayed job now). The processors are
 * idempotent, so a job run again neither doubles rows nor sends an alert twice. The rest of Bull
 * Board's actions are refused: adding or editing jobs skips the planner, and a queue's
 * concurrency, rate limit, pause, clean or obliterate would break what the runtime keeps
 * (evaluations one at a time, deterministic job ids that deduplicate rounds).
 */
// A job id of `clean` or `retry` would reach Bull Board's queue-wide routes of that name instead.
const JOB = '(?!(?:clean|retry)/)[^/]+'
const ALLOWED_CHANGES = [/^PUT \/api\/queues\/[^/]+\/retry\/(?:failed|completed)$/, new RegExp(`^PUT /api/queues/[^/]+/${JOB}/retry$`), new RegExp(`^PUT /api/queues/[^/]+/(?:${JOB}/)?promote$`)]

/** Whether a request to the board (path without the board's prefix) may change something. */
export function boardChangeAllowed(method: string, path: string): boolean {
  const route = `${method.toUpperCase()} ${path.split('?')[0]}`
  return ALLOWED_CHANGES.some((allowed) => allowed.test(route))
}
