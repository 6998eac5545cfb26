// Queue order: priority (higher first), then submission time; dependencies must have succeeded; GPUs must fit.
import { TERMINAL, type Experiment, type State } from '../store/state.ts'

export interface QueueVerdict {
  /** startable now, in the order to start them */
  ready: Experiment[]
  /** dependents of a dependency that ended without success: cancel them with this reason */
  cancel: Array<[string, string]>
  /** queued work this host can never run, and why */
  unfit: Array<[string, string]>
  /** queued work that may become startable here later (dependencies still running, GPUs busy) */
  waiting: boolean
  /** experiments waiting for dependencies, and for which */
  blocked: Array<[string, string[]]>
}

export interface QueueOptions {
  only?: string
  freeGpus: number
  totalGpus: number
  /** already running here, or claimed by someone else */
  skip?: (id: string) => boolean
}

export const queueOrder = (a: Experiment, b: Experiment) =>
  b.priority - a.priority || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export function pickQueued(state: State, o: QueueOptions): QueueVerdict {
  const v: QueueVerdict = { ready: [], cancel: [], unfit: [], waiting: false, blocked: [] }
  const queued = Object.values(state.experiments).filter(e => e.status === 'queued' && (!o.only || e.id === o.only)).sort(queueOrder)
  for (const e of queued) {
    if (o.skip?.(e.id)) continue
    const blocked: string[] = []
    let failed: string | null = null
    for (const d of e.depends_on) {
      const dep = state.experiments[d]
      if (!dep || !TERMINAL.has(dep.status)) { blocked.push(`${d} (${dep?.status ?? 'not synced yet'})`); continue }
      if (dep.status !== 'succeeded') { failed = `dependency ${d} ${dep.status}`; break }
    }
    if (failed) { v.cancel.push([e.id, failed]); continue }
    if (blocked.length) { v.waiting = true; v.blocked.push([e.id, blocked]); continue }
    if (e.gpus > o.totalGpus) { v.unfit.push([e.id, `needs ${e.gpus} GPU${e.gpus === 1 ? '' : 's'}; this host has ${o.totalGpus}: left queued for another worker`]); continue }
    if (e.gpus > o.freeGpus) v.waiting = true
    v.ready.push(e)
  }
  return v
}
