// What `git lab ui` keeps open: the lab, its state as last refreshed, a version that moves with it, and caches that
// make warm requests cost what they show (sorted listings, decoded metric series). Refreshes come from the watcher
// (watch.ts) and after each write, never per request.
import { EventEmitter } from 'node:events'
import type { Lab } from '../lab/lab.ts'
import type { Experiment, State } from '../store/state.ts'
import { readMetrics } from '../lab/journal.ts'
import { ascending } from './downsample.ts'
import { bestOf, columnNames, matches, newestFirst, parseFilter, sortRows } from './table.ts'

export interface ListQuery { q?: string; sort?: string | null; desc?: boolean; offset?: number; limit?: number }

/** One run's series, x ascending for each axis kind. */
export interface CachedSeries { step: number[]; value: number[]; time: number[]; byStep: { x: number[]; y: number[] } }

const MAX_CACHED_POINTS = 30_000_000

const tipsOf = (refs: Record<string, string>) => Object.keys(refs).sort().map(k => `${k} ${refs[k]}`).join('\n')

export class LabView extends EventEmitter {
  state!: State
  version = 0
  /** the lab's index as last read, and the ref tips it was built from: either changing means the lab moved (the
   *  state inside may be folded in place, so the state object alone does not tell) */
  private index: unknown = null
  private tips = ''
  private newest: Experiment[] | null = null
  private lists = new Map<string, Experiment[]>()
  private names: { params: string[]; metrics: string[] } | null = null
  private series = new Map<string, { key: string; series: Record<string, CachedSeries>; points: number }>()
  private cachedPoints = 0
  private refreshing: Promise<boolean> | null = null
  private again = false

  constructor(readonly lab: Lab, readonly now: () => number = Date.now) { super() }

  static async open(lab: Lab): Promise<LabView> {
    const v = new LabView(lab)
    const ix = await lab.index()
    v.index = ix
    v.tips = tipsOf(ix.refs)
    v.state = ix.state
    return v
  }

  /** Folds in what changed in the refs; true when the state moved (an event is sent to the pages). Coalesced. */
  refresh(): Promise<boolean> {
    if (this.refreshing) { this.again = true; return this.refreshing }
    this.refreshing = (async () => {
      let moved = false
      do {
        this.again = false
        const ix = await this.lab.index()
        const tips = tipsOf(ix.refs)
        if (ix !== this.index || tips !== this.tips) { this.index = ix; this.tips = tips; this.take(ix.state, true); moved = true }
      } while (this.again)
      return moved
    })().finally(() => { this.refreshing = null })
    return this.refreshing
  }

  /** A new state (force: the same object, folded further in place). */
  private take(s: State, force = false): boolean {
    if (s === this.state && !force) return false
    this.state = s
    this.version++
    this.newest = null
    this.lists.clear()
    this.names = null
    this.emit('state', this.version)
    return true
  }

  all(): Experiment[] {
    return (this.newest ??= Object.values(this.state.experiments).sort(newestFirst))
  }

  columns() { return (this.names ??= columnNames(this.all())) }

  /** The filtered, sorted rows (cached per state version and query; a page is then a slice). */
  rows(q = '', sort: string | null = null, desc = false): Experiment[] {
    const key = JSON.stringify([q, sort, desc])
    let rows = this.lists.get(key)
    if (!rows) {
      const f = parseFilter(q)
      const filtered = q.trim() ? this.all().filter(e => matches(f, e)) : this.all()
      rows = sortRows(filtered, sort, desc, this.now())
      if (this.lists.size > 50) this.lists.clear()
      this.lists.set(key, rows)
    }
    return rows
  }

  list(o: ListQuery) {
    const rows = this.rows(o.q ?? '', o.sort ?? null, !!o.desc)
    const offset = Math.max(0, o.offset ?? 0)
    const limit = Math.max(0, Math.min(1000, o.limit ?? 100))
    return { total: rows.length, offset, rows: rows.slice(offset, offset + limit), best: bestOf(rows, this.state.config.objective) }
  }

  /**
   * An attempt's series, read once from its chunks (and live journal) and kept while the experiment's record of
   * that attempt is unchanged and it is not running here (a live journal grows without a record).
   */
  async seriesOf(e: Experiment, attempt: number): Promise<Record<string, CachedSeries>> {
    const key = `${e.updated_at}|${e.chunks.length}|${e.status}`
    const id = `${e.id}.${attempt}`
    const hit = this.series.get(id)
    const live = e.status === 'running' || e.status === 'setting_up' || e.status === 'claimed'
    if (hit && hit.key === key && !live) return hit.series
    const m = await readMetrics(this.lab, e, attempt)
    const series: Record<string, CachedSeries> = Object.create(null)
    let points = 0
    for (const [k, s] of Object.entries(m.series)) {
      series[k] = { ...s, byStep: ascending(s.step, s.value) }
      points += s.value.length
    }
    if (hit) { this.cachedPoints -= hit.points; this.series.delete(id) }
    // Least recently read goes first once the cache holds too many points (Map keeps insertion order).
    while (this.cachedPoints + points > MAX_CACHED_POINTS && this.series.size) {
      const [first, v] = this.series.entries().next().value!
      this.series.delete(first)
      this.cachedPoints -= v.points
    }
    this.series.set(id, { key, series, points })
    this.cachedPoints += points
    return series
  }
}
