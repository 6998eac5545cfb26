// What index.json keeps beside the state so that no command reads every experiment for it: counts by status, the
// unfinished ids, the feed of ended attempts (the hooks' summary) and the best experiment by the objective.
import type { Experiment, LabConfig, State } from './state.ts'
import { TERMINAL } from './state.ts'
import type { IndexData } from './index-file.ts'

/** An attempt that ended: the feed's position, the experiment, its attempt and how it ended. */
export type Ended = [number, string, number, string]
export interface Best { id: string; metric: string; value: number }
export const RECENT_ENDS = 512

/** Adjusts counts and the open ids for experiments whose status went from `before` to `after` (null: none). */
export function countChange(index: IndexData, changes: Array<{ id: string; before: string | null; after: string | null }>): void {
  const moved = changes.filter(c => c.before !== c.after)
  if (!moved.length) return
  const counts = { ...index.counts }
  const was0 = index.live.open.get()
  let open = was0
  // (many at once, a build: one sort, not an insert each into a sorted list)
  const set = moved.length > 64 ? new Set(was0) : null
  const at = (id: string) => { let lo = 0, hi = open.length; while (lo < hi) { const m = (lo + hi) >> 1; if (open[m] < id) lo = m + 1; else hi = m } return lo }
  for (const { id, before, after } of moved) {
    if (before) counts[before] = (counts[before] ?? 0) - 1
    if (after) counts[after] = (counts[after] ?? 0) + 1
    const was = !!before && !TERMINAL.has(before)
    const is = !!after && !TERMINAL.has(after)
    if (was === is) continue
    if (set) { if (is) set.add(id); else set.delete(id); continue }
    if (open === was0) open = [...open]
    const i = at(id)
    if (is && open[i] !== id) open.splice(i, 0, id)
    else if (!is && open[i] === id) open.splice(i, 1)
  }
  index.counts = counts
  if (set) open = set.size === was0.length && was0.every(id => set.has(id)) ? was0 : [...set].sort()
  if (open !== was0) index.live.open.set(open)
}

/** An experiment's value by the objective, if it counts toward the best (succeeded, a finite value). */
export function objectiveValue(e: Experiment | undefined, o: LabConfig['objective']): number | undefined {
  const v = o && e?.status === 'succeeded' ? e.metrics[o.metric] : undefined
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

const beats = (v: number, id: string, b: Best, dir: 'minimize' | 'maximize') =>
  (dir === 'minimize' ? v < b.value : v > b.value) || (v === b.value && id < b.id)

/** The best experiment by the objective, from every experiment (ties: the smaller id, for every clone alike). */
export function scanBest(s: State): Best | null {
  const o = s.config.objective
  if (!o) return null
  let best: Best | null = null
  for (const id in s.experiments) {
    const v = objectiveValue(s.experiments[id], o)
    if (v !== undefined && (!best || beats(v, id, best, o.direction))) best = { id, metric: o.metric, value: v }
  }
  return best
}

/**
 * After a fold: attempts that ended go to the feed, and the best is kept without a rescan unless the best one itself
 * got worse or the objective changed.
 */
export function trackEnds(index: IndexData, ids: string[], before: Map<string, { status: string; attempt: number } | null>, configChanged: boolean): void {
  const s = index.state
  const o = s.config.objective
  let recent = index.recent
  for (const id of ids) {
    const e = s.experiments[id]
    const b = before.get(id)
    if (e && TERMINAL.has(e.status) && (!b || !TERMINAL.has(b.status) || b.attempt !== e.attempt)) {
      if (recent === index.recent) recent = [...recent]
      recent.push([++index.ended, id, e.attempt, e.status])
    }
    if (!index.best_known || configChanged || !o) continue
    const v = objectiveValue(e, o)
    const best = index.best
    if (best?.id === id) {
      if (v === undefined || (o.direction === 'minimize' ? v > best.value : v < best.value)) index.best_known = false
      else index.best = { ...best, value: v }
    } else if (v !== undefined && (!best || beats(v, id, best, o.direction))) index.best = { id, metric: o.metric, value: v }
  }
  if (recent.length > RECENT_ENDS) recent = recent.slice(-RECENT_ENDS)
  index.recent = recent
  if (configChanged || !o) index.best_known = !o
  if (!o) index.best = null
  if (!index.best_known) { index.best = scanBest(s); index.best_known = true }
}

