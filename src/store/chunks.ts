// Metric chunks: the points of one sealed stretch of a job's metrics journal, columnar and delta-coded JSON.
// Parsing a journal line and decoding a chunk are pure, so the worker and every reader agree on the format.

import type { SeriesSummary } from './state.ts'
import { dict, parseBounded } from './safe-json.ts'

export type { SeriesSummary }
export interface Series { step: number[]; value: number[]; time: number[] }

/** Keys of a metrics line that place the point rather than name a series. */
const PLACE_KEYS = new Set(['step', 'time', 'timestamp', '_step', '_time'])
export const MAX_SERIES = 1000
export const MAX_SERIES_NAME = 200

const deltas = (xs: number[]) => xs.map((x, i) => i === 0 ? x : x - xs[i - 1])
const undelta = (xs: number[]) => { let acc = 0; return xs.map(d => (acc += d)) }

/** Accumulates points from metrics lines until sealed; counts lines that are not a JSON object with a number. */
export class MetricBatch {
  readonly series = new Map<string, Series>()
  points = 0
  skipped = 0

  /** counts: points each series already has (the step of a line without one is its series' point index) */
  constructor(readonly counts: Map<string, number> = new Map()) {}

  /** One journal line (without its newline); `nowMs` is when it was read, used when the line carries no time. */
  add(line: string, nowMs: number): void {
    if (line.length === 0 || line.trim().length === 0) return
    let o: unknown
    try { o = JSON.parse(line) } catch { this.skipped++; return }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) { this.skipped++; return }
    const rec = o as Record<string, unknown>
    const step = typeof rec.step === 'number' && Number.isSafeInteger(rec.step) ? rec.step : null
    const t = typeof rec.time === 'number' ? rec.time : typeof rec.timestamp === 'number' ? rec.timestamp : null
    // Seconds since the epoch (as time.time() gives), kept to the millisecond.
    const time = t !== null && t > 1e8 && t < 1e10 ? Math.round(t * 1000) : nowMs
    let any = false
    for (const key of Object.keys(rec)) {
      const v = rec[key]
      if (typeof v !== 'number' || !Number.isFinite(v) || PLACE_KEYS.has(key) || key.length > MAX_SERIES_NAME) continue
      let s = this.series.get(key)
      if (!s) {
        if (this.counts.size >= MAX_SERIES && !this.counts.has(key)) continue
        s = { step: [], value: [], time: [] }
        this.series.set(key, s)
      }
      const n = this.counts.get(key) ?? 0
      this.counts.set(key, n + 1)
      s.step.push(step ?? n)
      s.value.push(v)
      s.time.push(time)
      this.points++
      any = true
    }
    if (!any) this.skipped++
  }

  get empty(): boolean { return this.points === 0 }

  encode(): Buffer {
    const series = dict<Series>()
    for (const [k, s] of this.series) series[k] = { step: deltas(s.step), value: s.value, time: deltas(s.time) }
    return Buffer.from(JSON.stringify({ v: 1, series }) + '\n', 'utf8')
  }

  summary(): Record<string, SeriesSummary> {
    const out = dict<SeriesSummary>()
    for (const [k, s] of this.series) {
      let min = Infinity
      let max = -Infinity
      for (const v of s.value) { if (v < min) min = v; if (v > max) max = v }
      out[k] = { count: s.value.length, last: s.value[s.value.length - 1], min, max, last_step: s.step[s.step.length - 1] }
    }
    return out
  }
}

/** A chunk's points, absolute again; throws on a chunk that is not in this format. */
export function decodeMetrics(data: Buffer | string): Record<string, Series> {
  // A chunk nests three levels; anything deeper is not one (and must not reach a recursive walk).
  const o = parseBounded(typeof data === 'string' ? data : data.toString('utf8'), Infinity, 4) as { v?: number; series?: Record<string, Series> }
  if (o?.v !== 1 || typeof o.series !== 'object' || o.series === null) throw new Error('not a metric chunk of format 1')
  const out = dict<Series>()
  for (const [k, s] of Object.entries(o.series)) {
    if (!Array.isArray(s?.step) || !Array.isArray(s.value) || !Array.isArray(s.time)) continue
    if (![s.step, s.value, s.time].every(xs => xs.every(x => typeof x === 'number' && Number.isFinite(x)))) continue
    const n = Math.min(s.step.length, s.value.length, s.time.length)
    out[k] = { step: undelta(s.step.slice(0, n)), value: s.value.slice(0, n), time: undelta(s.time.slice(0, n)) }
  }
  return out
}

/** Folds one chunk's summary into the running one (chunks of an attempt arrive in journal order). */
export function mergeSummary(into: Record<string, SeriesSummary>, add: Record<string, SeriesSummary>): void {
  for (const [k, s] of Object.entries(add)) {
    const prev = into[k]
    into[k] = prev
      ? { count: prev.count + s.count, last: s.last, min: Math.min(prev.min, s.min), max: Math.max(prev.max, s.max), last_step: s.last_step }
      : { ...s }
  }
}
