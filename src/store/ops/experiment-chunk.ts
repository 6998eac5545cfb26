// experiment.chunk: a sealed stretch of an attempt's output and metrics journals, as blobs beside the operation.
// Only the writer that claimed the attempt adds chunks; they are kept in journal order, after a cancel too.
import type { OpKind } from './kind.ts'
import { checkFields, int, sha, type Check } from './check.ts'
import { mergeSummary } from '../chunks.ts'
import { settleMetrics } from './experiment-status.ts'
import type { ChunkRef, MetricsChunkRef, SeriesSummary } from '../state.ts'

const MAX_OFFSET = 2 ** 50

const range = (extra: Record<string, Check> = {}): Check => v => {
  if (v === null || v === undefined) return null
  if (typeof v !== 'object' || Array.isArray(v)) return 'not an object'
  const r = v as Record<string, unknown>
  return checkFields(r, { blob: sha(), from: int(0, MAX_OFFSET), to: int(0, MAX_OFFSET), ...extra }) ??
    ((r.to as number) <= (r.from as number) ? 'empty range' : null)
}

// A journal rewritten from 0 starts a new segment at `base` in the stream the ranges count: never past the chunk's end.
const baseInRange = (m: unknown): string | null => {
  const r = m as { to: number; base?: number } | undefined
  return r && typeof r.base === 'number' && r.base > r.to ? 'metrics: base past the end of the range' : null
}

const summaries: Check = v => {
  if (v === null || v === undefined) return null
  if (typeof v !== 'object' || Array.isArray(v)) return 'not an object'
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length > 1000) return 'more than 1000 series'
  for (const [k, s] of entries) {
    const r = s as Record<string, unknown>
    const bad = k.length > 200 || typeof r !== 'object' || r === null || !Number.isSafeInteger(r.count) || (r.count as number) < 1 ||
      !Number.isSafeInteger(r.last_step) || ['last', 'min', 'max'].some(f => typeof r[f] !== 'number' || !Number.isFinite(r[f]))
    if (bad) return `series ${JSON.stringify(k).slice(0, 60)}: invalid summary`
  }
  return null
}

export const experimentChunk: OpKind = {
  type: 'experiment.chunk',
  validate: p => checkFields(p, {
    attempt: int(1, 1_000_000), output: range(),
    metrics: range({ points: int(0, 1e12), skipped: int(0, 1e12), series: summaries, base: int(0, MAX_OFFSET, true), rewrites: int(1, 1e12, true) }),
  }) ?? (!p.output && !p.metrics ? 'neither output nor metrics' : null) ?? baseInRange(p.metrics),
  apply(s, op) {
    const e = s.experiments[op.entity]
    if (!e) return `unknown experiment ${op.entity}`
    const p = op.payload as { attempt: number; output?: ChunkRef; metrics?: MetricsChunkRef & { series?: Record<string, SeriesSummary> } }
    const runner = e.runners[p.attempt]
    if (!runner) return `chunk for attempt ${p.attempt}, which nobody claimed`
    if (runner.writer !== op.writer) return `only ${runner.writer} adds chunks to attempt ${p.attempt}`
    const output = p.output ? { blob: p.output.blob, from: p.output.from, to: p.output.to } : null
    const m = p.metrics
    // base and rewrites only when set, so states folded before they existed stay equal to a rebuild's
    const metrics: MetricsChunkRef | null = m ? {
      blob: m.blob, from: m.from, to: m.to, points: m.points, skipped: m.skipped,
      ...(m.base ? { base: m.base } : {}), ...(m.rewrites ? { rewrites: m.rewrites } : {}),
    } : null
    e.chunks.push({ attempt: p.attempt, output, metrics })
    if (p.attempt === e.attempt) {
      if (output) e.output_bytes = Math.max(e.output_bytes, output.to)
      if (p.metrics) {
        e.metrics_skipped += p.metrics.skipped
        mergeSummary(e.series, p.metrics.series ?? {})
        settleMetrics(e)
      }
    }
    e.updated_at = op.time
    return null
  },
}
