// git lab cancel ID [--reason TEXT]
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, text, duration } from '../open.ts'
import { LocalBackend } from '../../dispatch/local.ts'
import { cancelExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  // Checked before anything is written, though only a job running here with no worker uses it.
  const grace = duration('grace', o.grace) ?? 10_000
  const { e, stopped } = await withLab(ctx, async lab => {
    const e = await cancelExperiment(lab, args[0], text(o.reason))
    // Running here with no worker following it (the worker was killed): stop it now rather than at re-attach.
    // (No runner recorded yet: its worker was killed between starting the job and recording it; a run folder of the
    // attempt in this clone is this clone's.)
    const mine = (e.runners[e.attempt]?.writer ?? lab.identity.writer) === lab.identity.writer
    const stopped = mine && await new LocalBackend(lab).stopUnattended(e, grace)
    return { e, stopped }
  })
  if (o.json) return json(ctx.io, experimentJson(e))
  ctx.io.out(`${e.id} cancelled${stopped ? " (its job was stopped here; the next 'git lab worker' records how it ended)" : ''}\n`)
}
