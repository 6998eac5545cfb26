// git lab idea link ID --parent P: adds a parent edge (cycles are refused)
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, many } from '../open.ts'
import { linkIdea } from '../../lab/ideas.ts'
import { ideaJson } from '../../lab/json.ts'
import type { Idea } from '../../lab/ideas.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const parents = many(o.parent)
  if (!parents.length) throw new UsageError('usage: git lab idea link ID --parent PARENT...')
  const idea = await withLab(ctx, async lab => {
    let last: Idea | undefined
    for (const p of parents) last = await linkIdea(lab, args[1], p)
    return last!
  })
  if (o.json) return json(ctx.io, ideaJson(idea))
  ctx.io.out(`idea ${idea.id} parents: ${idea.parents.join(', ')}\n`)
}
