// lab.config: lab-wide settings (the objective); last writer wins per field.
import type { OpKind } from './kind.ts'
import { checkFields, oneOf, text } from './check.ts'

export const labConfig: OpKind = {
  type: 'lab.config',
  validate(p) {
    if (p.objective === null || p.objective === undefined) return null
    if (typeof p.objective !== 'object') return 'objective: not an object'
    return checkFields(p.objective as Record<string, unknown>, { metric: text(200), direction: oneOf(['minimize', 'maximize']) })
  },
  apply(s, op) {
    if ('objective' in op.payload) {
      const o = op.payload.objective as { metric: string; direction: 'minimize' | 'maximize' } | null
      s.config.objective = o ? { metric: o.metric, direction: o.direction } : null
    }
    return null
  },
}
