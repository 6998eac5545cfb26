// git lab idea conclude ID "conclusion" | idea abandon ID "reason" | idea reopen ID
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { resolveIdea } from '../../lab/ideas.ts'
import { ideaJson } from '../../lab/json.ts'

const STATUS = { conclude: 'concluded', abandon: 'abandoned', reopen: 'open' } as const

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const verb = args[0] as keyof typeof STATUS
  const idea = await withLab(ctx, lab => resolveIdea(lab, args[1], STATUS[verb], args[2] ?? ''))
  if (o.json) return json(ctx.io, ideaJson(idea))
  ctx.io.out(`idea ${idea.id} ${idea.status}\n`)
}
