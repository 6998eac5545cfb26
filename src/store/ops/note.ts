// idea.note / experiment.note: append-only notes on an entity.
import { note, type OpKind } from './kind.ts'
import { checkFields, text } from './check.ts'

const noteKind = (kind: 'idea' | 'experiment'): OpKind => ({
  type: `${kind}.note`,
  validate: p => checkFields(p, { text: text(16384) }),
  apply(s, op) {
    const e = kind === 'idea' ? s.ideas[op.entity] : s.experiments[op.entity]
    if (!e) return `unknown ${kind} ${op.entity}`
    e.notes.push(note(op))
    e.updated_at = op.time
    return null
  },
})

export const ideaNote = noteKind('idea')
export const experimentNote = noteKind('experiment')
