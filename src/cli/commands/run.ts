// git lab run -m TEXT --run CMD [submit options]: submit, run it here now, stream its output, exit with its code.
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, duration, onInterrupt } from '../open.ts'
import { outputPieces } from '../terminal.ts'
import { submitOptions, reportLeftOut } from './submit.ts'
import { sweepSize } from '../../lab/params.ts'
import { UsageError } from '../../errors.ts'
import { submit, cancelExperiment } from '../../lab/experiments.ts'
import { newId } from '../../lab/lab.ts'
import { experimentJson } from '../../lab/json.ts'
import { LocalBackend } from '../../dispatch/local.ts'
import { parseGpus } from '../../dispatch/gpus.ts'
import { Worker } from '../../dispatch/worker.ts'
import type { Experiment } from '../../store/state.ts'

/** succeeded 0, failed: the job's code, cancelled 130, timed out 124 (as timeout(1)), lost 1. */
export function exitCodeOf(e: Experiment): number {
  if (e.status === 'succeeded') return 0
  if (e.status === 'failed') return e.exit_code && e.exit_code > 0 && e.exit_code < 256 ? e.exit_code : 1
  if (e.status === 'cancelled') return 130
  if (e.status === 'timed_out') return 124
  return 1
}

export async function run(ctx: Ctx, args: string[], o: Record<string, unknown>) {
  const opts = submitOptions(args, o)
  // One experiment, streamed here: a sweep is for workers, which run its experiments as the queue allows.
  const n = sweepSize(opts.params ?? {})
  if (n > 1) throw new UsageError(`run starts one experiment and these --param lists make ${n}: queue the sweep with 'git lab submit' and run it with 'git lab worker'`)
  return withLab(ctx, async lab => {
    // A bad lab.gpus stops the run: refuse it before anything is queued.
    parseGpus(lab.get('lab.gpus') ?? '', 'git config lab.gpus')
    const id = newId()
    let done: Experiment | null = null
    const output = outputPieces(o.json ? ctx.io.jobErr : text => ctx.io.jobOut(text, { redraw: true }))
    const worker = new Worker(lab, new LocalBackend(lab, null), {
      once: true, only: id, offline: true, keep: !!o.keep, graceMs: duration('grace', o.grace), syncEvery: 0,
      log: line => { if (!/: started /.test(line)) ctx.io.err(`git lab: ${line}\n`) },
      onOutput: (_id, data) => output.write(data),
      onFinish: x => { done = x },
    })
    // Claimed before it is recorded, through the same compare-and-swap as every worker's: no worker, in this clone or
    // another, ever sees it unclaimed. With the lab remote unreachable, this clone's claim ref alone decides (said).
    await worker.reserve(id)
    const { experiment: e, leftOut } = await submit(lab, { ...opts, id }).catch(async err => { await worker.release(); throw err })
    reportLeftOut(ctx.io, leftOut)
    ctx.io.err(`git lab: experiment ${e.id}\n`)
    let cancelling: Promise<unknown> | null = null
    const off = onInterrupt(n => {
      if (n > 1) { ctx.io.err('git lab: killing it\n'); return worker.killNow() }
      ctx.io.err('git lab: cancelling (Ctrl-C again to kill it now)\n')
      cancelling = cancelExperiment(lab, e.id, 'interrupted (Ctrl-C)').catch(() => undefined)
    })
    // Not started (more GPUs than this host has): the claim goes, so a worker can take the experiment.
    try { await worker.run() } finally { off(); output.end(); await cancelling; await worker.release() }
    const end = done ?? (await lab.state()).experiments[e.id]
    if (o.json) json(ctx.io, experimentJson(end))
    return end.status === 'queued' || end.status === 'claimed' || end.status === 'running' || end.status === 'setting_up'
      ? (ctx.io.err(`git lab: ${e.id} is ${end.status}; follow it with 'git lab logs -f ${e.id}'\n`), 1)
      : exitCodeOf(end)
  })
}
