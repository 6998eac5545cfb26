// idea.link: adds a parent edge to an idea's DAG, refused if it would close a cycle.
import type { OpKind } from './kind.ts'
import type { State } from '../state.ts'
import { checkFields, entity } from './check.ts'

/** True if `target` is `from` or one of its ancestors. */
export function reaches(s: State, from: string, target: string): boolean {
  const seen = new Set<string>()
  const stack = [from]
  while (stack.length) {
    const id = stack.pop()!
    if (id === target) return true
    if (seen.has(id)) continue
    seen.add(id)
    stack.push(...(s.ideas[id]?.parents ?? []))
  }
  return false
}

export const ideaLink: OpKind = {
  type: 'idea.link',
  validate: p => checkFields(p, { parent: entity() }),
  apply(s, op) {
    const idea = s.ideas[op.entity]
    const parent = String(op.payload.parent)
    if (!idea) return `unknown idea ${op.entity}`
    if (!s.ideas[parent]) return `unknown parent idea ${parent}`
    if (idea.parents.includes(parent)) return null
    if (reaches(s, parent, op.entity)) return `linking ${op.entity} under ${parent} would make a cycle`
    idea.parents.push(parent)
    s.ideas[parent].children.push(op.entity)
    idea.updated_at = op.time
    return null
  },
}
