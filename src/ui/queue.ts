// The queue and workers view: what runs where, what waits and for what. Pure over a state.
import { TERMINAL, type Experiment, type State } from '../store/state.ts'
import { queueOrder } from '../dispatch/queue.ts'
import { experimentJson } from '../lab/json.ts'
import { untrustedReason, type Trust } from '../lab/trust.ts'

const ACTIVE = new Set(['claimed', 'setting_up', 'running'])

/** Why a queued experiment is not running yet, in words (null: nothing holds it but a free worker). */
export function waitingFor(s: State, e: Experiment, trust: Trust | null): string[] {
  const why: string[] = []
  for (const d of e.depends_on) {
    const dep = s.experiments[d]
    if (!dep) why.push(`dependency ${d} (not synced yet)`)
    else if (!TERMINAL.has(dep.status)) why.push(`dependency ${d} (${dep.status})`)
    else if (dep.status !== 'succeeded') why.push(`dependency ${d} ${dep.status}: it will be cancelled`)
  }
  if (e.gpus) why.push(`${e.gpus} free GPU${e.gpus === 1 ? '' : 's'}`)
  const u = trust ? untrustedReason(trust, e) : null
  if (u) why.push(u)
  return why
}

export function queueJson(s: State, trust: Trust | null) {
  const all = Object.values(s.experiments)
  const running = all.filter(e => ACTIVE.has(e.status)).sort(queueOrder)
  const queued = all.filter(e => e.status === 'queued').sort(queueOrder)
  const workers = new Map<string, { writer: string; worker: string; host: string; running: string[] }>()
  for (const e of running) {
    const r = e.runners[e.attempt]
    if (!r) continue
    const key = `${r.writer}\0${r.worker}\0${r.host}`
    const w = workers.get(key) ?? { writer: r.writer, worker: r.worker, host: r.host, running: [] }
    w.running.push(e.id)
    workers.set(key, w)
  }
  return {
    running: running.map(experimentJson),
    queued: queued.map(e => ({ ...experimentJson(e), waiting_for: waitingFor(s, e, trust) })),
    workers: [...workers.values()],
  }
}
