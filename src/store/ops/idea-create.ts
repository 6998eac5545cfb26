// idea.create: a new idea, optionally forked from existing ideas (its parents in the DAG).
import type { OpKind } from './kind.ts'
import { checkFields, entity, list, tag, text, strs } from './check.ts'

export const ideaCreate: OpKind = {
  type: 'idea.create',
  validate: p => checkFields(p, { text: text(4096), parents: list(entity(), 64), tags: list(tag, 64) }),
  apply(s, op) {
    if (s.ideas[op.entity]) return `idea ${op.entity} already exists`
    // Parents must already exist: then no edge can close a cycle.
    const parents = strs(op.payload.parents).filter(p => s.ideas[p])
    s.ideas[op.entity] = {
      id: op.entity, text: String(op.payload.text), status: 'open', conclusion: null,
      parents: [...new Set(parents)], children: [], tags: [...new Set(strs(op.payload.tags))], notes: [],
      author: op.author, writer: op.writer, created_at: op.time, updated_at: op.time,
    }
    for (const p of s.ideas[op.entity].parents) s.ideas[p].children.push(op.entity)
    const dropped = strs(op.payload.parents).filter(p => !parents.includes(p))
    if (dropped.length) s.skipped.push({ op: op.id, reason: `unknown parent ideas dropped: ${dropped.join(', ')}`, lamport: op.lamport })
    return null
  },
}
