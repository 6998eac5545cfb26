// git lab idea tag ID +T -T (also: --tag T to add)
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, many } from '../open.ts'
import { tagIdea } from '../../lab/ideas.ts'
import { ideaJson } from '../../lab/json.ts'
import { UsageError } from '../../errors.ts'
import { splitTagChanges } from './tag.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  if (args.length < 2) throw new UsageError('usage: git lab idea tag ID +TAG... [--tag TAG]')
  const { add, remove } = splitTagChanges(args.slice(2))
  add.push(...many(o.tag))
  if (!add.length && !remove.length) throw new UsageError('nothing to change: give +TAG to add (or -- -TAG to remove)')
  const idea = await withLab(ctx, lab => tagIdea(lab, args[1], add, remove))
  if (o.json) return json(ctx.io, ideaJson(idea))
  ctx.io.out(`idea ${idea.id} tags: ${idea.tags.join(', ') || '-'}\n`)
}
