// Queue order: priority (higher first), then submission time; the queuer must be trusted here (lab.trust);
// dependencies must have succeeded; GPUs must fit.
import { TERMINAL, type Experiment, type State } from '../store/state.ts'

export interface QueueVerdict {
  /** startable now, in the order to start them */
  ready: Experiment[]
  /** dependents of a dependency that ended without success: cancel them with this reason */
  cancel: Array<[string, string]>
  /** queued work this host can never run, and why */
  unfit: Array<[string, string]>
  /** queued work this worker leaves alone (lab.trust), and why: never run, never cancelled, not waited for */
  untrusted: Array<[string, string]>
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
  /** why this worker must leave an experiment queued (src/lab/trust.ts), or null to run it */
  untrusted?: (e: Experiment) => string | null
  /** the experiments that have not ended (the index lists them): only those are read (default: all) */
  open?: readonly string[]
  /** why this worker can never run an experiment (pinned to an SSH host it does not serve), or null */
  fits?: (e: Experiment) => string | null
}

export const queueOrder = (a: Experiment, b: Experiment) =>
  b.priority - a.priority || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export function pickQueued(state: State, o: QueueOptions): QueueVerdict {
  const v: QueueVerdict = { ready: [], cancel: [], unfit: [], untrusted: [], waiting: false, blocked: [] }
  const ids = o.only ? [o.only] : o.open ?? Object.keys(state.experiments)
  const queued = ids.map(id => state.experiments[id]).filter(e => e?.status === 'queued').sort(queueOrder)
  const held = heldHere(state, o.untrusted)
  for (const e of queued) {
    if (o.skip?.(e.id)) continue
    // Before dependencies: a worker does not act on an untrusted experiment at all, not even to cancel it.
    const why = o.untrusted?.(e)
    if (why) { v.untrusted.push([e.id, why]); continue }
    const blocked: string[] = []
    let failed: string | null = null
    let stuck = true
    for (const d of e.depends_on) {
      const dep = state.experiments[d]
      if (!dep || !TERMINAL.has(dep.status)) {
        const here = held(d)
        stuck &&= here
        const untrusted = here && dep && o.untrusted?.(dep) ? ', not trusted here' : ''
        blocked.push(`${d} (${dep?.status ?? 'not synced yet'}${untrusted})`)
        continue
      }
      if (dep.status !== 'succeeded') { failed = `dependency ${d} ${dep.status}`; break }
    }
    if (failed) { v.cancel.push([e.id, failed]); continue }
    // A dependent of work this worker leaves queued waits for it (another worker may run it) but is not waited for.
    if (blocked.length) { v.waiting ||= !stuck; v.blocked.push([e.id, blocked]); continue }
    const nofit = o.fits?.(e)
    if (nofit) { v.unfit.push([e.id, nofit]); continue }
    if (e.gpus > o.totalGpus) { v.unfit.push([e.id, `needs ${e.gpus} GPU${e.gpus === 1 ? '' : 's'}; this host has ${o.totalGpus}: left queued for another worker`]); continue }
    if (e.gpus > o.freeGpus) v.waiting = true
    v.ready.push(e)
  }
  return v
}

/**
 * Whether a queued experiment only moves on if some other worker runs it: it is untrusted here, or every unfinished
 * dependency it has is. A --once worker does not wait for those.
 */
function heldHere(state: State, untrusted: QueueOptions['untrusted']): (id: string) => boolean {
  const memo = new Map<string, boolean>()
  const held = (id: string): boolean => {
    const known = memo.get(id)
    if (known !== undefined) return known
    // A dependency cycle waits forever anyway; as before, it counts as waiting.
    memo.set(id, false)
    const e = state.experiments[id]
    let r = false
    if (untrusted && e?.status === 'queued') {
      const open = e.depends_on.filter(d => !TERMINAL.has(state.experiments[d]?.status ?? 'queued'))
      r = untrusted(e) !== null || (open.length > 0 && open.every(held))
    }
    memo.set(id, r)
    return r
  }
  return held
}
