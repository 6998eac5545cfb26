// git lab worker [--once] [--jobs N] [--gpus LIST] [--keep]
import type { Ctx } from '../io.ts'
import { withLab, int, text, duration, many, onInterrupt } from '../open.ts'
import type { Backend } from '../../dispatch/backend.ts'
import { LocalBackend } from '../../dispatch/local.ts'
import { parseGpus, resolveGpus } from '../../dispatch/gpus.ts'
import { Worker } from '../../dispatch/worker.ts'
import { NotFoundError, StateError, UsageError } from '../../errors.ts'

const stamp = (d: Date) => d.toISOString().slice(11, 19)

export async function run(ctx: Ctx, _args: string[], o: Record<string, unknown>) {
  const jobs = int('jobs', o.jobs) ?? 1
  if (jobs < 1 || jobs > 256) throw new UsageError('--jobs must be from 1 to 256')
  const syncEvery = duration('sync-every', o.syncEvery)
  const lease = duration('lease', o.lease)
  if (lease !== undefined && lease < 3000) throw new UsageError('--lease must be at least 3s')
  const retryLost = int('retry-lost', o.retryLost)
  if (retryLost !== undefined && (retryLost < 1 || retryLost > 100)) throw new UsageError('--retry-lost must be from 1 to 100')
  const given = text(o.gpus)
  const gpus = given === undefined ? null : parseGpus(given, '--gpus')
  await withLab(ctx, async lab => {
    lab.requireWriter()
    // A bad lab.gpus is refused before the worker says it is ready (its backend reads lab.gpus as it starts).
    if (gpus === null) parseGpus(lab.get('lab.gpus') ?? '', 'git config lab.gpus')
    const log = (line: string) => ctx.io.err(`${stamp(ctx.now())} ${line}\n`)
    const names = many(o.host)
    let backend: Backend
    if (names.length && given !== undefined) throw new UsageError("--gpus is for this machine: a host's GPUs are in its record (git lab host add NAME ... --gpus N|auto)")
    if (names.length) {
      const all = (await lab.state()).hosts
      const picked = names.includes('all') ? Object.values(all) : names.map(n => {
        const h = all[n]
        if (!h) throw new NotFoundError(`unknown host ${JSON.stringify(n)}: see 'git lab hosts'`)
        return h
      })
      if (!picked.length) throw new StateError("the lab has no hosts yet: git lab host add NAME [user@]host[:port]")
      const t = lab.get('lab.hosttimeout')
      const hostTimeoutMs = t === null ? undefined : duration('lab.hostTimeout', t)
      // (loaded only here: ssh2 and the SSH backend cost a local worker ~40 ms of start-up)
      const { HostsBackend } = await import('../../dispatch/ssh/hosts-backend.ts')
      backend = new HostsBackend(lab, picked, { hostTimeoutMs, log })
    } else backend = new LocalBackend(lab, gpus === null ? null : await resolveGpus(gpus, ctx.env))
    const worker = new Worker(lab, backend, {
      once: !!o.once, jobs: o.jobs === undefined && names.length ? undefined : jobs, keep: !!o.keep, graceMs: duration('grace', o.grace), syncEvery: syncEvery === undefined ? undefined : syncEvery / 1000,
      leaseSeconds: lease === undefined ? undefined : lease / 1000, retryLost,
      log,
    })
    const off = onInterrupt(n => {
      if (n === 1) ctx.io.err(`${stamp(ctx.now())} stopping: running jobs keep running and the next worker re-attaches to them\n`)
      worker.stop()
    })
    ctx.io.err(`${stamp(ctx.now())} worker ${worker.name} ready${o.once ? ' (until the queue is empty)' : ''}\n`)
    try { await worker.run() } finally { off(); backend.close?.() }
    if (worker.running) ctx.io.err(`${stamp(ctx.now())} left ${worker.running} job${worker.running === 1 ? '' : 's'} running\n`)
  })
}
