// experiment.cancel: stops a queued or running experiment; a finished one stays as it ended.
import type { OpKind } from './kind.ts'
import { checkFields, text } from './check.ts'
import { TERMINAL } from '../state.ts'

export const experimentCancel: OpKind = {
  type: 'experiment.cancel',
  validate: p => checkFields(p, { reason: text(4096, true) }),
  apply(s, op) {
    const e = s.experiments[op.entity]
    if (!e) return `unknown experiment ${op.entity}`
    if (TERMINAL.has(e.status)) return null
    e.status = 'cancelled'
    e.reason = typeof op.payload.reason === 'string' ? op.payload.reason : `cancelled by ${op.author || op.writer}`
    e.finished_at = op.time
    e.updated_at = op.time
    return null
  },
}
