// git lab idea new "text" [--parent ID]... [--tag T]...
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, many } from '../open.ts'
import { createIdea } from '../../lab/ideas.ts'
import { ideaJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const idea = await withLab(ctx, lab => createIdea(lab, args[1], { parents: many(o.parent), tags: many(o.tag) }))
  if (o.json) return json(ctx.io, ideaJson(idea))
  ctx.io.out(idea.id + '\n')
}
