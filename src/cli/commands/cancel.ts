// git lab cancel ID [--reason TEXT]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text } from '../open.ts'
import { cancelExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const e = await withLab(ctx, lab => cancelExperiment(lab, args[0], text(o.reason)))
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`${e.id} cancelled\n`)
}
