// git lab run -m TEXT --run CMD [submit options]: submit, run it here now, stream its output, exit with its code.
import type { Ctx } from '../io.ts'
import { json } from '../io.ts'
import { withLab, duration, onInterrupt } from '../open.ts'
import { outputPieces } from '../terminal.ts'
import { submitOptions, reportLeftOut } from './submit.ts'
import { submit, cancelExperiment } from '../../lab/experiments.ts'
import { experimentJson } from '../../lab/json.ts'
import { LocalBackend } from '../../dispatch/local.ts'
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
  return withLab(ctx, async lab => {
    const { experiment: e, leftOut } = await submit(lab, opts)
    reportLeftOut(ctx.io, leftOut)
    ctx.io.err(`git lab: experiment ${e.id}\n`)
    let done: Experiment | null = null
    const output = outputPieces(o.json ? ctx.io.jobErr : ctx.io.jobOut)
    const worker = new Worker(lab, new LocalBackend(lab, null), {
      once: true, only: e.id, claimLocally: true, keep: !!o.keep, graceMs: duration('grace', o.grace), syncEvery: 0,
      log: line => { if (!/: started /.test(line)) ctx.io.err(`git lab: ${line}\n`) },
      onOutput: (_id, data) => output.write(data),
      onFinish: x => { done = x },
    })
    let cancelling: Promise<unknown> | null = null
    const off = onInterrupt(n => {
      if (n > 1) { ctx.io.err('git lab: killing it\n'); return worker.killNow() }
      ctx.io.err('git lab: cancelling (Ctrl-C again to kill it now)\n')
      cancelling = cancelExperiment(lab, e.id, 'interrupted (Ctrl-C)').catch(() => undefined)
    })
    try { await worker.run() } finally { off(); output.end(); await cancelling }
    const end = done ?? (await lab.state()).experiments[e.id]
    if (o.json) json(ctx.io, experimentJson(end))
    return end.status === 'queued' || end.status === 'claimed' || end.status === 'running' || end.status === 'setting_up'
      ? (ctx.io.err(`git lab: ${e.id} is ${end.status}; follow it with 'git lab logs -f ${e.id}'\n`), 1)
      : exitCodeOf(end)
  })
}
