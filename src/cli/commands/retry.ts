// git lab retry ID: queue a finished experiment again as its next attempt
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { retryExperiment } from '../../lab/runs.ts'
import { experimentJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const e = await withLab(ctx, lab => retryExperiment(lab, args[0]))
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`${e.id} queued again (attempt ${e.attempt})\n`)
}
