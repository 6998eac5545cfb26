// git lab checkout ID [--force]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { checkoutExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const e = await withLab(ctx, lab => checkoutExperiment(lab, args[0], !!o.force))
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`HEAD is now at ${e.commit!.slice(0, 12)}: the code of experiment ${e.id} (detached)\n`)
}
