// git lab diff ID [--stat] [--json]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab } from '../open.ts'
import { diffExperiment, getExperiment } from '../../lab/experiments.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const r = await withLab(ctx, async lab => ({
    e: await getExperiment(lab, args[0]),
    text: await diffExperiment(lab, args[0], { stat: !!o.stat, color: ctx.io.isTTY && !o.json }),
  }))
  if (o.json) return json(ctx.io, { id: r.e.id, base: r.e.base, commit: r.e.commit, [o.stat ? 'stat' : 'patch']: r.text })
  // Code from other writers, coloured by git on a terminal: shown as a job's output is (--json for exact bytes).
  ctx.io.jobOut(r.text)
}
