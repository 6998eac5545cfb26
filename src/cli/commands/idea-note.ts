// git lab idea note ID "text"
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { noteIdea } from '../../lab/ideas.ts'
import { ideaJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const idea = await withLab(ctx, lab => noteIdea(lab, args[1], args[2]))
  if (o.json) return json(ctx.io, ideaJson(idea))
  ctx.io.out(`note added to idea ${idea.id}\n`)
}
