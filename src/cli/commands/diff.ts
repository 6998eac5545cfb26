// git lab diff ID [--stat]
import type { Ctx } from '../io.ts'
import { withLab } from '../open.ts'
import { diffExperiment } from '../../lab/experiments.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  ctx.io.out(await withLab(ctx, lab => diffExperiment(lab, args[0], { stat: !!o.stat, color: ctx.io.isTTY })))
}
