// Journals: where a run's output and metrics land on this machine before they are sealed into refs, and reading
// an attempt's output and metrics back (sealed chunks from refs, then the unsealed tail of a local journal).
import { open, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { decodeMetrics, MetricBatch, type Series } from '../store/chunks.ts'
import { MAX_COMPANION_BYTES } from '../store/layout.ts'
import type { Experiment } from '../store/state.ts'
import { dict } from '../store/safe-json.ts'
import { FormatError } from '../errors.ts'

export const runsDir = (lab: Lab) => path.join(lab.repo.commonDir, 'lab', 'runs')
export const runDir = (lab: Lab, id: string, attempt: number) => path.join(runsDir(lab), `${id}.${attempt}`)
/** Where a finished run's large artifacts are kept on the host that ran it. */
export const artifactsDir = (lab: Lab, id: string, attempt: number) => path.join(lab.repo.commonDir, 'lab', 'artifacts', `${id}.${attempt}`)
export const OUTPUT_FILE = 'output.log'
export const METRICS_FILE = 'metrics.jsonl'

/** Bytes [from, to) of a file (to: its end); empty when it does not exist. */
export async function readRange(file: string, from: number, to = Infinity, max = 64 * 1024 * 1024): Promise<Buffer> {
  let fh
  try { fh = await open(file, 'r') } catch { return Buffer.alloc(0) }
  try {
    const size = (await fh.stat()).size
    const end = Math.min(size, to, from + max)
    if (end <= from) return Buffer.alloc(0)
    const buf = Buffer.alloc(end - from)
    const { bytesRead } = await fh.read(buf, 0, buf.length, from)
    return buf.subarray(0, bytesRead)
  } finally { await fh.close() }
}

export const fileSize = (file: string) => stat(file).then(s => s.size, () => 0)

async function blob(lab: Lab, sha: string): Promise<Buffer> {
  const obj = await lab.repo.catFile.read(sha, MAX_COMPANION_BYTES)
  if (!obj?.data) throw new FormatError(`chunk ${sha} is missing or too large: run 'git lab sync' or 'git lab fsck'`)
  return obj.data
}

export interface OutputRead { data: Buffer; sealed: number; end: number; live: boolean }

/** The attempt's output from byte `from`: sealed chunks, then what the local journal holds past them. */
export async function readOutput(lab: Lab, e: Experiment, attempt: number, from = 0): Promise<OutputRead> {
  const parts: Buffer[] = []
  let pos = from
  let sealed = 0
  for (const c of e.chunks) {
    if (c.attempt !== attempt || !c.output) continue
    sealed = Math.max(sealed, c.output.to)
    if (c.output.to <= pos) continue
    const data = await blob(lab, c.output.blob)
    parts.push(data.subarray(Math.max(0, pos - c.output.from)))
    pos = c.output.to
  }
  const file = path.join(runDir(lab, e.id, attempt), OUTPUT_FILE)
  const tail = await readRange(file, pos)
  parts.push(tail)
  return { data: Buffer.concat(parts), sealed, end: pos + tail.length, live: tail.length > 0 || (await fileSize(file)) > 0 }
}

export interface MetricsRead { series: Record<string, Series>; skipped: number }

/** Every series of an attempt with all its points: sealed chunks, then complete lines of the local journal. */
export async function readMetrics(lab: Lab, e: Experiment, attempt: number): Promise<MetricsRead> {
  const series = dict<Series>()
  const counts = new Map<string, number>()
  let sealed = 0
  let skipped = 0
  const add = (k: string, s: Series) => {
    const into = series[k] ??= { step: [], value: [], time: [] }
    for (let i = 0; i < s.value.length; i++) { into.step.push(s.step[i]); into.value.push(s.value[i]); into.time.push(s.time[i]) }
    counts.set(k, into.value.length)
  }
  for (const c of e.chunks) {
    if (c.attempt !== attempt || !c.metrics || c.metrics.to <= sealed) continue
    sealed = c.metrics.to
    skipped += c.metrics.skipped ?? 0
    let decoded: Record<string, Series>
    try { decoded = decodeMetrics(await blob(lab, c.metrics.blob)) } catch (err) {
      if (err instanceof FormatError) throw err
      throw new FormatError(`metric chunk ${c.metrics.blob} of ${e.id} is unreadable`)
    }
    for (const [k, s] of Object.entries(decoded)) add(k, s)
  }
  const tail = await readRange(path.join(runDir(lab, e.id, attempt), METRICS_FILE), sealed)
  const end = tail.lastIndexOf(0x0a)
  if (end >= 0) {
    const batch = new MetricBatch(counts)
    const now = Date.now()
    for (const line of tail.subarray(0, end).toString('utf8').split('\n')) batch.add(line, now)
    skipped += batch.skipped
    for (const [k, s] of batch.series) add(k, s)
  }
  return { series, skipped }
}
