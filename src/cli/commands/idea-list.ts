// git lab idea list [--status S] [--tag T]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text } from '../open.ts'
import { listIdeas } from '../../lab/ideas.ts'
import { ideaJson } from '../../lab/json.ts'
import { age, oneLine, table, list } from '../format.ts'
import { UsageError } from '../../errors.ts'

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const status = text(o.status)
  if (status && !['open', 'concluded', 'abandoned'].includes(status)) throw new UsageError('--status is one of open, concluded, abandoned')
  const ideas = await withLab(ctx, lab => listIdeas(lab, { status, tag: text(o.tag) }))
  if (o.json) return json(ctx.io, ideas.map(i => ideaJson(i)))
  if (!ideas.length) return ctx.io.out("No ideas yet: 'git lab idea new \"text\"'\n")
  const now = ctx.now()
  ctx.io.out(table(ideas.map(i => [i.id, i.status, age(i.created_at, now), list(i.parents), oneLine(i.text)]), ['ID', 'STATUS', 'CREATED', 'PARENTS', 'IDEA']))
}
