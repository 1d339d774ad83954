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
  /** Asks to stop as a signal does; `reason` is said where a signal's name would be. */
  ask(reason: string): void
  /** The parent process when the command began (see stopWithParent). */
  parentPid: number
}

export function watchSignals(): StopRequest {
  const controller = new AbortController()
  let resolveStopped!: (signal: string) => void
  const request: StopRequest = { stopped: new Promise((resolve) => (resolveStopped = resolve)), abort: controller.signal, graceMs: 30_000, ask: (reason) => onSignal(reason), parentPid: process.ppid }
  const onSignal = (signal: string) => {
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

/** How often a process started by npm or npx looks whether its parent is still there. */
const PARENT_CHECK_MS = 1_000

/**
 * Stops the process when the process that started it ends. Under `npx social-kpi start` (and
 * `npm start`) node runs below `sh -c`, below npm; a SIGTERM to npx's pid reaches the shell, which
 * ends without passing it on, and node, left running, kept DATA_DIR locked. Node is then given to
 * another parent, so `process.ppid` changes: that is a stop asked for. Only for processes npm
 * started: one started by a shell and left running on purpose (nohup, a service manager) keeps going.
 */
export function stopWithParent(request: StopRequest, checkMs = PARENT_CHECK_MS): void {
  const timer = setInterval(() => {
    if (process.ppid === request.parentPid) return
    clearInterval(timer)
    if (!request.signal) request.ask('npm or npx ended')
  }, checkMs)
  timer.unref()
  void request.stopped.then(() => clearInterval(timer))
}

/** Resolves on SIGINT/SIGTERM; a second signal ends the process at once. */
export function untilSignal(): Promise<string> {
  return watchSignals().stopped
}
