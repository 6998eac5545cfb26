// The experiments table behind `git lab ui`: its filter language, sort keys and pages. Pure: no I/O, so the server
// and the static export compute the same rows, and tests need no browser.
import { matchesWhere, parseWhere, type Where } from '../lab/where.ts'
import { paramValue } from '../store/params.ts'
import { newestFirst } from '../lab/order.ts'
import { InvalidError } from '../errors.ts'
import type { Experiment, Objective } from '../store/state.ts'

export interface Filter {
  status: string[]; tag: string[]; idea: string[]; writer: string[]; id: string[]
  where: Where[]
  /** words and "quoted phrases": each must occur in the message, the run command, an id or a tag (any case) */
  text: string[]
}

const KEYS = new Set(['status', 'tag', 'idea', 'writer', 'id'])

/** `status:running tag:sweep loss<0.3 lr>=1e-4 "warmup"` -> a Filter; a malformed comparison is an InvalidError. */
export function parseFilter(q: string): Filter {
  const f: Filter = { status: [], tag: [], idea: [], writer: [], id: [], where: [], text: [] }
  // A token: a quoted phrase, or a run of non-space characters that may hold a quoted value (`opt="adam w"`).
  const re = /"([^"]*)"|((?:[^\s"]|"[^"]*")+)/g
  for (let m = re.exec(q); m; m = re.exec(q)) {
    if (m[1] !== undefined) { if (m[1].trim()) f.text.push(m[1].toLowerCase()); continue }
    const tok = m[2]
    const colon = /^([a-z]+):(.+)$/.exec(tok)
    if (colon && KEYS.has(colon[1])) { (f[colon[1] as 'status'] as string[]).push(colon[2].replace(/"/g, '')); continue }
    if (/[<>=]/.test(tok)) {
      try { f.where.push(parseWhere(tok.replace(/"/g, ''))) } catch (e) {
        throw new InvalidError(`filter ${JSON.stringify(tok)}: ${(e as Error).message.replace(/^--where "[^"]*": /, '')}`)
      }
      continue
    }
    f.text.push(tok.toLowerCase())
  }
  return f
}

export function matches(f: Filter, e: Experiment): boolean {
  if (f.status.length && !f.status.includes(e.status)) return false
  if (f.tag.length && !f.tag.every(t => e.tags.includes(t))) return false
  if (f.idea.length && !f.idea.some(i => e.idea !== null && e.idea.startsWith(i))) return false
  if (f.writer.length && !f.writer.some(w => e.writer.startsWith(w))) return false
  if (f.id.length && !f.id.some(i => e.id.startsWith(i))) return false
  for (const w of f.where) if (!matchesWhere(w, e.params, { ...summaryValues(e), ...e.metrics })) return false
  if (f.text.length) {
    const hay = `${e.id} ${e.message} ${e.run} ${e.tags.join(' ')}`.toLowerCase()
    if (!f.text.every(t => hay.includes(t))) return false
  }
  return true
}

// `loss.min<0.3`, `loss.max>1`: a series' min and max compare as metrics of their own.
function summaryValues(e: Experiment): Record<string, number> {
  const out: Record<string, number> = Object.create(null)
  for (const k in e.series) { out[`${k}.min`] = e.series[k].min; out[`${k}.max`] = e.series[k].max }
  return out
}

export const durationOf = (e: Experiment, nowMs: number): number | null =>
  e.started_at ? ((e.finished_at ? Date.parse(e.finished_at) : nowMs) - Date.parse(e.started_at)) / 1000 : null

/**
 * A column's value for sorting: plain fields by name, `param:NAME`, `metric:NAME` (final), `min:NAME`, `max:NAME`.
 * Numbers before text; absent values sort last either way.
 */
export function sortKey(col: string, e: Experiment, nowMs: number): number | string | null {
  const i = col.indexOf(':')
  if (i > 0) {
    const kind = col.slice(0, i)
    const name = col.slice(i + 1)
    if (kind === 'param') { const t = Object.hasOwn(e.params, name) ? e.params[name] : undefined; return t === undefined ? null : paramValue(t) as number | string }
    if (kind === 'metric') return Object.hasOwn(e.metrics, name) ? e.metrics[name] : null
    if (kind === 'min' || kind === 'max') return Object.hasOwn(e.series, name) ? e.series[name][kind] : null
    throw new InvalidError(`unknown sort column ${JSON.stringify(col)}`)
  }
  switch (col) {
    case 'id': case 'status': case 'message': case 'writer': case 'author': case 'created_at': case 'started_at': case 'finished_at': case 'run':
      return e[col]
    case 'idea': return e.idea
    case 'tags': return e.tags.join(',') || null
    case 'priority': case 'gpus': case 'attempt': case 'exit_code': case 'output_bytes': return e[col]
    case 'duration': return durationOf(e, nowMs)
    default: throw new InvalidError(`unknown sort column ${JSON.stringify(col)}`)
  }
}

/** Sorted (stable; ties newest first), absent values last in both directions. */
export function sortRows(rows: Experiment[], col: string | null, desc: boolean, nowMs: number): Experiment[] {
  if (!col) return desc ? [...rows].reverse() : rows
  const keyed = rows.map((e, i) => ({ e, i, k: sortKey(col, e, nowMs) }))
  const dir = desc ? -1 : 1
  keyed.sort((a, b) => {
    if (a.k === null || b.k === null) return a.k === b.k ? a.i - b.i : a.k === null ? 1 : -1
    const an = typeof a.k === 'number'
    const bn = typeof b.k === 'number'
    if (an !== bn) return an ? -1 : 1
    return a.k < b.k ? -dir : a.k > b.k ? dir : a.i - b.i
  })
  return keyed.map(x => x.e)
}

/** The best of the rows by the objective (its final value), or null. */
export function bestOf(rows: Experiment[], objective: Objective | null): string | null {
  if (!objective) return null
  let best: Experiment | null = null
  for (const e of rows) {
    const v = Object.hasOwn(e.metrics, objective.metric) ? e.metrics[objective.metric] : undefined
    if (v === undefined || !Number.isFinite(v)) continue
    if (!best || (objective.direction === 'minimize' ? v < best.metrics[objective.metric] : v > best.metrics[objective.metric])) best = e
  }
  return best?.id ?? null
}

/** Every param and metric name of the rows (for the column picker), sorted. */
export function columnNames(rows: Experiment[]): { params: string[]; metrics: string[] } {
  const p = new Set<string>()
  const m = new Set<string>()
  for (const e of rows) {
    for (const k in e.params) p.add(k)
    for (const k in e.metrics) m.add(k)
    for (const k in e.series) m.add(k)
  }
  return { params: [...p].sort(), metrics: [...m].sort() }
}

export { newestFirst }
