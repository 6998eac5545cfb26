// git lab note ID "text"
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { noteExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const e = await withLab(ctx, lab => noteExperiment(lab, args[0], args[1]))
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`note added to ${e.id}\n`)
}
