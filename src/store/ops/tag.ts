// idea.tag / experiment.tag: adds and removes tags, applied in fold order.
import type { OpKind } from './kind.ts'
import { checkFields, list, tag, strs } from './check.ts'

const tagKind = (kind: 'idea' | 'experiment'): OpKind => ({
  type: `${kind}.tag`,
  validate: p => checkFields(p, { add: list(tag, 64), remove: list(tag, 64) }),
  apply(s, op) {
    const e = kind === 'idea' ? s.ideas[op.entity] : s.experiments[op.entity]
    if (!e) return `unknown ${kind} ${op.entity}`
    const tags = new Set(e.tags)
    for (const t of strs(op.payload.add)) tags.add(t)
    for (const t of strs(op.payload.remove)) tags.delete(t)
    e.tags = [...tags].sort()
    e.updated_at = op.time
    return null
  },
})

export const ideaTag = tagKind('idea')
export const experimentTag = tagKind('experiment')
