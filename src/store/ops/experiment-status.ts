// experiment.status: a lifecycle step reported by the worker that claimed the attempt; terminal states are final for
// their attempt. `queued` with the next attempt number is a retry, which anyone may ask for.
import type { OpKind } from './kind.ts'
import { checkFields, int, numbers, oneOf, text } from './check.ts'
import { STATUSES, TERMINAL, type Experiment, type Status } from '../state.ts'
import { dict, toDict } from '../safe-json.ts'

const ORDER: Record<string, number> = { queued: 0, claimed: 1, setting_up: 2, running: 3 }

/** Final metrics: the last point of every series, overridden by what the job's last output line said. */
export function settleMetrics(e: Experiment): void {
  const m = dict<number>()
  for (const [k, s] of Object.entries(e.series)) m[k] = s.last
  e.metrics = Object.assign(m, e.final_metrics)
}

const SCHEMA = {
  status: oneOf(STATUSES), attempt: int(1, 1_000_000), reason: text(4096, true),
  exit_code: int(-1024, 1024, true), worker: text(200, true), host: text(255, true), metrics: numbers(1000, true),
  output_dropped: int(0, 2 ** 50, true),
}

export const experimentStatus: OpKind = {
  type: 'experiment.status',
  validate: p => checkFields(p, SCHEMA),
  apply(s, op) {
    const e = s.experiments[op.entity]
    if (!e) return `unknown experiment ${op.entity}`
    const p = op.payload
    const status = p.status as Status
    const attempt = p.attempt as number
    if (attempt < e.attempt) return `stale report for attempt ${attempt}`
    const runner = e.runners[attempt]
    if (attempt === e.attempt) {
      if (status === 'claimed') {
        if (runner) return `attempt ${attempt} already claimed by ${runner.writer}`
      } else if (!runner) return `${status} for attempt ${attempt}, which nobody claimed`
      if (runner && runner.writer !== op.writer) return `only ${runner.writer} reports on attempt ${attempt}`
      if (TERMINAL.has(e.status)) {
        // A cancelled run still reports how it ended: keep the status, take the exit code and final metrics.
        if (e.status !== 'cancelled' || !TERMINAL.has(status)) return `experiment ${e.id} already ${e.status}`
        if (e.exit_code === null && typeof p.exit_code === 'number') e.exit_code = p.exit_code
        if (typeof p.output_dropped === 'number') e.output_dropped = p.output_dropped
        if (p.metrics) { e.final_metrics = toDict(p.metrics as Record<string, number>); settleMetrics(e) }
        e.updated_at = op.time
        return null
      }
      if (!TERMINAL.has(status) && ORDER[status] < ORDER[e.status]) return `${status} after ${e.status}`
    } else if (status !== 'queued' || attempt !== e.attempt + 1) {
      return `attempt ${attempt} must follow attempt ${e.attempt} and start queued`
    } else if (!TERMINAL.has(e.status)) {
      return `retry of ${e.id} while it is ${e.status}`
    }
    if (attempt > e.attempt) {
      e.attempt = attempt
      e.started_at = null
      e.finished_at = null
      e.exit_code = null
      e.reason = null
      e.final_metrics = null
      e.series = dict()
      e.metrics = dict()
      e.metrics_skipped = 0
      e.output_bytes = 0
      e.output_dropped = 0
    }
    e.status = status
    if (status === 'claimed') e.runners[attempt] = { writer: op.writer, worker: String(p.worker ?? op.author), host: String(p.host ?? '') }
    if (status === 'running') e.started_at = op.time
    if (TERMINAL.has(status)) {
      e.finished_at = op.time
      e.exit_code = typeof p.exit_code === 'number' ? p.exit_code : null
      e.output_dropped = typeof p.output_dropped === 'number' ? p.output_dropped : 0
      if (p.metrics) { e.final_metrics = toDict(p.metrics as Record<string, number>); settleMetrics(e) }
    }
    if (typeof p.reason === 'string') e.reason = p.reason
    e.updated_at = op.time
    return null
  },
}
