import { SocialKpiError } from '../core/errors.ts'
import { EXIT } from './output.ts'

/**
 * SIGINT/SIGTERM, from the first moment a command runs: the first one asks to stop (`stopped`
 * resolves, `abort` aborts start-up), a second one ends the process at once, and so does a stop
 * that takes longer than `graceMs` (every step is bounded; this bounds what is not).
 */
export interface StopRequest {
  signal?: string
  stopped: Promise<string>
  abort: AbortSignal
  graceMs: number
}

export function watchSignals(): StopRequest {
  const controller = new AbortController()
  let resolveStopped!: (signal: string) => void
  const request: StopRequest = { stopped: new Promise((resolve) => (resolveStopped = resolve)), abort: controller.signal, graceMs: 30_000 }
  const onSignal = (signal: NodeJS.Signals) => {
    if (request.signal) {
      process.stderr.write(`${signal} again: exiting now\n`)
      process.exit(EXIT.secondSignal)
    }
    request.signal = signal
    setTimeout(() => {
      process.stderr.write(`error: could not stop within ${request.graceMs} ms of ${signal}; exiting\n`)
      process.exit(EXIT.failed)
    }, request.graceMs).unref()
    controller.abort(new SocialKpiError('STOPPED_BY_SIGNAL', `stopped by ${signal}`))
    resolveStopped(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return request
}

/** Resolves on SIGINT/SIGTERM; a second signal ends the process at once. */
export function untilSignal(): Promise<string> {
  return watchSignals().stopped
}
