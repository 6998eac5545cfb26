// experiment.status: a lifecycle step reported by a worker; terminal states are final for their attempt.
import type { OpKind } from './kind.ts'
import { checkFields, int, oneOf, text } from './check.ts'
import { STATUSES, TERMINAL, type Status } from '../state.ts'

const ORDER: Record<string, number> = { queued: 0, claimed: 1, setting_up: 2, running: 3 }

export const experimentStatus: OpKind = {
  type: 'experiment.status',
  validate: p => checkFields(p, {
    status: oneOf(STATUSES), attempt: int(1, 1_000_000), reason: text(4096, true),
    exit_code: int(-1024, 1024, true),
  }),
  apply(s, op) {
    const e = s.experiments[op.entity]
    if (!e) return `unknown experiment ${op.entity}`
    const p = op.payload
    const status = p.status as Status
    const attempt = p.attempt as number
    if (attempt < e.attempt) return `stale report for attempt ${attempt}`
    if (attempt === e.attempt) {
      if (TERMINAL.has(e.status)) return `experiment ${e.id} already ${e.status}`
      if (!TERMINAL.has(status) && ORDER[status] < ORDER[e.status]) return `${status} after ${e.status}`
    } else if (status !== 'queued') {
      return `attempt ${attempt} must start queued`
    }
    if (attempt > e.attempt) {
      e.attempt = attempt
      e.started_at = null
      e.finished_at = null
      e.exit_code = null
      e.reason = null
    }
    e.status = status
    if (status === 'running') e.started_at = op.time
    if (TERMINAL.has(status)) {
      e.finished_at = op.time
      e.exit_code = typeof p.exit_code === 'number' ? p.exit_code : null
    }
    if (typeof p.reason === 'string') e.reason = p.reason
    e.updated_at = op.time
    return null
  },
}
