// idea.resolve: concludes, abandons or reopens an idea; last writer wins.
import type { OpKind } from './kind.ts'
import { checkFields, oneOf, text } from './check.ts'

export const ideaResolve: OpKind = {
  type: 'idea.resolve',
  validate: p => checkFields(p, { status: oneOf(['open', 'concluded', 'abandoned']), text: text(16384, true) }),
  apply(s, op) {
    const idea = s.ideas[op.entity]
    if (!idea) return `unknown idea ${op.entity}`
    idea.status = op.payload.status as 'open' | 'concluded' | 'abandoned'
    idea.conclusion = typeof op.payload.text === 'string' ? op.payload.text : null
    idea.updated_at = op.time
    return null
  },
}
