// The worker's rules: chunk size and seal cadence, the output limit, and how a job's end becomes a status.
import type { Experiment } from '../store/state.ts'
import type { StatusReport } from '../lab/runs.ts'
import type { JobPoll } from './backend.ts'

/** Largest chunk sealed at once; more pending than this seals again on the next tick. */
export const CHUNK_BYTES = 8 * 1024 * 1024
/** Output of one attempt recorded at most (git config lab.maxOutput): a job that floods its output cannot flood refs. */
export const MAX_OUTPUT = 512 * 1024 * 1024

/** "512m", "2g", "100k", "1048576" -> bytes. */
export function parseBytes(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i.exec(text.trim())
  if (!m) return null
  const unit = (m[2] ?? '').toLowerCase()[0]
  return Math.floor(Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1))
}

/** Sealing gets less frequent as a run ages: a 10-hour run makes hundreds of chunks, not thousands. */
export function sealInterval(ageMs: number): number {
  return ageMs < 60_000 ? 2_000 : ageMs < 600_000 ? 5_000 : ageMs < 3_600_000 ? 15_000 : 30_000
}

/** How a job's end is recorded: why it stopped (if the worker stopped it), what the experiment says, how it exited. */
export function outcome(stopping: 'cancelled' | 'timed_out' | 'lost' | null, timeout: number | null, e: Experiment, poll: JobPoll,
  metrics: Record<string, number> | null, lostWhy?: string | null): StatusReport {
  const code = poll.exitCode
  const base = { exit_code: code, metrics }
  // The worker lost its claim and stopped the job: the attempt has no result (a retry runs it again).
  if (stopping === 'lost') return { ...base, status: 'lost', reason: `stopped by its worker: ${lostWhy ?? 'its claim was lost'}` }
  if (stopping === 'timed_out') return { ...base, status: 'timed_out', reason: `ran longer than its timeout of ${timeout}s` }
  if (stopping === 'cancelled' || e.status === 'cancelled') return { ...base, status: 'cancelled', reason: e.reason ?? 'cancelled' }
  if (poll.phase === 'vanished') return { ...base, status: 'lost', reason: poll.reason ?? 'its process vanished without an exit code (was the host restarted?)' }
  if (poll.setupFailed) return { ...base, status: 'failed', reason: `setup failed with exit code ${code}` }
  if (code === 0) return { ...base, status: 'succeeded' }
  const sig = code !== null && code > 128 ? signalName(code - 128) : null
  return { ...base, status: 'failed', reason: sig ? `killed by ${sig}` : `exit code ${code}` }
}

function signalName(n: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' }
  return names[n] ?? `signal ${n}`
}

/** The job's last output line, if it is a JSON object: its numeric entries are the final metrics. A progress bar's
 *  \r ends a line too (a bar erased with \r before the last line does not hide it). */
export function finalMetrics(tail: Buffer): Record<string, number> | null {
  const lines = tail.toString('utf8').split(/\r?\n|\r/).map(l => l.trim()).filter(Boolean)
  const last = lines[lines.length - 1]
  if (!last || last[0] !== '{') return null
  try {
    const o = JSON.parse(last) as Record<string, unknown>
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return null
    const m = Object.fromEntries(Object.entries(o).filter(([k, v]) => typeof v === 'number' && Number.isFinite(v) && k.length <= 200).slice(0, 1000)) as Record<string, number>
    return Object.keys(m).length ? m : null
  } catch { return null }
}
