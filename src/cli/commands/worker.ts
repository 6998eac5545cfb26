// git lab worker [--once] [--jobs N] [--gpus LIST] [--keep]
import type { Ctx } from '../io.ts'
import { withLab, int, text, duration, onInterrupt } from '../open.ts'
import { LocalBackend } from '../../dispatch/local.ts'
import { parseGpus, resolveGpus } from '../../dispatch/gpus.ts'
import { Worker } from '../../dispatch/worker.ts'
import { UsageError } from '../../errors.ts'

const stamp = (d: Date) => d.toISOString().slice(11, 19)

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const jobs = int('jobs', o.jobs) ?? 1
  if (jobs < 1 || jobs > 256) throw new UsageError('--jobs must be from 1 to 256')
  const syncEvery = duration('sync-every', o.syncEvery)
  const lease = duration('lease', o.lease)
  if (lease !== undefined && lease < 3000) throw new UsageError('--lease must be at least 3s')
  const given = text(o.gpus)
  const gpus = given === undefined ? null : parseGpus(given, '--gpus')
  await withLab(ctx, async lab => {
    lab.requireWriter()
    // A bad lab.gpus is refused before the worker says it is ready (its backend reads lab.gpus as it starts).
    if (gpus === null) parseGpus(lab.get('lab.gpus') ?? '', 'git config lab.gpus')
    const worker = new Worker(lab, new LocalBackend(lab, gpus === null ? null : await resolveGpus(gpus, ctx.env)), {
      once: !!o.once, jobs, keep: !!o.keep, graceMs: duration('grace', o.grace), syncEvery: syncEvery === undefined ? undefined : syncEvery / 1000,
      leaseSeconds: lease === undefined ? undefined : lease / 1000,
      log: line => ctx.io.err(`${stamp(ctx.now())} ${line}\n`),
    })
    const off = onInterrupt(n => {
      if (n === 1) ctx.io.err(`${stamp(ctx.now())} stopping: running jobs keep running and the next worker re-attaches to them\n`)
      worker.stop()
    })
    ctx.io.err(`${stamp(ctx.now())} worker ${worker.name} ready${o.once ? ' (until the queue is empty)' : ''}\n`)
    try { await worker.run() } finally { off() }
    if (worker.running) ctx.io.err(`${stamp(ctx.now())} left ${worker.running} job${worker.running === 1 ? '' : 's'} running\n`)
  })
}
