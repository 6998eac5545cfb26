// The folded state of a lab: what every clone with the same operations computes identically.
import { dict, unproto } from './safe-json.ts'

export const STATUSES = ['queued', 'claimed', 'setting_up', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'lost'] as const
export type Status = typeof STATUSES[number]
export const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'])

export interface Note { text: string; author: string; writer: string; time: string }

export interface SeriesSummary { count: number; last: number; min: number; max: number; last_step: number }
/** A sealed stretch [from, to) of a journal, as a blob next to the operation that recorded it. */
export interface ChunkRef { blob: string; from: number; to: number }
/** base: where the metrics journal's current contents start in the stream its ranges count (absent: 0); rewrites:
 *  how often the job truncated or rewrote the journal while this chunk was read (absent: never) */
export interface MetricsChunkRef extends ChunkRef { points: number; skipped: number; base?: number; rewrites?: number }
export interface Chunk { attempt: number; output: ChunkRef | null; metrics: MetricsChunkRef | null }
/** blob: in git (small files); else location: where it is kept on the runner's host */
export interface Artifact { attempt: number; path: string; size: number; sha256: string; blob: string | null; location: string | null }
/** Who runs an attempt: the writer that claimed it, and where. */
export interface Runner { writer: string; worker: string; host: string }

export interface Experiment {
  id: string
  status: Status
  message: string
  run: string
  setup: string | null
  commit: string | null
  base: string | null
  idea: string | null
  priority: number
  tags: string[]
  depends_on: string[]
  gpus: number
  timeout: number | null
  /** name -> the value's text as given (`--param`); see src/store/params.ts for its typed form */
  params: Record<string, string>
  /** the sweep it was queued in (one submit of several value combinations), or null */
  sweep: string | null
  /** pinned to this SSH host (`submit --host`), or to any host with this tag (`--host-tag`); null: anywhere */
  host: string | null
  host_tag: string | null
  author: string
  writer: string
  created_at: string
  started_at: string | null
  finished_at: string | null
  exit_code: number | null
  reason: string | null
  attempt: number
  /** final metrics: the last value of each series, overridden by the job's last output line when it is a JSON object */
  metrics: Record<string, number>
  final_metrics: Record<string, number> | null
  series: Record<string, SeriesSummary>
  metrics_skipped: number
  output_bytes: number
  /** output past lab.maxOutput that was not recorded */
  output_dropped: number
  chunks: Chunk[]
  artifacts: Artifact[]
  /** attempt -> who claimed it */
  runners: Record<string, Runner>
  notes: Note[]
  updated_at: string
}

export type IdeaStatus = 'open' | 'concluded' | 'abandoned'
export interface Idea {
  id: string
  text: string
  status: IdeaStatus
  conclusion: string | null
  parents: string[]
  /** derived from the parents of other ideas, kept by the fold */
  children: string[]
  tags: string[]
  notes: Note[]
  author: string
  writer: string
  created_at: string
  updated_at: string
}

export interface Message {
  id: string
  from: string
  author: string
  writer: string
  to: string
  text: string
  created_at: string
  read_by: string[]
}

export interface Objective { metric: string; direction: 'minimize' | 'maximize' }
export interface LabConfig { objective: Objective | null }

/** An SSH host of the lab (host.add): where to reach it, never how to log in. null: not given (defaults apply). */
export interface Host {
  name: string
  address: string
  user: string | null
  port: number | null
  /** null: as many as `nvidia-smi -L` lists there */
  gpus: number | null
  workdir: string | null
  jobs: number | null
  tags: string[]
  writer: string
  updated_at: string
}

/** An operation that could not apply, and its lamport clock (with the op id, its place in the fold). */
export interface SkippedOp { op: string; reason: string; lamport: number }

export interface State {
  experiments: Record<string, Experiment>
  ideas: Record<string, Idea>
  messages: Record<string, Message>
  /** host name -> its record */
  hosts: Record<string, Host>
  config: LabConfig
  /** operations that were valid on their own but could not apply (unknown entity, cycle, ...) */
  skipped: SkippedOp[]
  max_lamport: number
}

// Every map keyed by a name another writer chose (entity ids, metric names, attempts) has no prototype: an id such as
// `constructor` or a metric named `__proto__` or `toString` is an ordinary key.
export const emptyState = (): State => ({
  experiments: dict(), ideas: dict(), messages: dict(), hosts: dict(), config: { objective: null }, skipped: [], max_lamport: 0,
})

/** An experiment read back from JSON, with its maps made prototype-free again (in place). */
export function reviveExperiment(e: Experiment): void {
  // (runners are keyed by attempt numbers, final_metrics only ever copied out: neither is looked up by a name)
  unproto(e.metrics)
  unproto(e.series)
  e.params = unproto(e.params)
  e.sweep ??= null
  e.host ??= null
  e.host_tag ??= null
}

export const reviveIdeas = (ideas: Record<string, Idea>): Record<string, Idea> => unproto(ideas)

/** A whole state read back from JSON, with its maps made prototype-free again. */
export function reviveState(s: State): State {
  for (const e of Object.values(s.experiments)) reviveExperiment(e)
  return { ...s, experiments: unproto(s.experiments), ideas: reviveIdeas(s.ideas), messages: unproto(s.messages), hosts: unproto(s.hosts ?? {}) }
}

/** Skipped operations in fold order, whatever order they were folded in (a group refolded alone adds its own). */
export function sortSkipped(list: SkippedOp[]): SkippedOp[] {
  const key = (s: SkippedOp) => { const i = s.op.lastIndexOf('/'); return [s.lamport, s.op.slice(0, i), Number(s.op.slice(i + 1))] as const }
  return list.sort((a, b) => {
    const [la, wa, sa] = key(a), [lb, wb, sb] = key(b)
    return la - lb || (wa < wb ? -1 : wa > wb ? 1 : sa - sb)
  })
}
