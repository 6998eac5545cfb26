// git lab cancel ID [--reason TEXT]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text, duration } from '../open.ts'
import { LocalBackend } from '../../dispatch/local.ts'
import { cancelExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const { e, stopped } = await withLab(ctx, async lab => {
    const e = await cancelExperiment(lab, args[0], text(o.reason))
    // Running here with no worker following it (the worker was killed): stop it now rather than at re-attach.
    const mine = e.runners[e.attempt]?.writer === lab.identity.writer
    const stopped = mine && await new LocalBackend(lab).stopUnattended(e, duration('grace', o.grace) ?? 10_000)
    return { e, stopped }
  })
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`${e.id} cancelled${stopped ? " (its job was stopped here; the next 'git lab worker' records how it ended)" : ''}\n`)
}
