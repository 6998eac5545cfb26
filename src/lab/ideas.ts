// Ideas: a DAG of research directions, with notes, tags and a conclusion.
import type { Lab } from './lab.ts'
import { newId } from './lab.ts'
import { resolveId } from './ids.ts'
import { InvalidError } from '../errors.ts'
import type { Idea } from '../store/state.ts'
import { TAG_RE } from '../store/ops/check.ts'
import { reaches } from '../store/ops/idea-link.ts'
import { newestFirst } from './order.ts'

export type { Idea }

export function checkTags(tags: string[]): string[] {
  for (const t of tags) if (!TAG_RE.test(t)) throw new InvalidError(`invalid tag ${JSON.stringify(t)}: use letters, digits and _.:=-/ (at most 64)`)
  return [...new Set(tags)]
}

export function checkText(what: string, text: string | undefined, max = 16384): string {
  const t = (text ?? '').trim()
  if (!t) throw new InvalidError(`${what} is empty`)
  if (t.length > max) throw new InvalidError(`${what} is longer than ${max} characters`)
  return t
}

export async function getIdea(lab: Lab, id: string): Promise<Idea> {
  const s = await lab.state()
  return s.ideas[resolveId('idea', s.ideas, id)]
}

export async function createIdea(lab: Lab, text: string, opts: { parents?: string[]; tags?: string[] } = {}): Promise<Idea> {
  const body = checkText('idea text', text, 4096)
  const s = await lab.state()
  const parents = [...new Set((opts.parents ?? []).map(p => resolveId('idea', s.ideas, p)))]
  const id = newId()
  return (await lab.write([{ type: 'idea.create', entity: id, payload: { text: body, parents, tags: checkTags(opts.tags ?? []) } }], `idea ${id}: ${body}`)).ideas[id]
}

export async function listIdeas(lab: Lab, opts: { status?: string; tag?: string } = {}): Promise<Idea[]> {
  const s = await lab.state()
  return Object.values(s.ideas)
    .filter(i => (!opts.status || i.status === opts.status) && (!opts.tag || i.tags.includes(opts.tag)))
    .sort(newestFirst)
}

export async function resolveIdea(lab: Lab, id: string, status: 'concluded' | 'abandoned' | 'open', text: string): Promise<Idea> {
  const idea = await getIdea(lab, id)
  const body = status === 'open' ? (text ?? '') : checkText(status === 'concluded' ? 'conclusion' : 'reason', text)
  return (await lab.write([{ type: 'idea.resolve', entity: idea.id, payload: { status, text: body || null } }], `idea ${idea.id} ${status}`)).ideas[idea.id]
}

export async function noteIdea(lab: Lab, id: string, text: string): Promise<Idea> {
  const idea = await getIdea(lab, id)
  return (await lab.write([{ type: 'idea.note', entity: idea.id, payload: { text: checkText('note', text) } }], `note on idea ${idea.id}`)).ideas[idea.id]
}

export async function linkIdea(lab: Lab, id: string, parentId: string): Promise<Idea> {
  const s = await lab.state()
  const child = resolveId('idea', s.ideas, id)
  const parent = resolveId('idea', s.ideas, parentId)
  if (reaches(s, parent, child)) throw new InvalidError(`idea ${parent} descends from ${child}: linking them would make a cycle`)
  return (await lab.write([{ type: 'idea.link', entity: child, payload: { parent } }], `idea ${child} under ${parent}`)).ideas[child]
}

export async function tagIdea(lab: Lab, id: string, add: string[], remove: string[]): Promise<Idea> {
  const idea = await getIdea(lab, id)
  return (await lab.write([{ type: 'idea.tag', entity: idea.id, payload: { add: checkTags(add), remove: checkTags(remove) } }], `tags on idea ${idea.id}`)).ideas[idea.id]
}
