// Journals: where a run's output and metrics land on this machine before they are sealed into refs, and reading
// an attempt's output and metrics back (sealed chunks from refs, then the unsealed tail of a local journal).
import { open, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from './lab.ts'
import { decodeMetrics, MetricBatch, type Series } from '../store/chunks.ts'
import { MAX_COMPANION_BYTES } from '../store/layout.ts'
import { TERMINAL, type Experiment } from '../store/state.ts'
import { dict } from '../store/safe-json.ts'
import { FormatError } from '../errors.ts'

export const runsDir = (lab: Lab) => path.join(lab.repo.commonDir, 'lab', 'runs')
export const runDir = (lab: Lab, id: string, attempt: number) => path.join(runsDir(lab), `${id}.${attempt}`)
/** Where a finished run's large artifacts are kept on the host that ran it. */
export const artifactsDir = (lab: Lab, id: string, attempt: number) => path.join(lab.repo.commonDir, 'lab', 'artifacts', `${id}.${attempt}`)
export const OUTPUT_FILE = 'output.log'
export const METRICS_FILE = 'metrics.jsonl'
/** Written into a kept run folder (--keep) once the run is recorded: its journals are no longer live. */
export const DONE_FILE = 'done'

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

/**
 * Where the complete records of a journal piece end: after its last \n, or at its last lone \r (a progress bar's
 * redraw starts a new state: the \r goes with the state it introduces, and a \r at the very end may still become
 * \r\n). 0: no complete record yet. A cut never splits a UTF-8 character: neither byte occurs inside one.
 */
export function lineCut(data: Buffer, from = data.length): number {
  for (let i = Math.min(from, data.length) - 1; i >= 0; i--) {
    const b = data[i]
    if (b === 0x0a) return i + 1
    if (b === 0x0d && data[i + 1] !== 0x0a && i > 0) return i
  }
  return 0
}

/**
 * Whether the attempt's runner has recorded its end: every byte it will seal is sealed. A terminal status is
 * written with the last chunk; a cancel is terminal at once, but its runner's own report (with the exit code)
 * comes after the job stopped.
 */
export function endRecorded(e: Experiment, attempt: number): boolean {
  return attempt < e.attempt || (TERMINAL.has(e.status) && (e.status !== 'cancelled' || e.exit_code !== null))
}

/** The attempt's journal on this machine, while its run is not yet recorded (null: no live journal here). */
async function liveJournal(lab: Lab, e: Experiment, attempt: number, file: string): Promise<string | null> {
  if (endRecorded(e, attempt)) return null
  const dir = runDir(lab, e.id, attempt)
  const [has, done] = await Promise.all([stat(path.join(dir, file)).then(() => true, () => false), fileSize(path.join(dir, DONE_FILE))])
  return has && done === 0 ? path.join(dir, file) : null
}

export interface OutputRead { data: Buffer; sealed: number; end: number; live: boolean }

/**
 * The attempt's output from byte `from`: sealed chunks, then what the local journal holds past them while the
 * run is live here. Once its end is recorded the refs hold all of it (past lab.maxOutput nothing is recorded).
 */
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
  const file = await liveJournal(lab, e, attempt, OUTPUT_FILE)
  const tail = file ? await readRange(file, pos) : Buffer.alloc(0)
  parts.push(tail)
  return { data: Buffer.concat(parts), sealed, end: pos + tail.length, live: file !== null }
}

/** rewrites: how often the job truncated or rewrote its metrics journal while it was read (see Sealer.ingest) */
export interface MetricsRead { series: Record<string, Series>; skipped: number; rewrites: number }

/**
 * Every series of an attempt with all its points: sealed chunks, then complete lines of the local journal.
 * Chunk ranges are offsets in the stream of what the worker read; a chunk's `base` is where the journal's current
 * contents start in it (0 until the job first truncated or rewrote the file).
 */
export async function readMetrics(lab: Lab, e: Experiment, attempt: number): Promise<MetricsRead> {
  const series = dict<Series>()
  const counts = new Map<string, number>()
  let sealed = 0
  let base = 0
  let rewrites = 0
  let skipped = 0
  const add = (k: string, s: Series) => {
    const into = series[k] ??= { step: [], value: [], time: [] }
    for (let i = 0; i < s.value.length; i++) { into.step.push(s.step[i]); into.value.push(s.value[i]); into.time.push(s.time[i]) }
    counts.set(k, into.value.length)
  }
  for (const c of e.chunks) {
    if (c.attempt !== attempt || !c.metrics || c.metrics.to <= sealed) continue
    sealed = c.metrics.to
    base = c.metrics.base ?? 0
    rewrites += c.metrics.rewrites ?? 0
    skipped += c.metrics.skipped ?? 0
    let decoded: Record<string, Series>
    try { decoded = decodeMetrics(await blob(lab, c.metrics.blob)) } catch (err) {
      if (err instanceof FormatError) throw err
      throw new FormatError(`metric chunk ${c.metrics.blob} of ${e.id} is unreadable`)
    }
    for (const [k, s] of Object.entries(decoded)) add(k, s)
  }
  const file = await liveJournal(lab, e, attempt, METRICS_FILE)
  if (file) {
    // Shorter than what was sealed: the job truncated it since the worker last looked; what it holds is new.
    const at = (await fileSize(file)) < sealed - base ? 0 : sealed - base
    const tail = await readRange(file, at)
    const end = tail.lastIndexOf(0x0a)
    if (end >= 0) {
      const batch = new MetricBatch(counts)
      const now = Date.now()
      for (const line of tail.subarray(0, end).toString('utf8').split('\n')) batch.add(line, now)
      skipped += batch.skipped
      for (const [k, s] of batch.series) add(k, s)
    }
  }
  return { series, skipped, rewrites }
}
